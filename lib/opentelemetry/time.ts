/**
 * OpenTelemetry's times (`TimeInput`: milliseconds, `[seconds, nanoseconds]`,
 * or a Date) as ziptrace's: epoch microseconds. OpenTelemetry reads a number
 * below `performance.timeOrigin` as milliseconds since the process began (a
 * `performance.now()` reading), anything else as epoch milliseconds; so do we.
 */
import type { HrTime, TimeInput } from './api.js';

/** Epoch microseconds for an OpenTelemetry time, or undefined for none or one that is not a time (the span then uses now). */
export function toEpochMicros(time: TimeInput | undefined): number | undefined {
  if (time === undefined || time === null) return undefined;
  if (typeof time === 'number') {
    if (!Number.isFinite(time) || time < 0) return undefined;
    const epochMillis = time < performance.timeOrigin ? performance.timeOrigin + time : time;
    return Math.round(epochMillis * 1000);
  }
  if (time instanceof Date) {
    const millis = time.getTime();
    return Number.isNaN(millis) ? undefined : millis * 1000;
  }
  if (isHrTime(time)) return time[0] * 1_000_000 + Math.round(time[1] / 1000);
  return undefined;
}

function isHrTime(value: unknown): value is HrTime {
  return Array.isArray(value) && value.length === 2 && Number.isFinite(value[0]) && Number.isFinite(value[1]);
}
