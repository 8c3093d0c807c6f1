/**
 * lib/global.ts: createTracer and its option checks, the global tracer
 * (first one wins, setGlobalTracer, closed tracers step down), and the free
 * functions withSpan / startSpan / currentSpan.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createEndpoint,
  createTracer,
  currentSpan,
  getGlobalTracer,
  MemoryReporter,
  setGlobalTracer,
  startSpan,
  withSpan,
  type Span,
  type Tracer,
  type TracerOptions,
} from '../lib/index.js';
import { clearGlobalTracerAfterEach, sleep } from './helpers/tracing.js';

clearGlobalTracerAfterEach();


function tracerWith(extra: Partial<TracerOptions> = {}): { tracer: Tracer; reporter: MemoryReporter } {
  const reporter = new MemoryReporter();
  return { tracer: createTracer({ serviceName: 'global-spec', reporter, ...extra }), reporter };
}

describe('createTracer option checks', () => {
  it.each<[string, unknown, RegExp]>([
    ['sampleRate 2', { serviceName: 's', sampleRate: 2 }, /sampleRate must be a number from 0 to 1.*got 2/],
    ['sampleRate -0.1', { serviceName: 's', sampleRate: -0.1 }, /sampleRate.*got -0\.1/],
    ['sampleRate NaN', { serviceName: 's', sampleRate: Number.NaN }, /sampleRate.*got NaN/],
    ['sampleRate as a string', { serviceName: 's', sampleRate: '0.5' }, /sampleRate.*got "0\.5"/],
    ['empty serviceName', { serviceName: '' }, /serviceName must be a non-empty string.*got ""/],
    ['blank serviceName', { serviceName: '   ' }, /serviceName must be a non-empty string/],
    ['no serviceName at all', {}, /serviceName must be a non-empty string.*got undefined/],
    ['a number serviceName', { serviceName: 42 }, /serviceName.*got 42/],
    ['a reporter without report()', { serviceName: 's', reporter: {} }, /reporter must have a report\(span\) method, got an object/],
    ['a reporter that is a function', { serviceName: 's', reporter: () => undefined }, /reporter must have a report\(span\) method, got a function/],
    ['a null reporter', { serviceName: 's', reporter: null }, /reporter must have a report\(span\) method, got null/],
    ['a bad reporter in an array', { serviceName: 's', reporter: [new MemoryReporter(), 'nope'] }, /reporter\[1\] must have a report\(span\) method, got "nope"/],
    ['a sampler that is not a function', { serviceName: 's', sampler: true }, /sampler must be a function/],
    ['traceId128Bit not boolean', { serviceName: 's', traceId128Bit: 'yes' }, /traceId128Bit must be true or false/],
    ['ignoredErrors not classes', { serviceName: 's', ignoredErrors: ['Error'] }, /ignoredErrors must be an array of error classes or a predicate/],
    ['limits.maxTags 0', { serviceName: 's', limits: { maxTags: 0 } }, /limits\.maxTags must be a whole number of at least 1, got 0/],
    ['limits.maxValueLength 1.5', { serviceName: 's', limits: { maxValueLength: 1.5 } }, /limits\.maxValueLength.*got 1\.5/],
    ['an unknown limit', { serviceName: 's', limits: { maxSpans: 3 } }, /limits\.maxSpans is not a limit/],
    ['global not boolean', { serviceName: 's', global: 'yes' }, /global must be true or false/],
    ['localEndpoint with a bad ipv4', { localEndpoint: { serviceName: 's', ipv4: '999.1.1.1' } }, /ipv4 must be a dotted IPv4 address/],
    ['localEndpoint without a serviceName', { localEndpoint: { ipv4: '10.0.0.1' } }, /localEndpoint needs a serviceName/],
  ])('throws a TypeError naming the option for %s', (_, options, message) => {
    let thrown: unknown;
    try {
      createTracer(options as TracerOptions);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as TypeError).message).toMatch(/^ziptrace: createTracer: /);
    expect((thrown as TypeError).message).toMatch(message);
    // A tracer that failed to construct does not become global.
    expect(getGlobalTracer()).toBeUndefined();
  });

  it('names every problem at once', () => {
    expect(() => createTracer({ serviceName: '', sampleRate: 7 })).toThrow(/serviceName.*; sampleRate/);
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'svc'],
  ])('throws a TypeError naming the options for createTracer(%s)', (_, options) => {
    expect(() => createTracer(options as TracerOptions)).toThrow(/^ziptrace: createTracer: options must be an object/);
  });

  it('accepts the documented forms', () => {
    expect(createTracer({ serviceName: 'svc', global: false }).localEndpoint).toEqual({ serviceName: 'svc' });
    expect(
      createTracer({ localEndpoint: createEndpoint('svc', { ipv4: '10.0.0.1', port: 80 }), global: false }).localEndpoint,
    ).toEqual({ serviceName: 'svc', ipv4: '10.0.0.1', port: 80 });
    expect(createTracer({ serviceName: 'svc', reporter: [], global: false }).reporters).toEqual([]);
    expect(createTracer({ serviceName: 'svc', sampleRate: 0, global: false }).newTrace().isRecording).toBe(false);
    expect(createTracer({ serviceName: 'svc', sampleRate: 1, global: false }).newTrace().isRecording).toBe(true);
    expect(createTracer({ serviceName: 'svc', ignoredErrors: [TypeError, RangeError], global: false })).toBeDefined();
    expect(createTracer({ serviceName: 'svc', limits: { maxTags: 1, maxNameLength: 10 }, global: false })).toBeDefined();
  });
});

describe('the global tracer', () => {
  it('is the first tracer created', () => {
    expect(getGlobalTracer()).toBeUndefined();
    const first = createTracer({ serviceName: 'first' });
    const second = createTracer({ serviceName: 'second' });
    expect(getGlobalTracer()).toBe(first);
    expect(getGlobalTracer()).not.toBe(second);
  });

  it('is not taken by a tracer created with global: false, and is taken over with global: true', () => {
    const quiet = createTracer({ serviceName: 'quiet', global: false });
    expect(getGlobalTracer()).toBeUndefined();
    const first = createTracer({ serviceName: 'first' });
    expect(getGlobalTracer()).toBe(first);
    const loud = createTracer({ serviceName: 'loud', global: true });
    expect(getGlobalTracer()).toBe(loud);
    expect(getGlobalTracer()).not.toBe(quiet);
  });

  it('setGlobalTracer sets and clears it, and rejects what is not a tracer', () => {
    const a = createTracer({ serviceName: 'a' });
    const b = createTracer({ serviceName: 'b', global: false });
    setGlobalTracer(b);
    expect(getGlobalTracer()).toBe(b);
    setGlobalTracer(undefined);
    expect(getGlobalTracer()).toBeUndefined();
    // With none set, the next tracer created becomes global again.
    const c = createTracer({ serviceName: 'c' });
    expect(getGlobalTracer()).toBe(c);
    expect(() => setGlobalTracer({} as Tracer)).toThrow(TypeError);
    expect(() => setGlobalTracer(null as unknown as Tracer)).toThrow(/setGlobalTracer/);
    expect(getGlobalTracer()).toBe(c);
    expect(a).not.toBe(c);
  });

  it('a closed tracer stops being global and cannot be made global again', async () => {
    const t = createTracer({ serviceName: 'closing' });
    expect(getGlobalTracer()).toBe(t);
    await t.close();
    expect(getGlobalTracer()).toBeUndefined();
    setGlobalTracer(t);
    expect(getGlobalTracer()).toBeUndefined();
    // Closing a tracer that is not global leaves the global one alone.
    const g = createTracer({ serviceName: 'g' });
    const other = createTracer({ serviceName: 'other', global: false });
    await other.close();
    expect(getGlobalTracer()).toBe(g);
  });
});

describe('free functions', () => {
  it('use the global tracer when no span is active', async () => {
    const { tracer, reporter } = tracerWith();
    const result = await withSpan('free', { kind: 'SERVER' }, async (span) => {
      expect(span.tracer).toBe(tracer);
      expect(currentSpan()).toBe(span);
      await sleep(1);
      const child = startSpan('free-child', { tags: { n: 1 } });
      expect(child.context.parentId).toBe(span.context.spanId);
      expect(currentSpan()).toBe(span);
      child.finish();
      return 'done';
    });
    expect(result).toBe('done');
    expect(currentSpan()).toBeUndefined();
    expect(reporter.spans.map((s) => [s.name, s.kind, s.tags])).toEqual([
      ['free-child', undefined, { n: '1' }],
      ['free', 'SERVER', undefined],
    ]);
    expect(withSpan('sync', () => 5)).toBe(5);
  });

  it('use the active span’s tracer over the global one', async () => {
    const global = tracerWith();
    const other = tracerWith({ global: false, serviceName: 'other' });
    expect(getGlobalTracer()).toBe(global.tracer);
    await other.tracer.withSpan('other-root', async () => {
      await sleep(1);
      startSpan('free-start').finish();
      withSpan('free-with', (span) => expect(span.tracer).toBe(other.tracer));
    });
    expect(global.reporter.spans).toEqual([]);
    expect(other.reporter.spans.map((s) => s.name)).toEqual(['free-start', 'free-with', 'other-root']);
    expect(other.reporter.spans.every((s) => s.localEndpoint!.serviceName === 'other')).toBe(true);

    // A context made active by a tracer (say, from headers) also selects that tracer.
    other.tracer.withActive({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), sampled: true, debug: false, shared: false }, () => {
      startSpan('under-context').finish();
    });
    expect(other.reporter.byName('under-context')[0]).toMatchObject({ traceId: 'a'.repeat(32), parentId: 'b'.repeat(16) });
  });

  it('with no tracer at all, just run the function with a no-op span', async () => {
    expect(getGlobalTracer()).toBeUndefined();
    let given: Span | undefined;
    const value = withSpan('nothing', (span) => {
      given = span;
      expect(currentSpan()).toBeUndefined();
      return 'ran';
    });
    expect(value).toBe('ran');
    expect(given!.isRecording).toBe(false);
    expect(given!.context.sampled).toBe(false);
    expect(given!.tag('a', 1).name('b').annotate('c').kind('CLIENT').remoteEndpoint('d').setError('e')).toBe(given);
    expect(() => given!.finish()).not.toThrow();

    await expect(withSpan('async', { kind: 'CLIENT' }, async () => 'async ran')).resolves.toBe('async ran');
    const boom = new Error('boom');
    expect(() =>
      withSpan('throws', () => {
        throw boom;
      }),
    ).toThrow(boom);

    const started = startSpan('nothing');
    expect(started.isRecording).toBe(false);
    expect(started.context.sampled).toBe(false);
    started.finish();
    expect(currentSpan()).toBeUndefined();
  });

  it('after the global tracer closes, just run the function', async () => {
    const { tracer, reporter } = tracerWith();
    await tracer.close();
    expect(withSpan('after-close', (span) => span.isRecording)).toBe(false);
    expect(startSpan('after-close').isRecording).toBe(false);
    expect(reporter.spans).toEqual([]);
  });

  it('withSpan without a function throws a TypeError', () => {
    tracerWith();
    expect(() => withSpan('x', {} as never)).toThrow(/withSpan\(name, \[options\], fn\): fn must be a function/);
    setGlobalTracer(undefined);
    expect(() => withSpan('x', undefined as never)).toThrow(TypeError);
  });
});
