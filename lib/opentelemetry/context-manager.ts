/**
 * OpenTelemetry's `ContextManager` on ziptrace's one context storage: there is
 * one active context, read by both APIs. `context.active()` is the active
 * ziptrace span (as an OpenTelemetry span) with the values OpenTelemetry code
 * put beside it; `context.with(ctx, fn)` makes `ctx`'s span the active
 * ziptrace span for `fn`, and keeps the rest of `ctx` in a {@link Scope}.
 */
import { bindEmitterToStore, runtime, storage, type ActiveSpan } from '../context.js';
import { NonRecordingSpan, type Span } from '../span.js';
import { api, type Context, type ContextManager, type OtelSpan } from './api.js';
import { Scope } from './scope.js';
import { fromSpanContext } from './span-context.js';
import { isBridgeSpan, otelSpanOf, standingFor } from './span.js';

/**
 * The Context handed out for each plain ziptrace span, and back: a Context
 * that holds nothing but a span needs no Scope, and `context.with(context.active(), fn)`
 * then runs with the span itself as the store, as a ziptrace `withSpan` would.
 */
const contextOfSpan = new WeakMap<object, Context>();
const spanOfContext = new WeakMap<Context, ActiveSpan>();

/** Records that `context` holds `span` and nothing else. */
export function pairPlain(context: Context, span: ActiveSpan): void {
  contextOfSpan.set(span, context);
  spanOfContext.set(context, span);
}

/** Whether `context` holds at most a span: ROOT_CONTEXT, or one of the Contexts {@link pairPlain} recorded. */
export function isPlain(context: Context): boolean {
  return context === api.ROOT_CONTEXT || spanOfContext.has(context);
}

/** The OpenTelemetry Context a store stands for. */
export function contextOfStore(store: ActiveSpan | undefined): Context {
  if (store === undefined) return api.ROOT_CONTEXT;
  if (store instanceof Scope) return store.otel();
  // Another copy's scope: its span, without the values only that copy can read.
  const span = store.span === undefined ? store : store.span;
  if (span === null) return api.ROOT_CONTEXT;
  let context = contextOfSpan.get(span);
  if (context === undefined) pairPlain((context = api.trace.setSpan(api.ROOT_CONTEXT, otelSpanOf(span as Span))), span);
  return context;
}

/**
 * The store that makes `context` active. `tracer` owns the views made of
 * spans that other OpenTelemetry code put in a Context (they record nothing).
 */
export function storeOfContext(context: Context, tracer: unknown): ActiveSpan | undefined {
  if (context === api.ROOT_CONTEXT) return undefined;
  const plain = spanOfContext.get(context);
  if (plain !== undefined) return plain;
  const otelSpan = standingFor(api.trace.getSpan(context));
  return new Scope(context, otelSpan === undefined ? null : ziptraceSpanOf(otelSpan, tracer), true);
}

/** The ziptrace span an OpenTelemetry span stands for: the bridge's own, or a non-recording one with a foreign span's ids. */
function ziptraceSpanOf(otelSpan: OtelSpan, tracer: unknown): Span | null {
  if (isBridgeSpan(otelSpan)) return otelSpan.span;
  const context = fromSpanContext(otelSpan.spanContext());
  return context === undefined ? null : new NonRecordingSpan(tracer, context);
}

/** Calls `fn` as `with` was asked to: on `thisArg`, with `args`. */
function call(fn: (...args: unknown[]) => unknown, thisArg: unknown, args: unknown[]): unknown {
  return fn.apply(thisArg, args);
}

/** ziptrace's storage behind OpenTelemetry's `context` API. Enabled by `registerOpenTelemetry`. */
export class ZiptraceContextManager implements ContextManager {
  /** @internal */ private readonly _tracer: unknown;
  /** @internal */ private _enabled = false;

  /** `tracer`: the ziptrace tracer that the views of foreign spans name as theirs. */
  constructor(tracer: unknown) {
    this._tracer = tracer;
  }

  active(): Context {
    return contextOfStore(storage.getStore());
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const store = storeOfContext(context, this._tracer);
    if (thisArg === undefined) return storage.run(store as ActiveSpan, fn, ...args);
    return storage.run(store as ActiveSpan, call, fn as never, thisArg, args) as ReturnType<F>;
  }

  bind<T>(context: Context, target: T): T {
    // ROOT_CONTEXT binds to "nothing active": an empty scope, since undefined would mean "the active store" below.
    const store = storeOfContext(context, this._tracer) ?? new Scope(api.ROOT_CONTEXT, null, true);
    if (typeof target === 'function') {
      const fn = target as unknown as (...args: unknown[]) => unknown;
      const bound = function (this: unknown, ...args: unknown[]): unknown {
        return storage.run(store, call, fn, this, args);
      };
      Object.defineProperty(bound, 'name', { value: fn.name, configurable: true });
      Object.defineProperty(bound, 'length', { value: fn.length, configurable: true });
      return bound as T;
    }
    if (target !== null && typeof target === 'object' && typeof (target as { on?: unknown }).on === 'function' && typeof (target as { removeListener?: unknown }).removeListener === 'function') {
      return bindEmitterToStore(target, store);
    }
    return target;
  }

  /** Counts this manager among the makers of carrying stores, so that ziptrace's `withSpan` keeps their values. */
  enable(): this {
    if (!this._enabled) {
      this._enabled = true;
      runtime.carriers = (runtime.carriers ?? 0) + 1;
    }
    return this;
  }

  disable(): this {
    if (this._enabled) {
      this._enabled = false;
      runtime.carriers = Math.max(0, (runtime.carriers ?? 1) - 1);
    }
    return this;
  }
}
