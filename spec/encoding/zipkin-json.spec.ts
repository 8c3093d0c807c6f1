import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  InvalidArgumentError,
  InvalidTimestampError,
  createEndpoint,
  createTracer,
  encodeSpans,
  getGlobalTracer,
  MemoryReporter,
  setGlobalTracer,
  type Span,
  type SpanKind,
  type TagValue,
  type TraceContext,
  type Tracer,
  type TracerOptions,
  type ZipkinSpan,
} from '../../lib/index.js';
import { encodeFinishedSpanInto, HEAD_ROOM, NO_ROOM, REPORT_FINISHED, type FinishedSpanReporter } from '../../lib/encoding/zipkin-bytes.js';
import { encodeFinishedSpan } from '../../lib/encoding/zipkin-json.js';
import type { Reporter } from '../../lib/types.js';
import { validateZipkinSpans, zipkinSpanSchemaErrors } from '../helpers/zipkin-schema.js';

// Every span ziptrace hands a reporter, and every body encodeSpans makes, must
// be a valid POST /api/v2/spans body per Zipkin's own API definition.

const SERVICE = 'checkout';
/** 2023-11-14T22:13:20Z in epoch microseconds. */
const T0 = 1_700_000_000_000_000;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const open: Tracer[] = [];

/*
 * Every tracer made by setup() also has a reporter with reportJson, the path
 * HttpReporter takes: the tracer encodes straight from the span for it. After
 * each test, every span the MemoryReporter got as an object must have reached
 * that reporter as exactly the text JSON.stringify makes of the object.
 */
const jsonChecks: { reporter: MemoryReporter; texts: Map<string, string> }[] = [];
/** What bytesReporter found wrong, thrown at the end of the test. */
const byteFailures: unknown[] = [];

afterEach(async () => {
  setGlobalTracer(undefined);
  await Promise.all(open.splice(0).map((tracer) => tracer.close()));
  const failures = byteFailures.splice(0);
  if (failures.length > 0) throw failures[0];
  for (const { reporter, texts } of jsonChecks.splice(0)) {
    for (const span of reporter.spans) expect(texts.get(`${span.traceId}/${span.id}`), span.name).toBe(JSON.stringify(span));
  }
});

function setup(options: Omit<TracerOptions, 'reporter' | 'global'> = {}): { tracer: Tracer; reporter: MemoryReporter; texts: Map<string, string> } {
  const reporter = new MemoryReporter();
  const texts = new Map<string, string>();
  const jsonReporter = {
    report(): void {
      throw new Error('a reporter with reportJson must get the span as JSON');
    },
    reportJson(json: string): void {
      const { traceId, id } = JSON.parse(json) as ZipkinSpan;
      texts.set(`${traceId}/${id}`, json);
    },
  };
  jsonChecks.push({ reporter, texts });
  const named = options.serviceName !== undefined || options.localEndpoint !== undefined;
  const tracer = createTracer({ ...(named ? {} : { serviceName: SERVICE }), ...options, reporter: [reporter, jsonReporter, bytesReporter()], global: false });
  open.push(tracer);
  return { tracer, reporter, texts };
}

/**
 * A reporter that takes the finished span itself, as HttpReporter does
 * (zipkin-bytes.ts): each span written into bytes must be exactly the UTF-8
 * of the text the tracer would have made, wherever in a buffer it is written,
 * and in any buffer too short for it the writer must say so (NO_ROOM) without
 * touching a byte before where it was to start.
 */
function bytesReporter(): Reporter & FinishedSpanReporter {
  return {
    report(): void {
      byteFailures.push(new Error('a reporter that takes finished spans must get them so, not as an object'));
    },
    [REPORT_FINISHED](span, endpointPart): void {
      // The tracer catches what a reporter throws: a failure is kept for afterEach to fail the test with.
      try {
        checkBytes(span, endpointPart);
      } catch (error) {
        byteFailures.push(error);
      }
    },
  };
  function checkBytes(span: Parameters<FinishedSpanReporter[typeof REPORT_FINISHED]>[0], endpointPart: string): void {
      const expected = Buffer.from(encodeFinishedSpan(span, endpointPart));
      const endpoint = Buffer.from(endpointPart);
      const at = 1 + (expected.length % 7);
      const buf = Buffer.alloc(at + expected.length + HEAD_ROOM + 64);
      const end = encodeFinishedSpanInto(span, endpoint, buf, at);
      expect(end).toBe(at + expected.length);
      expect(buf.subarray(at, end).equals(expected)).toBe(true);
      const step = Math.max(1, Math.floor(expected.length / 40));
      for (let room = 0; room < expected.length; room += room >= expected.length - 8 ? 1 : step) {
        const short = Buffer.alloc(at + room, 0xee);
        expect(encodeFinishedSpanInto(span, endpoint, short, at)).toBe(NO_ROOM);
        expect(short.subarray(0, at).every((byte) => byte === 0xee)).toBe(true);
      }
      // The head is measured by a reservation (HEAD_ROOM) before it is written: room for the span and that always fits.
      const exact = Buffer.alloc(at + expected.length + HEAD_ROOM);
      expect(encodeFinishedSpanInto(span, endpoint, exact, at)).toBe(at + expected.length);
      expect(exact.subarray(at, at + expected.length).equals(expected)).toBe(true);
  }
}

/** Valid as reporters get them, and as the JSON body, which decodes to the same spans. */
function expectValid(spans: readonly ZipkinSpan[]): void {
  validateZipkinSpans(spans);
  const body = encodeSpans(spans);
  const decoded: unknown = JSON.parse(body);
  validateZipkinSpans(decoded);
  expect(decoded).toEqual(spans);
}

function deepNulls(value: unknown, at = ''): string[] {
  if (value === null) return [at || '(root)'];
  if (typeof value !== 'object') return [];
  return Object.keys(value).flatMap((key) => deepNulls((value as Record<string, unknown>)[key], `${at}/${key}`));
}

/** What every reported ziptrace span looks like, whatever was done to it. */
function expectZiptraceShape(span: ZipkinSpan, serviceName = SERVICE): void {
  expect(deepNulls(span)).toEqual([]);
  for (const [key, value] of Object.entries(span)) expect(value, key).not.toBeUndefined();
  expect(Number.isSafeInteger(span.timestamp)).toBe(true);
  expect(Number.isSafeInteger(span.duration)).toBe(true);
  expect(span.duration).toBeGreaterThanOrEqual(1);
  expect(span.localEndpoint?.serviceName).toBe(serviceName);
  if ('kind' in span) expect(['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER']).toContain(span.kind);
  if ('debug' in span) expect(span.debug).toBe(true);
  if ('shared' in span) expect(span.shared).toBe(true);
  if ('parentId' in span) expect(span.parentId).toMatch(/^[0-9a-f]{16}$/);
  if ('name' in span) expect(span.name).not.toBe('');
  for (const value of Object.values(span.tags ?? {})) expect(typeof value).toBe('string');
  for (const annotation of span.annotations ?? []) {
    expect(Number.isSafeInteger(annotation.timestamp)).toBe(true);
    expect(typeof annotation.value).toBe('string');
  }
}

function only(reporter: MemoryReporter, name: string): ZipkinSpan {
  const spans = reporter.byName(name);
  expect(spans, `spans named ${name}`).toHaveLength(1);
  return spans[0]!;
}

describe('Zipkin v2 JSON from the span API', () => {
  it('nests withSpan spans in one trace: roots have no parentId, children point at their parent', async () => {
    const { tracer, reporter } = setup();
    await tracer.withSpan('get /orders', { kind: 'SERVER' }, async () => {
      tracer.withSpan('load cart', () => undefined);
      await tracer.withSpan('select orders', { kind: 'CLIENT' }, async (span) => {
        span.tag('db.system', 'postgresql');
        await new Promise((resolve) => setTimeout(resolve, 2));
        tracer.startSpan('decode rows').finish();
      });
    });
    const spans = reporter.spans;
    expect(spans.map((s) => s.name)).toEqual(['load cart', 'decode rows', 'select orders', 'get /orders']);
    expectValid(spans);
    for (const span of spans) expectZiptraceShape(span);

    const root = only(reporter, 'get /orders');
    const select = only(reporter, 'select orders');
    expect('parentId' in root).toBe(false);
    expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(root.kind).toBe('SERVER');
    expect(only(reporter, 'load cart').parentId).toBe(root.id);
    expect(select.parentId).toBe(root.id);
    expect(select.kind).toBe('CLIENT');
    expect(select.duration).toBeGreaterThanOrEqual(1000);
    expect(only(reporter, 'decode rows').parentId).toBe(select.id);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    expect(new Set(spans.map((s) => s.id)).size).toBe(4);
    // Local spans carry no kind, and nothing ziptrace did not set.
    expect('kind' in only(reporter, 'load cart')).toBe(false);
    for (const span of spans) {
      expect('debug' in span).toBe(false);
      expect('shared' in span).toBe(false);
      expect('remoteEndpoint' in span).toBe(false);
    }
  });

  it('reports every kind in upper case, set through options or the span; the setter ignores and counts unknown kinds, the options refuse them', () => {
    const { tracer, reporter } = setup();
    for (const kind of ['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER'] as const) {
      tracer.startSpan(`opt ${kind}`, { kind }).finish();
      tracer.startSpan(`set ${kind}`).kind(kind).finish();
    }
    tracer.startSpan('lower').kind('client' as SpanKind).finish();
    expect(() => tracer.startSpan('bogus', { kind: 'RPC' as SpanKind })).toThrow(/kind must be 'CLIENT', 'SERVER', 'PRODUCER' or 'CONSUMER'.*got "RPC"/);
    tracer.startSpan('reset', { kind: 'CLIENT' }).kind(undefined).finish();
    tracer.startSpan('keep').kind('SERVER').kind('server' as SpanKind).finish();
    expectValid(reporter.spans);
    for (const kind of ['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER']) {
      expect(only(reporter, `opt ${kind}`).kind).toBe(kind);
      expect(only(reporter, `set ${kind}`).kind).toBe(kind);
    }
    expect('kind' in only(reporter, 'lower')).toBe(false);
    expect(reporter.byName('bogus')).toEqual([]);
    expect('kind' in only(reporter, 'reset')).toBe(false);
    expect(only(reporter, 'keep').kind).toBe('SERVER');
    expect(tracer.stats().invalidValues).toBe(2);
  });

  it('turns tag values of every type into strings and ignores null and undefined', () => {
    const { tracer, reporter } = setup();
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const span = tracer.startSpan('tags', { tags: { 'from.options': 7, 'from.options.null': null } });
    span
      .tag('string', 'text')
      .tag('empty', '')
      .tag('integer', 200)
      .tag('float', 1.5)
      .tag('negative zero', -0)
      .tag('nan', Number.NaN)
      .tag('infinity', Number.POSITIVE_INFINITY)
      .tag('true', true)
      .tag('false', false)
      .tag('bigint', 12345678901234567890n)
      .tag('object', { user: { id: 1 }, list: [1, 'a'] })
      .tag('array', [1, 2])
      .tag('date', new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)))
      .tag('invalid date', new Date(Number.NaN))
      .tag('error', new TypeError('bad input'))
      .tag('error without message', new RangeError())
      .tag('circular', circular)
      .tag('bigint inside', { n: 1n })
      .tag('null', null)
      .tag('undefined', undefined)
      .tag('overwritten', 'first')
      .tag('overwritten', 'second')
      .tag('overwritten', null) // ignored: keeps "second"
      .tag('', 'no key');
    span.finish();
    const reported = only(reporter, 'tags');
    expectValid(reporter.spans);
    expectZiptraceShape(reported);
    expect(reported.tags).toEqual({
      'from.options': '7',
      string: 'text',
      empty: '',
      integer: '200',
      float: '1.5',
      'negative zero': '0',
      nan: 'NaN',
      infinity: 'Infinity',
      true: 'true',
      false: 'false',
      bigint: '12345678901234567890',
      object: '{"user":{"id":1},"list":[1,"a"]}',
      array: '[1,2]',
      date: '2024-01-02T03:04:05.006Z',
      'invalid date': 'Invalid Date',
      error: 'bad input',
      'error without message': 'RangeError',
      circular: '[unserializable object]',
      'bigint inside': '[unserializable object]',
      overwritten: 'second',
    });
  });

  it('keeps keys such as __proto__ as plain tags, in the object and in the JSON', () => {
    const { tracer, reporter } = setup();
    tracer.startSpan('proto').tag('__proto__', 'p').tag('constructor', 'c').tag('toString', 't').finish();
    const reported = only(reporter, 'proto');
    expectValid(reporter.spans);
    expect(Object.keys(reported.tags ?? {})).toEqual(['__proto__', 'constructor', 'toString']);
    const decoded = JSON.parse(encodeSpans([reported])) as [{ tags: Record<string, string> }];
    expect(Object.prototype.hasOwnProperty.call(decoded[0].tags, '__proto__')).toBe(true);
    expect(decoded[0].tags['__proto__']).toBe('p');
  });

  it('records annotations at explicit epoch microseconds and Dates, as integers', () => {
    const { tracer, reporter } = setup();
    const before = Date.now() * 1000;
    const span = tracer.startSpan('annotated');
    span.annotate('explicit', T0);
    span.annotate('date', new Date(1_700_000_000_123));
    span.annotate('fractional', T0 + 10.6);
    span.annotate('now');
    span.finish();
    const after = Date.now() * 1000;
    const reported = only(reporter, 'annotated');
    expectValid(reporter.spans);
    expectZiptraceShape(reported);
    expect(reported.annotations).toEqual([
      { timestamp: T0, value: 'explicit' },
      { timestamp: 1_700_000_000_123_000, value: 'date' },
      { timestamp: T0 + 11, value: 'fractional' },
      { timestamp: expect.any(Number), value: 'now' },
    ]);
    const now = reported.annotations![3]!.timestamp;
    expect(now).toBeGreaterThanOrEqual(before - 2000);
    expect(now).toBeLessThanOrEqual(after + 2000);
  });

  it('omits annotations when there are none', () => {
    const { tracer, reporter } = setup();
    tracer.startSpan('plain').finish();
    expect('annotations' in only(reporter, 'plain')).toBe(false);
    expect('tags' in only(reporter, 'plain')).toBe(false);
  });

  it('reports explicit start and finish times as integer microseconds, with a duration of at least 1', () => {
    const { tracer, reporter } = setup();
    tracer.startSpan('numbers', { timestamp: T0 }).finish(T0 + 1500);
    tracer.startSpan('dates', { timestamp: new Date(1_700_000_000_000) }).finish(new Date(1_700_000_000_250));
    tracer.startSpan('instant', { timestamp: T0 }).finish(T0);
    tracer.startSpan('backwards', { timestamp: T0 }).finish(T0 - 10);
    tracer.startSpan('fractional', { timestamp: T0 + 0.25 }).finish(T0 + 2.75);
    const live = tracer.startSpan('live');
    live.finish();
    live.finish(T0); // a second finish does nothing
    expectValid(reporter.spans);
    for (const span of reporter.spans) expectZiptraceShape(span);
    expect(only(reporter, 'numbers')).toMatchObject({ timestamp: T0, duration: 1500 });
    expect(only(reporter, 'dates')).toMatchObject({ timestamp: T0, duration: 250_000 });
    expect(only(reporter, 'instant')).toMatchObject({ timestamp: T0, duration: 1 });
    expect(only(reporter, 'backwards')).toMatchObject({ timestamp: T0, duration: 1 });
    expect(only(reporter, 'fractional')).toMatchObject({ timestamp: T0, duration: 3 });
    expect(reporter.byName('live')).toHaveLength(1);
  });

  it('reports the local endpoint of createEndpoint and remote endpoints with ipv4, ipv6 and port', () => {
    const localEndpoint = createEndpoint('gateway', { ipv4: '10.0.0.1', ipv6: '2001:db8::1', port: 8080 });
    const { tracer, reporter } = setup({ localEndpoint });
    tracer.startSpan('v4', { kind: 'CLIENT' }).remoteEndpoint('postgres', { ipv4: '192.168.99.100', port: 5432 }).finish();
    tracer.startSpan('v6', { kind: 'CLIENT' }).remoteEndpoint('redis', { ipv6: '::1', port: 6379 }).finish();
    tracer.startSpan('both', { kind: 'SERVER' }).remoteEndpoint(undefined, { ipv4: '172.19.0.2', ipv6: 'fe80::1', port: 58648 }).finish();
    tracer.startSpan('name only', { kind: 'PRODUCER' }).remoteEndpoint('kafka').finish();
    tracer
      .startSpan('from options', { kind: 'CONSUMER', remoteEndpoint: createEndpoint('rabbitmq', { ipv4: '10.1.2.3', port: 5672 }) })
      .finish();
    // Invalid parts are left out by the span setter, which never throws.
    tracer
      .startSpan('bad parts', { kind: 'CLIENT' })
      .remoteEndpoint('api', { ipv4: '300.1.1.1', ipv6: 'nope', port: 0 })
      .finish();
    tracer.startSpan('nothing valid', { kind: 'CLIENT' }).remoteEndpoint('', { port: 70000 }).finish();
    tracer.startSpan('replaced', { kind: 'CLIENT' }).remoteEndpoint('a').remoteEndpoint('b', { port: 1 }).finish();
    expectValid(reporter.spans);
    for (const span of reporter.spans) {
      expectZiptraceShape(span, 'gateway');
      expect(span.localEndpoint).toEqual({ serviceName: 'gateway', ipv4: '10.0.0.1', ipv6: '2001:db8::1', port: 8080 });
    }
    expect(only(reporter, 'v4').remoteEndpoint).toEqual({ serviceName: 'postgres', ipv4: '192.168.99.100', port: 5432 });
    expect(only(reporter, 'v6').remoteEndpoint).toEqual({ serviceName: 'redis', ipv6: '::1', port: 6379 });
    expect(only(reporter, 'both').remoteEndpoint).toEqual({ ipv4: '172.19.0.2', ipv6: 'fe80::1', port: 58648 });
    expect(only(reporter, 'name only').remoteEndpoint).toEqual({ serviceName: 'kafka' });
    expect(only(reporter, 'from options').remoteEndpoint).toEqual({ serviceName: 'rabbitmq', ipv4: '10.1.2.3', port: 5672 });
    expect(only(reporter, 'bad parts').remoteEndpoint).toEqual({ serviceName: 'api' });
    expect('remoteEndpoint' in only(reporter, 'nothing valid')).toBe(false);
    expect(only(reporter, 'replaced').remoteEndpoint).toEqual({ serviceName: 'b', port: 1 });
  });

  it('sets debug: true on debug traces and their children, and leaves it out otherwise', () => {
    const { tracer, reporter } = setup({ sampleRate: 0 });
    const root = tracer.newTrace({ debug: true, name: 'debug root' });
    tracer.withActive(root, () => tracer.withSpan('debug child', () => undefined));
    tracer.newChild(root, 'debug newChild').finish();
    root.finish();
    tracer.newTrace({ sampled: true, name: 'forced' }).finish();
    tracer.newTrace({ name: 'rate zero' }).finish();
    tracer.newTrace({ sampled: false, debug: false, name: 'unsampled' }).finish();
    expectValid(reporter.spans);
    expect(reporter.spans.map((s) => s.name)).toEqual(['debug child', 'debug newChild', 'debug root', 'forced']);
    for (const name of ['debug root', 'debug child', 'debug newChild']) {
      const span = only(reporter, name);
      expectZiptraceShape(span);
      expect(span.debug).toBe(true);
    }
    expect(only(reporter, 'debug child').parentId).toBe(only(reporter, 'debug root').id);
    expect('parentId' in only(reporter, 'debug root')).toBe(false);
    expect('debug' in only(reporter, 'forced')).toBe(false);
  });

  it('reports joined server spans with the caller’s ids and shared: true, and their children unshared', () => {
    const { tracer, reporter } = setup();
    const caller: TraceContext = {
      traceId: '4e441824ec2b6a44ffdc9bb9a6453df3',
      spanId: 'ffdc9bb9a6453df3',
      parentId: '6b221d5bc9e6496c',
      sampled: true,
      debug: false,
      shared: false,
    };
    const server = tracer.joinSpan(caller, 'get /api').kind('SERVER').remoteEndpoint('frontend', { ipv4: '10.0.0.9' });
    tracer.withActive(server, () => tracer.withSpan('handler', () => undefined));
    server.finish();
    tracer.joinSpan({ ...caller, traceId: '5af7183fb1d4cf5f', spanId: '352bff9a74ca9ad2', parentId: undefined, sampled: undefined, debug: true }, 'debug join').finish();
    tracer.joinSpan({ ...caller, traceId: 'not hex', spanId: 'nope' }, 'invalid join').finish();
    tracer.joinSpan({ ...caller, sampled: false }, 'unsampled join').finish();
    expectValid(reporter.spans);
    for (const span of reporter.spans) expectZiptraceShape(span);

    const joined = only(reporter, 'get /api');
    expect(joined).toMatchObject({ traceId: caller.traceId, id: caller.spanId, parentId: caller.parentId, kind: 'SERVER', shared: true });
    expect('debug' in joined).toBe(false);
    const handler = only(reporter, 'handler');
    expect(handler.parentId).toBe(caller.spanId);
    expect('shared' in handler).toBe(false);

    const debugJoin = only(reporter, 'debug join');
    expect(debugJoin).toMatchObject({ traceId: '5af7183fb1d4cf5f', id: '352bff9a74ca9ad2', shared: true, debug: true });
    expect('parentId' in debugJoin).toBe(false);

    const invalid = only(reporter, 'invalid join');
    expect(invalid.traceId).not.toBe('not hex');
    expect('shared' in invalid).toBe(false);
    expect('parentId' in invalid).toBe(false);
    expect(reporter.byName('unsampled join')).toHaveLength(0);
  });

  it('records errors thrown or rejected inside withSpan, rethrows them, and still reports valid spans', async () => {
    const { tracer, reporter } = setup({ ignoredErrors: [RangeError] });
    expect(() => tracer.withSpan('sync', () => { throw new TypeError('sync failure'); })).toThrow('sync failure');
    await expect(tracer.withSpan('async', async () => { throw new Error('async failure'); })).rejects.toThrow('async failure');
    expect(() => tracer.withSpan('string', () => { throw 'plain string'; })).toThrow('plain string');
    expect(() => tracer.withSpan('number', () => { throw 42; })).toThrow();
    expect(() => tracer.withSpan('null', () => { throw null; })).toThrow();
    expect(() => tracer.withSpan('empty object', () => { throw {}; })).toThrow();
    expect(() => tracer.withSpan('ignored', () => { throw new RangeError('expected'); })).toThrow('expected');
    await expect(tracer.withSpan('nested', async () => tracer.withSpan('inner', async () => Promise.reject(new Error('deep'))))).rejects.toThrow('deep');
    expectValid(reporter.spans);
    for (const span of reporter.spans) expectZiptraceShape(span);
    expect(only(reporter, 'sync').tags).toEqual({ error: 'sync failure' });
    expect(only(reporter, 'async').tags).toEqual({ error: 'async failure' });
    expect(only(reporter, 'string').tags).toEqual({ error: 'plain string' });
    expect(only(reporter, 'number').tags).toEqual({ error: '42' });
    expect(only(reporter, 'null').tags).toEqual({ error: 'null' });
    expect(only(reporter, 'empty object').tags).toEqual({ error: '[object Object]' });
    expect('tags' in only(reporter, 'ignored')).toBe(false);
    expect(only(reporter, 'inner').tags).toEqual({ error: 'deep' });
    expect(only(reporter, 'nested').tags).toEqual({ error: 'deep' });
  });

  it('cuts long names, keys and values with the mark …, and says what the limits dropped in tags', () => {
    const { tracer, reporter } = setup({ limits: { maxTags: 2, maxAnnotations: 2, maxValueLength: 10, maxNameLength: 8 } });
    const span = tracer.startSpan('averyverylongname');
    span.tag('a', 'abcdefghijklmnop').tag('b', 'short');
    span.tag('c', 'dropped').tag('d', 'dropped').tag('averyverylongkey', 'dropped');
    span.tag('a', 'replaced'); // an existing key may still change
    for (let i = 0; i < 5; i++) span.annotate(`event number ${i}`, T0 + i);
    span.finish();
    tracer.startSpan('ok').tag('averyverylongkey', 'v').finish();
    expectValid(reporter.spans);
    const reported = only(reporter, 'averyve…');
    expectZiptraceShape(reported);
    expect(reported.tags).toEqual({
      a: 'replaced',
      b: 'short',
      'ziptrace.dropped_tags': '3',
      'ziptrace.dropped_annotations': '3',
    });
    expect(reported.annotations).toEqual([
      { timestamp: T0, value: 'event num…' },
      { timestamp: T0 + 1, value: 'event num…' },
    ]);
    expect(only(reporter, 'ok').tags).toEqual({ 'averyve…': 'v' });
    const stats = tracer.stats();
    expect(stats.droppedTags).toBe(3);
    expect(stats.droppedAnnotations).toBe(3);
    expect(stats.truncatedValues).toBeGreaterThanOrEqual(4);
  });

  it('cuts with the mark when only dropped tags or only dropped annotations are over the limit', () => {
    const { tracer, reporter } = setup({ limits: { maxTags: 1, maxAnnotations: 1, maxValueLength: 1, maxNameLength: 1 } });
    tracer.startSpan('tags only').tag('k', 'value').tag('k2', 'v').finish();
    tracer.startSpan('annotations only').annotate('one', T0).annotate('two', T0 + 1).finish();
    expectValid(reporter.spans);
    const [tagsOnly, annotationsOnly] = reporter.spans;
    expect(tagsOnly).toMatchObject({ name: '…', tags: { k: '…', 'ziptrace.dropped_tags': '1' } });
    expect(annotationsOnly).toMatchObject({ name: '…', annotations: [{ timestamp: T0, value: '…' }], tags: { 'ziptrace.dropped_annotations': '1' } });
    expect('ziptrace.dropped_annotations' in tagsOnly!.tags!).toBe(false);
    expect('ziptrace.dropped_tags' in annotationsOnly!.tags!).toBe(false);
  });

  it('stays within the default limits: 128 tags, 128 annotations, 4096-character values', () => {
    const { tracer, reporter } = setup();
    const span = tracer.startSpan('big');
    for (let i = 0; i < 200; i++) span.tag(`tag.${i}`, 'x'.repeat(5000));
    for (let i = 0; i < 200; i++) span.annotate(`e${i}`, T0 + i);
    span.finish();
    expectValid(reporter.spans);
    const reported = only(reporter, 'big');
    expect(Object.keys(reported.tags!)).toHaveLength(128 + 2);
    expect(reported.tags!['tag.0']).toHaveLength(4096);
    expect(reported.tags!['tag.0']!.endsWith('…')).toBe(true);
    expect(reported.tags!['ziptrace.dropped_tags']).toBe('72');
    expect(reported.tags!['ziptrace.dropped_annotations']).toBe('72');
    expect(reported.annotations).toHaveLength(128);
  });

  it('makes 64-bit trace ids when traceId128Bit is false', () => {
    const { tracer, reporter } = setup({ traceId128Bit: false });
    tracer.withSpan('root', () => tracer.withSpan('child', () => undefined));
    tracer.newTrace({ name: 'new trace' }).finish();
    tracer.startSpan('explicit root', { parent: null }).finish();
    expectValid(reporter.spans);
    for (const span of reporter.spans) {
      expectZiptraceShape(span);
      expect(span.traceId).toMatch(/^[0-9a-f]{16}$/);
      expect(span.id).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(only(reporter, 'child').traceId).toBe(only(reporter, 'root').traceId);
    const wide = setup();
    wide.tracer.newTrace({ name: 'wide' }).finish();
    expect(only(wide.reporter, 'wide').traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('hands every reporter the same valid span, and leaves empty names out', () => {
    const first = new MemoryReporter();
    const second = new MemoryReporter();
    const tracer = createTracer({ serviceName: SERVICE, reporter: [first, second], global: false });
    open.push(tracer);
    tracer.startSpan('').finish();
    tracer.startSpan('named').name('').finish();
    tracer.startSpan('old').name('renamed').finish();
    expect(second.spans).toEqual(first.spans);
    expectValid(first.spans);
    expect(first.spans.map((s) => s.name)).toEqual([undefined, undefined, 'renamed']);
    expect('name' in first.spans[0]!).toBe(false);
  });

  it('encodes an empty list and a list of spans from several traces as one body', () => {
    expect(encodeSpans([])).toBe('[]');
    validateZipkinSpans(JSON.parse(encodeSpans([])));
    const { tracer, reporter } = setup();
    for (let i = 0; i < 20; i++) tracer.withSpan(`trace ${i}`, (span) => span.tag('i', i).annotate('mark', T0 + i));
    expectValid(reporter.spans);
    expect(new Set(reporter.spans.map((s) => s.traceId)).size).toBe(20);
  });

  it('uses the global tracer only when asked, and leaves nothing global behind', () => {
    const { tracer } = setup();
    expect(getGlobalTracer()).toBeUndefined();
    setGlobalTracer(tracer);
    expect(getGlobalTracer()).toBe(tracer);
  });
});

describe('what Zipkin’s definition asks that ziptrace must also honour', () => {
  // The definition marks Span.annotations `uniqueItems: true`: a list holding
  // the same {timestamp, value} twice is not a valid body.
  it('reports an annotation made twice with the same value and time once', () => {
    const { tracer, reporter } = setup();
    tracer.startSpan('twice').annotate('retry', T0).annotate('retry', T0).annotate('retry', T0 + 1).finish();
    expect(zipkinSpanSchemaErrors(reporter.spans)).toEqual([]);
    const annotations = only(reporter, 'twice').annotations!;
    expect(annotations).toContainEqual({ timestamp: T0, value: 'retry' });
    expect(annotations).toContainEqual({ timestamp: T0 + 1, value: 'retry' });
  });

  it('keeps annotations unique when two land in the same microsecond without a timestamp', () => {
    // A fast loop often makes two annotations within one microsecond; a still
    // clock makes that happen every time.
    const frozen = performance.now();
    const now = vi.spyOn(performance, 'now').mockReturnValue(frozen);
    try {
      const { tracer, reporter } = setup();
      tracer.startSpan('same instant').annotate('tick').annotate('tick').annotate('tock').finish();
      expect(zipkinSpanSchemaErrors(reporter.spans)).toEqual([]);
      expect(only(reporter, 'same instant').annotations!.map((a) => a.value)).toContain('tock');
    } finally {
      now.mockRestore();
    }
  });

  // Numbers that round to 0, or that are beyond what a double holds exactly as
  // an integer (or beyond int64 altogether: 1e300 is even written "1e+300" in
  // JSON), are not epoch microseconds: span makers refuse them, setters use now.
  it.each([
    ['0.3 (rounds to 0)', 0.3],
    ['1e20 (beyond int64)', 1e20],
    ['Number.MAX_VALUE', Number.MAX_VALUE],
    ['2^60 (not exact in a double)', 2 ** 60],
    ['the last valid Date', new Date(8.64e15)],
  ])('refuses a start timestamp of %s, and annotate and finish use now for it', (_what, timestamp) => {
    const { tracer, reporter } = setup();
    expect(() => tracer.startSpan('start', { timestamp })).toThrow(InvalidTimestampError);
    const before = Date.now() * 1000;
    const span = tracer.startSpan('start');
    span.annotate('at', timestamp);
    span.finish(timestamp);
    const after = Date.now() * 1000;
    expect(zipkinSpanSchemaErrors(reporter.spans)).toEqual([]);
    expect(JSON.parse(encodeSpans(reporter.spans))).toEqual(reporter.spans);
    const reported = only(reporter, 'start');
    for (const micros of [reported.timestamp!, reported.annotations![0]!.timestamp]) {
      expect(micros).toBeGreaterThanOrEqual(before - 2000);
      expect(micros).toBeLessThanOrEqual(after + 2000);
    }
    expect(tracer.stats().invalidValues).toBe(2);
  });
});

describe('span setters never throw', () => {
  it('whatever value they are given', () => {
    const { tracer, reporter } = setup();
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const throwingGetters = {
      get message(): string {
        throw new Error('getter');
      },
      get name(): string {
        throw new Error('getter');
      },
      toJSON(): never {
        throw new Error('toJSON');
      },
    };
    const span = tracer.startSpan('hostile');
    expect(() => span.tag('getters', throwingGetters)).not.toThrow();
    expect(() => span.tag('toJSON undefined', { toJSON: () => undefined })).not.toThrow();
    expect(() => span.tag('symbol', Symbol('s') as unknown as string)).not.toThrow();
    expect(() => span.tag('function', (() => 1) as unknown as string)).not.toThrow();
    expect(() => span.tag('revoked proxy', revoked.proxy)).not.toThrow();
    expect(() => span.annotate(revoked.proxy as unknown as string, T0)).not.toThrow();
    expect(() => span.setError(revoked.proxy)).not.toThrow();
    expect(() => span.name(revoked.proxy as unknown as string)).not.toThrow();
    expect(() => span.remoteEndpoint(revoked.proxy as unknown as string, revoked.proxy)).not.toThrow();
    expect(() => span.finish()).not.toThrow();
    validateZipkinSpans(reporter.spans);
    const tags = only(reporter, 'hostile').tags!;
    expect(tags.getters).toBe('[unserializable object]');
    for (const value of Object.values(tags)) expect(typeof value).toBe('string');
  });

  it('and withSpan rethrows the very value thrown, even one that cannot be described', () => {
    const { tracer, reporter } = setup();
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    let caught: unknown;
    try {
      tracer.withSpan('throws proxy', () => {
        throw revoked.proxy;
      });
    } catch (error) {
      caught = error;
    }
    // Compared by hand: a matcher would inspect the revoked proxy and throw.
    expect(caught === revoked.proxy, 'the thrown proxy itself is rethrown').toBe(true);
    validateZipkinSpans(reporter.spans);
    expect(typeof only(reporter, 'throws proxy').tags?.error).toBe('string');
  });

  it('and cutting a value to its limit never splits a surrogate pair', () => {
    const { tracer, reporter } = setup({ limits: { maxValueLength: 4, maxNameLength: 4 } });
    // '😀' is two UTF-16 code units: a cut at 3 units would leave half of one.
    tracer.startSpan('😀😀😀😀').tag('😀😀😀😀', '😀😀😀😀').annotate('😀😀😀😀', T0).finish();
    validateZipkinSpans(reporter.spans);
    const reported = reporter.spans[0]!;
    const texts = [reported.name!, ...Object.keys(reported.tags!), ...Object.values(reported.tags!), reported.annotations![0]!.value];
    for (const text of texts) {
      expect(text, JSON.stringify(text)).not.toMatch(LONE_SURROGATE);
      expect(text.endsWith('…')).toBe(true);
      expect(text.length).toBeLessThanOrEqual(4);
    }
  });
});

describe('property: arbitrary input through the span API', () => {
  const LIMITS = { maxTags: 6, maxAnnotations: 5, maxValueLength: 24, maxNameLength: 12 };

  const text = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.string({ unit: 'binary', maxLength: 30 }), // lone surrogates and control characters too
    fc.string({ unit: 'grapheme-ascii', maxLength: 60 }),
    fc.constantFrom('', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'error', 'ziptrace.dropped_tags', '…'),
  );
  const value = fc.oneof(
    text,
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.bigInt(),
    fc.date(),
    fc.string().map((message) => new Error(message)),
    fc.constant(null),
    fc.constant(undefined),
    fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
    }),
  );
  const kind = fc.option(fc.constantFrom('CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER', 'client', 'Server', '', 'RPC'), { nil: undefined });
  const scenario = fc.record({
    name: fc.oneof({ weight: 5, arbitrary: text }, { weight: 1, arbitrary: value }),
    rename: fc.option(text, { nil: undefined }),
    kind,
    optionTags: fc.array(fc.tuple(text, value), { maxLength: 8 }),
    tags: fc.array(fc.tuple(text, value), { maxLength: 12 }),
    annotations: fc.array(value, { maxLength: 8 }),
    remote: fc.option(
      fc.record({
        serviceName: fc.option(text, { nil: undefined }),
        ipv4: fc.option(fc.oneof(fc.ipV4(), text), { nil: undefined }),
        ipv6: fc.option(fc.oneof(fc.ipV6(), text), { nil: undefined }),
        port: fc.option(fc.oneof(fc.integer({ min: -1, max: 70000 }), fc.double()), { nil: undefined }),
      }),
      { nil: undefined },
    ),
    error: fc.option(value, { nil: undefined }),
  });

  type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

  function exercise(span: Span, input: Scenario): void {
    if (input.rename !== undefined) span.name(input.rename);
    span.kind(input.kind as SpanKind | undefined);
    for (const [key, tagValue] of input.tags) span.tag(key, tagValue as TagValue);
    // Distinct times: a repeated {timestamp, value} is a separate matter, tested above.
    input.annotations.forEach((annotation, i) => span.annotate(annotation as string, T0 + i));
    if (input.remote !== undefined) {
      const { serviceName, ...address } = input.remote;
      span.remoteEndpoint(serviceName, address as { ipv4?: string; ipv6?: string; port?: number });
    }
    if (input.error !== undefined) span.setError(input.error);
  }

  it('always produces valid spans within the limits, and never throws', () => {
    const { tracer, reporter, texts } = setup({ limits: LIMITS });
    fc.assert(
      fc.property(scenario, (input) => {
        reporter.clear();
        texts.clear();
        const name = input.name as string;
        const optionTags = Object.fromEntries(input.optionTags) as Record<string, TagValue>;
        // Options refuse a kind Zipkin does not know (a programmer's mistake); the setter ignores and counts it.
        const validKind = input.kind === undefined || ['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER'].includes(input.kind);
        if (!validKind) expect(() => tracer.startSpan(name, { kind: input.kind as SpanKind })).toThrow(InvalidArgumentError);
        const kindOption = validKind ? (input.kind as SpanKind | undefined) : undefined;
        const started = tracer.startSpan(name, { kind: kindOption, tags: optionTags });
        if (!validKind) started.kind(input.kind as SpanKind);
        exercise(started, input);
        started.finish();
        tracer.withSpan(name, { kind: kindOption, tags: optionTags }, (span) => exercise(span, input));
        expect(reporter.spans).toHaveLength(2);

        expect(zipkinSpanSchemaErrors(reporter.spans)).toEqual([]);
        const decoded: unknown = JSON.parse(encodeSpans(reporter.spans));
        expect(zipkinSpanSchemaErrors(decoded)).toEqual([]);
        expect(decoded).toEqual(reporter.spans);
        for (const span of reporter.spans) {
          expect(texts.get(`${span.traceId}/${span.id}`)).toBe(JSON.stringify(span));
          expectZiptraceShape(span);
          expect((span.name ?? '').length).toBeLessThanOrEqual(LIMITS.maxNameLength);
          const tags = Object.entries(span.tags ?? {}).filter(([key]) => !key.startsWith('ziptrace.dropped_'));
          // The error tag is never the one dropped: it may come on top of the limit.
          expect(tags.filter(([key]) => key !== 'error').length).toBeLessThanOrEqual(LIMITS.maxTags);
          expect(tags.length).toBeLessThanOrEqual(LIMITS.maxTags + 1);
          for (const [key, tagValue] of tags) {
            expect(key.length).toBeLessThanOrEqual(LIMITS.maxNameLength);
            expect(tagValue.length).toBeLessThanOrEqual(LIMITS.maxValueLength);
          }
          expect((span.annotations ?? []).length).toBeLessThanOrEqual(LIMITS.maxAnnotations);
          for (const annotation of span.annotations ?? []) expect(annotation.value.length).toBeLessThanOrEqual(LIMITS.maxValueLength);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('always produces valid timestamps and durations, whatever times are given', () => {
    const { tracer, reporter } = setup();
    const time = fc.option(
      fc.oneof(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: T0 - 1e12, max: T0 + 1e12 }),
        fc.double(),
        fc.date(),
        fc.constantFrom(0, -1, 0.4, 0.6, 1e20, Number.MAX_VALUE, Number.NaN, Number.POSITIVE_INFINITY),
      ),
      { nil: undefined },
    );
    fc.assert(
      fc.property(time, fc.array(time, { maxLength: 4 }), time, (start, annotationTimes, end) => {
        reporter.clear();
        // Epoch microseconds, said independently of the library: from 1e14 (1973) to 2^53, or a Date in that range.
        const micros = start instanceof Date ? start.getTime() * 1000 : start === undefined ? undefined : Math.round(start);
        const startValid = start === undefined || (micros !== undefined && micros >= 1e14 && micros <= Number.MAX_SAFE_INTEGER);
        if (!startValid) expect(() => tracer.startSpan('timed', { timestamp: start })).toThrow(InvalidTimestampError);
        const span = tracer.startSpan('timed', { timestamp: startValid ? start : undefined });
        annotationTimes.forEach((at, i) => span.annotate(`a${i}`, at));
        span.finish(end);
        expect(zipkinSpanSchemaErrors(reporter.spans)).toEqual([]);
        expect(zipkinSpanSchemaErrors(JSON.parse(encodeSpans(reporter.spans)))).toEqual([]);
        expectZiptraceShape(reporter.spans[0]!);
      }),
      { numRuns: 300 },
    );
  });
});

describe('createEndpoint', () => {
  it('returns a frozen endpoint that reports as a valid local endpoint', () => {
    const endpoint = createEndpoint('gateway', { ipv4: '10.0.0.1', ipv6: '2001:db8::c001', port: 65535 });
    expect(endpoint).toEqual({ serviceName: 'gateway', ipv4: '10.0.0.1', ipv6: '2001:db8::c001', port: 65535 });
    expect(Object.isFrozen(endpoint)).toBe(true);
    expect(createEndpoint('db')).toEqual({ serviceName: 'db' });
    const { tracer, reporter } = setup({ localEndpoint: endpoint });
    tracer.startSpan('x').finish();
    expectValid(reporter.spans);
    expect(reporter.spans[0]!.localEndpoint).toEqual(endpoint);
  });

  it.each([
    ['an empty serviceName', [''], /serviceName must be a non-empty string, got ""/],
    ['a non-string serviceName', [42], /serviceName must be a non-empty string, got 42/],
    ['a missing serviceName', [undefined], /serviceName must be a non-empty string, got undefined/],
    ['an ipv4 out of range', ['db', { ipv4: '10.0.0.256' }], /ipv4 must be a dotted IPv4 address such as '10\.0\.0\.1', got "10\.0\.0\.256"/],
    ['an ipv6 in the ipv4 field', ['db', { ipv4: '::1' }], /ipv4 must be a dotted IPv4 address/],
    ['a host name as ipv4', ['db', { ipv4: 'localhost' }], /ipv4 must be a dotted IPv4 address/],
    ['an invalid ipv6', ['db', { ipv6: '2001:db8::g' }], /ipv6 must be an IPv6 address such as '::1', got "2001:db8::g"/],
    ['an ipv4 in the ipv6 field', ['db', { ipv6: '10.0.0.1' }], /ipv6 must be an IPv6 address/],
    ['port 0', ['db', { port: 0 }], /port must be an integer from 1 to 65535, got 0/],
    ['port 65536', ['db', { port: 65536 }], /port must be an integer from 1 to 65535, got 65536/],
    ['a fractional port', ['db', { port: 80.5 }], /port must be an integer from 1 to 65535, got 80\.5/],
    ['a string port', ['db', { port: '8080' }], /port must be an integer from 1 to 65535, got "8080"/],
  ] as [string, unknown[], RegExp][])('throws a TypeError saying what to fix for %s', (_what, args, message) => {
    const call = (): unknown => (createEndpoint as (...a: unknown[]) => unknown)(...args);
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
    expect(call).toThrow(/^ziptrace: createEndpoint: /);
  });

  it('lists every problem at once, each once', () => {
    let message = '';
    try {
      createEndpoint('', { ipv4: 'x', ipv6: 'y', port: -1 });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const field of ['serviceName', 'ipv4', 'ipv6', 'port']) {
      expect(message.split(`${field} must`).length - 1, `${field} in ${message}`).toBe(1);
    }
  });

  it('rejects an address that is not an object instead of silently dropping it', () => {
    expect(() => createEndpoint('db', '10.0.0.1' as unknown as { ipv4: string })).toThrow(TypeError);
    expect(() => createEndpoint('db', '10.0.0.1' as unknown as { ipv4: string })).toThrow(/^ziptrace: createEndpoint: .*address/);
  });
});

describe('createTracer options', () => {
  const reporter = (): MemoryReporter => new MemoryReporter();
  it.each([
    ['no serviceName', {}, /serviceName must be a non-empty string/],
    ['an empty serviceName', { serviceName: '' }, /serviceName must be a non-empty string/],
    ['a blank serviceName', { serviceName: '   ' }, /serviceName must be a non-empty string/],
    ['a numeric serviceName', { serviceName: 42 }, /serviceName must be a non-empty string naming this service, got 42/],
    ['a sampleRate over 1', { serviceName: 's', sampleRate: 2 }, /sampleRate must be a number from 0 to 1/],
    ['a negative sampleRate', { serviceName: 's', sampleRate: -0.1 }, /sampleRate must be a number from 0 to 1/],
    ['a string sampleRate', { serviceName: 's', sampleRate: '0.5' }, /sampleRate must be a number from 0 to 1 .*got "0\.5"/],
    ['a NaN sampleRate', { serviceName: 's', sampleRate: Number.NaN }, /sampleRate must be a number from 0 to 1 .*got NaN/],
    ['a sampler that is not a function', { serviceName: 's', sampler: 'always' }, /sampler must be a function/],
    ['a non-boolean traceId128Bit', { serviceName: 's', traceId128Bit: 'yes' }, /traceId128Bit must be true or false, got "yes"/],
    ['ignoredErrors as a string', { serviceName: 's', ignoredErrors: 'TypeError' }, /ignoredErrors must be an array of error classes or a predicate/],
    ['ignoredErrors with a non-class', { serviceName: 's', ignoredErrors: [TypeError, 1] }, /ignoredErrors must be an array of error classes/],
    ['limits as a number', { serviceName: 's', limits: 5 }, /limits must be an object such as \{ maxTags: 64 \}, got 5/],
    ['limits as null', { serviceName: 's', limits: null }, /limits must be an object/],
    ['a zero maxTags', { serviceName: 's', limits: { maxTags: 0 } }, /limits\.maxTags must be a whole number of at least 1, got 0/],
    ['a fractional maxValueLength', { serviceName: 's', limits: { maxValueLength: 2.5 } }, /limits\.maxValueLength must be a whole number of at least 1, got 2\.5/],
    ['an unknown limit', { serviceName: 's', limits: { maxTag: 5 } }, /limits\.maxTag is not a limit; did you mean maxTags\?/],
    ['an unknown limit nothing like one', { serviceName: 's', limits: { depth: 5 } }, /limits\.depth is not a limit; known: maxTags, maxAnnotations, maxValueLength, maxNameLength/],
    ['a reporter without report()', { serviceName: 's', reporter: {} }, /reporter must have a report\(span\) method, got an object/],
    ['a null reporter', { serviceName: 's', reporter: null }, /reporter must have a report\(span\) method, got null/],
    ['a bad reporter in a list', { serviceName: 's', reporter: [reporter(), { send() {} }] }, /reporter\[1\] must have a report\(span\) method/],
    ['a non-boolean global', { serviceName: 's', global: 'yes' }, /global must be true or false, got "yes"/],
    ['a string localEndpoint', { localEndpoint: 'gateway' }, /localEndpoint must come from createEndpoint\(name, \{ ipv4, ipv6, port \}\), got "gateway"/],
    ['a localEndpoint without a name', { localEndpoint: { ipv4: '10.0.0.1' } }, /localEndpoint needs a serviceName/],
    ['a localEndpoint with a bad ipv4', { localEndpoint: { serviceName: 'gw', ipv4: '10.0.0' } }, /ipv4 must be a dotted IPv4 address/],
    ['a localEndpoint with a bad port', { localEndpoint: { serviceName: 'gw', port: 0 } }, /port must be an integer from 1 to 65535/],
    ['undefined options', undefined, /options must be an object such as \{ serviceName: 'my-service' \}/],
    ['null options', null, /options must be an object such as \{ serviceName: 'my-service' \}/],
    ['a string for options', 'gateway', /options must be an object/],
  ] as [string, unknown, RegExp][])('throws a TypeError naming the option for %s', (_what, options, message) => {
    const call = (): Tracer => createTracer(options as TracerOptions);
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
    expect(call).toThrow(/^ziptrace: createTracer: /);
    expect(getGlobalTracer()).toBeUndefined();
  });

  it('lists every bad option at once', () => {
    expect(() => createTracer({ serviceName: '', sampleRate: 5, limits: { maxTags: -1 } })).toThrow(
      /serviceName must be .*; sampleRate must be .*; limits\.maxTags must be/,
    );
  });
});

describe('encodeSpans writes what JSON.stringify would', () => {
  // Any string: ASCII that needs no escaping, quotes, backslashes, controls, non-ASCII, lone surrogates.
  const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', '"', '\\', '\n', '\u2028', '\ud800', 'a"b\\c'));
  const number = fc.oneof(
    fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    fc.integer({ min: 1_795_000_000_000_000, max: 1_796_000_000_000_000 }),
    fc.constantFrom(0, -1, 1.5, 999_999, 1_000_000, 1_000_001, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, 1e21),
  );
  const endpoint = fc.record({ serviceName: text, ipv4: fc.constant('10.0.0.1'), port: fc.integer({ min: 1, max: 65535 }) }, { requiredKeys: [] });
  // A remote endpoint is encoded by hand (not frozen, so not cached): any key order, undefined fields, odd ports,
  // fields it does not know, a prototype of its own, a toJSON: each must give JSON.stringify's text.
  const anyEndpoint = fc.oneof(
    endpoint,
    fc.record(
      {
        port: fc.oneof(fc.integer(), fc.constantFrom(1.5, Number.NaN, -0, 2 ** 53, undefined)),
        ipv6: fc.oneof(text, fc.constant(undefined)),
        serviceName: fc.oneof(text, fc.constant(undefined), fc.constant(7)),
        ipv4: text,
      },
      { requiredKeys: [] },
    ),
    fc.record({ serviceName: text, extra: text }),
    fc.constant(Object.assign(Object.create({ inherited: 1 }) as object, { serviceName: 'proto' })),
    fc.constant({ serviceName: 'j', toJSON: () => ({ replaced: true }) }),
    fc.constant(Object.assign(Object.create(null) as object, { ipv4: '10.0.0.2', port: 9 })),
  );
  const frozen = fc.boolean();
  // Built in the field order the tracer uses, so the two outputs can be compared as text.
  const span = fc
    .record(
      {
        traceId: text,
        id: text,
        parentId: text,
        name: text,
        kind: fc.constantFrom('CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER'),
        timestamp: number,
        duration: number,
        localEndpoint: fc.tuple(endpoint, frozen).map(([e, f]) => (f ? Object.freeze(e) : e)),
        remoteEndpoint: anyEndpoint,
        annotations: fc.array(fc.record({ timestamp: number, value: text }), { maxLength: 4 }),
        tags: fc.tuple(fc.dictionary(text, text, { maxKeys: 5 }), fc.boolean()).map(([t, nullProto]) => (nullProto ? Object.assign(Object.create(null) as Record<string, string>, t) : t)),
        debug: fc.constant(true as const),
        shared: fc.constant(true as const),
      },
      { requiredKeys: ['traceId', 'id'] },
    )
    .map((s) => s as ZipkinSpan);

  it('to the letter, for any Zipkin v2 span', () => {
    fc.assert(
      fc.property(fc.array(span, { maxLength: 5 }), (spans) => {
        expect(encodeSpans(spans)).toBe(JSON.stringify(spans));
      }),
      { numRuns: 2000 },
    );
  });

  it('for the tracer’s own spans, timestamps across second boundaries included', () => {
    const { tracer, reporter } = setup();
    for (const start of [1_795_000_000_999_999, 1_795_000_001_000_000, 1_795_000_001_000_001, 1_795_000_001_000_010]) {
      tracer.startSpan('s', { timestamp: start, tags: { k: 'v', 'quote"': 'back\\slash' } }).annotate('a', start + 1).finish(start + 7);
    }
    expect(encodeSpans(reporter.spans)).toBe(JSON.stringify(reporter.spans));
  });
});
