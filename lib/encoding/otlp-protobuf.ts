/**
 * A batch of spans as the protobuf body of OTLP/HTTP `POST /v1/traces`: an
 * `opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest`, written
 * by hand (varints, length-delimited fields, fixed64 times) so that ziptrace
 * needs no protobuf library. What each Zipkin field becomes is decided in
 * otlp-span.ts; this module only puts it in the wire format.
 *
 * Two passes over the mapped spans: the first measures (every string's UTF-8
 * length and every nested message's size, in the order the second pass will
 * want them, on a "tape" of numbers), so the body is one buffer of exactly
 * the right size, written front to back by the second without measuring
 * anything again. The passes mirror each other function by function; the
 * specs decode what they make with protobufjs' generated OTLP code.
 *
 * Field numbers, from opentelemetry-proto (trace/v1/trace.proto,
 * common/v1/common.proto, resource/v1/resource.proto, collector/trace/v1/trace_service.proto):
 *   ExportTraceServiceRequest  1 resource_spans
 *   ResourceSpans              1 resource, 2 scope_spans
 *   Resource                   1 attributes
 *   ScopeSpans                 1 scope, 2 spans
 *   InstrumentationScope       1 name, 2 version
 *   Span                       1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind,
 *                              7 start_time_unix_nano (fixed64), 8 end_time_unix_nano (fixed64),
 *                              9 attributes, 10 dropped_attributes_count, 11 events,
 *                              12 dropped_events_count, 15 status
 *   Span.Event                 1 time_unix_nano (fixed64), 2 name
 *   Status                     2 message, 3 code
 *   KeyValue                   1 key, 2 value
 *   AnyValue                   1 string_value, 2 bool_value, 3 int_value
 */
import type { ZipkinSpan } from '../types.js';
import { eventMicros, eventName, nanosWords, SCOPE_NAME, SCOPE_VERSION, tagText, toOtlpResources, type OtlpExtraAttribute, type OtlpResource, type OtlpSpan } from './otlp-span.js';

/** `Content-Type` of the body {@link encodeOtlpProtobuf} makes. */
export const OTLP_PROTOBUF_CONTENT_TYPE = 'application/x-protobuf';

// A field's key byte: (field number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited). All fields here are below 16: one byte.
const LEN = 2;
const VARINT = 0;
const I64 = 1;
const key = (field: number, wire: number): number => (field << 3) | wire;

const SERVICE_NAME = 'service.name';

/*
 * The pass state. Encoding is synchronous and never reentrant, so one tape
 * and one cursor serve every call; the tape is emptied after each.
 */
const tape: number[] = [];
let cursor = 0;
let out: Buffer = Buffer.alloc(0);
let pos = 0;
const words = new Uint32Array(2);

/**
 * The spans as one `ExportTraceServiceRequest`: a ResourceSpans per service
 * name (its `service.name` resource attribute), each with one ScopeSpans
 * (scope `ziptrace` and its version). Never throws on a span of odd shape.
 */
export function encodeOtlpProtobuf(spans: readonly ZipkinSpan[]): Buffer {
  return writeRequest(toOtlpResources(spans));
}

/** The request for spans already mapped and grouped (see otlp-span.ts). */
export function writeRequest(resources: readonly OtlpResource[]): Buffer {
  tape.length = 0;
  let size = 0;
  for (const resource of resources) {
    const slot = reserve();
    const resourceSpansSize = sizeResourceSpans(resource);
    tape[slot] = resourceSpansSize;
    size += field(resourceSpansSize);
  }
  out = Buffer.allocUnsafe(size);
  pos = 0;
  cursor = 0;
  try {
    for (const resource of resources) writeResourceSpans(resource);
  } finally {
    tape.length = 0;
  }
  const body = out;
  out = Buffer.alloc(0);
  return body;
}

// ---- measuring: each function returns its message's size, and puts on the tape what the writer will need, in its order.

/** Reserves a place on the tape for a nested message's size, filled in once its fields are measured. */
function reserve(): number {
  tape.push(0);
  return tape.length - 1;
}

/** A length-delimited field of `size` bytes: its key, its length, itself. */
function field(size: number): number {
  return 1 + varintSize(size) + size;
}

function stringSize(text: string): number {
  const bytes = Buffer.byteLength(text, 'utf8');
  tape.push(bytes);
  return field(bytes);
}

function sizeResourceSpans(resource: OtlpResource): number {
  const resourceSlot = reserve();
  const resourceSize = field(sizeStringKeyValue(SERVICE_NAME, resource.serviceName));
  tape[resourceSlot] = resourceSize;
  const scopeSpansSlot = reserve();
  let scopeSpansSize = field(SCOPE.length);
  for (const span of resource.spans) scopeSpansSize += field(sizeSpan(span));
  tape[scopeSpansSlot] = scopeSpansSize;
  return field(resourceSize) + field(scopeSpansSize);
}

/** A KeyValue with a string value (its slot reserved here): the KeyValue's size. */
function sizeStringKeyValue(name: string, value: string): number {
  const slot = reserve();
  let size = stringSize(name);
  const valueSlot = reserve();
  const valueSize = stringSize(value);
  tape[valueSlot] = valueSize;
  size += field(valueSize);
  tape[slot] = size;
  return size;
}

function sizeExtra(attribute: OtlpExtraAttribute): number {
  const slot = reserve();
  let size = stringSize(attribute.key);
  const value = attribute.value;
  // AnyValue: a string, a varint int_value or a one-byte bool_value.
  const valueSize = typeof value === 'string' ? stringSize(value) : typeof value === 'number' ? 1 + varintSize(value) : 2;
  size += field(valueSize);
  tape[slot] = size;
  return size;
}

function sizeSpan(span: OtlpSpan): number {
  const slot = reserve();
  // trace_id, span_id, kind, start and end are always written.
  let size = 18 + 10 + 2 + 9 + 9;
  if (span.parentSpanId !== undefined) size += 10;
  if (span.name.length > 0) size += stringSize(span.name);
  const tags = span.tags;
  for (const name of span.tagKeys) size += field(sizeStringKeyValue(name, tagText(tags![name])));
  const extra = span.extra;
  if (extra !== undefined) for (const attribute of extra) size += field(sizeExtra(attribute));
  if (span.droppedAttributes > 0) size += 1 + varintSize(span.droppedAttributes);
  const events = span.events;
  if (events !== undefined) {
    for (const event of events) {
      const eventSlot = reserve();
      const name = eventName(event);
      const eventSize = 9 + (name.length > 0 ? stringSize(name) : 0);
      tape[eventSlot] = eventSize;
      size += field(eventSize);
    }
  }
  if (span.droppedEvents > 0) size += 1 + varintSize(span.droppedEvents);
  if (span.statusCode !== 0) {
    const statusSlot = reserve();
    const statusSize = (span.statusMessage.length > 0 ? stringSize(span.statusMessage) : 0) + 1 + varintSize(span.statusCode);
    tape[statusSlot] = statusSize;
    size += field(statusSize);
  }
  tape[slot] = size;
  return size;
}

/** Bytes of `value` as a varint: whole numbers up to 2^32 - 1 (lengths, counts, ports, enums). */
function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x20_0000 ? 3 : value < 0x1000_0000 ? 4 : 5;
}

// ---- writing: the same walk, taking the sizes off the tape.

function writeResourceSpans(resource: OtlpResource): void {
  writeLength(key(1, LEN));
  writeLength(key(1, LEN));
  writeStringKeyValue(key(1, LEN), SERVICE_NAME, resource.serviceName);
  writeLength(key(2, LEN));
  out[pos++] = key(1, LEN);
  writeVarint(SCOPE.length);
  SCOPE.copy(out, pos);
  pos += SCOPE.length;
  for (const span of resource.spans) writeSpan(span);
}

/** A KeyValue with a string value, as field `fieldKey` (Resource's attributes are field 1, Span's 9). */
function writeStringKeyValue(fieldKey: number, name: string, value: string): void {
  writeLength(fieldKey);
  writeString(key(1, LEN), name);
  writeLength(key(2, LEN));
  writeString(key(1, LEN), value);
}

function writeExtra(attribute: OtlpExtraAttribute): void {
  writeLength(key(9, LEN));
  writeString(key(1, LEN), attribute.key);
  const value = attribute.value;
  out[pos++] = key(2, LEN);
  if (typeof value === 'string') {
    writeVarint(field(tape[cursor]!));
    writeString(key(1, LEN), value);
  } else if (typeof value === 'number') {
    writeVarint(1 + varintSize(value));
    out[pos++] = key(3, VARINT);
    writeVarint(value);
  } else {
    out[pos++] = 2;
    out[pos++] = key(2, VARINT);
    out[pos++] = value ? 1 : 0;
  }
}

function writeSpan(span: OtlpSpan): void {
  writeLength(key(2, LEN));
  writeHex(key(1, LEN), span.traceId);
  writeHex(key(2, LEN), span.spanId);
  if (span.parentSpanId !== undefined) writeHex(key(4, LEN), span.parentSpanId);
  if (span.name.length > 0) writeString(key(5, LEN), span.name);
  out[pos++] = key(6, VARINT);
  out[pos++] = span.kind;
  writeNanos(key(7, I64), span.startMicros, 0);
  writeNanos(key(8, I64), span.startMicros, span.durationMicros);
  const tags = span.tags;
  for (const name of span.tagKeys) writeStringKeyValue(key(9, LEN), name, tagText(tags![name]));
  const extra = span.extra;
  if (extra !== undefined) for (const attribute of extra) writeExtra(attribute);
  if (span.droppedAttributes > 0) {
    out[pos++] = key(10, VARINT);
    writeVarint(span.droppedAttributes);
  }
  const events = span.events;
  if (events !== undefined) {
    for (const event of events) {
      writeLength(key(11, LEN));
      writeNanos(key(1, I64), eventMicros(event), 0);
      const name = eventName(event);
      if (name.length > 0) writeString(key(2, LEN), name);
    }
  }
  if (span.droppedEvents > 0) {
    out[pos++] = key(12, VARINT);
    writeVarint(span.droppedEvents);
  }
  if (span.statusCode !== 0) {
    writeLength(key(15, LEN));
    if (span.statusMessage.length > 0) writeString(key(2, LEN), span.statusMessage);
    out[pos++] = key(3, VARINT);
    writeVarint(span.statusCode);
  }
}

/** A nested message's key and its length, the next size on the tape. */
function writeLength(fieldKey: number): void {
  out[pos++] = fieldKey;
  writeVarint(tape[cursor++]!);
}

/** A string field: its key, its UTF-8 length (the next on the tape), its bytes. */
function writeString(fieldKey: number, text: string): void {
  const bytes = tape[cursor++]!;
  out[pos++] = fieldKey;
  writeVarint(bytes);
  pos += out.write(text, pos, bytes, 'utf8');
}

/** A bytes field from lower-case hex (an id: 16 or 8 bytes). */
function writeHex(fieldKey: number, hex: string): void {
  const bytes = hex.length >> 1;
  out[pos++] = fieldKey;
  out[pos++] = bytes;
  for (let i = 0; i < bytes; i++) out[pos++] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1));
}

/** A hex digit's value; 0 for anything else (the reporter refuses such ids before they get here). */
function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return 0;
}

/** A fixed64 field of `(a + b) × 1000` nanoseconds, little-endian. */
function writeNanos(fieldKey: number, a: number, b: number): void {
  out[pos++] = fieldKey;
  nanosWords(a, b, words);
  out.writeUInt32LE(words[0]!, pos);
  out.writeUInt32LE(words[1]!, pos + 4);
  pos += 8;
}

function writeVarint(value: number): void {
  // Values stay below 2^32: `>>> 7` is exact for them.
  while (value >= 0x80) {
    out[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[pos++] = value;
}

/** The InstrumentationScope message, the same in every request: made once. */
const SCOPE: Buffer = (() => {
  const name = Buffer.from(SCOPE_NAME, 'utf8');
  const version = Buffer.from(SCOPE_VERSION, 'utf8');
  return Buffer.concat([Buffer.from([key(1, LEN), name.length]), name, Buffer.from([key(2, LEN), version.length]), version]);
})();
