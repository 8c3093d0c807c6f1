import { describe, expect, it } from 'vitest';
import { createTracer, InvalidOptionError, MemoryReporter, type MemoryReporterOptions } from '../../lib/index.js';
import { clearGlobalTracerAfterEach, thrown } from '../helpers/tracing.js';

clearGlobalTracerAfterEach();

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

  it('says what to fix when the limit is not a whole number, with an InvalidOptionError', () => {
    expect(() => new MemoryReporter({ limit: -1 })).toThrow(/limit must be a whole number of spans, got -1/);
    expect(() => new MemoryReporter({ limit: 1.5 })).toThrow(TypeError);
    const error = thrown(() => new MemoryReporter({ limit: 1.5 }));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).code).toBe('ZIPTRACE_INVALID_OPTION');
    expect(error.message).toBe('ziptrace: MemoryReporter: limit must be a whole number of spans, got 1.5');
  });

  it('names the closest known key for an unknown one', () => {
    const error = thrown(() => new MemoryReporter({ limt: 10 } as MemoryReporterOptions));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).code).toBe('ZIPTRACE_INVALID_OPTION');
    expect(error.message).toBe('ziptrace: MemoryReporter: limt is not an option of MemoryReporter; did you mean limit?');
    expect(thrown(() => new MemoryReporter({ max: 10 } as MemoryReporterOptions)).message).toBe('ziptrace: MemoryReporter: max is not an option of MemoryReporter; known: limit');
  });

  it('rejects options that are not an object', () => {
    const error = thrown(() => new MemoryReporter(null as unknown as MemoryReporterOptions));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toMatch(/^ziptrace: MemoryReporter: options must be an object/);
  });
});
