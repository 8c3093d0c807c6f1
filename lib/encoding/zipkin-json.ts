import { quote } from './json-string.js';
import type { Endpoint, SpanKind, TraceContext, ZipkinAnnotation, ZipkinSpan } from '../types.js';

/** What the encoder reads from a finished span. */
export interface FinishedSpan {
  readonly context: TraceContext;
  /** @internal */ readonly _name: string;
  /** @internal */ readonly _kind: SpanKind | undefined;
  /** @internal */ readonly _timestamp: number;
  /** @internal */ readonly _duration: number;
  /** @internal */ readonly _tags: Record<string, string> | undefined;
  /** @internal */ readonly _annotations: ZipkinAnnotation[] | undefined;
  /** @internal */ readonly _remote: Endpoint | undefined;
  /** @internal */ readonly _droppedTags: number;
  /** @internal */ readonly _droppedAnnotations: number;
}

/**
 * A finished span as a Zipkin v2 object. Optional fields are left out, never
 * null; what the limits dropped is said in `ziptrace.dropped_*` tags.
 */
export function toZipkinSpan(span: FinishedSpan, localEndpoint: Endpoint): ZipkinSpan {
  const context = span.context;
  const out: ZipkinSpan = { traceId: context.traceId, id: context.spanId };
  if (context.parentId !== undefined) out.parentId = context.parentId;
  if (span._name.length > 0) out.name = span._name;
  if (span._kind !== undefined) out.kind = span._kind;
  out.timestamp = span._timestamp;
  out.duration = span._duration;
  out.localEndpoint = localEndpoint;
  if (span._remote !== undefined) out.remoteEndpoint = span._remote;
  if (span._annotations !== undefined && span._annotations.length > 0) out.annotations = span._annotations;
  const tags = reportedTags(span);
  if (tags !== undefined) out.tags = tags;
  if (context.debug) out.debug = true;
  if (context.shared) out.shared = true;
  return out;
}

/** The span's tags as reported: with `ziptrace.dropped_*` counts (on a copy) when the limits dropped something. */
export function reportedTags(span: FinishedSpan): Record<string, string> | undefined {
  if (span._droppedTags === 0 && span._droppedAnnotations === 0) return span._tags;
  const tags = copyTags(span._tags);
  if (span._droppedTags > 0) tags['ziptrace.dropped_tags'] = String(span._droppedTags);
  if (span._droppedAnnotations > 0) tags['ziptrace.dropped_annotations'] = String(span._droppedAnnotations);
  return tags;
}

/** A copy of a span's tags that keeps a "__proto__" key a key. */
function copyTags(tags: Record<string, string> | undefined): Record<string, string> {
  const copy: Record<string, string> = {};
  if (tags !== undefined) for (const key of Object.keys(tags)) Object.defineProperty(copy, key, { value: tags[key], enumerable: true, writable: true, configurable: true });
  return copy;
}

/** A list of Zipkin v2 spans as the JSON body of `POST /api/v2/spans`. */
export function encodeSpans(spans: readonly ZipkinSpan[]): string {
  let out = '[';
  for (let i = 0; i < spans.length; i++) out += (i === 0 ? '' : ',') + encodeSpan(spans[i]!);
  return out + ']';
}

/*
 * One span as JSON, written out field by field. JSON.stringify was a third of
 * a sampled span's whole cost: most of that went on turning the 16-digit
 * timestamps into text and on the same localEndpoint every time. Here a
 * timestamp is the current second's digits (cached) plus six digits of
 * microseconds, a frozen endpoint is encoded once, and strings without
 * anything to escape are quoted as they are. Anything unusual (a string that
 * needs escaping, a number that is not a safe integer) goes through
 * JSON.stringify, so the output is what JSON.stringify would give for the
 * Zipkin v2 fields, in the same order.
 */

let cachedSecond = -1;
let cachedSecondText = '';

/** A timestamp in microseconds as JSON (`JSON.stringify`'s digits). */
export function micros(value: number): string {
  if (!Number.isSafeInteger(value) || value < 1_000_000) return JSON.stringify(value) ?? 'null';
  const second = Math.floor(value / 1_000_000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedSecondText = String(second);
  }
  const rest = value - second * 1_000_000;
  const pad = rest >= 100_000 ? '' : rest >= 10_000 ? '0' : rest >= 1_000 ? '00' : rest >= 100 ? '000' : rest >= 10 ? '0000' : '00000';
  return cachedSecondText + pad + rest;
}

/** A whole number as JSON (`JSON.stringify`'s digits). */
export function int(value: number): string {
  return Number.isSafeInteger(value) ? '' + value : (JSON.stringify(value) ?? 'null');
}

const frozenEndpoints = new WeakMap<object, string>();

/** An endpoint as JSON, a frozen one remembered. */
export function endpoint(value: Endpoint): string {
  // Only a frozen endpoint (the tracer's own, a server socket's) can be remembered: any other may change.
  if (!Object.isFrozen(value)) return endpointJson(value);
  let text = frozenEndpoints.get(value);
  if (text === undefined) frozenEndpoints.set(value, (text = JSON.stringify(value)));
  return text;
}

/**
 * An endpoint as JSON.stringify writes it, by hand for a plain object of the
 * usual fields (strings, a safe-integer port), in its own key order: a client
 * span's remote endpoint, or a server span's forwarded one, is made for its
 * request, and JSON.stringify of it was the dearest part of encoding such a
 * span. Anything else goes through JSON.stringify.
 */
function endpointJson(value: Endpoint): string {
  const proto = Object.getPrototypeOf(value) as unknown;
  if ((proto !== Object.prototype && proto !== null) || typeof (value as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(value);
  const fields = value as Record<string, unknown>;
  let out = '{';
  // for-in also visits inherited enumerable keys: one (a polluted prototype's) is not a field, so JSON.stringify decides.
  for (const key in fields) {
    const field = fields[key];
    let text: string;
    if (field === undefined) continue;
    if (key === 'port') {
      if (typeof field !== 'number' || !Number.isSafeInteger(field)) return JSON.stringify(value);
      text = '"port":' + field;
    } else if (key === 'serviceName' || key === 'ipv4' || key === 'ipv6') {
      if (typeof field !== 'string') return JSON.stringify(value);
      text = '"' + key + '":' + quote(field);
    } else return JSON.stringify(value);
    out += out.length === 1 ? text : ',' + text;
  }
  return out + '}';
}

/**
 * A function that gives `make(text)` for a text, remembering the recent ones:
 * a service uses a few span names and tag keys over and over. Names and keys
 * come from code almost always; the bound (cleared when full) keeps a service
 * that makes them from data (spans named by URL) from growing it.
 */
export function remembered<T>(make: (text: string) => T, max = 512): (text: string) => T {
  const parts = new Map<string, T>();
  return (text) => {
    let part = parts.get(text);
    if (part === undefined) {
      if (parts.size >= max) parts.clear();
      part = make(text);
      parts.set(text, part);
    }
    return part;
  };
}

/** `"key":` of a tag key. */
const keyPart = remembered((key) => quote(key) + ':');

/** A tags object as JSON (`JSON.stringify`'s text). */
export function stringMap(map: Record<string, string>): string {
  let out = '{';
  let first = true;
  // Own keys only, as JSON.stringify does; a null-prototype map has no others.
  const keys = Object.getPrototypeOf(map) === null ? undefined : Object.keys(map);
  if (keys === undefined) {
    for (const key in map) {
      const value = map[key];
      if (typeof value !== 'string') return JSON.stringify(map);
      out += (first ? '' : ',') + keyPart(key) + quote(value);
      first = false;
    }
  } else {
    for (const key of keys) {
      const value = map[key];
      if (typeof value !== 'string') return JSON.stringify(map);
      out += (first ? '' : ',') + keyPart(key) + quote(value);
      first = false;
    }
  }
  return out + '}';
}

/** The `,"localEndpoint":{...}` part of every span a tracer reports: encoded once per tracer. */
export function localEndpointPart(localEndpoint: Endpoint): string {
  return ',"localEndpoint":' + JSON.stringify(localEndpoint);
}

/** `,"name":"..."` of a span name. */
const namePart = remembered((name) => ',"name":' + quote(name));

/**
 * A finished span straight to Zipkin v2 JSON, without the intermediate
 * object: exactly `encodeSpan(toZipkinSpan(span, localEndpoint))`, where
 * `endpointPart` is `localEndpointPart(localEndpoint)`. The tracer calls it
 * for reporters that only want the bytes (`Reporter.reportJson`). Its ids are
 * the tracer's own, checked hex, so they need no quoting rules.
 */
export function encodeFinishedSpan(span: FinishedSpan, endpointPart: string): string {
  const context = span.context;
  let out = context.parentId === undefined
    ? '{"traceId":"' + context.traceId + '","id":"' + context.spanId + '"'
    : '{"traceId":"' + context.traceId + '","id":"' + context.spanId + '","parentId":"' + context.parentId + '"';
  if (span._name.length > 0) out += namePart(span._name);
  if (span._kind !== undefined) out += ',"kind":"' + span._kind + '"';
  out += ',"timestamp":' + micros(span._timestamp) + ',"duration":' + int(span._duration) + endpointPart;
  if (span._remote !== undefined) out += ',"remoteEndpoint":' + endpoint(span._remote);
  const annotations = span._annotations;
  if (annotations !== undefined && annotations.length > 0) {
    out += ',"annotations":[';
    for (let i = 0; i < annotations.length; i++) {
      const a = annotations[i]!;
      out += (i === 0 ? '{"timestamp":' : ',{"timestamp":') + micros(a.timestamp) + ',"value":' + quote(a.value) + '}';
    }
    out += ']';
  }
  const tags = reportedTags(span);
  if (tags !== undefined) out += ',"tags":' + stringMap(tags);
  if (context.debug) out += ',"debug":true';
  if (context.shared) out += ',"shared":true';
  return out + '}';
}

/** One Zipkin v2 span as JSON. */
export function encodeSpan(span: ZipkinSpan): string {
  if (typeof span.traceId !== 'string' || typeof span.id !== 'string') return JSON.stringify(span);
  let out = '{"traceId":' + quote(span.traceId) + ',"id":' + quote(span.id);
  if (typeof span.parentId === 'string') out += ',"parentId":' + quote(span.parentId);
  else if (span.parentId !== undefined) return JSON.stringify(span);
  if (typeof span.name === 'string') out += ',"name":' + quote(span.name);
  else if (span.name !== undefined) return JSON.stringify(span);
  if (typeof span.kind === 'string') out += ',"kind":' + quote(span.kind);
  else if (span.kind !== undefined) return JSON.stringify(span);
  if (typeof span.timestamp === 'number') out += ',"timestamp":' + micros(span.timestamp);
  else if (span.timestamp !== undefined) return JSON.stringify(span);
  if (typeof span.duration === 'number') out += ',"duration":' + int(span.duration);
  else if (span.duration !== undefined) return JSON.stringify(span);
  if (span.localEndpoint !== undefined) out += ',"localEndpoint":' + endpoint(span.localEndpoint);
  if (span.remoteEndpoint !== undefined) out += ',"remoteEndpoint":' + endpoint(span.remoteEndpoint);
  const annotations = span.annotations;
  if (annotations !== undefined) {
    if (!Array.isArray(annotations)) return JSON.stringify(span);
    out += ',"annotations":[';
    for (let i = 0; i < annotations.length; i++) {
      const a = annotations[i]!;
      if (typeof a.timestamp !== 'number' || typeof a.value !== 'string') return JSON.stringify(span);
      out += (i === 0 ? '{"timestamp":' : ',{"timestamp":') + micros(a.timestamp) + ',"value":' + quote(a.value) + '}';
    }
    out += ']';
  }
  if (span.tags !== undefined) out += ',"tags":' + stringMap(span.tags);
  if (span.debug !== undefined) out += ',"debug":' + JSON.stringify(span.debug);
  if (span.shared !== undefined) out += ',"shared":' + JSON.stringify(span.shared);
  return out + '}';
}
