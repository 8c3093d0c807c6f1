/**
 * The bounded span queue: encoded spans waiting to be sent plus the batches
 * in flight, capped together by spans and by bytes, cut into batches by
 * `maxBatchSpans` and `maxBatchBytes`, and the count of every span that ever
 * entered, by how it left (sent, or dropped and why).
 *
 * It knows nothing of how batches travel, nor when. Its owner (BatchSender,
 * batch-sender.ts) takes a batch, has it sent however its reporter sends
 * (HTTP here; Kafka or a file would do the same), then tells the queue
 * whether it was delivered, dropped or split; until then the batch still
 * counts against the bounds, so a slow collector cannot make the queue hold
 * more than its caps.
 *
 * Sizes are those of the Zipkin v2 list encoding `[a,b,c]`, the body every
 * Zipkin transport carries: the spans' bytes, one comma between two spans and
 * two brackets.
 */
import { debug } from '../debug.js';

/** Why spans were dropped, by reason. */
export interface DroppedSpans {
  /** The queue was at `maxQueueSpans` or `maxQueueBytes`. */
  queueFull: number;
  /** One span was larger than `maxBatchBytes`, or a batch stayed too large (HTTP 413) after one split. */
  tooLarge: number;
  /** The collector refused the batch for good (over HTTP, a 4xx that retrying cannot fix). */
  rejected: number;
  /** Every retry failed. */
  retriesExhausted: number;
  /** Not delivered before `close()` or the process exit flush ran out of time, or reported after close. */
  closed: number;
  /** The span could not be turned into JSON. */
  unencodable: number;
}

/** The bounds of a {@link SpanQueue}. Sizes are bytes of JSON. */
export interface SpanQueueLimits {
  /** Spans held at once, waiting or in flight. */
  readonly maxQueueSpans: number;
  /** Bytes held at once, waiting or in flight. */
  readonly maxQueueBytes: number;
  /** Spans in one batch at most. */
  readonly maxBatchSpans: number;
  /** Bytes of one batch's body (`[a,b,c]`) at most; a span that cannot fit alone is refused. */
  readonly maxBatchBytes: number;
}

/** Spans taken from the queue together; in flight until the queue hears how they ended. */
export interface Batch {
  /** The spans' JSON, in the order they were added. */
  readonly spans: readonly string[];
  /** The spans' bytes, commas and brackets not included. */
  readonly bytes: number;
  /** Attempts at sending it that failed so far: the sender's to count, for its retry policy. */
  attempt: number;
  /** Whether this is half of a batch that was split; halves are not split again. */
  readonly split: boolean;
}

/** Why {@link SpanQueue.add} refused a span (and counted it dropped). */
export type Refusal = 'tooLarge' | 'queueFull';

/**
 * Spans waiting and in flight, bounded, with the books kept so that always
 * `reported = sent + spans + droppedTotal()`.
 */
export class SpanQueue {
  /** Spans offered to the queue, refused ones included. */
  reported = 0;
  /** Spans in batches that were delivered. */
  sent = 0;
  /** Spans dropped, by reason; read-only outside the queue. */
  readonly dropped: DroppedSpans = { queueFull: 0, tooLarge: 0, rejected: 0, retriesExhausted: 0, closed: 0, unencodable: 0 };

  private readonly limits: SpanQueueLimits;
  private waiting: string[] = [];
  /** Byte length of each waiting span, so batching does not measure them again. */
  private waitingSizes: number[] = [];
  private waitingBytes = 0;
  private readonly inFlightSet = new Set<Batch>();
  private inFlightSpans = 0;
  private inFlightBytes = 0;

  /** @param limits the caps; checked by the caller (whole numbers of at least 1). */
  constructor(limits: SpanQueueLimits) {
    this.limits = limits;
  }

  /** Spans held now, waiting or in flight. */
  get spans(): number {
    return this.waiting.length + this.inFlightSpans;
  }

  /** Bytes held now, waiting or in flight. */
  get bytes(): number {
    return this.waitingBytes + this.inFlightBytes;
  }

  /** Spans waiting to be taken. */
  get waitingSpans(): number {
    return this.waiting.length;
  }

  /** Batches taken and not yet settled (delivered, dropped or split). */
  get inFlightBatches(): number {
    return this.inFlightSet.size;
  }

  /** Spans dropped, all reasons. */
  droppedTotal(): number {
    const d = this.dropped;
    return d.queueFull + d.tooLarge + d.rejected + d.retriesExhausted + d.closed + d.unencodable;
  }

  /**
   * Offers one encoded span: `undefined` when it is queued, else why it was
   * refused (already counted dropped). Allocates nothing but the arrays' growth.
   */
  add(json: string): Refusal | undefined {
    this.reported++;
    const bytes = Buffer.byteLength(json);
    const limits = this.limits;
    // A batch of this span alone is the span and two brackets.
    if (bytes + 2 > limits.maxBatchBytes) {
      this.count('tooLarge', 1);
      return 'tooLarge';
    }
    if (this.waiting.length + this.inFlightSpans >= limits.maxQueueSpans || this.waitingBytes + this.inFlightBytes + bytes > limits.maxQueueBytes) {
      this.count('queueFull', 1);
      return 'queueFull';
    }
    this.waiting.push(json);
    this.waitingSizes.push(bytes);
    this.waitingBytes += bytes;
    return undefined;
  }

  /** Counts a span that never enters (reported after close, not encodable): reported and dropped at once. */
  refuse(reason: keyof DroppedSpans): void {
    this.reported++;
    this.count(reason, 1);
  }

  /** Whether a whole batch is waiting, by spans or by bytes: it need not wait for a timer. */
  full(): boolean {
    return this.waiting.length >= this.limits.maxBatchSpans || this.waitingBytes >= this.limits.maxBatchBytes;
  }

  /** Whether nothing is waiting or in flight. */
  idle(): boolean {
    return this.waiting.length === 0 && this.inFlightSet.size === 0;
  }

  /**
   * Takes the oldest waiting spans as one batch, as many as fit in
   * `maxBatchSpans` and `maxBatchBytes` (at least one), and holds it in
   * flight. `undefined` when nothing waits.
   */
  take(): Batch | undefined {
    if (this.waiting.length === 0) return undefined;
    const { maxBatchSpans, maxBatchBytes } = this.limits;
    // The body is [a,b,c]: the spans' bytes plus brackets and commas.
    let count = 0;
    let spanBytes = 0;
    while (count < this.waiting.length && count < maxBatchSpans) {
      const next = this.waitingSizes[count]!;
      if (count > 0 && spanBytes + next + count + 2 > maxBatchBytes) break;
      spanBytes += next;
      count++;
    }
    const spans = this.waiting.splice(0, count);
    this.waitingSizes.splice(0, count);
    this.waitingBytes -= spanBytes;
    const batch: Batch = { spans, bytes: spanBytes, attempt: 0, split: false };
    this.hold(batch);
    return batch;
  }

  /** The batches in flight now, oldest first (a copy). */
  inFlight(): Batch[] {
    return [...this.inFlightSet];
  }

  /** Whether `batch` is still in flight (not delivered, dropped, split, or abandoned by {@link dropAll}). */
  holds(batch: Batch): boolean {
    return this.inFlightSet.has(batch);
  }

  /** The batch arrived: its spans count as sent. False (and nothing counted) when it was no longer in flight. */
  delivered(batch: Batch): boolean {
    if (!this.release(batch)) return false;
    this.sent += batch.spans.length;
    return true;
  }

  /** The batch is given up on: its spans count as dropped for `reason`. False when it was no longer in flight. */
  drop(batch: Batch, reason: keyof DroppedSpans): boolean {
    if (!this.release(batch)) return false;
    this.count(reason, batch.spans.length);
    return true;
  }

  /**
   * Replaces an in-flight batch of two or more spans by its two halves, both
   * in flight and marked `split`: the way to send what the receiver found too large.
   */
  split(batch: Batch): [Batch, Batch] {
    this.release(batch);
    const half = Math.ceil(batch.spans.length / 2);
    const halves = [batch.spans.slice(0, half), batch.spans.slice(half)].map((spans): Batch => {
      const part: Batch = { spans, bytes: spans.reduce((sum, s) => sum + Buffer.byteLength(s), 0), attempt: 0, split: true };
      this.hold(part);
      return part;
    });
    return halves as [Batch, Batch];
  }

  /** Drops everything, waiting and in flight, for `reason`: the books are final at once. */
  dropAll(reason: keyof DroppedSpans): void {
    for (const batch of [...this.inFlightSet]) this.drop(batch, reason);
    this.count(reason, this.waiting.length);
    this.waiting = [];
    this.waitingSizes = [];
    this.waitingBytes = 0;
  }

  private hold(batch: Batch): void {
    this.inFlightSet.add(batch);
    this.inFlightSpans += batch.spans.length;
    this.inFlightBytes += batch.bytes;
  }

  private release(batch: Batch): boolean {
    if (!this.inFlightSet.delete(batch)) return false;
    this.inFlightSpans -= batch.spans.length;
    this.inFlightBytes -= batch.bytes;
    return true;
  }

  private count(reason: keyof DroppedSpans, count: number): void {
    if (count === 0) return;
    this.dropped[reason] += count;
    if (debug.enabled) debug('dropped %d span(s): %s', count, reason);
  }
}

/**
 * A batch's body in the Zipkin v2 list encoding, `[a,b,c]`, as the UTF-8
 * bytes of the request: each span written into one buffer of the size the
 * queue measured, rather than joined into one long text that the request must
 * then encode again (the join and the copy were most of what a batch cost).
 */
export function batchJson(batch: Batch): Uint8Array {
  const body = Buffer.allocUnsafe(batchJsonBytes(batch));
  const spans = batch.spans;
  let at = 0;
  body[at++] = 0x5b; // [
  for (let i = 0; i < spans.length; i++) {
    if (i > 0) body[at++] = 0x2c; // ,
    at += body.write(spans[i]!, at, 'utf8');
  }
  body[at++] = 0x5d; // ]
  // The queue measured each span with Buffer.byteLength, which write() matches byte for byte.
  return at === body.length ? body : body.subarray(0, at);
}

/** The byte length of {@link batchJson}, without measuring it again: the spans, the commas between them, two brackets. */
export function batchJsonBytes(batch: Batch): number {
  return batch.bytes + batch.spans.length + 1;
}
