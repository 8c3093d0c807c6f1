/**
 * ziptrace's own JSON Schema (draft-07) for Zipkin v2 spans: the body of
 * `POST /api/v2/spans` (a list of spans) and each span in it.
 *
 * Written by hand from Zipkin's API definition (openzipkin/zipkin-api:
 * `zipkin2-api.yaml`, Swagger 2, and `zipkin-jsonv2.proto`), so the specs
 * check every emitted span without a copy of that definition. Where
 * `../shared/zipkin-api/zipkin2-api.yaml` is beside the repository (as in CI),
 * spans are checked against the official definition too, and
 * `zipkin-v2-span.schema.spec.ts` checks that the two agree.
 *
 * Everything the official definition asks is here, as written there:
 *
 * - Span: `traceId` and `id` required; `traceId` 16 to 32 characters of
 *   `[a-f0-9]`, `id` and `parentId` 16; `kind` one of CLIENT, SERVER, PRODUCER,
 *   CONSUMER; `timestamp` and `duration` int64 integers, `duration` at least 1;
 *   `debug` and `shared` booleans; `annotations` an array of unique Annotation;
 *   `name` a string;
 * - Endpoint: `serviceName` a string, `ipv4` / `ipv6` strings of those formats,
 *   `port` an integer;
 * - Annotation: `timestamp` (int64 integer) and `value` (string) required;
 * - Tags: an object whose values are all strings (`additionalProperties:
 *   {type: string}`, as the official one has it).
 *
 * and, stricter than the definition, what ziptrace promises (marked
 * "ziptrace:" below):
 *
 * - ids are exactly 16 or 32 (trace) / 16 (span, parent) lower-case hex and
 *   not all zeros (the file's patterns are unanchored, so `zz…` padding passes
 *   there; Zipkin itself rejects an all-zero id);
 * - `timestamp` and `duration`, on spans and annotations, are whole
 *   microseconds from 1 to 2^53-1 (the file allows 0 and negative timestamps,
 *   and int64 values a double cannot hold exactly);
 * - `debug` and `shared` are `true` when present (ziptrace leaves them out otherwise);
 * - `name` and `serviceName` are non-empty when present; `port` is 1 to 65535
 *   (the file says "please don't set to zero"; the proto's int32 and Zipkin's
 *   servers do not take ports over 65535);
 * - Span, Endpoint and Annotation have only the properties the definition
 *   names (`additionalProperties: false`; the file allows any others).
 *
 * What JSON Schema cannot say (no property holding `undefined`, plain objects
 * only, no bigint) is checked beside it, in `zipkin-schema.ts`.
 *
 * Formats used: `int64`, `ipv4`, `ipv6` (the official definition's); a
 * validator must know them (see `zipkin-schema.ts`, which compiles this with
 * ajv in strict mode).
 */

/** The `$id` of {@link zipkinV2SpansSchema}; refs inside it are relative to it. */
export const ZIPKIN_V2_SPANS_SCHEMA_ID = 'urn:ziptrace:zipkin-v2-spans';

/** The span kinds, in the order the official definition lists them. */
export const SPAN_KINDS = ['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER'] as const;

/** ziptrace: the largest timestamp or duration a double holds exactly. */
const MAX_MICROS = Number.MAX_SAFE_INTEGER;

/** Epoch microseconds or a duration in microseconds: int64, as the definition has it, and ziptrace's 1 to 2^53-1. */
function micros(description: string) {
  return {
    type: 'integer',
    format: 'int64',
    minimum: 1, // ziptrace (the definition has it for duration only)
    maximum: MAX_MICROS, // ziptrace
    description,
  } as const;
}

/** A 16-character span id: the definition's length and alphabet, anchored, and not all zeros (ziptrace). */
function spanId(description: string) {
  return {
    type: 'string',
    minLength: 16,
    maxLength: 16,
    pattern: '^(?!0+$)[a-f0-9]{16}$',
    description,
  } as const;
}

/** The Zipkin v2 span list and its definitions, as one JSON Schema document. */
export const zipkinV2SpansSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: ZIPKIN_V2_SPANS_SCHEMA_ID,
  title: 'ListOfSpans',
  description: 'A list of spans with possibly different trace ids, in no particular order: the body of POST /api/v2/spans.',
  type: 'array',
  items: { $ref: '#/definitions/Span' },
  definitions: {
    Span: {
      title: 'Span',
      description: 'A single-host view of an operation, as ziptrace reports it.',
      type: 'object',
      required: ['traceId', 'id'],
      additionalProperties: false, // ziptrace
      properties: {
        traceId: {
          type: 'string',
          minLength: 16,
          maxLength: 32,
          // The definition: "[a-f0-9]{16,32}", unanchored. ziptrace: exactly 16 or 32, not all zeros.
          pattern: '^(?!0+$)(?:[a-f0-9]{16}|[a-f0-9]{32})$',
          description: 'Trace id: 16 or 32 lower-case hex characters (64 or 128 bits).',
        },
        name: {
          type: 'string',
          minLength: 1, // ziptrace: left out rather than empty
          description: 'The logical operation, lower-case; absent if unknown.',
        },
        parentId: spanId('The parent span id; absent on a root span.'),
        id: spanId('This span id: 16 lower-case hex characters.'),
        kind: {
          type: 'string',
          enum: [...SPAN_KINDS],
          description: 'Clarifies timestamp, duration and remoteEndpoint; absent for local or incomplete spans.',
        },
        timestamp: micros('Epoch microseconds of the start of this span.'),
        duration: micros('Duration in microseconds of the critical path.'),
        debug: {
          type: 'boolean',
          const: true, // ziptrace: true or absent
          description: 'A request to store this span even if it overrides sampling policy.',
        },
        shared: {
          type: 'boolean',
          const: true, // ziptrace: true or absent
          description: 'True if contributing to a span started by another tracer.',
        },
        localEndpoint: { $ref: '#/definitions/Endpoint' },
        remoteEndpoint: { $ref: '#/definitions/Endpoint' },
        annotations: {
          type: 'array',
          uniqueItems: true,
          items: { $ref: '#/definitions/Annotation' },
          description: 'Events that explain latency, with the time they happened.',
        },
        tags: { $ref: '#/definitions/Tags' },
      },
    },
    Endpoint: {
      title: 'Endpoint',
      description: 'The network context of a node in the service graph.',
      type: 'object',
      additionalProperties: false, // ziptrace
      properties: {
        serviceName: {
          type: 'string',
          minLength: 1, // ziptrace: left out rather than empty
          description: 'Lower-case label of this node in the service graph; absent if unknown.',
        },
        ipv4: { type: 'string', format: 'ipv4', description: 'The primary IPv4 address, as text.' },
        ipv6: { type: 'string', format: 'ipv6', description: 'The primary IPv6 address, as text.' },
        port: {
          type: 'integer',
          minimum: 1, // ziptrace: "please don't set to zero"
          maximum: 65535, // ziptrace
          description: 'A listen port or the client side of a socket; absent if unknown.',
        },
      },
    },
    Annotation: {
      title: 'Annotation',
      description: 'An event that explains latency, with a timestamp.',
      type: 'object',
      required: ['timestamp', 'value'],
      additionalProperties: false, // ziptrace
      properties: {
        timestamp: micros('Epoch microseconds of this event.'),
        value: { type: 'string', description: 'Usually a short code for the event, like "error".' },
      },
    },
    Tags: {
      title: 'Tags',
      description: 'Context for search, viewing and analysis: string keys to string values.',
      type: 'object',
      additionalProperties: { type: 'string' },
    },
  },
} as const;

/** The definitions' names, for `${ZIPKIN_V2_SPANS_SCHEMA_ID}#/definitions/<name>`. */
export type ZipkinV2Definition = keyof typeof zipkinV2SpansSchema.definitions;
