import { randomFillSync } from 'node:crypto';

/*
 * Span and trace ids come from a cryptographic source, as the B3 and W3C specs
 * ask. One CSPRNG call costs microseconds, far more than the rest of a span, so
 * ids are sliced from a pool refilled 16 KiB at a time (the call's fixed cost
 * is then a few nanoseconds per span).
 */
const POOL_SIZE = 16384;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

function take(bytes: number): number {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const at = offset;
  offset += bytes;
  return at;
}

function allZero(at: number, bytes: number): boolean {
  for (let i = at; i < at + bytes; i++) if (pool[i] !== 0) return false;
  return true;
}

/** Char codes of the lower-case hex digits. */
const HEX = new Uint8Array(Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0)));

/*
 * Pool bytes as hex, written out rather than pool.toString('hex', ...): that
 * call crosses into C++ and costs several times more than one
 * String.fromCharCode call with every character as an argument, which makes
 * the flat string directly. (Joining two 16-character halves would make a
 * rope that JSON.stringify must flatten later.) Ids were a large share of a
 * span's cost before.
 */
function hex8(at: number): string {
  const p = pool;
  const b0 = p[at]!, b1 = p[at + 1]!, b2 = p[at + 2]!, b3 = p[at + 3]!, b4 = p[at + 4]!, b5 = p[at + 5]!, b6 = p[at + 6]!, b7 = p[at + 7]!;
  return String.fromCharCode(
    HEX[b0 >> 4]!, HEX[b0 & 15]!, HEX[b1 >> 4]!, HEX[b1 & 15]!, HEX[b2 >> 4]!, HEX[b2 & 15]!, HEX[b3 >> 4]!, HEX[b3 & 15]!,
    HEX[b4 >> 4]!, HEX[b4 & 15]!, HEX[b5 >> 4]!, HEX[b5 & 15]!, HEX[b6 >> 4]!, HEX[b6 & 15]!, HEX[b7 >> 4]!, HEX[b7 & 15]!,
  );
}

function hex16(at: number): string {
  const p = pool;
  const b0 = p[at]!, b1 = p[at + 1]!, b2 = p[at + 2]!, b3 = p[at + 3]!, b4 = p[at + 4]!, b5 = p[at + 5]!, b6 = p[at + 6]!, b7 = p[at + 7]!;
  const c0 = p[at + 8]!, c1 = p[at + 9]!, c2 = p[at + 10]!, c3 = p[at + 11]!, c4 = p[at + 12]!, c5 = p[at + 13]!, c6 = p[at + 14]!, c7 = p[at + 15]!;
  return String.fromCharCode(
    HEX[b0 >> 4]!, HEX[b0 & 15]!, HEX[b1 >> 4]!, HEX[b1 & 15]!, HEX[b2 >> 4]!, HEX[b2 & 15]!, HEX[b3 >> 4]!, HEX[b3 & 15]!,
    HEX[b4 >> 4]!, HEX[b4 & 15]!, HEX[b5 >> 4]!, HEX[b5 & 15]!, HEX[b6 >> 4]!, HEX[b6 & 15]!, HEX[b7 >> 4]!, HEX[b7 & 15]!,
    HEX[c0 >> 4]!, HEX[c0 & 15]!, HEX[c1 >> 4]!, HEX[c1 & 15]!, HEX[c2 >> 4]!, HEX[c2 & 15]!, HEX[c3 >> 4]!, HEX[c3 & 15]!,
    HEX[c4 >> 4]!, HEX[c4 & 15]!, HEX[c5 >> 4]!, HEX[c5 & 15]!, HEX[c6 >> 4]!, HEX[c6 & 15]!, HEX[c7 >> 4]!, HEX[c7 & 15]!,
  );
}

function randomHex(bytes: 8 | 16): string {
  let at = take(bytes);
  // All-zero ids are invalid in both B3 and W3C; the chance is 2^-64, but retry rather than emit one.
  while (allZero(at, bytes)) at = take(bytes);
  return bytes === 8 ? hex8(at) : hex16(at);
}

/** A new 64-bit span id: 16 lower-case hex characters, never all zero. */
export function newSpanId(): string {
  return randomHex(8);
}

/** A new trace id: 32 hex characters (128-bit) or 16 (64-bit), never all zero. */
export function newTraceId(bits128: boolean): string {
  return randomHex(bits128 ? 16 : 8);
}

/**
 * A new trace id if `rate` (between 0 and 1) samples it, else undefined:
 * the rate's decision (lowBitsSampled, below) made on the id's random bytes
 * before any hex is written. A trace left unsampled then needs no ids unless
 * something asks for them (NonRecordingSpan draws them then, from ids the
 * rate does not sample: spec/sampling.spec.ts). Most requests of a service
 * that samples a share of its traffic are such traces, and their two ids
 * and context were most of what their server span cost.
 */
export function sampledTraceId(bits128: boolean, rate: number): string | undefined {
  const bytes = bits128 ? 16 : 8;
  let at = take(bytes);
  while (allZero(at, bytes)) at = take(bytes);
  const p = pool;
  const end = at + bytes;
  // The low 52 bits: the low nibble of the seventh byte from the end, and the six after it. Exact in a double.
  const low = (p[end - 7]! & 15) * 2 ** 48 + p[end - 6]! * 2 ** 40 + p[end - 5]! * 2 ** 32 + p[end - 4]! * 2 ** 24 + p[end - 3]! * 2 ** 16 + p[end - 2]! * 2 ** 8 + p[end - 1]!;
  if (!lowBitsSampled(low, rate)) return undefined;
  return bits128 ? hex16(at) : hex8(at);
}

/**
 * Whether a trace id whose low 52 bits (its last 13 hex digits) are `low` is
 * sampled at `rate`, between 0 and 1: those bits as a share of 2^52, below
 * the rate. The one rule sampledByRate (lib/sampling.ts), which reads the
 * bits from an id's hex, and sampledTraceId, from its bytes, both apply.
 */
export function lowBitsSampled(low: number, rate: number): boolean {
  return low / 2 ** 52 < rate;
}

/**
 * The span id of a new trace's root: the trace id's lower 64 bits, as Brave
 * and zipkin-js do. Those bits are as random as a fresh id, and one random
 * draw and one hex conversion serve both ids. (A lower half of all zeros,
 * 1 in 2^64, is no span id: a fresh one is drawn then.)
 */
export function rootSpanId(traceId: string): string {
  if (traceId.length === 16) return traceId;
  const low = traceId.slice(16);
  return low === ZERO_ID ? newSpanId() : low;
}

const ZERO_ID = '0000000000000000';

/*
 * Every child span checks its parent's ids, so these are plain loops over the
 * char codes rather than regular expressions, which cost several times more.
 */
function isHexId(id: string, length: number): boolean {
  if (id.length !== length) return false;
  let nonZero = false;
  for (let i = 0; i < length; i++) {
    const c = id.charCodeAt(i);
    if (c > 48 && c <= 57) nonZero = true; // 1-9
    else if (c >= 97 && c <= 102) nonZero = true; // a-f
    else if (c !== 48) return false; // not 0 either
  }
  return nonZero;
}

/** Whether `id` is a valid span id: 16 lower-case hex, not all zero. */
export function isSpanId(id: unknown): id is string {
  return typeof id === 'string' && isHexId(id, 16);
}

/** Whether `id` is a valid trace id: 16 or 32 lower-case hex, not all zero. */
export function isTraceId(id: unknown): id is string {
  return typeof id === 'string' && isHexId(id, id.length === 32 ? 32 : 16);
}
