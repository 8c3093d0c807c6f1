/**
 * The OpenTelemetry bridge as a whole: one context for both APIs (either
 * nests in the other, one trace), the values OpenTelemetry code keeps in its
 * Context surviving every async hop and ziptrace's own spans, registering
 * and undoing.
 */
import { EventEmitter } from 'node:events';
import { context, propagation, ROOT_CONTEXT, trace, createContextKey, type Context } from '@opentelemetry/api';
import { isTracingSuppressed, suppressTracing } from '@opentelemetry/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runtime, storage } from '../../lib/context.js';
import { currentSpan, withSpan, type MemoryReporter, type Tracer } from '../../lib/index.js';
import { createBridge, registerOpenTelemetry, ZiptraceContextManager } from '../../lib/opentelemetry.js';
import { Scope } from '../../lib/opentelemetry/scope.js';
import { clearGlobalTracerAfterEach, memoryTracer, only, sleep } from '../helpers/tracing.js';

clearGlobalTracerAfterEach();

let tracer: Tracer;
let reporter: MemoryReporter;
let undo: () => void;

beforeEach(() => {
  ({ tracer, reporter } = memoryTracer('bridge'));
  undo = registerOpenTelemetry(tracer);
});
afterEach(() => undo());

const otel = () => trace.getTracer('spec', '1.0.0');
const KEY = createContextKey('spec key');

describe('one context, one trace', () => {
  it('an OTel span containing a ziptrace withSpan containing an OTel span: one trace, each the parent of the next', async () => {
    await otel().startActiveSpan('otel outer', async (outer) => {
      await tracer.withSpan('zip middle', async (middle) => {
        // OpenTelemetry sees the ziptrace span as the active one.
        expect(trace.getActiveSpan()!.spanContext().spanId).toBe(middle.context.spanId);
        await sleep(1);
        const inner = otel().startSpan('otel inner');
        inner.end();
      });
      outer.end();
    });
    const [outer, middle, inner] = ['otel outer', 'zip middle', 'otel inner'].map((name) => only(reporter, name));
    expect(new Set([outer!.traceId, middle!.traceId, inner!.traceId]).size).toBe(1);
    expect(outer!.parentId).toBeUndefined();
    expect(middle!.parentId).toBe(outer!.id);
    expect(inner!.parentId).toBe(middle!.id);
    expect(outer!.tags).toMatchObject({ 'otel.scope.name': 'spec', 'otel.scope.version': '1.0.0' });
  });

  it('a ziptrace span seen from OTel: the same span object each time, its ids, sampled; a 64-bit trace id padded to 32', () => {
    const { tracer: bits64 } = memoryTracer('short', { traceId128Bit: false, global: false });
    bits64.withSpan('x', (span) => {
      const seen = trace.getActiveSpan()!;
      expect(trace.getActiveSpan()).toBe(seen);
      expect(seen.spanContext()).toMatchObject({ traceId: span.context.traceId.padStart(32, '0'), spanId: span.context.spanId, traceFlags: 1, isRemote: false });
      expect(span.context.traceId).toHaveLength(16);
      expect(seen.isRecording()).toBe(true);
      // OpenTelemetry code may tag the ziptrace span through its view.
      seen.setAttribute('from.otel', 7);
    });
  });

  it('the active Context of no span is ROOT_CONTEXT; currentSpan() is undefined under a Context with values and no span', () => {
    expect(context.active()).toBe(ROOT_CONTEXT);
    context.with(ROOT_CONTEXT.setValue(KEY, 1), () => {
      expect(currentSpan()).toBeUndefined();
      expect(trace.getActiveSpan()).toBeUndefined();
      expect(context.active().getValue(KEY)).toBe(1);
      // A ziptrace span there starts a trace of its own.
      tracer.withSpan('alone', (span) => expect(span.context.parentId).toBeUndefined());
    });
  });

  it('context.with(context.active(), fn) and the active Context inside it are the same Context; currentSpan() is the span itself under values', () => {
    tracer.withSpan('a', (span) => {
      const active = context.active();
      context.with(active, () => expect(context.active()).toBe(active));
      context.with(active.setValue(KEY, 'v'), () => {
        expect(currentSpan()).toBe(span);
        expect(tracer.currentSpan()).toBe(span);
        tracer.withSpan('b', (b) => expect(currentSpan()).toBe(b));
      });
    });
  });

  it('root: true starts a new trace inside a span', () => {
    tracer.withSpan('outer', (outer) => {
      const root = otel().startSpan('root', { root: true });
      expect(root.spanContext().traceId).not.toBe(outer.context.traceId.padStart(32, '0'));
      root.end();
    });
    expect(only(reporter, 'root').parentId).toBeUndefined();
  });

  it('an explicit Context is the parent, not the active one; a foreign span context (wrapSpanContext) is continued with its ids and flag', () => {
    const remote = trace.wrapSpanContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1, isRemote: true });
    const child = otel().startSpan('under foreign', {}, trace.setSpan(ROOT_CONTEXT, remote));
    child.end();
    expect(only(reporter, 'under foreign')).toMatchObject({ traceId: 'a'.repeat(32), parentId: 'b'.repeat(16) });
    // And ziptrace's withSpan under it, through context.with.
    context.with(trace.setSpan(ROOT_CONTEXT, remote), () => tracer.withSpan('zip under foreign', () => undefined));
    expect(only(reporter, 'zip under foreign')).toMatchObject({ traceId: 'a'.repeat(32), parentId: 'b'.repeat(16) });
    // A foreign span context that is not valid is no parent.
    context.with(trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 })), () => {
      expect(currentSpan()).toBeUndefined();
    });
  });

  it('startActiveSpan takes (name, fn), (name, options, fn) and (name, options, context, fn), and returns what fn returns', () => {
    const parent = otel().startSpan('p');
    const results = [
      otel().startActiveSpan('one', (span) => (span.end(), 1)),
      otel().startActiveSpan('two', { attributes: { n: 2 } }, (span) => (span.end(), 2)),
      otel().startActiveSpan('three', {}, trace.setSpan(context.active(), parent), (span) => (span.end(), currentSpan()!.context.parentId)),
    ];
    parent.end();
    expect(results).toEqual([1, 2, parent.spanContext().spanId]);
    expect(only(reporter, 'two').tags).toMatchObject({ n: '2' });
  });

  it('an unsampled trace gives non-recording OTel spans with traceFlags 0, and no spans reach the reporter', () => {
    const { tracer: never, reporter: none } = memoryTracer('never', { sampleRate: 0, global: false });
    undo();
    undo = registerOpenTelemetry(never);
    otel().startActiveSpan('unsampled', (span) => {
      expect(span.isRecording()).toBe(false);
      expect(span.spanContext().traceFlags).toBe(0);
      never.withSpan('child', (child) => expect(child.context.traceId.padStart(32, '0')).toBe(span.spanContext().traceId));
      span.end();
    });
    expect(none.spans).toEqual([]);
  });
});

describe("the values OTel code keeps in its Context", () => {
  const baggage = () => propagation.getBaggage(context.active())?.getEntry('user')?.value;
  const custom = () => context.active().getValue(KEY);

  async function underValues(check: (where: string) => void): Promise<void> {
    const ctx = propagation.setBaggage(context.active(), propagation.createBaggage({ user: { value: 'ada' } })).setValue(KEY, 42);
    await context.with(ctx, async () => {
      check('at the start');
      await sleep(1);
      check('after an await');
      await new Promise<void>((resolve) => setTimeout(() => (check('in a timer'), resolve()), 1));
      await tracer.withSpan('zip', async (span) => {
        check('inside a ziptrace withSpan');
        expect(trace.getActiveSpan()!.spanContext().spanId).toBe(span.context.spanId);
        await sleep(1);
        check('after an await inside withSpan');
        tracer.withActive(span, () => check('inside tracer.withActive'));
        otel().startActiveSpan('otel', (inner) => (check('inside an OTel span inside withSpan'), inner.end()));
      });
      const emitter = context.bind(context.active(), new EventEmitter());
      // Fired from outside any context: the bound emitter's listeners still have the values.
      await context.with(ROOT_CONTEXT, async () => {
        const fired = new Promise<void>((resolve) => emitter.on('go', () => (check('in a bound emitter listener'), resolve())));
        setImmediate(() => context.with(ROOT_CONTEXT, () => emitter.emit('go')));
        await fired;
      });
      const bound = context.bind(context.active(), () => check('in a bound function'));
      context.with(ROOT_CONTEXT, bound);
    });
  }

  it('baggage and a custom key survive context.with, awaits, timers, a ziptrace withSpan, and bound emitters and functions', async () => {
    const seen: string[] = [];
    await underValues((where) => {
      expect([where, baggage(), custom()]).toEqual([where, 'ada', 42]);
      seen.push(where);
    });
    expect(seen).toHaveLength(9);
    expect(baggage()).toBeUndefined();
  });

  it('the same inside a ziptrace span: the span stays the parent, the values ride along', async () => {
    await tracer.withSpan('outer', async (outer) => {
      await underValues(() => {
        expect([baggage(), custom()]).toEqual(['ada', 42]);
        expect(currentSpan()!.context.traceId).toBe(outer.context.traceId);
      });
    });
    expect(only(reporter, 'zip').parentId).toBe(only(reporter, 'outer').id);
  });

  it("context.bind(ROOT_CONTEXT, fn) runs fn with nothing active; bind passes other values through; with() keeps thisArg and args", () => {
    tracer.withSpan('a', () => {
      const bound = context.bind(ROOT_CONTEXT, function (this: unknown, x: number) {
        return [this, x, currentSpan(), trace.getActiveSpan()];
      });
      expect(bound.call('self', 3)).toEqual(['self', 3, undefined, undefined]);
      expect(bound.name).toBe('');
      expect(context.bind(ROOT_CONTEXT, 5)).toBe(5);
      const emitter = context.bind(ROOT_CONTEXT, new EventEmitter());
      let inListener: unknown = 'not called';
      emitter.on('e', () => (inListener = currentSpan()));
      emitter.emit('e');
      expect(inListener).toBeUndefined();
      expect(context.with(context.active(), function (this: unknown, a: number, b: number) { return [this, a + b]; }, 'me', 1, 2)).toEqual(['me', 3]);
    });
  });

  it("the suppress-tracing key: OTel spans started where it is set are non-recording and invalid; nothing is reported; injection writes nothing", () => {
    tracer.withSpan('outer', () => {
      context.with(suppressTracing(context.active()), () => {
        expect(isTracingSuppressed(context.active())).toBe(true);
        const span = otel().startSpan('suppressed');
        expect(span.isRecording()).toBe(false);
        expect(trace.isSpanContextValid(span.spanContext())).toBe(false);
        span.end();
        const headers: Record<string, string> = {};
        propagation.inject(context.active(), headers);
        expect(headers).toEqual({});
        // It survives a ziptrace withSpan too, so an instrumentation's own work stays untraced below it.
        tracer.withSpan('zip inside', () => expect(isTracingSuppressed(context.active())).toBe(true));
      });
    });
    expect(reporter.byName('suppressed')).toEqual([]);
  });
});

describe('registerOpenTelemetry', () => {
  it('undo() makes OTel calls no-ops again, leaves ziptrace as it was, and may be called again', () => {
    undo();
    undo();
    expect(runtime.carriers).toBe(0);
    const span = trace.getTracer('after').startSpan('after undo');
    expect(span.isRecording()).toBe(false);
    span.end();
    tracer.withSpan('zip after undo', (zip) => {
      expect(trace.getActiveSpan()).toBeUndefined();
      expect(storage.getStore()).toBe(zip);
    });
    const headers: Record<string, string> = {};
    propagation.inject(context.active(), headers);
    expect(headers).toEqual({});
    expect(reporter.byName('after undo')).toEqual([]);
    expect(only(reporter, 'zip after undo').parentId).toBeUndefined();
    // And it can be registered again.
    undo = registerOpenTelemetry(tracer);
    expect(trace.getTracer('again').startSpan('again').isRecording()).toBe(true);
  });

  it('a second registration throws until the first is undone; so does a non-tracer', () => {
    expect(() => registerOpenTelemetry(tracer)).toThrow(/already registered/);
    expect(() => registerOpenTelemetry({} as Tracer)).toThrow(/expected a tracer from createTracer\(\)/);
  });

  it.each([
    ['context manager', () => context.setGlobalContextManager(new ZiptraceContextManager(undefined))],
    ['tracer provider', () => trace.setGlobalTracerProvider(createBridge(tracer).tracerProvider)],
    ['propagator', () => propagation.setGlobalPropagator(createBridge(tracer).propagator)],
  ])('when another global %s is set, it throws naming it and sets nothing', (what, setOther) => {
    undo();
    setOther();
    try {
      expect(() => registerOpenTelemetry(tracer)).toThrow(new RegExp(`already has a global ${what}`));
      expect(runtime.carriers).toBe(0);
    } finally {
      context.disable();
      trace.disable();
      propagation.disable();
    }
    undo = registerOpenTelemetry(tracer);
  });

  it('the context manager can be enabled and disabled by itself; enable twice counts once', () => {
    const manager = new ZiptraceContextManager(tracer);
    const before = runtime.carriers!;
    expect(manager.enable().enable()).toBe(manager);
    expect(runtime.carriers).toBe(before + 1);
    manager.disable().disable();
    expect(runtime.carriers).toBe(before);
  });

  it('a store another copy of ziptrace made that carries values: its span is what OTel sees, without those values', () => {
    tracer.withSpan('x', (span) => {
      const foreignScope = { context: span.context, tracer, span, carry: (s: unknown) => s };
      storage.run(foreignScope as never, () => expect(trace.getActiveSpan()!.spanContext().spanId).toBe(span.context.spanId));
      storage.run({ context: undefined, tracer: undefined, span: null } as never, () => expect(context.active()).toBe(ROOT_CONTEXT));
    });
  });

  it("a Scope acts as its span, for older copies whose currentSpan() returns the store", () => {
    const ctx: Context = ROOT_CONTEXT.setValue(KEY, 1);
    const span = tracer.startSpan('through scope');
    const scope = new Scope(ctx, span, false);
    expect(scope.tracer).toBe(tracer);
    expect(scope.isRecording).toBe(true);
    scope.name('renamed').tag('k', 'v').kind('CLIENT').annotate('a').remoteEndpoint('db').setError(new Error('bad'));
    scope[Symbol.dispose]();
    expect(scope.isRecording).toBe(false);
    expect(only(reporter, 'renamed')).toMatchObject({ kind: 'CLIENT', tags: { k: 'v', error: 'bad' }, remoteEndpoint: { serviceName: 'db' } });
    const empty = new Scope(ctx, null, false);
    expect([empty.context, empty.tracer, empty.isRecording]).toEqual([undefined, undefined, false]);
    expect(empty.name('n').tag('k', 1).kind(undefined).annotate('a').remoteEndpoint(undefined).setError(1)).toBe(empty);
    empty.finish();
    expect(trace.getSpan(empty.otel())).toBeUndefined();
    expect(empty.otel().getValue(KEY)).toBe(1);
    // carry() leaves a store that carries values of its own as it is.
    expect(empty.carry(scope)).toBe(scope);
  });
});
