/**
 * HttpReporter: the reporter that sends spans to a Zipkin collector over
 * HTTP. This file holds its lifecycle (report, flush, close, the exit flush)
 * and its scheduling (the batch timer, sending while requests are free,
 * retry timers), and wires the parts that do the rest:
 *
 *   http-options.ts    the options, checked, with defaults
 *   span-queue.ts      the bounded queue, batches and the books
 *   http-transport.ts  one POST: gzip, deadline, the answer
 *   retry-policy.ts    what retries, and after how long
 *   exit-flush.ts      the process-wide beforeExit flush
 */
import { runOutside } from '../context.js';
import { encodeSpan } from '../encoding/zipkin-json.js';
import type { Reporter, ZipkinSpan } from '../types.js';
import { resolveHttpReporterOptions, type HttpReporterOptions, type ResolvedHttpReporterOptions } from './http-options.js';
import { HttpTransport, type PostOutcome } from './http-transport.js';
import { registerExitFlush, unregisterExitFlush, type ExitFlushEntry } from './exit-flush.js';
import { RetryPolicy, verdictOf } from './retry-policy.js';
import { batchJson, batchJsonBytes, SpanQueue, type Batch, type DroppedSpans } from './span-queue.js';
import type { ReporterLogger } from './warnings.js';

export type { HttpReporterOptions, HttpReporterTlsOptions } from './http-options.js';
export type { DroppedSpans } from './span-queue.js';

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
  readonly url: import('../globals.js').GlobalURL;
  private readonly o: ResolvedHttpReporterOptions;
  private readonly logger: ReporterLogger;
  private readonly queue: SpanQueue;
  private readonly retryPolicy: RetryPolicy;
  private readonly transport: HttpTransport<Batch>;
  private readonly exitEntry: ExitFlushEntry;

  private readonly retryTimers = new Map<Batch, NodeJS.Timeout>();
  private timer: NodeJS.Timeout | undefined = undefined;
  /** Send everything waiting, not only full batches: set by the batch timer and by flush(), until nothing waits. */
  private draining = false;
  private closed = false;
  private closing: Promise<void> | undefined = undefined;
  private exitFlushing = false;
  private waiters: (() => void)[] = [];
  private readonly counts = { requests: 0, failedRequests: 0, retries: 0, bytesSent: 0 };

  /** @throws InvalidOptionError naming every problem with `options`. */
  constructor(options: HttpReporterOptions) {
    const o = resolveHttpReporterOptions(options);
    this.o = o;
    this.url = o.url;
    this.logger = o.logger;
    this.queue = new SpanQueue(o);
    this.retryPolicy = new RetryPolicy({ maxRetries: o.maxRetries, initialDelay: o.backoffInitial, maxDelay: o.backoffMax });
    this.transport = new HttpTransport<Batch>(
      { url: o.url, headers: o.headers, timeout: o.timeout, gzipThreshold: o.gzipThreshold, maxSockets: o.maxInFlight, tls: o.tls },
      { beforeRequest: (batch) => this.beforeRequest(batch), afterRequest: (batch, outcome) => this.afterRequest(batch, outcome) },
    );
    this.exitEntry = registerExitFlush(this);
  }

  /** Encodes the span and queues it. Never blocks, never throws. */
  report(span: ZipkinSpan): void {
    let json: string;
    try {
      json = encodeSpan(span);
    } catch (error) {
      this.queue.refuse('unencodable');
      this.logger.warn(`ziptrace: a span could not be encoded as JSON and was dropped: ${String(error)}`, 'unencodable');
      return;
    }
    this.reportJson(json);
  }

  /** Queues a span already encoded as Zipkin v2 JSON (the tracer's path: it encodes straight from the span). */
  reportJson(json: string): void {
    const queue = this.queue;
    if (this.closed) {
      queue.refuse('closed');
      return;
    }
    if (typeof json !== 'string') {
      queue.refuse('unencodable');
      this.logger.warn(`ziptrace: reportJson takes a span's JSON text, got ${typeof json}; dropped`, 'unencodable');
      return;
    }
    const refused = queue.add(json);
    if (refused !== undefined) {
      this.warnRefused(refused, json);
      return;
    }
    if (queue.full()) this.pump();
    if (this.timer === undefined && !this.draining && queue.waitingSpans > 0) this.arm();
  }

  /** Counts of what was sent, queued, dropped and retried. */
  stats(): HttpReporterStats {
    const queue = this.queue;
    return {
      reported: queue.reported,
      sent: queue.sent,
      ...this.counts,
      queued: queue.spans,
      queuedBytes: queue.bytes,
      droppedTotal: queue.droppedTotal(),
      dropped: { ...queue.dropped },
    };
  }

  /** Sends everything queued now; resolves when nothing is waiting or in flight. Never rejects. */
  flush(): Promise<void> {
    if (this.queue.idle()) return Promise.resolve();
    // Waiting before pumping: a batch can end within pump() (a request the HTTP client refuses), and its settle() must find this flush.
    const flushed = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.draining = true;
    this.pump();
    return flushed;
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

  /**
   * @internal Called on `beforeExit` by the process-wide listener
   * (exit-flush.ts), possibly of another copy of ziptrace: keep its name.
   */
  exitFlush(): void {
    if (this.exitFlushing || this.closed || this.queue.idle()) return;
    this.exitFlushing = true;
    this.flushWithin(this.o.exitTimeout, true).then(
      () => (this.exitFlushing = false),
      () => (this.exitFlushing = false),
    );
  }

  private async shutdown(timeout: number): Promise<void> {
    unregisterExitFlush(this.exitEntry);
    // Held (bounded by timeout): with retries waiting on unref'd timers, an awaited close() must not let the process exit under it.
    await this.flushWithin(timeout, true);
    this.closed = true;
    this.abandon();
    this.transport.destroy();
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
    if (!this.queue.idle()) this.abandon();
  }

  /** Drops everything waiting or in flight, counted as closed, and stops all timers and requests. */
  private abandon(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    // Counted now, so stats are final when close() resolves; the aborted requests' outcomes then find their batch gone.
    this.queue.dropAll('closed');
    this.draining = false;
    this.transport.abort();
    this.settle();
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

  /** Sends batches while requests are free: everything when draining (interval, flush), else only full batches. */
  private pump(): void {
    const queue = this.queue;
    while ((this.draining || queue.full()) && queue.inFlightBatches < this.o.maxInFlight && queue.waitingSpans > 0) {
      this.send(queue.take()!);
    }
    if (queue.waitingSpans === 0) this.draining = false;
  }

  private send(batch: Batch): void {
    this.transport.post(batchJson(batch), batchJsonBytes(batch), batch);
  }

  /** The transport is about to make a request for `batch`: whether it still should, and counted if so. */
  private beforeRequest(batch: Batch): boolean {
    // Abandoned (and counted) while its body was being gzipped.
    if (!this.queue.holds(batch)) return false;
    if (this.closed) {
      this.queue.drop(batch, 'closed');
      this.settle();
      return false;
    }
    this.counts.requests++;
    if (batch.attempt > 0) this.counts.retries++;
    return true;
  }

  /** What one request's outcome means for its batch: delivered, retried, split, or dropped (and told). */
  private afterRequest(batch: Batch, outcome: PostOutcome): void {
    // Abandoned by close() or the exit flush, and counted as closed then.
    if (!this.queue.holds(batch)) return;
    if (outcome.kind === 'answer') {
      this.answered(batch, outcome.status, outcome.text, outcome.retryAfter, outcome.bodyBytes);
      return;
    }
    this.counts.failedRequests++;
    switch (outcome.kind) {
      case 'closed':
        this.queue.drop(batch, 'closed');
        this.settle();
        return;
      case 'refused':
        this.queue.drop(batch, 'rejected');
        this.logger.warn(`ziptrace: could not make a request to ${this.url.origin}: ${String(outcome.error)}`, 'request-invalid');
        this.settle();
        return;
      case 'no-answer':
        this.logger.warn(`ziptrace: sending spans to ${this.url.origin} failed: ${outcome.error.message}; retrying`, 'request-failed');
        this.retry(batch, undefined);
        return;
    }
  }

  /** The collector answered `status` to `batch`: as the retry policy judges it. */
  private answered(batch: Batch, status: number, text: string, retryAfter: string | undefined, bodyBytes: number): void {
    const verdict = verdictOf(status, batch.spans.length, batch.split);
    if (verdict === 'delivered') {
      this.queue.delivered(batch);
      this.counts.bytesSent += bodyBytes;
      this.settle();
      return;
    }
    this.counts.failedRequests++;
    switch (verdict) {
      case 'split':
        for (const half of this.queue.split(batch)) this.send(half);
        return;
      case 'tooLarge':
        this.queue.drop(batch, 'tooLarge');
        this.logger.warn(`ziptrace: ${this.url.origin} answered 413 (too large) to a batch of ${batch.spans.length} spans even after splitting; lower maxBatchBytes`, 'too-large');
        this.settle();
        return;
      case 'retry':
        this.logger.warn(`ziptrace: ${this.url.origin} answered ${status} to a batch of spans; retrying`, `status-${status}`);
        this.retry(batch, retryAfter);
        return;
      case 'rejected': {
        this.queue.drop(batch, 'rejected');
        const reason = text.trim().replace(/\s+/g, ' ');
        this.logger.warn(`ziptrace: ${this.url.href} answered ${status} and the spans were dropped${reason ? `: ${reason}` : ''}`, `status-${status}`);
        this.settle();
        return;
      }
    }
  }

  /** Schedules the batch's next attempt as the retry policy says, or gives it up. */
  private retry(batch: Batch, retryAfter: string | undefined): void {
    const delay = this.closed ? undefined : this.retryPolicy.delay(batch.attempt + 1, retryAfter);
    if (delay === undefined) {
      this.queue.drop(batch, this.closed ? 'closed' : 'retriesExhausted');
      if (!this.closed) this.logger.warn(`ziptrace: gave up on a batch of ${batch.spans.length} spans after ${batch.attempt + 1} attempts to ${this.url.origin}`, 'retries-exhausted');
      this.settle();
      return;
    }
    batch.attempt++;
    // Outside any request's context, like the batch timer; unref'd: a retry alone does not hold the process (the exit flush does).
    const timer = runOutside(() =>
      setTimeout(() => {
        this.retryTimers.delete(batch);
        this.send(batch);
      }, delay),
    );
    timer.unref();
    this.retryTimers.set(batch, timer);
  }

  /** Why a span was refused, told to the logger (the queue has counted it). */
  private warnRefused(refused: 'tooLarge' | 'queueFull', json: string): void {
    if (refused === 'tooLarge') {
      // Measured again only here, on the way to the bin, so that the queue need not hand sizes back.
      this.logger.warn(`ziptrace: a span of ${Buffer.byteLength(json)} bytes is larger than maxBatchBytes (${this.o.maxBatchBytes}) and was dropped`, 'too-large');
    } else {
      this.logger.warn(`ziptrace: the span queue is full (${this.o.maxQueueSpans} spans or ${this.o.maxQueueBytes} bytes); dropping spans until ${this.url.origin} catches up`, 'queue-full');
    }
  }

  /** After a batch ends: send more, and wake flushes if everything is out. */
  private settle(): void {
    this.pump();
    if (this.queue.waitingSpans > 0 && this.timer === undefined && !this.draining && !this.closed) this.arm();
    if (this.queue.idle() && this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }
}
