/**
 * What HttpReporter and OtlpReporter share, which is all but the body of a
 * request: the options, checked, feed a transport and a scheduler, the
 * process's exit flush is told of the reporter, spans are queued as the bytes
 * of Zipkin v2 JSON (written straight from the span for this copy's tracer,
 * zipkin-bytes.ts; from the text for `report` and `reportJson`), and
 * the failures the scheduler reports are put to the logger as warnings. A
 * reporter built on it says only how a batch becomes a body.
 *
 *   http-options.ts    the options, checked, with defaults
 *   batch-sender.ts    the scheduling: the batch timer, attempts in flight, retries, flushes and deadlines
 *   span-queue.ts      the bounded queue, batches and the books (the scheduler's)
 *   retry-policy.ts    what retries, and after how long
 *   http-transport.ts  one POST: gzip, deadline, the answer
 *   exit-flush.ts      the process-wide beforeExit flush, and the exit send's listener
 *   exit-send.ts       the synchronous last-chance send on `exit`, from a child process (exit-sender.ts)
 */
import { REPORT_FINISHED } from '../encoding/zipkin-bytes.js';
import { encodeFinishedSpan, encodeSpan, type FinishedSpan } from '../encoding/zipkin-json.js';
import type { Reporter, ZipkinSpan } from '../types.js';
import { BatchSender, closeDeadline, DEFAULT_CLOSE_TIMEOUT, type AfterFailure, type BatchSenderStats, type SendOutcome } from './batch-sender.js';
import type { ResolvedHttpReporterOptions } from './http-options.js';
import { HttpTransport, type PostOutcome } from './http-transport.js';
import { registerExitFlush, unregisterExitFlush, type ExitFlushEntry } from './exit-flush.js';
import { sendAtExit } from './exit-send.js';
import { RetryPolicy } from './retry-policy.js';
import type { Batch, Refusal } from './span-queue.js';
import type { ReporterLogger } from './warnings.js';

/**
 * What {@link HttpReporter.stats} (and OtlpReporter's) returns: its
 * scheduler's counts, where an attempt is one POST to the collector and
 * `bytesSent` the bodies' bytes as sent (compressed when gzipped). Always:
 * reported = sent + queued + dropped total.
 */
export interface HttpReporterStats extends BatchSenderStats {}

/** @internal A batch's request body, and its byte length (known, or measured once). */
export interface RequestBody {
  /** Text (sent as UTF-8) or bytes. */
  readonly body: string | Uint8Array;
  /** Its length in bytes: what the gzip threshold is compared with. */
  readonly bytes: number;
}

/** One POST in flight: how the transport tells the scheduler that it starts and how it ended. */
interface Attempt {
  readonly start: () => boolean;
  readonly end: (outcome: PostOutcome) => void;
  readonly reached: () => void;
}

/**
 * A reporter that sends finished spans to a collector over HTTP in batches,
 * off the hot path: `report()` only encodes and enqueues. Bounded (by spans
 * and bytes, in flight included), retried with backoff, timed out, gzipped
 * (except to a collector on this machine), never traced itself, and never
 * throwing: a dead, slow or rude collector costs the app dropped spans,
 * counted in `stats()`.
 *
 * Subclasses say how a batch of queued spans (Zipkin v2 JSON) becomes the
 * request's body: {@link HttpReporter} sends them as they are, OtlpReporter
 * as OTLP.
 */
export abstract class HttpBatchReporter implements Reporter {
  /** Where the spans go: the full URL that is POSTed to. */
  readonly url: import('../globals.js').GlobalURL;
  /** @internal The options, checked. */
  protected readonly options: ResolvedHttpReporterOptions;
  /** @internal Where failures are told. */
  protected readonly logger: ReporterLogger;
  /** @internal The scheduler: the queue, its books, the attempts. */
  protected readonly sender: BatchSender;
  private readonly transport: HttpTransport<Attempt>;
  private readonly exitEntry: ExitFlushEntry;
  private closing: Promise<void> | undefined = undefined;

  /** @internal @param o checked options. @param contentType the bodies' `Content-Type`. */
  protected constructor(o: ResolvedHttpReporterOptions, contentType: string) {
    this.options = o;
    this.url = o.url;
    this.logger = o.logger;
    const transport = new HttpTransport<Attempt>(
      { url: o.url, headers: o.headers, contentType, timeout: o.timeout, gzipThreshold: o.gzipThreshold, maxSockets: o.maxInFlight, tls: o.tls },
      { beforeRequest: (attempt) => attempt.start(), afterRequest: (attempt, outcome) => attempt.end(outcome), reached: (attempt) => attempt.reached() },
    );
    this.transport = transport;
    this.sender = new BatchSender({
      maxQueueSpans: o.maxQueueSpans,
      maxQueueBytes: o.maxQueueBytes,
      maxBatchSpans: o.maxBatchSpans,
      maxBatchBytes: o.maxBatchBytes,
      batchInterval: o.batchInterval,
      maxInFlight: o.maxInFlight,
      retryPolicy: new RetryPolicy({ maxRetries: o.maxRetries, initialDelay: o.backoffInitial, maxDelay: o.backoffMax }),
      send: (batch, start, reached) => new Promise<PostOutcome>((end) => this.post(batch, { start, end, reached })),
      abort: () => transport.abort(),
      listener: { failed: (batch, outcome, then) => this.failed(batch, outcome, then), gaveUp: (batch, attempts) => this.gaveUp(batch, attempts) },
    });
    this.exitEntry = registerExitFlush(this);
  }

  /**
   * @internal The request body for `batch`, whose body is its spans as one
   * Zipkin v2 JSON list (`[a,b,c]`). Called once per attempt, retries included. What it throws drops
   * the batch as rejected (an encoder that failed once fails again).
   */
  protected abstract body(batch: Batch): RequestBody;

  /** Encodes the span and queues it. Never blocks, never throws. */
  report(span: ZipkinSpan): void {
    let json: string;
    try {
      json = encodeSpan(span);
    } catch (error) {
      this.sender.refuse('unencodable');
      this.logger.warn(`ziptrace: a span could not be encoded as JSON and was dropped: ${String(error)}`, 'unencodable');
      return;
    }
    this.reportJson(json);
  }

  /** Queues a span already encoded as Zipkin v2 JSON (the path of a tracer of another copy of ziptrace, and of a subclass that overrides it). */
  reportJson(json: string): void {
    const sender = this.sender;
    if (sender.closed) {
      sender.refuse('closed');
      return;
    }
    if (typeof json !== 'string') {
      sender.refuse('unencodable');
      this.logger.warn(`ziptrace: reportJson takes a span's JSON text, got ${typeof json}; dropped`, 'unencodable');
      return;
    }
    const refused = sender.add(json);
    if (refused !== undefined && refused !== 'closed') this.warnRefused(refused, () => json);
  }

  /** @internal The tracer's hand-off of a finished span of this copy (zipkin-bytes.ts): encoded straight into the queue. */
  [REPORT_FINISHED](span: FinishedSpan, endpointPart: string): void {
    // A subclass's (or an instance's own) reportJson is what the app asked for: it gets the text, as before.
    if (this.reportJson !== HttpBatchReporter.prototype.reportJson) {
      this.reportJson(encodeFinishedSpan(span, endpointPart));
      return;
    }
    const refused = this.sender.addFinished(span, endpointPart);
    // Encoded again as text only on the way to the bin, to say its size.
    if (refused !== undefined && refused !== 'closed') this.warnRefused(refused, () => encodeFinishedSpan(span, endpointPart));
  }

  /** Counts of what was sent, queued, dropped and retried. */
  stats(): HttpReporterStats {
    return this.sender.stats();
  }

  /** Sends everything queued now; resolves when nothing is waiting or in flight. Never rejects. */
  flush(): Promise<void> {
    return this.sender.flush();
  }

  /**
   * Flushes, then stops, within `timeout` milliseconds (default
   * {@link DEFAULT_CLOSE_TIMEOUT}, 5000) even if the collector never answers:
   * what is not delivered by then is dropped and counted as `closed`. Never rejects.
   */
  close(options: { timeout?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(closeDeadline(options?.timeout));
    return this.closing;
  }

  /**
   * @internal Called on `beforeExit` by the process-wide listener
   * (exit-flush.ts), possibly of another copy of ziptrace: keep its name.
   */
  exitFlush(): void {
    // exitTimeout 0: no flush at exit at all, this one nor the exit send.
    if (this.options.exitTimeout === 0) return;
    this.sender.exitFlush(this.options.exitTimeout);
  }

  /**
   * @internal Called on `exit` by the process-wide listener (exit-flush.ts),
   * possibly of another copy of ziptrace: keep its name. Sends the spans
   * still queued (waiting, waiting for a retry, or taken but not yet on the
   * wire) from a child process, blocking the exit for at most `exitTimeout`;
   * not a request that may already have reached the collector, which might
   * then get its spans twice. Counted in `stats()`: delivered as `sent`, the
   * rest dropped as `closed`. Nothing queued, or `exitTimeout: 0`: returns at
   * once, no child. Never throws.
   */
  exitSendSync(): void {
    const timeout = this.options.exitTimeout;
    if (timeout === 0) return;
    try {
      const batches = this.sender.takeForExit();
      if (batches.length === 0) return;
      const sendable: Batch[] = [];
      const bodies: { data: Uint8Array; gzip: boolean }[] = [];
      for (const batch of batches) {
        let body: RequestBody;
        try {
          body = this.body(batch);
        } catch {
          // Not encodable now, nor ever: nobody to tell on the way out; counted as closed.
          this.sender.exitSent(batch, undefined, 0);
          continue;
        }
        sendable.push(batch);
        bodies.push(this.transport.encodeSync(body.body, body.bytes));
      }
      const transport = this.transport;
      const headers = transport.requestHeaders;
      const outcomes = sendAtExit({ url: this.url, headers, contentType: headers['content-type']!, bodies, timeout, tls: transport.tls });
      sendable.forEach((batch, i) => this.sender.exitSent(batch, outcomes[i], bodies[i]!.data.byteLength));
    } catch {
      // The process is exiting: what was not counted delivered stays queued in stats, and nothing escapes.
    }
  }

  /** One attempt at `batch`: its body made, then POSTed. */
  private post(batch: Batch, attempt: Attempt): void {
    let body: RequestBody;
    try {
      body = this.body(batch);
    } catch (error) {
      // Counted as an attempt the HTTP client would not make: dropped as rejected, and told, rather than retried in vain.
      if (attempt.start()) attempt.end({ kind: 'refused', error });
      return;
    }
    this.transport.post(body.body, body.bytes, attempt);
  }

  private async shutdown(timeout: number): Promise<void> {
    unregisterExitFlush(this.exitEntry);
    await this.sender.close(timeout);
    this.transport.destroy();
  }

  /** A request for `batch` failed: told to the logger, in the collector's terms. */
  private failed(batch: Batch, outcome: SendOutcome, then: AfterFailure): void {
    const logger = this.logger;
    switch (outcome.kind) {
      case 'refused':
        logger.warn(`ziptrace: could not make a request to ${this.url.origin}: ${String(outcome.error)}`, 'request-invalid');
        return;
      case 'no-answer':
        logger.warn(`ziptrace: sending spans to ${this.url.origin} failed: ${outcome.error.message}; retrying`, 'request-failed');
        return;
      case 'answer': {
        const status = outcome.status;
        if (then === 'tooLarge') {
          logger.warn(`ziptrace: ${this.url.origin} answered 413 (too large) to a batch of ${batch.count} spans even after splitting; lower maxBatchBytes`, 'too-large');
        } else if (then === 'retry') {
          logger.warn(`ziptrace: ${this.url.origin} answered ${status} to a batch of spans; retrying`, `status-${status}`);
        } else {
          const reason = outcome.text.trim().replace(/\s+/g, ' ');
          logger.warn(`ziptrace: ${this.url.href} answered ${status} and the spans were dropped${reason ? `: ${reason}` : ''}`, `status-${status}`);
        }
        return;
      }
      // 'closed' is never told: the reporter is closing, and the drops are counted.
    }
  }

  /** Every attempt at `batch` failed. */
  private gaveUp(batch: Batch, attempts: number): void {
    this.logger.warn(`ziptrace: gave up on a batch of ${batch.count} spans after ${attempts} attempts to ${this.url.origin}`, 'retries-exhausted');
  }

  /** Why a span was refused, told to the logger (the queue has counted it). */
  private warnRefused(refused: Refusal, json: () => string): void {
    if (refused === 'tooLarge') {
      // Measured again only here, on the way to the bin, so that the queue need not hand sizes back.
      this.logger.warn(`ziptrace: a span of ${Buffer.byteLength(json())} bytes is larger than maxBatchBytes (${this.options.maxBatchBytes}) and was dropped`, 'too-large');
    } else {
      this.logger.warn(`ziptrace: the span queue is full (${this.options.maxQueueSpans} spans or ${this.options.maxQueueBytes} bytes); dropping spans until ${this.url.origin} catches up`, 'queue-full');
    }
  }
}
