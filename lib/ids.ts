import { randomFillSync } from 'node:crypto';

/*
 * Span and trace ids come from a cryptographic source, as the B3 and W3C specs
 * ask. One CSPRNG call costs microseconds, far more than the rest of a span, so
 * ids are sliced from a pool refilled 4 KiB at a time.
 */
const POOL_SIZE = 4096;
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

function randomHex(bytes: number): string {
  let at = take(bytes);
  // All-zero ids are invalid in both B3 and W3C; the chance is 2^-64, but retry rather than emit one.
  while (allZero(at, bytes)) at = take(bytes);
  return pool.toString('hex', at, at + bytes);
}

/** A new 64-bit span id: 16 lower-case hex characters, never all zero. */
export function newSpanId(): string {
  return randomHex(8);
}

/** A new trace id: 32 hex characters (128-bit) or 16 (64-bit), never all zero. */
export function newTraceId(bits128: boolean): string {
  return randomHex(bits128 ? 16 : 8);
}

const HEX16 = /^[0-9a-f]{16}$/;
const HEX16_OR_32 = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;
const ZEROS = /^0+$/;

/** Whether `id` is a valid span id: 16 lower-case hex, not all zero. */
export function isSpanId(id: unknown): id is string {
  return typeof id === 'string' && HEX16.test(id) && !ZEROS.test(id);
}

/** Whether `id` is a valid trace id: 16 or 32 lower-case hex, not all zero. */
export function isTraceId(id: unknown): id is string {
  return typeof id === 'string' && HEX16_OR_32.test(id) && !ZEROS.test(id);
}
