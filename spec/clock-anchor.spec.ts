/**
 * lib/clock.ts from inside: the monotonic clock's offset to the wall clock,
 * re-anchored every 10 s of monotonic time and adopted only when the drift is
 * over a millisecond. In a file of its own, as it moves the module's offset
 * (each spec file gets its own copy of the module).
 */
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { epochMicrosAt, monotonicMillis } from '../lib/clock.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the clock', () => {
  it('reads now as epoch microseconds near Date.now(), on the monotonic clock', () => {
    const before = Date.now() * 1000;
    const now = epochMicrosAt(monotonicMillis());
    const after = Date.now() * 1000;
    expect(Number.isInteger(now)).toBe(true);
    // Within a few ms of the wall clock (the offset is re-read only on drift over 1 ms).
    expect(now).toBeGreaterThanOrEqual(before - 5000);
    expect(now).toBeLessThanOrEqual(after + 5000);
  });

  it('re-anchors to the wall clock after 10 s of monotonic time, keeping the offset when the drift is under 1 ms', () => {
    const start = performance.now();
    const base = epochMicrosAt(start);
    const dateNow = vi.spyOn(Date, 'now');

    // 20 s on, the wall clock agrees (to Date.now()'s millisecond): the offset stays, no jitter.
    dateNow.mockReturnValue(Math.round((base + 20_000_000) / 1000));
    expect(Math.abs(epochMicrosAt(start + 20_000) - (base + 20_000_000))).toBeLessThanOrEqual(1);
    expect(dateNow).toHaveBeenCalledTimes(1);

    // Within the next 10 s, the wall clock is not read at all.
    expect(Math.abs(epochMicrosAt(start + 25_000) - (base + 25_000_000))).toBeLessThanOrEqual(1);
    expect(dateNow).toHaveBeenCalledTimes(1);

    // 20 s later still, the wall clock is 5 ms ahead (NTP slewed it): adopted.
    const ahead = Math.round((base + 40_000_000) / 1000) + 5;
    dateNow.mockReturnValue(ahead);
    expect(epochMicrosAt(start + 40_000)).toBe(ahead * 1000);
    expect(epochMicrosAt(start + 41_000)).toBe(ahead * 1000 + 1_000_000);
    expect(dateNow).toHaveBeenCalledTimes(2);

    // And back again, so the rest of this file's clock is the real one.
    const back = Math.round((base + 60_000_000) / 1000);
    dateNow.mockReturnValue(back);
    expect(epochMicrosAt(start + 60_000)).toBe(back * 1000);
  });
});
