import { isSpanId, isTraceId } from './ids.js';
import type { ExtractedContext, HasContext, TraceContext } from './types.js';

/** The `source` of a context that started in this process rather than in headers. */
export const LOCAL_SOURCE = 'local';

/*
 * Contexts the tracer and the propagators make are instances of one class,
 * made only from ids already checked: the class is the mark that they need no
 * checking again. Every child span, join and inject used to check its
 * context's 48 or 64 hex digits once more, and a character costs a JavaScript
 * loop about as much as a property lookup, so those checks were a large part
 * of a child span and of an inject. A context the app builds itself (a plain
 * object, or a spread of one of these) is checked as before. The fields are
 * readonly, so an app cannot change a checked context's ids without a cast.
 */
class CheckedContext implements TraceContext {
  constructor(
    readonly traceId: string,
    readonly spanId: string,
    readonly parentId: string | undefined,
    readonly sampled: boolean | undefined,
    readonly debug: boolean,
    readonly shared: boolean,
    readonly tracestate: string | undefined,
    readonly source: string,
    readonly random: boolean,
  ) {}
}

/**
 * A trace context with every field, in one order: one hidden class on the hot
 * path. `traceId` and `spanId` must be valid ids (isTraceId, isSpanId): the
 * context is trusted as checked from then on.
 */
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
  return new CheckedContext(traceId, spanId, parentId, sampled, debugFlag, shared, tracestate, source, random);
}

/**
 * @internal A context that lives as long as this module, so that the class's map does:
 * a context's final map (its fields set) hangs off the class's initial map by
 * a transition V8 holds weakly, and optimized code holds the maps it was
 * compiled for weakly too. When a full collection found no context alive (a
 * service idle between requests, a benchmark's gc() between rounds), it freed
 * the map and threw away every optimized function compiled against it
 * (node --trace-deopt: "weak objects"): the span's constructor, finish, the
 * encoder and a dozen more ran unoptimized until compiled again. Never
 * handed out: its ids are not valid ones. Exported so that it is held: in the
 * CommonJS build a module's local that no function reads is dropped once the
 * module has run. (spec/span-shapes.spec.ts)
 */
export const SHAPE_CONTEXT: TraceContext = new CheckedContext('0', '0', undefined, undefined, false, false, undefined, LOCAL_SOURCE, false);

/**
 * `context` with another tracestate and random flag: still a checked context
 * when it was one; a context of the app's making (or a user propagator's)
 * is copied with its own fields.
 */
export function contextWith(context: TraceContext, tracestate: string | undefined, random: boolean): TraceContext {
  if (!(context instanceof CheckedContext)) return { ...context, tracestate, random };
  return new CheckedContext(context.traceId, context.spanId, context.parentId, context.sampled, context.debug, context.shared, tracestate, context.source, random);
}

/** Whether `context` has a valid trace id and span id, so that spans can continue it. */
export function isValidContext(context: ExtractedContext | undefined): context is TraceContext {
  if (context instanceof CheckedContext) return true;
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
