/**
 * The query strings of the read API, parsed with Zipkin's defaults and checks
 * (zipkin-server's `ZipkinQueryApiV2` and `zipkin2.storage.QueryRequest`), so
 * a query Zipkin answers with 400 gets 400 here, and the reason names the
 * parameter.
 */
import type { TraceQuery } from './types.js';

/** Zipkin's `zipkin.query.lookback` default: one day, in milliseconds. */
export const DEFAULT_LOOKBACK_MS = 86_400_000;

/** Zipkin's default `limit` of `GET /api/v2/traces`. */
export const DEFAULT_LIMIT = 10;

/** Why a query was refused: the text of the 400 response. */
export interface QueryError {
  /** One sentence naming the parameter and what is wrong with it. */
  error: string;
}

/** Java's `Integer.MAX_VALUE`: Zipkin reads `limit` as an int. */
const INT_MAX = 2_147_483_647;

/**
 * Parses the parameters of `GET /api/v2/traces`.
 *
 * - `serviceName`, `remoteServiceName`, `spanName`: lower-cased; empty means
 *   unset, and so does `spanName=all` (only the span name: Zipkin reserves
 *   "all" there alone, a service may be called "all").
 * - `annotationQuery`: see {@link parseAnnotationQuery}.
 * - `minDuration`, `maxDuration`: microseconds; minDuration must be > 0,
 *   maxDuration needs minDuration and must not be below it.
 * - `endTs` (epoch ms, default `nowMs`), `lookback` (ms, default one day),
 *   `limit` (default 10): each must be > 0.
 *
 * A parameter given empty (`minDuration=`, as a form sends it) counts as not given.
 *
 * @param params the query string.
 * @param nowMs epoch milliseconds, the default `endTs`.
 * @returns the query, or `{ error }` naming the parameter.
 */
export function parseTraceQuery(params: URLSearchParams, nowMs: number): TraceQuery | QueryError {
  const minDuration = integerParam(params, 'minDuration');
  if (isError(minDuration)) return minDuration;
  const maxDuration = integerParam(params, 'maxDuration');
  if (isError(maxDuration)) return maxDuration;
  const endTs = integerParam(params, 'endTs');
  if (isError(endTs)) return endTs;
  const lookback = integerParam(params, 'lookback');
  if (isError(lookback)) return lookback;
  const limit = integerParam(params, 'limit', INT_MAX);
  if (isError(limit)) return limit;

  const query: TraceQuery = {
    endTs: endTs ?? nowMs,
    lookback: lookback ?? DEFAULT_LOOKBACK_MS,
    limit: limit ?? DEFAULT_LIMIT,
  };
  const serviceName = nameParam(params, 'serviceName');
  if (serviceName !== undefined) query.serviceName = serviceName;
  const remoteServiceName = nameParam(params, 'remoteServiceName');
  if (remoteServiceName !== undefined) query.remoteServiceName = remoteServiceName;
  const spanName = nameParam(params, 'spanName');
  if (spanName !== undefined && spanName !== 'all') query.spanName = spanName;
  const annotationQuery = parseAnnotationQuery(params.get('annotationQuery') ?? '');
  if (Object.keys(annotationQuery).length > 0) query.annotationQuery = annotationQuery;

  if (query.endTs <= 0) return { error: `endTs must be greater than 0, got ${query.endTs}` };
  if (query.limit <= 0) return { error: `limit must be greater than 0, got ${query.limit}` };
  if (query.lookback <= 0) return { error: `lookback must be greater than 0, got ${query.lookback}` };
  if (minDuration !== undefined) {
    if (minDuration <= 0) return { error: `minDuration must be greater than 0, got ${minDuration}` };
    if (maxDuration !== undefined && maxDuration < minDuration) return { error: `maxDuration (${maxDuration}) must not be less than minDuration (${minDuration})` };
    query.minDuration = minDuration;
    if (maxDuration !== undefined) query.maxDuration = maxDuration;
  } else if (maxDuration !== undefined) {
    return { error: 'maxDuration is only valid with minDuration' };
  }
  return query;
}

/**
 * Parses the parameters of `GET /api/v2/dependencies`: `endTs` (epoch ms)
 * and `lookback` (ms, default one day), both > 0.
 *
 * Zipkin requires `endTs`; so does this unless `nowMs` is given, which then
 * serves as its default (the viewer's server passes it, so that a bare
 * `curl …/api/v2/dependencies` answers for the last day).
 *
 * @param params the query string.
 * @param nowMs when given, the default `endTs`; when omitted, a missing `endTs` is an error.
 * @returns the window, or `{ error }` naming the parameter.
 */
export function parseDependenciesQuery(params: URLSearchParams, nowMs?: number): { endTs: number; lookback: number } | QueryError {
  const given = integerParam(params, 'endTs');
  if (isError(given)) return given;
  const endTs = given ?? nowMs;
  if (endTs === undefined) return { error: 'endTs is required (epoch milliseconds)' };
  const lookback = integerParam(params, 'lookback');
  if (isError(lookback)) return lookback;
  if (endTs <= 0) return { error: `endTs must be greater than 0, got ${endTs}` };
  const window = { endTs, lookback: lookback ?? DEFAULT_LOOKBACK_MS };
  if (window.lookback <= 0) return { error: `lookback must be greater than 0, got ${window.lookback}` };
  return window;
}

/**
 * Zipkin's `QueryRequest.Builder.parseAnnotationQuery`: terms split on
 * `" and "` (at most 100 terms, the last keeps the rest); `key=value` asks
 * for a tag with that value (the last such term for a key wins), a bare
 * `key` for a tag key or annotation value (never overriding a `key=value`).
 * Keys and values are trimmed; a term with an empty key is dropped (Zipkin
 * keeps it, and then no trace can match: it drops such keys when it prints
 * the query, which we follow).
 *
 * @returns key → value, `''` for a bare key. A null-prototype object, so any key is safe.
 */
export function parseAnnotationQuery(text: string): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  if (text === '') return out;
  const parts = text.split(' and ');
  const terms = parts.length > 100 ? [...parts.slice(0, 99), parts.slice(99).join(' and ')] : parts;
  for (const term of terms) {
    const eq = term.indexOf('=');
    if (eq === -1) {
      const key = term.trim();
      if (key !== '' && !(key in out)) out[key] = '';
    } else {
      const key = term.slice(0, eq).trim();
      if (key !== '') out[key] = term.slice(eq + 1).trim();
    }
  }
  return out;
}

function isError(value: unknown): value is QueryError {
  return typeof value === 'object' && value !== null;
}

function nameParam(params: URLSearchParams, name: string): string | undefined {
  const value = params.get(name);
  return value === null || value === '' ? undefined : value.toLowerCase();
}

/** A Java `long` (or `int` up to `max`) parameter: an optional sign and digits, nothing else. */
function integerParam(params: URLSearchParams, name: string, max = Number.MAX_SAFE_INTEGER): number | undefined | QueryError {
  const text = params.get(name);
  if (text === null || text === '') return undefined;
  const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
  if (!/^[+-]?\d+$/.test(text)) return { error: `${name} ${shown} is not an integer` };
  const value = Number(text);
  if (Math.abs(value) > max) return { error: `${name} ${shown} is out of range` };
  return value;
}
