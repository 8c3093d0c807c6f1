/**
 * The retry policy on its own: which outcomes retry, the backoff's bounds
 * (exponential ceilings, equal jitter, the cap) with a seeded random source,
 * and Retry-After in seconds or as an HTTP date, with its cap.
 */
import { describe, expect, it } from 'vitest';
import { parseRetryAfter, retriesStatus, RetryPolicy, verdictOf } from '../../lib/reporting/retry-policy.js';
import { SEED, seededRandom } from '../helpers/tracing.js';

/** The run's seeded source (ZIPTRACE_SEED replays a failure), offset per use so two uses do not draw the same sequence. */
const seeded = (offset: number): (() => number) => seededRandom(SEED + offset);

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

describe('which outcomes retry', () => {
  const cases: [number | undefined, Verdicts][] = [
    [undefined, 'retry'],
    [200, 'delivered'],
    [202, 'delivered'],
    [299, 'delivered'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [599, 'retry'],
    [408, 'retry'],
    [429, 'retry'],
    [400, 'rejected'],
    [401, 'rejected'],
    [403, 'rejected'],
    [404, 'rejected'],
    [422, 'rejected'],
    [301, 'rejected'],
    [0, 'rejected'],
  ];
  type Verdicts = ReturnType<typeof verdictOf>;
  for (const [status, verdict] of cases) {
    it(`${status === undefined ? 'no answer' : status}: ${verdict}`, () => {
      expect(verdictOf(status, 10, false)).toBe(verdict);
    });
  }

  it('413: split a batch of two or more once; a single span or a half is too large', () => {
    expect(verdictOf(413, 2, false)).toBe('split');
    expect(verdictOf(413, 1, false)).toBe('tooLarge');
    expect(verdictOf(413, 10, true)).toBe('tooLarge');
  });

  it('retriesStatus: every 5xx, 408 and 429, nothing else', () => {
    const retried = Array.from({ length: 600 }, (_, status) => status).filter(retriesStatus);
    expect(retried).toEqual([408, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)]);
  });
});

describe('backoff', () => {
  it('ceilings double from initialDelay to maxDelay; equal jitter waits between half the ceiling and all of it (seeded)', () => {
    const random = seeded(42);
    const policy = new RetryPolicy({ maxRetries: 100, initialDelay: 100, maxDelay: 5_000, random });
    const ceilings = [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000];
    for (let draw = 0; draw < 200; draw++) {
      ceilings.forEach((ceiling, i) => {
        const wait = policy.backoff(i + 1);
        expect(wait).toBeGreaterThanOrEqual(ceiling / 2);
        expect(wait).toBeLessThan(ceiling);
      });
    }
  });

  it('is half the ceiling fixed plus the random share of the other half', () => {
    for (const [r, wait] of [
      [0, 400],
      [0.5, 600],
      [0.999, 799.6],
    ] as const) {
      const policy = new RetryPolicy({ maxRetries: 5, initialDelay: 200, maxDelay: 30_000, random: () => r });
      expect(policy.backoff(3)).toBeCloseTo(wait, 6);
    }
  });

  it('spreads the waits: seeded draws cover the jitter range rather than repeating one value', () => {
    const policy = new RetryPolicy({ maxRetries: 5, initialDelay: 1000, maxDelay: 1000, random: seeded(7) });
    const waits = Array.from({ length: 1000 }, () => policy.backoff(1));
    expect(Math.min(...waits)).toBeLessThan(520);
    expect(Math.max(...waits)).toBeGreaterThan(980);
    const mean = waits.reduce((a, b) => a + b, 0) / waits.length;
    expect(mean).toBeGreaterThan(725);
    expect(mean).toBeLessThan(775);
  });

  it('delay() is the backoff for retries 1 to maxRetries, then undefined: give up', () => {
    const policy = new RetryPolicy({ maxRetries: 3, initialDelay: 10, maxDelay: 1000, random: () => 0 });
    expect([1, 2, 3, 4, 5].map((retry) => policy.delay(retry))).toEqual([5, 10, 20, undefined, undefined]);
    expect(new RetryPolicy({ maxRetries: 0, initialDelay: 10, maxDelay: 10 }).delay(1)).toBeUndefined();
  });

  it('uses Math.random when given no source, within the same bounds', () => {
    const policy = new RetryPolicy({ maxRetries: 5, initialDelay: 100, maxDelay: 100 });
    for (let i = 0; i < 100; i++) {
      const wait = policy.delay(1)!;
      expect(wait).toBeGreaterThanOrEqual(50);
      expect(wait).toBeLessThan(100);
    }
  });
});

describe('Retry-After', () => {
  it('parses whole seconds, with surrounding space', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter('1', NOW)).toBe(1000);
    expect(parseRetryAfter(' 120 ', NOW)).toBe(120_000);
  });

  it('parses an HTTP date as the time until it, 0 when already past', () => {
    expect(parseRetryAfter(new Date(NOW + 90_000).toUTCString(), NOW)).toBe(90_000);
    expect(parseRetryAfter('Wed, 15 Jan 2025 12:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Wed, 15 Jan 2025 11:59:00 GMT', NOW)).toBe(0);
  });

  it('ignores what it cannot read (the backoff alone applies)', () => {
    for (const value of [undefined, '', 'soon', '1.5x', 'Someday, 99 Foo 2025']) expect(parseRetryAfter(value, NOW), String(value)).toBeUndefined();
  });

  it('ignores a number that is not whole seconds (Date.parse in V8 would take 1.5 for a day in 2001): the backoff alone applies', () => {
    for (const value of ['1.5', '-5', '0.5', '2026-01-01']) expect(parseRetryAfter(value, NOW), value).toBeUndefined();
  });

  it('a delay is at least what Retry-After asks, never less than the backoff', () => {
    const policy = new RetryPolicy({ maxRetries: 5, initialDelay: 1000, maxDelay: 1000, random: () => 0, now: () => NOW });
    // Backoff 500 ms: a longer ask wins, a shorter one does not shorten it.
    expect(policy.delay(1, '3')).toBe(3000);
    expect(policy.delay(1, '0')).toBe(500);
    expect(policy.delay(1, new Date(NOW + 10_000).toUTCString())).toBe(10_000);
    expect(policy.delay(1, new Date(NOW - 10_000).toUTCString())).toBe(500);
    expect(policy.delay(1, 'nonsense')).toBe(500);
  });

  it('is capped at maxRetryAfter (default five minutes)', () => {
    const policy = new RetryPolicy({ maxRetries: 5, initialDelay: 100, maxDelay: 100, random: () => 0, now: () => NOW });
    expect(policy.delay(1, '300')).toBe(300_000);
    expect(policy.delay(1, '86400')).toBe(300_000);
    expect(policy.delay(1, new Date(NOW + 3_600_000).toUTCString())).toBe(300_000);
    const short = new RetryPolicy({ maxRetries: 5, initialDelay: 100, maxDelay: 100, random: () => 0, maxRetryAfter: 2000 });
    expect(short.delay(1, '60')).toBe(2000);
  });

  it('does not lift the retry count: past maxRetries there is no delay, whatever Retry-After says', () => {
    const policy = new RetryPolicy({ maxRetries: 1, initialDelay: 100, maxDelay: 100 });
    expect(policy.delay(2, '1')).toBeUndefined();
  });
});
