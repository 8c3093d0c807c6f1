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
 *
 * Spans wait as UTF-8 bytes in chunks (outside V8's heap), each written after
 * a comma, so that the spans of one chunk lie end to end as they will in the
 * body: taking a batch copies a run of bytes per chunk into the batch's own
 * body, and the tracer's spans are encoded straight into a chunk
 * (zipkin-bytes.ts). A chunk is let go (or, the current one, written over)
 * once every span in it is taken, so beyond the bytes the bounds count the
 * queue holds the chunk being filled, the taken part of the oldest chunk
 * still in use, and what did not fit at the end of each chunk: at most about
 * two chunks more. A chunk is 256 KB, or less when `maxQueueBytes` is less.
 * It also keeps the bodies of up to two delivered batches (of 8 to 256 KB) to
 * write later bodies into.
 */
import { debug } from '../debug.js';
import { encodeFinishedSpanInto, NO_ROOM, utf8 } from '../encoding/zipkin-bytes.js';
import { encodeFinishedSpan, type FinishedSpan } from '../encoding/zipkin-json.js';

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
export class Batch {
  /** Attempts at sending it that failed so far: the sender's to count, for its retry policy. */
  attempt = 0;

  /** The body as a Buffer, to decode: `body` is typed as bytes so that the published types need no `@types/node`. */
  private readonly buffer: Buffer;

  /**
   * @param body the spans as the body of a Zipkin v2 POST, `[a,b,c]` in UTF-8.
   *   Once the queue hears the batch was delivered with its body no longer in
   *   use (`delivered(batch, true)`), the queue may write the next batch's body over it.
   * @param sizes each span's bytes, in order.
   * @param bytes the spans' bytes, commas and brackets not included.
   * @param split whether this is half of a batch that was split; halves are not split again.
   * @param store the bytes `body` is the start of, when the queue may reuse them for a later body.
   */
  constructor(
    readonly body: Uint8Array,
    readonly sizes: readonly number[],
    readonly bytes: number,
    readonly split: boolean,
    readonly store?: Uint8Array,
  ) {
    this.buffer = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  }

  /** The body as text: the spans as one Zipkin v2 JSON list. */
  text(): string {
    return this.buffer.toString('utf8');
  }

  /** How many spans it holds. */
  get count(): number {
    return this.sizes.length;
  }

  /** The spans' JSON, in the order they were added: decoded from the body on each read (for tests and tools; the reporters read the body). */
  get spans(): string[] {
    const out = new Array<string>(this.sizes.length);
    let at = 1;
    for (let i = 0; i < out.length; i++) {
      const size = this.sizes[i]!;
      out[i] = this.buffer.toString('utf8', at, at + size);
      at += size + 1;
    }
    return out;
  }
}

/** Where waiting spans are written; see the module comment. */
interface Chunk {
  readonly buf: Buffer;
  /** Bytes written (the last span's end). */
  used: number;
  /** Waiting spans in it: at 0 it can be written over from the start. */
  pending: number;
}

/** The size of a chunk: a few hundred spans of a few hundred bytes. A span larger than this gets a chunk of its own. */
const CHUNK_BYTES = 256 * 1024;
/** The least chunk a small `maxQueueBytes` gets: room for a span or two. */
const MIN_CHUNK_BYTES = 4096;
/**
 * Bodies of delivered batches kept to write later bodies into, at most.
 * Why: a fresh body of a hundred kilobytes is fresh memory from the
 * allocator, and its first write faults every page in: about 60 µs of CPU
 * a POST of 512 spans, half of what the POST itself costs (bench/README.md,
 * Reporting). Two, as a reporter has one or two requests in flight.
 */
const SPARE_BODIES = 2;
/** Bodies smaller than this are slices of Node's shared pool (Buffer.allocUnsafe), never kept. */
const MIN_STORE_BYTES = 8192;
/** A body larger than this (a batch of thousands of spans) is not kept: the memory a quiet reporter holds stays small. */
const MAX_STORE_BYTES = CHUNK_BYTES;

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
  /** Where each waiting span is: its chunk, its first byte there, its byte length. */
  private waitingChunks: Chunk[] = [];
  private waitingStarts: number[] = [];
  private waitingSizes: number[] = [];
  private waitingBytes = 0;
  private readonly chunkBytes: number;
  /** The chunk spans are written to now. */
  private chunk: Chunk;
  /** The local endpoint's part (`,"localEndpoint":{...}`) as bytes, for the last text given. */
  private endpointText = '';
  private endpointBytes: Uint8Array = new Uint8Array(0);
  /** Stores of delivered bodies, to write later bodies into (at most SPARE_BODIES). */
  private readonly spareBodies: Uint8Array[] = [];
  private readonly inFlightSet = new Set<Batch>();
  private inFlightSpans = 0;
  private inFlightBytes = 0;

  /**
   * @param limits the caps; checked by the caller (whole numbers of at least 1).
   * @param chunkBytes the size of the chunks spans wait in (a test's, to cross chunks with a few spans).
   */
  constructor(limits: SpanQueueLimits, chunkBytes = Math.min(CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, limits.maxQueueBytes + 1))) {
    this.limits = limits;
    this.chunkBytes = chunkBytes;
    // No chunk until the first span: a reporter that never reports holds none.
    this.chunk = newChunk(0);
  }

  /** Spans held now, waiting or in flight. */
  get spans(): number {
    return this.waitingSizes.length + this.inFlightSpans;
  }

  /** Bytes held now, waiting or in flight. */
  get bytes(): number {
    return this.waitingBytes + this.inFlightBytes;
  }

  /** Spans waiting to be taken. */
  get waitingSpans(): number {
    return this.waitingSizes.length;
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
   * refused (already counted dropped). Allocates nothing but the arrays' growth and, now and then, a chunk.
   */
  add(json: string): Refusal | undefined {
    let chunk = this.chunk;
    let start = chunk.used + 1;
    const room = chunk.buf.length - start;
    // Three bytes a UTF-16 unit at most: measured first only when that might not fit.
    const bytes = json.length * 3 <= room ? -1 : Buffer.byteLength(json);
    if (bytes > room) {
      // Refused before a chunk is made for it (a span of megabytes, a full queue).
      const refused = this.refusal(bytes);
      if (refused !== undefined) {
        this.reported++;
        return refused;
      }
      chunk = this.freshChunk(bytes + 1);
      start = 1;
    }
    const end = start + chunk.buf.write(json, start, 'utf8');
    return this.commit(chunk, start, end);
  }

  /**
   * Offers one finished span of this copy's tracer, encoded here straight into
   * the queue's bytes (zipkin-bytes.ts): what `add(encodeFinishedSpan(span,
   * endpointPart))` does, without the text.
   */
  addFinished(span: FinishedSpan, endpointPart: string): Refusal | undefined {
    if (endpointPart !== this.endpointText) {
      this.endpointText = endpointPart;
      this.endpointBytes = utf8(endpointPart);
    }
    // A queue full by spans refuses without encoding (a collector that is down keeps it so).
    if (this.waitingSizes.length + this.inFlightSpans >= this.limits.maxQueueSpans) {
      this.reported++;
      this.count('queueFull', 1);
      return 'queueFull';
    }
    let chunk = this.chunk;
    let start = chunk.used + 1;
    let end = encodeFinishedSpanInto(span, this.endpointBytes, chunk.buf, start);
    // No room left in this chunk (or no chunk yet): once more in a chunk of its own size.
    if (end === NO_ROOM && !(chunk.used === 0 && chunk.buf.length >= this.chunkBytes)) {
      chunk = this.freshChunk(this.chunkBytes);
      start = 1;
      end = encodeFinishedSpanInto(span, this.endpointBytes, chunk.buf, start);
    }
    // Larger than a chunk: as text, which gets a chunk of its own.
    if (end === NO_ROOM) return this.add(encodeFinishedSpan(span, endpointPart));
    return this.commit(chunk, start, end);
  }

  /** A span written at chunk[start, end): queued if the bounds allow, else refused and its bytes left to be written over. */
  private commit(chunk: Chunk, start: number, end: number): Refusal | undefined {
    this.reported++;
    const bytes = end - start;
    const refused = this.refusal(bytes);
    if (refused !== undefined) return refused;
    chunk.buf[start - 1] = 0x2c; // , before every span: a chunk's spans lie end to end as in the body
    chunk.used = end;
    chunk.pending++;
    this.waitingChunks.push(chunk);
    this.waitingStarts.push(start);
    this.waitingSizes.push(bytes);
    this.waitingBytes += bytes;
    return undefined;
  }

  /** Why a span of `bytes` would be refused now (counted dropped), or undefined when it fits the bounds. */
  private refusal(bytes: number): Refusal | undefined {
    const limits = this.limits;
    // A batch of this span alone is the span and two brackets.
    if (bytes + 2 > limits.maxBatchBytes) {
      this.count('tooLarge', 1);
      return 'tooLarge';
    }
    if (this.waitingSizes.length + this.inFlightSpans >= limits.maxQueueSpans || this.waitingBytes + this.inFlightBytes + bytes > limits.maxQueueBytes) {
      this.count('queueFull', 1);
      return 'queueFull';
    }
    return undefined;
  }

  /**
   * The chunk to write to once the current one has no room: the current one
   * itself from its start if nothing waits in it, else a new one of at least
   * `bytes` (a span larger than a chunk gets one of its size, not kept).
   */
  private freshChunk(bytes: number): Chunk {
    const current = this.chunk;
    if (current.pending === 0 && bytes <= current.buf.length) {
      current.used = 0;
      return current;
    }
    const chunk = newChunk(Math.max(bytes, this.chunkBytes));
    if (chunk.buf.length === this.chunkBytes) this.chunk = chunk;
    return chunk;
  }

  /** Counts a span that never enters (reported after close, not encodable): reported and dropped at once. */
  refuse(reason: keyof DroppedSpans): void {
    this.reported++;
    this.count(reason, 1);
  }

  /** Whether a whole batch is waiting, by spans or by bytes: it need not wait for a timer. */
  full(): boolean {
    return this.waitingSizes.length >= this.limits.maxBatchSpans || this.waitingBytes >= this.limits.maxBatchBytes;
  }

  /** Whether nothing is waiting or in flight. */
  idle(): boolean {
    return this.waitingSizes.length === 0 && this.inFlightSet.size === 0;
  }

  /**
   * Takes the oldest waiting spans as one batch, as many as fit in
   * `maxBatchSpans` and `maxBatchBytes` (at least one), and holds it in
   * flight. `undefined` when nothing waits.
   */
  take(): Batch | undefined {
    const waiting = this.waitingSizes.length;
    if (waiting === 0) return undefined;
    const { maxBatchSpans, maxBatchBytes } = this.limits;
    // The body is [a,b,c]: the spans' bytes plus brackets and commas.
    let count = 0;
    let spanBytes = 0;
    while (count < waiting && count < maxBatchSpans) {
      const next = this.waitingSizes[count]!;
      if (count > 0 && spanBytes + next + count + 2 > maxBatchBytes) break;
      spanBytes += next;
      count++;
    }
    const store = this.store(spanBytes + count + 1);
    const body = store === undefined ? Buffer.allocUnsafe(spanBytes + count + 1) : store.subarray(0, spanBytes + count + 1);
    const chunks = this.waitingChunks;
    const starts = this.waitingStarts;
    const sizes = this.waitingSizes.splice(0, count);
    body[0] = 0x5b; // [
    let at = 1;
    // One copy per run of spans in the same chunk: they lie there end to end, commas between.
    for (let i = 0; i < count; ) {
      const chunk = chunks[i]!;
      const from = starts[i]!;
      let to = from + sizes[i]!;
      let j = i + 1;
      while (j < count && chunks[j] === chunk && starts[j] === to + 1) to = starts[j]! + sizes[j++]!;
      if (i > 0) body[at++] = 0x2c;
      at += chunk.buf.copy(body, at, from, to);
      chunk.pending -= j - i;
      // Nothing waits in it any more: the current chunk is written over from its start; any other is let go.
      if (chunk.pending === 0 && chunk === this.chunk) chunk.used = 0;
      i = j;
    }
    body[at] = 0x5d; // ]
    chunks.splice(0, count);
    starts.splice(0, count);
    this.waitingBytes -= spanBytes;
    const batch = new Batch(body, sizes, spanBytes, false, store);
    this.hold(batch);
    return batch;
  }

  /** Where a body of `bytes` is written: a spare store large enough, else a new one (rounded up to a power of two, to fit the next), or none for a small or a very large body. */
  private store(bytes: number): Uint8Array | undefined {
    if (bytes < MIN_STORE_BYTES || bytes > MAX_STORE_BYTES) return undefined;
    const spare = this.spareBodies;
    for (let i = spare.length - 1; i >= 0; i--) {
      const store = spare[i]!;
      if (store.length >= bytes) {
        spare.splice(i, 1);
        return store;
      }
    }
    return Buffer.allocUnsafeSlow(2 ** Math.ceil(Math.log2(bytes)));
  }

  /** The batches in flight now, oldest first (a copy). */
  inFlight(): Batch[] {
    return [...this.inFlightSet];
  }

  /** Whether `batch` is still in flight (not delivered, dropped, split, or abandoned by {@link dropAll}). */
  holds(batch: Batch): boolean {
    return this.inFlightSet.has(batch);
  }

  /**
   * The batch arrived: its spans count as sent. False (and nothing counted)
   * when it was no longer in flight. `bodyFree`: nothing reads the batch's
   * body any more (its request wrote all of it to the socket), so that the
   * queue may write a later body over it; the caller must not read it after.
   */
  delivered(batch: Batch, bodyFree = false): boolean {
    if (!this.release(batch)) return false;
    this.sent += batch.count;
    const store = batch.store;
    if (bodyFree && store !== undefined && this.spareBodies.length < SPARE_BODIES && !this.spareBodies.includes(store)) this.spareBodies.push(store);
    return true;
  }

  /** The batch is given up on: its spans count as dropped for `reason`. False when it was no longer in flight. */
  drop(batch: Batch, reason: keyof DroppedSpans): boolean {
    if (!this.release(batch)) return false;
    this.count(reason, batch.count);
    return true;
  }

  /**
   * Replaces an in-flight batch of two or more spans by its two halves, both
   * in flight and marked `split`: the way to send what the receiver found too large.
   */
  split(batch: Batch): [Batch, Batch] {
    this.release(batch);
    const half = Math.ceil(batch.count / 2);
    const firstSizes = batch.sizes.slice(0, half);
    const firstBytes = firstSizes.reduce((sum, size) => sum + size, 0);
    // [a,b,c,d,e] → [a,b,c] and [d,e]: the first half's spans and commas end where the second's begin.
    const cut = 1 + firstBytes + half - 1;
    const first = Buffer.concat([batch.body.subarray(0, cut), CLOSE]);
    const second = Buffer.concat([OPEN, batch.body.subarray(cut + 1)]);
    const halves: [Batch, Batch] = [new Batch(first, firstSizes, firstBytes, true), new Batch(second, batch.sizes.slice(half), batch.bytes - firstBytes, true)];
    for (const part of halves) this.hold(part);
    return halves;
  }

  /** Drops everything, waiting and in flight, for `reason`: the books are final at once. */
  dropAll(reason: keyof DroppedSpans): void {
    for (const batch of [...this.inFlightSet]) this.drop(batch, reason);
    this.count(reason, this.waitingSizes.length);
    this.waitingChunks = [];
    this.waitingStarts = [];
    this.waitingSizes = [];
    this.waitingBytes = 0;
    // Nothing waits: the chunks are let go (a closed reporter holds none), and the next span makes one.
    this.chunk = newChunk(0);
    this.spareBodies.length = 0;
  }

  private hold(batch: Batch): void {
    this.inFlightSet.add(batch);
    this.inFlightSpans += batch.count;
    this.inFlightBytes += batch.bytes;
  }

  private release(batch: Batch): boolean {
    if (!this.inFlightSet.delete(batch)) return false;
    this.inFlightSpans -= batch.count;
    this.inFlightBytes -= batch.bytes;
    return true;
  }

  private count(reason: keyof DroppedSpans, count: number): void {
    if (count === 0) return;
    this.dropped[reason] += count;
    if (debug.enabled) debug('dropped %d span(s): %s', count, reason);
  }
}

const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');

function newChunk(bytes: number): Chunk {
  return { buf: Buffer.allocUnsafe(bytes), used: 0, pending: 0 };
}

/**
 * A batch's body in the Zipkin v2 list encoding, `[a,b,c]`, as the UTF-8
 * bytes of the request: made when the batch was taken, by copying the spans'
 * bytes out of the queue's chunks.
 */
export function batchJson(batch: Batch): Uint8Array {
  return batch.body;
}

/** The byte length of {@link batchJson}: the spans, the commas between them, two brackets. */
export function batchJsonBytes(batch: Batch): number {
  return batch.body.length;
}
