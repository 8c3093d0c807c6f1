import { afterEach, describe, expect, it } from 'vitest';
import { createTracer, MemoryReporter, setGlobalTracer } from '../../lib/index.js';

afterEach(() => setGlobalTracer(undefined));

describe('MemoryReporter', () => {
  it('keeps the Zipkin v2 objects in the order the spans finished, with no flush', () => {
    const reporter = new MemoryReporter();
    const tracer = createTracer({ serviceName: 'memory', reporter, global: false });
    tracer.withSpan('outer', () => tracer.startSpan('inner').finish());
    expect(reporter.spans.map((s) => s.name)).toEqual(['inner', 'outer']);
    expect(reporter.byName('outer')).toHaveLength(1);
    expect(reporter.stats()).toEqual({ kept: 2, dropped: 0 });
  });

  it('is bounded: past its limit spans are dropped and counted, and clear() starts over', () => {
    const reporter = new MemoryReporter({ limit: 3 });
    const tracer = createTracer({ serviceName: 'memory', reporter, global: false });
    for (let i = 0; i < 5; i++) tracer.startSpan(`s${i}`).finish();
    expect(reporter.spans.map((s) => s.name)).toEqual(['s0', 's1', 's2']);
    expect(reporter.stats()).toEqual({ kept: 3, dropped: 2 });
    reporter.clear();
    expect(reporter.stats()).toEqual({ kept: 0, dropped: 0 });
  });

  it('says what to fix when the limit is not a whole number', () => {
    expect(() => new MemoryReporter({ limit: -1 })).toThrow(/limit must be a whole number of spans, got -1/);
    expect(() => new MemoryReporter({ limit: 1.5 })).toThrow(TypeError);
  });
});
