/**
 * Spans (lib/span.ts, with lib/values.ts): chainable setters, finish and
 * dispose, isRecording and context, how tag values become strings, the
 * error tag, and the limits that keep a span's size bounded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createTracer,
  DEFAULT_LIMITS,
  MemoryReporter,
  setGlobalTracer,
  type Span,
  type SpanLimits,
  type Tracer,
  type ZipkinSpan,
} from '../lib/index.js';
import { clearGlobalTracerAfterEach, memoryTracer } from './helpers/tracing.js';

clearGlobalTracerAfterEach();

function setup(limits?: Partial<SpanLimits>): { tracer: Tracer; reporter: MemoryReporter } {
  return memoryTracer('span-spec', limits ? { limits } : {});
}

function finished(tracer: Tracer, reporter: MemoryReporter, build: (span: Span) => void): ZipkinSpan {
  const before = reporter.spans.length;
  const span = tracer.startSpan('s');
  build(span);
  span.finish();
  expect(reporter.spans).toHaveLength(before + 1);
  return reporter.spans[before]!;
}

const T0 = 1_700_000_000_000_000;

describe('setters', () => {
  it('are chainable and each is reflected in the reported span', () => {
    const { tracer, reporter } = setup();
    const span = tracer.startSpan('first-name', { timestamp: T0 });
    const returned = [
      span.name('renamed'),
      span.tag('k', 'v'),
      span.kind('PRODUCER'),
      span.annotate('sent', T0 + 10),
      span.remoteEndpoint('kafka', { ipv4: '192.168.0.1', port: 9092 }),
      span.setError(new Error('broken')),
    ];
    for (const r of returned) expect(r).toBe(span);
    span.finish(T0 + 50);
    expect(reporter.spans).toEqual([
      {
        traceId: span.context.traceId,
        id: span.context.spanId,
        name: 'renamed',
        kind: 'PRODUCER',
        timestamp: T0,
        duration: 50,
        localEndpoint: { serviceName: 'span-spec' },
        remoteEndpoint: { serviceName: 'kafka', ipv4: '192.168.0.1', port: 9092 },
        annotations: [{ timestamp: T0 + 10, value: 'sent' }],
        tags: { k: 'v', error: 'broken' },
      },
    ]);
  });

  it('overwrites a tag with the same key, and keeps annotations in order', () => {
    const { tracer, reporter } = setup();
    const out = finished(tracer, reporter, (span) =>
      span.tag('k', 'one').tag('k', 'two').annotate('a', T0 + 2).annotate('b', T0 + 1).annotate('a', T0 + 3),
    );
    expect(out.tags).toEqual({ k: 'two' });
    expect(out.annotations).toEqual([
      { timestamp: T0 + 2, value: 'a' },
      { timestamp: T0 + 1, value: 'b' },
      { timestamp: T0 + 3, value: 'a' },
    ]);
  });

  it('ignores an unknown kind, and kind(undefined) makes the span local again', () => {
    const { tracer, reporter } = setup();
    expect(finished(tracer, reporter, (s) => s.kind('SERVER').kind('BOGUS' as never)).kind).toBe('SERVER');
    const local = finished(tracer, reporter, (s) => s.kind('CLIENT').kind(undefined));
    expect('kind' in local).toBe(false);
  });

  it('keeps only the valid parts of a remote endpoint, and never throws on bad ones', () => {
    const { tracer, reporter } = setup();
    const out = finished(tracer, reporter, (s) =>
      s.remoteEndpoint('db', { ipv4: 'not-an-ip', ipv6: '::1', port: 70_000 }),
    );
    expect(out.remoteEndpoint).toEqual({ serviceName: 'db', ipv6: '::1' });
    const none = finished(tracer, reporter, (s) => s.remoteEndpoint(undefined, { ipv4: 'x' }));
    expect('remoteEndpoint' in none).toBe(false);
  });

  it('an empty name leaves name out of the reported span', () => {
    const { tracer, reporter } = setup();
    expect('name' in finished(tracer, reporter, (s) => s.name(''))).toBe(false);
  });

  it('ignores a tag whose key is not a non-empty string', () => {
    const { tracer, reporter } = setup();
    const out = finished(tracer, reporter, (s) => s.tag('', 'x').tag(42 as unknown as string, 'y').tag('ok', 'z'));
    expect(out.tags).toEqual({ ok: 'z' });
  });
});

describe('finish, dispose and state', () => {
  it('isRecording is true until finish, then false; a second finish does nothing', () => {
    const { tracer, reporter } = setup();
    const span = tracer.startSpan('once', { timestamp: T0 });
    expect(span.isRecording).toBe(true);
    span.finish(T0 + 100);
    expect(span.isRecording).toBe(false);
    span.finish(T0 + 999);
    span.finish();
    expect(reporter.spans).toHaveLength(1);
    expect(reporter.spans[0]!.duration).toBe(100);
    expect(tracer.stats().spansReported).toBe(1);
  });

  it('setters after finish are no-ops (and still chain)', () => {
    const { tracer, reporter } = setup();
    const span = tracer.startSpan('before', { timestamp: T0 }).tag('k', 'v').annotate('a', T0 + 1);
    span.finish(T0 + 2);
    const snapshot = structuredClone({ ...reporter.spans[0]!, tags: { ...reporter.spans[0]!.tags } });
    expect(span.name('after')).toBe(span);
    expect(span.tag('k', 'changed').tag('new', 'x')).toBe(span);
    expect(span.kind('SERVER')).toBe(span);
    expect(span.annotate('late', T0 + 3)).toBe(span);
    expect(span.remoteEndpoint('late', { port: 1 })).toBe(span);
    expect(span.setError(new Error('late'))).toBe(span);
    expect(reporter.spans).toHaveLength(1);
    expect({ ...reporter.spans[0]!, tags: { ...reporter.spans[0]!.tags } }).toEqual(snapshot);
    expect(reporter.spans[0]!.name).toBe('before');
  });

  it('Symbol.dispose finishes the span, directly and with `using`', () => {
    const { tracer, reporter } = setup();
    const direct = tracer.startSpan('direct');
    direct[Symbol.dispose]();
    expect(direct.isRecording).toBe(false);
    let inner: Span | undefined;
    {
      using span = tracer.startSpan('using');
      inner = span;
      expect(span.isRecording).toBe(true);
      expect(reporter.byName('using')).toHaveLength(0);
    }
    expect(inner.isRecording).toBe(false);
    expect(reporter.spans.map((s) => s.name)).toEqual(['direct', 'using']);
  });

  it('exposes its context: ids, sampling decision, debug and shared flags', () => {
    const { tracer } = setup();
    const root = tracer.startSpan('root');
    const child = tracer.startSpan('child', { parent: root });
    expect(root.context).toMatchObject({ parentId: undefined, sampled: true, debug: false, shared: false });
    expect(child.context).toMatchObject({
      traceId: root.context.traceId,
      parentId: root.context.spanId,
      sampled: true,
      debug: false,
      shared: false,
    });
    expect(Object.keys(child.context)).toEqual(expect.arrayContaining(['traceId', 'spanId', 'parentId', 'sampled', 'debug', 'shared']));
  });

  it('an unsampled span is not recording, its setters chain and do nothing', () => {
    const { tracer, reporter } = setup();
    const span = tracer.newTrace({ sampled: false });
    expect(span.isRecording).toBe(false);
    expect(span.name('x').tag('a', 1).kind('CLIENT').annotate('y').remoteEndpoint('z').setError(new Error('e'))).toBe(span);
    span.finish();
    span[Symbol.dispose]();
    expect(reporter.spans).toEqual([]);
    expect(tracer.stats().spansDropped).toBe(0);
  });
});

describe('tag values', () => {
  it('turns numbers, booleans, bigints, objects, arrays and dates into strings', () => {
    const { tracer, reporter } = setup();
    const out = finished(tracer, reporter, (s) =>
      s
        .tag('int', 42)
        .tag('float', 1.5)
        .tag('negzero', -0)
        .tag('nan', Number.NaN)
        .tag('true', true)
        .tag('false', false)
        .tag('big', 12345678901234567890n)
        .tag('obj', { a: 1, b: 'two', c: [true, null] })
        .tag('arr', [1, 'x'])
        .tag('date', new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)))
        .tag('empty', ''),
    );
    expect(out.tags).toEqual({
      int: '42',
      float: '1.5',
      negzero: '0',
      nan: 'NaN',
      true: 'true',
      false: 'false',
      big: '12345678901234567890',
      obj: '{"a":1,"b":"two","c":[true,null]}',
      arr: '[1,"x"]',
      date: '2024-01-02T03:04:05.006Z',
      empty: '',
    });
  });

  it('ignores null and undefined (an existing value stays)', () => {
    const { tracer, reporter } = setup();
    const out = finished(tracer, reporter, (s) => s.tag('a', null).tag('b', undefined).tag('c', 'kept').tag('c', null).tag('c', undefined));
    expect(out.tags).toEqual({ c: 'kept' });
    expect(tracer.stats().droppedTags).toBe(0);
  });

  it('does not throw on a circular object or a throwing toJSON', () => {
    const { tracer, reporter } = setup();
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const hostile = {
      toJSON() {
        throw new Error('no');
      },
    };
    let out: ZipkinSpan | undefined;
    expect(() => {
      out = finished(tracer, reporter, (s) => s.tag('circular', circular).tag('hostile', hostile).tag('after', 'ok'));
    }).not.toThrow();
    expect(out!.tags).toEqual({ circular: '[unserializable object]', hostile: '[unserializable object]', after: 'ok' });
  });

  it('keeps a "__proto__" key as a plain tag', () => {
    const { tracer, reporter } = setup();
    const out = finished(tracer, reporter, (s) => s.tag('__proto__', 'p').tag('constructor', 'c'));
    expect(Object.keys(out.tags!)).toEqual(['__proto__', 'constructor']);
    expect(out.tags!['__proto__']).toBe('p');
    expect(JSON.parse(JSON.stringify(out.tags))).toEqual(JSON.parse('{"__proto__":"p","constructor":"c"}'));
  });
});

describe('never throws into user code', () => {
  it('setters survive hostile inputs (revoked proxies, throwing getters and toString)', () => {
    const { tracer, reporter } = setup();
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const throwingToString = {
      toString() {
        throw new Error('toString');
      },
      toJSON() {
        throw new Error('toJSON');
      },
    };
    const throwingAddress = Object.defineProperty({}, 'ipv4', {
      get() {
        throw new Error('getter');
      },
    });
    const span = tracer.startSpan('hostile');
    expect(() => {
      span
        .tag('revoked', proxy)
        .tag('throwing', throwingToString)
        .tag(proxy as unknown as string, 'v')
        .annotate(proxy as unknown as string)
        .annotate(throwingToString as unknown as string)
        .annotate('ok', proxy as unknown as Date)
        .name(proxy as unknown as string)
        .setError(proxy)
        .setError(throwingToString)
        .remoteEndpoint('svc', proxy as never)
        .remoteEndpoint('svc', throwingAddress)
        .kind(proxy as never)
        .tag('after', 'still works');
      span.finish();
    }).not.toThrow();
    expect(reporter.spans).toHaveLength(1);
    expect(reporter.spans[0]!.tags!['after']).toBe('still works');
  });

  // Regression: `value instanceof Date` runs getPrototypeOf on the value, which throws for a
  // revoked Proxy; finish(timestamp) (and startSpan({ timestamp })) must not pass that on.
  it('finish(timestamp) survives a hostile timestamp, finishing now', () => {
    const { tracer, reporter } = setup();
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const span = tracer.startSpan('hostile-finish');
    expect(() => span.finish(proxy as unknown as number)).not.toThrow();
    expect(span.isRecording).toBe(false);
    expect(reporter.spans).toHaveLength(1);
    expect(reporter.spans[0]!.duration!).toBeGreaterThanOrEqual(1);
  });

  it('annotations accept non-string values as text', () => {
    const { tracer, reporter } = setup();
    const out = finished(tracer, reporter, (s) =>
      s.annotate(42 as unknown as string, T0).annotate({ a: 1 } as unknown as string, T0 + 1),
    );
    expect(out.annotations).toEqual([
      { timestamp: T0, value: '42' },
      { timestamp: T0 + 1, value: '{"a":1}' },
    ]);
  });
});

describe('the error tag', () => {
  class Quiet extends Error {
    override name = 'QuietError';
  }

  it.each<[string, unknown, string]>([
    ['an Error: its message', new Error('disk full'), 'disk full'],
    ['an Error without message: its name', new TypeError(''), 'TypeError'],
    ['a subclass without message: its name', new Quiet(), 'QuietError'],
    ['an object with a message', { message: 'from object' }, 'from object'],
    ['an object with only a name', { name: 'Named' }, 'Named'],
    ['an object with neither', { code: 1 }, '[object Object]'],
    ['a string', 'plain', 'plain'],
    ['a number', 404, '404'],
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
  ])('for %s', (_, error, expected) => {
    const { tracer, reporter } = setup();
    expect(finished(tracer, reporter, (s) => s.setError(error)).tags).toEqual({ error: expected });
  });

  it('does not throw for an error whose message getter throws', () => {
    const { tracer, reporter } = setup();
    const nasty = Object.defineProperty({}, 'message', {
      get() {
        throw new Error('getter');
      },
    });
    expect(finished(tracer, reporter, (s) => s.setError(nasty)).tags).toEqual({ error: '[object Object]' });
  });
});

describe('limits', () => {
  it('DEFAULT_LIMITS has the documented defaults', () => {
    expect(DEFAULT_LIMITS).toEqual({ maxTags: 128, maxAnnotations: 128, maxValueLength: 4096, maxNameLength: 256 });
    expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true);
  });

  it('applies the default limits when none are given', () => {
    const { tracer, reporter } = setup();
    const out = finished(tracer, reporter, (s) => {
      for (let i = 0; i < 130; i++) s.tag(`t${i}`, i);
      for (let i = 0; i < 129; i++) s.annotate(`a${i}`, T0 + i);
      s.tag('t0', 'x'.repeat(5000));
      s.name('n'.repeat(300));
    });
    expect(Object.keys(out.tags!)).toHaveLength(128 + 2);
    expect(out.tags!['ziptrace.dropped_tags']).toBe('2');
    expect(out.tags!['ziptrace.dropped_annotations']).toBe('1');
    expect(out.annotations).toHaveLength(128);
    expect(out.tags!['t0']).toHaveLength(4096);
    expect(out.name).toHaveLength(256);
    expect(tracer.stats()).toMatchObject({ droppedTags: 2, droppedAnnotations: 1, truncatedValues: 2 });
  });

  it('maxTags: further new keys are dropped, counted and marked; existing keys still update', () => {
    const { tracer, reporter } = setup({ maxTags: 2 });
    const out = finished(tracer, reporter, (s) => s.tag('a', 1).tag('b', 2).tag('c', 3).tag('d', 4).tag('a', 'updated'));
    expect(out.tags).toEqual({ a: 'updated', b: '2', 'ziptrace.dropped_tags': '2' });
    expect(tracer.stats().droppedTags).toBe(2);
  });

  it('maxTags never drops the error tag: a failed span stays marked failed', () => {
    const { tracer, reporter } = setup({ maxTags: 1 });
    const out = finished(tracer, reporter, (s) => s.tag('a', 1).tag('b', 2).setError(new Error('boom')));
    expect(out.tags).toEqual({ a: '1', error: 'boom', 'ziptrace.dropped_tags': '1' });
  });

  it('maxTags counts the tags given in startSpan options', () => {
    const { tracer, reporter } = setup({ maxTags: 1 });
    const span = tracer.startSpan('opts', { tags: { a: 1, b: 2 } });
    span.finish();
    expect(reporter.spans[0]!.tags).toEqual({ a: '1', 'ziptrace.dropped_tags': '1' });
  });

  it('maxAnnotations: further annotations are dropped, counted and marked', () => {
    const { tracer, reporter } = setup({ maxAnnotations: 1 });
    const out = finished(tracer, reporter, (s) => s.annotate('one', T0).annotate('two', T0 + 1).annotate('three', T0 + 2));
    expect(out.annotations).toEqual([{ timestamp: T0, value: 'one' }]);
    expect(out.tags).toEqual({ 'ziptrace.dropped_annotations': '2' });
    expect(tracer.stats().droppedAnnotations).toBe(2);
  });

  it('maxValueLength: tag values and annotations are cut to the limit, ending in …', () => {
    const { tracer, reporter } = setup({ maxValueLength: 5 });
    const out = finished(tracer, reporter, (s) =>
      s.tag('exact', '12345').tag('long', '123456789').tag('json', { a: 'bcdef' }).annotate('abcdefgh', T0),
    );
    expect(out.tags).toEqual({ exact: '12345', long: '1234…', json: '{"a"…' });
    expect(out.annotations).toEqual([{ timestamp: T0, value: 'abcd…' }]);
    expect(tracer.stats().truncatedValues).toBe(3);
    expect(tracer.stats().droppedTags).toBe(0);
  });

  it('maxNameLength: span names and tag keys are cut to the limit, ending in …', () => {
    const { tracer, reporter } = setup({ maxNameLength: 4 });
    const span = tracer.startSpan('abcdefgh');
    span.tag('keykeykey', 'v').tag('k', 'w');
    span.finish();
    expect(reporter.spans[0]!.name).toBe('abc…');
    expect(reporter.spans[0]!.tags).toEqual({ 'key…': 'v', k: 'w' });
    const renamed = tracer.startSpan('a');
    renamed.name('123456').finish();
    expect(reporter.spans[1]!.name).toBe('123…');
    expect(tracer.stats().truncatedValues).toBe(3);
  });

  it('each tracer counts only its own cuts and drops', () => {
    const a = setup({ maxTags: 1 });
    const b = createTracer({ serviceName: 'other', reporter: new MemoryReporter(), global: false });
    a.tracer.startSpan('x').tag('1', 1).tag('2', 2).finish();
    b.startSpan('y').tag('1', 1).tag('2', 2).finish();
    expect(a.tracer.stats().droppedTags).toBe(1);
    expect(b.stats().droppedTags).toBe(0);
  });
});
