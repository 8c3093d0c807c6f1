/**
 * How an OpenTelemetry span becomes a Zipkin span through the bridge, table
 * by table: attributes, events, status and exceptions, kinds, times; and the
 * propagator, through the tracer's own propagation.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span as OtelSpan, type TimeInput } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentSpan, type MemoryReporter, type Tracer, type ZipkinSpan } from '../../lib/index.js';
import { registerOpenTelemetry, ZiptracePropagator } from '../../lib/opentelemetry.js';
import { toEpochMicros } from '../../lib/opentelemetry/time.js';
import { loadApi } from '../../lib/opentelemetry/api.js';
import { clearGlobalTracerAfterEach, memoryTracer, only } from '../helpers/tracing.js';

clearGlobalTracerAfterEach();

let tracer: Tracer;
let reporter: MemoryReporter;
let undo: () => void;
beforeEach(() => {
  ({ tracer, reporter } = memoryTracer('mapping'));
  undo = registerOpenTelemetry(tracer);
});
afterEach(() => undo());

/** The Zipkin span that `use` makes of a fresh OpenTelemetry span (ended after, unless `use` ended it). */
function zipkinOf(use: (span: OtelSpan) => void, options: Parameters<ReturnType<typeof trace.getTracer>['startSpan']>[1] = {}): ZipkinSpan {
  const span = trace.getTracer('t').startSpan('s', options);
  use(span);
  span.end();
  return only(reporter, 's');
}

// Whole seconds after the process began: OpenTelemetry (and the bridge) read a smaller number as a performance.now() reading.
const START = (Math.floor(performance.timeOrigin / 1000) + 100) * 1000;

describe('attributes become tags', () => {
  it.each<[string, Attributes, Record<string, string>]>([
    ['a string as it is', { 'http.method': 'GET' }, { 'http.method': 'GET' }],
    ['a number as text', { 'http.status_code': 200, ratio: 0.5 }, { 'http.status_code': '200', ratio: '0.5' }],
    ['a boolean as text', { cached: false }, { cached: 'false' }],
    ['an array as JSON', { hosts: ['a', 'b'], ports: [1, 2] }, { hosts: '["a","b"]', ports: '[1,2]' }],
    ['undefined dropped', { gone: undefined, kept: 'x' }, { kept: 'x' }],
  ])('%s', (_, attributes, tags) => {
    const fromStart = zipkinOf(() => undefined, { attributes });
    reporter.clear();
    const fromSet = zipkinOf((span) => span.setAttributes(attributes));
    reporter.clear();
    const one = Object.entries(attributes)[0]!;
    const fromOne = zipkinOf((span) => span.setAttribute(one[0], one[1]!));
    expect(fromStart.tags).toMatchObject(tags);
    expect(fromSet.tags).toMatchObject(tags);
    if (one[1] !== undefined) expect(fromOne.tags![one[0]]).toBe(tags[one[0]]);
    expect(fromStart.tags).toMatchObject({ 'otel.scope.name': 't' });
  });

  it('setAttributes ignores what is not an object; a tracer with no scope name or version tags neither', () => {
    const span = trace.getTracer('').startSpan('s');
    span.setAttributes(null as never);
    span.end();
    expect(only(reporter, 's').tags).toBeUndefined();
  });
});

describe('events become annotations', () => {
  it.each<[string, (span: OtelSpan) => void, { value: string; timestamp?: number }]>([
    ['the name, now', (s) => s.addEvent('cache miss'), { value: 'cache miss' }],
    ['attributes as JSON after the name', (s) => s.addEvent('retry', { attempt: 2 }), { value: 'retry {"attempt":2}' }],
    ['empty attributes: the name alone', (s) => s.addEvent('plain', {}), { value: 'plain' }],
    ['a time in epoch milliseconds', (s) => s.addEvent('at', START), { value: 'at', timestamp: START * 1000 }],
    ['attributes and a Date', (s) => s.addEvent('both', { k: 'v' }, new Date(START)), { value: 'both {"k":"v"}', timestamp: START * 1000 }],
    ['an hrtime', (s) => s.addEvent('hr', [START / 1000, 500_000]), { value: 'hr', timestamp: START * 1000 + 500 }],
  ])('%s', (_, use, expected) => {
    const annotation = zipkinOf(use, { startTime: START - 1 }).annotations![0]!;
    expect(annotation.value).toBe(expected.value);
    if (expected.timestamp !== undefined) expect(annotation.timestamp).toBe(expected.timestamp);
  });
});

describe('status and exceptions become the error tag', () => {
  it.each<[string, (span: OtelSpan) => void, string | undefined, string[]]>([
    ['ERROR with a message: the message', (s) => s.setStatus({ code: SpanStatusCode.ERROR, message: 'timed out' }), 'timed out', []],
    ["ERROR without one: 'true'", (s) => s.setStatus({ code: SpanStatusCode.ERROR }), 'true', []],
    ['OK: no error tag', (s) => s.setStatus({ code: SpanStatusCode.OK }), undefined, []],
    ['UNSET: no error tag', (s) => s.setStatus({ code: SpanStatusCode.UNSET }), undefined, []],
    ['OK is final: a later ERROR is ignored', (s) => (s.setStatus({ code: SpanStatusCode.OK }), s.setStatus({ code: SpanStatusCode.ERROR, message: 'no' })), undefined, []],
    ['a status that is not an object: ignored', (s) => s.setStatus(null as never), undefined, []],
    ['recordException(Error): its message, and an annotation', (s) => s.recordException(new TypeError('bad input')), 'bad input', ['exception {"exception.type":"TypeError","exception.message":"bad input"}']],
    ['recordException(string)', (s) => s.recordException('plain text'), 'plain text', ['exception {"exception.message":"plain text"}']],
    ['recordException after OK: the annotation only', (s) => (s.setStatus({ code: SpanStatusCode.OK }), s.recordException(new Error('x'))), undefined, ['exception {"exception.type":"Error","exception.message":"x"}']],
  ])('%s', (_, use, error, annotations) => {
    const span = zipkinOf(use);
    expect(span.tags?.error).toBe(error);
    expect((span.annotations ?? []).map((a) => a.value)).toEqual(annotations);
  });

  it('recordException on an ended span does nothing', () => {
    const span = trace.getTracer('t').startSpan('s');
    span.end();
    span.recordException(new Error('late'));
    expect(only(reporter, 's').tags?.error).toBeUndefined();
  });
});

describe('kinds, names, links, times', () => {
  it.each<[SpanKind | undefined, string | undefined]>([
    [undefined, undefined],
    [SpanKind.INTERNAL, undefined],
    [SpanKind.SERVER, 'SERVER'],
    [SpanKind.CLIENT, 'CLIENT'],
    [SpanKind.PRODUCER, 'PRODUCER'],
    [SpanKind.CONSUMER, 'CONSUMER'],
  ])('SpanKind %s → %s', (kind, expected) => {
    expect(zipkinOf(() => undefined, { kind }).kind).toBe(expected);
  });

  it('updateName renames; links (at the start and added) are dropped; isRecording turns false at end', () => {
    const link = { context: { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: 1 } };
    const span = zipkinOf((s) => {
      expect(s.updateName('s').addLink(link).addLinks([link])).toBe(s);
      expect(s.isRecording()).toBe(true);
    }, { links: [link] });
    expect(span.name).toBe('s');
  });

  it.each<[string, TimeInput, TimeInput, number, number]>([
    ['epoch milliseconds', START, START + 25, START * 1000, 25_000],
    ['Dates', new Date(START), new Date(START + 3), START * 1000, 3000],
    ['hrtimes', [START / 1000, 0], [START / 1000, 1_500_000], START * 1000, 1500],
    ['performance.now() readings', 100, 112, Math.round((performance.timeOrigin + 100) * 1000), 12_000],
  ])('startTime and end(time) as %s', (_, startTime, endTime, timestamp, duration) => {
    const span = trace.getTracer('t').startSpan('s', { startTime });
    span.end(endTime);
    const zipkin = only(reporter, 's');
    expect(zipkin.timestamp).toBeCloseTo(timestamp, -1);
    expect(zipkin.duration).toBeCloseTo(duration, -1);
  });

  it.each([[undefined], [Number.NaN], [-1], [new Date(Number.NaN)], [[1, 2, 3]], ['soon']])('toEpochMicros(%s) is no time', (time) => {
    expect(toEpochMicros(time as TimeInput)).toBeUndefined();
  });

  it('a start time ziptrace cannot take starts the span now instead of throwing', () => {
    const parent = trace.getTracer('t').startSpan('p');
    const child = trace.getTracer('t').startSpan('s', { startTime: [1e12, 0] }, trace.setSpan(ROOT_CONTEXT, parent));
    child.end();
    parent.end();
    expect(only(reporter, 's').parentId).toBe(only(reporter, 'p').id);
    expect(only(reporter, 's').timestamp).toBeGreaterThan(Date.now() * 1000 - 60e6);
  });
});

describe('the propagator: the tracer’s own propagation', () => {
  it('injects B3 multi and traceparent (the default) for the active span, through the OTel setter', () => {
    tracer.withSpan('client', (span) => {
      const headers = new Map<string, string>();
      propagation.inject(context.active(), headers, { set: (carrier, key, value) => carrier.set(key, value) });
      expect(headers.get('x-b3-traceid')).toBe(span.context.traceId);
      expect(headers.get('x-b3-spanid')).toBe(span.context.spanId);
      expect(headers.get('traceparent')).toMatch(new RegExp(`^00-${span.context.traceId}-${span.context.spanId}-0[13]$`));
    });
    expect(propagation.fields()).toEqual(expect.arrayContaining(['b3', 'x-b3-traceid', 'traceparent']));
  });

  it("injects a foreign span context's ids; nothing without a span", () => {
    const headers: Record<string, string> = {};
    propagation.inject(ROOT_CONTEXT, headers);
    expect(headers).toEqual({});
    propagation.inject(trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ traceId: 'e'.repeat(32), spanId: 'f'.repeat(16), traceFlags: 1 })), headers);
    expect(headers['x-b3-traceid']).toBe('e'.repeat(32));
    const none: Record<string, string> = {};
    propagation.inject(trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ traceId: 'nope', spanId: 'x', traceFlags: 1 })), none);
    expect(none).toEqual({});
  });

  it('a tracer configured for W3C only injects and extracts W3C only', () => {
    const { tracer: w3c, reporter: w3cReporter } = memoryTracer('w3c-only', { global: false, propagation: { inject: ['w3c'], extract: ['w3c'] } });
    const propagator = new ZiptracePropagator(w3c);
    expect(propagator.fields()).toEqual(['traceparent', 'tracestate']);
    const ctx = propagator.extract(ROOT_CONTEXT, { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`, tracestate: 'v=1', 'x-b3-traceid': '3'.repeat(32) }, { get: (c, k) => (c as Record<string, string>)[k], keys: (c) => Object.keys(c as object) });
    const remote = trace.getSpan(ctx)!;
    expect(remote.spanContext()).toMatchObject({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1, isRemote: true });
    expect(remote.spanContext().traceState?.get('v')).toBe('1');
    expect(remote.isRecording()).toBe(false);
    const out: Record<string, string> = {};
    propagator.inject(ctx, out, { set: (c, k, v) => ((c as Record<string, string>)[k] = v) });
    expect(out).toEqual({ traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`, tracestate: 'v=1' });
    expect(w3cReporter.spans).toEqual([]);
  });

  it('extracts a B3 context that a SERVER span joins (the shared span, as ziptrace servers do) and other spans are children of', () => {
    const headers = { 'x-b3-traceid': 'a'.repeat(16), 'x-b3-spanid': 'b'.repeat(16), 'x-b3-sampled': '1' };
    const ctx = propagation.extract(ROOT_CONTEXT, headers);
    const otelTracer = trace.getTracer('server');
    otelTracer.startSpan('joined', { kind: SpanKind.SERVER }, ctx).end();
    otelTracer.startSpan('child', { kind: SpanKind.CONSUMER }, ctx).end();
    context.with(ctx, () => tracer.withSpan('zip child', () => undefined));
    expect(only(reporter, 'joined')).toMatchObject({ traceId: 'a'.repeat(16), id: 'b'.repeat(16), shared: true, kind: 'SERVER' });
    expect(only(reporter, 'child')).toMatchObject({ traceId: 'a'.repeat(16), parentId: 'b'.repeat(16) });
    expect(only(reporter, 'zip child')).toMatchObject({ traceId: 'a'.repeat(16), parentId: 'b'.repeat(16) });
    expect(trace.getSpan(ctx)!.spanContext().traceId).toBe('a'.repeat(16).padStart(32, '0'));
  });

  it('a bare decision (b3: 0) starts an unsampled trace; nothing extracted leaves the Context as it was', () => {
    const ctx = propagation.extract(ROOT_CONTEXT, { b3: '0' });
    expect(trace.isSpanContextValid(trace.getSpan(ctx)!.spanContext())).toBe(false);
    const span = trace.getTracer('t').startSpan('decided', {}, ctx);
    expect(span.isRecording()).toBe(false);
    context.with(ctx, () => expect(currentSpan()!.context.sampled).toBe(false));
    expect(propagation.extract(ROOT_CONTEXT, {})).toBe(ROOT_CONTEXT);
  });
});

describe('the door to @opentelemetry/api', () => {
  it('a missing package says what to install; other errors pass through', () => {
    const missing = Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' });
    expect(() => loadApi(() => { throw missing; })).toThrow(/needs @opentelemetry\/api \(>=1\.3 <2\), which is not installed: npm install @opentelemetry\/api/);
    const other = new SyntaxError('broken');
    expect(() => loadApi(() => { throw other; })).toThrow(other);
  });
});
