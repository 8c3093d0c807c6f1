/**
 * The bridge at its edges: an undefined Context argument, hostile attribute
 * getters, undo() after someone else took the API's globals, OpenTelemetry
 * values through ziptrace's bind and bindEmitter with an explicit span, and
 * OpenTelemetry's suppressTracing honoured by ziptrace's own HTTP client.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, createContextKey, propagation, ROOT_CONTEXT, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { suppressTracing, W3CTraceContextPropagator } from '@opentelemetry/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runtime, storage } from '../../lib/context.js';
import { type MemoryReporter, type Tracer } from '../../lib/index.js';
import { instrumentHttpClients } from '../../lib/instrumentation/http-client.js';
import { createBridge, registerOpenTelemetry } from '../../lib/opentelemetry.js';
import { Scope } from '../../lib/opentelemetry/scope.js';
import { clearGlobalTracerAfterEach, memoryTracer, only, sleep } from '../helpers/tracing.js';

clearGlobalTracerAfterEach();

let tracer: Tracer;
let reporter: MemoryReporter;
let undo: () => void;

beforeEach(() => {
  ({ tracer, reporter } = memoryTracer('edges', { global: false }));
  undo = registerOpenTelemetry(tracer);
});
afterEach(() => undo());

const otel = () => trace.getTracer('edges');
const KEY = createContextKey('edges key');

/** Attributes whose `bad` getter throws, beside a good one. */
function hostileAttributes(): Attributes {
  const attributes: Attributes = { good: 'yes' };
  Object.defineProperty(attributes, 'bad', { enumerable: true, get: () => { throw new Error('hostile getter'); } });
  return attributes;
}

describe('startActiveSpan and startSpan', () => {
  it('startActiveSpan(name, options, undefined, fn) takes the active Context, as the SDK does', () => {
    tracer.withSpan('outer', (outer) => {
      otel().startActiveSpan('child', {}, undefined as never, (span) => {
        expect(trace.getActiveSpan()).toBe(span);
        span.end();
      });
      expect(only(reporter, 'child').parentId).toBe(outer.context.spanId);
    });
  });

  it('startSpan(name, undefined, undefined) and a null Context take the active one too', () => {
    tracer.withSpan('outer', (outer) => {
      otel().startSpan('a', undefined, undefined).end();
      otel().startSpan('b', null as never, null as never).end();
      for (const name of ['a', 'b']) expect(only(reporter, name).parentId).toBe(outer.context.spanId);
    });
  });

  it('an attribute whose getter throws is skipped, at start and in setAttributes; a Proxy that cannot list its keys gives none', () => {
    const unlistable = new Proxy({}, { ownKeys: () => { throw new Error('no keys'); } }) as Attributes;
    const span = otel().startSpan('hostile', { attributes: hostileAttributes() });
    expect(() => span.setAttributes(hostileAttributes())).not.toThrow();
    span.setAttributes(unlistable);
    span.end();
    expect(() => otel().startSpan('unlistable', { attributes: unlistable }).end()).not.toThrow();
    const tags = only(reporter, 'hostile').tags!;
    expect(tags['good']).toBe('yes');
    expect('bad' in tags).toBe(false);
    expect(Object.keys(only(reporter, 'unlistable').tags!)).toEqual(['otel.scope.name']);
  });

  it('a foreign parent whose trace state cannot serialize itself is continued without it', () => {
    const traceState = { serialize: () => { throw new Error('no'); } } as never;
    const parent = trace.wrapSpanContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1, isRemote: true, traceState });
    otel().startSpan('under foreign', {}, trace.setSpan(ROOT_CONTEXT, parent)).end();
    expect(only(reporter, 'under foreign')).toMatchObject({ traceId: 'a'.repeat(32), parentId: 'b'.repeat(16) });
  });
});

describe('undo() leaves globals it no longer owns', () => {
  it("after someone disabled the API and set an SDK's context manager, propagator and tracer provider, undo() keeps theirs", () => {
    context.disable();
    trace.disable();
    propagation.disable();
    const theirs = new AsyncLocalStorageContextManager().enable();
    const theirPropagator = new W3CTraceContextPropagator();
    const theirProvider = createBridge(memoryTracer('theirs', { global: false }).tracer).tracerProvider;
    try {
      expect(context.setGlobalContextManager(theirs)).toBe(true);
      expect(propagation.setGlobalPropagator(theirPropagator)).toBe(true);
      expect(trace.setGlobalTracerProvider(theirProvider)).toBe(true);
      undo();
      expect(runtime.carriers).toBe(0);
      expect(context.with(ROOT_CONTEXT.setValue(KEY, 'v'), () => context.active().getValue(KEY))).toBe('v');
      expect(propagation.fields()).toEqual(theirPropagator.fields());
      expect((trace.getTracerProvider() as unknown as { getDelegate(): unknown }).getDelegate()).toBe(theirProvider);
    } finally {
      context.disable();
      propagation.disable();
      trace.disable();
      theirs.disable();
    }
    undo = registerOpenTelemetry(tracer);
  });

  it('still undoes all three while they are the bridge’s; without the API’s getter it takes the global as its own', () => {
    // A release of the API without `_getContextManager`/`_getGlobalPropagator`: shadowed on the instances for
    // the bridge's one look (the API's own disable() still calls them).
    const shadow = (holder: object, name: string) => {
      const real = (holder as Record<string, unknown>)[name];
      let looks = 0;
      Object.defineProperty(holder, name, { configurable: true, get: () => (looks++ === 0 ? undefined : real) });
    };
    shadow(context, '_getContextManager');
    shadow(propagation, '_getGlobalPropagator');
    try {
      undo();
    } finally {
      delete (context as unknown as Record<string, unknown>)['_getContextManager'];
      delete (propagation as unknown as Record<string, unknown>)['_getGlobalPropagator'];
    }
    expect(runtime.carriers).toBe(0);
    expect(otel().startSpan('after').isRecording()).toBe(false);
    expect(propagation.fields()).toEqual([]);
    undo = registerOpenTelemetry(tracer);
    expect(otel().startSpan('again').isRecording()).toBe(true);
  });

  it('a tracer provider proxy without getDelegate is compared as it is', () => {
    const original = trace.getTracerProvider;
    const provider = (trace as unknown as { _proxyTracerProvider: { getDelegate(): unknown } })._proxyTracerProvider.getDelegate();
    trace.getTracerProvider = () => provider as never;
    try {
      undo();
    } finally {
      trace.getTracerProvider = original;
    }
    expect(otel().startSpan('after').isRecording()).toBe(false);
    undo = registerOpenTelemetry(tracer);
  });
});

describe('OTel values through tracer.bind and tracer.bindEmitter with an explicit span', () => {
  it('a function bound to a span keeps the values of the Context it was bound in, wherever it is called', async () => {
    const seen: unknown[] = [];
    let bound!: () => void;
    let emitter!: EventEmitter;
    context.with(ROOT_CONTEXT.setValue(KEY, 'bound here'), () => {
      tracer.withSpan('w', (span) => {
        bound = tracer.bind(() => seen.push(['fn', context.active().getValue(KEY), trace.getActiveSpan()!.spanContext().spanId === span.context.spanId]), span);
        emitter = tracer.bindEmitter(new EventEmitter(), span);
      });
    });
    // Listeners added elsewhere still run with the values of where the emitter was bound.
    context.with(ROOT_CONTEXT.setValue(KEY, 'elsewhere'), () => emitter.on('x', () => seen.push(['emitter', context.active().getValue(KEY)])));
    await sleep(1);
    context.with(ROOT_CONTEXT.setValue(KEY, 'caller'), () => {
      bound();
      emitter.emit('x');
    });
    expect(seen).toEqual([['fn', 'bound here', true], ['emitter', 'bound here']]);
  });

  it('binding to the active span, and binding with no carrier at work, are as before', () => {
    const span = tracer.startSpan('plain');
    undo();
    try {
      const bound = tracer.bind(() => storage.getStore(), span);
      expect(bound()).toBe(span);
    } finally {
      undo = registerOpenTelemetry(tracer);
    }
    context.with(ROOT_CONTEXT.setValue(KEY, 'v'), () => {
      const active = tracer.bind(() => context.active().getValue(KEY));
      expect(context.with(ROOT_CONTEXT, active)).toBe('v');
    });
    span.finish();
  });

  it("context.bind(ctx, emitter) binds to ctx exactly, not to the values where bind was called", () => {
    // The Context of a plain ziptrace span: its store is the span itself.
    const exact = tracer.withSpan('exact', () => context.active());
    let got: unknown = 'unset';
    context.with(ROOT_CONTEXT.setValue(KEY, 'around'), () => {
      const emitter = context.bind(exact, new EventEmitter());
      emitter.on('e', () => (got = context.active().getValue(KEY)));
      emitter.emit('e');
    });
    expect(got).toBeUndefined();
  });
});

describe("OpenTelemetry's suppressTracing and ziptrace's own HTTP client", () => {
  let server: http.Server;
  let port: number;
  let seen: http.IncomingHttpHeaders[];
  let uninstrument: () => void;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers);
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen = [];
    uninstrument = instrumentHttpClients(tracer);
  });
  afterEach(() => uninstrument());

  const traceHeaders = (headers: http.IncomingHttpHeaders) => Object.keys(headers).filter((name) => /^(b3|x-b3-|traceparent|tracestate)/.test(name));

  async function httpGet(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        res.resume();
        res.on('end', resolve);
      }).on('error', reject);
    });
  }

  it('inside a suppressed Context, fetch and http make no CLIENT span and send no headers; outside it they do', async () => {
    await tracer.withSpan('outer', async () => {
      await context.with(suppressTracing(context.active()), async () => {
        await (await fetch(`http://127.0.0.1:${port}/`)).text();
        await httpGet();
        // A ziptrace span made inside stays suppressed for the client, as OTel code under it is.
        await tracer.withSpan('inner', () => httpGet());
      });
      await httpGet();
    });
    await sleep(5);
    expect(seen.map(traceHeaders)).toEqual([[], [], [], expect.arrayContaining(['traceparent', 'x-b3-spanid'])]);
    expect(reporter.spans.filter((span) => span.kind === 'CLIENT')).toHaveLength(1);
  });

  it('the Scope says suppressed from its Context; a plain span store says nothing', () => {
    expect(new Scope(suppressTracing(ROOT_CONTEXT), null, true).suppressed).toBe(true);
    expect(new Scope(ROOT_CONTEXT, null, true).suppressed).toBe(false);
    tracer.withSpan('plain', () => expect(storage.getStore()!.suppressed).toBeUndefined());
  });

  it('the runtime says which clients are traced while installed, and nothing after undo', () => {
    expect(runtime.clients).toEqual({ fetch: true, http: true });
    uninstrument();
    expect(runtime.clients).toBeUndefined();
    // A second install's no-op undo does not clear the first's flag.
    uninstrument = instrumentHttpClients(tracer);
    instrumentHttpClients(tracer)();
    expect(runtime.clients).toEqual({ fetch: true, http: true });
  });
});
