// The yardstick: for each format alone, the least code that reads and writes
// it right. Headers are read by their lower-case names straight from Node's
// IncomingHttpHeaders (a repeated header arrives comma-joined, which the
// length checks refuse), ids are checked for length and lower-case hex by one
// charCode loop (all zeros is no id, in B3 and W3C alike), the context is
// { traceId, spanId, parentId, sampled }, and the outgoing headers are direct
// assignments or one template string. No other carriers, options or formats.
import { plainChild, runPropagationChild } from './propagation-harness.mjs';

/** A lower-case hex digit's value, or -1. */
function hexDigit(code) {
  return code >= 48 && code <= 57 ? code - 48 : code >= 97 && code <= 102 ? code - 87 : -1;
}

/** Whether `value[from, to)` is lower-case hex and not all zeros. */
function isId(value, from, to) {
  let bits = 0;
  for (let i = from; i < to; i++) {
    const digit = hexDigit(value.charCodeAt(i));
    if (digit < 0) return false;
    bits |= digit;
  }
  return bits !== 0;
}

/** X-B3-TraceId (32 or 16 hex), X-B3-SpanId, X-B3-ParentSpanId (optional), X-B3-Sampled, X-B3-Flags (1: debug, so sampled). */
function extractB3(headers) {
  const traceId = headers['x-b3-traceid'];
  const spanId = headers['x-b3-spanid'];
  if (traceId === undefined || spanId === undefined) return undefined;
  if ((traceId.length !== 32 && traceId.length !== 16) || !isId(traceId, 0, traceId.length)) return undefined;
  if (spanId.length !== 16 || !isId(spanId, 0, 16)) return undefined;
  const parentId = headers['x-b3-parentspanid'];
  if (parentId !== undefined && (parentId.length !== 16 || !isId(parentId, 0, 16))) return undefined;
  const sampled = headers['x-b3-flags'] === '1' ? '1' : headers['x-b3-sampled'];
  return { traceId, spanId, parentId, sampled: sampled === '1' ? true : sampled === '0' ? false : undefined };
}

function injectB3(context, out) {
  out['x-b3-traceid'] = context.traceId;
  out['x-b3-spanid'] = context.spanId;
  if (context.parentId !== undefined) out['x-b3-parentspanid'] = context.parentId;
  if (context.sampled !== undefined) out['x-b3-sampled'] = context.sampled ? '1' : '0';
}

/**
 * `b3: {traceId}-{spanId}[-{1|0|d}[-{parentSpanId}]]`. With a 32- or 16-digit
 * trace id, each of the three forms has a length of its own, so the length
 * says which one this is.
 */
function extractB3Single(headers) {
  const value = headers.b3;
  if (value === undefined) return undefined;
  const t = value.charCodeAt(32) === 45 ? 32 : 16;
  const rest = value.length - t;
  if ((rest !== 17 && rest !== 19 && rest !== 36) || value.charCodeAt(t) !== 45 || !isId(value, 0, t) || !isId(value, t + 1, t + 17)) return undefined;
  let sampled;
  let parentId;
  if (rest > 17) {
    const state = value.charCodeAt(t + 18);
    if (value.charCodeAt(t + 17) !== 45 || (state !== 49 && state !== 48 && state !== 100)) return undefined;
    sampled = state !== 48;
    if (rest === 36) {
      if (value.charCodeAt(t + 19) !== 45 || !isId(value, t + 20, t + 36)) return undefined;
      parentId = value.slice(t + 20);
    }
  }
  return { traceId: value.slice(0, t), spanId: value.slice(t + 1, t + 17), parentId, sampled };
}

function injectB3Single(context, out) {
  // The B3 grammar has the parent only after a sampling state.
  const { traceId, spanId, parentId, sampled } = context;
  if (sampled === undefined) out.b3 = `${traceId}-${spanId}`;
  else out.b3 = parentId === undefined ? `${traceId}-${spanId}-${sampled ? '1' : '0'}` : `${traceId}-${spanId}-${sampled ? '1' : '0'}-${parentId}`;
}

/**
 * `traceparent: {version}-{traceId}-{parentId}-{flags}`: version 00 is exactly
 * 55 characters; a later version (not ff) may carry more after a '-'.
 */
function extractTraceparent(headers) {
  const value = headers.traceparent;
  if (value === undefined || value.length < 55) return undefined;
  const v0 = hexDigit(value.charCodeAt(0));
  const v1 = hexDigit(value.charCodeAt(1));
  if (v0 < 0 || v1 < 0 || (v0 === 15 && v1 === 15)) return undefined;
  if (value.length !== 55 && ((v0 === 0 && v1 === 0) || value.charCodeAt(55) !== 45)) return undefined;
  if (value.charCodeAt(2) !== 45 || value.charCodeAt(35) !== 45 || value.charCodeAt(52) !== 45) return undefined;
  const flags = hexDigit(value.charCodeAt(54));
  if (!isId(value, 3, 35) || !isId(value, 36, 52) || hexDigit(value.charCodeAt(53)) < 0 || flags < 0) return undefined;
  return { traceId: value.slice(3, 35), spanId: value.slice(36, 52), parentId: undefined, sampled: (flags & 1) === 1 };
}

function injectTraceparent(context, out) {
  out.traceparent = `00-${context.traceId}-${context.spanId}-${context.sampled ? '01' : '00'}`;
}

await runPropagationChild('hand', {
  b3: { workload: 'b3', extract: extractB3, child: plainChild, inject: injectB3 },
  'b3-single': { workload: 'b3-single', extract: extractB3Single, child: plainChild, inject: injectB3Single },
  traceparent: { workload: 'traceparent', extract: extractTraceparent, child: plainChild, inject: injectTraceparent },
});
