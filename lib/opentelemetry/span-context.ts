/**
 * A ziptrace trace context as OpenTelemetry's `SpanContext` and back.
 * OpenTelemetry's trace ids are always 128-bit: a 64-bit ziptrace id is
 * padded with zeros on the left, as B3 and W3C readers do.
 */
import { isSpanId, isTraceId } from '../ids.js';
import { makeContext } from '../trace-context.js';
import type { ExtractedContext, TraceContext } from '../types.js';
import { api, type SpanContext } from './api.js';

const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** OpenTelemetry's view of `context`; a context without valid ids (a bare sampling decision) gives an invalid one, which OpenTelemetry reads as no parent. */
export function toSpanContext(context: ExtractedContext, isRemote: boolean): SpanContext {
  const valid = isTraceId(context.traceId) && isSpanId(context.spanId);
  const traceId = valid ? context.traceId!.padStart(32, '0') : ZERO_TRACE;
  const spanId = valid ? context.spanId! : ZERO_SPAN;
  const traceFlags = context.sampled === true ? api.TraceFlags.SAMPLED : api.TraceFlags.NONE;
  const spanContext: SpanContext = { traceId, spanId, traceFlags, isRemote };
  const tracestate = (context as TraceContext).tracestate;
  if (tracestate !== undefined && typeof api.createTraceState === 'function') spanContext.traceState = api.createTraceState(tracestate);
  return spanContext;
}

/**
 * ziptrace's view of a span context some other OpenTelemetry code made (a
 * propagator of its own, `trace.wrapSpanContext`): its ids, its sampled flag
 * as the decision, its trace state. Undefined when its ids are not valid.
 */
export function fromSpanContext(spanContext: SpanContext): TraceContext | undefined {
  const { traceId, spanId } = spanContext;
  if (!isTraceId(traceId) || !isSpanId(spanId)) return undefined;
  const sampled = (spanContext.traceFlags & api.TraceFlags.SAMPLED) === api.TraceFlags.SAMPLED;
  let tracestate: string | undefined;
  try {
    tracestate = spanContext.traceState?.serialize() || undefined;
  } catch {
    // A trace state of someone else's making that cannot say itself: continue without it.
    tracestate = undefined;
  }
  return makeContext(traceId, spanId, undefined, sampled, false, false, tracestate, spanContext.isRemote === true ? 'w3c' : 'local', false);
}
