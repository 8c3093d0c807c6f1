/**
 * MemoryReporter: finished spans kept in an array, bounded, for tests to
 * read; nothing is sent anywhere.
 */
import { InvalidOptionError } from '../errors.js';
import { unknownKeys, type ListsEvery } from '../option-keys.js';
import type { Reporter, ZipkinSpan } from '../types.js';

/** Options of {@link MemoryReporter}. */
export interface MemoryReporterOptions {
  /** Spans kept at most; later ones are dropped and counted in `dropped`. Default 100,000. */
  limit?: number;
}

const OPTION_KEYS = ['limit'] as const satisfies readonly (keyof MemoryReporterOptions)[];
type _EveryOptionListed = ListsEvery<(typeof OPTION_KEYS)[number], keyof MemoryReporterOptions>;

/**
 * Keeps finished spans in memory, for tests: `reporter.spans` holds the Zipkin
 * v2 objects in the order the spans finished. No flush is needed.
 */
export class MemoryReporter implements Reporter {
  /** The spans reported so far. */
  readonly spans: ZipkinSpan[] = [];
  /** Spans that arrived after `limit` was reached. */
  dropped = 0;
  private readonly limit: number;

  /** @throws InvalidOptionError naming every problem with `options`. */
  constructor(options: MemoryReporterOptions = {}) {
    if (options === null || typeof options !== 'object') throw new InvalidOptionError('ziptrace: MemoryReporter: options must be an object such as { limit: 1000 }');
    const limit = options.limit ?? 100_000;
    const problems = unknownKeys(options, OPTION_KEYS, 'MemoryReporter');
    if (!Number.isInteger(limit) || limit < 0) problems.push(`limit must be a whole number of spans, got ${String(limit)}`);
    if (problems.length > 0) throw new InvalidOptionError(`ziptrace: MemoryReporter: ${problems.join('; ')}`);
    this.limit = limit;
  }

  /** Keeps the span (the object itself, not a copy), or counts it in `dropped` once `limit` are kept. */
  report(span: ZipkinSpan): void {
    if (this.spans.length < this.limit) this.spans.push(span);
    else this.dropped++;
  }

  /** Forgets the spans reported so far. */
  clear(): void {
    this.spans.length = 0;
    this.dropped = 0;
  }

  /** The reported spans with this name. */
  byName(name: string): ZipkinSpan[] {
    return this.spans.filter((span) => span.name === name);
  }

  /** How many spans are kept, and how many came after `limit`. */
  stats(): { kept: number; dropped: number } {
    return { kept: this.spans.length, dropped: this.dropped };
  }

  /** Resolves at once: the spans are in `spans` as soon as they are reported. */
  async flush(): Promise<void> {}

  /** Resolves at once; the spans stay readable, and later spans are still kept. */
  async close(): Promise<void> {}
}
