/**
 * The scheduling of a batching span reporter, whatever carries its batches:
 * when a batch goes out (a full one at once, the rest once `batchInterval`
 * has passed or on a flush), how many are out at once (`maxInFlight`), what
 * the outcome of an attempt means (as retry-policy.ts judges it: delivered,
 * retried after a backoff, split, or dropped), flushes and their deadlines,
 * and giving up on everything at close. It owns the SpanQueue and keeps the
 * counts of attempts.
 *
 * It carries nothing itself. Its owner gives it `send(batch, start)`, which
 * makes one attempt at delivering a batch (one POST for HttpReporter; a Kafka
 * or file reporter would give its own) and resolves with how it ended, and a
 * listener to be told of failures, in the owner's own words.
 *
 * Its timers are made outside any span's context (they must not keep a
 * request's spans alive) and unref'd: a batch interval or a retry alone does
 * not hold the process up; the exit flush and close() do, each within its
 * deadline.
 */
import { runOutside } from '../context.js';
import { verdictOf, type RetryPolicy } from './retry-policy.js';
import type { FinishedSpan } from '../encoding/zipkin-json.js';
import { SpanQueue, type Batch, type DroppedSpans, type Refusal, type SpanQueueLimits } from './span-queue.js';

/**
 * How long `close()` of a reporter waits for its spans to be delivered when
 * no `timeout` is given, in milliseconds: what is not delivered by then is
 * dropped and counted as `closed`. HttpReporter's default; a reporter built on
 * {@link BatchSender} should take it too.
 */
export const DEFAULT_CLOSE_TIMEOUT = 5000;

/** The longest delay a Node timer takes; past it (Infinity included) Node fires after 1 ms instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A `close({ timeout })` or flush deadline as a timer can take it: the
 * default for none, or for one that is no number of milliseconds (close never
 * rejects, so it does not throw either), and at most about 24.8 days, so that
 * `Infinity` means "as long as it takes" rather than Node's 1 ms.
 */
export function closeDeadline(timeout: unknown): number {
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) return DEFAULT_CLOSE_TIMEOUT;
  return Math.min(timeout, MAX_TIMER_MS);
}

/**
 * How one attempt at sending a batch ended. The answers are HTTP-like (a
 * status), as {@link verdictOf} judges them; a transport without statuses
 * gives the status of its meaning (2xx taken, 413 too large, 429 or 5xx
 * worth retrying, another 4xx refused for good).
 */
export type SendOutcome =
  /**
   * The receiver answered `status`. `text` is (a bounded part of) its answer,
   * for the log; `retryAfter` its `Retry-After`, if any; `bodyBytes` what was
   * sent, counted in `bytesSent` when the batch was taken; `bodyFree` that
   * nothing reads the batch's body any more (all of it was written, or what
   * was sent was a copy), so that the queue may reuse it once delivered.
   */
  | { readonly kind: 'answer'; readonly status: number; readonly text: string; readonly retryAfter: string | undefined; readonly bodyBytes: number; readonly bodyFree?: boolean }
  /** No answer: the connection failed or was reset, or the deadline passed. Retried. */
  | { readonly kind: 'no-answer'; readonly error: Error }
  /** The attempt could not be made (a header the HTTP client refuses, say): sending again will not help. Dropped as rejected. */
  | { readonly kind: 'refused'; readonly error: unknown }
  /** Ended by the owner's `abort` (the sender gave up on it); its batch is already counted. */
  | { readonly kind: 'closed' };

/**
 * Makes one attempt at sending `batch` and resolves with how it ended. It
 * calls `start()` once, the moment the attempt is really made (after any
 * compression, say); when that returns false the attempt must not be made:
 * the sender gave up on the batch meanwhile, and whatever the promise then
 * resolves with is ignored. It should not reject; a rejection (or a throw)
 * counts as a failed attempt with no answer, and is retried.
 *
 * It calls `reached()` when the attempt's bytes may have left the process
 * (for HTTP: its socket is connected and the request written to it), so the
 * receiver may get it even if the process ends now. {@link BatchSender.takeForExit}
 * carries over only the attempts that never did: sending one that did again
 * could deliver it twice.
 */
export type SendFunction = (batch: Batch, start: () => boolean, reached: () => void) => Promise<SendOutcome>;

/** What a failed attempt leads to: another attempt, or the batch dropped for this reason. */
export type AfterFailure = 'retry' | 'rejected' | 'tooLarge';

/** Told of the failures a {@link BatchSender} sees, for its owner to log in its own words. */
export interface SendFailureListener {
  /**
   * An attempt at `batch` failed with `outcome`. For `'retry'` this comes
   * before the retry is scheduled (which may yet find the retries used up,
   * see {@link gaveUp}); for a drop, after the drop is counted. Not told:
   * attempts ended by `abort`, and 413s answered by splitting the batch.
   */
  failed(batch: Batch, outcome: SendOutcome, then: AfterFailure): void;
  /** Every attempt at `batch` failed: it was dropped as `retriesExhausted` after `attempts` attempts. Not told once closed. */
  gaveUp(batch: Batch, attempts: number): void;
}

/** Options of {@link BatchSender}: the queue's bounds and the schedule. Times are milliseconds, sizes bytes of JSON. */
export interface BatchSenderOptions extends SpanQueueLimits {
  /** How long a span may wait for its batch to fill before it is sent. */
  readonly batchInterval: number;
  /** Attempts out at once at most (a batch waiting to be retried counts). */
  readonly maxInFlight: number;
  /** How many retries a batch gets and how long each waits. */
  readonly retryPolicy: RetryPolicy;
  /** Makes one attempt at a batch. */
  readonly send: SendFunction;
  /** Ends every attempt in flight, when the sender gives up on them (their outcomes are then ignored). Default: none. */
  readonly abort?: () => void;
  /** Told of failures. Default: nobody. */
  readonly listener?: SendFailureListener;
}

/** What {@link BatchSender.stats} returns. Always: reported = sent + queued + dropped total. */
export interface BatchSenderStats {
  /** Spans offered, refused ones included. */
  reported: number;
  /** Spans in batches that were delivered. */
  sent: number;
  /** Spans held now, waiting or in flight. */
  queued: number;
  /** JSON bytes held now. */
  queuedBytes: number;
  /** Spans dropped, all reasons. */
  droppedTotal: number;
  /** Spans dropped, by reason (a copy). */
  dropped: DroppedSpans;
  /** Attempts made, retries included. */
  requests: number;
  /** Attempts that failed: no answer, or an answer other than 2xx. */
  failedRequests: number;
  /** Attempts that were retries. */
  retries: number;
  /** Body bytes of the attempts that delivered, as `send` counted them. */
  bytesSent: number;
}

const NOBODY: SendFailureListener = { failed() {}, gaveUp() {} };

/**
 * Batches a reporter's encoded spans and sends them through its
 * {@link SendFunction} on a schedule, bounded, retried, flushed on demand and
 * within deadlines. Never throws from `add`, `flush` or `close`.
 */
export class BatchSender {
  /** The spans waiting and in flight, and the books of every span offered. */
  private readonly queue: SpanQueue;
  private readonly batchInterval: number;
  private readonly maxInFlight: number;
  private readonly retryPolicy: RetryPolicy;
  private readonly sendBatch: SendFunction;
  private readonly abortAttempts: () => void;
  private readonly listener: SendFailureListener;

  private readonly retryTimers = new Map<Batch, NodeJS.Timeout>();
  /** Batches whose attempt now out may have reached the receiver (see {@link SendFunction}): the exit send leaves them. */
  private readonly reached = new Set<Batch>();
  private timer: NodeJS.Timeout | undefined = undefined;
  /** Send everything waiting, not only full batches: set by the batch timer and by flush(), until nothing waits. */
  private draining = false;
  private isClosed = false;
  private exitFlushing = false;
  private waiters: (() => void)[] = [];
  private readonly counts = { requests: 0, failedRequests: 0, retries: 0, bytesSent: 0 };

  /** @param options checked by the caller: whole numbers of at least 1, a positive interval. */
  constructor(options: BatchSenderOptions) {
    this.queue = new SpanQueue(options);
    this.batchInterval = options.batchInterval;
    this.maxInFlight = options.maxInFlight;
    this.retryPolicy = options.retryPolicy;
    this.sendBatch = options.send;
    this.abortAttempts = options.abort ?? (() => {});
    this.listener = options.listener ?? NOBODY;
  }

  /** Whether {@link close} has finished: spans offered now are refused as `closed`. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Queues one encoded span, and sends a batch at once if that filled one:
   * `undefined` when queued, else why it was refused (already counted dropped).
   * Allocates nothing but the queue's growth (its arrays, now and then a chunk).
   */
  add(json: string): Refusal | 'closed' | undefined {
    if (this.isClosed) return this.refuseClosed();
    return this.queued(this.queue.add(json));
  }

  /** As {@link add}, for a finished span of this copy's tracer, encoded by the queue straight into its bytes. */
  addFinished(span: FinishedSpan, endpointPart: string): Refusal | 'closed' | undefined {
    if (this.isClosed) return this.refuseClosed();
    return this.queued(this.queue.addFinished(span, endpointPart));
  }

  private refuseClosed(): 'closed' {
    this.queue.refuse('closed');
    return 'closed';
  }

  /** After the queue took a span (or refused it): a full batch goes at once, else the timer sends it. */
  private queued(refused: Refusal | undefined): Refusal | undefined {
    if (refused !== undefined) return refused;
    const queue = this.queue;
    if (queue.full()) this.pump();
    if (this.timer === undefined && !this.draining && queue.waitingSpans > 0) this.arm();
    return undefined;
  }

  /** Counts a span that never enters (it could not be encoded, say): reported and dropped at once. */
  refuse(reason: keyof DroppedSpans): void {
    this.queue.refuse(reason);
  }

  /** Counts of what was sent, queued, dropped and retried. */
  stats(): BatchSenderStats {
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
    // Waiting before pumping: a batch can end within pump() (an attempt given up as it starts), and its settle() must find this flush.
    const flushed = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.draining = true;
    this.pump();
    return flushed;
  }

  /**
   * Flushes within `timeout` milliseconds; then drops what is left, counted
   * as `closed`, and ends the attempts in flight. The deadline holds the
   * process up (so that retries can run) when `keepAlive`, else it does not.
   * Never rejects.
   */
  async flushWithin(timeout: number, keepAlive = false): Promise<void> {
    let deadline: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      deadline = runOutside(() => setTimeout(resolve, closeDeadline(timeout)));
      if (!keepAlive) deadline.unref();
    });
    await Promise.race([this.flush(), expired]);
    clearTimeout(deadline);
    if (!this.queue.idle()) this.abandon();
  }

  /**
   * The flush on `beforeExit`: within `timeout`, holding the process up
   * meanwhile; one at a time, and none once closed or with nothing held.
   */
  exitFlush(timeout: number): void {
    if (this.exitFlushing || this.isClosed || this.queue.idle()) return;
    this.exitFlushing = true;
    this.flushWithin(timeout, true).then(
      () => (this.exitFlushing = false),
      () => (this.exitFlushing = false),
    );
  }

  /**
   * Flushes within `timeout` (default {@link DEFAULT_CLOSE_TIMEOUT}), holding
   * the process up meanwhile (with retries waiting on unref'd timers, an
   * awaited close must not let the process exit under it), then stops: what
   * is left is dropped as `closed`, as is every span offered afterwards.
   * Never rejects.
   */
  async close(timeout: number = DEFAULT_CLOSE_TIMEOUT): Promise<void> {
    await this.flushWithin(timeout, true);
    this.isClosed = true;
    this.abandon();
  }

  /**
   * For the synchronous send at process exit: takes every batch that can be
   * sent again without being delivered twice, and stops the timers that would
   * have sent them. That is the spans waiting (in batches, as they would have
   * gone) and the batches waiting for a retry or whose attempt has not
   * {@link SendFunction | reached} the receiver; not those whose attempt may
   * have. Each must then be settled with {@link exitSent}. None once closed.
   */
  takeForExit(): Batch[] {
    if (this.isClosed) return [];
    const queue = this.queue;
    const batches = queue.inFlight().filter((batch) => !this.reached.has(batch));
    for (const batch of batches) {
      const retry = this.retryTimers.get(batch);
      if (retry !== undefined) clearTimeout(retry);
      this.retryTimers.delete(batch);
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.draining = false;
    for (let batch = queue.take(); batch !== undefined; batch = queue.take()) batches.push(batch);
    return batches;
  }

  /**
   * How the exit send of a batch {@link takeForExit} took ended: the
   * receiver's status (a 2xx delivers it; `bodyBytes` is what was sent), or
   * `undefined` when no answer came (then no request is counted, as it may
   * not have been made). What was not delivered is dropped as `closed`: the
   * process is ending.
   */
  exitSent(batch: Batch, status: number | undefined, bodyBytes: number): void {
    if (!this.queue.holds(batch)) return;
    if (status === undefined) {
      this.queue.drop(batch, 'closed');
      return;
    }
    this.counts.requests++;
    if (status >= 200 && status < 300) {
      this.queue.delivered(batch);
      this.counts.bytesSent += bodyBytes;
    } else {
      this.counts.failedRequests++;
      this.queue.drop(batch, 'closed');
    }
  }

  /** Drops everything waiting or in flight, counted as closed, and stops all timers and attempts. */
  private abandon(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    this.reached.clear();
    // Counted now, so stats are final when close() resolves; the aborted attempts' outcomes then find their batch gone.
    this.queue.dropAll('closed');
    this.draining = false;
    this.abortAttempts();
    this.settle();
  }

  private arm(): void {
    // Outside any request's context: the timer must not keep a request's spans alive.
    this.timer = runOutside(() =>
      setTimeout(() => {
        this.timer = undefined;
        this.draining = true;
        this.pump();
      }, this.batchInterval),
    );
    this.timer.unref();
  }

  /** Sends batches while attempts are free: everything when draining (interval, flush), else only full batches. */
  private pump(): void {
    const queue = this.queue;
    while ((this.draining || queue.full()) && queue.inFlightBatches < this.maxInFlight && queue.waitingSpans > 0) {
      this.send(queue.take()!);
    }
    if (queue.waitingSpans === 0) this.draining = false;
  }

  private send(batch: Batch): void {
    let started = false;
    const start = (): boolean => (started = this.start(batch));
    let attempt: Promise<SendOutcome>;
    try {
      attempt = this.sendBatch(batch, start, () => {
        if (this.queue.holds(batch)) this.reached.add(batch);
      });
    } catch (error) {
      attempt = Promise.reject(error);
    }
    attempt.then(
      (outcome) => this.ended(batch, outcome),
      (error: unknown) => {
        // A send that failed before it started its attempt still made one, as the books see it: counted, then failed.
        if (!started && !start()) return;
        this.ended(batch, { kind: 'no-answer', error: error instanceof Error ? error : new Error(String(error)) });
      },
    );
  }

  /** An attempt at `batch` is about to be made: whether it still should be, and counted if so. */
  private start(batch: Batch): boolean {
    // Abandoned (and counted) while the attempt was being prepared.
    if (!this.queue.holds(batch)) return false;
    if (this.isClosed) {
      this.queue.drop(batch, 'closed');
      this.settle();
      return false;
    }
    this.counts.requests++;
    if (batch.attempt > 0) this.counts.retries++;
    return true;
  }

  /** What one attempt's outcome means for its batch: delivered, retried, split, or dropped (and told). */
  private ended(batch: Batch, outcome: SendOutcome): void {
    // The attempt is over, whatever it came to: a retry of the batch is safe to carry over at exit again.
    this.reached.delete(batch);
    // Abandoned by close() or the exit flush, and counted as closed then.
    if (!this.queue.holds(batch)) return;
    if (outcome.kind === 'answer') {
      this.answered(batch, outcome);
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
        this.listener.failed(batch, outcome, 'rejected');
        this.settle();
        return;
      case 'no-answer':
        this.listener.failed(batch, outcome, 'retry');
        this.retry(batch, undefined);
        return;
    }
  }

  /** The receiver answered: as the retry policy judges its status. */
  private answered(batch: Batch, outcome: Extract<SendOutcome, { kind: 'answer' }>): void {
    const verdict = verdictOf(outcome.status, batch.count, batch.split);
    if (verdict === 'delivered') {
      this.queue.delivered(batch, outcome.bodyFree === true);
      this.counts.bytesSent += outcome.bodyBytes;
      this.settle();
      return;
    }
    this.counts.failedRequests++;
    switch (verdict) {
      case 'split':
        for (const half of this.queue.split(batch)) this.send(half);
        return;
      case 'retry':
        this.listener.failed(batch, outcome, 'retry');
        this.retry(batch, outcome.retryAfter);
        return;
      case 'tooLarge':
      case 'rejected':
        this.queue.drop(batch, verdict);
        this.listener.failed(batch, outcome, verdict);
        this.settle();
        return;
    }
  }

  /** Schedules the batch's next attempt as the retry policy says, or gives it up. */
  private retry(batch: Batch, retryAfter: string | undefined): void {
    const delay = this.isClosed ? undefined : this.retryPolicy.delay(batch.attempt + 1, retryAfter);
    if (delay === undefined) {
      this.queue.drop(batch, this.isClosed ? 'closed' : 'retriesExhausted');
      if (!this.isClosed) this.listener.gaveUp(batch, batch.attempt + 1);
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

  /** After a batch ends: send more, and wake flushes if everything is out. */
  private settle(): void {
    this.pump();
    if (this.queue.waitingSpans > 0 && this.timer === undefined && !this.draining && !this.isClosed) this.arm();
    if (this.queue.idle() && this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }
}
