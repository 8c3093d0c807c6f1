/**
 * The built-in propagators' fast paths (lib/propagation/carrier.ts, b3.ts,
 * w3c.ts, composite.ts, lib/trace-context.ts) must answer exactly as the
 * general code does:
 *
 *   - a plain object (prototype Object.prototype or null) read with the default
 *     getter is read by direct property lookup only when no key could be a trace
 *     header in another spelling and Object.prototype holds no trace header's
 *     name; otherwise the case-insensitive scan (two spellings are the header
 *     repeated) decides, and the check runs again on every extract;
 *   - B3 multi reads its five headers by name, falling back to the per-header
 *     read when a value is not a string or a property getter throws;
 *   - single `b3` and `traceparent` are read by position, as the regular
 *     expressions they replaced read them;
 *   - the composite keeps tracestate and W3C's random flag for a B3 context only
 *     when traceparent is valid and of the same trace, compared as text;
 *   - contexts the library made are trusted without checking their hex again; a
 *     plain object or a spread copy is checked as before;
 *   - inject assigns a plain object's properties itself, but only with the
 *     default setter, and never on a Map, Headers or an outgoing request.
 *
 * Most tables check each answer twice: against the value written in the row,
 * and against the same carrier read through a getter of one's own that only
 * calls the default getter (`SLOW`), which no fast path may take.
 */
import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  B3MultiPropagator,
  B3SinglePropagator,
  CompositePropagator,
  createTracer,
  defaultGetter,
  defaultSetter,
  getGlobalTracer,
  MemoryReporter,
  setGlobalTracer,
  startSpan,
  W3CPropagator,
  type ExtractedContext,
  type Getter,
  type Propagator,
  type Setter,
  type TraceContext,
  type Tracer,
} from '../../lib/index.js';
import { readsDirectly } from '../../lib/propagation/carrier.js';
import { ctx, essentials, expectWellFormed } from './helpers.js';

const T = '463ac35c9f6413ad48485a3953bb6124';
const T64 = '463ac35c9f6413ad';
const S = 'a2fb4a1d1a96d312';
const P = '0020000000000001';
const T2 = '11111111111111111111111111111111';
const S2 = '2222222222222222';
/** The span id a traceparent carries (its parent-id field). */
const W = 'b7ad6b7169203331';
const TP = `00-${T}-${W}-01`;
const ZERO16 = '0000000000000000';
const ZERO32 = ZERO16 + ZERO16;

/** Reads through the default getter, but is not it: no fast path may be taken. The old code's path. */
const SLOW: Getter = { get: (carrier, name) => defaultGetter.get(carrier, name) };

const single = new B3SinglePropagator();
const multi = new B3MultiPropagator();
const w3c = new W3CPropagator();
const composite = new CompositePropagator();
const PROPAGATORS = { single, multi, w3c, composite } as const;
type Which = keyof typeof PROPAGATORS;

const fromSingle = (fields: Partial<TraceContext>): Record<string, unknown> => ({ source: 'b3-single', debug: false, random: false, ...fields });
const fromMulti = (fields: Partial<TraceContext>): Record<string, unknown> => ({ source: 'b3', debug: false, random: false, ...fields });
const fromW3C = (fields: Partial<TraceContext>): Record<string, unknown> => ({ source: 'w3c', debug: false, random: false, sampled: true, ...fields });

function tracer(): Tracer {
  return createTracer({ serviceName: 'fast-path-spec', reporter: new MemoryReporter(), global: false });
}

/** Whether a format inside a CompositePropagator gets `carrier` to read directly (the fast path). */
function readDirectly(carrier: unknown, getter?: Getter): { direct: boolean; given: Getter | undefined } {
  let direct = false;
  let given: Getter | undefined;
  const probe: Propagator = {
    fields: [],
    inject() {},
    extract(c, g) {
      given = g;
      direct = g !== undefined && readsDirectly(g, c);
      return undefined;
    },
  };
  new CompositePropagator({ extract: [probe] }).extract(carrier, getter);
  return { direct, given };
}

/** What each propagator in `which` extracts, as essentials(); the SLOW reading must agree with the fast one. */
function extractEach(carrier: unknown, which: readonly Which[] = ['single', 'multi', 'w3c', 'composite']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of which) {
    const propagator = PROPAGATORS[name];
    let fast: ExtractedContext | undefined;
    expect(() => (fast = propagator.extract(carrier)), `${name} must not throw`).not.toThrow();
    expectWellFormed(fast);
    const slow = propagator.extract(carrier, SLOW);
    expect(essentials(fast), `${name}: the fast path and the general one agree`).toEqual(essentials(slow));
    out[name] = essentials(fast);
  }
  return out;
}

/** `{ [name]: value as a Buffer }`, as a message header arrives, when latin1 can hold the value (not \u2028, say). */
function asBytes(name: string, value: string): Record<string, Buffer>[] {
  const bytes = Buffer.from(value, 'latin1');
  return bytes.toString('latin1') === value ? [{ [name]: bytes }] : [];
}

function withNullPrototype<V>(entries: Record<string, V>): Record<string, V> {
  return Object.assign(Object.create(null) as Record<string, V>, entries);
}

describe('which carriers are read by direct lookup', () => {
  class Carrier {
    traceparent = TP;
  }
  const rows: [string, boolean, unknown][] = [
    ['Node-style headers, every key lower case', true, { host: 'example', 'user-agent': 'curl', traceparent: TP, 'x-b3-traceid': T, 'x-b3-spanid': S }],
    ['an empty object', true, {}],
    ['a null-prototype object with lower-case headers', true, withNullPrototype({ traceparent: TP, b3: '1' })],
    ['b3 and B3: two spellings', false, { b3: '1', B3: '1' }],
    ['canonical X-B3-TraceId alone', false, { 'X-B3-TraceId': T }],
    ['lower-case x-b3-spanid beside canonical X-B3-TraceId', false, { 'x-b3-spanid': S, 'X-B3-TraceId': T }],
    ['TraceParent', false, { TraceParent: TP }],
    ['X-B3-PARENTSPANID', false, { 'X-B3-PARENTSPANID': P }],
    ['an object with another prototype', false, Object.assign(Object.create({}) as object, { traceparent: TP })],
    ['a class instance', false, new Carrier()],
    ['a Map', false, new Map([['traceparent', TP]])],
    ['fetch Headers', false, new Headers({ traceparent: TP })],
  ];
  it.each(rows)('%s: read directly %s', (_name, want, carrier) => {
    expect(readDirectly(carrier).direct).toBe(want);
  });

  it('a getter of one’s own is handed on as it is, never replaced by the direct reader', () => {
    const { direct, given } = readDirectly({ traceparent: TP }, SLOW);
    expect(direct).toBe(false);
    expect(given).toBe(SLOW);
  });

  it('Object.prototype holding a trace header’s name (enumerable or not) turns the direct reading off', () => {
    for (const enumerable of [true, false]) {
      try {
        Object.defineProperty(Object.prototype, 'x-b3-flags', { value: '1', enumerable, configurable: true, writable: true });
        expect(readDirectly({ 'x-b3-traceid': T }).direct).toBe(false);
      } finally {
        delete (Object.prototype as Record<string, unknown>)['x-b3-flags'];
      }
    }
    expect(readDirectly({ 'x-b3-traceid': T }).direct).toBe(true);
  });
});

describe('plain objects: the fast path answers as the case-insensitive scan does', () => {
  const nodeStyle = {
    host: 'example',
    'user-agent': 'curl/8',
    accept: '*/*',
    b3: `${T}-${S}-1-${P}`,
    'x-b3-traceid': T2,
    'x-b3-spanid': S2,
    'x-b3-sampled': '0',
    traceparent: `00-${T}-${W}-03`,
    tracestate: 'a=1',
  };
  const rows: { name: string; carrier: object; want: Partial<Record<Which, Record<string, unknown> | undefined>> }[] = [
    {
      name: 'every trace header in lower case, beside other headers',
      carrier: nodeStyle,
      want: {
        single: fromSingle({ traceId: T, spanId: S, parentId: P, sampled: true }),
        multi: fromMulti({ traceId: T2, spanId: S2, sampled: false }),
        w3c: fromW3C({ traceId: T, spanId: W, random: true, tracestate: 'a=1' }),
        composite: fromSingle({ traceId: T, spanId: S, parentId: P, sampled: true, random: true, tracestate: 'a=1' }),
      },
    },
    {
      name: 'the same, in a null-prototype object',
      carrier: withNullPrototype(nodeStyle),
      want: { composite: fromSingle({ traceId: T, spanId: S, parentId: P, sampled: true, random: true, tracestate: 'a=1' }) },
    },
    {
      name: 'b3 and B3 are b3 repeated: invalid, so B3 multi wins',
      carrier: { b3: `${T}-${S}-1`, B3: `${T}-${S}-1`, 'x-b3-traceid': T2, 'x-b3-spanid': S2 },
      want: { single: undefined, multi: fromMulti({ traceId: T2, spanId: S2 }), composite: fromMulti({ traceId: T2, spanId: S2 }) },
    },
    {
      name: 'b3 and B3 in a null-prototype object: repeated too',
      carrier: withNullPrototype({ b3: '1', B3: '0' }),
      want: { single: undefined, composite: undefined },
    },
    {
      name: 'x-b3-traceid and X-B3-TraceId: repeated, so traceparent wins',
      carrier: { 'x-b3-traceid': T2, 'X-B3-TraceId': T2, 'x-b3-spanid': S2, traceparent: TP },
      want: { multi: undefined, composite: fromW3C({ traceId: T, spanId: W }) },
    },
    {
      name: 'traceparent and TraceParent: repeated, nothing',
      carrier: { traceparent: TP, TraceParent: TP },
      want: { w3c: undefined, composite: undefined },
    },
    {
      name: 'tracestate and TraceState are joined, as repeated tracestate lines are',
      carrier: { traceparent: TP, tracestate: 'a=1', TraceState: 'b=2' },
      want: { w3c: fromW3C({ traceId: T, spanId: W, tracestate: 'a=1,b=2' }) },
    },
    {
      name: 'canonical names only (X-B3-TraceId, X-B3-SpanId, X-B3-ParentSpanId, X-B3-Sampled, X-B3-Flags)',
      carrier: { 'X-B3-TraceId': T, 'X-B3-SpanId': S, 'X-B3-ParentSpanId': P, 'X-B3-Sampled': '0', 'X-B3-Flags': '1' },
      want: { multi: fromMulti({ traceId: T, spanId: S, parentId: P, sampled: true, debug: true }) },
    },
    {
      name: 'B3 in upper case alone',
      carrier: { B3: `${T64}-${S}-d` },
      want: { single: fromSingle({ traceId: T64, spanId: S, sampled: true, debug: true }) },
    },
    {
      name: 'TraceParent and TraceState alone',
      carrier: { TraceParent: TP, TraceState: 'a=1' },
      want: { w3c: fromW3C({ traceId: T, spanId: W, tracestate: 'a=1' }) },
    },
    {
      name: 'mixed: lower-case x-b3-spanid, canonical X-B3-TraceId and X-B3-Sampled',
      carrier: { 'x-b3-spanid': S, 'X-B3-TraceId': T, 'X-B3-Sampled': '1' },
      want: { multi: fromMulti({ traceId: T, spanId: S, sampled: true }) },
    },
    {
      name: 'mixed: lower-case ids, canonical X-B3-Flags: 1',
      carrier: { 'x-b3-traceid': T, 'x-b3-spanid': S, 'X-B3-Flags': '1' },
      want: { multi: fromMulti({ traceId: T, spanId: S, sampled: true, debug: true }) },
    },
    {
      name: 'mixed: lower-case traceparent, Tracestate',
      carrier: { traceparent: TP, Tracestate: 'a=1' },
      want: { w3c: fromW3C({ traceId: T, spanId: W, tracestate: 'a=1' }) },
    },
    {
      name: 'unrelated upper-case headers of a trace header’s length (X-Powered-By, Timing-Allow, Bx) beside lower-case trace headers',
      carrier: { 'X-Powered-By': 'Express', 'Timing-Allow': '*', Bx: '1', 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': '1' },
      want: { multi: fromMulti({ traceId: T, spanId: S, sampled: true }) },
    },
    {
      name: 'names one character off a trace header’s are not it',
      carrier: { 'x-b3-traceld': T, 'x-b3-spanid': S, tracepar3nt: TP, b4: `${T}-${S}` },
      want: { single: undefined, multi: undefined, w3c: undefined, composite: undefined },
    },
  ];
  it.each(rows)('$name', ({ carrier, want }) => {
    const got = extractEach(carrier);
    for (const [name, value] of Object.entries(want)) expect(got[name], name).toEqual(value);
  });

  it('the tracer’s extract answers as the composite does', () => {
    expect(essentials(tracer().extract(rows[0]!.carrier))).toEqual(rows[0]!.want.composite);
    expect(tracer().extract({ b3: `${T}-${S}-1`, B3: `${T}-${S}-1` })).toBeUndefined();
  });
});

describe('the check runs on every extract', () => {
  it('B3 added beside b3 after an extract makes the next extract see b3 repeated', () => {
    const carrier: Record<string, string> = { b3: `${T}-${S}-1` };
    for (const propagator of [single, composite]) expect(essentials(propagator.extract(carrier))).toEqual(fromSingle({ traceId: T, spanId: S, sampled: true }));
    carrier.B3 = `${T}-${S}-1`;
    for (const propagator of [single, composite]) expect(propagator.extract(carrier)).toBeUndefined();
    delete carrier.B3;
    expect(essentials(composite.extract(carrier))).toEqual(fromSingle({ traceId: T, spanId: S, sampled: true }));
  });

  it('TraceParent added after an extract: traceparent repeated; X-B3-TraceId added: the trace id repeated', () => {
    const carrier: Record<string, string> = { traceparent: TP, 'x-b3-traceid': T, 'x-b3-spanid': S };
    expect(essentials(w3c.extract(carrier))).toEqual(fromW3C({ traceId: T, spanId: W }));
    expect(essentials(multi.extract(carrier))).toEqual(fromMulti({ traceId: T, spanId: S }));
    carrier.TraceParent = TP;
    carrier['X-B3-TraceId'] = T;
    expect(w3c.extract(carrier)).toBeUndefined();
    expect(multi.extract(carrier)).toBeUndefined();
    expect(composite.extract(carrier)).toBeUndefined();
  });

  it('Object.prototype polluted after an extract of the same carrier lends it nothing', () => {
    const carrier = { 'x-b3-traceid': T, 'x-b3-spanid': S };
    expect(essentials(composite.extract(carrier))).toEqual(fromMulti({ traceId: T, spanId: S }));
    const proto = Object.prototype as Record<string, unknown>;
    try {
      proto['x-b3-flags'] = '1';
      proto['x-b3-sampled'] = '0';
      proto['x-b3-parentspanid'] = P;
      expect((carrier as Record<string, unknown>)['x-b3-flags']).toBe('1'); // the pollution is real
      expect(essentials(composite.extract(carrier))).toEqual(fromMulti({ traceId: T, spanId: S }));
      expect(essentials(multi.extract(carrier))).toEqual(fromMulti({ traceId: T, spanId: S }));
    } finally {
      delete proto['x-b3-flags'];
      delete proto['x-b3-sampled'];
      delete proto['x-b3-parentspanid'];
    }
  });
});

describe('no value comes from a prototype', () => {
  /** Each trace header polluted alone, with a value that would change the answer if it were read. */
  const rows: { name: string; value: string; carrier: Record<string, string>; want: Record<string, unknown> | undefined }[] = [
    { name: 'b3', value: `${T}-${S}-1`, carrier: { 'x-b3-traceid': T2, 'x-b3-spanid': S2 }, want: fromMulti({ traceId: T2, spanId: S2 }) },
    { name: 'x-b3-traceid', value: T, carrier: { 'x-b3-spanid': S, 'x-b3-sampled': '1' }, want: undefined },
    { name: 'x-b3-spanid', value: S, carrier: { 'x-b3-traceid': T, 'x-b3-sampled': '1' }, want: undefined },
    { name: 'x-b3-parentspanid', value: P, carrier: { 'x-b3-traceid': T, 'x-b3-spanid': S }, want: fromMulti({ traceId: T, spanId: S }) },
    { name: 'x-b3-sampled', value: '0', carrier: { 'x-b3-traceid': T, 'x-b3-spanid': S }, want: fromMulti({ traceId: T, spanId: S }) },
    { name: 'x-b3-flags', value: '1', carrier: { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': '0' }, want: fromMulti({ traceId: T, spanId: S, sampled: false }) },
    { name: 'traceparent', value: TP, carrier: { tracestate: 'a=1' }, want: undefined },
    { name: 'tracestate', value: 'evil=1', carrier: { traceparent: TP }, want: fromW3C({ traceId: T, spanId: W }) },
  ];
  for (const enumerable of [true, false]) {
    it.each(rows)(`Object.prototype[$name] (${enumerable ? 'enumerable' : 'not enumerable'}) is not read`, ({ name, value, carrier, want }) => {
      try {
        Object.defineProperty(Object.prototype, name, { value, enumerable, configurable: true, writable: true });
        expect(({} as Record<string, unknown>)[name]).toBe(value); // the pollution is real
        expect(essentials(composite.extract(carrier))).toEqual(want);
        expect(essentials(tracer().extract(carrier))).toEqual(want);
        expect(composite.extract({})).toBeUndefined();
        for (const propagator of [single, multi, w3c]) expect(propagator.extract({})).toBeUndefined();
        // A null-prototype object cannot inherit it, and still reads its own headers.
        expect(essentials(composite.extract(withNullPrototype(carrier)))).toEqual(want);
      } finally {
        delete (Object.prototype as Record<string, unknown>)[name];
      }
      expect(({} as Record<string, unknown>)[name]).toBeUndefined();
    });
  }

  it('a carrier made with Object.create(proto) does not read the prototype’s trace headers', () => {
    const proto = { traceparent: TP, b3: `${T}-${S}-1`, 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': '1' };
    const carrier = Object.create(proto) as Record<string, unknown>;
    expect(carrier.traceparent).toBe(TP);
    expect(extractEach(carrier)).toEqual({ single: undefined, multi: undefined, w3c: undefined, composite: undefined });
  });

  it('own headers of such a carrier are read, its prototype’s decision, flags and tracestate are not', () => {
    const carrier = Object.assign(Object.create({ 'x-b3-sampled': '0', 'x-b3-flags': '1', 'x-b3-parentspanid': P, tracestate: 'evil=1' }) as object, {
      'x-b3-traceid': T,
      'x-b3-spanid': S,
      traceparent: `00-${T}-${W}-02`,
    });
    const got = extractEach(carrier);
    expect(got.multi).toEqual(fromMulti({ traceId: T, spanId: S }));
    expect(got.w3c).toEqual(fromW3C({ traceId: T, spanId: W, sampled: false, random: true }));
    expect(got.composite).toEqual(fromMulti({ traceId: T, spanId: S, random: true }));
  });

  it('a carrier whose prototype is a null-prototype object with headers reads none of them', () => {
    const carrier = Object.create(withNullPrototype({ traceparent: TP, b3: '1' })) as object;
    expect(extractEach(carrier)).toEqual({ single: undefined, multi: undefined, w3c: undefined, composite: undefined });
  });
});

describe('a property getter that throws', () => {
  function throwing(base: Record<string, unknown>, name: string): Record<string, unknown> {
    let calls = 0;
    const carrier = Object.defineProperty({ ...base }, name, {
      enumerable: true,
      configurable: true,
      get() {
        calls++;
        throw new Error(`boom ${calls}`);
      },
    });
    return carrier;
  }
  const ids = { 'x-b3-traceid': T, 'x-b3-spanid': S };
  const rows: { name: string; header: string; base: Record<string, unknown>; want: Partial<Record<Which, Record<string, unknown> | undefined>> }[] = [
    // readSingle gives INVALID for the header; for X-B3-Flags INVALID is "not debug", and the rest stands.
    { name: 'x-b3-flags throws beside valid ids and X-B3-Sampled: 1: not debug, the rest stands', header: 'x-b3-flags', base: { ...ids, 'x-b3-sampled': '1' }, want: { multi: fromMulti({ traceId: T, spanId: S, sampled: true }), composite: fromMulti({ traceId: T, spanId: S, sampled: true }) } },
    { name: 'x-b3-flags throws beside X-B3-Sampled: 0: not debug, so not sampled', header: 'x-b3-flags', base: { ...ids, 'x-b3-sampled': '0' }, want: { multi: fromMulti({ traceId: T, spanId: S, sampled: false }) } },
    { name: 'x-b3-flags throws beside ids alone: deferred', header: 'x-b3-flags', base: ids, want: { multi: fromMulti({ traceId: T, spanId: S }) } },
    { name: 'x-b3-traceid throws: no B3 context', header: 'x-b3-traceid', base: { 'x-b3-spanid': S, 'x-b3-sampled': '1' }, want: { multi: undefined, composite: undefined } },
    { name: 'x-b3-traceid throws: traceparent wins', header: 'x-b3-traceid', base: { 'x-b3-spanid': S, traceparent: TP }, want: { multi: undefined, composite: fromW3C({ traceId: T, spanId: W }) } },
    { name: 'x-b3-spanid throws: no B3 context', header: 'x-b3-spanid', base: { 'x-b3-traceid': T, 'x-b3-sampled': '1' }, want: { multi: undefined } },
    { name: 'x-b3-parentspanid throws: the set is malformed', header: 'x-b3-parentspanid', base: { ...ids, 'x-b3-sampled': '1' }, want: { multi: undefined } },
    { name: 'x-b3-sampled throws: the set is malformed', header: 'x-b3-sampled', base: ids, want: { multi: undefined } },
    { name: 'b3 throws: B3 multi wins', header: 'b3', base: ids, want: { single: undefined, composite: fromMulti({ traceId: T, spanId: S }) } },
    { name: 'traceparent throws: nothing', header: 'traceparent', base: { tracestate: 'a=1' }, want: { w3c: undefined, composite: undefined } },
    { name: 'tracestate throws: traceparent without it', header: 'tracestate', base: { traceparent: TP }, want: { w3c: fromW3C({ traceId: T, spanId: W }) } },
    { name: 'tracestate throws while B3 of the same trace wins: the random flag still comes, tracestate does not', header: 'tracestate', base: { ...ids, traceparent: `00-${T}-${W}-03` }, want: { composite: fromMulti({ traceId: T, spanId: S, random: true }) } },
    { name: 'an unrelated header throws: never read', header: 'cookie', base: { ...ids, 'x-b3-sampled': '1', traceparent: TP }, want: { multi: fromMulti({ traceId: T, spanId: S, sampled: true }), w3c: fromW3C({ traceId: T, spanId: W }) } },
  ];
  it.each(rows)('$name', ({ header, base, want }) => {
    const got = extractEach(throwing(base, header));
    for (const [name, value] of Object.entries(want)) expect(got[name], name).toEqual(value);
    expect(() => tracer().extract(throwing(base, header))).not.toThrow();
  });
});

describe('values that are not strings, read directly', () => {
  const buf = (text: string): Buffer => Buffer.from(text, 'latin1');
  const rows: { name: string; carrier: Record<string, unknown>; want: Partial<Record<Which, Record<string, unknown> | undefined>> }[] = [
    { name: 'b3 as a Buffer (Kafka)', carrier: { b3: buf(`${T}-${S}-1-${P}`) }, want: { single: fromSingle({ traceId: T, spanId: S, parentId: P, sampled: true }) } },
    { name: 'traceparent and tracestate as Buffers', carrier: { traceparent: buf(TP), tracestate: buf('a=1') }, want: { w3c: fromW3C({ traceId: T, spanId: W, tracestate: 'a=1' }) } },
    {
      name: 'all five B3 multi headers as Buffers',
      carrier: { 'x-b3-traceid': buf(T), 'x-b3-spanid': buf(S), 'x-b3-parentspanid': buf(P), 'x-b3-sampled': buf('0'), 'x-b3-flags': buf('1') },
      want: { multi: fromMulti({ traceId: T, spanId: S, parentId: P, sampled: true, debug: true }) },
    },
    { name: 'only x-b3-traceid a Buffer, the rest strings', carrier: { 'x-b3-traceid': buf(T), 'x-b3-spanid': S, 'x-b3-sampled': '1' }, want: { multi: fromMulti({ traceId: T, spanId: S, sampled: true }) } },
    { name: 'x-b3-spanid a Uint8Array', carrier: { 'x-b3-traceid': T, 'x-b3-spanid': new TextEncoder().encode(S) }, want: { multi: fromMulti({ traceId: T, spanId: S }) } },
    { name: 'traceparent as a one-value array (headersDistinct)', carrier: { traceparent: [TP] }, want: { w3c: fromW3C({ traceId: T, spanId: W }) } },
    { name: 'traceparent as an array of two: repeated, invalid', carrier: { traceparent: [TP, TP] }, want: { w3c: undefined, composite: undefined } },
    { name: 'traceparent as an empty array', carrier: { traceparent: [] }, want: { w3c: undefined } },
    { name: 'b3 as a one-value array', carrier: { b3: [`${T}-${S}-0`] }, want: { single: fromSingle({ traceId: T, spanId: S, sampled: false }) } },
    { name: 'b3 as an array of two: invalid, B3 multi wins', carrier: { b3: ['1', '1'], ...{ 'x-b3-traceid': T2, 'x-b3-spanid': S2 } }, want: { single: undefined, composite: fromMulti({ traceId: T2, spanId: S2 }) } },
    { name: 'x-b3-traceid as an array of two: invalid, traceparent wins', carrier: { 'x-b3-traceid': [T, T], 'x-b3-spanid': S, traceparent: TP }, want: { multi: undefined, composite: fromW3C({ traceId: T, spanId: W }) } },
    { name: 'x-b3-traceid as a one-value array', carrier: { 'x-b3-traceid': [T], 'x-b3-spanid': S }, want: { multi: fromMulti({ traceId: T, spanId: S }) } },
    { name: 'x-b3-flags as [1]: debug', carrier: { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-flags': ['1'] }, want: { multi: fromMulti({ traceId: T, spanId: S, sampled: true, debug: true }) } },
    { name: 'x-b3-flags as [1, 1]: repeated, not debug', carrier: { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-flags': ['1', '1'] }, want: { multi: fromMulti({ traceId: T, spanId: S }) } },
    { name: 'x-b3-flags the number 1: not a header value, not debug', carrier: { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-flags': 1 }, want: { multi: fromMulti({ traceId: T, spanId: S }) } },
    { name: 'x-b3-sampled as [1]', carrier: { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': ['1'] }, want: { multi: fromMulti({ traceId: T, spanId: S, sampled: true }) } },
    { name: 'x-b3-sampled the number 1: malformed', carrier: { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': 1 }, want: { multi: undefined } },
    { name: 'x-b3-sampled null: absent, deferred', carrier: { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': null }, want: { multi: fromMulti({ traceId: T, spanId: S }) } },
    { name: 'x-b3-traceid the number 1: malformed', carrier: { 'x-b3-traceid': 1, 'x-b3-spanid': S }, want: { multi: undefined } },
    { name: 'tracestate as two values: joined', carrier: { traceparent: TP, tracestate: ['a=1', 'b=2'] }, want: { w3c: fromW3C({ traceId: T, spanId: W, tracestate: 'a=1,b=2' }) } },
    { name: 'tracestate null: none', carrier: { traceparent: TP, tracestate: null }, want: { w3c: fromW3C({ traceId: T, spanId: W }) } },
    { name: 'b3 null: absent, traceparent wins', carrier: { b3: null, traceparent: TP }, want: { single: undefined, composite: fromW3C({ traceId: T, spanId: W }) } },
    { name: 'traceparent the number 1, b3 true: neither is read', carrier: { traceparent: 1, b3: true }, want: { single: undefined, w3c: undefined, composite: undefined } },
    { name: 'traceparent a String object: not coerced', carrier: { traceparent: new String(TP) }, want: { w3c: undefined } },
  ];
  it.each(rows)('$name', ({ carrier, want }) => {
    expect(readDirectly(carrier).direct).toBe(true); // each row is on the fast path
    const got = extractEach(carrier);
    for (const [name, value] of Object.entries(want)) expect(got[name], name).toEqual(value);
  });
});

describe('a carrier with no trace header at all: the built-in formats are not asked', () => {
  // Node's headers of a request from outside any trace (autocannon's, a browser's, a health check's).
  const untraced = () => ({ host: 'localhost:3000', connection: 'keep-alive', 'user-agent': 'curl/8.0', accept: '*/*', 'x-request-id': 'r1' });
  const FORMATS = [B3SinglePropagator, B3MultiPropagator, W3CPropagator] as const;
  let spies: ReturnType<typeof vi.spyOn>[] = [];
  beforeEach(() => {
    spies = FORMATS.map((format) => vi.spyOn(format.prototype, 'extract'));
  });
  afterEach(() => {
    for (const spy of spies) spy.mockRestore();
  });
  const calls = () => spies.map((spy) => spy.mock.calls.length);

  it('the default composite and the tracer answer undefined without calling a format', () => {
    const tracer = createTracer({ serviceName: 'svc', reporter: new MemoryReporter(), global: false });
    expect(new CompositePropagator().extract(untraced())).toBeUndefined();
    expect(tracer.extract(untraced())).toBeUndefined();
    expect(calls()).toEqual([0, 0, 0]);
  });

  it('any trace header, even a bare decision, and every format is asked as before', () => {
    const composite = new CompositePropagator();
    expect(essentials(composite.extract({ ...untraced(), 'x-b3-sampled': '0' }))).toEqual({ sampled: false, debug: false, source: 'b3' });
    expect(calls()).toEqual([1, 1, 0]);
    expect(composite.extract({ ...untraced(), tracestate: 'a=1' })).toBeUndefined(); // tracestate alone is no context
    expect(calls()).toEqual([2, 2, 1]);
  });

  it('a trace header in another spelling, or a getter of one’s own: the formats read it', () => {
    const composite = new CompositePropagator();
    expect(essentials(composite.extract({ ...untraced(), 'X-B3-TraceId': T, 'X-B3-SpanId': S }))).toEqual(fromMulti({ traceId: T, spanId: S }));
    const getter: Getter = { get: (carrier, name) => (name === 'traceparent' ? TP : defaultGetter.get(carrier, name)) };
    expect(essentials(composite.extract(untraced(), getter))).toEqual(fromW3C({ traceId: T, spanId: W }));
  });

  it('a propagator of one’s own in the list is asked (its header is none of the eight), and so are the formats beside it', () => {
    const own: Propagator = {
      fields: ['x-request-id'],
      inject() {},
      extract: (carrier) => ((carrier as Record<string, unknown>)['x-request-id'] === 'r1' ? { traceId: T, spanId: S, sampled: true, debug: false, shared: false, source: 'own' } : undefined),
    };
    expect(essentials(new CompositePropagator({ extract: ['b3', own] }).extract(untraced()))).toEqual({ traceId: T, spanId: S, sampled: true, debug: false, source: 'own' });
    expect(calls()).toEqual([0, 1, 0]);
    // A built-in format given as an instance rather than by name is asked too.
    expect(new CompositePropagator({ extract: [new W3CPropagator()] }).extract(untraced())).toBeUndefined();
    expect(calls()).toEqual([0, 1, 1]);
  });
});

describe('a propagator of one’s own inside a CompositePropagator', () => {
  /** Reads `x-custom-id: <traceId>:<spanId>` with the getter it is given, and records what it saw. */
  class CustomPropagator implements Propagator {
    readonly fields = ['x-custom-id'];
    seen: { value: unknown; direct: boolean }[] = [];
    constructor(private readonly header = 'x-custom-id') {}
    inject(): void {}
    extract(carrier: unknown, getter: Getter = defaultGetter): ExtractedContext | undefined {
      const value = getter.get(carrier, this.header);
      this.seen.push({ value, direct: readsDirectly(getter, carrier) });
      if (typeof value !== 'string') return undefined;
      const [traceId, spanId] = value.split(':');
      return { traceId: traceId!, spanId: spanId!, sampled: true, debug: false, shared: false, source: 'custom' };
    }
  }

  it('finds its own header given as X-Custom-Id, asked for as x-custom-id', () => {
    const user = new CustomPropagator();
    const found = new CompositePropagator({ extract: [user, 'b3'] }).extract({ 'X-Custom-Id': `${T}:${S}`, 'x-b3-traceid': T2, 'x-b3-spanid': S2 });
    expect(user.seen.map((s) => s.value)).toEqual([`${T}:${S}`]);
    expect(essentials(found)).toEqual({ traceId: T, spanId: S, sampled: true, debug: false, source: 'custom' });
  });

  it('finds a header in another case through the direct reader it is given (X-Custom-Trace on a lower-case carrier)', () => {
    const user = new CustomPropagator('x-custom-trace');
    const carrier = { 'X-Custom-Trace': `${T}:${S}`, 'x-b3-traceid': T2, 'x-b3-spanid': S2, traceparent: `00-${T}-${W}-03`, tracestate: 'a=1' };
    const found = new CompositePropagator({ extract: [user, 'b3'] }).extract(carrier);
    expect(user.seen).toEqual([{ value: `${T}:${S}`, direct: true }]); // the fast path, and still the full match for other names
    expect(essentials(found)).toEqual({ traceId: T, spanId: S, sampled: true, debug: false, source: 'custom', tracestate: 'a=1', random: true });
  });

  it('when it finds nothing, the next format reads the same carrier right', () => {
    const user = new CustomPropagator('x-custom-trace');
    const found = new CompositePropagator({ extract: [user, 'b3'] }).extract({ 'x-b3-traceid': T2, 'x-b3-spanid': S2, 'x-b3-sampled': '1' });
    expect(user.seen).toEqual([{ value: undefined, direct: true }]);
    expect(essentials(found)).toEqual(fromMulti({ traceId: T2, spanId: S2, sampled: true }));
  });

  it('the getter it is given, used on other carriers, reads them by the full case-insensitive match', () => {
    const answers: unknown[] = [];
    const other = {
      map: new Map([['X-Custom-Trace', 'from-map']]),
      upper: { 'X-B3-TraceId': T2 },
      twoSpellings: { b3: '0', B3: '1' },
      lower: { traceparent: TP },
      headers: new Headers({ TraceParent: TP }),
    };
    let getterGiven: Getter | undefined;
    const user: Propagator = {
      fields: [],
      inject() {},
      extract(_carrier, getter) {
        getterGiven = getter;
        const g = getter!;
        answers.push(g.get(other.map, 'x-custom-trace'), g.get(other.upper, 'x-b3-traceid'), g.get(other.twoSpellings, 'b3'), g.get(other.lower, 'traceparent'), g.get(other.headers, 'traceparent'));
        return undefined;
      },
    };
    const carrier: Record<string, string> = { traceparent: `00-${T2}-${W}-01` };
    const found = new CompositePropagator({ extract: [user, 'w3c'] }).extract(carrier);
    expect(answers).toEqual(['from-map', T2, ['0', '1'], TP, TP]);
    expect(essentials(found)).toEqual(fromW3C({ traceId: T2, spanId: W }));
    // Kept after the extract, the getter reads even the carrier it was given by the full match.
    carrier.TraceParent = TP;
    expect(getterGiven!.get(carrier, 'traceparent')).toEqual([`00-${T2}-${W}-01`, TP]);
  });

  it('a built-in propagator it calls on another carrier with that getter answers right, and so do the formats after it', () => {
    const innerW3C = new W3CPropagator();
    const inner: unknown[] = [];
    const user: Propagator = {
      fields: [],
      inject() {},
      extract(_carrier, getter) {
        inner.push(essentials(innerW3C.extract({ traceparent: TP, TraceParent: TP }, getter))); // repeated: invalid
        inner.push(essentials(innerW3C.extract({ traceparent: `00-${T2}-${W}-01` }, getter)));
        inner.push(essentials(innerW3C.extract(new Map([['TRACEPARENT', TP]]), getter)));
        return undefined;
      },
    };
    const found = new CompositePropagator({ extract: [user, 'b3', 'w3c'] }).extract({ 'x-b3-traceid': T, 'x-b3-spanid': S, traceparent: `00-${T}-${W}-02`, tracestate: 'a=1' });
    expect(inner).toEqual([undefined, fromW3C({ traceId: T2, spanId: W }), fromW3C({ traceId: T, spanId: W })]);
    expect(essentials(found)).toEqual(fromMulti({ traceId: T, spanId: S, tracestate: 'a=1', random: true }));
  });
});

describe('single b3, read by position', () => {
  const rows: [string, string, Record<string, unknown> | undefined][] = [
    // Each valid form.
    ['128-bit trace id and span id: deferred', `${T}-${S}`, fromSingle({ traceId: T, spanId: S })],
    ['64-bit trace id and span id: deferred', `${T64}-${S}`, fromSingle({ traceId: T64, spanId: S })],
    ['128-bit, accept', `${T}-${S}-1`, fromSingle({ traceId: T, spanId: S, sampled: true })],
    ['128-bit, deny', `${T}-${S}-0`, fromSingle({ traceId: T, spanId: S, sampled: false })],
    ['128-bit, debug', `${T}-${S}-d`, fromSingle({ traceId: T, spanId: S, sampled: true, debug: true })],
    ['64-bit, accept', `${T64}-${S}-1`, fromSingle({ traceId: T64, spanId: S, sampled: true })],
    ['64-bit, debug', `${T64}-${S}-d`, fromSingle({ traceId: T64, spanId: S, sampled: true, debug: true })],
    ['128-bit, accept, parent', `${T}-${S}-1-${P}`, fromSingle({ traceId: T, spanId: S, parentId: P, sampled: true })],
    ['128-bit, deny, parent', `${T}-${S}-0-${P}`, fromSingle({ traceId: T, spanId: S, parentId: P, sampled: false })],
    ['128-bit, debug, parent', `${T}-${S}-d-${P}`, fromSingle({ traceId: T, spanId: S, parentId: P, sampled: true, debug: true })],
    ['64-bit, deny, parent', `${T64}-${S}-0-${P}`, fromSingle({ traceId: T64, spanId: S, parentId: P, sampled: false })],
    ['128-bit, deferred, parent: {t}-{s}-{p}', `${T}-${S}-${P}`, fromSingle({ traceId: T, spanId: S, parentId: P })],
    ['64-bit, deferred, parent: {t}-{s}-{p}', `${T64}-${S}-${P}`, fromSingle({ traceId: T64, spanId: S, parentId: P })],
    ['an all-zero parent is no parent', `${T}-${S}-1-${ZERO16}`, fromSingle({ traceId: T, spanId: S, sampled: true })],
    ['an all-zero deferred parent is no parent', `${T64}-${S}-${ZERO16}`, fromSingle({ traceId: T64, spanId: S })],
    ['a 128-bit id with a zero upper half is kept as 32 characters', `${ZERO16}${T64}-${S}-1`, fromSingle({ traceId: `${ZERO16}${T64}`, spanId: S, sampled: true })],
    ['a 128-bit id with a dash at 16 is a 64-bit id, a span id and a deferred parent (it is one)', `${T.slice(0, 16)}-${T.slice(16)}-${S}`, fromSingle({ traceId: T.slice(0, 16), spanId: T.slice(16), parentId: S })],
    ['optional white space around the value', ` \t${T}-${S}-1-${P}\t `, fromSingle({ traceId: T, spanId: S, parentId: P, sampled: true })],
    ['decision alone: 0', '0', { sampled: false, debug: false, source: 'b3-single' }],
    ['decision alone: 1', '1', { sampled: true, debug: false, source: 'b3-single' }],
    ['decision alone: d', 'd', { sampled: true, debug: true, source: 'b3-single' }],
    ['decision alone with white space', ' 1 ', { sampled: true, debug: false, source: 'b3-single' }],
    // Wrong lengths: one character short or long in each field.
    ['128-bit trace id one short (31)', `${T.slice(1)}-${S}-1`, undefined],
    ['128-bit trace id one long (33)', `${T}a-${S}-1`, undefined],
    ['64-bit trace id one short (15)', `${T64.slice(1)}-${S}-1`, undefined],
    ['64-bit trace id one long (17)', `${T64}a-${S}-1`, undefined],
    ['span id one short (15)', `${T}-${S.slice(1)}-1`, undefined],
    ['span id one long (17)', `${T}-${S}a-1`, undefined],
    ['span id one short, deferred', `${T}-${S.slice(1)}`, undefined],
    ['span id one long, deferred', `${T}-${S}a`, undefined],
    ['parent one short (15)', `${T}-${S}-1-${P.slice(1)}`, undefined],
    ['parent one long (17)', `${T}-${S}-1-${P}0`, undefined],
    ['deferred parent one short (15)', `${T}-${S}-${P.slice(1)}`, undefined],
    ['deferred parent one long (17)', `${T}-${S}-${P}0`, undefined],
    ['sampling state of two characters', `${T}-${S}-11`, undefined],
    ['sampling state of two characters, parent', `${T}-${S}-11-${P}`, undefined],
    // Upper-case and other non-hex.
    ['upper-case trace id', `${T.toUpperCase()}-${S}-1`, undefined],
    ['one upper-case trace id digit', `${T.slice(0, 3)}A${T.slice(4)}-${S}-1`, undefined],
    ['upper-case span id', `${T}-${S.toUpperCase()}-1`, undefined],
    ['upper-case parent', `${T}-${S}-1-ABCDEF0123456789`, undefined],
    ['upper-case deferred parent', `${T}-${S}-ABCDEF0123456789`, undefined],
    ['a g in the span id', `${T}-${S.slice(0, 15)}g-1`, undefined],
    // Dashes missing or moved.
    ['no dash between trace and span ids', `${T}${S}-1`, undefined],
    ['no dash between span id and sampling state', `${T}-${S}1`, undefined],
    ['no dash between sampling state and parent', `${T}-${S}-1${P}`, undefined],
    ['the first dash one to the left', `${T.slice(0, 31)}-${T[31]}${S}-1`, undefined],
    ['the first dash one to the right', `${T}${S[0]}-${S.slice(1)}-1`, undefined],
    ['the second dash one to the left', `${T}-${S.slice(0, 15)}-${S[15]}1`, undefined],
    ['a 64-bit first dash one to the left', `${T64.slice(0, 15)}-${T64[15]}${S}-1`, undefined],
    ['underscores for dashes', `${T}_${S}_1`, undefined],
    ['an underscore for the first dash', `${T}_${S}-1`, undefined],
    ['an underscore for the first dash, deferred', `${T}_${S}`, undefined],
    ['an underscore for the first dash, 64-bit', `${T64}_${S}`, undefined],
    ['an underscore for the second dash', `${T}-${S}_1`, undefined],
    ['an underscore for the second dash, parent', `${T}-${S}_1-${P}`, undefined],
    ['an underscore for the second dash, deferred parent', `${T}-${S}_${P}`, undefined],
    ['an underscore for the third dash', `${T}-${S}-1_${P}`, undefined],
    ['two dashes before the sampling state', `${T}-${S}--1`, undefined],
    ['two dashes before the parent', `${T}-${S}-1--${P}`, undefined],
    // Sampling state other than 0, 1 or d.
    ['sampling state 2', `${T}-${S}-2`, undefined],
    ['sampling state D', `${T}-${S}-D`, undefined],
    ['sampling state x with parent', `${T}-${S}-x-${P}`, undefined],
    ['sampling state t', `${T64}-${S}-t`, undefined],
    // Empty or extra fields.
    ['{t}-{s}-1- (empty parent)', `${T}-${S}-1-`, undefined],
    ['{t}-{s}- (empty sampling state)', `${T}-${S}-`, undefined],
    ['{t}-{s}-1-{p}- (a fifth field)', `${T}-${S}-1-${P}-`, undefined],
    ['{t}-{s}-1-{p}x', `${T}-${S}-1-${P}x`, undefined],
    ['{t}-{s}-{p}-1 (parent before the state)', `${T}-${S}-${P}-1`, undefined],
    ['trace id alone', T, undefined],
    ['trace id and a dash', `${T}-`, undefined],
    ['empty', '', undefined],
    // All-zero ids.
    ['all-zero 128-bit trace id', `${ZERO32}-${S}-1`, undefined],
    ['all-zero 64-bit trace id', `${ZERO16}-${S}-1`, undefined],
    ['all-zero span id', `${T}-${ZERO16}-1`, undefined],
    // White space inside is not trimmed.
    ['a space before the second dash', `${T}-${S} -1`, undefined],
    ['a space after the second dash', `${T}-${S}- 1`, undefined],
    ['a space before the first dash', `${T} -${S}-1`, undefined],
    ['a space inside the parent', `${T}-${S}-1-${P.slice(0, 8)} ${P.slice(9)}`, undefined],
    ['a newline at the end', `${T}-${S}-1\n`, undefined],
    ['a comma: repeated', `${T}-${S}-1,`, undefined],
    // Bare decisions are exact.
    ['decision 00', '00', undefined],
    ['decision D', 'D', undefined],
    ['decision true', 'true', undefined],
    ['decision 1-', '1-', undefined],
  ];
  it.each(rows)('%s: %j', (_name, value, want) => {
    for (const carrier of [{ b3: value }, new Map([['B3', value]]), ...asBytes('b3', value)]) {
      const found = single.extract(carrier);
      expectWellFormed(found);
      expect(essentials(found)).toEqual(want);
    }
  });
});

describe('traceparent, read by position', () => {
  const rows: [string, string, Record<string, unknown> | undefined][] = [
    ['version 00, sampled', `00-${T}-${W}-01`, fromW3C({ traceId: T, spanId: W })],
    ['version 00, not sampled', `00-${T}-${W}-00`, fromW3C({ traceId: T, spanId: W, sampled: false })],
    ['version 00, random only', `00-${T}-${W}-02`, fromW3C({ traceId: T, spanId: W, sampled: false, random: true })],
    ['version 00, sampled and random', `00-${T}-${W}-03`, fromW3C({ traceId: T, spanId: W, random: true })],
    ['version 00, other flag bits ignored (09)', `00-${T}-${W}-09`, fromW3C({ traceId: T, spanId: W })],
    ['version 00, every flag bit (ff)', `00-${T}-${W}-ff`, fromW3C({ traceId: T, spanId: W, random: true })],
    ['version 00, a 64-bit id zero-padded', `00-${ZERO16}${T64}-${W}-01`, fromW3C({ traceId: `${ZERO16}${T64}`, spanId: W })],
    ['version 00, white space around', ` \t00-${T}-${W}-01\t `, fromW3C({ traceId: T, spanId: W })],
    ['later version cc, exactly 55 characters', `cc-${T}-${W}-01`, fromW3C({ traceId: T, spanId: W })],
    ['later version cc with a tail', `cc-${T}-${W}-01-what-the-future-will-be`, fromW3C({ traceId: T, spanId: W })],
    ['later version cc with a lone dash', `cc-${T}-${W}-02-`, fromW3C({ traceId: T, spanId: W, sampled: false, random: true })],
    ['later version 01', `01-${T}-${W}-03-x`, fromW3C({ traceId: T, spanId: W, random: true })],
    ['later version fe', `fe-${T}-${W}-00`, fromW3C({ traceId: T, spanId: W, sampled: false })],
    // Version 00 is exactly 55 characters.
    ['version 00 with a tail', `00-${T}-${W}-01-x`, undefined],
    ['version 00 with a lone dash', `00-${T}-${W}-01-`, undefined],
    ['version 00, flags one short', `00-${T}-${W}-0`, undefined],
    ['version 00, flags one long', `00-${T}-${W}-010`, undefined],
    ['version 00, a newline at the end', `00-${T}-${W}-01\n`, undefined],
    ['version ff', `ff-${T}-${W}-01`, undefined],
    ['version ff with a tail', `ff-${T}-${W}-01-x`, undefined],
    ['version FF', `FF-${T}-${W}-01`, undefined],
    ['version Cc (upper-case hex)', `Cc-${T}-${W}-01`, undefined],
    ['version of one character', `0-${T}-${W}-01`, undefined],
    ['version of three characters', `000-${T}-${W}-01`, undefined],
    ['version gg', `gg-${T}-${W}-01`, undefined],
    // A later version's tail.
    ['later version, tail not starting with a dash', `cc-${T}-${W}-01x`, undefined],
    ['later version, tail starting with a dot', `cc-${T}-${W}-01.x`, undefined],
    ['later version, tail with \\n', `cc-${T}-${W}-01-a\nb`, undefined],
    ['later version, tail ending with \\n', `cc-${T}-${W}-01-\n`, undefined],
    ['later version, tail with \\r', `cc-${T}-${W}-01-a\rb`, undefined],
    ['later version, tail with \\u2028', `cc-${T}-${W}-01-a\u2028b`, undefined],
    ['later version, tail with \\u2029', `cc-${T}-${W}-01-a\u2029b`, undefined],
    ['later version, a tab inside the tail is allowed', `cc-${T}-${W}-01-a\tb`, fromW3C({ traceId: T, spanId: W })],
    ['later version, two values joined (a comma in the tail)', `cc-${T}-${W}-01-x, cc-${T}-${W}-01`, undefined],
    ['later version, a comma in the tail', `cc-${T}-${W}-01-a,b`, undefined],
    ['later version, flags one short', `cc-${T}-${W}-0`, undefined],
    ['later version, all-zero trace id', `cc-${ZERO32}-${W}-01-x`, undefined],
    ['later version, upper-case parent id', `cc-${T}-${W.toUpperCase()}-01`, undefined],
    // Hex.
    ['upper-case trace id', `00-${T.toUpperCase()}-${W}-01`, undefined],
    ['upper-case parent id', `00-${T}-${W.toUpperCase()}-01`, undefined],
    ['upper-case flags', `00-${T}-${W}-0A`, undefined],
    ['flags not hex (0g)', `00-${T}-${W}-0g`, undefined],
    ['flags not hex (x1)', `00-${T}-${W}-x1`, undefined],
    ['a g in the trace id', `00-${T.slice(0, 31)}g-${W}-01`, undefined],
    // All-zero ids.
    ['all-zero trace id', `00-${ZERO32}-${W}-01`, undefined],
    ['all-zero parent id', `00-${T}-${ZERO16}-01`, undefined],
    // Dashes at the wrong places, the length right.
    ['trace id 33, parent id 15', `00-${T}0-${W.slice(1)}-01`, undefined],
    ['trace id 31, parent id 17', `00-${T.slice(1)}-${W}0-01`, undefined],
    ['version 3 characters, trace id 31', `000-${T.slice(1)}-${W}-01`, undefined],
    ['parent id 17, flags 1', `00-${T}-${W}0-1`, undefined],
    ['underscore for the first dash', `00_${T}-${W}-01`, undefined],
    ['underscore for the second dash', `00-${T}_${W}-01`, undefined],
    ['underscore for the third dash', `00-${T}-${W}_01`, undefined],
    ['a 64-bit trace id', `00-${T64}-${W}-01`, undefined],
    ['empty', '', undefined],
    ['a comma: repeated', `00-${T}-${W}-01,`, undefined],
  ];
  it.each(rows)('%s: %j', (_name, value, want) => {
    for (const carrier of [{ traceparent: value }, new Map([['TraceParent', value]]), ...asBytes('traceparent', value)]) {
      const found = w3c.extract(carrier);
      expectWellFormed(found);
      expect(essentials(found)).toEqual(want);
    }
  });
});

describe('tracestate and the random flag join a B3 context only for the same trace', () => {
  const rows: { name: string; headers: Record<string, unknown>; want: Record<string, unknown> }[] = [
    { name: 'B3 single 128-bit, traceparent of the same trace, flags 02: tracestate and random kept', headers: { b3: `${T}-${S}-1`, traceparent: `00-${T}-${W}-02`, tracestate: 'a=1' }, want: fromSingle({ traceId: T, spanId: S, sampled: true, random: true, tracestate: 'a=1' }) },
    { name: 'B3 multi 128-bit, same trace, flags 03', headers: { 'x-b3-traceid': T, 'x-b3-spanid': S, traceparent: `00-${T}-${W}-03`, tracestate: 'a=1' }, want: fromMulti({ traceId: T, spanId: S, random: true, tracestate: 'a=1' }) },
    { name: 'same trace, flags 01: tracestate kept, not random', headers: { 'x-b3-traceid': T, 'x-b3-spanid': S, traceparent: `00-${T}-${W}-01`, tracestate: 'a=1' }, want: fromMulti({ traceId: T, spanId: S, tracestate: 'a=1' }) },
    { name: 'same trace, flags 02, no tracestate: random only', headers: { b3: `${T}-${S}-0`, traceparent: `00-${T}-${W}-02` }, want: fromSingle({ traceId: T, spanId: S, sampled: false, random: true }) },
    { name: 'same trace, flags 00, no tracestate: nothing added', headers: { b3: `${T}-${S}-0`, traceparent: `00-${T}-${W}-00` }, want: fromSingle({ traceId: T, spanId: S, sampled: false }) },
    { name: 'same trace, invalid tracestate: random still kept', headers: { b3: `${T}-${S}`, traceparent: `00-${T}-${W}-02`, tracestate: '@bad=1' }, want: fromSingle({ traceId: T, spanId: S, random: true }) },
    { name: 'another trace id: neither kept', headers: { b3: `${T}-${S}-1`, traceparent: `00-${T2}-${W}-03`, tracestate: 'a=1' }, want: fromSingle({ traceId: T, spanId: S, sampled: true }) },
    { name: 'a trace id one digit off: neither kept', headers: { b3: `${T}-${S}-1`, traceparent: `00-${T.slice(0, 31)}5-${W}-03`, tracestate: 'a=1' }, want: fromSingle({ traceId: T, spanId: S, sampled: true }) },
    { name: 'a trace id off in its first digit: neither kept', headers: { b3: `${T}-${S}-1`, traceparent: `00-5${T.slice(1)}-${W}-03`, tracestate: 'a=1' }, want: fromSingle({ traceId: T, spanId: S, sampled: true }) },
    { name: '64-bit B3 multi id and its zero-padded W3C form: kept', headers: { 'x-b3-traceid': T64, 'x-b3-spanid': S, traceparent: `00-${ZERO16}${T64}-${W}-03`, tracestate: 'a=1' }, want: fromMulti({ traceId: T64, spanId: S, random: true, tracestate: 'a=1' }) },
    { name: '64-bit B3 single id and its zero-padded W3C form: kept', headers: { b3: `${T64}-${S}-1`, traceparent: `00-${ZERO16}${T64}-${W}-02`, tracestate: 'a=1' }, want: fromSingle({ traceId: T64, spanId: S, sampled: true, random: true, tracestate: 'a=1' }) },
    { name: '64-bit B3 id as the upper half of the W3C id: another trace', headers: { b3: `${T64}-${S}-1`, traceparent: `00-${T64}${ZERO16}-${W}-03`, tracestate: 'a=1' }, want: fromSingle({ traceId: T64, spanId: S, sampled: true }) },
    { name: '64-bit B3 id, a W3C upper half not all zero: another trace', headers: { b3: `${T64}-${S}-1`, traceparent: `00-${'0'.repeat(15)}1${T64}-${W}-03`, tracestate: 'a=1' }, want: fromSingle({ traceId: T64, spanId: S, sampled: true }) },
    { name: '128-bit B3 id with a zero upper half and the same W3C id: kept', headers: { b3: `${ZERO16}${T64}-${S}-1`, traceparent: `00-${ZERO16}${T64}-${W}-03`, tracestate: 'a=1' }, want: fromSingle({ traceId: `${ZERO16}${T64}`, spanId: S, sampled: true, random: true, tracestate: 'a=1' }) },
    { name: 'same trace, all-zero parent id: invalid, not kept', headers: { b3: `${T}-${S}-1`, traceparent: `00-${T}-${ZERO16}-03`, tracestate: 'a=1' }, want: fromSingle({ traceId: T, spanId: S, sampled: true }) },
    { name: 'same trace, upper-case parent id: invalid, not kept', headers: { b3: `${T}-${S}-1`, traceparent: `00-${T}-${W.toUpperCase()}-03`, tracestate: 'a=1' }, want: fromSingle({ traceId: T, spanId: S, sampled: true }) },
    { name: 'same trace, parent id with a g: invalid, not kept', headers: { 'x-b3-traceid': T, 'x-b3-spanid': S, traceparent: `00-${T}-${W.slice(0, 15)}g-03`, tracestate: 'a=1' }, want: fromMulti({ traceId: T, spanId: S }) },
    { name: 'same trace, version ff: not kept', headers: { b3: `${T}-${S}-1`, traceparent: `ff-${T}-${W}-03`, tracestate: 'a=1' }, want: fromSingle({ traceId: T, spanId: S, sampled: true }) },
    { name: 'same trace, version 00 with a tail: not kept', headers: { b3: `${T}-${S}-1`, traceparent: `00-${T}-${W}-03-x`, tracestate: 'a=1' }, want: fromSingle({ traceId: T, spanId: S, sampled: true }) },
    { name: 'same trace, version cc with a tail: kept', headers: { b3: `${T}-${S}-1`, traceparent: `cc-${T}-${W}-03-x`, tracestate: 'a=1' }, want: fromSingle({ traceId: T, spanId: S, sampled: true, random: true, tracestate: 'a=1' }) },
    { name: 'same trace, version cc with a line break in the tail: not kept', headers: { b3: `${T}-${S}-1`, traceparent: `cc-${T}-${W}-03-x\ny`, tracestate: 'a=1' }, want: fromSingle({ traceId: T, spanId: S, sampled: true }) },
    { name: 'same trace, flags not hex: not kept', headers: { b3: `${T}-${S}-1`, traceparent: `00-${T}-${W}-0g`, tracestate: 'a=1' }, want: fromSingle({ traceId: T, spanId: S, sampled: true }) },
    { name: 'same trace, a dash moved: not kept', headers: { b3: `${T}-${S}-1`, traceparent: `00-${T}-${W.slice(0, 15)}-${W[15]}3`, tracestate: 'a=1' }, want: fromSingle({ traceId: T, spanId: S, sampled: true }) },
    { name: 'same trace in upper case: not kept', headers: { b3: `${T}-${S}-1`, traceparent: `00-${T.toUpperCase()}-${W}-03`, tracestate: 'a=1' }, want: fromSingle({ traceId: T, spanId: S, sampled: true }) },
    { name: 'same trace, traceparent repeated under two spellings: not kept', headers: { b3: `${T}-${S}-1`, traceparent: `00-${T}-${W}-03`, TraceParent: `00-${T}-${W}-03`, tracestate: 'a=1' }, want: fromSingle({ traceId: T, spanId: S, sampled: true }) },
    { name: 'same trace, traceparent as a Buffer: kept', headers: { b3: `${T}-${S}-1`, traceparent: Buffer.from(`00-${T}-${W}-03`), tracestate: 'a=1' }, want: fromSingle({ traceId: T, spanId: S, sampled: true, random: true, tracestate: 'a=1' }) },
    { name: 'same trace, traceparent as TraceParent (the general path): kept', headers: { b3: `${T}-${S}-1`, TraceParent: `00-${T}-${W}-03`, tracestate: 'a=1' }, want: fromSingle({ traceId: T, spanId: S, sampled: true, random: true, tracestate: 'a=1' }) },
  ];
  it.each(rows)('$name', ({ headers, want }) => {
    for (const carrier of [headers, new Map(Object.entries(headers))]) {
      const found = composite.extract(carrier);
      expectWellFormed(found);
      expect(essentials(found)).toEqual(want);
      expect(essentials(composite.extract(carrier, SLOW))).toEqual(want);
    }
  });

  it('the context with tracestate added is a context the library trusts: a child carries it, inject writes it', () => {
    const t = tracer();
    const found = t.extract({ b3: `${T}-${S}-1`, traceparent: `00-${T}-${W}-02`, tracestate: 'a=1' });
    const child = t.startSpan('child', { parent: found as TraceContext });
    expect(child.context).toMatchObject({ traceId: T, parentId: S, tracestate: 'a=1', random: true });
    const out: Record<string, string> = {};
    t.inject(found!, out);
    expect(out).toEqual({ 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': '1', traceparent: `00-${T}-${S}-03`, tracestate: 'a=1' });
  });

  it('a context of one’s own propagator with tracestate added is still checked when injected (a copy, not trusted)', () => {
    const own = (spanId: string): Propagator => ({
      fields: [],
      inject() {},
      extract: () => ({ traceId: T64, spanId, sampled: true, debug: false, shared: false, source: 'own' }),
    });
    const headers = { traceparent: `00-${ZERO16}${T64}-${W}-03`, tracestate: 'a=1' };
    const good = new CompositePropagator({ extract: [own(S)] }).extract(headers);
    expect(essentials(good)).toEqual({ traceId: T64, spanId: S, sampled: true, debug: false, source: 'own', tracestate: 'a=1', random: true });
    const bad = new CompositePropagator({ extract: [own('zz')] }).extract(headers);
    expect(essentials(bad)).toMatchObject({ traceId: T64, spanId: 'zz', tracestate: 'a=1' });
    for (const [context, want] of [
      [good, { 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-sampled': '1', traceparent: `00-${ZERO16}${T64}-${S}-03`, tracestate: 'a=1' }],
      [bad, { 'x-b3-sampled': '1' }],
    ] as const) {
      const out: Record<string, string> = {};
      composite.inject(context!, out);
      expect(out).toEqual(want);
    }
  });
});

describe('contexts the library made are trusted; any other is checked', () => {
  const extracted = w3c.extract({ traceparent: `00-${T}-${W}-01`, tracestate: 'a=1' })!;

  const bad: [string, ExtractedContext][] = [
    ['a spread copy with a bad span id', { ...extracted, spanId: 'zz' }],
    ['a spread copy with an all-zero span id', { ...extracted, spanId: ZERO16 }],
    ['a spread copy with a 17-character span id', { ...extracted, spanId: `${W}0` }],
    ['a spread copy with an upper-case trace id', { ...extracted, traceId: T.toUpperCase() }],
    ['a spread copy with an all-zero trace id', { ...extracted, traceId: ZERO32 }],
    ['a spread copy with a 20-character trace id', { ...extracted, traceId: T.slice(0, 20) }],
    ['Object.assign of one with a bad span id', Object.assign({}, extracted, { spanId: 'not-hex-not-hex!' })],
  ];
  it.each(bad)('%s: no ids are written, in any format', (_name, context) => {
    const b3Multi: Record<string, string> = {};
    multi.inject(context, b3Multi);
    expect(b3Multi).toEqual({ 'x-b3-sampled': '1' });
    const traceparent: Record<string, string> = {};
    w3c.inject(context, traceparent);
    expect(traceparent).toEqual({});
    const b3: Record<string, string> = {};
    single.inject(context, b3);
    expect(b3).toEqual({ b3: '1' });
    const viaTracer = new Map<string, string>();
    tracer().inject(context, viaTracer);
    expect(Object.fromEntries(viaTracer)).toEqual({ 'x-b3-sampled': '1' });
  });

  it.each([
    ['the extracted context itself', extracted],
    ['a spread copy left as it is', { ...extracted }],
    ['a plain object with valid ids', ctx({ traceId: T, spanId: W, sampled: true, tracestate: 'a=1' })],
  ] as [string, ExtractedContext][])('%s is written whole', (_name, context) => {
    const out: Record<string, string> = {};
    composite.inject(context, out);
    expect(out).toEqual({ 'x-b3-traceid': T, 'x-b3-spanid': W, 'x-b3-sampled': '1', traceparent: `00-${T}-${W}-01`, tracestate: 'a=1' });
    const b3: Record<string, string> = {};
    single.inject(context, b3);
    expect(b3).toEqual({ b3: `${T}-${W}-1` });
  });

  describe('the span startSpan() hands out with no tracer at all', () => {
    beforeEach(() => setGlobalTracer(undefined));
    afterEach(() => setGlobalTracer(undefined));

    it('has all-zero ids, and injects no ids and no traceparent: only the decision B3 can say', () => {
      expect(getGlobalTracer()).toBeUndefined();
      const span = startSpan('no tracer');
      expect(span.isRecording).toBe(false);
      expect(span.context).toMatchObject({ traceId: ZERO32, spanId: ZERO16, sampled: false });
      const b3Multi: Record<string, string> = {};
      multi.inject(span.context, b3Multi);
      expect(b3Multi).toEqual({ 'x-b3-sampled': '0' });
      const traceparent: Record<string, string> = {};
      w3c.inject(span.context, traceparent);
      expect(traceparent).toEqual({});
      const b3: Record<string, string> = {};
      single.inject(span.context, b3);
      expect(b3).toEqual({ b3: '0' });
      const both = new Headers();
      tracer().inject(span, both);
      expect(Object.fromEntries(both)).toEqual({ 'x-b3-sampled': '0' });
      // And a tracer continuing it starts a new trace rather than one of zeros.
      const child = tracer().newChild(span, 'child');
      expect(child.context.traceId).not.toBe(ZERO32);
      expect(child.context.parentId).toBeUndefined();
    });
  });
});

describe('inject with the default setter, into each kind of carrier', () => {
  const context = w3c.extract({ traceparent: `00-${T}-${W}-03`, tracestate: 'a=1' })!;
  const parented = single.extract({ b3: `${T64}-${S}-d-${P}` })!;
  const WANT = { 'x-b3-traceid': T, 'x-b3-spanid': W, 'x-b3-sampled': '1', traceparent: `00-${T}-${W}-03`, tracestate: 'a=1' };

  it('a plain object: assigned, beside what it held, replacing what it held', () => {
    const out: Record<string, string> = { host: 'example', traceparent: 'old' };
    composite.inject(context, out);
    expect(out).toEqual({ host: 'example', ...WANT });
    const b3: Record<string, string> = { b3: 'old' };
    single.inject(parented, b3);
    expect(b3).toEqual({ b3: `${T64}-${S}-d-${P}` });
    const debug: Record<string, string> = {};
    multi.inject(parented, debug);
    expect(debug).toEqual({ 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-parentspanid': P, 'x-b3-flags': '1' });
  });

  it('a null-prototype object and an object of another prototype: assigned', () => {
    const bare = Object.create(null) as Record<string, string>;
    composite.inject(context, bare);
    expect({ ...bare }).toEqual(WANT);
    class Outgoing {}
    const instance = new Outgoing() as Record<string, string>;
    composite.inject(context, instance);
    expect({ ...instance }).toEqual(WANT);
  });

  it('a Map: set, no properties assigned', () => {
    const map = new Map<string, string>();
    composite.inject(context, map);
    expect(Object.fromEntries(map)).toEqual(WANT);
    expect(Object.keys(map)).toEqual([]);
  });

  it('fetch Headers: set, no properties assigned', () => {
    const headers = new Headers({ traceparent: 'old' });
    composite.inject(context, headers);
    expect(Object.fromEntries(headers)).toEqual(WANT);
    expect(Object.keys(headers)).toEqual([]);
  });

  it('an outgoing request: setHeader called for each header, no properties assigned', () => {
    const calls: [string, string][] = [];
    const carrier = { setHeader: (name: string, value: string) => void calls.push([name, value]) };
    composite.inject(context, carrier);
    expect(Object.fromEntries(calls)).toEqual(WANT);
    expect(calls).toHaveLength(5);
    expect(Object.keys(carrier)).toEqual(['setHeader']);
    const outgoing = new http.OutgoingMessage();
    composite.inject(context, outgoing);
    expect(outgoing.getHeaders()).toEqual(WANT);
  });

  it('a plain object with get and set functions (Headers-like): set called, no properties assigned', () => {
    const calls: [string, string][] = [];
    const carrier = { get: () => null, set: (name: string, value: string) => void calls.push([name, value]) };
    composite.inject(context, carrier);
    expect(Object.fromEntries(calls)).toEqual(WANT);
    expect(Object.keys(carrier)).toEqual(['get', 'set']);
  });

  it('defaultSetter passed explicitly is the default', () => {
    const out: Record<string, string> = {};
    composite.inject(context, out, defaultSetter);
    expect(out).toEqual(WANT);
  });
});

describe('inject with a setter of one’s own: called for every header, even on a plain object', () => {
  const context = w3c.extract({ traceparent: `00-${T}-${W}-03`, tracestate: 'a=1' })!;
  const plain = ctx({ traceId: T, spanId: W, sampled: true, random: true, tracestate: 'a=1' });
  function recording(): { setter: Setter; calls: [unknown, string, string][] } {
    const calls: [unknown, string, string][] = [];
    return { setter: { set: (carrier, name, value) => void calls.push([carrier, name, value]) }, calls };
  }

  it.each([
    ['composite', composite, [['x-b3-traceid', T], ['x-b3-spanid', W], ['x-b3-sampled', '1'], ['traceparent', `00-${T}-${W}-03`], ['tracestate', 'a=1']]],
    ['B3 multi', multi, [['x-b3-traceid', T], ['x-b3-spanid', W], ['x-b3-sampled', '1']]],
    ['B3 single', single, [['b3', `${T}-${W}-1`]]],
    ['W3C', w3c, [['traceparent', `00-${T}-${W}-03`], ['tracestate', 'a=1']]],
  ] as [string, Propagator, [string, string][]][])('%s', (_name, propagator, want) => {
    for (const c of [context, plain]) {
      const carrier: Record<string, string> = {};
      const { setter, calls } = recording();
      propagator.inject(c, carrier, setter);
      expect(calls.map(([, name, value]) => [name, value])).toEqual(want);
      expect(calls.every(([target]) => target === carrier)).toBe(true);
      expect(carrier).toEqual({}); // the setter wrote nothing, and nothing else did
    }
  });

  it('a setter writing canonical names leaves only those names', () => {
    const canonical: Record<string, string> = { 'x-b3-traceid': 'X-B3-TraceId', 'x-b3-spanid': 'X-B3-SpanId', 'x-b3-sampled': 'X-B3-Sampled', traceparent: 'TraceParent', tracestate: 'TraceState' };
    const out: Record<string, string> = {};
    tracer().inject(context, out, { set: (carrier, name, value) => void ((carrier as Record<string, string>)[canonical[name]!] = value) });
    expect(out).toEqual({ 'X-B3-TraceId': T, 'X-B3-SpanId': W, 'X-B3-Sampled': '1', TraceParent: `00-${T}-${W}-03`, TraceState: 'a=1' });
  });
});

/*
 * Cases where the fast paths answer differently from the general code they
 * replaced (the lib at HEAD answers each as these tests expect).
 */
describe('where the fast paths must still answer as before', () => {
  it('a plain object with get and set functions is read through its get, as Headers are', () => {
    const headers: Record<string, string> = { traceparent: TP, tracestate: 'a=1', 'x-b3-traceid': T, 'x-b3-spanid': S, b3: `${T}-${S}-1` };
    const carrier = { get: (name: string) => headers[name] ?? null, set: () => {} };
    expect(defaultGetter.get(carrier, 'traceparent')).toBe(TP);
    expect(essentials(w3c.extract(carrier))).toEqual(fromW3C({ traceId: T, spanId: W, tracestate: 'a=1' }));
    expect(essentials(multi.extract(carrier))).toEqual(fromMulti({ traceId: T, spanId: S }));
    expect(essentials(single.extract(carrier))).toEqual(fromSingle({ traceId: T, spanId: S, sampled: true }));
    expect(essentials(composite.extract(carrier))).toEqual(fromSingle({ traceId: T, spanId: S, sampled: true, tracestate: 'a=1' }));
  });

  it.each([
    ['a non-enumerable own traceparent', Object.defineProperty({}, 'traceparent', { value: TP, enumerable: false })],
    ['a non-enumerable own b3', Object.defineProperty({}, 'b3', { value: `${T}-${S}-1`, enumerable: false })],
    ['non-enumerable own B3 multi ids', Object.defineProperties({}, { 'x-b3-traceid': { value: T, enumerable: false }, 'x-b3-spanid': { value: S, enumerable: false } })],
    ['a Proxy answering get for keys it does not list', new Proxy({}, { get: (_target, key) => (key === 'traceparent' ? TP : undefined) })],
  ])('%s is not a header, as the default getter says', (_name, carrier) => {
    expect(defaultGetter.get(carrier, 'traceparent')).toBeUndefined();
    expect(defaultGetter.get(carrier, 'b3')).toBeUndefined();
    expect(defaultGetter.get(carrier, 'x-b3-traceid')).toBeUndefined();
    expect(composite.extract(carrier)).toBeUndefined();
    for (const propagator of [single, multi, w3c]) expect(propagator.extract(carrier)).toBeUndefined();
  });

  it.each([
    ['a Proxy whose ownKeys throws', () => new Proxy({}, { ownKeys: () => { throw new Error('boom'); } })],
    ['a Proxy whose getPrototypeOf throws', () => new Proxy({}, { getPrototypeOf: () => { throw new Error('boom'); } })],
    ['a revoked Proxy', () => { const p = Proxy.revocable({}, {}); p.revoke(); return p.proxy; }],
  ])('a propagator’s extract never throws (the Propagator contract): %s', (_name, make) => {
    for (const propagator of [single, multi, w3c, composite]) {
      expect(() => propagator.extract(make())).not.toThrow();
    }
  });

  it.each([
    ['an empty trace id', ''],
    ['an 8-digit trace id, the start of the W3C id’s lower half', '12345678'],
  ])('a propagator of one’s own giving %s borrows no tracestate or random flag from a traceparent', (_name, traceId) => {
    const own: Propagator = { fields: [], inject() {}, extract: () => ({ traceId, spanId: S, sampled: true, debug: false, shared: false, source: 'own' }) };
    const found = new CompositePropagator({ extract: [own] }).extract({ traceparent: `00-${ZERO16}123456789abcdef0-${W}-03`, tracestate: 'a=1' });
    expect(found).toMatchObject({ traceId, spanId: S, source: 'own' });
    expect((found as TraceContext).tracestate).toBeUndefined();
    expect((found as TraceContext).random).not.toBe(true);
  });
});
