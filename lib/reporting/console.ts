/**
 * ConsoleReporter: finished traces printed for a developer to read, each as
 * an indented tree (formatTrace), once its local root finishes or it goes
 * idle. Its option checks are here too: there are four.
 */
import { runOutside } from '../context.js';
import { describe } from '../describe.js';
import { InvalidOptionError } from '../errors.js';
import { unknownKeys, type ListsEvery } from '../option-keys.js';
import type { Reporter, ZipkinSpan } from '../types.js';

/** Options of {@link ConsoleReporter}. */
export interface ConsoleReporterOptions {
  /** Where the text goes. Default `process.stdout.write`. */
  write?: (text: string) => void;
  /** ANSI colours. Default: when stdout is a terminal and NO_COLOR is unset. */
  color?: boolean;
  /** Print a trace whose root has not finished after this many milliseconds without a new span. Default 2000. */
  idleTimeout?: number;
  /** Traces held while waiting for their root; past it the oldest is printed early. Default 1000. */
  maxTraces?: number;
}

const OPTION_KEYS = ['write', 'color', 'idleTimeout', 'maxTraces'] as const satisfies readonly (keyof ConsoleReporterOptions)[];
type _EveryOptionListed = ListsEvery<(typeof OPTION_KEYS)[number], keyof ConsoleReporterOptions>;

const RED = '\x1b[31m';
const DIM = '\x1b[2m';
const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

interface Pending {
  spans: ZipkinSpan[];
  lastAt: number;
}

/**
 * Prints finished traces readably, for development: each trace as an
 * indented tree with durations, kinds, tags and annotations, errors marked.
 *
 * A trace prints when its local root finishes (a span with no parent, or the
 * span that joined or continued a remote caller), or once no span of it has
 * finished for `idleTimeout`, or on `flush()`/`close()`.
 */
export class ConsoleReporter implements Reporter {
  private readonly write: (text: string) => void;
  private readonly color: boolean;
  private readonly idleTimeout: number;
  private readonly maxTraces: number;
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;

  /** @throws InvalidOptionError naming every problem with `options`. */
  constructor(options: ConsoleReporterOptions = {}) {
    if (options === null || typeof options !== 'object') throw new InvalidOptionError('ziptrace: ConsoleReporter: options must be an object such as { color: false }');
    this.write = options.write ?? ((text) => process.stdout.write(text));
    this.color = options.color ?? (process.stdout.isTTY === true && process.env.NO_COLOR === undefined);
    this.idleTimeout = options.idleTimeout ?? 2000;
    this.maxTraces = options.maxTraces ?? 1000;
    const problems = unknownKeys(options, OPTION_KEYS, 'ConsoleReporter');
    if (typeof this.write !== 'function') problems.push('write must be a function (text) => void');
    if (options.color !== undefined && typeof options.color !== 'boolean') problems.push(`color must be true or false, got ${describe(options.color)}`);
    if (!(this.idleTimeout > 0)) problems.push(`idleTimeout must be a positive number of milliseconds, got ${String(options.idleTimeout)}`);
    if (!Number.isInteger(this.maxTraces) || this.maxTraces < 1) problems.push(`maxTraces must be a whole number of at least 1, got ${String(options.maxTraces)}`);
    if (problems.length > 0) throw new InvalidOptionError(`ziptrace: ConsoleReporter: ${problems.join('; ')}`);
  }

  /** Holds the span with the rest of its trace, and prints the trace if this span is its local root (and the oldest held trace, past `maxTraces`). */
  report(span: ZipkinSpan): void {
    let trace = this.pending.get(span.traceId);
    if (trace === undefined) {
      if (this.pending.size >= this.maxTraces) this.print(this.pending.keys().next().value!);
      trace = { spans: [], lastAt: Date.now() };
      this.pending.set(span.traceId, trace);
    }
    trace.spans.push(span);
    trace.lastAt = Date.now();
    if (span.parentId === undefined || span.shared === true || span.kind === 'SERVER' || span.kind === 'CONSUMER') {
      this.print(span.traceId);
    } else if (this.timer === undefined) {
      this.timer = runOutside(() => setTimeout(() => this.printIdle(), this.idleTimeout));
      this.timer.unref();
    }
  }

  /** Prints every trace still waiting for its root. */
  async flush(): Promise<void> {
    for (const traceId of [...this.pending.keys()]) this.print(traceId);
  }

  /** Prints every trace still waiting and stops the idle timer. Spans reported afterwards are still taken. */
  async close(): Promise<void> {
    await this.flush();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private printIdle(): void {
    this.timer = undefined;
    const now = Date.now();
    for (const [traceId, trace] of this.pending) if (now - trace.lastAt >= this.idleTimeout) this.print(traceId);
    if (this.pending.size > 0) {
      this.timer = runOutside(() => setTimeout(() => this.printIdle(), this.idleTimeout));
      this.timer.unref();
    }
  }

  private print(traceId: string): void {
    const trace = this.pending.get(traceId);
    if (trace === undefined) return;
    this.pending.delete(traceId);
    try {
      this.write(formatTrace(trace.spans, this.color));
    } catch {
      // A broken stream must not break the traced app.
    }
  }
}

/** One trace as an indented tree, one line per span and annotation. */
export function formatTrace(spans: readonly ZipkinSpan[], color = false): string {
  const paint = (code: string, text: string): string => (color ? code + text + RESET : text);
  const ids = new Set(spans.map((s) => s.id));
  const children = new Map<string | undefined, ZipkinSpan[]>();
  for (const span of spans) {
    // A shared span has the caller's id; its parent is the caller's parent, which is not here.
    const parent = span.parentId !== undefined && ids.has(span.parentId) && span.parentId !== span.id ? span.parentId : undefined;
    const list = children.get(parent);
    if (list === undefined) children.set(parent, [span]);
    else list.push(span);
  }
  for (const list of children.values()) list.sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0));
  const service = spans[0]?.localEndpoint?.serviceName;
  const lines = [paint(BOLD, `trace ${spans[0]?.traceId ?? '?'}`) + (service ? paint(DIM, ` (${service})`) : '')];
  const walk = (span: ZipkinSpan, depth: number): void => {
    const indent = '  '.repeat(depth + 1);
    const label = (span.name ?? '(unnamed)').padEnd(Math.max(1, 32 - indent.length));
    const parts = [`${indent}${label} ${formatDuration(span.duration).padStart(8)}`];
    if (span.kind !== undefined) parts.push(span.kind);
    if (span.remoteEndpoint?.serviceName !== undefined) parts.push(`→ ${span.remoteEndpoint.serviceName}`);
    const tags = Object.entries(span.tags ?? {}).filter(([k]) => k !== 'error');
    if (tags.length > 0) parts.push(paint(DIM, tags.map(([k, v]) => `${k}=${v.length > 40 ? v.slice(0, 39) + '…' : v}`).join(' ')));
    const error = span.tags?.error;
    let line = parts.join('  ');
    if (error !== undefined) line = paint(RED, `${line}  ✗ ${error}`);
    lines.push(line);
    for (const annotation of span.annotations ?? []) {
      const offset = span.timestamp === undefined ? '' : ` +${formatDuration(annotation.timestamp - span.timestamp)}`;
      lines.push(paint(DIM, `${indent}  • ${annotation.value}${offset}`));
    }
    for (const child of children.get(span.id) ?? []) if (child !== span) walk(child, depth + 1);
  };
  for (const root of children.get(undefined) ?? []) walk(root, 0);
  return lines.join('\n') + '\n';
}

function formatDuration(micros: number | undefined): string {
  if (micros === undefined) return '?';
  if (micros < 1000) return `${micros}µs`;
  if (micros < 1_000_000) return `${(micros / 1000).toFixed(1)}ms`;
  return `${(micros / 1_000_000).toFixed(2)}s`;
}
