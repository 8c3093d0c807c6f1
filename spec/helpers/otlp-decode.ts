/**
 * Reads OTLP trace requests back, for the specs, with code that is not
 * ziptrace's: the protobuf body with the message classes protobufjs generated
 * from opentelemetry-proto (the ones @opentelemetry/otlp-transformer ships
 * and the OpenTelemetry JS exporters encode with), and the OTLP/JSON body by
 * the same classes' `fromObject` once its hex ids are made base64 (OTLP/JSON
 * differs from protobuf's JSON mapping there only). Either way the request is
 * flattened to one record per span, with its resource and scope, ids in hex
 * and 64-bit numbers as decimal strings, so a spec compares plain values.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The generated message class this helper needs: decode, build from a plain object, and back. */
interface MessageClass {
  decode(body: Uint8Array): unknown;
  fromObject(object: unknown): unknown;
  encode(message: unknown): { finish(): Uint8Array };
  toObject(message: unknown, options: Record<string, unknown>): unknown;
}

const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: MessageClass; ExportTraceServiceResponse: MessageClass } } } } };
};

/** `opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest`, as protobufjs generated it. */
export const ExportTraceServiceRequest: MessageClass = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
/** `…ExportTraceServiceResponse`, for a receiver's answer. */
export const ExportTraceServiceResponse: MessageClass = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;

/** An attribute's value as OTLP's AnyValue has it (64-bit ints as decimal strings). */
export type AnyValue = { stringValue: string } | { intValue: string } | { boolValue: boolean } | Record<string, unknown>;

/** One span of a decoded request, with the resource and scope it came under. */
export interface DecodedSpan {
  /** The resource's `service.name`. */
  serviceName: string;
  /** Every resource attribute. */
  resourceAttributes: { key: string; value: AnyValue }[];
  scope: { name: string; version: string };
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: AnyValue }[];
  droppedAttributesCount: number;
  events: { timeUnixNano: string; name: string; attributes: unknown[] }[];
  droppedEventsCount: number;
  links: unknown[];
  /** Absent (unset) or the status. */
  status: { code: number; message: string } | null;
  flags: number;
}

const TO_OBJECT = { longs: String, enums: Number, bytes: String, defaults: true, arrays: true, oneofs: true };

/** A protobuf `ExportTraceServiceRequest` body, decoded and flattened. Throws when it does not decode. */
export function decodeProtobuf(body: Uint8Array): DecodedSpan[] {
  return flatten(ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), TO_OBJECT));
}

/**
 * An OTLP/JSON body, read by the generated classes: its ids (hex in OTLP/JSON)
 * turned to base64 (what protobuf's JSON mapping has for bytes), its times
 * checked to be decimal text, built with `fromObject`, then flattened as a
 * decoded protobuf body is. Throws on a body that is no JSON or breaks those rules.
 */
export function decodeJson(text: string): DecodedSpan[] {
  const json = JSON.parse(text) as { resourceSpans?: { scopeSpans?: { spans?: Record<string, unknown>[] }[] }[] };
  for (const resource of json.resourceSpans ?? []) {
    for (const scope of resource.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        // fromObject would take a number (and lose digits) or ignore a misspelt name: the JSON mapping's int64 is a decimal string.
        const times = [span.startTimeUnixNano, span.endTimeUnixNano, ...((span.events as { timeUnixNano?: unknown }[] | undefined) ?? []).map((e) => e.timeUnixNano)];
        for (const time of times) if (typeof time !== 'string' || !/^(0|[1-9]\d*)$/.test(time)) throw new Error(`a time is not an int64 in decimal text: ${JSON.stringify(time)}`);
        for (const id of ['traceId', 'spanId', 'parentSpanId']) {
          const hex = span[id];
          if (hex === undefined) continue;
          if (typeof hex !== 'string' || !/^([0-9a-f]{2})*$/.test(hex)) throw new Error(`${id} is not lower-case hex: ${JSON.stringify(hex)}`);
          span[id] = Buffer.from(hex, 'hex').toString('base64');
        }
      }
    }
  }
  // Through the wire: fromObject takes the JSON mapping's decimal int64 strings, and encode/decode makes them the unsigned fixed64 they are.
  const message = ExportTraceServiceRequest.fromObject(json);
  return flatten(ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(ExportTraceServiceRequest.encode(message).finish()), TO_OBJECT));
}

/** A body by its content type: protobuf for `application/x-protobuf`, else OTLP/JSON. */
export function decodeRequest(body: Buffer, contentType: string | undefined): DecodedSpan[] {
  return contentType === 'application/x-protobuf' ? decodeProtobuf(body) : decodeJson(body.toString('utf8'));
}

function hex(base64: string): string {
  return Buffer.from(base64, 'base64').toString('hex');
}

interface RawRequest {
  resourceSpans: {
    resource: { attributes: { key: string; value: AnyValue }[] } | null;
    scopeSpans: { scope: { name: string; version: string } | null; spans: (Omit<DecodedSpan, 'serviceName' | 'resourceAttributes' | 'scope'> & { flags: number })[] }[];
  }[];
}

function flatten(object: unknown): DecodedSpan[] {
  const request = object as RawRequest;
  const out: DecodedSpan[] = [];
  for (const resourceSpans of request.resourceSpans) {
    const resourceAttributes = (resourceSpans.resource?.attributes ?? []).map(({ key, value }) => ({ key, value: anyValue(value) }));
    const serviceName = resourceAttributes.find((a) => a.key === 'service.name')?.value;
    for (const scopeSpans of resourceSpans.scopeSpans) {
      for (const span of scopeSpans.spans) {
        out.push({
          ...span,
          serviceName: (serviceName as { stringValue?: string } | undefined)?.stringValue ?? '',
          resourceAttributes,
          scope: { name: scopeSpans.scope?.name ?? '', version: scopeSpans.scope?.version ?? '' },
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: hex(span.parentSpanId),
          attributes: span.attributes.map(({ key, value }) => ({ key, value: anyValue(value) })),
          events: span.events.map((e) => ({ timeUnixNano: e.timeUnixNano, name: e.name, attributes: e.attributes })),
        });
      }
    }
  }
  return out;
}

/** An AnyValue as toObject gives it with `oneofs` on: only the member its oneof (`value`) names. */
function anyValue(value: AnyValue): AnyValue {
  const v = value as Record<string, unknown> & { value?: string };
  for (const name of ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue']) {
    if (v.value === name) return { [name]: v[name] };
  }
  return v;
}
