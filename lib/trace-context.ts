import { isSpanId, isTraceId } from './ids.js';
import type { ExtractedContext, TraceContext } from './types.js';

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
