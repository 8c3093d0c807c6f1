/**
 * Message propagation (lib/propagation/messaging.ts): a producer writes the
 * single `b3` header without the parent id (as Brave does for messaging)
 * plus `traceparent`; a consumer reads them back from string or Buffer
 * header values (Kafka clients give Buffers), and its CONSUMER span is always
 * a child of the producer's span, never a join: a message may be consumed
 * many times, long after.
 */
import { describe, expect, it } from 'vitest';
import { createTracer, extractMessage, injectMessage, MemoryReporter, type ExtractedContext, type Tracer, type TracerOptions } from '../../lib/index.js';
import { ctx, essentials, expectWellFormed } from './helpers.js';

const TRACE = '80f198ee56343ba864fe8b2a57d3eff7';
const T64 = '64fe8b2a57d3eff7';
const SPAN = 'e457b5a2e4d86bd1';
const PARENT = '05e3ac9a4f6e3b90';

function setup(options: Partial<TracerOptions> = {}): { tracer: Tracer; reporter: MemoryReporter } {
  const reporter = new MemoryReporter();
  return { tracer: createTracer({ serviceName: 'messaging-spec', reporter, global: false, ...options }), reporter };
}

/** Headers as a Kafka client hands them to a consumer: every value a Buffer. */
function overKafka(headers: Record<string, string>): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));
}

describe('injectMessage', () => {
  it.each([
    ['sampled, with a parent: the parent id stays off the message', ctx({ traceId: TRACE, spanId: SPAN, parentId: PARENT, sampled: true }), { b3: `${TRACE}-${SPAN}-1`, traceparent: `00-${TRACE}-${SPAN}-01` }],
    ['not sampled, random', ctx({ traceId: TRACE, spanId: SPAN, sampled: false, random: true }), { b3: `${TRACE}-${SPAN}-0`, traceparent: `00-${TRACE}-${SPAN}-02` }],
    ['debug', ctx({ traceId: TRACE, spanId: SPAN, parentId: PARENT, sampled: true, debug: true }), { b3: `${TRACE}-${SPAN}-d`, traceparent: `00-${TRACE}-${SPAN}-01` }],
    ['deferred', ctx({ traceId: TRACE, spanId: SPAN }), { b3: `${TRACE}-${SPAN}`, traceparent: `00-${TRACE}-${SPAN}-00` }],
    ['64-bit trace id', ctx({ traceId: T64, spanId: SPAN, sampled: true }), { b3: `${T64}-${SPAN}-1`, traceparent: `00-${T64.padStart(32, '0')}-${SPAN}-01` }],
    ['with tracestate', ctx({ traceId: TRACE, spanId: SPAN, sampled: true, tracestate: 'rojo=1' }), { b3: `${TRACE}-${SPAN}-1`, traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'rojo=1' }],
    ['a bare decision', { sampled: false, debug: false }, { b3: '0' }],
  ] as [string, ExtractedContext, Record<string, string>][])('%s', (_name, context, want) => {
    const viaFunction: Record<string, string> = {};
    injectMessage(context, viaFunction);
    expect(viaFunction).toEqual(want);
    const viaTracer: Record<string, string> = {};
    setup().tracer.injectMessage(context, viaTracer);
    expect(viaTracer).toEqual(want);
  });

  it('takes a PRODUCER span, and writes into a Map or fetch Headers as well', () => {
    const { tracer } = setup();
    const producer = tracer.startSpan('send', { kind: 'PRODUCER', parent: null });
    const map = new Map<string, string>();
    const headers = new Headers();
    injectMessage(producer, map);
    tracer.injectMessage(producer, headers);
    expect(map.get('b3')).toBe(`${producer.context.traceId}-${producer.context.spanId}-1`);
    expect(headers.get('b3')).toBe(map.get('b3'));
    expect(headers.get('traceparent')).toBe(`00-${producer.context.traceId}-${producer.context.spanId}-03`);
  });

  it('tracer.injectMessage never throws: into frozen headers it writes nothing, where injectMessage throws', () => {
    const frozen: Record<string, string> = Object.freeze({});
    const context = ctx({ traceId: TRACE, spanId: SPAN });
    expect(setup().tracer.injectMessage(context, frozen)).toBeUndefined();
    expect(frozen).toEqual({});
    // What the tracer caught: the first write failed (an ES module is strict), so nothing was written.
    expect(() => injectMessage(context, frozen)).toThrow(TypeError);
    expect(frozen).toEqual({});
  });

  it('tracer.injectMessage keeps what was written before a setter failed, and stops there', () => {
    const written: [string, string][] = [];
    const failsOnTraceparent = {
      set(_carrier: unknown, name: string, value: string) {
        if (name === 'traceparent') throw new Error('traceparent refused');
        written.push([name, value]);
      },
    };
    setup().tracer.injectMessage(ctx({ traceId: TRACE, spanId: SPAN, sampled: true, tracestate: 'a=1' }), {}, failsOnTraceparent);
    // b3 goes first and stays; traceparent failed, and tracestate after it was not attempted.
    expect(written).toEqual([['b3', `${TRACE}-${SPAN}-1`]]);
  });

  it.each([
    ['{ context: null }', { context: null }],
    ['{ context: undefined }', { context: undefined }],
    ['{ context: a string }', { context: 'not a context' }],
    ['null', null],
    ['undefined', undefined],
  ])('a span-or-context that is %s writes nothing and does not throw', (_name, value) => {
    const target = value as unknown as ExtractedContext;
    const viaFunction: Record<string, string> = {};
    expect(injectMessage(target, viaFunction)).toBeUndefined();
    expect(viaFunction).toEqual({});
    const viaTracer: Record<string, string> = {};
    expect(setup().tracer.injectMessage(target, viaTracer)).toBeUndefined();
    expect(viaTracer).toEqual({});
    // A Map and fetch Headers stay empty too.
    const map = new Map<string, string>();
    const headers = new Headers();
    injectMessage(target, map);
    injectMessage(target, headers);
    expect(map.size).toBe(0);
    expect([...headers.keys()]).toEqual([]);
  });
});

describe('extractMessage', () => {
  const rows: [string, unknown, Record<string, unknown> | undefined][] = [
    ['string values', { b3: `${TRACE}-${SPAN}-1`, traceparent: `00-${TRACE}-${SPAN}-01` }, { traceId: TRACE, spanId: SPAN, sampled: true, debug: false, source: 'b3-single', random: false }],
    ['Buffer values (Kafka)', overKafka({ b3: `${TRACE}-${SPAN}-0`, traceparent: `00-${TRACE}-${SPAN}-00` }), { traceId: TRACE, spanId: SPAN, sampled: false, debug: false, source: 'b3-single', random: false }],
    ['a Map of Buffers', new Map([['b3', Buffer.from(`${TRACE}-${SPAN}-d`)]]), { traceId: TRACE, spanId: SPAN, sampled: true, debug: true, source: 'b3-single', random: false }],
    ['only traceparent (an OpenTelemetry producer)', overKafka({ traceparent: `00-${TRACE}-${SPAN}-03`, tracestate: 'a=1' }), { traceId: TRACE, spanId: SPAN, sampled: true, debug: false, source: 'w3c', random: true, tracestate: 'a=1' }],
    ['only B3 multi (an older producer)', overKafka({ 'X-B3-TraceId': TRACE, 'X-B3-SpanId': SPAN, 'X-B3-Sampled': '1' }), { traceId: TRACE, spanId: SPAN, sampled: true, debug: false, source: 'b3', random: false }],
    ['b3 wins over traceparent; tracestate of the same trace comes along', overKafka({ b3: `${TRACE}-${SPAN}-1`, traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'a=1' }), { traceId: TRACE, spanId: SPAN, sampled: true, debug: false, source: 'b3-single', random: false, tracestate: 'a=1' }],
    ['traceparent wins over B3 multi', { traceparent: `00-${TRACE}-${SPAN}-01`, 'x-b3-traceid': T64, 'x-b3-spanid': PARENT }, { traceId: TRACE, spanId: SPAN, sampled: true, debug: false, source: 'w3c', random: false }],
    ['a bare decision', overKafka({ b3: '0' }), { sampled: false, debug: false, source: 'b3-single' }],
    ['a malformed b3 falls back to traceparent', overKafka({ b3: `${TRACE}-${SPAN}-x`, traceparent: `00-${TRACE}-${SPAN}-01` }), { traceId: TRACE, spanId: SPAN, sampled: true, debug: false, source: 'w3c', random: false }],
    ['b3 repeated (an array of Buffers) falls back to traceparent', { b3: [Buffer.from(`${TRACE}-${SPAN}-1`), Buffer.from(`${TRACE}-${PARENT}-1`)], traceparent: Buffer.from(`00-${TRACE}-${SPAN}-01`) }, { traceId: TRACE, spanId: SPAN, sampled: true, debug: false, source: 'w3c', random: false }],
    ['nothing valid', overKafka({ b3: 'garbage', traceparent: 'garbage' }), undefined],
    ['no headers at all', {}, undefined],
    ['no carrier at all', undefined, undefined],
  ];
  it.each(rows)('%s', (_name, headers, want) => {
    for (const found of [extractMessage(headers), setup().tracer.extractMessage(headers)]) {
      expectWellFormed(found);
      expect(essentials(found)).toEqual(want);
    }
  });

  it('applies trustSampling and trustDebug', () => {
    const headers = overKafka({ b3: `${TRACE}-${SPAN}-d` });
    expect(setup({ propagation: { trustDebug: false } }).tracer.extractMessage(headers)).toMatchObject({ traceId: TRACE, debug: false, sampled: undefined });
    expect(setup({ propagation: { trustSampling: false } }).tracer.extractMessage(overKafka({ b3: `${TRACE}-${SPAN}-0` }))).toMatchObject({ traceId: TRACE, sampled: undefined });
  });
});

describe('producer to consumer', () => {
  it.each([
    ['b3 and traceparent', (h: Record<string, string>) => h],
    ['traceparent only', (h: Record<string, string>) => ({ traceparent: h.traceparent! })],
    ['b3 only', (h: Record<string, string>) => ({ b3: h.b3! })],
  ])('the CONSUMER span is a child of the PRODUCER span (%s), never a join', (_name, keep) => {
    for (const supportsJoin of [true, false]) {
      const { tracer, reporter } = setup({ supportsJoin });
      const producer = tracer.startSpan('send', { kind: 'PRODUCER', parent: ctx({ traceId: TRACE, spanId: PARENT, sampled: true }) });
      const headers: Record<string, string> = {};
      tracer.injectMessage(producer, headers);
      producer.finish();

      const parent = tracer.extractMessage(overKafka(keep(headers)));
      const consumer = tracer.startSpan('process', { kind: 'CONSUMER', parent });
      expect(consumer.context.traceId).toBe(TRACE);
      expect(consumer.context.spanId).not.toBe(producer.context.spanId);
      expect(consumer.context.parentId).toBe(producer.context.spanId);
      expect(consumer.context.shared).toBe(false);
      consumer.finish();

      const [sent, processed] = reporter.spans;
      expect(sent).toMatchObject({ kind: 'PRODUCER', traceId: TRACE, parentId: PARENT });
      expect(processed).toMatchObject({ kind: 'CONSUMER', traceId: TRACE, parentId: sent!.id });
      expect(processed!.id).not.toBe(sent!.id);
      expect(processed!.shared).toBeUndefined();
    }
  });

  it('a message consumed twice gives two sibling CONSUMER spans', () => {
    const { tracer } = setup();
    const headers: Record<string, string> = {};
    tracer.injectMessage(ctx({ traceId: TRACE, spanId: SPAN, sampled: true }), headers);
    const a = tracer.startSpan('process', { kind: 'CONSUMER', parent: tracer.extractMessage(overKafka(headers)) });
    const b = tracer.startSpan('process', { kind: 'CONSUMER', parent: tracer.extractMessage(overKafka(headers)) });
    expect(a.context.parentId).toBe(SPAN);
    expect(b.context.parentId).toBe(SPAN);
    expect(a.context.spanId).not.toBe(b.context.spanId);
  });

  it.each([
    ['not sampled', ctx({ traceId: TRACE, spanId: SPAN, sampled: false }), false, false],
    ['debug', ctx({ traceId: TRACE, spanId: SPAN, sampled: true, debug: true }), true, true],
  ])('the consumer keeps the producer’s decision: %s', (_name, producer, sampled, debugFlag) => {
    const { tracer } = setup({ sampleRate: sampled ? 0 : 1 });
    const headers: Record<string, string> = {};
    tracer.injectMessage(producer, headers);
    const consumer = tracer.startSpan('process', { kind: 'CONSUMER', parent: tracer.extractMessage(overKafka(headers)) });
    expect(consumer.context).toMatchObject({ traceId: TRACE, parentId: SPAN, sampled, debug: debugFlag });
  });

  it('a deferred producer leaves the decision to the consumer’s sampler', () => {
    const headers: Record<string, string> = {};
    injectMessage(ctx({ traceId: TRACE, spanId: SPAN }), headers);
    for (const [sampleRate, sampled] of [[0, false], [1, true]] as const) {
      const { tracer } = setup({ sampleRate });
      const consumer = tracer.startSpan('process', { kind: 'CONSUMER', parent: tracer.extractMessage(headers) });
      expect(consumer.context).toMatchObject({ traceId: TRACE, parentId: SPAN, sampled });
    }
  });

  it('a bare b3: 0 on a message: the consumer starts a new trace, not sampled', () => {
    const { tracer } = setup({ sampleRate: 1 });
    const consumer = tracer.startSpan('process', { kind: 'CONSUMER', parent: tracer.extractMessage(overKafka({ b3: '0' })) });
    expect(consumer.context.parentId).toBeUndefined();
    expect(consumer.context.sampled).toBe(false);
  });

  it('malformed headers: the consumer starts a new trace with none of their ids', () => {
    const { tracer } = setup();
    const parent = tracer.extractMessage(overKafka({ b3: `${TRACE}-0000000000000000-1`, traceparent: `00-${TRACE}-0000000000000000-01` }));
    expect(parent).toBeUndefined();
    const consumer = tracer.startSpan('process', { kind: 'CONSUMER', parent: parent ?? null });
    expect(consumer.context.traceId).not.toBe(TRACE);
    expect(consumer.context.parentId).toBeUndefined();
  });

  it('tracestate travels on the message and stays with the consumer’s spans', () => {
    const { tracer } = setup();
    const headers: Record<string, string> = {};
    tracer.injectMessage(ctx({ traceId: TRACE, spanId: SPAN, sampled: true, tracestate: 'rojo=00f067aa0ba902b7' }), headers);
    const consumer = tracer.startSpan('process', { kind: 'CONSUMER', parent: tracer.extractMessage(overKafka(headers)) });
    expect(consumer.context.tracestate).toBe('rojo=00f067aa0ba902b7');
    const onward: Record<string, string> = {};
    tracer.injectMessage(consumer, onward);
    expect(onward.tracestate).toBe('rojo=00f067aa0ba902b7');
  });
});
