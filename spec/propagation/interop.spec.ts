/**
 * Interoperability with OpenTelemetry's propagators, both ways:
 * `B3Propagator` (single and multi header, @opentelemetry/propagator-b3) and
 * `W3CTraceContextPropagator` (@opentelemetry/core).
 *
 *   ziptrace → OTel   ziptrace injects; OTel extracts with propagation.extract(ROOT_CONTEXT,
 *                     carrier, defaultTextMapGetter); we read trace.getSpanContext and what OTel
 *                     would send on (its own injection of that context, for the debug flag).
 *   OTel → ziptrace   OTel injects a span context; ziptrace extracts.
 *   relay             ziptrace → an OTel service (extract, inject) → ziptrace.
 *
 * Every row states the full expected result. Where it differs from "the same
 * ids and the same decision", the row says why in `why`: those are the
 * normalisations found by running these against OTel, each one declared.
 * Any other difference fails.
 */
import { defaultTextMapGetter, defaultTextMapSetter, propagation, ROOT_CONTEXT, trace, TraceFlags, type Context, type TextMapPropagator } from '@opentelemetry/api';
import { TraceState, W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { afterAll, describe, expect, it } from 'vitest';
import { B3MultiPropagator, B3SinglePropagator, W3CPropagator, type ExtractedContext, type Propagator, type TraceContext } from '../../lib/index.js';
import { ctx, essentials, expectWellFormed } from './helpers.js';

type Format = 'b3' | 'b3-single' | 'w3c';

const ZIPTRACE: Record<Format, Propagator> = { b3: new B3MultiPropagator(), 'b3-single': new B3SinglePropagator(), w3c: new W3CPropagator() };
const OTEL: Record<Format, () => TextMapPropagator> = {
  b3: () => new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }),
  'b3-single': () => new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER }),
  w3c: () => new W3CTraceContextPropagator(),
};

afterAll(() => propagation.disable());

/** OTel's global propagation API with `p` installed. */
function useOtel(p: TextMapPropagator): void {
  propagation.disable();
  expect(propagation.setGlobalPropagator(p)).toBe(true);
}

/** What an OTel service makes of a carrier: its span context, and whether it would send debug on. */
interface OtelView {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState: string | undefined;
  /** OTel sends debug onward (X-B3-Flags: 1, or a `d` sampling state) when it re-injects the context. */
  debug: boolean;
}

function otelExtract(format: Format, carrier: Record<string, string>): { view: OtelView | undefined; context: Context } {
  useOtel(OTEL[format]());
  const context = propagation.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
  const span = trace.getSpanContext(context);
  if (span === undefined) return { view: undefined, context };
  expect(span.isRemote).toBe(true);
  const onward: Record<string, string> = {};
  propagation.inject(context, onward, defaultTextMapSetter);
  const debug = format === 'b3' ? onward['x-b3-flags'] === '1' : format === 'b3-single' ? onward.b3?.split('-')[2] === 'd' : false;
  return { view: { traceId: span.traceId, spanId: span.spanId, traceFlags: span.traceFlags, traceState: span.traceState?.serialize(), debug }, context };
}

function otelInject(format: Format, context: Context): Record<string, string> {
  useOtel(OTEL[format]());
  const carrier: Record<string, string> = {};
  propagation.inject(context, carrier, defaultTextMapSetter);
  return carrier;
}

const T128 = '4bf92f3577b34da6a3ce929d0e0e4736';
const T64 = 'a3ce929d0e0e4736';
const PAD = '0000000000000000';
const S = '00f067aa0ba902b7';
const P = '53ce929d0e0e4736';
const LONG_TRACESTATE = Array.from({ length: 12 }, (_, i) => `k${i}=${'v'.repeat(60)}`).join(','); // 12 × 63 + 11 = 767 characters

/** The contexts ziptrace sends. */
const CONTEXTS = {
  '128-bit, sampled, random, with parent': ctx({ traceId: T128, spanId: S, parentId: P, sampled: true, random: true }),
  '128-bit, not sampled': ctx({ traceId: T128, spanId: S, sampled: false }),
  '128-bit, deferred': ctx({ traceId: T128, spanId: S }),
  '128-bit, debug, with parent': ctx({ traceId: T128, spanId: S, parentId: P, sampled: true, debug: true }),
  '64-bit, sampled': ctx({ traceId: T64, spanId: S, sampled: true }),
  '64-bit, deferred, with parent': ctx({ traceId: T64, spanId: S, parentId: P }),
  '64-bit, debug': ctx({ traceId: T64, spanId: S, sampled: true, debug: true }),
  'with tracestate': ctx({ traceId: T128, spanId: S, sampled: true, random: true, tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' }),
  'with a tracestate longer than 512': ctx({ traceId: T128, spanId: S, sampled: true, tracestate: LONG_TRACESTATE }),
} satisfies Record<string, TraceContext>;
type ContextName = keyof typeof CONTEXTS;

interface ToOtelRow {
  format: Format;
  context: ContextName;
  otel: OtelView;
  /** Why `otel` is not the same ids and decision, when it is not. */
  why?: string;
}

const view = (traceId: string, traceFlags: number, extra: Partial<OtelView> = {}): OtelView => ({ traceId, spanId: S, traceFlags, traceState: undefined, debug: false, ...extra });

const TO_OTEL: ToOtelRow[] = [
  // B3 multi
  { format: 'b3', context: '128-bit, sampled, random, with parent', otel: view(T128, 1), why: 'OTel span contexts hold no parent id' },
  { format: 'b3', context: '128-bit, not sampled', otel: view(T128, 0) },
  { format: 'b3', context: '128-bit, deferred', otel: view(T128, 0), why: 'OTel has no deferred state: an absent X-B3-Sampled reads as not sampled' },
  { format: 'b3', context: '128-bit, debug, with parent', otel: view(T128, 1, { debug: true }), why: 'no parent id in OTel' },
  { format: 'b3', context: '64-bit, sampled', otel: view(PAD + T64, 1), why: 'OTel pads 64-bit trace ids to 128 bits' },
  { format: 'b3', context: '64-bit, deferred, with parent', otel: view(PAD + T64, 0), why: 'padded; deferred reads as not sampled; no parent' },
  { format: 'b3', context: '64-bit, debug', otel: view(PAD + T64, 1, { debug: true }), why: 'padded' },
  { format: 'b3', context: 'with tracestate', otel: view(T128, 1), why: 'B3 carries no tracestate' },
  // B3 single
  { format: 'b3-single', context: '128-bit, sampled, random, with parent', otel: view(T128, 1), why: 'OTel reads past the parent id and keeps none' },
  { format: 'b3-single', context: '128-bit, not sampled', otel: view(T128, 0) },
  { format: 'b3-single', context: '128-bit, deferred', otel: view(T128, 0), why: 'OTel has no deferred state: a missing sampling field reads as not sampled' },
  { format: 'b3-single', context: '128-bit, debug, with parent', otel: view(T128, 1, { debug: true }), why: 'no parent id in OTel' },
  { format: 'b3-single', context: '64-bit, sampled', otel: view(PAD + T64, 1), why: 'OTel pads 64-bit trace ids to 128 bits' },
  { format: 'b3-single', context: '64-bit, deferred, with parent', otel: view(PAD + T64, 0), why: 'padded; deferred (so no parent sent) reads as not sampled' },
  { format: 'b3-single', context: '64-bit, debug', otel: view(PAD + T64, 1, { debug: true }), why: 'padded' },
  { format: 'b3-single', context: 'with tracestate', otel: view(T128, 1), why: 'B3 carries no tracestate' },
  // W3C
  { format: 'w3c', context: '128-bit, sampled, random, with parent', otel: view(T128, 0x03), why: 'traceparent has no parent id field; OTel keeps the random bit as an opaque flag' },
  { format: 'w3c', context: '128-bit, not sampled', otel: view(T128, 0x00) },
  { format: 'w3c', context: '128-bit, deferred', otel: view(T128, 0x00), why: 'W3C has no deferred state: ziptrace sends it as not sampled' },
  { format: 'w3c', context: '128-bit, debug, with parent', otel: view(T128, 0x01), why: 'W3C has no debug flag (ziptrace sends sampled) nor parent' },
  { format: 'w3c', context: '64-bit, sampled', otel: view(PAD + T64, 0x01), why: 'ziptrace pads 64-bit ids for W3C' },
  { format: 'w3c', context: '64-bit, deferred, with parent', otel: view(PAD + T64, 0x00), why: 'padded; deferred sent as not sampled; no parent' },
  { format: 'w3c', context: '64-bit, debug', otel: view(PAD + T64, 0x01), why: 'padded; no debug in W3C' },
  { format: 'w3c', context: 'with tracestate', otel: view(T128, 0x03, { traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' }) },
  {
    format: 'w3c',
    context: 'with a tracestate longer than 512',
    otel: view(T128, 0x01, { traceState: LONG_TRACESTATE.split(',').slice(0, 8).join(',') }),
    why: 'OTel keeps only the members that fit in 512 characters (8 × 63 + 7 = 511); ziptrace keeps up to 8192',
  },
];

describe('ziptrace injects, OpenTelemetry extracts', () => {
  it('every context is tried in every format', () => {
    for (const format of ['b3', 'b3-single', 'w3c'] as const) {
      expect(TO_OTEL.filter((r) => r.format === format).map((r) => r.context).sort()).toEqual(Object.keys(CONTEXTS).filter((n) => format === 'w3c' || !n.includes('longer')).sort());
    }
  });

  it.each(TO_OTEL)('$format: $context', ({ format, context, otel }) => {
    const carrier: Record<string, string> = {};
    ZIPTRACE[format].inject(CONTEXTS[context], carrier);
    expect(otelExtract(format, carrier).view).toEqual(otel);
  });
});

/** Span contexts OTel sends, made the way OTel makes them (debug only exists in OTel as something extracted). */
const OTEL_CONTEXTS: Record<string, () => Context> = {
  'sampled': () => trace.setSpanContext(ROOT_CONTEXT, { traceId: T128, spanId: S, traceFlags: TraceFlags.SAMPLED }),
  'not sampled': () => trace.setSpanContext(ROOT_CONTEXT, { traceId: T128, spanId: S, traceFlags: TraceFlags.NONE }),
  'a 64-bit id as OTel holds it (padded)': () => trace.setSpanContext(ROOT_CONTEXT, { traceId: PAD + T64, spanId: S, traceFlags: TraceFlags.SAMPLED }),
  'flags 0x03 (sampled, random bit set)': () => trace.setSpanContext(ROOT_CONTEXT, { traceId: T128, spanId: S, traceFlags: 0x03 }),
  'with tracestate': () => trace.setSpanContext(ROOT_CONTEXT, { traceId: T128, spanId: S, traceFlags: TraceFlags.SAMPLED, traceState: new TraceState('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE') }),
  'debug, as OTel extracts it from X-B3-Flags: 1': () => otelExtract('b3', { 'x-b3-traceid': T128, 'x-b3-spanid': S, 'x-b3-flags': '1' }).context,
  'debug, as OTel extracts it from b3: …-d': () => otelExtract('b3-single', { b3: `${T128}-${S}-d` }).context,
};

interface FromOtelRow {
  format: Format;
  context: string;
  /** essentials() of what ziptrace extracts. */
  ziptrace: Record<string, unknown>;
  why?: string;
}

const got = (format: Format, fields: Partial<TraceContext>): Record<string, unknown> => {
  const out: Record<string, unknown> = { traceId: T128, spanId: S, debug: false, source: format, random: false, ...fields };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
};

const FROM_OTEL: FromOtelRow[] = [
  { format: 'b3', context: 'sampled', ziptrace: got('b3', { sampled: true }) },
  { format: 'b3', context: 'not sampled', ziptrace: got('b3', { sampled: false }) },
  { format: 'b3', context: 'a 64-bit id as OTel holds it (padded)', ziptrace: got('b3', { traceId: PAD + T64, sampled: true }), why: 'OTel sends the padded form; ziptrace keeps what it is sent' },
  { format: 'b3', context: 'flags 0x03 (sampled, random bit set)', ziptrace: got('b3', { sampled: true }), why: 'B3 has no random flag' },
  { format: 'b3', context: 'with tracestate', ziptrace: got('b3', { sampled: true }), why: 'B3 carries no tracestate' },
  { format: 'b3', context: 'debug, as OTel extracts it from X-B3-Flags: 1', ziptrace: got('b3', { sampled: true, debug: true }) },
  { format: 'b3', context: 'debug, as OTel extracts it from b3: …-d', ziptrace: got('b3', { sampled: true }), why: 'OTel keeps the single header’s "d" and its multi injector sends X-B3-Flags only for "1": debug is lost' },
  { format: 'b3-single', context: 'sampled', ziptrace: got('b3-single', { sampled: true }) },
  { format: 'b3-single', context: 'not sampled', ziptrace: got('b3-single', { sampled: false }) },
  { format: 'b3-single', context: 'a 64-bit id as OTel holds it (padded)', ziptrace: got('b3-single', { traceId: PAD + T64, sampled: true }), why: 'OTel sends the padded form' },
  { format: 'b3-single', context: 'flags 0x03 (sampled, random bit set)', ziptrace: got('b3-single', { sampled: true }), why: 'B3 has no random flag' },
  { format: 'b3-single', context: 'with tracestate', ziptrace: got('b3-single', { sampled: true }), why: 'B3 carries no tracestate' },
  { format: 'b3-single', context: 'debug, as OTel extracts it from X-B3-Flags: 1', ziptrace: got('b3-single', { sampled: true }), why: 'OTel’s single injector writes the debug key’s raw "1" (from the multi header) as the sampling state: debug is lost' },
  { format: 'b3-single', context: 'debug, as OTel extracts it from b3: …-d', ziptrace: got('b3-single', { sampled: true, debug: true }) },
  { format: 'w3c', context: 'sampled', ziptrace: got('w3c', { sampled: true }), why: 'OTel sets no random flag on its ids (flags 01)' },
  { format: 'w3c', context: 'not sampled', ziptrace: got('w3c', { sampled: false }) },
  { format: 'w3c', context: 'a 64-bit id as OTel holds it (padded)', ziptrace: got('w3c', { traceId: PAD + T64, sampled: true }) },
  { format: 'w3c', context: 'flags 0x03 (sampled, random bit set)', ziptrace: got('w3c', { sampled: true, random: true }) },
  { format: 'w3c', context: 'with tracestate', ziptrace: got('w3c', { sampled: true, tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' }) },
  { format: 'w3c', context: 'debug, as OTel extracts it from X-B3-Flags: 1', ziptrace: got('w3c', { sampled: true }), why: 'W3C has no debug flag' },
  { format: 'w3c', context: 'debug, as OTel extracts it from b3: …-d', ziptrace: got('w3c', { sampled: true }), why: 'W3C has no debug flag' },
];

describe('a decision without ids', () => {
  it.each([
    ['b3', { sampled: false, debug: false }, { 'x-b3-sampled': '0' }],
    ['b3', { sampled: true, debug: true }, { 'x-b3-flags': '1' }],
    ['b3-single', { sampled: false, debug: false }, { b3: '0' }],
    ['b3-single', { sampled: true, debug: true }, { b3: 'd' }],
  ] as [Format, ExtractedContext, Record<string, string>][])('%s %o: ziptrace sends %o, which OTel ignores (OTel has no id-less decision)', (format, decision, sent) => {
    const carrier: Record<string, string> = {};
    ZIPTRACE[format].inject(decision, carrier);
    expect(carrier).toEqual(sent);
    expect(otelExtract(format, carrier).view).toBeUndefined();
  });
});

describe('OpenTelemetry injects, ziptrace extracts', () => {
  it('every OTel context is tried in every format', () => {
    for (const format of ['b3', 'b3-single', 'w3c'] as const) expect(FROM_OTEL.filter((r) => r.format === format).map((r) => r.context).sort()).toEqual(Object.keys(OTEL_CONTEXTS).sort());
  });

  it.each(FROM_OTEL)('$format: $context', ({ format, context, ziptrace }) => {
    const carrier = otelInject(format, OTEL_CONTEXTS[context]!());
    expect(Object.keys(carrier).length).toBeGreaterThan(0);
    const found = ZIPTRACE[format].extract(carrier);
    expectWellFormed(found);
    expect(essentials(found)).toEqual(ziptrace);
  });
});

interface RelayRow {
  from: Format;
  to: Format;
  context: ContextName;
  /** essentials() of what ziptrace reads after an OTel service passed the context on. */
  back: Record<string, unknown>;
  why?: string;
}

/** An OTel service between two ziptrace ones: B3Propagator reads single or multi, and writes its configured encoding. */
function relay(from: Format, to: Format, context: TraceContext): ExtractedContext | undefined {
  const incoming: Record<string, string> = {};
  ZIPTRACE[from].inject(context, incoming);
  const reader = from === 'w3c' ? OTEL.w3c() : OTEL[from]();
  useOtel(reader);
  const otelContext = propagation.extract(ROOT_CONTEXT, incoming, defaultTextMapGetter);
  const outgoing = otelInject(to, otelContext);
  return ZIPTRACE[to].extract(outgoing);
}

const back = (format: Format, fields: Partial<TraceContext>): Record<string, unknown> => got(format, { spanId: S, ...fields });

const RELAY: RelayRow[] = [
  // The same format in and out.
  { from: 'b3', to: 'b3', context: '128-bit, sampled, random, with parent', back: back('b3', { sampled: true }), why: 'the parent id is lost in OTel' },
  { from: 'b3', to: 'b3', context: '128-bit, deferred', back: back('b3', { sampled: false }), why: 'OTel turns "defer" into "not sampled" and sends X-B3-Sampled: 0' },
  { from: 'b3', to: 'b3', context: '128-bit, debug, with parent', back: back('b3', { sampled: true, debug: true }), why: 'no parent' },
  { from: 'b3', to: 'b3', context: '64-bit, sampled', back: back('b3', { traceId: PAD + T64, sampled: true }), why: 'OTel sends on the padded id' },
  { from: 'b3-single', to: 'b3-single', context: '128-bit, debug, with parent', back: back('b3-single', { sampled: true, debug: true }), why: 'no parent' },
  { from: 'b3-single', to: 'b3-single', context: '64-bit, deferred, with parent', back: back('b3-single', { traceId: PAD + T64, sampled: false }), why: 'padded; defer becomes "0"' },
  { from: 'w3c', to: 'w3c', context: '128-bit, sampled, random, with parent', back: back('w3c', { sampled: true, random: true }), why: 'traceparent has no parent; the random bit survives OTel as an opaque flag' },
  { from: 'w3c', to: 'w3c', context: 'with tracestate', back: back('w3c', { sampled: true, random: true, tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' }) },
  { from: 'w3c', to: 'w3c', context: 'with a tracestate longer than 512', back: back('w3c', { sampled: true, tracestate: LONG_TRACESTATE.split(',').slice(0, 8).join(',') }), why: 'OTel cuts tracestate at 512 characters' },
  // OTel's B3Propagator reading one encoding and writing the other.
  { from: 'b3', to: 'b3-single', context: '128-bit, debug, with parent', back: back('b3-single', { sampled: true }), why: 'OTel writes the multi header’s debug "1" as the single header’s sampling state "1": debug is lost' },
  { from: 'b3-single', to: 'b3', context: '128-bit, debug, with parent', back: back('b3', { sampled: true }), why: 'OTel’s multi injector sends X-B3-Flags only for a debug value of "1", not the single header’s "d": debug is lost' },
  { from: 'b3', to: 'b3-single', context: '64-bit, sampled', back: back('b3-single', { traceId: PAD + T64, sampled: true }), why: 'padded' },
  { from: 'b3-single', to: 'b3', context: '128-bit, not sampled', back: back('b3', { sampled: false }) },
];

describe('through an OpenTelemetry service and back', () => {
  it.each(RELAY)('$from → OTel → $to: $context', ({ from, to, context, back: want }) => {
    const found = relay(from, to, CONTEXTS[context]);
    expectWellFormed(found);
    expect(essentials(found)).toEqual(want);
  });
});

describe('what OTel and ziptrace both refuse', () => {
  // Inputs both must reject; a difference here would let one side continue a trace the other restarts.
  it.each([
    ['b3', { 'x-b3-traceid': '0'.repeat(32), 'x-b3-spanid': S, 'x-b3-sampled': '1' }],
    ['b3', { 'x-b3-traceid': T128, 'x-b3-spanid': '0'.repeat(16), 'x-b3-sampled': '1' }],
    ['b3', { 'x-b3-traceid': T128, 'x-b3-spanid': S, 'x-b3-sampled': 'maybe' }],
    ['b3-single', { b3: `${T128}-${'0'.repeat(16)}-1` }],
    ['w3c', { traceparent: `ff-${T128}-${S}-01` }],
    ['w3c', { traceparent: `00-${T128}-${S}-01-extra` }],
    ['w3c', { traceparent: `00-${T128.toUpperCase()}-${S}-01` }],
    ['w3c', { traceparent: `00-${'0'.repeat(32)}-${S}-01` }],
    ['w3c', { traceparent: `00-${T128}-${S}-01, 00-${T128}-${P}-01` }], // a repeated traceparent, joined by a proxy
  ] as [Format, Record<string, string>][])('%s %o', (format, carrier) => {
    expect(otelExtract(format, carrier).view).toBeUndefined();
    expect(ZIPTRACE[format].extract(carrier)).toBeUndefined();
  });

  // Inputs where ziptrace is stricter than OTel, each on purpose.
  it.each([
    ['b3', { 'x-b3-traceid': T64.slice(0, 12), 'x-b3-spanid': S, 'x-b3-sampled': '1' }, 'OTel pads any short id to 32; B3 ids are 16 or 32 characters'],
    ['b3', { 'x-b3-traceid': T128, 'x-b3-spanid': S, 'x-b3-parentspanid': 'zz', 'x-b3-sampled': '1' }, 'OTel ignores the parent id; a malformed one spoils the B3 set as a whole (Brave)'],
    ['b3-single', { b3: `junk${T128}-${S}-1` }, 'OTel’s pattern is not anchored: it finds a context inside junk'],
    ['b3-single', { b3: `${T128}-${S}-1, ${T128}-${P}-1` }, 'a repeated b3 header: OTel reads the first, ziptrace reads neither'],
  ] as [Format, Record<string, string>, string][])('%s %o: OTel reads it, ziptrace refuses (%s)', (format, carrier) => {
    expect(otelExtract(format, carrier).view).toBeDefined();
    expect(ZIPTRACE[format].extract(carrier)).toBeUndefined();
  });
});
