/**
 * A batch of spans as the OTLP/JSON body of OTLP/HTTP `POST /v1/traces`: the
 * `ExportTraceServiceRequest` in the protobuf JSON mapping as OTLP specifies
 * it: lowerCamelCase field names, enums as integers, 64-bit integers as
 * decimal strings, and (OTLP's one exception to the mapping) trace and span
 * ids as hex strings rather than base64. What each Zipkin field becomes is
 * decided in otlp-span.ts; this module only writes it out, in the same field
 * order as the protobuf writer (otlp-protobuf.ts).
 */
import type { ZipkinSpan } from '../types.js';
import { quote } from './json-string.js';
import { eventMicros, eventName, nanosText, SCOPE_NAME, SCOPE_VERSION, tagText, toOtlpResources, type OtlpExtraAttribute, type OtlpResource, type OtlpSpan } from './otlp-span.js';

/** `Content-Type` of the body {@link encodeOtlpJson} makes. */
export const OTLP_JSON_CONTENT_TYPE = 'application/json';

/** The scope part, the same in every request: made once. */
const SCOPE = '"scope":{"name":' + quote(SCOPE_NAME) + ',"version":' + quote(SCOPE_VERSION) + '}';

/**
 * The spans as one OTLP/JSON `ExportTraceServiceRequest`: a ResourceSpans per
 * service name (its `service.name` resource attribute), each with one
 * ScopeSpans (scope `ziptrace` and its version). Never throws on a span of odd shape.
 */
export function encodeOtlpJson(spans: readonly ZipkinSpan[]): string {
  return writeRequestJson(toOtlpResources(spans));
}

/** The request for spans already mapped and grouped (see otlp-span.ts). */
export function writeRequestJson(resources: readonly OtlpResource[]): string {
  let out = '{"resourceSpans":[';
  for (let r = 0; r < resources.length; r++) {
    const resource = resources[r]!;
    out += (r === 0 ? '' : ',') + '{"resource":{"attributes":[' + stringAttribute('service.name', resource.serviceName) + ']},"scopeSpans":[{' + SCOPE + ',"spans":[';
    const spans = resource.spans;
    for (let i = 0; i < spans.length; i++) out += (i === 0 ? '' : ',') + span(spans[i]!);
    out += ']}]}';
  }
  return out + ']}';
}

function span(s: OtlpSpan): string {
  let out = '{"traceId":"' + s.traceId + '","spanId":"' + s.spanId + '"';
  if (s.parentSpanId !== undefined) out += ',"parentSpanId":"' + s.parentSpanId + '"';
  if (s.name.length > 0) out += ',"name":' + quote(s.name);
  out += ',"kind":' + s.kind + ',"startTimeUnixNano":"' + nanosText(s.startMicros, 0) + '","endTimeUnixNano":"' + nanosText(s.startMicros, s.durationMicros) + '"';
  const keys = s.tagKeys;
  const extra = s.extra;
  if (keys.length > 0 || extra !== undefined) {
    out += ',"attributes":[';
    let first = true;
    const tags = s.tags;
    for (const key of keys) {
      out += (first ? '' : ',') + stringAttribute(key, tagText(tags![key]));
      first = false;
    }
    if (extra !== undefined) {
      for (const attribute of extra) {
        out += (first ? '' : ',') + extraAttribute(attribute);
        first = false;
      }
    }
    out += ']';
  }
  if (s.droppedAttributes > 0) out += ',"droppedAttributesCount":' + s.droppedAttributes;
  const events = s.events;
  if (events !== undefined) {
    out += ',"events":[';
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const name = eventName(event);
      out += (i === 0 ? '{"timeUnixNano":"' : ',{"timeUnixNano":"') + nanosText(eventMicros(event), 0) + '"' + (name.length > 0 ? ',"name":' + quote(name) : '') + '}';
    }
    out += ']';
  }
  if (s.droppedEvents > 0) out += ',"droppedEventsCount":' + s.droppedEvents;
  if (s.statusCode !== 0) out += ',"status":{' + (s.statusMessage.length > 0 ? '"message":' + quote(s.statusMessage) + ',' : '') + '"code":' + s.statusCode + '}';
  return out + '}';
}

function stringAttribute(key: string, value: string): string {
  return '{"key":' + quote(key) + ',"value":{"stringValue":' + quote(value) + '}}';
}

function extraAttribute(attribute: OtlpExtraAttribute): string {
  const value = attribute.value;
  // int64 values are strings in the JSON mapping; bools are JSON bools.
  const any = typeof value === 'string' ? '{"stringValue":' + quote(value) + '}' : typeof value === 'number' ? '{"intValue":"' + value + '"}' : '{"boolValue":' + value + '}';
  return '{"key":' + quote(attribute.key) + ',"value":' + any + '}';
}
