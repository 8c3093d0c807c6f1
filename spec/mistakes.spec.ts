/**
 * A new user's mistakes get a clear answer, never a silently wrong span: the
 * errors a programmer must fix (classes with a code, thrown whether or not
 * the span is sampled), and the values setters ignore and count because a
 * setter never throws.
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  createEndpoint,
  createTracer,
  InvalidArgumentError,
  InvalidOptionError,
  InvalidTimestampError,
  MemoryReporter,
  setGlobalTracer,
  startSpan,
  traced,
  withSpan,
  ZiptraceError,
  type Reporter,
  type SpanKind,
  type Tracer,
  type TracerOptions,
} from '../lib/index.js';
import { clearGlobalTracerAfterEach, memoryTracer, thrown } from './helpers/tracing.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const T0 = 1_700_000_000_000_000;

clearGlobalTracerAfterEach();

const setup = (options: Partial<TracerOptions> = {}): { tracer: Tracer; reporter: MemoryReporter } => memoryTracer('mistakes', { global: false, ...options });

describe('timestamps in the wrong unit', () => {
  const nowMs = Date.now();
  const cases: [string, number, RegExp][] = [
    ['milliseconds (Date.now())', nowMs, /looks like milliseconds \(Date\.now\(\)\).*multiply by 1000/],
    ['seconds', Math.floor(nowMs / 1000), /looks like seconds.*multiply by 1e6/],
    ['nanoseconds', nowMs * 1e6, /looks like nanoseconds.*divide by 1000/],
    ['zero', 0, /must be epoch microseconds \(Date\.now\(\) \* 1000\) or a Date, got 0/],
    ['a negative number', -1, /must be epoch microseconds.*got -1/],
    ['NaN', Number.NaN, /must be epoch microseconds.*got NaN/],
  ];

  it.each(cases)('startSpan({ timestamp }) in %s throws an InvalidTimestampError naming the unit', (_what, timestamp, message) => {
    const { tracer, reporter } = setup();
    const error = thrown(() => tracer.startSpan('x', { timestamp }));
    expect(error).toBeInstanceOf(InvalidTimestampError);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as ZiptraceError).code).toBe('ZIPTRACE_INVALID_TIMESTAMP');
    expect(error.message).toMatch(/^ziptrace: startSpan: timestamp /);
    expect(error.message).toMatch(message);
    expect(reporter.spans).toEqual([]);
  });

  it('is refused at every span maker, sampled or not, and by the free functions', () => {
    for (const sampleRate of [1, 0]) {
      const { tracer } = setup({ sampleRate });
      const remote = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), sampled: true, debug: false, shared: false };
      const makers: [string, () => unknown][] = [
        ['startSpan', () => tracer.startSpan('x', { timestamp: nowMs })],
        ['withSpan', () => tracer.withSpan('x', { timestamp: nowMs }, () => 1)],
        ['newTrace', () => tracer.newTrace('x', { timestamp: nowMs })],
        ['newTrace', () => tracer.newTrace({ name: 'x', timestamp: nowMs })],
        ['newChild', () => tracer.newChild(remote, 'x', { timestamp: nowMs })],
        ['joinSpan', () => tracer.joinSpan(remote, 'x', { timestamp: nowMs })],
      ];
      for (const [where, make] of makers) {
        const error = thrown(make);
        expect(error, `${where} at sampleRate ${sampleRate}`).toBeInstanceOf(InvalidTimestampError);
        expect(error.message).toContain(where);
        expect(error.message).toContain('milliseconds');
      }
    }
    setup({ global: true });
    expect(thrown(() => startSpan('x', { timestamp: nowMs }))).toBeInstanceOf(InvalidTimestampError);
    expect(thrown(() => withSpan('x', { timestamp: nowMs }, () => 1))).toBeInstanceOf(InvalidTimestampError);
  });

  it('is refused by the free functions even with no tracer at all (a library tested without one still finds its mistake)', () => {
    setGlobalTracer(undefined);
    expect(thrown(() => startSpan('x', { timestamp: nowMs }))).toBeInstanceOf(InvalidTimestampError);
    expect(thrown(() => withSpan('x', { kind: 'client' as SpanKind }, () => 1))).toBeInstanceOf(InvalidArgumentError);
    expect(withSpan('x', { kind: 'CLIENT' }, (span) => span.isRecording)).toBe(false);
  });

  it('takes epoch microseconds and Dates', () => {
    const { tracer, reporter } = setup();
    tracer.startSpan('micros', { timestamp: T0 }).finish(T0 + 1500);
    tracer.startSpan('date', { timestamp: new Date(T0 / 1000) }).finish(new Date(T0 / 1000 + 2));
    expect(reporter.byName('micros')[0]).toMatchObject({ timestamp: T0, duration: 1500 });
    expect(reporter.byName('date')[0]).toMatchObject({ timestamp: T0, duration: 2000 });
  });

  it('annotate and finish, which never throw, use now for them and count each', () => {
    const { tracer, reporter } = setup();
    const before = Date.now() * 1000;
    const span = tracer.startSpan('x');
    span.annotate('in ms', nowMs).annotate('in s', nowMs / 1000).finish(nowMs);
    const after = Date.now() * 1000;
    const out = reporter.spans[0]!;
    expect(out.annotations!.map((a) => a.value)).toEqual(['in ms', 'in s']);
    for (const { timestamp } of out.annotations!) {
      expect(timestamp).toBeGreaterThanOrEqual(before - 1000);
      expect(timestamp).toBeLessThanOrEqual(after + 1000);
    }
    // The duration is measured, not 56 years.
    expect(out.duration!).toBeLessThan(60_000_000);
    expect(tracer.stats().invalidValues).toBe(3);
  });
});

describe('options that are not options', () => {
  it.each([
    [{ zipkinURL: 'http://127.0.0.1:9411' }, /zipkinURL is not an option of createTracer; did you mean zipkinUrl\?/],
    [{ samplerate: 0.5 }, /samplerate is not an option of createTracer; did you mean sampleRate\?/],
    [{ reporters: [] }, /reporters is not an option of createTracer; did you mean reporter\?/],
    [{ service: 'x' }, /service is not an option of createTracer; known: serviceName, localEndpoint/],
    [{ propagation: { extarct: ['b3'] } }, /extarct is not an option of createTracer\(\{ propagation \}\); did you mean extract\?/],
  ])('createTracer(%o) throws an InvalidOptionError naming the closest known key', (extra, message) => {
    const error = thrown(() => createTracer({ serviceName: 'svc', global: false, ...(extra as object) }));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).code).toBe('ZIPTRACE_INVALID_OPTION');
    expect(error.message).toMatch(message);
  });

  it('lists every problem at once', () => {
    const error = thrown(() => createTracer({ serviceName: '', sampleRate: 2, zipkinURL: 'x' } as TracerOptions));
    expect(error.message).toMatch(/zipkinURL is not an option.*serviceName must be a non-empty string.*sampleRate must be a number from 0 to 1/);
    const withUrl = thrown(() => createTracer({ serviceName: 's', zipkinUrl: 'ftp://x', sampleRate: 2, global: false }));
    expect(withUrl.message).toMatch(/zipkinUrl: must be http: or https:, got ftp:.*sampleRate must be a number from 0 to 1/);
    expect(() => createTracer({ serviceName: 's', zipkinUrl: 'localhost:9411', global: false })).toThrow(/zipkinUrl: must be http: or https:, got localhost: \(the scheme is missing: 'http:\/\/localhost:9411'\)/);
  });

  it('makes no HttpReporter for zipkinUrl when another option is wrong (no socket pool, no exit hook left behind)', async () => {
    // Every HttpReporter makes one keep-alive agent: counting agents counts reporters.
    const agents = vi.spyOn(http, 'Agent');
    const listeners = process.listenerCount('beforeExit');
    try {
      const good = createTracer({ serviceName: 'svc', zipkinUrl: 'http://127.0.0.1:9411', global: false });
      expect(agents).toHaveBeenCalledTimes(1);
      await good.close({ timeout: 100 });
      expect(() => createTracer({ serviceName: 'svc', zipkinUrl: 'http://127.0.0.1:9411', sampleRate: 7, global: false })).toThrow(InvalidOptionError);
      const bad = thrown(() => createTracer({ serviceName: 'svc', zipkinUrl: 'ftp://collector', global: false }));
      expect(bad).toBeInstanceOf(InvalidOptionError);
      expect(bad.message).toMatch(/^ziptrace: createTracer: zipkinUrl: .*http: or https:/);
      expect(agents).toHaveBeenCalledTimes(1);
      expect(process.listenerCount('beforeExit')).toBe(listeners);
    } finally {
      agents.mockRestore();
    }
  });

  it.each([
    [{ tag: { a: 1 } }, /tag is not a span option; did you mean tags\?/],
    [{ kind: 'server' }, /kind must be 'CLIENT', 'SERVER', 'PRODUCER' or 'CONSUMER'.*got "server" \(kinds are upper case: 'SERVER'\)/],
    [{ kind: 'RPC' }, /kind must be .*got "RPC"$/],
    [{ tags: 'a=b' }, /tags must be an object of tag names to values/],
    [{ remoteEndpoint: 'db' }, /remoteEndpoint must come from createEndpoint/],
  ])('startSpan(name, %o) throws an InvalidArgumentError saying what to fix', (opts, message) => {
    const { tracer } = setup({ sampleRate: 0 });
    const error = thrown(() => tracer.startSpan('x', opts as never));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).code).toBe('ZIPTRACE_INVALID_ARGUMENT');
    expect(error.message).toMatch(message);
  });

  it('limits and newTrace say what to fix too', () => {
    expect(() => createTracer({ serviceName: 'x', global: false, limits: { maxTag: 3 } as never })).toThrow(/limits\.maxTag is not a limit; did you mean maxTags\?/);
    expect(() => setup().tracer.newTrace('a', { name: 'b' })).toThrow(/newTrace\(name, options\): the name is given twice \("a" and options\.name "b"\)/);
  });

  it('the aiozipkin calls take no parent option: their parent is their argument', () => {
    const { tracer } = setup();
    const remote = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), sampled: true, debug: false, shared: false };
    expect(() => tracer.newChild(remote, 'x', { parent: null } as never)).toThrow(/tracer\.newChild: takes no parent option/);
    expect(() => tracer.joinSpan(remote, 'x', { parent: remote } as never)).toThrow(/tracer\.joinSpan: takes no parent option/);
    expect(() => tracer.newTrace('x', { sampled: 'yes' } as never)).toThrow(/newTrace: sampled must be true or false, got "yes"/);
  });

  it('@traced refuses a wrong kind when the class is defined, not on some later call', () => {
    expect(() => traced({ kind: 'client' as SpanKind })).toThrow(/@traced: kind must be .*'CLIENT'/);
    expect(() => traced({ nmae: 'x' } as never)).toThrow(/@traced: nmae is not a span option; did you mean name\?/);
  });

  it('withSpan without a name says the name is missing, not that fn is not a function', () => {
    const { tracer } = setup({ global: true });
    type Nameless = (fn: () => number) => number;
    for (const call of [() => (withSpan as unknown as Nameless)(() => 1), () => (tracer.withSpan as unknown as Nameless).call(tracer, () => 1)]) {
      const error = thrown(call);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error.message).toMatch(/withSpan\(name, \[options\], fn\): the span's name is missing: it comes first, as in (tracer\.)?withSpan\('load user', fn\)/);
    }
    expect(() => (tracer.withSpan as (name: string, opts: object) => unknown)('x', { kind: 'CLIENT' })).toThrow(/fn must be a function, got an object/);
  });

  it('createEndpoint, propagators and setGlobalTracer throw classed errors too', () => {
    expect(thrown(() => createEndpoint('', { port: 0 }))).toBeInstanceOf(InvalidOptionError);
    expect(thrown(() => createTracer({ serviceName: 'x', global: false, propagation: { extract: ['b4' as never] } }))).toBeInstanceOf(InvalidOptionError);
    expect(thrown(() => setGlobalTracer(42 as never))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => setup().tracer.withActive(undefined, 'fn' as never))).toBeInstanceOf(InvalidArgumentError);
  });
});

describe('span setters ignore what they cannot take, and count it', () => {
  it('a tag key that is not a string, a kind that is not one of the four, a name that is not a string', () => {
    const { tracer, reporter } = setup();
    tracer
      .startSpan('x')
      .tag(42 as unknown as string, 'v')
      .tag('', 'empty key')
      .tag('kept', 'yes')
      .kind('server' as SpanKind)
      .name({ not: 'a name' } as unknown as string)
      .finish();
    expect(reporter.spans[0]).toMatchObject({ name: 'x', tags: { kept: 'yes' } });
    expect(reporter.spans[0]!.kind).toBeUndefined();
    expect(tracer.stats().invalidValues).toBe(4);
  });

  it('remoteEndpoint keeps the valid parts and counts each invalid one', () => {
    const { tracer, reporter } = setup();
    tracer.startSpan('x', { kind: 'CLIENT' }).remoteEndpoint('db', { ipv4: 'db.local', port: 70_000 }).finish();
    expect(reporter.spans[0]!.remoteEndpoint).toEqual({ serviceName: 'db' });
    expect(tracer.stats().invalidValues).toBe(2);
  });
});

describe("reporters' flush and close failures", () => {
  it('are caught and counted as reporterErrors, whether thrown or rejected', async () => {
    const throwing: Reporter = {
      report() {},
      flush() {
        throw new Error('flush threw');
      },
      close() {
        return Promise.reject(new Error('close rejected'));
      },
    };
    const rejecting: Reporter = { report() {}, flush: () => Promise.reject(new Error('flush rejected')) };
    const { tracer } = setup({ reporter: [throwing, rejecting] });
    await expect(tracer.flush()).resolves.toBeUndefined();
    expect(tracer.stats().reporterErrors).toBe(2);
    await expect(tracer.close({ timeout: 1000 })).resolves.toBeUndefined();
    expect(tracer.stats().reporterErrors).toBe(3);
  });
});

describe('one convention for every span maker', () => {
  it('newTrace, newChild and joinSpan take kind, tags, timestamp and remoteEndpoint as startSpan does', () => {
    const { tracer, reporter } = setup();
    const db = createEndpoint('db', { ipv4: '10.0.0.2', port: 5432 });
    const options = { kind: 'CLIENT' as const, tags: { peer: 'db' }, timestamp: T0, remoteEndpoint: db };
    const rootSpan = tracer.newTrace('root', options);
    tracer.newChild(rootSpan, 'child', options).finish(T0 + 10);
    tracer.joinSpan({ ...rootSpan.context, sampled: true }, 'joined', { ...options, kind: 'SERVER' }).finish(T0 + 20);
    tracer.newTrace({ name: 'object form', sampled: true, ...options }).finish(T0 + 30);
    rootSpan.finish(T0 + 40);
    const expected = { kind: 'CLIENT', tags: { peer: 'db' }, timestamp: T0, remoteEndpoint: { serviceName: 'db', ipv4: '10.0.0.2', port: 5432 } };
    expect(reporter.byName('root')[0]).toMatchObject({ ...expected, duration: 40 });
    expect(reporter.byName('child')[0]).toMatchObject({ ...expected, duration: 10, parentId: rootSpan.context.spanId });
    expect(reporter.byName('joined')[0]).toMatchObject({ ...expected, kind: 'SERVER', duration: 20, id: rootSpan.context.spanId, shared: true });
    expect(reporter.byName('object form')[0]).toMatchObject({ ...expected, duration: 30 });
  });
});

describe('error classes', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('have a code, a name, and are TypeErrors', () => {
    const error = thrown(() => createTracer({} as TracerOptions));
    expect(error).toBeInstanceOf(ZiptraceError);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).not.toBeInstanceOf(InvalidArgumentError);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.name).toBe('InvalidOptionError');
    expect(Object.keys(error)).toEqual(['code']);
    expect(String(error)).toMatch(/^InvalidOptionError: ziptrace: createTracer: serviceName must be/);
    expect(new Error('other')).not.toBeInstanceOf(ZiptraceError);
    expect(Object.assign(new TypeError('x'), { code: 'ZIPTRACE_INVALID_OPTION' })).not.toBeInstanceOf(InvalidOptionError);
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    // instanceof must answer, not throw, for a value that refuses to be read.
    expect(proxy instanceof ZiptraceError).toBe(false);
    expect((null as unknown as object) instanceof InvalidArgumentError).toBe(false);
  });

  it('instanceof works across two loaded copies of ziptrace (a real second copy of the build, in a child process)', () => {
    // The build is made by npm test (and by spec/setup/pack.ts); copy it as a second installed version would be.
    const copy = mkdtempSync(join(tmpdir(), 'ziptrace-copy-'));
    dirs.push(copy);
    cpSync(join(root, 'dist', 'cjs'), join(copy, 'cjs'), { recursive: true });
    const script = `
      const a = require(${JSON.stringify(join(root, 'dist', 'cjs', 'index.js'))});
      const b = require(${JSON.stringify(join(copy, 'cjs', 'index.js'))});
      let fromB;
      try { b.createTracer({ serviceName: 'x', zipkinURL: 'y' }); } catch (e) { fromB = e; }
      console.log(JSON.stringify({
        distinct: a.InvalidOptionError !== b.InvalidOptionError,
        option: fromB instanceof a.InvalidOptionError,
        base: fromB instanceof a.ZiptraceError,
        other: fromB instanceof a.InvalidArgumentError,
        code: fromB.code,
      }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as Record<string, unknown>;
    expect(out).toEqual({ distinct: true, option: true, base: true, other: false, code: 'ZIPTRACE_INVALID_OPTION' });
  });
});
