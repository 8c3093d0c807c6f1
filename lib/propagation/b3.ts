import { isSpanId, isTraceId } from '../ids.js';
import type { ExtractedContext, HasContext, SamplingFlags, TraceContext } from '../types.js';
import {
  B3,
  defaultGetter,
  defaultSetter,
  doneReading,
  holds,
  INVALID,
  readerFor,
  readsDirectly,
  readSingle,
  setsProperties,
  singleOf,
  X_B3_FLAGS,
  X_B3_PARENTSPANID,
  X_B3_SAMPLED,
  X_B3_SPANID,
  X_B3_TRACEID,
  type Getter,
  type Setter,
} from './carrier.js';
import { contextOf, isValidContext, makeContext } from '../trace-context.js';
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
    if (setsProperties(carrier, setter)) assignB3(context, carrier);
    else writeB3(context, carrier, setter, LOWER);
  }

  extract(carrier: unknown, getter: Getter = defaultGetter): ExtractedContext | undefined {
    const get = readerFor(carrier, getter);
    const found = readMulti(carrier, get);
    if (get !== getter) doneReading();
    return found;
  }
}

/** The B3 multi headers of a carrier read with `get`. */
function readMulti(carrier: unknown, get: Getter): ExtractedContext | undefined {
  if (readsDirectly(get, carrier)) {
    let traceId: unknown, spanId: unknown, parentId: unknown, sampled: unknown, flags: unknown;
    try {
      traceId = holds(X_B3_TRACEID) ? carrier['x-b3-traceid'] : undefined;
      spanId = holds(X_B3_SPANID) ? carrier['x-b3-spanid'] : undefined;
      parentId = holds(X_B3_PARENTSPANID) ? carrier['x-b3-parentspanid'] : undefined;
      sampled = holds(X_B3_SAMPLED) ? carrier['x-b3-sampled'] : undefined;
      flags = holds(X_B3_FLAGS) ? carrier['x-b3-flags'] : undefined;
    } catch {
      // A header that throws when read: each is read again below, the one that throws being INVALID.
      traceId = INVALID;
    }
    if (isAbsentOrText(traceId) && isAbsentOrText(spanId) && isAbsentOrText(parentId) && isAbsentOrText(sampled) && isAbsentOrText(flags)) {
      return multiContext(idText(traceId), idText(spanId), idText(parentId), idText(sampled), idText(flags));
    }
  }
  return multiContext(
    readSingle(get, carrier, TRACE_ID, MAX_ID_HEADER),
    readSingle(get, carrier, SPAN_ID, MAX_ID_HEADER),
    readSingle(get, carrier, PARENT_ID, MAX_ID_HEADER),
    readSingle(get, carrier, SAMPLED, MAX_ID_HEADER),
    readSingle(get, carrier, FLAGS, MAX_ID_HEADER),
  );
}

function isAbsentOrText(raw: unknown): raw is string | undefined {
  return raw === undefined || typeof raw === 'string';
}

function idText(raw: string | undefined): string | undefined | typeof INVALID {
  return raw === undefined ? undefined : singleOf(raw, MAX_ID_HEADER);
}

type HeaderText = string | undefined | typeof INVALID;

/** The context the five B3 multi headers' values say, each as readSingle gives it. */
function multiContext(traceId: HeaderText, spanId: HeaderText, parentId: HeaderText, sampledText: HeaderText, flags: HeaderText): ExtractedContext | undefined {
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
    const get = readerFor(carrier, getter);
    const value = readsDirectly(get, carrier) ? directSingle(carrier) : readSingle(get, carrier, SINGLE, MAX_B3_SINGLE);
    if (get !== getter) doneReading();
    if (value === undefined || value === INVALID) return undefined;
    return parseSingle(value);
  }
}

/** The `b3` header of a carrier read directly, by name (see readMulti). */
function directSingle(carrier: Record<string, unknown>): HeaderText {
  if (!holds(B3)) return undefined;
  let raw: unknown;
  try {
    raw = carrier.b3;
  } catch {
    return INVALID;
  }
  if (raw === undefined) return undefined;
  return typeof raw === 'string' ? singleOf(raw, MAX_B3_SINGLE) : readSingle(defaultGetter, carrier, SINGLE, MAX_B3_SINGLE);
}

/*
 * `{traceId}-{spanId}`, then optionally `-{1|0|d}`, `-{1|0|d}-{parentSpanId}`
 * or, with the decision deferred, `-{parentSpanId}`: Brave reads
 * `{traceId}-{spanId}-{parentSpanId}` ("odd but possible to not yet sample a
 * child", B3SingleFormatTest parseB3SingleFormat_parentid_notYetSampled),
 * though the README's grammar only has the parent after a sampling state.
 * Read by position rather than by a regular expression, whose match array and
 * captures cost more than the rest of the extraction: the fields have fixed
 * lengths, so the value's length and its dashes say which form it is, and
 * isTraceId/isSpanId check the hex.
 */
const DASH = 45;

function parseSingle(value: string): ExtractedContext | undefined {
  if (value === '0' || value === '1' || value === 'd') return samplingFlags(value !== '0', value === 'd', 'b3-single');
  // A 64-bit trace id puts the first dash at 16, a 128-bit one at 32 (where a 64-bit one has span id hex).
  const traceLength = value.charCodeAt(16) === DASH ? 16 : value.charCodeAt(32) === DASH ? 32 : 0;
  if (traceLength === 0) return undefined;
  const spanEnd = traceLength + 17;
  const traceId = value.slice(0, traceLength);
  const spanId = value.slice(traceLength + 1, spanEnd);
  if (!isTraceId(traceId) || !isSpanId(spanId)) return undefined;
  let sampling: string | undefined;
  let parentText: string | undefined;
  const rest = value.length - spanEnd;
  if (rest !== 0) {
    if (value.charCodeAt(spanEnd) !== DASH) return undefined;
    if (rest === 2 || (rest === 19 && value.charCodeAt(spanEnd + 2) === DASH)) {
      sampling = value[spanEnd + 1];
      if (sampling !== '1' && sampling !== '0' && sampling !== 'd') return undefined;
      if (rest === 19) parentText = value.slice(spanEnd + 3);
    } else if (rest === 17) parentText = value.slice(spanEnd + 1);
    else return undefined;
  }
  const parent = parentOf(parentText);
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
  if (!isValidContext(context)) return sampling;
  let value = `${context.traceId}-${context.spanId}`;
  // The README's grammar puts the parent after the sampling state, so with a deferred decision the parent is
  // left out: Brave reads `{traceId}-{spanId}-{parentSpanId}`, but a reader that keeps to the grammar would not.
  if (sampling !== undefined) value += `-${sampling}`;
  if (sampling !== undefined && withParent && context.parentId !== undefined) value += `-${context.parentId}`;
  return value;
}

/*
 * The multi headers, written one by one through the setter: no list of
 * entries in between, as inject runs on every outgoing request.
 */
function writeB3(context: ExtractedContext, carrier: unknown, setter: Setter, names: B3Names): void {
  if (isValidContext(context)) {
    setter.set(carrier, names.traceId, context.traceId);
    setter.set(carrier, names.spanId, context.spanId);
    if (context.parentId !== undefined) setter.set(carrier, names.parentId, context.parentId);
  }
  // Debug implies an accept decision, so X-B3-Sampled is not sent with it (the B3 spec).
  if (context.debug) setter.set(carrier, names.flags, '1');
  else if (context.sampled !== undefined) setter.set(carrier, names.sampled, context.sampled ? '1' : '0');
}

/** writeB3 for a plain object, by assignment. */
function assignB3(context: ExtractedContext, headers: Record<string, unknown>): void {
  if (isValidContext(context)) {
    headers['x-b3-traceid'] = context.traceId;
    headers['x-b3-spanid'] = context.spanId;
    if (context.parentId !== undefined) headers['x-b3-parentspanid'] = context.parentId;
  }
  if (context.debug) headers['x-b3-flags'] = '1';
  else if (context.sampled !== undefined) headers['x-b3-sampled'] = context.sampled ? '1' : '0';
}

interface B3Names {
  traceId: string;
  spanId: string;
  parentId: string;
  sampled: string;
  flags: string;
}

const LOWER: B3Names = { traceId: TRACE_ID, spanId: SPAN_ID, parentId: PARENT_ID, sampled: SAMPLED, flags: FLAGS };
const CANONICAL: B3Names = { traceId: 'X-B3-TraceId', spanId: 'X-B3-SpanId', parentId: 'X-B3-ParentSpanId', sampled: 'X-B3-Sampled', flags: 'X-B3-Flags' };

const objectSetter: Setter = {
  set(carrier, name, value) {
    (carrier as Record<string, string>)[name] = value;
  },
};

/**
 * aiozipkin's `make_headers`: the B3 multi headers of a context (or span), with
 * their canonical names. A deferred decision sends no `X-B3-Sampled`.
 */
export function makeHeaders(context: ExtractedContext | HasContext): Record<string, string> {
  const ctx = contextOf(context);
  const headers: Record<string, string> = {};
  if (ctx !== undefined) writeB3(ctx, headers, objectSetter, CANONICAL);
  return headers;
}

/** aiozipkin's `make_single_header`: `{ b3: 'traceId-spanId-sampling-parentId' }`, empty when there is nothing to send. */
export function makeSingleHeader(context: ExtractedContext | HasContext): Record<string, string> {
  const ctx = contextOf(context);
  const value = ctx === undefined ? undefined : singleHeaderValue(ctx, true);
  return value === undefined ? {} : { b3: value };
}
