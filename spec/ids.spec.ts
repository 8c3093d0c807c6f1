/**
 * Ids (lib/ids.ts): 128-bit (or 64-bit) trace ids and 64-bit span ids as
 * lower-case hex, never all zero, unique, from a pool that refills; and the
 * exported validators isTraceId / isSpanId.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTracer, isSpanId, isTraceId, MemoryReporter, setGlobalTracer, type Tracer } from '../lib/index.js';
import { clearGlobalTracerAfterEach } from './helpers/tracing.js';

clearGlobalTracerAfterEach();

const TRACE_128 = /^[0-9a-f]{32}$/;
const TRACE_64 = /^[0-9a-f]{16}$/;
const SPAN = /^[0-9a-f]{16}$/;
const ALL_ZERO = /^0+$/;

function tracer(traceId128Bit?: boolean): Tracer {
  return createTracer({ serviceName: 'ids-spec', reporter: new MemoryReporter(), ...(traceId128Bit === undefined ? {} : { traceId128Bit }) });
}

describe('generated ids', () => {
  it('trace ids are 128-bit (32 lower-case hex) by default, span ids 64-bit (16 lower-case hex)', () => {
    const t = tracer();
    for (let i = 0; i < 1000; i++) {
      const { traceId, spanId } = t.newTrace({ sampled: false }).context;
      expect(traceId).toMatch(TRACE_128);
      expect(spanId).toMatch(SPAN);
      expect(traceId).not.toMatch(ALL_ZERO);
      expect(spanId).not.toMatch(ALL_ZERO);
      expect(isTraceId(traceId)).toBe(true);
      expect(isSpanId(spanId)).toBe(true);
    }
  });

  it('trace ids are 64-bit (16 lower-case hex) with traceId128Bit: false, for roots and their children', () => {
    const reporter = new MemoryReporter();
    const t = createTracer({ serviceName: 'ids-64', reporter, traceId128Bit: false });
    for (let i = 0; i < 200; i++) {
      t.withSpan('root', (root) => {
        expect(root.context.traceId).toMatch(TRACE_64);
        const child = t.startSpan('child');
        expect(child.context.traceId).toBe(root.context.traceId);
        child.finish();
      });
    }
    expect(reporter.spans).toHaveLength(400);
    for (const span of reporter.spans) {
      expect(span.traceId).toMatch(TRACE_64);
      expect(span.id).toMatch(SPAN);
    }
    expect(tracer(true).newTrace().context.traceId).toMatch(TRACE_128);
  });

  it('continuing a 64-bit trace id from a context keeps it 64-bit even in a 128-bit tracer', () => {
    const t = tracer();
    const child = t.newChild({ traceId: '00000000000000ab', spanId: '00000000000000cd', sampled: true, debug: false, shared: false });
    expect(child.context.traceId).toBe('00000000000000ab');
    expect(child.context.parentId).toBe('00000000000000cd');
  });

  it('are unique across 100,000 traces (ids for many 4 KiB pool refills)', () => {
    const t = tracer();
    const traceIds = new Set<string>();
    const spanIds = new Set<string>();
    const N = 100_000;
    for (let i = 0; i < N; i++) {
      const { traceId, spanId } = t.newTrace({ sampled: false }).context;
      traceIds.add(traceId);
      spanIds.add(spanId);
    }
    // 100k * 16 bytes = 1.6 MB of randomness (a root's span id is its trace id's lower half): a pool that did not refill would repeat.
    expect(traceIds.size).toBe(N);
    expect(spanIds.size).toBe(N);
  });

  it('a new root’s span id is its trace id’s lower 64 bits (the whole id when 64-bit), as Brave and zipkin-js make them; children get fresh ones', () => {
    for (const bits128 of [true, false]) {
      const t = createTracer({ serviceName: 'root-ids', traceId128Bit: bits128, global: false });
      const unsampled = createTracer({ serviceName: 'root-ids', traceId128Bit: bits128, sampleRate: 0, global: false });
      const roots = [t.newTrace(), t.startSpan('root'), t.startSpan('root', { parent: null }), unsampled.startSpan('lazy'), unsampled.newTrace()];
      for (const root of roots) {
        const { traceId, spanId } = root.context;
        expect(spanId).toBe(bits128 ? traceId.slice(16) : traceId);
        const child = t.newChild(root);
        expect(child.context.spanId).not.toBe(spanId);
        expect(traceId.endsWith(child.context.spanId)).toBe(false);
      }
    }
  });

  it('the pool refills: more than 4096 bytes of span ids alone are all distinct', () => {
    const t = tracer(false);
    const root = t.newTrace({ sampled: false });
    const ids = new Set<string>();
    // 1,600 children * 8 bytes = 12,800 bytes, over three refills of a 4 KiB pool.
    for (let i = 0; i < 1600; i++) ids.add(t.newChild(root).context.spanId);
    expect(ids.size).toBe(1600);
    expect(ids.has(root.context.spanId)).toBe(false);
  });

  it('every hex position varies (no constant prefix or counter)', () => {
    const t = tracer();
    const traceIds: string[] = [];
    const spanIds: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const c = t.newTrace({ sampled: false }).context;
      traceIds.push(c.traceId);
      spanIds.push(c.spanId);
    }
    for (const [ids, width] of [[traceIds, 32], [spanIds, 16]] as const) {
      for (let pos = 0; pos < width; pos++) {
        const digits = new Set(ids.map((id) => id[pos]));
        // 2,000 uniform hex digits show all 16 values except with probability ~16 * (15/16)^2000.
        expect(digits.size, `position ${pos}`).toBe(16);
      }
    }
  });
});

describe('isTraceId / isSpanId', () => {
  it.each<[unknown, boolean]>([
    ['463ac35c9f6413ad48485a3953bb6124', true],
    ['463ac35c9f6413ad', true],
    ['0000000000000001', true],
    ['00000000000000000000000000000000', false],
    ['0000000000000000', false],
    ['463AC35C9F6413AD48485A3953BB6124', false],
    ['463ac35c9f6413a', false],
    ['463ac35c9f6413ad4', false],
    ['463ac35c9f6413ad48485a3953bb612', false],
    ['463ac35c9f6413ad48485a3953bb6124a', false],
    ['g63ac35c9f6413ad', false],
    [' 463ac35c9f6413ad', false],
    ['', false],
    [123, false],
    [undefined, false],
    [null, false],
  ])('isTraceId(%j) is %s', (id, valid) => {
    expect(isTraceId(id)).toBe(valid);
  });

  it.each<[unknown, boolean]>([
    ['a2fb4a1d1a96d312', true],
    ['0000000000000001', true],
    ['0000000000000000', false],
    ['A2FB4A1D1A96D312', false],
    ['463ac35c9f6413ad48485a3953bb6124', false],
    ['a2fb4a1d1a96d31', false],
    ['a2fb4a1d1a96d3123', false],
    ['a2fb4a1d1a96d31z', false],
    ['', false],
    [0x1234, false],
    [null, false],
  ])('isSpanId(%j) is %s', (id, valid) => {
    expect(isSpanId(id)).toBe(valid);
  });
});
