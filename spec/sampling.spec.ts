/**
 * Sampling (lib/sampling.ts, through the tracer): decided once at the root as
 * a function of the trace id, inherited by every child; custom samplers,
 * their request, errors, debug; what an unsampled span does and does not do.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createTracer,
  currentSpan,
  MemoryReporter,
  sampledByRate,
  setGlobalTracer,
  startSpan,
  withSpan,
  type SamplingRequest,
  type TraceContext,
  type Tracer,
} from '../lib/index.js';
import { clearGlobalTracerAfterEach, sleep } from './helpers/tracing.js';

clearGlobalTracerAfterEach();


/** Random, valid trace ids from a tracer that records nothing. */
function randomTraceIds(n: number, traceId128Bit = true): string[] {
  const t = createTracer({ serviceName: 'ids', global: false, traceId128Bit });
  return Array.from({ length: n }, () => t.newTrace({ sampled: false }).context.traceId);
}

function undecided(traceId: string, spanId = 'abcdef0123456789'): TraceContext {
  return { traceId, spanId, sampled: undefined, debug: false, shared: false };
}

describe('sampledByRate', () => {
  it('is all or nothing at the ends, and ignores the id there', () => {
    for (const id of ['ffffffffffffffffffffffffffffffff', '00000000000000000000000000000001', 'not even hex']) {
      expect(sampledByRate(id, 1)).toBe(true);
      expect(sampledByRate(id, 1.5)).toBe(true);
      expect(sampledByRate(id, 0)).toBe(false);
      expect(sampledByRate(id, -1)).toBe(false);
    }
  });

  it('is deterministic: the same id and rate always give the same answer', () => {
    for (const id of randomTraceIds(500)) {
      const first = sampledByRate(id, 0.37);
      for (let i = 0; i < 3; i++) expect(sampledByRate(id, 0.37)).toBe(first);
    }
  });

  it('depends on the low 52 bits: low values are sampled, high ones are not', () => {
    expect(sampledByRate('ffffffffffffffff' + '0000000000000001', 0.01)).toBe(true);
    expect(sampledByRate('0000000000000000' + '000fffffffffffff', 0.99)).toBe(false);
    expect(sampledByRate('000' + '8000000000000', 0.5)).toBe(false);
    expect(sampledByRate('000' + '7ffffffffffff', 0.5)).toBe(true);
    // 128- and 64-bit ids with the same low bits agree.
    expect(sampledByRate('1234567890abcdef' + '0001234567890abc', 0.3)).toBe(sampledByRate('0001234567890abc', 0.3));
  });

  it('decides exactly as parseInt of the last 13 hex digits does, whatever the id holds', () => {
    // The decision other ziptrace services make on the same id: the digits read one by one must agree with it everywhere.
    const byParseInt = (id: string, rate: number): boolean => parseInt(id.slice(-13), 16) / 2 ** 52 < rate;
    const rates = [1e-9, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999999];
    const ids = [
      ...randomTraceIds(2000),
      ...randomTraceIds(2000, false),
      // Exactly at, just under and just over the thresholds of rates 0.5 and 0.25, and the extremes.
      '000' + '8000000000000',
      '000' + '7ffffffffffff',
      '0000000000000000' + '0004000000000000',
      '0000000000000000' + '0003ffffffffffff',
      'ffffffffffffffff' + 'ffffffffffffffff',
      'ffffffffffffffff' + '0000000000000001',
      // A caller's own context may carry anything: upper case, a non-hex digit, fewer than 13 characters.
      'ABCDEF0123456789ABCDEF0123456789',
      '0123456789abcdef0123456789abcdeg',
      '0123456789abcdef01234567-9abcdef',
      'abc',
      '',
    ];
    for (const id of ids) for (const rate of rates) expect(sampledByRate(id, rate), `${id} at ${rate}`).toBe(byParseInt(id, rate));
  });

  it('is monotonic in the rate: sampled at r means sampled at every higher rate', () => {
    for (const id of randomTraceIds(500)) {
      let seenTrue = false;
      for (const rate of [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]) {
        const sampled = sampledByRate(id, rate);
        if (seenTrue) expect(sampled).toBe(true);
        seenTrue ||= sampled;
      }
    }
  });

  it('with rate 0.5 samples roughly half of 10,000 random ids (and ~10% at 0.1), 128- and 64-bit', () => {
    for (const bits128 of [true, false]) {
      const ids = randomTraceIds(10_000, bits128);
      const half = ids.filter((id) => sampledByRate(id, 0.5)).length;
      const tenth = ids.filter((id) => sampledByRate(id, 0.1)).length;
      // Six standard deviations (50 and 30) either side.
      expect(half).toBeGreaterThan(4700);
      expect(half).toBeLessThan(5300);
      expect(tenth).toBeGreaterThan(820);
      expect(tenth).toBeLessThan(1180);
    }
  });
});

describe('the tracer’s decision', () => {
  it('is sampledByRate of the new trace id', () => {
    const t = createTracer({ serviceName: 'rate', sampleRate: 0.3 });
    let recorded = 0;
    for (let i = 0; i < 2000; i++) {
      const span = t.startSpan('root');
      expect(span.isRecording).toBe(sampledByRate(span.context.traceId, 0.3));
      expect(span.context.sampled).toBe(span.isRecording);
      if (span.isRecording) recorded++;
    }
    expect(recorded).toBeGreaterThan(0);
    expect(recorded).toBeLessThan(2000);
  });

  it('agrees with sampledByRate for every root and join at rates below, at and above one half, the unsampled ids made only when read', () => {
    for (const traceId128Bit of [true, false]) {
      for (const rate of [0.1, 0.25, 0.5, 0.75]) {
        const t = createTracer({ serviceName: 'rate', sampleRate: rate, traceId128Bit, global: false });
        const n = 4000;
        let recorded = 0;
        for (let i = 0; i < n; i++) {
          const span = i % 2 === 0 ? t.startSpan('root') : t.joinSpan(undefined, 'GET', { kind: 'SERVER' });
          // An unsampled root's ids wait to be read (reading span.context makes them), except above one half.
          if (!span.isRecording) expect((span as unknown as { _context?: unknown })._context !== undefined, `rate ${rate}`).toBe(rate > 0.5);
          const { traceId, spanId, sampled } = span.context;
          expect(traceId).toMatch(traceId128Bit ? /^[0-9a-f]{32}$/ : /^[0-9a-f]{16}$/);
          expect(spanId).toBe(traceId.slice(-16));
          expect(sampledByRate(traceId, rate), `${traceId} at ${rate}`).toBe(span.isRecording);
          expect(sampled).toBe(span.isRecording);
          if (span.isRecording) recorded++;
        }
        // Six standard deviations either side of n × rate.
        const sd = Math.sqrt(n * rate * (1 - rate));
        expect(recorded, `rate ${rate}`).toBeGreaterThan(n * rate - 6 * sd);
        expect(recorded, `rate ${rate}`).toBeLessThan(n * rate + 6 * sd);
      }
    }
  });

  it('defaults to sampling everything; sampleRate 0 samples nothing', () => {
    const all = createTracer({ serviceName: 'all' });
    const none = createTracer({ serviceName: 'none', sampleRate: 0 });
    for (let i = 0; i < 200; i++) {
      expect(all.startSpan('x').isRecording).toBe(true);
      expect(none.startSpan('x').isRecording).toBe(false);
    }
  });

  it('is made once at the root and inherited by every descendant', async () => {
    const requests: SamplingRequest[] = [];
    let answer = true;
    const t = createTracer({
      serviceName: 'inherit',
      sampler: (req) => {
        requests.push(req);
        return answer;
      },
    });
    for (const decision of [true, false]) {
      answer = decision;
      requests.length = 0;
      await t.withSpan('root', async (root) => {
        expect(root.context.sampled).toBe(decision);
        answer = !decision; // would flip any later decision
        await t.withSpan('child', async (child) => {
          await sleep(1);
          expect(child.context.sampled).toBe(decision);
          expect(startSpan('grandchild').context.sampled).toBe(decision);
          expect(t.newChild(child).context.sampled).toBe(decision);
        });
      });
      expect(requests).toHaveLength(1);
    }
  });

  it('two tracers with the same rate agree when joining the same undecided context', () => {
    const a = createTracer({ serviceName: 'a', sampleRate: 0.5 });
    const b = createTracer({ serviceName: 'b', sampleRate: 0.5, global: false });
    const outcomes = new Set<boolean>();
    for (const id of randomTraceIds(500)) {
      const ctx = undecided(id);
      const fromA = a.joinSpan(ctx).context.sampled;
      const fromB = b.joinSpan(ctx).context.sampled;
      expect(fromA).toBe(fromB);
      expect(fromA).toBe(sampledByRate(id, 0.5));
      outcomes.add(fromA!);
      // A child of the undecided context decides the same way.
      expect(b.newChild(ctx).context.sampled).toBe(fromA);
    }
    expect([...outcomes].sort()).toEqual([false, true]);
  });

  it('keeps a decision that the context already carries', () => {
    const t = createTracer({ serviceName: 'keep', sampleRate: 0 });
    const id = randomTraceIds(1)[0]!;
    expect(t.joinSpan({ ...undecided(id), sampled: true }).isRecording).toBe(true);
    expect(t.newChild({ ...undecided(id), sampled: true }).isRecording).toBe(true);
    const always = createTracer({ serviceName: 'always', global: false });
    expect(always.joinSpan({ ...undecided(id), sampled: false }).isRecording).toBe(false);
    expect(always.startSpan('c', { parent: { ...undecided(id), sampled: false } }).isRecording).toBe(false);
  });
});

describe('custom sampler', () => {
  it('true and false override the rate; undefined defers to it', () => {
    let answer: boolean | undefined;
    const zero = createTracer({ serviceName: 'zero', sampleRate: 0, sampler: () => answer });
    const one = createTracer({ serviceName: 'one', sampleRate: 1, sampler: () => answer, global: false });
    answer = true;
    expect(zero.startSpan('x').isRecording).toBe(true);
    answer = false;
    expect(one.startSpan('x').isRecording).toBe(false);
    answer = undefined;
    expect(zero.startSpan('x').isRecording).toBe(false);
    expect(one.startSpan('x').isRecording).toBe(true);
  });

  it('a non-boolean answer defers to the rate', () => {
    const t = createTracer({ serviceName: 'odd', sampleRate: 0, sampler: () => 1 as unknown as boolean });
    expect(t.startSpan('x').isRecording).toBe(false);
  });

  it('is asked with { traceId, name, kind, tags, parent } for a root', () => {
    const requests: SamplingRequest[] = [];
    const t = createTracer({ serviceName: 'req', sampler: (r) => (requests.push(r), undefined) });
    const tags = { 'http.route': '/health' };
    const span = t.startSpan('GET /health', { kind: 'SERVER', tags });
    expect(requests).toEqual([{ traceId: span.context.traceId, name: 'GET /health', kind: 'SERVER', tags, parent: undefined }]);
    requests.length = 0;
    const plain = t.withSpan('plain', (s) => s);
    expect(requests).toEqual([{ traceId: plain.context.traceId, name: 'plain', kind: undefined, tags: undefined, parent: undefined }]);
    requests.length = 0;
    const fresh = t.newTrace({ name: 'fresh' });
    expect(requests).toEqual([{ traceId: fresh.context.traceId, name: 'fresh', kind: undefined, tags: undefined, parent: undefined }]);
  });

  it('is asked with the parent when joining or continuing a context without a decision', () => {
    const requests: SamplingRequest[] = [];
    const t = createTracer({ serviceName: 'req', sampler: (r) => (requests.push(r), false) });
    const ctx = undecided('463ac35c9f6413ad48485a3953bb6124', 'a2fb4a1d1a96d312');
    const joined = t.joinSpan(ctx, 'server');
    expect(joined.isRecording).toBe(false);
    expect(requests).toEqual([{ traceId: ctx.traceId, name: 'server', kind: undefined, tags: undefined, parent: ctx }]);
    requests.length = 0;
    t.startSpan('child', { parent: ctx, kind: 'CLIENT', tags: { a: 1 } });
    expect(requests).toEqual([{ traceId: ctx.traceId, name: 'child', kind: 'CLIENT', tags: { a: 1 }, parent: ctx }]);
  });

  it('a throwing sampler is caught, counted, and defers to the rate', () => {
    const t = createTracer({
      serviceName: 'throws',
      sampleRate: 0,
      sampler: () => {
        throw new Error('sampler bug');
      },
    });
    expect(() => t.startSpan('a')).not.toThrow();
    expect(t.startSpan('b').isRecording).toBe(false);
    expect(() => t.withSpan('c', () => 'ran')).not.toThrow();
    expect(t.joinSpan(undecided('463ac35c9f6413ad48485a3953bb6124')).isRecording).toBe(false);
    expect(t.stats().samplerErrors).toBe(4);
  });
});

describe('debug', () => {
  it('forces sampling over the rate and a sampler that says no, and flows to children', () => {
    const reporter = new MemoryReporter();
    const t = createTracer({ serviceName: 'debug', reporter, sampleRate: 0, sampler: () => false });
    const root = t.newTrace({ debug: true, name: 'root' });
    expect(root.isRecording).toBe(true);
    expect(root.context).toMatchObject({ sampled: true, debug: true });
    const child = t.newChild(root, 'child');
    expect(child.context).toMatchObject({ sampled: true, debug: true });
    child.finish();
    root.finish();
    expect(reporter.spans.map((s) => [s.name, s.debug])).toEqual([
      ['child', true],
      ['root', true],
    ]);

    const joined = t.joinSpan({ ...undecided('463ac35c9f6413ad48485a3953bb6124'), sampled: false, debug: true });
    expect(joined.isRecording).toBe(true);
    expect(joined.context.debug).toBe(true);
  });
});

describe('an unsampled span', () => {
  it('records and reports nothing, is not recording, and its context flows to children', async () => {
    const reporter = new MemoryReporter();
    const t = createTracer({ serviceName: 'unsampled', reporter, sampleRate: 0 });
    await withSpan('root', async (root) => {
      expect(root.isRecording).toBe(false);
      expect(root.context.sampled).toBe(false);
      expect(currentSpan()).toBe(root);
      root.tag('a', 'b').annotate('x').setError(new Error('e'));
      await sleep(1);
      await withSpan('child', async (child) => {
        expect(child.isRecording).toBe(false);
        expect(child.context.traceId).toBe(root.context.traceId);
        expect(child.context.parentId).toBe(root.context.spanId);
        expect(child.context.sampled).toBe(false);
        expect(child.context.spanId).toMatch(/^[0-9a-f]{16}$/);
        expect(child.context.spanId).not.toBe(root.context.spanId);
        const grandchild = startSpan('grandchild');
        expect(grandchild.context).toMatchObject({ traceId: root.context.traceId, parentId: child.context.spanId, sampled: false });
        grandchild.finish();
      });
    });
    expect(reporter.spans).toEqual([]);
    expect(t.stats()).toMatchObject({ spansReported: 0, spansDropped: 0 });
  });
});

describe('the ids of an unsampled root made without looking at them (sampleRate 0 or at most one half, no sampler)', () => {
  it('are made when first read, valid, and the same on every later read', () => {
    const t = createTracer({ serviceName: 'lazy', sampleRate: 0, global: false });
    const ids = new Set<string>();
    for (const traceId128Bit of [true, false]) {
      const tracer = traceId128Bit ? t : createTracer({ serviceName: 'lazy64', sampleRate: 0, traceId128Bit, global: false });
      for (let i = 0; i < 100; i++) {
        const span = tracer.startSpan('x');
        const context = span.context;
        expect(span.context).toBe(context);
        expect(context).toMatchObject({ sampled: false, debug: false, shared: false, parentId: undefined, source: 'local' });
        expect(context.traceId).toMatch(traceId128Bit ? /^[0-9a-f]{32}$/ : /^[0-9a-f]{16}$/);
        expect(context.spanId).toMatch(/^[0-9a-f]{16}$/);
        ids.add(context.traceId);
      }
    }
    expect(ids.size).toBe(200);
  });

  it('go out in headers and are the ones children and the active span carry', async () => {
    const t = createTracer({ serviceName: 'lazy', sampleRate: 0, global: false });
    await t.withSpan('root', async (root) => {
      await null;
      const child = t.startSpan('child');
      const headers: Record<string, string> = {};
      t.inject(root, headers);
      expect(headers).toMatchObject({ 'x-b3-traceid': root.context.traceId, 'x-b3-spanid': root.context.spanId, 'x-b3-sampled': '0' });
      expect(child.context).toMatchObject({ traceId: root.context.traceId, parentId: root.context.spanId, sampled: false });
      expect(t.currentSpan()?.context).toBe(root.context);
    });
  });

  it('are not made by making the span active or binding to it, which every unsampled server request does', () => {
    const t = createTracer({ serviceName: 'lazy', sampleRate: 0, global: false });
    const span = t.startSpan('x');
    // Whether the ids exist yet is only visible inside: reading span.context would make them.
    const made = (): boolean => (span as unknown as { _context?: unknown })._context !== undefined;
    t.withActive(span, () => {
      expect(t.currentSpan()).toBe(span);
    });
    t.bindEmitter(new EventEmitter(), span).on('x', () => {});
    t.bind(() => {}, span)();
    expect(made()).toBe(false);
    const headers: Record<string, string> = {};
    t.inject(span, headers);
    expect(made()).toBe(true);
    expect(headers).toMatchObject({ 'x-b3-traceid': span.context.traceId, 'x-b3-sampled': '0' });
  });

  it('are made at the start when a sampler must see the trace id, or a rate above one half decides', () => {
    const made = (span: unknown): boolean => (span as { _context?: unknown })._context !== undefined;
    const seen: string[] = [];
    const sampler = createTracer({ serviceName: 's', sampleRate: 0, sampler: (req) => (seen.push(req.traceId), false), global: false });
    const span = sampler.startSpan('x');
    expect(made(span)).toBe(true);
    expect(seen).toEqual([span.context.traceId]);
    const high = createTracer({ serviceName: 'h', sampleRate: 0.75, global: false });
    const unsampledHigh = Array.from({ length: 200 }, () => high.startSpan('x')).filter((s) => !s.isRecording);
    expect(unsampledHigh.length).toBeGreaterThan(10);
    for (const s of unsampledHigh) expect(made(s)).toBe(true);
    // At a low rate the decision is made on the id's bytes, and the ids of an unsampled root wait to be read.
    const low = createTracer({ serviceName: 'r', sampleRate: 0.000001, global: false });
    const unsampled = Array.from({ length: 50 }, () => low.startSpan('x')).filter((s) => !s.isRecording);
    expect(unsampled.length).toBeGreaterThan(40);
    for (const s of unsampled) {
      expect(made(s)).toBe(false);
      expect(sampledByRate(s.context.traceId, 0.000001)).toBe(false);
    }
  });

  it('a bare b3: 0 from a caller (a decision, no ids) gives a root whose ids wait too, at any rate', () => {
    for (const rate of [0, 0.3, 1]) {
      const t = createTracer({ serviceName: 'b3-0', sampleRate: rate, global: false });
      const span = t.joinSpan(t.extract({ b3: '0' }), 'GET', { kind: 'SERVER' });
      expect(span.isRecording).toBe(false);
      expect((span as unknown as { _context?: unknown })._context).toBeUndefined();
      expect(span.context).toMatchObject({ sampled: false, debug: false, parentId: undefined, source: 'local' });
    }
  });
});
