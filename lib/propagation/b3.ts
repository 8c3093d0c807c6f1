import { isSpanId, isTraceId } from '../ids.js';
import type { ExtractedContext, HasContext, SamplingFlags, TraceContext } from '../types.js';
import { defaultGetter, defaultSetter, INVALID, readSingle, type Getter, type Setter } from './carrier.js';
import { contextOf, makeContext } from '../trace-context.js';
import { MAX_B3_SINGLE, MAX_ID_HEADER, type Propagator } from './propagator.js';

/*
 * B3, Zipkin's propagation (github.com/openzipkin/b3-propagation), as Brave
 * reads it: ids are lower-case hex, a malformed header set is ignored as a
 * whole, an absent sampling state means "defer" (not "deny"), X-B3-Flags: 1 is
 * debug and implies sampled, and 64-bit trace ids are kept as they are.
 *
 * An all-zero parent id means "no parent", in the single and the multi-header
 * form alike. Zero is how Brave itself says "root" (parentIdAsLong() is 0),
 * and its single-header reader takes a zero parent as none
 * (B3SingleFormatTest parseB3SingleFormat_zero_parentId); its multi-header
 * reader rejects the whole set instead, which would make the same context
 * valid in one B3 form and not the other.
 */

const TRACE_ID = 'x-b3-traceid';
const SPAN_ID = 'x-b3-spanid';
const PARENT_ID = 'x-b3-parentspanid';
const SAMPLED = 'x-b3-sampled';
const FLAGS = 'x-b3-flags';
const SINGLE = 'b3';
/** A parent id that stands for none. */
const NO_PARENT = '0000000000000000';

function hasIds(context: ExtractedContext): context is TraceContext {
  return isTraceId(context.traceId) && isSpanId(context.spanId);
}

/** `X-B3-Sampled`: 1/0, and the legacy true/false that a lenient reader accepts. */
function parseSampled(value: string): boolean | typeof INVALID {
  if (value === '1' || value.toLowerCase() === 'true') return true;
  if (value === '0' || value.toLowerCase() === 'false') return false;
  return INVALID;
}

function samplingFlags(sampled: boolean | undefined, debug: boolean, source: string): SamplingFlags {
  return { sampled: debug ? true : sampled, debug, source };
}

/** B3 multi-header: `X-B3-TraceId`, `X-B3-SpanId`, `X-B3-ParentSpanId`, `X-B3-Sampled`, `X-B3-Flags`. */
export class B3MultiPropagator implements Propagator {
  readonly fields = [TRACE_ID, SPAN_ID, PARENT_ID, SAMPLED, FLAGS] as const;

  inject(context: ExtractedContext, carrier: unknown, setter: Setter = defaultSetter): void {
    for (const [name, value] of b3Entries(context, false)) setter.set(carrier, name, value);
  }

  extract(carrier: unknown, getter: Getter = defaultGetter): ExtractedContext | undefined {
    const traceId = readSingle(getter, carrier, TRACE_ID, MAX_ID_HEADER);
    const spanId = readSingle(getter, carrier, SPAN_ID, MAX_ID_HEADER);
    const parentId = readSingle(getter, carrier, PARENT_ID, MAX_ID_HEADER);
    const sampledText = readSingle(getter, carrier, SAMPLED, MAX_ID_HEADER);
    const flags = readSingle(getter, carrier, FLAGS, MAX_ID_HEADER);
    if (sampledText === INVALID) return undefined;
    const sampled = sampledText === undefined ? undefined : parseSampled(sampledText);
    if (sampled === INVALID) return undefined;
    const debug = flags === '1';
    if (traceId === undefined && spanId === undefined && parentId === undefined) {
      // No ids: perhaps a bare decision, which the next trace takes.
      return sampled === undefined && !debug ? undefined : samplingFlags(sampled, debug, 'b3');
    }
    if (!isTraceId(traceId) || !isSpanId(spanId)) return undefined;
    const parent = parentOf(parentId);
    if (parent === INVALID) return undefined;
    return makeContext(traceId, spanId, parent, debug ? true : sampled, debug, false, undefined, 'b3', false);
  }
}

/**
 * The parent id of a header: undefined when absent or all zero (no parent),
 * INVALID when it is not a 16-character lower-hex id.
 */
function parentOf(parentId: string | undefined | typeof INVALID): string | undefined | typeof INVALID {
  if (parentId === undefined || parentId === NO_PARENT) return undefined;
  return isSpanId(parentId) ? parentId : INVALID;
}

/**
 * B3 single header: `b3: {traceId}-{spanId}-{1|0|d}-{parentSpanId}`, or
 * `{traceId}-{spanId}-{parentSpanId}` (a child whose decision is deferred),
 * or only `b3: 0`, `1` or `d`.
 */
export class B3SinglePropagator implements Propagator {
  readonly fields = [SINGLE] as const;
  private readonly withParent: boolean;

  /** `withParent: false` leaves the parent id out, as Brave does for messages. */
  constructor(options: { withParent?: boolean } = {}) {
    this.withParent = options.withParent !== false;
  }

  inject(context: ExtractedContext, carrier: unknown, setter: Setter = defaultSetter): void {
    const value = singleHeaderValue(context, this.withParent);
    if (value !== undefined) setter.set(carrier, SINGLE, value);
  }

  extract(carrier: unknown, getter: Getter = defaultGetter): ExtractedContext | undefined {
    const value = readSingle(getter, carrier, SINGLE, MAX_B3_SINGLE);
    if (value === undefined || value === INVALID) return undefined;
    return parseSingle(value);
  }
}

/*
 * The third field is the sampling state (one character) or, with the decision
 * deferred, the parent id (sixteen): Brave reads `{traceId}-{spanId}-{parentSpanId}`
 * ("odd but possible to not yet sample a child", B3SingleFormatTest
 * parseB3SingleFormat_parentid_notYetSampled), though the README's grammar
 * only has the parent after a sampling state.
 */
const SINGLE_FORM = /^([0-9a-f]{32}|[0-9a-f]{16})-([0-9a-f]{16})(?:-(?:([01d])(?:-([0-9a-f]{16}))?|([0-9a-f]{16})))?$/;

function parseSingle(value: string): ExtractedContext | undefined {
  if (value === '0' || value === '1' || value === 'd') return samplingFlags(value !== '0', value === 'd', 'b3-single');
  const match = SINGLE_FORM.exec(value);
  if (match === null) return undefined;
  const [, traceId, spanId, sampling, parentAfterSampling, parentDeferred] = match as unknown as [string, string, string, string | undefined, string | undefined, string | undefined];
  if (!isTraceId(traceId) || !isSpanId(spanId)) return undefined;
  const parent = parentOf(parentAfterSampling ?? parentDeferred);
  if (parent === INVALID) return undefined;
  const debug = sampling === 'd';
  const sampled = sampling === undefined ? undefined : sampling !== '0';
  return makeContext(traceId, spanId, parent, sampled, debug, false, undefined, 'b3-single', false);
}

function samplingText(context: ExtractedContext): string | undefined {
  if (context.debug) return 'd';
  return context.sampled === true ? '1' : context.sampled === false ? '0' : undefined;
}

function singleHeaderValue(context: ExtractedContext, withParent: boolean): string | undefined {
  const sampling = samplingText(context);
  if (!hasIds(context)) return sampling;
  let value = `${context.traceId}-${context.spanId}`;
  // The README's grammar puts the parent after the sampling state, so with a deferred decision the parent is
  // left out: Brave reads `{traceId}-{spanId}-{parentSpanId}`, but a reader that keeps to the grammar would not.
  if (sampling !== undefined) value += `-${sampling}`;
  if (sampling !== undefined && withParent && context.parentId !== undefined) value += `-${context.parentId}`;
  return value;
}

function b3Entries(context: ExtractedContext, canonical: boolean): [string, string][] {
  const names = canonical ? CANONICAL : LOWER;
  const out: [string, string][] = [];
  if (hasIds(context)) {
    out.push([names.traceId, context.traceId], [names.spanId, context.spanId]);
    if (context.parentId !== undefined) out.push([names.parentId, context.parentId]);
  }
  // Debug implies an accept decision, so X-B3-Sampled is not sent with it (the B3 spec).
  if (context.debug) out.push([names.flags, '1']);
  else if (context.sampled !== undefined) out.push([names.sampled, context.sampled ? '1' : '0']);
  return out;
}

const LOWER = { traceId: TRACE_ID, spanId: SPAN_ID, parentId: PARENT_ID, sampled: SAMPLED, flags: FLAGS };
const CANONICAL = { traceId: 'X-B3-TraceId', spanId: 'X-B3-SpanId', parentId: 'X-B3-ParentSpanId', sampled: 'X-B3-Sampled', flags: 'X-B3-Flags' };

/**
 * aiozipkin's `make_headers`: the B3 multi headers of a context (or span), with
 * their canonical names. A deferred decision sends no `X-B3-Sampled`.
 */
export function makeHeaders(context: ExtractedContext | HasContext): Record<string, string> {
  const ctx = contextOf(context);
  return ctx === undefined ? {} : Object.fromEntries(b3Entries(ctx, true));
}

/** aiozipkin's `make_single_header`: `{ b3: 'traceId-spanId-sampling-parentId' }`, empty when there is nothing to send. */
export function makeSingleHeader(context: ExtractedContext | HasContext): Record<string, string> {
  const ctx = contextOf(context);
  const value = ctx === undefined ? undefined : singleHeaderValue(ctx, true);
  return value === undefined ? {} : { b3: value };
}
