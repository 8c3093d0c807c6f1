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

/**
 * The smallest number taken as epoch microseconds: 1e14, which is March 1973.
 * Every smaller number is far likelier another unit: `Date.now()` is about
 * 1.8e12 (milliseconds), seconds about 1.8e9, and no span is that old.
 */
const MIN_EPOCH_MICROS = 1e14;

/**
 * A user's timestamp as epoch microseconds, or `undefined` when it cannot be
 * one: another unit (milliseconds, seconds, nanoseconds), not finite, before
 * 1973 or past 2^53 (where a double is no longer an exact integer), an
 * invalid Date, not a number or Date. Span makers then throw with
 * {@link timestampProblem}; setters that never throw use now and count it.
 */
export function toMicros(value: Timestamp | undefined): number | undefined {
  let micros: number;
  if (typeof value === 'number') micros = Math.round(value);
  else if (isDate(value)) micros = value.getTime() * 1000;
  else return undefined;
  return micros >= MIN_EPOCH_MICROS && micros <= Number.MAX_SAFE_INTEGER ? micros : undefined;
}

/** Why `value` is not a timestamp `toMicros` takes, naming the unit it looks like: for error messages. */
export function timestampProblem(value: unknown): string {
  const wanted = 'must be epoch microseconds (Date.now() * 1000) or a Date';
  if (isDate(value)) return `is a Date that is ${Number.isNaN(value.getTime()) ? 'invalid' : 'before 1973 or too far ahead'}; it ${wanted}`;
  if (typeof value !== 'number') return `${wanted}, got ${typeof value === 'string' ? `the string ${JSON.stringify(value.slice(0, 40))}` : typeof value}`;
  if (!Number.isFinite(value)) return `${wanted}, got ${String(value)}`;
  if (value >= 1e11 && value < MIN_EPOCH_MICROS) return `${value} looks like milliseconds (Date.now()); it ${wanted}: multiply by 1000`;
  if (value >= 1e8 && value < 1e11) return `${value} looks like seconds; it ${wanted}: multiply by 1e6`;
  if (value > Number.MAX_SAFE_INTEGER) return `${value} looks like nanoseconds; it ${wanted}: divide by 1000`;
  return `${wanted}, got ${value}`;
}

/** `instanceof Date` that cannot throw (it reads the prototype, which a revoked Proxy refuses). */
function isDate(value: unknown): value is Date {
  try {
    return value instanceof Date;
  } catch {
    return false;
  }
}
