/**
 * OpenTelemetry's `TextMapPropagator` through a ziptrace tracer's own
 * propagation (by default B3 and W3C `traceparent`, as `createTracer({ propagation })`
 * configured it), so that OpenTelemetry-instrumented clients and servers send
 * and read the same headers ziptrace's do. OpenTelemetry's getters and
 * setters have ziptrace's shape (`get(carrier, name)`, `set(carrier, name, value)`),
 * so they are passed as they are.
 *
 * An extracted context keeps all ziptrace knows of it (a deferred decision,
 * debug, B3's shared span) in the span it puts in the Context, which the
 * bridge's tracer and ziptrace's `withSpan` continue; other OpenTelemetry
 * code sees its ids as a remote span context.
 */
import { NonRecordingSpan } from '../span.js';
import type { Tracer } from '../tracer.js';
import type { TraceContext } from '../types.js';
import { api, type Context, type TextMapGetter, type TextMapPropagator, type TextMapSetter } from './api.js';
import { fromSpanContext } from './span-context.js';
import { isBridgeSpan, remoteOtelSpan } from './span.js';
import { isSuppressed } from './suppression.js';

/** OpenTelemetry's propagation API on a ziptrace tracer's `inject` and `extract`. */
export class ZiptracePropagator implements TextMapPropagator {
  /** The ziptrace tracer whose propagation reads and writes the headers. */
  readonly tracer: Tracer;

  /** Use the propagation of `tracer`. */
  constructor(tracer: Tracer) {
    this.tracer = tracer;
  }

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    // An instrumentation's own requests (suppressed) carry no trace, as OpenTelemetry's propagators do.
    if (isSuppressed(context)) return;
    const span = api.trace.getSpan(context);
    if (span === undefined) return;
    const target = isBridgeSpan(span) ? span.span.context : fromSpanContext(span.spanContext());
    if (target !== undefined) this.tracer.inject(target, carrier, setter);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const found = this.tracer.extract(carrier, getter);
    if (found === undefined) return context;
    // A bare decision (`b3: 0`) has no ids: it is kept all the same, and the next span starts a trace with it.
    return api.trace.setSpan(context, remoteOtelSpan(new NonRecordingSpan(this.tracer, found as TraceContext)));
  }

  fields(): string[] {
    // The tracer keeps its propagator private; its header names are what OpenTelemetry asks for here.
    const propagator = (this.tracer as unknown as { _propagator?: { fields?: readonly string[] } })._propagator;
    return [...(propagator?.fields ?? [])];
  }
}
