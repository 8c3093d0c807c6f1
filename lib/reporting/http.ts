import http from 'node:http';
import https from 'node:https';
import { constants as zlibConstants, gzip, type ZlibOptions } from 'node:zlib';
import { runOutside, runtime } from '../context.js';
import { debug } from '../debug.js';
import { encodeSpan } from '../encoding/zipkin-json.js';
import type { Reporter, ZipkinSpan } from '../types.js';
import { silentLogger, throttledWarnings, type ReporterLogger } from './warnings.js';

/** Options of {@link HttpReporter}. Times are milliseconds, sizes bytes of JSON. */
export interface HttpReporterOptions {
  /** The collector: `http://zipkin:9411` (then `/api/v2/spans` is added) or a full `…/api/v2/spans` URL. */
  url: string | URL;
  /** How long a span may wait for its batch to fill before it is sent. Default 1000. */
  batchInterval?: number;
  /** Spans per request at most. Default 1000. */
  maxBatchSpans?: number;
  /** JSON bytes per request at most; a single span larger than this is dropped as too large. Default 1 MiB. */
  maxBatchBytes?: number;
  /** Spans held at once, waiting or in flight; past it new spans are dropped. Default 10,000. */
  maxQueueSpans?: number;
  /** Bytes held at once, waiting or in flight; past it new spans are dropped. Default 16 MiB. */
  maxQueueBytes?: number;
  /** Requests in flight at once (a request waiting to be retried counts). Default 2. */
  maxInFlight?: number;
  /** Deadline of one request, from sending to the end of the answer. Default 10,000. */
  timeout?: number;
  /** Retries of a batch after a connection error, timeout, 5xx, 408 or 429. Default 5. */
  maxRetries?: number;
  /** Exponential backoff between retries, with jitter: first delay and cap. Default 200 and 30,000. */
  retryBackoff?: { initial?: number; max?: number };
  /** gzip bodies of at least `threshold` bytes (default 1024); `false` never. Default on. */
  gzip?: boolean | { threshold?: number };
  /** How long the flush on `beforeExit` may keep an idle process alive. Default 2000. */
  exitTimeout?: number;
  /** Extra request headers (authentication for a hosted collector, say). */
  headers?: Readonly<Record<string, string>>;
  /** Where failures are told: default `process.emitWarning`, once per kind per minute; `false` for silence. */
  logger?: ReporterLogger | false;
  /**
   * TLS for an `https:` collector: a private CA (`ca`), a client certificate
   * (`cert`, `key`) for mutual TLS. Certificates are verified unless
   * `rejectUnauthorized: false`.
   */
  tls?: HttpReporterTlsOptions;
}

/** What {@link HttpReporterOptions.tls} takes: the `node:tls` options a collector connection may need. */
export interface HttpReporterTlsOptions {
  // Uint8Array rather than Buffer (which is one) so that the types need no @types/node.
  ca?: string | Uint8Array | (string | Uint8Array)[];
  cert?: string | Uint8Array | (string | Uint8Array)[];
  key?: string | Uint8Array | (string | Uint8Array)[];
  passphrase?: string;
  servername?: string;
  rejectUnauthorized?: boolean;
}

/** Why spans were dropped, by reason. */
export interface DroppedSpans {
  /** The queue was at `maxQueueSpans` or `maxQueueBytes`. */
  queueFull: number;
  /** One span was larger than `maxBatchBytes`, or a batch stayed too large (413) after one split. */
  tooLarge: number;
  /** The collector refused the batch with a 4xx that retrying cannot fix. */
  rejected: number;
  /** Every retry failed. */
  retriesExhausted: number;
  /** Not delivered before `close()` or the process exit flush ran out of time, or reported after close. */
  closed: number;
  /** The span could not be turned into JSON. */
  unencodable: number;
}

/** What {@link HttpReporter.stats} returns. Always: reported = sent + queued + dropped total. */
export interface HttpReporterStats {
  /** Spans handed to `report()`. */
  reported: number;
  /** Spans the collector accepted. */
  sent: number;
  /** Spans held now, waiting or in flight. */
  queued: number;
  /** JSON bytes held now. */
  queuedBytes: number;
  /** Spans dropped, all reasons. */
  droppedTotal: number;
  dropped: DroppedSpans;
  /** Requests made, retries included. */
  requests: number;
  /** Requests that failed: connection errors, timeouts, non-2xx answers. */
  failedRequests: number;
  /** Requests that were retries. */
  retries: number;
  /** Body bytes sent in successful requests (compressed size when gzipped). */
  bytesSent: number;
}

interface Batch {
  spans: string[];
  bytes: number;
  attempt: number;
  split: boolean;
}

type Outcome = { status: number; body: string; retryAfter: string | undefined } | { error: Error };

const SPANS_PATH = '/api/v2/spans';
const MAX_RETRY_AFTER_MS = 300_000;
const MAX_REASON_CHARS = 512;
/**
 * gzip at level 1 (Z_BEST_SPEED): on span JSON it costs about half the CPU of
 * the default level 6 for bodies a few percent larger (bench/README.md, Reporting).
 */
const GZIP_OPTIONS: ZlibOptions = { level: zlibConstants.Z_BEST_SPEED };

/**
 * Sends finished spans to a Zipkin-compatible collector (`POST /api/v2/spans`)
 * in batches, off the hot path: `report()` only encodes and enqueues.
 *
 * Bounded (by spans and bytes, in flight included), retried with backoff,
 * timed out, gzipped, never traced itself, and never throwing: a dead, slow or
 * rude collector costs the app dropped spans, counted in `stats()`.
 */
export class HttpReporter implements Reporter {
  /** Where the spans go. */
  readonly url: URL;
  private readonly o: Required<Omit<HttpReporterOptions, 'url' | 'retryBackoff' | 'gzip' | 'headers' | 'logger' | 'tls'>> & {
    backoffInitial: number;
    backoffMax: number;
    gzipThreshold: number;
  };
  private readonly headers: Record<string, string>;
  private readonly logger: ReporterLogger;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;

  private waiting: string[] = [];
  /** Byte length of each waiting span, so batching does not measure them again. */
  private waitingSizes: number[] = [];
  private waitingBytes = 0;
  private readonly inFlight = new Set<Batch>();
  private inFlightSpans = 0;
  private inFlightBytes = 0;
  private readonly requests = new Set<http.ClientRequest>();
  private readonly retryTimers = new Map<Batch, NodeJS.Timeout>();
  private timer: NodeJS.Timeout | undefined = undefined;
  private draining = false;
  private closed = false;
  private closing: Promise<void> | undefined = undefined;
  private exitFlushing = false;
  private waiters: (() => void)[] = [];
  private readonly counts = {
    reported: 0,
    sent: 0,
    requests: 0,
    failedRequests: 0,
    retries: 0,
    bytesSent: 0,
  };
  private readonly dropped: DroppedSpans = { queueFull: 0, tooLarge: 0, rejected: 0, retriesExhausted: 0, closed: 0, unencodable: 0 };

  constructor(options: HttpReporterOptions) {
    const problems: string[] = [];
    if (options === null || typeof options !== 'object') throw new TypeError('ziptrace: HttpReporter: options must be an object such as { url: "http://127.0.0.1:9411" }');
    this.url = collectorUrl(options.url, problems);
    const backoff = options.retryBackoff ?? {};
    const gzipOption = options.gzip ?? true;
    this.o = {
      batchInterval: positive(options.batchInterval, 1000, 'batchInterval', problems),
      maxBatchSpans: whole(options.maxBatchSpans, 1000, 'maxBatchSpans', problems),
      maxBatchBytes: whole(options.maxBatchBytes, 1024 * 1024, 'maxBatchBytes', problems),
      maxQueueSpans: whole(options.maxQueueSpans, 10_000, 'maxQueueSpans', problems),
      maxQueueBytes: whole(options.maxQueueBytes, 16 * 1024 * 1024, 'maxQueueBytes', problems),
      maxInFlight: whole(options.maxInFlight, 2, 'maxInFlight', problems),
      timeout: positive(options.timeout, 10_000, 'timeout', problems),
      maxRetries: whole(options.maxRetries, 5, 'maxRetries', problems, 0),
      exitTimeout: positive(options.exitTimeout, 2000, 'exitTimeout', problems),
      backoffInitial: positive(backoff.initial, 200, 'retryBackoff.initial', problems),
      backoffMax: positive(backoff.max, 30_000, 'retryBackoff.max', problems),
      gzipThreshold: gzipOption === false ? Infinity : gzipOption === true ? 1024 : whole(gzipOption.threshold, 1024, 'gzip.threshold', problems, 0),
    };
    if (options.headers !== undefined && (options.headers === null || typeof options.headers !== 'object')) problems.push('headers must be an object of header names to strings');
    if (options.logger !== undefined && options.logger !== false && typeof options.logger?.warn !== 'function') problems.push('logger must have a warn(message, kind) method, or be false');
    const tls = options.tls;
    if (tls !== undefined) {
      if (tls === null || typeof tls !== 'object') problems.push('tls must be an object such as { ca: fs.readFileSync("ca.pem") }');
      else if (this.url.protocol !== 'https:') problems.push(`tls options need an https: url, got ${this.url.protocol}`);
      else {
        const known = ['ca', 'cert', 'key', 'passphrase', 'servername', 'rejectUnauthorized'];
        for (const key of Object.keys(tls)) if (!known.includes(key)) problems.push(`tls.${key} is not supported; known: ${known.join(', ')}`);
      }
    }
    if (problems.length > 0) throw new TypeError(`ziptrace: HttpReporter: ${problems.join('; ')}`);

    this.headers = { ...options.headers, 'content-type': 'application/json', b3: '0' };
    this.logger = options.logger === false ? silentLogger : (options.logger ?? throttledWarnings());
    this.transport = this.url.protocol === 'https:' ? https : http;
    // Sockets belong to no request: made outside any span's context.
    this.agent = runOutside(() =>
      this.transport === https
        ? new https.Agent({ keepAlive: true, maxSockets: this.o.maxInFlight, ...(options.tls as https.AgentOptions | undefined) })
        : new http.Agent({ keepAlive: true, maxSockets: this.o.maxInFlight }),
    );
    exitFlush.add(this);
  }

  /** Encodes the span and queues it. Never blocks, never throws. */
  report(span: ZipkinSpan): void {
    let json: string;
    try {
      json = encodeSpan(span);
    } catch (error) {
      this.counts.reported++;
      this.drop('unencodable', 1);
      this.logger.warn(`ziptrace: a span could not be encoded as JSON and was dropped: ${String(error)}`, 'unencodable');
      return;
    }
    this.reportJson(json);
  }

  /** Queues a span already encoded as Zipkin v2 JSON (the tracer's path: it encodes straight from the span). */
  reportJson(json: string): void {
    this.counts.reported++;
    if (this.closed) {
      this.drop('closed', 1);
      return;
    }
    if (typeof json !== 'string') {
      this.drop('unencodable', 1);
      this.logger.warn(`ziptrace: reportJson takes a span's JSON text, got ${typeof json}; dropped`, 'unencodable');
      return;
    }
    const bytes = Buffer.byteLength(json);
    if (bytes + 2 > this.o.maxBatchBytes) {
      this.drop('tooLarge', 1);
      this.logger.warn(`ziptrace: a span of ${bytes} bytes is larger than maxBatchBytes (${this.o.maxBatchBytes}) and was dropped`, 'too-large');
      return;
    }
    if (this.waiting.length + this.inFlightSpans >= this.o.maxQueueSpans || this.waitingBytes + this.inFlightBytes + bytes > this.o.maxQueueBytes) {
      this.drop('queueFull', 1);
      this.logger.warn(`ziptrace: the span queue is full (${this.o.maxQueueSpans} spans or ${this.o.maxQueueBytes} bytes); dropping spans until ${this.url.origin} catches up`, 'queue-full');
      return;
    }
    this.waiting.push(json);
    this.waitingSizes.push(bytes);
    this.waitingBytes += bytes;
    if (this.full()) this.pump();
    if (this.waiting.length > 0 && this.timer === undefined && !this.draining) this.arm();
  }

  /** Counts of what was sent, queued, dropped and retried. */
  stats(): HttpReporterStats {
    const droppedTotal = Object.values(this.dropped).reduce((a, b) => a + b, 0);
    return {
      ...this.counts,
      queued: this.waiting.length + this.inFlightSpans,
      queuedBytes: this.waitingBytes + this.inFlightBytes,
      droppedTotal,
      dropped: { ...this.dropped },
    };
  }

  /** Sends everything queued now; resolves when nothing is waiting or in flight. Never rejects. */
  flush(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    this.draining = true;
    this.pump();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Flushes, then stops, within `timeout` milliseconds (default 5000) even if
   * the collector never answers: what is not delivered by then is dropped and
   * counted as `closed`. Never rejects.
   */
  close(options: { timeout?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(options.timeout ?? 5000);
    return this.closing;
  }

  private async shutdown(timeout: number): Promise<void> {
    exitFlush.delete(this);
    // Held (bounded by timeout): with retries waiting on unref'd timers, an awaited close() must not let the process exit under it.
    await this.flushWithin(timeout, true);
    this.closed = true;
    this.abandon();
    this.agent.destroy();
  }

  /** Flushes within a deadline; then drops what is left. Used by close and by the exit flush. */
  private async flushWithin(timeout: number, keepAlive = false): Promise<void> {
    let deadline: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      deadline = runOutside(() => setTimeout(resolve, timeout));
      // On exit and on close the deadline holds the process up so retries can run; otherwise it must not.
      if (!keepAlive) deadline.unref();
    });
    await Promise.race([this.flush(), expired]);
    clearTimeout(deadline);
    if (!this.idle()) this.abandon();
  }

  /** @internal Called on `beforeExit` by the shared process listener. */
  exitFlush(): void {
    if (this.exitFlushing || this.closed || this.idle()) return;
    this.exitFlushing = true;
    this.flushWithin(this.o.exitTimeout, true).then(
      () => (this.exitFlushing = false),
      () => (this.exitFlushing = false),
    );
  }

  /** Drops everything waiting or in flight, counted as closed, and stops all timers and requests. */
  private abandon(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    // Counted now, so stats are final when close() resolves; the destroyed requests' handlers then find their batch gone.
    for (const batch of [...this.inFlight]) {
      this.finishBatch(batch);
      this.drop('closed', batch.spans.length);
    }
    this.drop('closed', this.waiting.length);
    this.waiting = [];
    this.waitingSizes = [];
    this.waitingBytes = 0;
    this.draining = false;
    for (const request of this.requests) request.destroy(new ClosedError());
    this.settle();
  }

  private idle(): boolean {
    return this.waiting.length === 0 && this.inFlight.size === 0;
  }

  private arm(): void {
    // Outside any request's context: the timer must not keep a request's spans alive.
    this.timer = runOutside(() =>
      setTimeout(() => {
        this.timer = undefined;
        this.draining = true;
        this.pump();
      }, this.o.batchInterval),
    );
    this.timer.unref();
  }

  /** Whether a whole batch is waiting (by spans or bytes): it goes out without waiting for the interval. */
  private full(): boolean {
    return this.waiting.length >= this.o.maxBatchSpans || this.waitingBytes >= this.o.maxBatchBytes;
  }

  /** Sends batches while requests are free: everything when draining (interval, flush), else only full batches. */
  private pump(): void {
    while ((this.draining || this.full()) && this.inFlight.size < this.o.maxInFlight && this.waiting.length > 0) {
      this.send(this.takeBatch());
    }
    if (this.waiting.length === 0) this.draining = false;
  }

  private takeBatch(): Batch {
    // The body is [a,b,c]: the spans' bytes plus brackets and commas.
    let count = 0;
    let spanBytes = 0;
    while (count < this.waiting.length && count < this.o.maxBatchSpans) {
      const next = this.waitingSizes[count]!;
      if (count > 0 && spanBytes + next + count + 2 > this.o.maxBatchBytes) break;
      spanBytes += next;
      count++;
    }
    const spans = this.waiting.splice(0, count);
    this.waitingSizes.splice(0, count);
    this.waitingBytes -= spanBytes;
    return { spans, bytes: spanBytes, attempt: 0, split: false };
  }

  private send(batch: Batch): void {
    if (!this.inFlight.has(batch)) {
      this.inFlight.add(batch);
      this.inFlightSpans += batch.spans.length;
      this.inFlightBytes += batch.bytes;
    }
    runOutside(() => this.post(batch));
  }

  private post(batch: Batch): void {
    const json = `[${batch.spans.join(',')}]`;
    // The spans' bytes (measured in report), the commas between them and the brackets: no need to measure the body again.
    if (batch.bytes + batch.spans.length + 1 >= this.o.gzipThreshold) {
      gzip(json, GZIP_OPTIONS, (error, compressed) => {
        if (error !== null) this.request(batch, Buffer.from(json), undefined);
        else this.request(batch, compressed, 'gzip');
      });
    } else {
      this.request(batch, Buffer.from(json), undefined);
    }
  }

  private request(batch: Batch, body: Buffer, encoding: 'gzip' | undefined): void {
    // Abandoned (and counted) while its body was being gzipped.
    if (!this.inFlight.has(batch)) return;
    if (this.closed) {
      this.finishBatch(batch);
      this.drop('closed', batch.spans.length);
      this.settle();
      return;
    }
    this.counts.requests++;
    if (batch.attempt > 0) this.counts.retries++;
    const headers: Record<string, string | number> = { ...this.headers, 'content-length': body.length };
    if (encoding !== undefined) headers['content-encoding'] = encoding;
    let done = false;
    let request: http.ClientRequest;
    const finish = (outcome: Outcome): void => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      this.requests.delete(request);
      this.outcome(batch, body.length, outcome);
    };
    try {
      request = this.transport.request(this.url, { method: 'POST', agent: this.agent, headers });
    } catch (error) {
      // A URL or header the HTTP client refuses: retrying will not help.
      this.counts.failedRequests++;
      this.finishBatch(batch);
      this.drop('rejected', batch.spans.length);
      this.logger.warn(`ziptrace: could not make a request to ${this.url.origin}: ${String(error)}`, 'request-invalid');
      this.settle();
      return;
    }
    this.requests.add(request);
    const deadline = setTimeout(() => request.destroy(new TimeoutError(this.o.timeout)), this.o.timeout);
    deadline.unref();
    request.on('error', (error) => finish({ error }));
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (text.length < MAX_REASON_CHARS) text += chunk;
      });
      response.on('error', (error) => finish({ error }));
      response.on('end', () => {
        const retryAfter = response.headers['retry-after'];
        finish({ status: response.statusCode ?? 0, body: text.slice(0, MAX_REASON_CHARS), retryAfter });
      });
    });
    request.end(body);
  }

  private outcome(batch: Batch, bodyBytes: number, outcome: Outcome): void {
    // Abandoned by close() or the exit flush, and counted as closed then.
    if (!this.inFlight.has(batch)) return;
    if ('status' in outcome && outcome.status >= 200 && outcome.status < 300) {
      this.counts.sent += batch.spans.length;
      this.counts.bytesSent += bodyBytes;
      this.finishBatch(batch);
      this.settle();
      return;
    }
    this.counts.failedRequests++;
    if ('error' in outcome) {
      if (outcome.error instanceof ClosedError) {
        this.finishBatch(batch);
        this.drop('closed', batch.spans.length);
        this.settle();
        return;
      }
      this.logger.warn(`ziptrace: sending spans to ${this.url.origin} failed: ${outcome.error.message}; retrying`, 'request-failed');
      this.retry(batch, undefined);
      return;
    }
    const { status, body, retryAfter } = outcome;
    if (status === 413 && batch.spans.length > 1 && !batch.split) {
      this.splitBatch(batch);
      return;
    }
    if (status === 413) {
      this.finishBatch(batch);
      this.drop('tooLarge', batch.spans.length);
      this.logger.warn(`ziptrace: ${this.url.origin} answered 413 (too large) to a batch of ${batch.spans.length} spans even after splitting; lower maxBatchBytes`, 'too-large');
      this.settle();
      return;
    }
    if (status >= 500 || status === 408 || status === 429) {
      this.logger.warn(`ziptrace: ${this.url.origin} answered ${status} to a batch of spans; retrying`, `status-${status}`);
      this.retry(batch, retryAfter);
      return;
    }
    this.finishBatch(batch);
    this.drop('rejected', batch.spans.length);
    const reason = body.trim().replace(/\s+/g, ' ');
    this.logger.warn(`ziptrace: ${this.url.href} answered ${status} and the spans were dropped${reason ? `: ${reason}` : ''}`, `status-${status}`);
    this.settle();
  }

  private retry(batch: Batch, retryAfter: string | undefined): void {
    if (batch.attempt >= this.o.maxRetries || this.closed) {
      this.finishBatch(batch);
      this.drop(this.closed ? 'closed' : 'retriesExhausted', batch.spans.length);
      if (!this.closed) this.logger.warn(`ziptrace: gave up on a batch of ${batch.spans.length} spans after ${batch.attempt + 1} attempts to ${this.url.origin}`, 'retries-exhausted');
      this.settle();
      return;
    }
    batch.attempt++;
    const ceiling = Math.min(this.o.backoffMax, this.o.backoffInitial * 2 ** (batch.attempt - 1));
    // Equal jitter: half fixed, half random, so a fleet of services does not retry in step.
    let delay = ceiling / 2 + Math.random() * (ceiling / 2);
    const asked = retryAfterMillis(retryAfter);
    if (asked !== undefined) delay = Math.max(delay, Math.min(asked, MAX_RETRY_AFTER_MS));
    const timer = runOutside(() =>
      setTimeout(() => {
        this.retryTimers.delete(batch);
        this.send(batch);
      }, delay),
    );
    timer.unref();
    this.retryTimers.set(batch, timer);
  }

  private splitBatch(batch: Batch): void {
    this.finishBatch(batch);
    const half = Math.ceil(batch.spans.length / 2);
    for (const spans of [batch.spans.slice(0, half), batch.spans.slice(half)]) {
      const bytes = spans.reduce((sum, s) => sum + Buffer.byteLength(s), 0);
      const part: Batch = { spans, bytes, attempt: 0, split: true };
      this.inFlight.add(part);
      this.inFlightSpans += spans.length;
      this.inFlightBytes += bytes;
      this.send(part);
    }
  }

  private finishBatch(batch: Batch): void {
    if (this.inFlight.delete(batch)) {
      this.inFlightSpans -= batch.spans.length;
      this.inFlightBytes -= batch.bytes;
    }
  }

  private drop(reason: keyof DroppedSpans, count: number): void {
    if (count === 0) return;
    this.dropped[reason] += count;
    if (debug.enabled) debug('dropped %d span(s): %s', count, reason);
  }

  /** After a batch ends: send more, and wake flushes if everything is out. */
  private settle(): void {
    this.pump();
    if (this.waiting.length > 0 && this.timer === undefined && !this.draining && !this.closed) this.arm();
    if (this.idle() && this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }
}

class TimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

class ClosedError extends Error {
  constructor() {
    super('the reporter closed');
  }
}

function retryAfterMillis(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function collectorUrl(value: unknown, problems: string[]): URL {
  let url: URL;
  try {
    url = value instanceof URL ? new URL(value.href) : new URL(String(value));
  } catch {
    problems.push(`url must be the collector's address such as 'http://127.0.0.1:9411', got ${JSON.stringify(String(value))}`);
    return new URL('http://127.0.0.1:9411' + SPANS_PATH);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`url must be http: or https:, got ${url.protocol}`);
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith(SPANS_PATH) ? path : path + SPANS_PATH;
  return url;
}

function positive(value: number | undefined, fallback: number, name: string, problems: string[]): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) problems.push(`${name} must be a positive number of milliseconds, got ${String(value)}`);
  return value;
}

function whole(value: number | undefined, fallback: number, name: string, problems: string[], min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) problems.push(`${name} must be a whole number of at least ${min}, got ${String(value)}`);
  return value;
}

/*
 * One `beforeExit` listener for every open HttpReporter in the process (kept
 * on the shared runtime, so two copies of ziptrace still add one), removed
 * when the last reporter closes. On exit each flushes once, within its
 * exitTimeout; ziptrace installs no signal handlers.
 */
interface ExitFlushers {
  reporters: Set<HttpReporter>;
  listener: (() => void) | undefined;
}
const EXIT_KEY = Symbol.for('ziptrace.exit-flush.v1');
const holder = runtime as unknown as Record<symbol, ExitFlushers | undefined>;
const exitState: ExitFlushers = (holder[EXIT_KEY] ??= { reporters: new Set(), listener: undefined });

const exitFlush = {
  add(reporter: HttpReporter): void {
    exitState.reporters.add(reporter);
    if (exitState.listener === undefined) {
      exitState.listener = () => {
        for (const r of exitState.reporters) r.exitFlush();
      };
      process.on('beforeExit', exitState.listener);
    }
  },
  delete(reporter: HttpReporter): void {
    exitState.reporters.delete(reporter);
    if (exitState.reporters.size === 0 && exitState.listener !== undefined) {
      process.off('beforeExit', exitState.listener);
      exitState.listener = undefined;
    }
  },
};
