/**
 * The Tracer (lib/tracer.ts): startSpan and withSpan, the aiozipkin-style API
 * (newTrace, newChild, joinSpan, currentSpan), reporters and stats, flush and
 * close, and that it keeps no registry of open spans (checked in a child
 * process run with --expose-gc).
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CLOSE_TIMEOUT } from '../lib/tracer.js';
import {
  createEndpoint,
  isSpanId,
  isTraceId,
  createTracer,
  currentSpan,
  getGlobalTracer,
  MemoryReporter,
  setGlobalTracer,
  type Reporter,
  type TraceContext,
  type Tracer,
  type TracerOptions,
  type TracerStats,
  type ZipkinSpan,
} from '../lib/index.js';
import { transpileLib } from './helpers/transpiled-lib.js';
import { clearGlobalTracerAfterEach, memoryTracer, only, sleep } from './helpers/tracing.js';

clearGlobalTracerAfterEach();

const ZERO_STATS: TracerStats = {
  spansReported: 0,
  spansDropped: 0,
  reporterErrors: 0,
  samplerErrors: 0,
  droppedTags: 0,
  droppedAnnotations: 0,
  truncatedValues: 0,
  invalidValues: 0,
};

const setup = (extra: Partial<TracerOptions> = {}): { tracer: Tracer; reporter: MemoryReporter } => memoryTracer('tracer-spec', extra);



describe('tracer.startSpan', () => {
  it('starts a root span when nothing is active, with fresh ids and no parent', () => {
    const { tracer, reporter } = setup();
    const span = tracer.startSpan('root');
    expect(span.context.parentId).toBeUndefined();
    expect(span.context.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(span.context.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(span.context.sampled).toBe(true);
    expect(span.context.shared).toBe(false);
    expect(span.context.debug).toBe(false);
    expect(span.tracer).toBe(tracer);
    expect(reporter.spans).toHaveLength(0);
    span.finish();
    expect(reporter.spans).toHaveLength(1);
  });

  it('nests under the active span but is not made active', () => {
    const { tracer, reporter } = setup();
    tracer.withSpan('outer', (outer) => {
      const child = tracer.startSpan('child');
      expect(currentSpan()).toBe(outer);
      expect(child.context.parentId).toBe(outer.context.spanId);
      expect(child.context.traceId).toBe(outer.context.traceId);
      expect(child.context.spanId).not.toBe(outer.context.spanId);
      child.finish();
    });
    expect(only(reporter, 'child').parentId).toBe(only(reporter, 'outer').id);
  });

  it('takes an explicit parent (context or span), or null for a new root', () => {
    const { tracer } = setup();
    const other = tracer.startSpan('other');
    const context: TraceContext = { traceId: '1'.repeat(32), spanId: '2'.repeat(16), sampled: true, debug: false, shared: false };
    tracer.withSpan('active', (active) => {
      const ofSpan = tracer.startSpan('of-span', { parent: other });
      expect(ofSpan.context.parentId).toBe(other.context.spanId);
      expect(ofSpan.context.traceId).toBe(other.context.traceId);

      const ofContext = tracer.startSpan('of-context', { parent: context });
      expect(ofContext.context.parentId).toBe('2'.repeat(16));
      expect(ofContext.context.traceId).toBe('1'.repeat(32));

      const root = tracer.startSpan('root', { parent: null });
      expect(root.context.parentId).toBeUndefined();
      expect(root.context.traceId).not.toBe(active.context.traceId);

      const implicit = tracer.startSpan('implicit', { parent: undefined });
      expect(implicit.context.parentId).toBe(active.context.spanId);
    });
  });

  it('applies kind, tags, remoteEndpoint and timestamp options to the reported span', () => {
    const { tracer, reporter } = setup();
    const span = tracer.startSpan('get /users', {
      kind: 'CLIENT',
      tags: { 'http.method': 'GET', 'http.status_code': 200, cached: false, skipped: undefined },
      remoteEndpoint: createEndpoint('users', { ipv4: '10.0.0.2', port: 8080 }),
      timestamp: 1_600_000_000_000_000,
    });
    span.finish(1_600_000_000_001_500);
    expect(reporter.spans).toEqual([
      {
        traceId: span.context.traceId,
        id: span.context.spanId,
        name: 'get /users',
        kind: 'CLIENT',
        timestamp: 1_600_000_000_000_000,
        duration: 1500,
        localEndpoint: { serviceName: 'tracer-spec' },
        remoteEndpoint: { serviceName: 'users', ipv4: '10.0.0.2', port: 8080 },
        tags: { 'http.method': 'GET', 'http.status_code': '200', cached: 'false' },
      },
    ]);
    const reported = reporter.spans[0]!;
    expect('parentId' in reported).toBe(false);
    expect('shared' in reported).toBe(false);
    expect('debug' in reported).toBe(false);
    expect('annotations' in reported).toBe(false);
  });

  it('reports the tracer’s localEndpoint from createEndpoint', () => {
    const reporter = new MemoryReporter();
    const tracer = createTracer({ localEndpoint: createEndpoint('api', { ipv4: '10.1.2.3', ipv6: '::1', port: 443 }), reporter });
    tracer.startSpan('x').finish();
    expect(reporter.spans[0]!.localEndpoint).toEqual({ serviceName: 'api', ipv4: '10.1.2.3', ipv6: '::1', port: 443 });
    expect(tracer.localEndpoint).toEqual({ serviceName: 'api', ipv4: '10.1.2.3', ipv6: '::1', port: 443 });
  });
});

describe('tracer.withSpan', () => {
  it('passes a sync return value through and finishes the span before returning', () => {
    const { tracer, reporter } = setup();
    let inside: boolean | undefined;
    const result = tracer.withSpan('sync', (span) => {
      inside = span.isRecording;
      return { answer: 42 };
    });
    expect(result).toEqual({ answer: 42 });
    expect(inside).toBe(true);
    expect(reporter.spans.map((s) => s.name)).toEqual(['sync']);
    expect(reporter.spans[0]!.tags).toBeUndefined();
  });

  it('takes options as the second argument', () => {
    const { tracer, reporter } = setup();
    const out = tracer.withSpan('with-opts', { kind: 'SERVER', tags: { route: '/x' } }, () => 'ok');
    expect(out).toBe('ok');
    expect(only(reporter, 'with-opts')).toMatchObject({ kind: 'SERVER', tags: { route: '/x' } });
    expect(tracer.withSpan('undefined-opts', undefined, () => 3)).toBe(3);
  });

  it('finishes an async span only when its promise settles, and passes the value through', async () => {
    const { tracer, reporter } = setup();
    let span: { isRecording: boolean } | undefined;
    const pending = tracer.withSpan('async', async (s) => {
      span = s;
      await sleep(20);
      return 'value';
    });
    expect(pending).toBeInstanceOf(Promise);
    expect(span!.isRecording).toBe(true);
    expect(reporter.spans).toHaveLength(0);
    await sleep(2);
    expect(reporter.spans).toHaveLength(0);
    await expect(pending).resolves.toBe('value');
    expect(span!.isRecording).toBe(false);
    const reported = only(reporter, 'async');
    expect(reported.duration).toBeGreaterThanOrEqual(15_000);
    expect(reported.tags).toBeUndefined();
  });

  it('records a sync throw as the error tag and rethrows the same error', () => {
    const { tracer, reporter } = setup();
    const boom = new Error('boom');
    let caught: unknown;
    try {
      tracer.withSpan('sync-throw', () => {
        throw boom;
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(boom);
    expect(only(reporter, 'sync-throw').tags).toEqual({ error: 'boom' });
  });

  it('records a rejection as the error tag and rejects with the same error', async () => {
    const { tracer, reporter } = setup();
    const boom = new RangeError('out of range');
    const pending = tracer.withSpan('async-throw', async () => {
      await sleep(1);
      throw boom;
    });
    await expect(pending).rejects.toBe(boom);
    expect(only(reporter, 'async-throw').tags).toEqual({ error: 'out of range' });

    await expect(
      tracer.withSpan('rejects-string', () => Promise.reject('plain string')),
    ).rejects.toBe('plain string');
    expect(only(reporter, 'rejects-string').tags).toEqual({ error: 'plain string' });
  });

  it('leaves ignoredErrors (classes, subclasses) off the span but still rethrows and finishes', async () => {
    class NotFound extends Error {}
    class GoneForGood extends NotFound {}
    const { tracer, reporter } = setup({ ignoredErrors: [NotFound] });
    expect(() =>
      tracer.withSpan('ignored', () => {
        throw new NotFound('nope');
      }),
    ).toThrow('nope');
    await expect(
      tracer.withSpan('ignored-sub', async () => {
        throw new GoneForGood('gone');
      }),
    ).rejects.toThrow('gone');
    expect(() =>
      tracer.withSpan('not-ignored', () => {
        throw new Error('real');
      }),
    ).toThrow('real');
    expect(only(reporter, 'ignored').tags).toBeUndefined();
    expect(only(reporter, 'ignored-sub').tags).toBeUndefined();
    expect(only(reporter, 'not-ignored').tags).toEqual({ error: 'real' });
  });

  it('takes an ignoredErrors predicate; a throwing predicate records the error', () => {
    const seen: unknown[] = [];
    const { tracer, reporter } = setup({
      ignoredErrors: (error) => {
        seen.push(error);
        if (error === 'explode') throw new Error('predicate failed');
        return error instanceof Error && error.message.startsWith('expected');
      },
    });
    expect(() =>
      tracer.withSpan('a', () => {
        throw new Error('expected miss');
      }),
    ).toThrow('expected miss');
    expect(() =>
      tracer.withSpan('b', () => {
        throw new Error('unexpected');
      }),
    ).toThrow('unexpected');
    expect(() =>
      tracer.withSpan('c', () => {
        throw 'explode';
      }),
    ).toThrow('explode');
    expect(only(reporter, 'a').tags).toBeUndefined();
    expect(only(reporter, 'b').tags).toEqual({ error: 'unexpected' });
    expect(only(reporter, 'c').tags).toEqual({ error: 'explode' });
    expect(seen).toHaveLength(3);
  });

  it('throws a TypeError when fn is missing', () => {
    const { tracer } = setup();
    expect(() => tracer.withSpan('x', {} as never)).toThrow(TypeError);
    expect(() => tracer.withSpan('x', {} as never)).toThrow(/fn must be a function/);
  });
});

describe('aiozipkin API', () => {
  it('newTrace starts a new trace ignoring the active span, not made active', () => {
    const { tracer } = setup();
    tracer.withSpan('active', (active) => {
      const fresh = tracer.newTrace();
      expect(fresh.context.parentId).toBeUndefined();
      expect(fresh.context.traceId).not.toBe(active.context.traceId);
      expect(fresh.context.sampled).toBe(true);
      expect(currentSpan()).toBe(active);
    });
  });

  it('newTrace({ sampled }) forces the decision; debug forces sampling and is reported', () => {
    const always = setup().tracer;
    expect(always.newTrace({ sampled: false }).isRecording).toBe(false);
    expect(always.newTrace({ sampled: false }).context.sampled).toBe(false);

    const { tracer, reporter } = setup({ sampleRate: 0, global: false });
    expect(tracer.newTrace().isRecording).toBe(false);
    expect(tracer.newTrace({ sampled: true }).isRecording).toBe(true);
    const dbg = tracer.newTrace({ debug: true, sampled: false, name: 'dbg' });
    expect(dbg.context).toMatchObject({ sampled: true, debug: true });
    dbg.finish();
    expect(only(reporter, 'dbg').debug).toBe(true);
  });

  it('newChild continues a context or span with a new span id', () => {
    const { tracer, reporter } = setup();
    const parent = tracer.newTrace({ name: 'parent' });
    const fromSpan = tracer.newChild(parent, 'from-span');
    const fromContext = tracer.newChild(parent.context, 'from-context');
    for (const child of [fromSpan, fromContext]) {
      expect(child.context.traceId).toBe(parent.context.traceId);
      expect(child.context.parentId).toBe(parent.context.spanId);
      expect(child.context.spanId).not.toBe(parent.context.spanId);
      expect(child.context.sampled).toBe(true);
      expect(child.context.shared).toBe(false);
    }
    expect(fromSpan.context.spanId).not.toBe(fromContext.context.spanId);
    expect(currentSpan()).toBeUndefined();
    fromSpan.finish();
    expect(only(reporter, 'from-span').parentId).toBe(parent.context.spanId);
  });

  it('joinSpan shares the caller’s ids and reports shared: true', () => {
    const { tracer, reporter } = setup();
    const remote: TraceContext = {
      traceId: '463ac35c9f6413ad48485a3953bb6124',
      spanId: 'a2fb4a1d1a96d312',
      parentId: '0020000000000001',
      sampled: true,
      debug: false,
      shared: false,
    };
    const joined = tracer.joinSpan(remote, 'server');
    expect(joined.context).toMatchObject({
      traceId: remote.traceId,
      spanId: remote.spanId,
      parentId: remote.parentId,
      sampled: true,
      shared: true,
    });
    expect(currentSpan()).toBeUndefined();
    joined.kind('SERVER').finish();
    expect(reporter.spans).toHaveLength(1);
    expect(reporter.spans[0]).toMatchObject({
      traceId: remote.traceId,
      id: remote.spanId,
      parentId: remote.parentId,
      name: 'server',
      kind: 'SERVER',
      shared: true,
    });
  });

  it('joinSpan of a plain object leaves out a parent id that is not a valid span id, and keeps a valid one', () => {
    const { tracer, reporter } = setup({ global: false });
    const remote = { traceId: 'f'.repeat(32), spanId: 'e'.repeat(16), sampled: true, debug: false, shared: false };
    for (const parentId of ['", "x": "', 'ABCDEF0123456789', '0000000000000000', 'abc', 42 as unknown as string]) {
      const joined = tracer.joinSpan({ ...remote, parentId }, 'odd-parent');
      expect(joined.context.parentId).toBeUndefined();
      joined.finish();
    }
    tracer.joinSpan({ ...remote, parentId: 'd'.repeat(16) }, 'good-parent').finish();
    expect(reporter.byName('odd-parent').map((span) => 'parentId' in span)).toEqual([false, false, false, false, false]);
    expect(only(reporter, 'good-parent').parentId).toBe('d'.repeat(16));
  });

  it('joinSpan keeps a remote “not sampled” decision, and starts a new trace for invalid ids', () => {
    const { tracer, reporter } = setup();
    const unsampled = tracer.joinSpan({ traceId: 'f'.repeat(32), spanId: 'e'.repeat(16), sampled: false, debug: false, shared: false });
    expect(unsampled.isRecording).toBe(false);
    expect(unsampled.context.sampled).toBe(false);
    unsampled.finish();
    expect(reporter.spans).toHaveLength(0);

    const bad = tracer.joinSpan({ traceId: 'not-hex', spanId: '0000000000000000', sampled: true, debug: false, shared: false }, 'bad');
    expect(bad.context.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(bad.context.parentId).toBeUndefined();
    expect(bad.context.shared).toBe(false);
    expect(bad.context.sampled).toBe(true);
  });

  it('tracer.currentSpan() returns the active span', async () => {
    const { tracer } = setup();
    expect(tracer.currentSpan()).toBeUndefined();
    await tracer.withSpan('x', async (span) => {
      await sleep(1);
      expect(tracer.currentSpan()).toBe(span);
    });
    expect(tracer.currentSpan()).toBeUndefined();
  });
});

describe('tracer.joinSpan with sampling off (sampleRate 0, no sampler)', () => {
  it('gives an unsampled root for nothing or an invalid context, whose ids are valid when read and propagate the decision', () => {
    const { tracer, reporter } = setup({ sampleRate: 0 });
    for (const incoming of [undefined, { traceId: 'zz', spanId: 'zz', debug: false }]) {
      const span = tracer.joinSpan(incoming as never, 'GET /', { kind: 'SERVER' });
      expect(span.isRecording).toBe(false);
      const headers: Record<string, string> = {};
      tracer.inject(span, headers);
      expect(headers['x-b3-sampled']).toBe('0');
      expect(isTraceId(headers['x-b3-traceid'])).toBe(true);
      expect(isSpanId(headers['x-b3-spanid'])).toBe(true);
      expect(headers['x-b3-traceid']).toBe(span.context.traceId);
      span.finish();
    }
    expect(reporter.spans).toEqual([]);
  });

  it('still samples a root when the caller sent a decision to sample (b3: 1) or debug (b3: d)', () => {
    const { tracer, reporter } = setup({ sampleRate: 0 });
    for (const b3 of ['1', 'd']) {
      const span = tracer.joinSpan(tracer.extract({ b3 }), 'GET /', { kind: 'SERVER' });
      expect(span.isRecording).toBe(true);
      span.finish();
    }
    expect(reporter.spans).toHaveLength(2);
    expect(reporter.spans[1]!.debug).toBe(true);
  });
});

describe('reporters and stats', () => {
  it('starts with all stats at zero and returns a copy', () => {
    const { tracer } = setup();
    expect(tracer.stats()).toEqual(ZERO_STATS);
    const stats = tracer.stats();
    stats.spansReported = 99;
    expect(tracer.stats().spansReported).toBe(0);
  });

  it('hands each finished span to every reporter of an array, and counts it', () => {
    const a = new MemoryReporter();
    const b = new MemoryReporter();
    const tracer = createTracer({ serviceName: 'multi', reporter: [a, b] });
    expect(tracer.reporters).toEqual([a, b]);
    tracer.startSpan('one').finish();
    tracer.startSpan('two').finish();
    expect(a.spans.map((s) => s.name)).toEqual(['one', 'two']);
    expect(b.spans.map((s) => s.name)).toEqual(['one', 'two']);
    expect(tracer.stats()).toEqual({ ...ZERO_STATS, spansReported: 2 });
  });

  it('catches and counts a reporter whose report() throws; the others still get the span', () => {
    const throwing: Reporter = {
      report() {
        throw new Error('reporter down');
      },
    };
    const memory = new MemoryReporter();
    const tracer = createTracer({ serviceName: 'resilient', reporter: [throwing, memory] });
    expect(() => tracer.startSpan('a').finish()).not.toThrow();
    expect(() => tracer.withSpan('b', () => 'ok')).not.toThrow();
    expect(memory.spans.map((s) => s.name)).toEqual(['a', 'b']);
    expect(tracer.stats().reporterErrors).toBe(2);
  });

  it('drops and counts finished spans when there is no reporter', () => {
    const tracer = createTracer({ serviceName: 'no-reporter' });
    expect(tracer.reporters).toEqual([]);
    tracer.startSpan('a').finish();
    tracer.withSpan('b', () => undefined);
    expect(tracer.stats()).toEqual({ ...ZERO_STATS, spansDropped: 2 });
  });

  it('flush() awaits the reporters and never rejects', async () => {
    let flushed = 0;
    const ok: Reporter = { report() {}, flush: async () => void flushed++ };
    const failing: Reporter = { report() {}, flush: () => Promise.reject(new Error('network')) };
    const throwing: Reporter = {
      report() {},
      flush: () => {
        throw new Error('sync');
      },
    };
    const tracer = createTracer({ serviceName: 'flush', reporter: [ok, failing, throwing, { report() {} }] });
    await expect(tracer.flush()).resolves.toBeUndefined();
    expect(flushed).toBe(1);
  });
});

describe('close', () => {
  it('closes every reporter with the timeout, and a second close does nothing', async () => {
    const timeouts: (number | undefined)[] = [];
    const reporter: Reporter = { report() {}, close: async (options) => void timeouts.push(options?.timeout) };
    const tracer = createTracer({ serviceName: 'close', reporter: [reporter, reporter] });
    expect(tracer.closed).toBe(false);
    await tracer.close({ timeout: 1234 });
    expect(tracer.closed).toBe(true);
    expect(timeouts).toEqual([1234, 1234]);
    await tracer.close();
    expect(timeouts).toEqual([1234, 1234]);
  });

  it('returns within its timeout when a reporter’s close() never resolves (5x slack)', async () => {
    const hanging: Reporter = { report() {}, close: () => new Promise<void>(() => {}) };
    const rejecting: Reporter = { report() {}, close: () => Promise.reject(new Error('x')) };
    const tracer = createTracer({ serviceName: 'hang', reporter: [hanging, rejecting] });
    const timeout = 200;
    const started = Date.now();
    await expect(tracer.close({ timeout })).resolves.toBeUndefined();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(timeout - 5);
    expect(elapsed).toBeLessThan(timeout * 5);
  });

  it('uses a 5 s default timeout when a reporter’s close() never resolves (fake timers: no real wait)', async () => {
    vi.useFakeTimers();
    try {
      const hanging: Reporter = { report() {}, close: () => new Promise<void>(() => {}) };
      const tracer = createTracer({ serviceName: 'hang-default', reporter: hanging });
      let done = false;
      const closing = tracer.close().then(() => (done = true));
      await vi.advanceTimersByTimeAsync(DEFAULT_CLOSE_TIMEOUT - 1);
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await closing;
      expect(done).toBe(true);
      expect(DEFAULT_CLOSE_TIMEOUT).toBe(5000);
    } finally {
      vi.useRealTimers();
    }
  });

  // Regression: Node fires a timer of Infinity after 1 ms, so close({ timeout: Infinity }) gave up at once.
  it('close({ timeout: Infinity }) waits for the reporters as long as they take (fake timers)', async () => {
    vi.useFakeTimers();
    try {
      let finish: () => void = () => {};
      const slow: Reporter = { report() {}, close: () => new Promise<void>((resolve) => (finish = resolve)) };
      const tracer = createTracer({ serviceName: 'patient', reporter: slow, global: false });
      let done = false;
      const closing = tracer.close({ timeout: Number.POSITIVE_INFINITY }).then(() => (done = true));
      await vi.advanceTimersByTimeAsync(60_000);
      expect(done).toBe(false);
      finish();
      await closing;
      expect(done).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('drops and counts spans finished after close; spans started after close do not record', async () => {
    const { tracer, reporter } = setup();
    const open = tracer.startSpan('open-at-close');
    await tracer.close();
    open.finish();
    expect(reporter.spans).toHaveLength(0);
    expect(tracer.stats().spansDropped).toBe(1);

    const late = tracer.startSpan('late');
    expect(late.isRecording).toBe(false);
    late.finish();
    // A closed tracer still runs code.
    expect(tracer.withSpan('late-with', (span) => (span.isRecording ? 'recording' : 'not recording'))).toBe('not recording');
    expect(reporter.spans).toHaveLength(0);
    expect(tracer.stats().spansReported).toBe(0);
  });

  // Regression: an unref()'d deadline timer let the event loop empty before it fired, so
  // `await tracer.close()` never returned (ESM: exit code 13, "unsettled top-level await").
  it('returns within its timeout in a process with nothing else to do (child process)', async () => {
    const { code, stdout } = await runChild([join(specDir, 'fixtures', 'close-child.mjs'), transpiledIndex()]);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]!) as { returned: boolean; elapsed: number; timeout: number };
    expect(result.returned).toBe(true);
    expect(result.elapsed).toBeLessThan(result.timeout * 5);
  }, 60_000);

  it('stops being the global tracer as soon as close() is called', async () => {
    const { tracer } = setup();
    expect(getGlobalTracer()).toBe(tracer);
    const closing = tracer.close();
    expect(getGlobalTracer()).toBeUndefined();
    await closing;
  });
});

const specDir = dirname(fileURLToPath(import.meta.url));
let transpiled: string | undefined;
const transpiledDirs: string[] = [];
afterAll(() => {
  for (const dir of transpiledDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Transpiles lib/**.ts as-is to plain ESM in a temp dir (once per file run), so a
 * bare `node` child process can load the current source. Returns index.js's URL.
 */
function transpiledIndex(): string {
  if (transpiled !== undefined) return transpiled;
  const outDir = transpileLib();
  transpiledDirs.push(outDir);
  transpiled = pathToFileURL(join(outDir, 'index.js')).href;
  return transpiled;
}

/** Runs a fixture script with plain node; resolves with exit code, stdout and stderr. */
function runChild(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('no registry of tracers', () => {
  // Regression: every tracer ever created was kept in a process-wide set that nothing read.
  it('lets the garbage collector reclaim tracers dropped without close(), keeping only the global one (child process, --expose-gc)', async () => {
    const { code, stdout, stderr } = await runChild(['--expose-gc', join(specDir, 'fixtures', 'tracer-gc-child.mjs'), transpiledIndex()]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { expected: string[]; collected: string[]; globalIsControl: boolean };
    const control = 'global (control, the free functions use it)';
    expect(result.expected).toHaveLength(22);
    expect(result.collected).toEqual(result.expected.filter((l) => l !== control).sort());
    expect(result.globalIsControl).toBe(true);
  }, 60_000);
});

describe('no registry of open spans', () => {
  it('lets the garbage collector reclaim started, never-finished spans (child process, --expose-gc)', async () => {
    const { code, stdout, stderr } = await runChild(['--expose-gc', join(specDir, 'fixtures', 'gc-child.mjs'), transpiledIndex()]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
      expected: string[];
      collected: string[];
      alive: string[];
      stats: TracerStats;
    };
    const control = 'kept (control, still referenced)';
    expect(result.expected).toHaveLength(7);
    expect(result.collected).toEqual(result.expected.filter((l) => l !== control).sort());
    expect(result.alive).toEqual([control]);
    // Nothing finished, so nothing was reported or dropped.
    expect(result.stats.spansReported).toBe(0);
    expect(result.stats.spansDropped).toBe(0);
  }, 60_000);
});
