/**
 * The mapping from Zipkin v2 spans to OTLP's trace model, shared by the two
 * OTLP writers (otlp-protobuf.ts, otlp-json.ts): one function turns a batch
 * of ZipkinSpan objects into resources (one per service name), each holding
 * OtlpSpan records that a writer puts out field by field. Every decision of
 * the mapping is made here once, so the two wire forms cannot disagree.
 *
 * The records keep references to the span's own tags and annotations rather
 * than copies: a writer walks them directly. Only what OTLP has and Zipkin
 * has not (attributes made from the remote endpoint and the debug flag) is
 * allocated, and only for spans that have it.
 *
 * Mapping (see the README's OtlpReporter section):
 *   traceId               16 bytes; a 64-bit id is left-padded with zeros
 *   id, parentId          spanId, parentSpanId (8 bytes)
 *   kind                  SERVER 2, CLIENT 3, PRODUCER 4, CONSUMER 5; none INTERNAL 1
 *   timestamp, duration   startTimeUnixNano, endTimeUnixNano (µs × 1000, exact)
 *   tags                  string attributes, every one (`error` and `ziptrace.dropped_*` included)
 *   tags.error            status ERROR, its message the tag's value unless '' or 'true'
 *   annotations           events (time, name)
 *   remoteEndpoint        peer.service, network.peer.address (ipv4, else ipv6), network.peer.port (int)
 *   debug                 the bool attribute ziptrace.debug
 *   ziptrace.dropped_*    also droppedAttributesCount and droppedEventsCount
 *   localEndpoint         the resource's service.name (unknown_service without one)
 *   shared                nothing: OTLP has no span shared by two services
 */
import type { Endpoint, ZipkinAnnotation, ZipkinSpan } from '../types.js';

/** The instrumentation scope every span is reported under: this library. */
export const SCOPE_NAME = 'ziptrace';
/** ziptrace's version, as the scope's version (a spec keeps it equal to package.json's). */
export const SCOPE_VERSION = '0.1.0';

/** The service name OpenTelemetry gives a resource that has none. */
export const UNKNOWN_SERVICE = 'unknown_service';

/** OTLP's `Span.SpanKind` numbers. */
export const SpanKindNumber = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

/** OTLP's `Status.StatusCode.STATUS_CODE_ERROR`; unset (0) is left out. */
export const STATUS_CODE_ERROR = 2;

/** One attribute OTLP has and a Zipkin tag does not say: a string, a whole number or a flag. */
export interface OtlpExtraAttribute {
  /** The attribute's name (`peer.service`). */
  readonly key: string;
  /** A string (stringValue), a whole number (intValue) or a flag (boolValue). */
  readonly value: string | number | boolean;
}

/** One span as the writers put it out. Times are whole, non-negative microseconds. */
export interface OtlpSpan {
  /** 32 lower-case hex characters (a 64-bit trace id left-padded with zeros). */
  readonly traceId: string;
  /** 16 lower-case hex characters. */
  readonly spanId: string;
  /** 16 lower-case hex characters, or undefined for a root span. */
  readonly parentSpanId: string | undefined;
  /** The span's name; '' when it has none (OTLP then leaves the field out). */
  readonly name: string;
  /** A {@link SpanKindNumber}. */
  readonly kind: number;
  /** Start, epoch microseconds. */
  readonly startMicros: number;
  /** The duration in microseconds: the end is `startMicros + durationMicros` (its sum may pass 2^53; the writers keep it exact). */
  readonly durationMicros: number;
  /** The span's own tags, each a string attribute, as given (not copied); undefined for none. */
  readonly tags: Readonly<Record<string, unknown>> | undefined;
  /** The tags' keys, read once here for both the writers' passes. */
  readonly tagKeys: readonly string[];
  /** Attributes made from the remote endpoint and the debug flag; those a tag of the same key overrides are left out. */
  readonly extra: readonly OtlpExtraAttribute[] | undefined;
  /** The annotations, as given (not copied): each an event with its time and name. */
  readonly events: readonly ZipkinAnnotation[] | undefined;
  /** `ziptrace.dropped_tags`, as OTLP's dropped attributes count; 0 for none. */
  readonly droppedAttributes: number;
  /** `ziptrace.dropped_annotations`, as OTLP's dropped events count; 0 for none. */
  readonly droppedEvents: number;
  /** {@link STATUS_CODE_ERROR} for a span with an `error` tag, else 0 (unset). */
  readonly statusCode: number;
  /** The error's message: the `error` tag's value, unless it says no more than '' or 'true'. */
  readonly statusMessage: string;
}

/** The spans of one service: OTLP's ResourceSpans, with one ScopeSpans (ziptrace's). */
export interface OtlpResource {
  /** The resource's `service.name`. */
  readonly serviceName: string;
  /** Its spans, in the order they came. */
  readonly spans: OtlpSpan[];
}

const EMPTY_KEYS: readonly string[] = Object.freeze([]);
const ZEROS = '0000000000000000';

/**
 * Groups a batch of spans by their local endpoint's service name, each
 * mapped to an {@link OtlpSpan}, in the order the services first appear and
 * the spans came. Never throws on a span of odd shape (a span given to
 * `report()` by hand): what cannot be read is left out or taken as zero.
 */
export function toOtlpResources(spans: readonly ZipkinSpan[]): OtlpResource[] {
  const resources: OtlpResource[] = [];
  // Most batches are of one service: check the last resource before the map.
  let last: OtlpResource | undefined;
  let byName: Map<string, OtlpResource> | undefined;
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i]!;
    const serviceName = serviceNameOf(span.localEndpoint);
    let resource = last !== undefined && last.serviceName === serviceName ? last : byName?.get(serviceName);
    if (resource === undefined) {
      resource = { serviceName, spans: [] };
      resources.push(resource);
      (byName ??= new Map()).set(serviceName, resource);
    }
    resource.spans.push(toOtlpSpan(span));
    last = resource;
  }
  return resources;
}

/** One Zipkin v2 span in OTLP's terms (see the module's mapping table). */
export function toOtlpSpan(span: ZipkinSpan): OtlpSpan {
  const tags = isObject(span.tags) ? (span.tags as Readonly<Record<string, unknown>>) : undefined;
  const tagKeys = tags === undefined ? EMPTY_KEYS : Object.keys(tags);
  let statusCode = 0;
  let statusMessage = '';
  let droppedAttributes = 0;
  let droppedEvents = 0;
  if (tags !== undefined) {
    const error = ownValue(tags, 'error');
    if (error !== undefined) {
      statusCode = STATUS_CODE_ERROR;
      const text = tagText(error);
      // `error: 'true'` (or '') marks the span failed without saying how; OTLP's message is then better empty.
      statusMessage = text === 'true' ? '' : text;
    }
    droppedAttributes = count(ownValue(tags, 'ziptrace.dropped_tags'));
    droppedEvents = count(ownValue(tags, 'ziptrace.dropped_annotations'));
  }
  const annotations = Array.isArray(span.annotations) && span.annotations.length > 0 ? span.annotations : undefined;
  return {
    traceId: hexId(span.traceId, 32),
    spanId: hexId(span.id, 16),
    parentSpanId: span.parentId === undefined ? undefined : hexId(span.parentId, 16),
    name: typeof span.name === 'string' ? span.name : '',
    kind: kindNumber(span.kind),
    startMicros: micros(span.timestamp),
    durationMicros: micros(span.duration),
    tags,
    tagKeys,
    extra: extraAttributes(span, tags),
    events: annotations,
    droppedAttributes,
    droppedEvents,
    statusCode,
    statusMessage,
  };
}

function serviceNameOf(endpoint: Endpoint | undefined): string {
  const name = isObject(endpoint) ? endpoint.serviceName : undefined;
  return typeof name === 'string' && name.length > 0 ? name : UNKNOWN_SERVICE;
}

function kindNumber(kind: unknown): number {
  switch (kind) {
    case 'SERVER':
      return SpanKindNumber.SERVER;
    case 'CLIENT':
      return SpanKindNumber.CLIENT;
    case 'PRODUCER':
      return SpanKindNumber.PRODUCER;
    case 'CONSUMER':
      return SpanKindNumber.CONSUMER;
    default:
      return SpanKindNumber.INTERNAL;
  }
}

/**
 * Attributes for what Zipkin says outside its tags. The names are those of
 * the current OpenTelemetry semantic conventions (`network.peer.*` replaced
 * `net.peer.*`; `peer.service` is what the OpenTelemetry Zipkin exporter and
 * receiver use for the remote service). A tag of the same key wins: OTLP
 * wants each key once.
 */
function extraAttributes(span: ZipkinSpan, tags: Readonly<Record<string, unknown>> | undefined): OtlpExtraAttribute[] | undefined {
  const remote = span.remoteEndpoint;
  let extra: OtlpExtraAttribute[] | undefined;
  if (isObject(remote)) {
    if (typeof remote.serviceName === 'string' && remote.serviceName.length > 0) extra = add(extra, tags, 'peer.service', remote.serviceName);
    // One address attribute only: ipv4 when the endpoint has both (it is what Zipkin lists first).
    const address = typeof remote.ipv4 === 'string' && remote.ipv4.length > 0 ? remote.ipv4 : typeof remote.ipv6 === 'string' && remote.ipv6.length > 0 ? remote.ipv6 : undefined;
    if (address !== undefined) extra = add(extra, tags, 'network.peer.address', address);
    if (Number.isInteger(remote.port) && remote.port! > 0 && remote.port! <= 65535) extra = add(extra, tags, 'network.peer.port', remote.port!);
  }
  if (span.debug === true) extra = add(extra, tags, 'ziptrace.debug', true);
  return extra;
}

function add(extra: OtlpExtraAttribute[] | undefined, tags: Readonly<Record<string, unknown>> | undefined, key: string, value: string | number | boolean): OtlpExtraAttribute[] | undefined {
  if (tags !== undefined && Object.prototype.hasOwnProperty.call(tags, key)) return extra;
  (extra ??= []).push({ key, value });
  return extra;
}

/**
 * An id as `size` lower-case hex characters: a shorter one (a 64-bit trace
 * id) left-padded with zeros, as OTLP and W3C read a 64-bit Zipkin id. The
 * tracer's ids are already right; the reporter refuses others at `report()`.
 */
function hexId(id: unknown, size: 16 | 32): string {
  const text = typeof id === 'string' ? id.toLowerCase() : '';
  if (text.length === size) return text;
  if (text.length > size) return text.slice(text.length - size);
  return (ZEROS + ZEROS).slice(0, size - text.length) + text;
}

/** A time or duration as whole, non-negative microseconds: what is not one (absent, negative, past 2^53) is 0, a fraction is cut. */
function micros(value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0) || value > Number.MAX_SAFE_INTEGER) return 0;
  return Math.floor(value);
}

/** A `ziptrace.dropped_*` count as a uint32: 0 when it is not one. */
function count(value: unknown): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 && n <= 0xffff_ffff ? n : 0;
}

/** A tag's value as the text of its string attribute: tags are strings, but a span given by hand may hold another JSON value. */
export function tagText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** An annotation's event name: its value as text ('' for a malformed annotation). */
export function eventName(annotation: ZipkinAnnotation): string {
  return isObject(annotation) ? tagText(annotation.value) : '';
}

/** An annotation's time in whole microseconds (0 when it has none). */
export function eventMicros(annotation: ZipkinAnnotation): number {
  return isObject(annotation) ? micros(annotation.timestamp) : 0;
}

function ownValue(tags: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(tags, key) ? tags[key] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> & Endpoint {
  return value !== null && typeof value === 'object';
}

/**
 * The decimal text of `(a + b) × 1000` for whole microseconds `a` and `b`
 * (each below 2^53): OTLP/JSON's int64 nanoseconds, exact. The sum of two
 * such numbers can pass 2^53, where a double loses digits: BigInt then.
 */
export function nanosText(a: number, b: number): string {
  const sum = a + b;
  if (Number.isSafeInteger(sum)) return sum === 0 ? '0' : sum + '000';
  return String((BigInt(a) + BigInt(b)) * 1000n);
}

/**
 * `(a + b) × 1000` for whole microseconds `a` and `b` (each below 2^53) as
 * the low and high 32 bits of a uint64, exact: protobuf's fixed64 nanoseconds.
 * Up to 2 × (2^53 - 1) × 1000 < 2^64, so it always fits.
 */
export function nanosWords(a: number, b: number, out: Uint32Array): void {
  const sum = a + b;
  if (Number.isSafeInteger(sum)) {
    // Split arithmetic: sum = hi·2^32 + lo; lo·1000 < 2^42 and hi·1000 < 2^31 are exact as doubles.
    const hi = Math.floor(sum / 0x1_0000_0000);
    const lo = sum - hi * 0x1_0000_0000;
    const loNanos = lo * 1000;
    const carry = Math.floor(loNanos / 0x1_0000_0000);
    out[0] = loNanos - carry * 0x1_0000_0000;
    out[1] = hi * 1000 + carry;
    return;
  }
  const nanos = (BigInt(a) + BigInt(b)) * 1000n;
  out[0] = Number(nanos & 0xffff_ffffn);
  out[1] = Number(nanos >> 32n);
}
