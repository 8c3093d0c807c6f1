import { performance } from 'node:perf_hooks';
import type { Timestamp } from './types.js';

/*
 * Timestamps are epoch microseconds. Date.now() has millisecond resolution;
 * performance.now() has better, but is a monotonic clock that drifts from the
 * wall clock over days of uptime (NTP slews the wall clock, not the monotonic
 * one). So: read performance.now() and add an offset to the wall clock, and
 * re-anchor the offset now and then, adopting it only when the drift is real
 * (over a millisecond), because Date.now()'s own granularity would otherwise
 * make timestamps jitter.
 *
 * Durations never cross the anchor: a span measures its duration on the
 * monotonic clock alone.
 */
const REANCHOR_EVERY_MS = 10_000;

let offsetMicros = Date.now() * 1000 - performance.now() * 1000;
let nextAnchorAt = performance.now() + REANCHOR_EVERY_MS;

function reanchor(perfNow: number): void {
  nextAnchorAt = perfNow + REANCHOR_EVERY_MS;
  const fresh = Date.now() * 1000 - perfNow * 1000;
  if (Math.abs(fresh - offsetMicros) > 1000) offsetMicros = fresh;
}

/** Monotonic milliseconds, for durations. */
export function monotonicMillis(): number {
  return performance.now();
}

/** The epoch microseconds that a monotonic reading stands for. */
export function epochMicrosAt(perfNow: number): number {
  if (perfNow >= nextAnchorAt) reanchor(perfNow);
  return Math.round(offsetMicros + perfNow * 1000);
}

/** Now, in epoch microseconds, with sub-millisecond resolution. */
export function nowMicros(): number {
  return epochMicrosAt(performance.now());
}

/**
 * A user's timestamp as epoch microseconds, or `undefined` when it is not one
 * (the caller then uses "now").
 */
export function toMicros(value: Timestamp | undefined): number | undefined {
  let micros: number;
  if (typeof value === 'number') micros = Math.round(value);
  else if (isDate(value)) micros = value.getTime() * 1000;
  else return undefined;
  // Zipkin wants a positive int64; past 2^53 a double is no longer an exact integer.
  return micros >= 1 && micros <= Number.MAX_SAFE_INTEGER ? micros : undefined;
}

/** `instanceof Date` that cannot throw (it reads the prototype, which a revoked Proxy refuses). */
function isDate(value: unknown): value is Date {
  try {
    return value instanceof Date;
  } catch {
    return false;
  }
}
