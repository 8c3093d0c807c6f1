import { activeSpan, bindEmitterToSpan, bindToSpan, runtime, runWithActive, spanOf, type ActiveSpan } from './context.js';
import { debug } from './debug.js';
import { REPORT_FINISHED, type FinishedSpanReporter } from './encoding/zipkin-bytes.js';
import { encodeFinishedSpan, localEndpointPart, toZipkinSpan } from './encoding/zipkin-json.js';
import { describe } from './describe.js';
import { isSpanId, isTraceId, newSpanId, newTraceId, rootSpanId, sampledTraceId } from './ids.js';
import { resolveTracerOptions, type TracerOptions } from './options.js';
import type { Getter, Setter } from './propagation/carrier.js';
import { extractMessage, injectMessage } from './propagation/messaging.js';
import type { Propagator } from './propagation/propagator.js';
import { runSpan, splitArgs } from './run.js';
import { contextOf, isValidContext, LOCAL_SOURCE, makeContext } from './trace-context.js';
import { decide, sampledByRate } from './sampling.js';
import { NonRecordingSpan, RecordingSpan, type Span, type SpanSink } from './span.js';
import type { Endpoint, ExtractedContext, HasContext, Reporter, Sampler, SpanOptions, TraceContext, ZipkinSpan } from './types.js';
import { InvalidArgumentError } from './errors.js';
import { checkSpanOptions } from './span-options.js';
import { closeDeadline } from './reporting/batch-sender.js';

export type { SpanOptions } from './types.js';

export type { ErrorClass, TracerOptions, TracerPropagationOptions } from './options.js';
export { DEFAULT_CLOSE_TIMEOUT } from './reporting/batch-sender.js';

/** Counts a tracer keeps; see `tracer.stats()`. */
export interface TracerStats {
  /** Sampled spans finished and handed to the reporters. */
  spansReported: number;
  /** Sampled spans finished with no reporter configured, or after close. */
  spansDropped: number;
  /** Exceptions thrown (or promises rejected) by reporters' `report`, `reportJson`, `flush` and `close`, caught. */
  reporterErrors: number;
  /** Exceptions thrown by the custom sampler, caught. */
  samplerErrors: number;
  /** Tags past `limits.maxTags`. */
  droppedTags: number;
  /** Annotations past `limits.maxAnnotations`. */
  droppedAnnotations: number;
  /** Names, keys and values cut to their limit. */
  truncatedValues: number;
  /**
   * Values a span setter ignored because they were not what it takes (a tag
   * key that is not a string, a kind that is not one of the four, a
   * timestamp in milliseconds given to `annotate` or `finish`, which then
   * use now). Setters never throw; `NODE_DEBUG=ziptrace` says what each was.
   */
  invalidValues: number;
}

/** Options of `tracer.newTrace`: the span options, and the decision to force. */
export interface NewTraceOptions extends Omit<SpanOptions, 'parent'> {
  /** Forces the sampling decision of the new trace (default: the tracer's sampler and rate). */
  sampled?: boolean;
  /** Forces sampling and asks the backend to keep the trace. */
  debug?: boolean;
  /** The span name, for the `newTrace({ name })` form. */
  name?: string;
}

/** Options of `tracer.newChild` and `tracer.joinSpan`: the span options but `parent`, which they are given. */
export type RemoteSpanOptions = Omit<SpanOptions, 'parent'>;

const NEW_TRACE_KEYS = ['sampled', 'debug', 'name'] as const;

/** The highest rate whose unsampled roots make their ids lazily (see Tracer._quickRoot). */
const QUICK_ROOT_MAX_RATE = 0.5;

/**
 * Makes and reports spans for one service. Create it with {@link createTracer}.
 */
export class Tracer {
  /** @internal The `global` option as checked: createTracer reads it. */
  readonly _global: boolean | undefined;
  /** This service's endpoint, as every span reports it. */
  readonly localEndpoint: Readonly<Endpoint>;
  /** @internal */ private readonly _reporters: readonly Reporter[];
  /** @internal */ private readonly _sampleRate: number;
  /** @internal */ private readonly _sampler: Sampler | undefined;
  /** @internal */ private readonly _bits128: boolean;
  /** @internal No sampler and a rate of 0: a new root is decided without looking at its trace id. */
  private readonly _neverSamples: boolean;
  /** @internal The `ignoredErrors` option as a predicate. */
  readonly _ignored: ((error: unknown) => boolean) | undefined;
  /** @internal */ private readonly _sink: SpanSink & { counters: TracerStats };
  /** @internal */ private readonly _propagator: Propagator;
  /** @internal */ private readonly _trustSampling: boolean;
  /** @internal */ private readonly _trustDebug: boolean;
  /** @internal */ private readonly _supportsJoin: boolean;
  /** @internal */ private _closed = false;

  /** Use {@link createTracer}, which also makes the first tracer the global one. */
  constructor(options: TracerOptions) {
    const o = resolveTracerOptions(options);
    this._global = o.global;
    this.localEndpoint = o.localEndpoint;
    this._reporters = o.reporters;
    this._sampleRate = o.sampleRate;
    this._sampler = o.sampler;
    this._bits128 = o.traceId128Bit;
    this._neverSamples = o.sampler === undefined && o.sampleRate <= 0;
    this._ignored = o.ignored;
    this._propagator = o.propagator;
    this._trustSampling = o.trustSampling;
    this._trustDebug = o.trustDebug;
    this._supportsJoin = o.supportsJoin;
    const limits = o.limits;

    const counters: TracerStats = {
      spansReported: 0,
      spansDropped: 0,
      reporterErrors: 0,
      samplerErrors: 0,
      droppedTags: 0,
      droppedAnnotations: 0,
      truncatedValues: 0,
      invalidValues: 0,
    };
    const reporters = this._reporters;
    // Decided once: which reporters take the span as JSON (no span object is built for them).
    const wantsJson = reporters.map((reporter) => typeof reporter.reportJson === 'function');
    // Reporters of this copy that encode the span into their own bytes (zipkin-bytes.ts): no text is made for them.
    const takesFinished = reporters.map((reporter) => typeof (reporter as Partial<FinishedSpanReporter>)[REPORT_FINISHED] === 'function');
    const localEndpoint = this.localEndpoint;
    const endpointPart = localEndpointPart(localEndpoint);
    const tracer = this;
    this._sink = {
      limits,
      counters,
      spanFinished(span: RecordingSpan): void {
        if (reporters.length === 0 || tracer._closed) {
          counters.spansDropped++;
          return;
        }
        // Each form is made at most once, and only if some reporter wants it.
        let zipkin: ZipkinSpan | undefined;
        let json: string | undefined;
        for (let i = 0; i < reporters.length; i++) {
          try {
            if (takesFinished[i] === true) (reporters[i] as unknown as FinishedSpanReporter)[REPORT_FINISHED](span, endpointPart);
            else if (wantsJson[i] === true) reporters[i]!.reportJson!((json ??= encodeFinishedSpan(span, endpointPart)));
            else reporters[i]!.report((zipkin ??= toZipkinSpan(span, localEndpoint)));
          } catch (error) {
            counters.reporterErrors++;
            if (debug.enabled) debug('reporter.report/reportJson threw: %s', String(error));
          }
        }
        counters.spansReported++;
      },
    };
  }

  /** Whether `close()` was called. A closed tracer still runs code but records nothing. */
  get closed(): boolean {
    return this._closed;
  }

  /** The reporters this tracer hands finished spans to. */
  get reporters(): readonly Reporter[] {
    return this._reporters;
  }

  /** The first reporter (the `HttpReporter` made for `zipkinUrl`, when given), or undefined. */
  get reporter(): Reporter | undefined {
    return this._reporters[0];
  }

  /**
   * Starts a span under the active span (or `opts.parent`), or a new trace
   * when there is none. The span is not made active: use `withSpan` for that.
   */
  startSpan(name: string, opts?: SpanOptions): Span {
    const start = opts === undefined ? undefined : checkSpanOptions(opts, 'startSpan', true);
    return this._startSpan(name, opts, start);
  }

  /** @internal startSpan for another call (`withSpan`), which its option errors then name. */
  _startSpanFor(name: string, opts: SpanOptions | undefined, where: string): Span {
    return this._startSpan(name, opts, opts === undefined ? undefined : checkSpanOptions(opts, where, true));
  }

  /** @internal startSpan once its options are checked (here, or once by `@traced`): `start` is their timestamp in microseconds. */
  _startSpan(name: string, opts: SpanOptions | undefined, start: number | undefined): Span {
    const parentOption = opts === undefined ? undefined : opts.parent;
    const parent = parentOption === undefined ? activeSpan()?.context : parentOption === null ? undefined : contextOf(parentOption);
    if (parent !== undefined && isValidContext(parent)) return this._makeSpan(this._childContext(parent, name, opts), name, opts, start);
    return this._quickRoot(name, opts, start, parent) ?? this._makeSpan(this._rootContext(name, opts, parent), name, opts, start);
  }

  /**
   * Runs `fn` with a new span active, for `fn` and everything it starts. The
   * span finishes when `fn` returns or its promise settles; an error is
   * recorded on the span and rethrown. The return value passes through.
   */
  withSpan<R>(name: string, fn: (span: Span) => R): R;
  withSpan<R>(name: string, opts: SpanOptions | undefined, fn: (span: Span) => R): R;
  withSpan<R>(name: string, optsOrFn: SpanOptions | undefined | ((span: Span) => R), maybeFn?: (span: Span) => R): R {
    // The common `withSpan(name, fn)` form skips splitArgs and the array it returns: this is the hot path.
    if (typeof optsOrFn === 'function' && typeof name === 'string') return runSpan(this._startSpan(name, undefined, undefined), optsOrFn, this._ignored);
    const [opts, fn] = splitArgs(name, optsOrFn, maybeFn, 'tracer.withSpan');
    return runSpan(this._startSpanFor(name, opts, 'tracer.withSpan'), fn, this._ignored);
  }

  /**
   * Starts a new trace, ignoring any active span (aiozipkin's `new_trace`),
   * not made active. `options.sampled` forces the decision; `debug` forces
   * sampling. Takes the span options every span maker takes (`kind`, `tags`,
   * `timestamp`, `remoteEndpoint`); `newTrace({ name, sampled })` works too.
   */
  newTrace(name?: string, options?: NewTraceOptions): Span;
  /** `newTrace({ name, sampled, debug, ...span options })`: the name among the options, as aiozipkin's callers pass it. */
  newTrace(options?: NewTraceOptions): Span;
  newTrace(nameOrOptions?: string | NewTraceOptions, maybeOptions?: NewTraceOptions): Span {
    const options = typeof nameOrOptions === 'object' && nameOrOptions !== null ? nameOrOptions : maybeOptions;
    const start = checkSpanOptions(options, 'tracer.newTrace', false, NEW_TRACE_KEYS);
    if (typeof nameOrOptions === 'string' && maybeOptions?.name !== undefined) {
      throw new InvalidArgumentError(`ziptrace: tracer.newTrace(name, options): the name is given twice (${describe(nameOrOptions)} and options.name ${describe(maybeOptions.name)}); give it once`);
    }
    const name = typeof nameOrOptions === 'string' ? nameOrOptions : (options?.name ?? '');
    if (options?.sampled !== undefined && typeof options.sampled !== 'boolean') throw new InvalidArgumentError(`ziptrace: tracer.newTrace: sampled must be true or false, got ${describe(options.sampled)}`);
    const debugFlag = options?.debug === true;
    const traceId = newTraceId(this._bits128);
    const sampled = debugFlag || (typeof options?.sampled === 'boolean' ? options.sampled : this._decide(traceId, name, options));
    return this._makeSpan(makeContext(traceId, rootSpanId(traceId), undefined, sampled, debugFlag, false, undefined, LOCAL_SOURCE, true), name, options, start);
  }

  /**
   * Starts a child of `context` (a context or span), not made active
   * (aiozipkin's `new_child`). An invalid context starts a new trace with its
   * sampling decision. Takes the span options but `parent`.
   */
  newChild(context: ExtractedContext | HasContext, name = '', options?: RemoteSpanOptions): Span {
    const start = checkSpanOptions(options, 'tracer.newChild', false);
    const parent = contextOf(context);
    if (!isValidContext(parent)) return this._makeSpan(this._rootContext(name, options, parent), name, options, start);
    return this._makeSpan(this._childContext(parent, name, options), name, options, start);
  }

  /**
   * Continues the caller's span with the same ids (Zipkin's shared server
   * span), not made active. A context without a sampling decision asks the
   * sampler; one without valid ids starts a new trace with its decision.
   *
   * A context that came in as W3C `traceparent` (which has no shared spans),
   * or any context when `supportsJoin: false`, gets a child span instead;
   * `undefined` (nothing came in) starts a new trace. So a server can always
   * write `tracer.joinSpan(tracer.extract(req.headers), 'GET /users/:id', { kind: 'SERVER' })`.
   */
  joinSpan(context: ExtractedContext | undefined, name = '', options?: RemoteSpanOptions): Span {
    const start = checkSpanOptions(options, 'tracer.joinSpan', false);
    if (!isValidContext(context)) {
      // As in _startSpan: an unsampled root (a server's unsampled request) gets its ids only if something asks.
      return this._quickRoot(name, options, start, context) ?? this._makeSpan(this._rootContext(name, options, context), name, options, start);
    }
    if (!this._supportsJoin || context.source === 'w3c') return this._makeSpan(this._childContext(context, name, options), name, options, start);
    const sampled = context.debug === true || (context.sampled ?? this._decide(context.traceId, name, options, context));
    // The parent id is encoded as it is: a caller's plain object may carry anything there.
    const parentId = isSpanId(context.parentId) ? context.parentId : undefined;
    const joined = makeContext(context.traceId, context.spanId, parentId, sampled, context.debug === true, true, context.tracestate, context.source ?? LOCAL_SOURCE, context.random === true);
    return this._makeSpan(joined, name, options, start);
  }

  /**
   * Reads a caller's context from incoming headers with the tracer's
   * propagation (by default single `b3`, B3 multi, then `traceparent`). Gives a
   * context, a bare sampling decision (`b3: 0`), or undefined when nothing
   * valid came in. Never throws.
   */
  extract(carrier: unknown, getter?: Getter): ExtractedContext | undefined {
    let found: ExtractedContext | undefined;
    try {
      found = this._propagator.extract(carrier, getter);
    } catch (error) {
      if (debug.enabled) debug('propagator.extract threw: %s', String(error));
      return undefined;
    }
    return found === undefined ? undefined : this._trusted(found);
  }

  /** Writes a span's (or context's) headers into an outgoing carrier: by default B3 multi and `traceparent`. Never throws. */
  inject(target: Span | ExtractedContext, carrier: unknown, setter?: Setter): void {
    try {
      const context = contextOf(target);
      if (context !== undefined) this._propagator.inject(context, carrier, setter);
    } catch (error) {
      if (debug.enabled) debug('propagator.inject threw: %s', String(error));
    }
  }

  /** Writes a PRODUCER span's context into message headers: single `b3` and `traceparent`. Never throws. */
  injectMessage(target: Span | ExtractedContext, headers: unknown, setter?: Setter): void {
    try {
      injectMessage(target, headers, setter);
    } catch (error) {
      if (debug.enabled) debug('injectMessage threw: %s', String(error));
    }
  }

  /**
   * Reads a producer's context from message headers, for a CONSUMER span,
   * which is always a child: `startSpan('process', { kind: 'CONSUMER', parent })`.
   */
  extractMessage(headers: unknown, getter?: Getter): ExtractedContext | undefined {
    let found: ExtractedContext | undefined;
    try {
      found = extractMessage(headers, getter);
    } catch {
      return undefined;
    }
    return found === undefined ? undefined : this._trusted(found);
  }

  /** @internal Applies `trustSampling` / `trustDebug`: an untrusted decision from the network becomes "deferred". */
  private _trusted(found: ExtractedContext): ExtractedContext {
    const dropDebug = !this._trustDebug && found.debug;
    const dropSampled = !this._trustSampling && found.sampled !== undefined;
    if (!dropDebug && !dropSampled) return found;
    const debugFlag = dropDebug ? false : found.debug;
    // Debug implied sampled; when debug is not trusted, that implication goes too.
    const sampled = dropSampled || dropDebug ? undefined : found.sampled;
    if (found.traceId === undefined) return sampled === undefined && !debugFlag ? { debug: false, source: found.source } : { sampled: debugFlag || sampled, debug: debugFlag, source: found.source };
    return { ...found, sampled: debugFlag ? true : sampled, debug: debugFlag };
  }

  /** The active span, or undefined when none is. */
  currentSpan(): Span | undefined {
    // spanOf: the store may be a span with other values beside it (the OpenTelemetry bridge's), not the span.
    return spanOf(activeSpan()) as Span | undefined;
  }

  /** Runs `fn` with `target` active: a span, a context (say, from headers), or `null` for none. */
  withActive<R>(target: Span | ExtractedContext | null | undefined, fn: () => R): R {
    if (typeof fn !== 'function') throw new InvalidArgumentError(`ziptrace: tracer.withActive(target, fn): fn must be a function, got ${describe(fn)}`);
    return runWithActive(this._asActive(target), fn);
  }

  /** Returns `fn` bound to a span (the active one by default): it runs with that span active wherever it is called. */
  bind<F extends (...args: never[]) => unknown>(fn: F, target?: Span | ExtractedContext | null): F {
    if (typeof fn !== 'function') throw new InvalidArgumentError(`ziptrace: tracer.bind(fn): fn must be a function, got ${describe(fn)}`);
    return bindToSpan(fn, target === undefined ? activeSpan() : this._asActive(target));
  }

  /**
   * Makes listeners added to `emitter` from now on run with a span (the active
   * one by default) active. `off`/`removeListener` still work with the original functions.
   *
   * @throws InvalidArgumentError when `emitter` is not an EventEmitter, or takes no new property (frozen, sealed).
   */
  bindEmitter<E extends object>(emitter: E, target?: Span | ExtractedContext | null): E {
    if (emitter === null || typeof emitter !== 'object' || typeof (emitter as { on?: unknown }).on !== 'function') {
      throw new InvalidArgumentError(`ziptrace: tracer.bindEmitter(emitter): emitter must be an EventEmitter, got ${describe(emitter)}`);
    }
    return bindEmitterToSpan(emitter, target === undefined ? activeSpan() : this._asActive(target));
  }

  /** Counts of what was reported, dropped, cut and caught. */
  stats(): TracerStats {
    return { ...this._sink.counters };
  }

  /** Sends what the reporters hold. Never rejects. */
  async flush(): Promise<void> {
    const counters = this._sink.counters;
    await Promise.all(this._reporters.map((reporter) => settle(() => reporter.flush?.(), counters)));
  }

  /**
   * Flushes and stops the reporters, within `timeout` milliseconds (default
   * 5000). Never rejects. A closed tracer stops being the global one; spans
   * that finish later are dropped and counted.
   */
  async close(options: { timeout?: number } = {}): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    if (runtime.globalTracer === this) runtime.globalTracer = undefined;
    const timeout = closeDeadline(options?.timeout);
    const counters = this._sink.counters;
    const work = Promise.all(this._reporters.map((reporter) => settle(() => reporter.close?.({ timeout }), counters)));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      // Not unref()'d: a caller awaiting close() must get control back even when nothing else keeps
      // the process alive; the timer is cleared as soon as the reporters are done.
      timer = setTimeout(resolve, timeout);
    });
    await Promise.race([work, deadline]);
    clearTimeout(timer);
  }

  /** @internal Whether `withSpan` and `@traced` should leave this error off the span. */
  _isIgnored(error: unknown): boolean {
    return this._ignored !== undefined && this._ignored(error);
  }

  /** @internal */
  private _decide(traceId: string, name: string, opts: RemoteSpanOptions | undefined, parent?: TraceContext): boolean {
    // Without a custom sampler only the trace id matters: no request object to allocate.
    if (this._sampler === undefined) return sampledByRate(traceId, this._sampleRate);
    return decide(this._sampler, this._sampleRate, { traceId, name, kind: opts?.kind, tags: opts?.tags, parent }, this._sink.counters);
  }

  /**
   * @internal A new root decided without a sampler, its ids made only if it is sampled or something asks: rate 0
   * or an inherited "not sampled" (a bare `b3: 0`) never samples; a rate of at most one half decides on the trace
   * id's random bytes before writing them (sampledTraceId). Undefined: decide as `_rootContext` does (a sampler, a
   * decision to keep, debug, a rate above one half, where drawing unsampled ids again would take many draws).
   */
  private _quickRoot(name: string, opts: RemoteSpanOptions | undefined, start: number | undefined, inherit: ExtractedContext | undefined): Span | undefined {
    if (this._sampler !== undefined || inherit?.debug === true) return undefined;
    const inherited = inherit?.sampled;
    if (inherited === true) return undefined;
    if (this._neverSamples || inherited === false) return new NonRecordingSpan(this, undefined, this._bits128);
    const rate = this._sampleRate;
    if (rate > QUICK_ROOT_MAX_RATE) return undefined;
    const traceId = sampledTraceId(this._bits128, rate);
    if (traceId === undefined) return new NonRecordingSpan(this, undefined, this._bits128, rate);
    return this._makeSpan(makeContext(traceId, rootSpanId(traceId), undefined, true, false, false, undefined, LOCAL_SOURCE, true), name, opts, start);
  }

  /** @internal */
  private _rootContext(name: string, opts: RemoteSpanOptions | undefined, inherit: ExtractedContext | undefined): TraceContext {
    const traceId = newTraceId(this._bits128);
    // A context with no ids may still carry a decision (a `b3: 0` header): the new trace keeps it.
    const debugFlag = inherit?.debug === true;
    const sampled = debugFlag || (typeof inherit?.sampled === 'boolean' ? inherit.sampled : this._decide(traceId, name, opts));
    return makeContext(traceId, rootSpanId(traceId), undefined, sampled, debugFlag, false, undefined, LOCAL_SOURCE, true);
  }

  /** @internal */
  private _childContext(parent: TraceContext, name: string, opts: RemoteSpanOptions | undefined): TraceContext {
    const debugFlag = parent.debug === true;
    const sampled = debugFlag || (parent.sampled ?? this._decide(parent.traceId, name, opts, parent));
    // The trace's source and random flag describe its trace id, which children share.
    return makeContext(parent.traceId, newSpanId(), parent.spanId, sampled, debugFlag, false, parent.tracestate, parent.source ?? LOCAL_SOURCE, parent.random === true);
  }

  /** @internal */
  private _makeSpan(context: TraceContext, name: string, opts: RemoteSpanOptions | undefined, start: number | undefined): Span {
    if (context.sampled !== true || this._closed) return new NonRecordingSpan(this, context);
    const span = new RecordingSpan(this._sink, this, context, name, start);
    if (opts !== undefined) {
      // Checked by checkSpanOptions already: set, not checked again.
      if (opts.kind !== undefined) span._kind = opts.kind;
      const tags = opts.tags;
      if (tags !== undefined && tags !== null) for (const key in tags) span.tag(key, tags[key]);
      if (opts.remoteEndpoint !== undefined) span._setRemote(opts.remoteEndpoint);
    }
    return span;
  }

  /** @internal */
  private _asActive(target: Span | ExtractedContext | null | undefined): ActiveSpan | undefined {
    if (target === null || target === undefined) return undefined;
    if (isSpanLike(target)) return target;
    return new NonRecordingSpan(this, target as TraceContext);
  }
}

function isSpanLike(value: object): value is Span {
  // This copy's spans by their class first: reading `context` of an unsampled root makes its ids, which it
  // otherwise makes only when something propagates it (most unsampled requests never do).
  if (value instanceof RecordingSpan || value instanceof NonRecordingSpan) return true;
  return typeof (value as { finish?: unknown }).finish === 'function' && typeof (value as { context?: unknown }).context === 'object';
}

/** Runs a reporter's flush or close: what it throws or rejects with is counted, never passed on. */
async function settle(fn: () => Promise<void> | undefined, counters: TracerStats): Promise<void> {
  try {
    await fn();
  } catch (error) {
    counters.reporterErrors++;
    if (debug.enabled) debug('reporter flush/close failed: %s', String(error));
  }
}
