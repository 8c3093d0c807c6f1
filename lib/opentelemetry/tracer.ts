/**
 * OpenTelemetry's `TracerProvider` and `Tracer`, making ziptrace spans: the
 * spans of OpenTelemetry-instrumented libraries go to ziptrace's reporters,
 * in ziptrace's traces. Kinds map one to one, INTERNAL being ziptrace's local
 * span (no kind); attributes are tags from the start, so a sampler sees them;
 * each span is tagged with the instrumentation that made it
 * (`otel.scope.name`, `otel.scope.version`).
 *
 * The parent is the span in the given Context (the active one by default):
 * a ziptrace span, one the bridge made, or a foreign span context (its ids and
 * sampled flag). `root: true` starts a new trace. A SERVER span whose parent
 * came in through headers joins it as ziptrace's own servers do (`joinSpan`:
 * B3's shared span, a child for W3C). Where tracing is suppressed, spans are
 * non-recording and invalid, as OpenTelemetry's SDK makes them. An omitted
 * or undefined Context is the active one, as in the SDK.
 *
 * One request, one CLIENT span: while ziptrace's own client instrumentation
 * is installed (`instrumentHttpClients`, or the zero-code start's fetch and
 * http tracing; any copy of ziptrace, told by `runtime.clients`), the CLIENT
 * spans of `@opentelemetry/instrumentation-undici` (for fetch) and
 * `@opentelemetry/instrumentation-http` (for http) are {@link StandAsideSpan}s:
 * non-recording, an invalid span context, and nothing injected for them. So
 * the request carries ziptrace's span and headers only, and the server joins
 * that span. Their SERVER spans are made as any other.
 */
import type { Span } from '../span.js';
import type { Tracer } from '../tracer.js';
import type { SpanKind, SpanOptions, TagValue } from '../types.js';
import { api, type Context, type OtelSpan, type OtelSpanOptions, type OtelTracer, type TracerProvider } from './api.js';
import { isPlain, pairPlain, type ZiptraceContextManager } from './context-manager.js';
import { fromSpanContext } from './span-context.js';
import { runtime } from '../context.js';
import { forEachAttribute, isBridgeSpan, otelSpanOf, StandAsideSpan, standingFor } from './span.js';
import { isSuppressed } from './suppression.js';
import { toEpochMicros } from './time.js';

/** OpenTelemetry's SpanKind (INTERNAL 0, SERVER 1, CLIENT 2, PRODUCER 3, CONSUMER 4) as ziptrace's. */
const KINDS: readonly (SpanKind | undefined)[] = [undefined, 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];

/** The OpenTelemetry instrumentations (by scope name) whose CLIENT spans ziptrace's own client instrumentation would double. */
const CLIENT_SCOPES: Readonly<Record<string, 'fetch' | 'http' | undefined>> = Object.assign(Object.create(null) as Record<string, 'fetch' | 'http' | undefined>, {
  '@opentelemetry/instrumentation-undici': 'fetch',
  '@opentelemetry/instrumentation-http': 'http',
});

/** An OpenTelemetry `Tracer` for one instrumentation scope, starting spans with a ziptrace tracer. */
export class ZiptraceOtelTracer implements OtelTracer {
  /** @internal */ private readonly _tracer: Tracer;
  /** @internal */ private readonly _manager: ZiptraceContextManager;
  /** @internal The scope's tags, set on every span. */
  private readonly _scopeTags: Readonly<Record<string, string>>;
  /** @internal The ziptrace client whose requests this scope's CLIENT spans would trace twice, if any. */
  private readonly _client: 'fetch' | 'http' | undefined;

  /** Made by {@link ZiptraceTracerProvider.getTracer}. */
  constructor(tracer: Tracer, manager: ZiptraceContextManager, name: string, version: string | undefined) {
    this._tracer = tracer;
    this._manager = manager;
    const tags: Record<string, string> = {};
    if (typeof name === 'string' && name.length > 0) tags['otel.scope.name'] = name;
    if (typeof version === 'string' && version.length > 0) tags['otel.scope.version'] = version;
    this._scopeTags = tags;
    this._client = CLIENT_SCOPES[name];
  }

  startSpan(name: string, options?: OtelSpanOptions, context?: Context): OtelSpan {
    const current = context ?? this._manager.active();
    if (isSuppressed(current)) return api.trace.wrapSpanContext(api.INVALID_SPAN_CONTEXT);
    const opts = options ?? {};
    const parent = opts.root === true ? undefined : standingFor(api.trace.getSpan(current));
    const client = this._client;
    if (client !== undefined && opts.kind === api.SpanKind.CLIENT && runtime.clients?.[client] === true) return new StandAsideSpan(parent);
    const kind = KINDS[opts.kind ?? 0];
    const tags: Record<string, TagValue> = { ...this._scopeTags };
    forEachAttribute(opts.attributes, (key, value) => {
      tags[key] = value as TagValue;
    });
    const spanOptions: SpanOptions = { kind, tags, timestamp: toEpochMicros(opts.startTime) };
    return otelSpanOf(this._start(name, parent, spanOptions));
  }

  /** @internal */
  private _start(name: string, parent: OtelSpan | undefined, options: SpanOptions): Span {
    const tracer = this._tracer;
    const text = typeof name === 'string' ? name : String(name);
    try {
      if (parent === undefined) return tracer.startSpan(text, { ...options, parent: null });
      if (!isBridgeSpan(parent)) return tracer.startSpan(text, { ...options, parent: fromSpanContext(parent.spanContext()) ?? null });
      const { parent: _unused, ...remoteOptions } = options;
      if (parent.remote && options.kind === 'SERVER') return tracer.joinSpan(parent.span.context, text, remoteOptions);
      return tracer.startSpan(text, { ...options, parent: parent.span });
    } catch {
      // An option ziptrace refuses (a start time it cannot take): the span starts now rather than the API throwing.
      return tracer.startSpan(text, { kind: options.kind, parent: parent === undefined ? null : isBridgeSpan(parent) ? parent.span : (fromSpanContext(parent.spanContext()) ?? null) });
    }
  }

  startActiveSpan<F extends (span: OtelSpan) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: OtelSpan) => unknown>(name: string, options: OtelSpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: OtelSpan) => unknown>(name: string, options: OtelSpanOptions, context: Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: OtelSpan) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest[rest.length - 1] as F;
    const options = rest.length >= 2 ? (rest[0] as OtelSpanOptions) : undefined;
    // An undefined Context is the active one, as OpenTelemetry's SDK takes it.
    const context = (rest.length >= 3 ? (rest[1] as Context | undefined) : undefined) ?? this._manager.active();
    const span = this.startSpan(name, options, context);
    const next = api.trace.setSpan(context, span);
    // A Context that held only a span still does: it runs with the ziptrace span as the store, no Scope.
    if (isBridgeSpan(span) && isPlain(context)) pairPlain(next, span.span);
    return this._manager.with(next, fn as never, undefined, span) as ReturnType<F>;
  }
}

/** OpenTelemetry's `TracerProvider` over one ziptrace tracer: `trace.getTracer(name, version)` after `registerOpenTelemetry`. */
export class ZiptraceTracerProvider implements TracerProvider {
  /** The ziptrace tracer every span goes through. */
  readonly tracer: Tracer;
  /** @internal */ private readonly _manager: ZiptraceContextManager;
  /** @internal One Tracer per scope name and version. */
  private readonly _tracers = new Map<string, ZiptraceOtelTracer>();

  /** `manager`: the context manager whose active Context is the default parent. */
  constructor(tracer: Tracer, manager: ZiptraceContextManager) {
    this.tracer = tracer;
    this._manager = manager;
  }

  getTracer(name: string, version?: string): OtelTracer {
    const key = `${name}\u0000${version ?? ''}`;
    let found = this._tracers.get(key);
    if (found === undefined) this._tracers.set(key, (found = new ZiptraceOtelTracer(this.tracer, this._manager, name, version)));
    return found;
  }
}
