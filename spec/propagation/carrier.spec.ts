/**
 * Carriers (lib/propagation/carrier.ts): where headers are read from and
 * written to. Node's IncomingHttpHeaders and headersDistinct, fetch Headers,
 * Maps, plain objects in any case, outgoing requests, Buffer-valued message
 * headers; names match in any case everywhere; a header under two spellings
 * is a repeated header; nothing is read from a prototype; hostile carriers and
 * values never make extraction throw.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createTracer, defaultGetter, defaultSetter, MemoryReporter, type Getter, type Setter, type Tracer } from '../../lib/index.js';
import { ctx, expectWellFormed, MAX_B3_SINGLE, MAX_ID_HEADER, MAX_TRACEPARENT, MAX_TRACESTATE } from './helpers.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';
const VALID = `00-${TRACE}-${SPAN}-01`;

function tracer(): Tracer {
  return createTracer({ serviceName: 'carrier-spec', reporter: new MemoryReporter(), global: false });
}

describe('defaultGetter', () => {
  const rows: [string, unknown, string, unknown][] = [
    ['IncomingHttpHeaders (lower-case keys)', { traceparent: VALID, host: 'x' }, 'traceparent', VALID],
    ['a plain object in another case', { TraceParent: VALID }, 'traceparent', VALID],
    ['a plain object in upper case', { 'X-B3-TRACEID': TRACE }, 'x-b3-traceid', TRACE],
    ['headersDistinct (arrays)', { traceparent: [VALID] }, 'traceparent', [VALID]],
    ['an object without a prototype', Object.assign(Object.create(null) as object, { traceparent: VALID }), 'traceparent', VALID],
    ['a Map, exact key', new Map([['traceparent', VALID]]), 'traceparent', VALID],
    ['a Map, key in another case', new Map([['TRACEPARENT', VALID]]), 'traceparent', VALID],
    ['a Map with non-string keys among them', new Map<unknown, string>([[1, 'x'], [Symbol('traceparent'), 'y'], ['Traceparent', VALID]]), 'traceparent', VALID],
    ['fetch Headers', new Headers({ TraceParent: VALID }), 'traceparent', VALID],
    ['fetch Headers, absent', new Headers(), 'traceparent', undefined],
    ['a Buffer value is returned as is', { b3: Buffer.from('0') }, 'b3', Buffer.from('0')],
    ['absent', { tracestate: 'a=1' }, 'traceparent', undefined],
    ['a name of the same length but different', { traceparenT_: VALID, tracepar3nt: VALID }, 'traceparent', undefined],
    ['two spellings of one header are the header repeated', { traceparent: VALID, TraceParent: VALID }, 'traceparent', [VALID, VALID]],
    ['two spellings in a Map too', new Map([['b3', '0'], ['B3', '1']]), 'b3', ['0', '1']],
    ['two spellings, one with several values: all values, in order', { tracestate: ['a=1', 'b=2'], TraceState: 'c=3' }, 'tracestate', ['a=1', 'b=2', 'c=3']],
    ['an inherited property is not a header', Object.create({ traceparent: VALID }) as object, 'traceparent', undefined],
    ['a JSON "__proto__" key is an own key, and not this header', JSON.parse(`{"__proto__": {"traceparent": "${VALID}"}}`) as object, 'traceparent', undefined],
    ['"get" and "set" keys with string values do not make an object Headers-like', JSON.parse(`{"get": "x", "set": "y", "traceparent": "${VALID}"}`) as object, 'traceparent', VALID],
    ['null carrier', null, 'traceparent', undefined],
    ['undefined carrier', undefined, 'traceparent', undefined],
    ['a string carrier', VALID, 'traceparent', undefined],
    ['a number carrier', 42, 'traceparent', undefined],
  ];
  it.each(rows)('%s', (_name, carrier, name, want) => {
    expect(defaultGetter.get(carrier, name)).toEqual(want);
  });
});

describe('what extraction makes of each carrier', () => {
  it.each([
    ['IncomingHttpHeaders', { traceparent: VALID }],
    ['headersDistinct', { traceparent: [VALID], tracestate: ['a=1', 'b=2'] }],
    ['fetch Headers', new Headers({ traceparent: VALID })],
    ['a Map in any case', new Map([['TRACEPARENT', VALID]])],
    ['a plain object in any case', { TraceParent: VALID }],
    ['Buffer values (Kafka)', { traceparent: Buffer.from(VALID) }],
    ['Uint8Array values', { traceparent: new TextEncoder().encode(VALID) }],
    ['a Buffer that is a slice of a larger one', { traceparent: Buffer.from(`xxxx${VALID}yyyy`).subarray(4, 4 + VALID.length) }],
    ['an array holding one Buffer', { traceparent: [Buffer.from(VALID)] }],
  ])('%s', (_name, carrier) => {
    const found = tracer().extract(carrier);
    expectWellFormed(found);
    expect(found).toMatchObject({ traceId: TRACE, spanId: SPAN, sampled: true });
  });

  it.each([
    ['the same header under two spellings (object)', { traceparent: VALID, TRACEPARENT: VALID }],
    ['the same header under two spellings (Map)', new Map([['traceparent', VALID], ['TraceParent', VALID]])],
    ['two values in headersDistinct', { traceparent: [VALID, VALID] }],
    ['two values joined', { traceparent: `${VALID}, ${VALID}` }],
    ['two values joined without a space', { traceparent: `${VALID},${VALID}` }],
    ['two Buffers', { traceparent: [Buffer.from(VALID), Buffer.from(VALID)] }],
    ['an empty array', { traceparent: [] }],
  ])('a repeated or empty traceparent is no traceparent: %s', (_name, carrier) => {
    expect(tracer().extract(carrier)).toBeUndefined();
  });

  it('tracestate under two spellings is joined, as repeated tracestate lines are', () => {
    expect(tracer().extract({ traceparent: VALID, tracestate: 'a=1', TraceState: 'b=2' })).toMatchObject({ tracestate: 'a=1,b=2' });
    // A key twice is passed on as it came (Trace Context Level 2); an invalid key drops the whole tracestate.
    expect(tracer().extract({ traceparent: VALID, tracestate: 'a=1', TraceState: 'a=2' })).toMatchObject({ tracestate: 'a=1,a=2' });
    expect(tracer().extract({ traceparent: VALID, tracestate: 'a=1', TraceState: 'A=2' })).toMatchObject({ tracestate: undefined });
  });

  it.each([
    ['a number', { traceparent: 1 }],
    ['a boolean', { traceparent: true }],
    ['an object whose toString gives a valid value', { traceparent: { toString: () => VALID } }],
    ['a String object', { traceparent: new String(VALID) }],
    ['an array holding a number', { traceparent: [VALID, 2] }],
    ['a nested array', { traceparent: [[VALID]] }],
    ['a Symbol', { traceparent: Symbol(VALID) }],
    ['a function', { traceparent: () => VALID }],
    ['an ArrayBuffer', { traceparent: new TextEncoder().encode(VALID).buffer }],
    ['a DataView', { traceparent: new DataView(new TextEncoder().encode(VALID).buffer) }],
    ['a bigint', { traceparent: 10n }],
  ])('a value that is not a string or bytes is ignored, never coerced: %s', (_name, carrier) => {
    expect(tracer().extract(carrier)).toBeUndefined();
  });

  it('a Buffer longer than the cap is ignored before it is decoded', () => {
    expect(tracer().extract({ traceparent: Buffer.from(VALID.padEnd(MAX_TRACEPARENT, ' ')) })).toMatchObject({ traceId: TRACE });
    expect(tracer().extract({ traceparent: Buffer.from(VALID.padEnd(MAX_TRACEPARENT + 1, ' ')) })).toBeUndefined();
    expect(tracer().extract({ b3: Buffer.alloc(10 * 1024 * 1024, 0x31) })).toBeUndefined();
  });

  it('non-ASCII bytes in a Buffer make the value invalid, not something else', () => {
    const bytes = Buffer.from(VALID);
    bytes[3] = 0xe3; // the first trace id digit becomes 'ã' in latin1
    expect(tracer().extract({ traceparent: bytes })).toBeUndefined();
  });

  it.each([
    ['x-b3-traceid', MAX_ID_HEADER],
    ['b3', MAX_B3_SINGLE],
    ['traceparent', MAX_TRACEPARENT],
    ['tracestate', MAX_TRACESTATE],
  ])('a huge %s value (cap %d) is dropped unparsed, quickly', (name, cap) => {
    const huge = `${' '.repeat(5_000_000)}x`;
    const started = performance.now();
    const found = tracer().extract({ traceparent: VALID, [name]: huge, 'x-b3-spanid': SPAN });
    expect(performance.now() - started).toBeLessThan(500);
    expect(huge.length).toBeGreaterThan(cap);
    // A dropped traceparent leaves nothing valid; any other dropped header leaves traceparent to win.
    if (name === 'traceparent') expect(found).toBeUndefined();
    else expect(found).toMatchObject({ traceId: TRACE, source: 'w3c', tracestate: undefined });
  });
});

describe('no value comes from a prototype', () => {
  const polluted = ['traceparent', 'tracestate', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled', 'x-b3-flags', 'X-B3-TraceId', 'TraceParent'];
  afterEach(() => {
    for (const name of polluted) delete (Object.prototype as Record<string, unknown>)[name];
  });

  it('Object.prototype polluted with trace headers is not read from any plain-object carrier', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.traceparent = VALID;
    proto.TraceParent = VALID;
    proto.b3 = `${TRACE}-${SPAN}-1`;
    proto['x-b3-traceid'] = TRACE;
    proto['X-B3-TraceId'] = TRACE;
    proto['x-b3-spanid'] = SPAN;
    proto['x-b3-sampled'] = '1';
    proto['x-b3-flags'] = '1';
    const t = tracer();
    expect(({} as Record<string, unknown>).traceparent).toBe(VALID); // the pollution is real
    expect(t.extract({})).toBeUndefined();
    expect(t.extract({ host: 'example' })).toBeUndefined();
    expect(t.extractMessage({})).toBeUndefined();
    expect(t.extract(JSON.parse('{"accept": "*/*"}'))).toBeUndefined();
  });

  it('a polluted tracestate does not join an own traceparent', () => {
    (Object.prototype as Record<string, unknown>).tracestate = 'evil=1';
    expect(tracer().extract({ traceparent: VALID })).toMatchObject({ traceId: TRACE, tracestate: undefined });
  });

  it('carriers with __proto__, constructor, prototype or hasOwnProperty keys are read safely', () => {
    const carrier = JSON.parse(
      `{"__proto__": {"traceparent": "${VALID}", "b3": "1"}, "constructor": {"prototype": {"traceparent": "${VALID}"}}, "prototype": "x", "hasOwnProperty": "x", "toString": "x", "tracestate": "a=1"}`,
    ) as Record<string, unknown>;
    expect(tracer().extract(carrier)).toBeUndefined();
    expect(({} as Record<string, unknown>).traceparent).toBeUndefined(); // reading did not pollute
    carrier.traceparent = VALID;
    expect(tracer().extract(carrier)).toMatchObject({ traceId: TRACE, tracestate: 'a=1' });
  });
});

describe('hostile carriers never make extraction throw', () => {
  it.each([
    ['a property getter that throws', Object.defineProperty({}, 'traceparent', { enumerable: true, get: () => { throw new Error('boom'); } })],
    ['a Proxy whose ownKeys throws', new Proxy({}, { ownKeys: () => { throw new Error('boom'); } })],
    ['a Proxy whose get throws', new Proxy({ traceparent: VALID }, { get: () => { throw new Error('boom'); } })],
    ['a Headers-like whose get throws', { get: () => { throw new Error('boom'); }, set: () => undefined }],
    ['a Headers-like whose get returns an object', { get: () => ({}), set: () => undefined }],
    ['a Map subclass whose iterator throws', new (class extends Map { override [Symbol.iterator](): never { throw new Error('boom'); } })()],
    ['a revoked Proxy', (() => { const p = Proxy.revocable({}, {}); p.revoke(); return p.proxy; })()],
  ])('%s', (_name, carrier) => {
    const t = tracer();
    expect(() => t.extract(carrier)).not.toThrow();
    expect(t.extract(carrier)).toBeUndefined();
    expect(() => t.extractMessage(carrier)).not.toThrow();
    expect(t.extractMessage(carrier)).toBeUndefined();
  });

  it('a getter of one’s own that throws is the same as no header', () => {
    const throwing: Getter = {
      get() {
        throw new Error('boom');
      },
    };
    expect(tracer().extract({ traceparent: VALID }, throwing)).toBeUndefined();
  });
});

describe('defaultSetter', () => {
  const context = ctx({ traceId: TRACE, spanId: SPAN, sampled: true, tracestate: 'a=1' });

  it('sets on plain objects, Maps, fetch Headers and outgoing messages', () => {
    const object: Record<string, string> = {};
    const map = new Map<string, string>();
    const headers = new Headers();
    const outgoing = new http.OutgoingMessage();
    const t = tracer();
    for (const carrier of [object, map, headers, outgoing]) t.inject(context, carrier);
    expect(object).toEqual({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1', traceparent: VALID, tracestate: 'a=1' });
    expect(Object.fromEntries(map)).toEqual(object);
    expect(Object.fromEntries(headers)).toEqual(object);
    expect(outgoing.getHeaders()).toEqual(object);
    // and each reads back
    for (const carrier of [object, map, headers]) expect(t.extract(carrier)).toMatchObject({ traceId: TRACE, spanId: SPAN, tracestate: 'a=1' });
  });

  it('replaces a header already set rather than adding a second value', () => {
    const headers = new Headers({ traceparent: `00-${'1'.repeat(32)}-${SPAN}-01` });
    tracer().inject(context, headers);
    expect(headers.get('traceparent')).toBe(VALID);
  });

  it('ignores carriers it cannot write to; tracer.inject never throws, even on a frozen object', () => {
    for (const carrier of [null, undefined, 'string', 42]) {
      expect(() => defaultSetter.set(carrier, 'traceparent', VALID)).not.toThrow();
    }
    const frozen = Object.freeze({});
    expect(() => tracer().inject(context, frozen)).not.toThrow();
    expect(frozen).toEqual({});
  });
});

describe('getters and setters of one’s own', () => {
  /** A gRPC-Metadata-like carrier: values are lists, names are case-insensitive, writes add. */
  class Metadata {
    private readonly entries = new Map<string, string[]>();
    add(name: string, value: string): void {
      const key = name.toLowerCase();
      this.entries.set(key, [...(this.entries.get(key) ?? []), value]);
    }
    list(name: string): string[] {
      return this.entries.get(name.toLowerCase()) ?? [];
    }
  }
  const getter: Getter<Metadata> = { get: (md, name) => (md.list(name).length === 0 ? undefined : md.list(name)) };
  const setter: Setter<Metadata> = { set: (md, name, value) => md.add(name, value) };

  it('round-trips through a carrier the default getter and setter know nothing of', () => {
    const t = tracer();
    const md = new Metadata();
    t.inject(ctx({ traceId: TRACE, spanId: SPAN, sampled: false, tracestate: 'a=1' }), md, setter as Setter);
    expect(md.list('traceparent')).toEqual([`00-${TRACE}-${SPAN}-00`]);
    expect(t.extract(md, getter as Getter)).toMatchObject({ traceId: TRACE, spanId: SPAN, sampled: false, source: 'b3' });
    md.add('X-B3-TraceId', TRACE);
    expect(t.extract(md, getter as Getter)).toMatchObject({ traceId: TRACE, source: 'w3c', tracestate: 'a=1' }); // B3 now repeated: W3C read
  });
});
