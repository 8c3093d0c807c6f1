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
 * non-recording and invalid, as OpenTelemetry's SDK makes them.
 */
import type { Span } from '../span.js';
import type { Tracer } from '../tracer.js';
import type { SpanKind, SpanOptions, TagValue } from '../types.js';
import { api, type Context, type OtelSpan, type OtelSpanOptions, type OtelTracer, type TracerProvider } from './api.js';
import { isPlain, pairPlain, type ZiptraceContextManager } from './context-manager.js';
import { fromSpanContext } from './span-context.js';
import { isBridgeSpan, otelSpanOf } from './span.js';
import { isSuppressed } from './suppression.js';
import { toEpochMicros } from './time.js';

/** OpenTelemetry's SpanKind (INTERNAL 0, SERVER 1, CLIENT 2, PRODUCER 3, CONSUMER 4) as ziptrace's. */
const KINDS: readonly (SpanKind | undefined)[] = [undefined, 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];

/** An OpenTelemetry `Tracer` for one instrumentation scope, starting spans with a ziptrace tracer. */
export class ZiptraceOtelTracer implements OtelTracer {
  /** @internal */ private readonly _tracer: Tracer;
  /** @internal */ private readonly _manager: ZiptraceContextManager;
  /** @internal The scope's tags, set on every span. */
  private readonly _scopeTags: Readonly<Record<string, string>>;

  /** Made by {@link ZiptraceTracerProvider.getTracer}. */
  constructor(tracer: Tracer, manager: ZiptraceContextManager, name: string, version: string | undefined) {
    this._tracer = tracer;
    this._manager = manager;
    const tags: Record<string, string> = {};
    if (typeof name === 'string' && name.length > 0) tags['otel.scope.name'] = name;
    if (typeof version === 'string' && version.length > 0) tags['otel.scope.version'] = version;
    this._scopeTags = tags;
  }

  startSpan(name: string, options: OtelSpanOptions = {}, context: Context = this._manager.active()): OtelSpan {
    if (isSuppressed(context)) return api.trace.wrapSpanContext(api.INVALID_SPAN_CONTEXT);
    const opts = options ?? {};
    const kind = KINDS[opts.kind ?? 0];
    const tags: Record<string, TagValue> = { ...this._scopeTags };
    const attributes = opts.attributes;
    if (attributes !== null && typeof attributes === 'object') for (const key of Object.keys(attributes)) tags[key] = attributes[key];
    const spanOptions: SpanOptions = { kind, tags, timestamp: toEpochMicros(opts.startTime) };
    const parent = opts.root === true ? undefined : api.trace.getSpan(context);
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
    const context = rest.length >= 3 ? (rest[1] as Context) : this._manager.active();
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
