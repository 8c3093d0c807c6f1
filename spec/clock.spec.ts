/**
 * Time (lib/clock.ts, through spans): timestamps are integer epoch
 * microseconds close to the wall clock with sub-millisecond resolution;
 * explicit number and Date timestamps are honoured; durations are at least 1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTracer, MemoryReporter, setGlobalTracer, type Tracer } from '../lib/index.js';
import { clearGlobalTracerAfterEach, memoryTracer, sleep } from './helpers/tracing.js';

clearGlobalTracerAfterEach();

const setup = (): { tracer: Tracer; reporter: MemoryReporter } => memoryTracer('clock-spec');


/** Tolerance between the span clock and Date.now(): Date.now() is in whole ms, and the offset is anchored to it. */
const SLACK_MICROS = 10_000;

describe('timestamps', () => {
  it('are integer epoch microseconds close to Date.now() * 1000', () => {
    const { tracer, reporter } = setup();
    for (let i = 0; i < 50; i++) {
      const before = Date.now() * 1000;
      const span = tracer.startSpan('now');
      span.annotate('mark');
      span.finish();
      const after = Date.now() * 1000;
      const out = reporter.spans[i]!;
      expect(Number.isInteger(out.timestamp)).toBe(true);
      expect(out.timestamp!).toBeGreaterThanOrEqual(before - SLACK_MICROS);
      expect(out.timestamp!).toBeLessThanOrEqual(after + SLACK_MICROS);
      const mark = out.annotations![0]!.timestamp;
      expect(Number.isInteger(mark)).toBe(true);
      expect(mark).toBeGreaterThanOrEqual(out.timestamp!);
      expect(mark).toBeLessThanOrEqual(after + SLACK_MICROS);
    }
  });

  it('have sub-millisecond resolution', () => {
    const { tracer, reporter } = setup();
    for (let i = 0; i < 500; i++) tracer.startSpan('quick').finish();
    const stamps = reporter.spans.map((s) => s.timestamp!);
    const gaps = stamps.slice(1).map((t, i) => t - stamps[i]!);
    // Consecutive spans started microseconds apart: some differ by less than a millisecond, but not by 0.
    expect(gaps.some((gap) => gap > 0 && gap < 1000)).toBe(true);
    expect(stamps.some((t) => t % 1000 !== 0)).toBe(true);
  });

  it('honours an explicit number (epoch µs) for start, finish and annotations', () => {
    const { tracer, reporter } = setup();
    const start = 1_600_000_000_000_000;
    tracer
      .startSpan('explicit', { timestamp: start })
      .annotate('cs', start + 100)
      .annotate('cr', start + 900)
      .finish(start + 1_000);
    expect(reporter.spans[0]).toMatchObject({
      timestamp: start,
      duration: 1_000,
      annotations: [
        { timestamp: start + 100, value: 'cs' },
        { timestamp: start + 900, value: 'cr' },
      ],
    });
  });

  it('rounds a fractional microsecond timestamp to an integer', () => {
    // (Doubles near 1.6e15 step by 0.25, so the fractions used here are exact.)
    const { tracer, reporter } = setup();
    tracer.startSpan('fraction', { timestamp: 1_600_000_000_000_000.25 }).annotate('a', 1_600_000_000_000_010.75).finish(1_600_000_000_000_020.25);
    expect(reporter.spans[0]).toMatchObject({
      timestamp: 1_600_000_000_000_000,
      duration: 20,
      annotations: [{ timestamp: 1_600_000_000_000_011, value: 'a' }],
    });
  });

  it('honours a Date for start, finish and annotations', () => {
    const { tracer, reporter } = setup();
    const ms = Date.UTC(2023, 4, 6, 7, 8, 9, 10);
    tracer
      .startSpan('dates', { timestamp: new Date(ms) })
      .annotate('half', new Date(ms + 2))
      .finish(new Date(ms + 5));
    expect(reporter.spans[0]).toMatchObject({
      timestamp: ms * 1000,
      duration: 5_000,
      annotations: [{ timestamp: (ms + 2) * 1000, value: 'half' }],
    });
  });

  it('honours an explicit timestamp in withSpan options', () => {
    const { tracer, reporter } = setup();
    const start = Date.now() * 1000 - 2_000_000;
    tracer.withSpan('past', { timestamp: start }, () => undefined);
    const out = reporter.spans[0]!;
    expect(out.timestamp).toBe(start);
    // Finished now, two seconds after its explicit start.
    expect(out.duration!).toBeGreaterThanOrEqual(2_000_000 - SLACK_MICROS);
    expect(out.duration!).toBeLessThan(2_000_000 + 60_000_000);
  });

  it('annotate and finish fall back to now for timestamps that are not one (NaN, 0, negative, invalid Date), and count them', () => {
    const { tracer, reporter } = setup();
    const bads = [Number.NaN, 0, -5, Number.POSITIVE_INFINITY, new Date('nope')];
    for (const bad of bads) {
      const before = Date.now() * 1000;
      tracer.startSpan('bad').annotate('x', bad).finish(bad);
      const after = Date.now() * 1000;
      const out = reporter.spans.at(-1)!;
      expect(out.timestamp!).toBeGreaterThanOrEqual(before - SLACK_MICROS);
      expect(out.timestamp!).toBeLessThanOrEqual(after + SLACK_MICROS);
      expect(out.annotations![0]!.timestamp).toBeGreaterThanOrEqual(before - SLACK_MICROS);
      expect(out.duration!).toBeGreaterThanOrEqual(1);
    }
    expect(tracer.stats().invalidValues).toBe(bads.length * 2);
  });
});

describe('durations', () => {
  it('are integers of at least 1 µs, even for an instant span', () => {
    const { tracer, reporter } = setup();
    for (let i = 0; i < 200; i++) tracer.startSpan('instant').finish();
    const same = 1_600_000_000_000_000;
    tracer.startSpan('zero', { timestamp: same }).finish(same);
    for (const span of reporter.spans) {
      expect(Number.isInteger(span.duration)).toBe(true);
      expect(span.duration!).toBeGreaterThanOrEqual(1);
    }
    expect(reporter.byName('zero')[0]!.duration).toBe(1);
  });

  it('are 1 when finish comes before start', () => {
    const { tracer, reporter } = setup();
    const start = 1_600_000_000_000_000;
    tracer.startSpan('backwards', { timestamp: start }).finish(start - 5_000);
    tracer.startSpan('backwards-date', { timestamp: new Date(2_000_000_000_000) }).finish(new Date(1_000_000_000_000));
    // An implicit start (now) finished at a time in the past.
    tracer.startSpan('backwards-now').finish(start);
    expect(reporter.spans.map((s) => [s.name, s.duration])).toEqual([
      ['backwards', 1],
      ['backwards-date', 1],
      ['backwards-now', 1],
    ]);
  });

  it('measure elapsed time (a 20 ms wait lasts at least ~20 ms, and no more than the wall clock saw)', async () => {
    const { tracer, reporter } = setup();
    const before = Date.now();
    await tracer.withSpan('wait', () => sleep(20));
    const after = Date.now();
    const duration = reporter.spans[0]!.duration!;
    expect(Number.isInteger(duration)).toBe(true);
    // setTimeout may fire up to a millisecond early.
    expect(duration).toBeGreaterThanOrEqual(19_000);
    expect(duration).toBeLessThanOrEqual((after - before + 2) * 1000);
    // start + duration lands at the wall-clock time the span finished.
    const end = reporter.spans[0]!.timestamp! + duration;
    expect(end).toBeGreaterThanOrEqual(before * 1000 - SLACK_MICROS);
    expect(end).toBeLessThanOrEqual(after * 1000 + SLACK_MICROS);
  });
});
