/**
 * For the OTLP encoders' specs: Zipkin v2 spans that cover every field the
 * mapping reads, random ones (fast-check), and what each must become once
 * encoded and decoded by the generated OTLP classes (otlp-decode.ts),
 * written here from the mapping's table (lib/encoding/otlp-span.ts) rather
 * than from its code: BigInt times, plain loops.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import type { ZipkinSpan } from '../../lib/index.js';
import type { AnyValue, DecodedSpan } from './otlp-decode.js';

/** The package's version: the scope's. */
export const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const T = 1_700_000_000_123_456;
const long = 'x'.repeat(100_000) + 'é';

/** Spans that between them use every field: kinds, errors, annotations, unicode and long tags, remote endpoints, both id sizes, roots, the largest times. */
export const EVERY_FIELD: ZipkinSpan[] = [
  {
    traceId: '5af7183fb1d4cf5f',
    id: '6b221d5bc9e6496c',
    name: 'get /users/:id',
    kind: 'SERVER',
    timestamp: T,
    duration: 1234,
    localEndpoint: { serviceName: 'api', ipv4: '10.0.0.1', port: 8080 },
    remoteEndpoint: { serviceName: 'web', ipv4: '192.168.1.9', port: 51234 },
    annotations: [
      { timestamp: T + 1, value: 'wr' },
      { timestamp: T + 1000, value: 'ünïcødé ✓ 🚀' },
    ],
    tags: { 'http.method': 'GET', 'http.route': '/users/:id', 'http.status_code': '200', 'long.value': long, '名前': '値 — ✓', emoji: '👩‍👩‍👧‍👦' },
    debug: true,
    shared: true,
  },
  {
    traceId: '5af7183fb1d4cf5f6b221d5bc9e6496c',
    id: '00f067aa0ba902b7',
    parentId: '6b221d5bc9e6496c',
    name: 'select',
    kind: 'CLIENT',
    timestamp: T + 10,
    duration: 1,
    localEndpoint: { serviceName: 'api' },
    remoteEndpoint: { serviceName: 'postgres', ipv6: '2001:db8::c001', port: 5432 },
    tags: { error: 'connection refused', 'ziptrace.dropped_tags': '3', 'ziptrace.dropped_annotations': '2', 'sql.query': 'select 1' },
  },
  {
    traceId: 'ffffffffffffffffffffffffffffffff',
    id: 'ffffffffffffffff',
    parentId: '0000000000000001',
    kind: 'PRODUCER',
    timestamp: Number.MAX_SAFE_INTEGER,
    duration: Number.MAX_SAFE_INTEGER,
    localEndpoint: { serviceName: 'worker' },
    remoteEndpoint: { ipv4: '127.0.0.1', ipv6: '::1' },
    tags: { error: '' },
  },
  {
    traceId: '0000000000000001',
    id: '0000000000000002',
    name: 'consume',
    kind: 'CONSUMER',
    timestamp: 1,
    duration: 0,
    localEndpoint: { serviceName: 'worker' },
    remoteEndpoint: { serviceName: 'kafka' },
    tags: { error: 'true', 'peer.service': 'from a tag' },
  },
  { traceId: '463ac35c9f6413ad48485a3953bb6124', id: 'a2fb4a1d1a96d312', name: 'local work', timestamp: T, duration: 5, localEndpoint: { serviceName: 'api' } },
  // Varint lengths of three and four bytes: a tag past 2^14 bytes and one past 2^21.
  { traceId: '463ac35c9f6413ad', id: 'a2fb4a1d1a96d313', name: 'big', timestamp: T, duration: 5, localEndpoint: { serviceName: 'big' }, tags: { a: 'a'.repeat(127), b: 'b'.repeat(128), c: 'c'.repeat(16_384), d: 'd'.repeat(2_097_152) } },
];

const KIND: Record<string, number> = { SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };

function text(value: unknown, wellFormed: boolean): string {
  const s = typeof value === 'string' ? value : value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  // Protobuf strings are UTF-8: a lone surrogate arrives as U+FFFD. OTLP/JSON escapes it and keeps it.
  return wellFormed ? s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD') : s;
}

function nanos(micros: number | undefined, plus = 0): string {
  return String((BigInt(micros ?? 0) + BigInt(plus)) * 1000n);
}

/**
 * What `spans` must decode to, span by span, grouped as the encoders group
 * them (services in order of first appearance). `wellFormed`: strings as
 * protobuf carries them (lone surrogates replaced).
 */
export function expectedSpans(spans: readonly ZipkinSpan[], wellFormed: boolean): DecodedSpan[] {
  const services: string[] = [];
  const byService = new Map<string, DecodedSpan[]>();
  for (const span of spans) {
    const serviceName = span.localEndpoint?.serviceName || 'unknown_service';
    if (!byService.has(serviceName)) {
      services.push(serviceName);
      byService.set(serviceName, []);
    }
    const tags = span.tags ?? {};
    const attributes: { key: string; value: AnyValue }[] = Object.keys(tags).map((key) => ({ key: text(key, wellFormed), value: { stringValue: text(tags[key], wellFormed) } }));
    const extra = (key: string, value: AnyValue): void => {
      if (!Object.prototype.hasOwnProperty.call(tags, key)) attributes.push({ key, value });
    };
    const remote = span.remoteEndpoint;
    if (remote?.serviceName) extra('peer.service', { stringValue: text(remote.serviceName, wellFormed) });
    if (remote?.ipv4 || remote?.ipv6) extra('network.peer.address', { stringValue: text(remote.ipv4 || remote.ipv6, wellFormed) });
    if (remote?.port !== undefined && Number.isInteger(remote.port) && remote.port > 0 && remote.port <= 65535) extra('network.peer.port', { intValue: String(remote.port) });
    if (span.debug === true) extra('ziptrace.debug', { boolValue: true });
    const error = Object.prototype.hasOwnProperty.call(tags, 'error') ? text(tags.error, wellFormed) : undefined;
    const dropped = (key: string): number => {
      const n = Number(tags[key]);
      return Object.prototype.hasOwnProperty.call(tags, key) && Number.isInteger(n) && n > 0 && n <= 0xffffffff ? n : 0;
    };
    byService.get(serviceName)!.push({
      serviceName: text(serviceName, wellFormed),
      resourceAttributes: [{ key: 'service.name', value: { stringValue: text(serviceName, wellFormed) } }],
      scope: { name: 'ziptrace', version: PACKAGE_VERSION },
      traceId: span.traceId.padStart(32, '0'),
      spanId: span.id,
      parentSpanId: span.parentId ?? '',
      traceState: '',
      name: text(span.name ?? '', wellFormed),
      kind: KIND[span.kind ?? ''] ?? 1,
      startTimeUnixNano: nanos(span.timestamp),
      endTimeUnixNano: nanos(span.timestamp, span.duration ?? 0),
      attributes,
      droppedAttributesCount: dropped('ziptrace.dropped_tags'),
      events: (span.annotations ?? []).map((a) => ({ timeUnixNano: nanos(a.timestamp), name: text(a.value, wellFormed), attributes: [] })),
      droppedEventsCount: dropped('ziptrace.dropped_annotations'),
      links: [],
      status: error === undefined ? null : { code: 2, message: error === 'true' ? '' : error },
      flags: 0,
    });
  }
  return services.flatMap((service) => byService.get(service)!);
}

/** Only the fields a DecodedSpan is compared on (toObject adds a few more, such as droppedLinksCount). */
export function comparable(spans: readonly DecodedSpan[]): DecodedSpan[] {
  return spans.map((s) => ({
    serviceName: s.serviceName,
    resourceAttributes: s.resourceAttributes,
    scope: s.scope,
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    traceState: s.traceState,
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: s.startTimeUnixNano,
    endTimeUnixNano: s.endTimeUnixNano,
    attributes: s.attributes,
    droppedAttributesCount: s.droppedAttributesCount,
    events: s.events,
    droppedEventsCount: s.droppedEventsCount,
    links: s.links,
    status: s.status === null ? null : { code: s.status.code, message: s.status.message },
    flags: s.flags,
  }));
}

const hex = (length: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const anyText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }), // lone surrogates and control characters too
  fc.string({ unit: 'grapheme-ascii', maxLength: 200 }),
  fc.constantFrom('', '__proto__', 'constructor', 'error', 'true', 'peer.service', 'network.peer.port', 'ziptrace.debug', 'ziptrace.dropped_tags', '7'),
);
const micros = fc.oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1_600_000_000_000_000, max: 1_900_000_000_000_000 }));

/** Random Zipkin v2 spans with valid ids, of a few services. */
export const zipkinSpans: fc.Arbitrary<ZipkinSpan[]> = fc.array(
  fc
    .record(
      {
        traceId: fc.oneof(hex(16), hex(32)),
        id: hex(16),
        parentId: hex(16),
        name: anyText,
        kind: fc.constantFrom('CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER'),
        timestamp: micros,
        duration: micros,
        localEndpoint: fc.record({ serviceName: fc.constantFrom('a', 'b', 'ç', '') }, { requiredKeys: [] }),
        remoteEndpoint: fc.record(
          { serviceName: anyText, ipv4: fc.ipV4(), ipv6: fc.ipV6(), port: fc.integer({ min: -1, max: 70_000 }) },
          { requiredKeys: [] },
        ),
        annotations: fc.array(fc.record({ timestamp: micros, value: anyText }), { maxLength: 4 }),
        tags: fc.array(fc.tuple(anyText, anyText), { maxLength: 8 }).map((entries) => Object.fromEntries(entries)),
        debug: fc.constant(true as const),
        shared: fc.constant(true as const),
      },
      { requiredKeys: ['traceId', 'id'] },
    )
    .map((span) => span as ZipkinSpan),
  { maxLength: 6 },
);
