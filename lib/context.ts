import { AsyncLocalStorage } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import type { TraceContext } from './types.js';
import { InvalidArgumentError } from './errors.js';
import { stateFor, stateOf } from './object-state.js';

/**
 * What the context storage holds: the active span. Copies of ziptrace loaded
 * side by side (an `import` and a `require`, or two installed versions) share
 * the storage, so they agree on this small protocol rather than on classes.
 */
export interface ActiveSpan {
  readonly context: TraceContext;
  /** The tracer that made the span; the free functions use it. Absent for a bare context. */
  readonly tracer: unknown;
  /**
   * Optional (0.2 on, still the v1 shape): present only on a store that is not
   * a span itself but a span with other values beside it, such as the
   * OpenTelemetry bridge's contexts (baggage, instrumentations' keys). It is
   * the span the store stands for, `null` for none; `currentSpan()` answers
   * with it. Such a store also acts as that span, for copies that predate it.
   */
  readonly span?: ActiveSpan | null;
  /**
   * Optional, with `span`: the store to run with when ziptrace makes `span`
   * active inside this one (`withSpan`, `withActive`, `@traced`), so that the
   * values beside the old span reach the new span's code too.
   */
  carry?(span: ActiveSpan): ActiveSpan;
  /**
   * Optional (0.2 on): true where tracing is suppressed, as OpenTelemetry's
   * `suppressTracing` marks a Context (the bridge's stores read it from their
   * Context). ziptrace's own client instrumentation then makes no span and
   * sends no headers, as OpenTelemetry's instrumentations do. Absent means not
   * suppressed, which is what copies that predate it say.
   */
  readonly suppressed?: boolean;
}

/**
 * State that must exist once per process, however many copies of ziptrace are
 * loaded. It lives on `globalThis` under a registered symbol; the `v1` is the
 * version of this shape, bumped only if it changes incompatibly.
 */
interface Runtime {
  readonly storage: AsyncLocalStorage<ActiveSpan>;
  /** The global tracer, or undefined. Typed loosely: another copy may have set it. */
  globalTracer: unknown;
  /**
   * Part of the v1 shape, which copies of ziptrace 0.1 write to. This copy
   * neither writes nor reads it: a registry of every tracer kept each one
   * reachable, so a tracer dropped without `close()` was never garbage. Made
   * here as a WeakSet, so that an older copy's writes do not leak either.
   */
  readonly tracers: Pick<WeakSet<object>, 'add' | 'delete'>;
  /**
   * Optional (0.2 on): how many makers of carrying stores (see
   * `ActiveSpan.carry`) are at work, such as a registered OpenTelemetry
   * bridge. While it is 0 or absent, making a span active never looks at the
   * store it runs in: the one check the hot path pays.
   */
  carriers?: number;
  /**
   * Optional (0.2 on): which HTTP clients ziptrace's own instrumentation
   * (`instrumentHttpClients`, the zero-code start) traces while it is
   * installed, set on install and cleared on undo. The OpenTelemetry bridge
   * reads it to stand OpenTelemetry's undici and http instrumentations' CLIENT
   * spans aside, so that one request gets one span and one set of headers.
   */
  clients?: { readonly fetch: boolean; readonly http: boolean } | undefined;
}

const RUNTIME_KEY = Symbol.for('ziptrace.runtime.v1');

function getRuntime(): Runtime {
  const holder = globalThis as unknown as Record<symbol, Runtime | undefined>;
  let runtime = holder[RUNTIME_KEY];
  if (runtime === undefined) {
    runtime = { storage: new AsyncLocalStorage<ActiveSpan>(), globalTracer: undefined, tracers: new WeakSet(), carriers: 0 };
    Object.defineProperty(globalThis, RUNTIME_KEY, { value: runtime, enumerable: false, configurable: false, writable: false });
  }
  return runtime;
}

/** The process-wide runtime state. */
export const runtime: Runtime = getRuntime();
/** The same, as a local binding: an exported one is read through `exports` in the CommonJS build. */
const shared = runtime;

/** The one AsyncLocalStorage that carries the active span. */
export const storage: AsyncLocalStorage<ActiveSpan> = runtime.storage;

/** The active span, or undefined when none is. */
export function activeSpan(): ActiveSpan | undefined {
  return storage.getStore();
}

/** The span a store stands for: the store itself, or the span of one that carries more (see `ActiveSpan.span`). */
export function spanOf(store: ActiveSpan | undefined): ActiveSpan | undefined {
  if (store === undefined) return undefined;
  const span = store.span;
  return span === undefined ? store : (span ?? undefined);
}

/**
 * The store to make `span` active with: `span` itself, unless the active store
 * carries values beside its span, which then go on with the new span. Callers
 * check `runtime.carriers` first, so that without a bridge this is never called.
 */
export function carried(span: ActiveSpan): ActiveSpan {
  const current = storage.getStore();
  return current === undefined || current.carry === undefined ? span : current.carry(span);
}

/**
 * Runs `fn` with `span` active. Spans become active only through
 * `AsyncLocalStorage.run`, never `enterWith`, so the activation cannot leak
 * past the function into the caller's continuation.
 */
export function runWithActive<A extends unknown[], R>(span: ActiveSpan | undefined, fn: (...args: A) => R, ...args: A): R {
  // `> 0` is false for an absent count too (a runtime an older copy made).
  return storage.run(((shared.carriers as number) > 0 && span !== undefined ? carried(span) : span) as ActiveSpan, fn, ...args);
}

/** Runs `fn` outside any span: for timers and sockets that must not belong to a request. */
export function runOutside<R>(fn: () => R): R {
  return storage.exit(fn);
}

/**
 * The store to bind to `span`: `span` carried (see {@link carried}) while a
 * maker of carrying stores is at work, computed now, so that a bound function
 * or emitter keeps the values of the context it was bound in.
 */
function bindingStore(span: ActiveSpan | undefined): ActiveSpan | undefined {
  return (shared.carriers as number) > 0 && span !== undefined ? carried(span) : span;
}

/**
 * Returns `fn` bound to `span` (the active one by default): it runs with that
 * span active wherever it is called, with the values the active store carries
 * where it was bound (an OpenTelemetry Context's).
 */
export function bindToSpan<F extends (...args: never[]) => unknown>(fn: F, span: ActiveSpan | undefined = storage.getStore()): F {
  return bindToStore(fn, bindingStore(span));
}

/** {@link bindToSpan} with `store` exactly as given, carrying nothing. */
function bindToStore<F extends (...args: never[]) => unknown>(fn: F, store: ActiveSpan | undefined): F {
  const bound = function (this: unknown, ...args: unknown[]): unknown {
    return storage.run(store as ActiveSpan, () => fn.apply(this, args as Parameters<F>));
  };
  Object.defineProperty(bound, 'name', { value: fn.name, configurable: true });
  Object.defineProperty(bound, 'length', { value: fn.length, configurable: true });
  return bound as unknown as F;
}

type Listener = (...args: unknown[]) => unknown;
interface EmitterLike {
  on(event: string | symbol, listener: Listener): unknown;
  removeListener(event: string | symbol, listener: Listener): unknown;
}

const ADDERS = ['on', 'addListener', 'prependListener', 'once', 'prependOnceListener'] as const;
const REMOVERS = ['off', 'removeListener'] as const;
type Method = (typeof ADDERS)[number] | (typeof REMOVERS)[number];
type EmitterMethod = (this: unknown, event: string | symbol, listener: Listener) => unknown;
type Originals = Readonly<Record<Method, EmitterMethod | undefined>>;

interface EmitterBinding {
  span: ActiveSpan | undefined;
  /** True while Node's once()/prependOnceListener() add their own onceWrapper through on()/prependListener(). */
  addingOnce: boolean;
  /** original listener -> event -> the bound wrappers added for it; made when the first is. */
  wrapped: WeakMap<Listener, Map<string | symbol, Listener[]>> | undefined;
  /** The methods the bound ones call: the emitter's own, or its prototype's (see shareBindingMethods). */
  readonly originals: Originals;
  /**
   * Whether the originals are Node's EventEmitter's, whose removeListener
   * finds an on() wrapper by its `listener`: then on() wrappers need no map
   * entry (and removeAllListeners leaves none behind). Any other emitter
   * (another library's wrappers, an emitter that matches listeners by
   * identity) gets one for each.
   */
  readonly byListener: boolean;
  /** How util.inspect shows it on a logged request: not the span, the tracer and all they hold. */
  readonly [INSPECT]: () => string;
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
const inspectBinding = (): string => '[ziptrace binding]';

function forget(binding: EmitterBinding, listener: Listener, event: string | symbol, bound: Listener): void {
  const list = binding.wrapped?.get(listener)?.get(event);
  const at = list === undefined ? -1 : list.lastIndexOf(bound);
  if (at >= 0) list!.splice(at, 1);
}

function remember(binding: EmitterBinding, listener: Listener, event: string | symbol, bound: Listener): void {
  const wrapped = (binding.wrapped ??= new WeakMap());
  let byEvent = wrapped.get(listener);
  if (byEvent === undefined) wrapped.set(listener, (byEvent = new Map()));
  const list = byEvent.get(event);
  if (list === undefined) byEvent.set(event, [bound]);
  else list.push(bound);
}

/**
 * A listener bound to `store`, for an emitter: no closure per call (run calls
 * Reflect.apply with the emitter as `this`), and no copied name or length,
 * which emitters do not read. Its `listener` is the original, as on Node's
 * own once() wrappers: Node's removeListener(event, original) and
 * listeners(event) look there.
 */
function bindListener(listener: Listener, store: ActiveSpan | undefined): Listener {
  const bound = function (this: unknown, ...args: unknown[]): unknown {
    return storage.run(store as ActiveSpan, Reflect.apply, listener, this, args);
  } as Listener & { listener?: Listener };
  bound.listener = listener;
  return bound;
}

/** A bound emitter's `method` (an adder): adds `listener` bound to the binding's span. */
function addBound(binding: EmitterBinding, method: (typeof ADDERS)[number], self: unknown, event: string | symbol, listener: Listener): unknown {
  const original = binding.originals[method]!;
  // Node's once() registers its onceWrapper (whose .listener is our bound function) via this.on():
  // pass it through unwrapped, so removeListener(event, original) can still match it.
  if (typeof listener !== 'function' || binding.addingOnce) return original.call(self, event, listener);
  const bound = bindListener(listener, binding.span);
  if (method !== 'once' && method !== 'prependOnceListener') {
    if (!binding.byListener) remember(binding, listener, event, bound);
    return original.call(self, event, bound);
  }
  // Node's once() wraps what it is given, so its wrapper's `listener` is not the original: the map finds
  // the wrapper for removeListener(event, original). Once it has fired the emitter drops it; forget it
  // too, so a later removeListener finds the live one.
  const fired = function (this: unknown, ...args: unknown[]): unknown {
    forget(binding, listener, event, fired);
    return Reflect.apply(bound, this, args);
  };
  remember(binding, listener, event, fired);
  binding.addingOnce = true;
  try {
    return original.call(self, event, fired);
  } finally {
    binding.addingOnce = false;
  }
}

/** A bound emitter's `method` (a remover): removes what was added for `listener`, the latest first, as Node does. */
function removeBound(binding: EmitterBinding, method: (typeof REMOVERS)[number], self: unknown, event: string | symbol, listener: Listener): unknown {
  const original = binding.originals[method]!;
  const list = typeof listener === 'function' ? binding.wrapped?.get(listener)?.get(event) : undefined;
  if (!binding.byListener) return original.call(self, event, list?.pop() ?? listener);
  // Node matches on() wrappers by their `listener`; a once() one of ours it cannot see through, so it is
  // named when it is the latest.
  const latestOnce = list === undefined ? undefined : list[list.length - 1];
  if (latestOnce === undefined || onAddedLater(self, event, listener, latestOnce)) return original.call(self, event, listener);
  list!.pop();
  return original.call(self, event, latestOnce);
}

/**
 * Whether the emitter holds `listener` added by on() (bound, or as it is)
 * more recently than the once() wrapper `once`. Only asked when a once()
 * wrapper of it is held, so the copy rawListeners() makes is rare.
 */
function onAddedLater(emitter: unknown, event: string | symbol, listener: Listener, once: Listener): boolean {
  const raw = (emitter as { rawListeners?: (event: string | symbol) => unknown[] }).rawListeners;
  if (typeof raw !== 'function') return false;
  const listeners = raw.call(emitter, event);
  for (let i = listeners.length - 1; i >= 0; i--) {
    const entry = listeners[i] as Listener & { listener?: unknown };
    if (entry === listener || entry.listener === listener) return true;
    if (entry.listener === once) return false;
  }
  return false;
}

/*
 * Binding an emitter by putting its seven methods on it as own properties
 * makes every later request dearer: a request and a response that each gained
 * seven properties after they were made slowed Node's and Express's own work
 * on them (measured: an Express request took half as long again). So the
 * classes whose instances are bound on every request (Node's IncomingMessage
 * and ServerResponse, see lib/instrumentation/server.ts) have shared methods
 * on their prototype instead, once: there an instance is bound by its binding
 * alone, one property, and an instance without one goes straight to the
 * method the prototype had. Any other emitter gets its own methods, as closures
 * over its binding, which work taken off it too.
 */

/**
 * On a prototype's shared methods: the methods the prototype had before,
 * which its bound instances call. Registered, so that a second copy of
 * ziptrace finds them and neither puts its methods over the other's.
 */
// v2: the binding is in the object's record (object-state.ts); a copy whose methods read it elsewhere is not one of ours.
const PROTOTYPE_ORIGINALS = Symbol.for('ziptrace.prototype-originals.v2');

type SharedMethod = EmitterMethod & { [PROTOTYPE_ORIGINALS]?: Originals };

/** The emitter's method, when it has one. */
function methodOf(value: unknown): EmitterMethod | undefined {
  return typeof value === 'function' ? (value as EmitterMethod) : undefined;
}

/** The seven methods of `target`, each by name: V8 caches a named load for the emitter's shape. */
function originalsOf(target: Record<string, unknown>): Originals {
  return {
    on: methodOf(target.on),
    addListener: methodOf(target.addListener),
    prependListener: methodOf(target.prependListener),
    once: methodOf(target.once),
    prependOnceListener: methodOf(target.prependOnceListener),
    off: methodOf(target.off),
    removeListener: methodOf(target.removeListener),
  };
}

/** Whether `remover` is Node's own removeListener (EventEmitter's, or Readable's, which calls it). */
function isNodeRemover(remover: EmitterMethod | undefined): boolean {
  return remover === EventEmitter.prototype.removeListener || remover === Readable.prototype.removeListener;
}

/**
 * Puts shared binding methods on `proto` (once), so that its instances are
 * bound by {@link bindEmitterToStore} with one property. Nothing else changes
 * for them: an instance not bound calls the method `proto` had. Only over
 * Node's own methods: a prototype something else already wrapped is left as it is.
 */
export function shareBindingMethods(proto: object): void {
  const target = proto as Record<string, unknown>;
  if ((target.on as SharedMethod | undefined)?.[PROTOTYPE_ORIGINALS] !== undefined) return;
  const originals = originalsOf(target);
  if (!isNodeRemover(originals.removeListener) || originals.on === undefined) return;
  const define = (method: Method, shared: SharedMethod): void => {
    shared[PROTOTYPE_ORIGINALS] = originals;
    Object.defineProperty(proto, method, { value: shared, writable: true, configurable: true, enumerable: false });
  };
  // Only an instance bound through this prototype goes to the bound method: one bound on its own
  // (whose methods, another library's wrappers perhaps, may call this one) gets the original.
  for (const method of ADDERS) {
    const original = originals[method];
    if (original === undefined) continue;
    define(method, function (this: unknown, event: string | symbol, listener: Listener): unknown {
      const binding = bindingOf(this);
      return binding?.originals === originals ? addBound(binding, method, this, event, listener) : original.call(this, event, listener);
    });
  }
  for (const method of REMOVERS) {
    const original = originals[method];
    if (original === undefined) continue;
    define(method, function (this: unknown, event: string | symbol, listener: Listener): unknown {
      const binding = bindingOf(this);
      return binding?.originals === originals ? removeBound(binding, method, this, event, listener) : original.call(this, event, listener);
    });
  }
}

/**
 * Adds one of ziptrace's own listeners (one that needs no span active: it
 * only notes something for a span) with the emitter's method as it was before
 * binding, so it gets no wrapper. Only `on` and `prependListener`: Node's
 * once() and prependOnceListener() add their wrapper through `this.on` and
 * `this.prependListener`, which are the bound ones again.
 */
export function listenUnbound(emitter: EmitterLike & { prependListener(event: string | symbol, listener: Listener): unknown }, method: 'on' | 'prependListener', event: string | symbol, listener: Listener): void {
  const original = bindingOf(emitter)?.originals[method];
  if (original !== undefined) original.call(emitter, event, listener);
  else emitter[method](event, listener);
}

/** The binding of the emitter a shared method is called on; undefined when it has none. */
function bindingOf(self: unknown): EmitterBinding | undefined {
  return self !== null && (typeof self === 'object' || typeof self === 'function') ? (stateOf(self)?.binding as EmitterBinding | undefined) : undefined;
}

/**
 * Makes listeners added to `emitter` from now on run with `span` active, for
 * emitters that fire outside the flow that created them (pooled connections,
 * queues), with the values the active store carries where it was bound
 * (as {@link bindToSpan}). `off`/`removeListener` still take the original functions.
 * Binding an emitter again changes the span for listeners added afterwards.
 */
export function bindEmitterToSpan<E extends object>(emitter: E, span: ActiveSpan | undefined = storage.getStore()): E {
  return bindEmitterToStore(emitter, bindingStore(span));
}

/**
 * {@link bindEmitterToSpan} with `span` as the store exactly, carrying
 * nothing: for a store that is a whole context already (the OpenTelemetry
 * bridge's `context.bind`).
 */
export function bindEmitterToStore<E extends object>(emitter: E, span: ActiveSpan | undefined): E {
  const target = emitter as unknown as Record<string | symbol, unknown>;
  const state = stateFor(emitter);
  if (state === undefined) throw new InvalidArgumentError(`ziptrace: bindEmitter(emitter): the emitter takes no new property (frozen, sealed or a Proxy that refuses it), so it cannot be bound`);
  const existing = state.binding as EmitterBinding | undefined;
  if (existing !== undefined) {
    existing.span = span;
    return emitter;
  }
  const shared = (target.on as SharedMethod | undefined)?.[PROTOTYPE_ORIGINALS];
  const originals = shared ?? originalsOf(target as Record<string, unknown>);
  const binding: EmitterBinding = {
    span,
    addingOnce: false,
    wrapped: undefined,
    originals,
    byListener: isNodeRemover(originals.removeListener),
    [INSPECT]: inspectBinding,
  };
  // In the object's one record (object-state.ts), under a symbol: in no Object.keys, for-in or JSON, and
  // util.inspect shows the binding as one word.
  state.binding = binding;
  // Its prototype has the shared methods (shareBindingMethods): the binding alone binds it.
  if (shared !== undefined) return emitter;
  const o = binding.originals;
  // Each by name, not by a computed key over a list: V8 caches a named store for the emitter's shape.
  // Called on another object, they act there (with this binding); taken off the emitter, on it.
  if (o.on !== undefined)
    target.on = function (this: unknown, event: string | symbol, listener: Listener): unknown {
      return addBound(binding, 'on', this ?? emitter, event, listener);
    };
  if (o.addListener !== undefined)
    target.addListener = function (this: unknown, event: string | symbol, listener: Listener): unknown {
      return addBound(binding, 'addListener', this ?? emitter, event, listener);
    };
  if (o.prependListener !== undefined)
    target.prependListener = function (this: unknown, event: string | symbol, listener: Listener): unknown {
      return addBound(binding, 'prependListener', this ?? emitter, event, listener);
    };
  if (o.once !== undefined)
    target.once = function (this: unknown, event: string | symbol, listener: Listener): unknown {
      return addBound(binding, 'once', this ?? emitter, event, listener);
    };
  if (o.prependOnceListener !== undefined)
    target.prependOnceListener = function (this: unknown, event: string | symbol, listener: Listener): unknown {
      return addBound(binding, 'prependOnceListener', this ?? emitter, event, listener);
    };
  if (o.off !== undefined)
    target.off = function (this: unknown, event: string | symbol, listener: Listener): unknown {
      return removeBound(binding, 'off', this ?? emitter, event, listener);
    };
  if (o.removeListener !== undefined)
    target.removeListener = function (this: unknown, event: string | symbol, listener: Listener): unknown {
      return removeBound(binding, 'removeListener', this ?? emitter, event, listener);
    };
  return emitter;
}
