/**
 * The store the bridge puts in ziptrace's context storage when an
 * OpenTelemetry `Context` is made active: the ziptrace span it stands for
 * (`span`, read by `currentSpan()` and by new spans as their parent) and the
 * whole OpenTelemetry `Context` beside it, so that baggage and the keys
 * instrumentations set survive every async hop ziptrace's context does.
 *
 * When ziptrace makes a span active inside one (`withSpan`), `carry` gives the
 * store to use instead: the same Context with the new span. So OpenTelemetry
 * code under that `withSpan` sees the new span and the old values.
 *
 * Where OpenTelemetry's `suppressTracing` is set in the Context, the store
 * says so (`suppressed`), so that ziptrace's own HTTP client instrumentation
 * traces nothing there either.
 *
 * A Scope also acts as its span (every `Span` call goes to it), for copies of
 * ziptrace older than the `span` field, whose `currentSpan()` returns the store.
 */
import type { ActiveSpan } from '../context.js';
import type { Span } from '../span.js';
import type { EndpointAddress, SpanKind, TagValue, Timestamp, TraceContext } from '../types.js';
import { api, type Context } from './api.js';
import { otelSpanOf } from './span.js';
import { isSuppressed } from './suppression.js';

/** A ziptrace span, or none, with the OpenTelemetry Context it was made active in. */
export class Scope implements Span, ActiveSpan {
  /** The OpenTelemetry Context, values and all; its span may be an older one (see `exact`). */
  readonly otelContext: Context;
  /** The ziptrace span this store stands for, `null` for none. */
  readonly span: Span | null;
  /** @internal The Context `context.active()` hands out, made on first ask unless `otelContext` is it already. */
  private _active: Context | undefined;

  /** `exact`: `otelContext` already holds `span` (the scope of a `context.with(ctx)`), so it is handed out as it is. */
  constructor(otelContext: Context, span: Span | null, exact: boolean) {
    this.otelContext = otelContext;
    this.span = span;
    this._active = exact ? otelContext : undefined;
  }

  /** The span's context; undefined when there is none, so new ziptrace spans start a trace. */
  get context(): TraceContext {
    return this.span?.context as TraceContext;
  }

  get tracer(): unknown {
    return this.span?.tracer;
  }

  /** Whether tracing is suppressed in this Context (`ActiveSpan.suppressed`): ziptrace's own clients then trace nothing. */
  get suppressed(): boolean {
    return isSuppressed(this.otelContext);
  }

  /** The store for `span` made active inside this one: the same values, the new span. */
  carry(span: ActiveSpan): ActiveSpan {
    // A store that carries values already (another scope) keeps its own.
    if (span.span !== undefined) return span;
    return new Scope(this.otelContext, span as Span, false);
  }

  /** The OpenTelemetry Context this store is: its values, with its span as OpenTelemetry's. */
  otel(): Context {
    if (this._active === undefined) {
      this._active = this.span === null ? api.trace.deleteSpan(this.otelContext) : api.trace.setSpan(this.otelContext, otelSpanOf(this.span));
    }
    return this._active;
  }

  get isRecording(): boolean {
    return this.span?.isRecording ?? false;
  }
  name(name: string): this {
    this.span?.name(name);
    return this;
  }
  tag(key: string, value: TagValue): this {
    this.span?.tag(key, value);
    return this;
  }
  kind(kind: SpanKind | undefined): this {
    this.span?.kind(kind);
    return this;
  }
  annotate(value: string, timestamp?: Timestamp): this {
    this.span?.annotate(value, timestamp);
    return this;
  }
  remoteEndpoint(serviceName: string | undefined, address?: EndpointAddress): this {
    this.span?.remoteEndpoint(serviceName, address);
    return this;
  }
  setError(error: unknown): this {
    this.span?.setError(error);
    return this;
  }
  finish(timestamp?: Timestamp): void {
    this.span?.finish(timestamp);
  }
  [Symbol.dispose](): void {
    this.finish();
  }
}
