/**
 * Several formats at once (lib/propagation/composite.ts) and the tracer's
 * `propagation` options.
 *
 *   - extraction tries single `b3`, then B3 multi, then `traceparent`; the first valid one wins;
 *   - injection writes B3 multi plus `traceparent` (and `tracestate`);
 *   - when a B3 format wins, `tracestate` is kept only if `traceparent` is valid and carries the
 *     same trace id (a 64-bit B3 id matching its zero-padded W3C form);
 *   - `extract`, `inject`, `propagator`, `trustSampling`, `trustDebug` change all that.
 */
import { describe, expect, it } from 'vitest';
import {
  CompositePropagator,
  createTracer,
  defaultGetter,
  defaultSetter,
  MemoryReporter,
  type ExtractedContext,
  type Getter,
  type Propagator,
  type Setter,
  type TraceContext,
  type Tracer,
  type TracerOptions,
} from '../../lib/index.js';
import { ctx, essentials, expectWellFormed } from './helpers.js';

const T1 = '11111111111111111111111111111111';
const S1 = '1111111111111111';
const T2 = '22222222222222222222222222222222';
const S2 = '2222222222222222';
const T3 = '33333333333333333333333333333333';
const S3 = '3333333333333333';
const T64 = '4444444444444444';
const S4 = '4444444444444444';

const SINGLE = { b3: `${T1}-${S1}-1` };
const BAD_SINGLE = { b3: `${T1}-${S1}-x` };
const MULTI = { 'x-b3-traceid': T2, 'x-b3-spanid': S2, 'x-b3-sampled': '0' };
const BAD_MULTI = { 'x-b3-traceid': T2, 'x-b3-spanid': 'not-a-span-id', 'x-b3-sampled': '1' };
const W3C = { traceparent: `00-${T3}-${S3}-01` };
const BAD_W3C = { traceparent: `ff-${T3}-${S3}-01` };

function tracerWith(options: Partial<TracerOptions> = {}): Tracer {
  return createTracer({ serviceName: 'composite-spec', reporter: new MemoryReporter(), global: false, ...options });
}

const ORDER_ROWS: { name: string; headers: Record<string, string>; want: Record<string, unknown> | undefined }[] = [
  { name: 'all three valid: single b3 wins', headers: { ...SINGLE, ...MULTI, ...W3C }, want: { traceId: T1, spanId: S1, sampled: true, source: 'b3-single' } },
  { name: 'single b3 malformed: B3 multi wins', headers: { ...BAD_SINGLE, ...MULTI, ...W3C }, want: { traceId: T2, spanId: S2, sampled: false, source: 'b3' } },
  { name: 'both B3 malformed: traceparent wins', headers: { ...BAD_SINGLE, ...BAD_MULTI, ...W3C }, want: { traceId: T3, spanId: S3, sampled: true, source: 'w3c' } },
  { name: 'all malformed: nothing', headers: { ...BAD_SINGLE, ...BAD_MULTI, ...BAD_W3C }, want: undefined },
  { name: 'B3 multi and traceparent: B3 multi wins', headers: { ...MULTI, ...W3C }, want: { traceId: T2, source: 'b3' } },
  { name: 'single b3 and traceparent: single wins', headers: { ...SINGLE, ...W3C }, want: { traceId: T1, source: 'b3-single' } },
  { name: 'traceparent alone', headers: W3C, want: { traceId: T3, source: 'w3c', random: false } },
  { name: 'a bare b3: 0 is valid, so it wins: a new trace, not sampled (as Brave)', headers: { b3: '0', ...MULTI, ...W3C }, want: { sampled: false, debug: false, source: 'b3-single' } },
  { name: 'a bare X-B3-Sampled: 0 wins over traceparent too', headers: { 'x-b3-sampled': '0', ...W3C }, want: { sampled: false, debug: false, source: 'b3' } },
  { name: 'a malformed B3 set takes its decision with it: traceparent wins', headers: { ...BAD_MULTI, ...W3C }, want: { traceId: T3, sampled: true, source: 'w3c' } },
  { name: 'a repeated b3 is invalid, so B3 multi is read', headers: { b3: `${T1}-${S1}-1, ${T1}-${S1}-1`, ...MULTI }, want: { traceId: T2, source: 'b3' } },
  { name: 'a repeated X-B3-TraceId is invalid, so traceparent is read', headers: { ...MULTI, 'x-b3-traceid': `${T2}, ${T2}`, ...W3C }, want: { traceId: T3, source: 'w3c' } },
];

describe('default extraction order: single b3, B3 multi, traceparent; first valid wins', () => {
  it.each(ORDER_ROWS)('$name', ({ headers, want }) => {
    for (const found of [new CompositePropagator().extract(headers), tracerWith().extract(headers)]) {
      expectWellFormed(found);
      if (want === undefined) expect(found).toBeUndefined();
      else expect(found).toMatchObject(want);
    }
  });
});

const TRACESTATE_ROWS: { name: string; headers: Record<string, string>; tracestate: string | undefined }[] = [
  { name: 'B3 multi and a traceparent of the same trace: kept', headers: { 'x-b3-traceid': T3, 'x-b3-spanid': S2, traceparent: `00-${T3}-${S3}-01`, tracestate: 'a=1' }, tracestate: 'a=1' },
  { name: 'single b3 and a traceparent of the same trace: kept', headers: { b3: `${T3}-${S1}-1`, traceparent: `00-${T3}-${S3}-01`, tracestate: 'a=1,b=2' }, tracestate: 'a=1,b=2' },
  { name: '64-bit B3 id and its zero-padded W3C form: the same trace, kept', headers: { 'x-b3-traceid': T64, 'x-b3-spanid': S4, traceparent: `00-${'0'.repeat(16)}${T64}-${S3}-01`, tracestate: 'a=1' }, tracestate: 'a=1' },
  { name: '64-bit B3 id matching only the low half of a 128-bit traceparent: another trace, dropped', headers: { 'x-b3-traceid': T64, 'x-b3-spanid': S4, traceparent: `00-${'1'.repeat(16)}${T64}-${S3}-01`, tracestate: 'a=1' }, tracestate: undefined },
  { name: 'a traceparent of another trace: dropped', headers: { ...MULTI, ...W3C, tracestate: 'a=1' }, tracestate: undefined },
  { name: 'a traceparent of the same trace id but invalid (version ff): dropped', headers: { 'x-b3-traceid': T3, 'x-b3-spanid': S2, traceparent: `ff-${T3}-${S3}-01`, tracestate: 'a=1' }, tracestate: undefined },
  { name: 'tracestate without traceparent: dropped', headers: { ...MULTI, tracestate: 'a=1' }, tracestate: undefined },
  { name: 'same trace, invalid tracestate (a key starting with @): dropped', headers: { 'x-b3-traceid': T3, 'x-b3-spanid': S2, traceparent: `00-${T3}-${S3}-01`, tracestate: 'a=1,@a=2' }, tracestate: undefined },
  { name: 'same trace, a key twice: passed on as it came (Trace Context Level 2)', headers: { 'x-b3-traceid': T3, 'x-b3-spanid': S2, traceparent: `00-${T3}-${S3}-01`, tracestate: 'a=1,a=2' }, tracestate: 'a=1,a=2' },
  { name: 'traceparent wins: its tracestate, validated', headers: { ...W3C, tracestate: ' a=1 , b=2 ' }, tracestate: 'a=1,b=2' },
];

describe('tracestate when a B3 format wins', () => {
  it.each(TRACESTATE_ROWS)('$name', ({ headers, tracestate }) => {
    for (const found of [new CompositePropagator().extract(headers), tracerWith().extract(headers)]) {
      expectWellFormed(found);
      expect((found as TraceContext).tracestate).toBe(tracestate);
    }
  });

  it('the B3 context keeps its own ids and source; tracestate and the random flag come from the traceparent of the same trace', () => {
    const found = new CompositePropagator().extract({ b3: `${T3}-${S1}-1-${S2}`, traceparent: `00-${T3}-${S3}-03`, tracestate: 'a=1' });
    expect(essentials(found)).toEqual({ traceId: T3, spanId: S1, parentId: S2, sampled: true, debug: false, source: 'b3-single', random: true, tracestate: 'a=1' });
    const notRandom = new CompositePropagator().extract({ b3: `${T3}-${S1}-1-${S2}`, traceparent: `00-${T3}-${S3}-01` });
    expect(essentials(notRandom)).toMatchObject({ source: 'b3-single', random: false });
  });

  it('a traceparent of another trace lends neither tracestate nor the random flag', () => {
    const found = new CompositePropagator().extract({ b3: `${T3}-${S1}-1`, traceparent: `00-${T1}-${S3}-03`, tracestate: 'a=1' });
    expect(essentials(found)).toMatchObject({ traceId: T3, random: false });
    expect(found).not.toHaveProperty('tracestate', 'a=1');
  });

  it('a bare b3: 0 starts a new trace: the old trace’s tracestate does not come along', () => {
    const tracer = tracerWith();
    const found = tracer.extract({ b3: '0', ...W3C, tracestate: 'a=1' });
    expect(found).toEqual({ sampled: false, debug: false, source: 'b3-single' });
    const span = tracer.startSpan('server', { parent: found });
    expect(span.context.tracestate).toBeUndefined();
    expect(span.context.traceId).not.toBe(T3);
  });
});

describe('default injection: B3 multi and traceparent', () => {
  it.each([
    ['sampled, with parent and tracestate', ctx({ traceId: T1, spanId: S1, parentId: S2, sampled: true, tracestate: 'a=1' }), { 'x-b3-traceid': T1, 'x-b3-spanid': S1, 'x-b3-parentspanid': S2, 'x-b3-sampled': '1', traceparent: `00-${T1}-${S1}-01`, tracestate: 'a=1' }],
    ['deferred', ctx({ traceId: T1, spanId: S1, random: true }), { 'x-b3-traceid': T1, 'x-b3-spanid': S1, traceparent: `00-${T1}-${S1}-02` }],
    ['debug', ctx({ traceId: T64, spanId: S1, sampled: true, debug: true }), { 'x-b3-traceid': T64, 'x-b3-spanid': S1, 'x-b3-flags': '1', traceparent: `00-${'0'.repeat(16)}${T64}-${S1}-01` }],
    ['a bare decision: B3 only', { sampled: false, debug: false }, { 'x-b3-sampled': '0' }],
  ] as [string, ExtractedContext, Record<string, string>][])('%s', (_name, context, want) => {
    const direct: Record<string, string> = {};
    new CompositePropagator().inject(context, direct);
    expect(direct).toEqual(want);
    const viaTracer: Record<string, string> = {};
    tracerWith().inject(context, viaTracer);
    expect(viaTracer).toEqual(want);
  });

  it('fields lists every header read or written, once', () => {
    expect([...new CompositePropagator().fields].sort()).toEqual(['b3', 'traceparent', 'tracestate', 'x-b3-flags', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid']);
    expect([...new CompositePropagator({ extract: ['w3c'], inject: ['w3c'] }).fields].sort()).toEqual(['traceparent', 'tracestate']);
  });
});

/**
 * A format of the spec's own, to plug in: `x-request-trace: <traceId>:<spanId>:<0|1>`.
 * A real implementation, not a stub: it parses, validates and writes.
 */
class ColonPropagator implements Propagator {
  readonly fields = ['x-request-trace'];
  inject(context: ExtractedContext, carrier: unknown, setter: Setter = defaultSetter): void {
    if (context.traceId === undefined) return;
    setter.set(carrier, 'x-request-trace', `${context.traceId}:${context.spanId}:${context.sampled ? 1 : 0}`);
  }
  extract(carrier: unknown, getter: Getter = defaultGetter): ExtractedContext | undefined {
    const value = getter.get(carrier, 'x-request-trace');
    if (typeof value !== 'string') return undefined;
    const match = /^([0-9a-f]{32}):([0-9a-f]{16}):([01])$/.exec(value);
    if (match === null) return undefined;
    return { traceId: match[1]!, spanId: match[2]!, sampled: match[3] === '1', debug: false, shared: false, source: 'colon' };
  }
}

describe('createTracer({ propagation })', () => {
  const everything = { ...SINGLE, ...MULTI, ...W3C };

  it.each([
    ['extract: [w3c, b3] reads traceparent first', { extract: ['w3c', 'b3'] }, everything, T3],
    ['extract: [b3] reads only B3 multi', { extract: ['b3'] }, everything, T2],
    ['extract: [b3] ignores a lone traceparent', { extract: ['b3'] }, W3C, undefined],
    ['extract: [b3-single] ignores B3 multi', { extract: ['b3-single'] }, { ...MULTI, ...W3C }, undefined],
    ['extract: [] reads nothing', { extract: [] }, everything, undefined],
    ['a propagator of one’s own among the formats', { extract: [new ColonPropagator(), 'w3c'] }, { 'x-request-trace': `${T1}:${S1}:1`, ...W3C }, T1],
    ['a propagator of one’s own that finds nothing: the next format', { extract: [new ColonPropagator(), 'w3c'] }, { 'x-request-trace': 'garbage', ...W3C }, T3],
  ] as const)('%s', (_name, propagation, headers, traceId) => {
    const found = tracerWith({ propagation: propagation as TracerOptions['propagation'] }).extract(headers);
    expect(found?.traceId).toBe(traceId);
  });

  it.each([
    ['inject: [b3-single]', { inject: ['b3-single'] }, ['b3']],
    ['inject: [b3-single, w3c]', { inject: ['b3-single', 'w3c'] }, ['b3', 'traceparent', 'tracestate']],
    ['inject: [w3c]', { inject: ['w3c'] }, ['traceparent', 'tracestate']],
    ['inject: [b3]', { inject: ['b3'] }, ['x-b3-parentspanid', 'x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid']],
    ['inject: []', { inject: [] }, []],
    ['inject: [own, b3-single]', { inject: [new ColonPropagator(), 'b3-single'] }, ['b3', 'x-request-trace']],
  ] as const)('%s writes only those headers', (_name, propagation, names) => {
    const out: Record<string, string> = {};
    tracerWith({ propagation: propagation as TracerOptions['propagation'] }).inject(ctx({ traceId: T1, spanId: S1, parentId: S2, sampled: true, tracestate: 'a=1' }), out);
    expect(Object.keys(out).sort()).toEqual(names);
  });

  it('a propagator of one’s own in a list gets the matching traceparent’s tracestate too', () => {
    const found = tracerWith({ propagation: { extract: [new ColonPropagator()] } }).extract({ 'x-request-trace': `${T3}:${S1}:1`, traceparent: `00-${T3}-${S3}-01`, tracestate: 'a=1' });
    expect(found).toMatchObject({ traceId: T3, spanId: S1, source: 'colon', tracestate: 'a=1' });
  });

  it('propagation.propagator replaces the formats, for both directions', () => {
    const tracer = tracerWith({ propagation: { propagator: new ColonPropagator() } });
    expect(tracer.extract(everything)).toBeUndefined();
    expect(tracer.extract({ 'x-request-trace': `${T1}:${S1}:0` })).toMatchObject({ traceId: T1, spanId: S1, sampled: false });
    const out: Record<string, string> = {};
    tracer.inject(ctx({ traceId: T1, spanId: S1, sampled: true }), out);
    expect(out).toEqual({ 'x-request-trace': `${T1}:${S1}:1` });
  });

  it('a propagator that throws costs nothing: extract gives undefined, inject writes nothing, neither throws', () => {
    const hostile: Propagator = {
      fields: [],
      inject() {
        throw new Error('inject broke');
      },
      extract() {
        throw new Error('extract broke');
      },
    };
    const tracer = tracerWith({ propagation: { propagator: hostile } });
    expect(tracer.extract(everything)).toBeUndefined();
    const out: Record<string, string> = {};
    expect(tracer.inject(ctx({ traceId: T1, spanId: S1 }), out)).toBeUndefined();
    expect(out).toEqual({});
    // Inside a composite, a throwing format is a format that found nothing.
    expect(tracerWith({ propagation: { extract: [hostile, 'w3c'] } }).extract(W3C)).toMatchObject({ traceId: T3 });
  });

  it.each([
    [{ extract: ['zipkin'] }, /propagation\.extract\[0\].*'b3', 'b3-single', 'w3c'/],
    [{ inject: ['b3', 'jaeger'] }, /propagation\.inject\[1\]/],
    [{ extract: 'b3' }, /propagation\.extract must be an array/],
    [{ propagator: {} }, /propagation\.propagator must have inject/],
    [{ trustSampling: 'no' }, /propagation\.trustSampling must be true or false/],
    [{ trustDebug: 1 }, /propagation\.trustDebug must be true or false/],
  ])('createTracer rejects propagation %o with a TypeError saying what is wrong', (propagation, message) => {
    expect(() => tracerWith({ propagation: propagation as unknown as TracerOptions['propagation'] })).toThrow(TypeError);
    expect(() => tracerWith({ propagation: propagation as unknown as TracerOptions['propagation'] })).toThrow(message);
  });

  it('rejects supportsJoin that is not a boolean', () => {
    expect(() => tracerWith({ supportsJoin: 'no' as unknown as boolean })).toThrow(/supportsJoin must be true or false/);
  });
});

describe('trustSampling and trustDebug, in every format', () => {
  const rows: [string, Record<string, string>, { sampled: boolean | undefined; debug: boolean }][] = [
    ['B3 multi accept', { 'x-b3-traceid': T1, 'x-b3-spanid': S1, 'x-b3-sampled': '1' }, { sampled: true, debug: false }],
    ['B3 multi debug', { 'x-b3-traceid': T1, 'x-b3-spanid': S1, 'x-b3-flags': '1' }, { sampled: true, debug: true }],
    ['single b3 deny', { b3: `${T1}-${S1}-0` }, { sampled: false, debug: false }],
    ['single b3 debug', { b3: `${T1}-${S1}-d` }, { sampled: true, debug: true }],
    ['traceparent sampled', { traceparent: `00-${T1}-${S1}-01` }, { sampled: true, debug: false }],
    ['traceparent not sampled', { traceparent: `00-${T1}-${S1}-00` }, { sampled: false, debug: false }],
    ['bare b3: 1', { b3: '1' }, { sampled: true, debug: false }],
    ['bare b3: d', { b3: 'd' }, { sampled: true, debug: true }],
  ];
  for (const [name, headers, trusted] of rows) {
    it(`${name}: trusted as it came, ignored as configured`, () => {
      const both = tracerWith().extract(headers);
      expect({ sampled: both?.sampled, debug: both?.debug }).toEqual(trusted);
      const noSampling = tracerWith({ propagation: { trustSampling: false } }).extract(headers);
      // Without trust in decisions only debug stays (and the accept it implies).
      expect({ sampled: noSampling?.sampled, debug: noSampling?.debug }).toEqual(trusted.debug ? trusted : { sampled: undefined, debug: false });
      const noDebug = tracerWith({ propagation: { trustDebug: false } }).extract(headers);
      expect({ sampled: noDebug?.sampled, debug: noDebug?.debug }).toEqual(trusted.debug ? { sampled: undefined, debug: false } : trusted);
      const neither = tracerWith({ propagation: { trustSampling: false, trustDebug: false } }).extract(headers);
      expect({ sampled: neither?.sampled, debug: neither?.debug }).toEqual({ sampled: undefined, debug: false });
      for (const found of [both, noSampling, noDebug, neither]) {
        expectWellFormed(found);
        if (headers.b3 === undefined || headers.b3.length > 1) expect(found?.traceId).toBe(T1); // the ids are always used
      }
    });
  }
});
