import { isSpanId, isTraceId } from './ids.js';
import type { ExtractedContext, HasContext, TraceContext } from './types.js';

/** The `source` of a context that started in this process rather than in headers. */
export const LOCAL_SOURCE = 'local';

/** A trace context with every field, in one order: one hidden class on the hot path. */
export function makeContext(
  traceId: string,
  spanId: string,
  parentId: string | undefined,
  sampled: boolean | undefined,
  debugFlag: boolean,
  shared: boolean,
  tracestate: string | undefined,
  source: string,
  random: boolean,
): TraceContext {
  return { traceId, spanId, parentId, sampled, debug: debugFlag, shared, tracestate, source, random };
}

/** Whether `context` has a valid trace id and span id, so that spans can continue it. */
export function isValidContext(context: ExtractedContext | undefined): context is TraceContext {
  return context !== undefined && context !== null && isTraceId(context.traceId) && isSpanId(context.spanId);
}

/**
 * The context a span or context stands for: `span.context` for a span (or any
 * object with a `context`), the value itself for a context, and `undefined`
 * for `null`, `undefined`, or a `context` that is not an object. Every API
 * that takes "a span or a context" reads it through this one function.
 */
export function contextOf(value: ExtractedContext | HasContext | null | undefined): ExtractedContext | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (!('context' in value)) return value;
  const inner = value.context;
  return inner !== null && typeof inner === 'object' ? inner : undefined;
}
