/**
 * The OTLP protobuf encoder, read back by code that is not ours: the
 * message classes protobufjs generated from opentelemetry-proto, as
 * @opentelemetry/otlp-transformer ships them (spec/helpers/otlp-decode.ts).
 * Every field of the mapping is compared, for spans chosen to use each one
 * and for random spans (fast-check, seeded by spec/setup/seed.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ZipkinSpan } from '../../lib/index.js';
import { encodeOtlpProtobuf, OTLP_PROTOBUF_CONTENT_TYPE } from '../../lib/encoding/otlp-protobuf.js';
import { nanosText, nanosWords, SCOPE_VERSION } from '../../lib/encoding/otlp-span.js';
import { decodeProtobuf, ExportTraceServiceRequest } from '../helpers/otlp-decode.js';
import { comparable, EVERY_FIELD, expectedSpans, PACKAGE_VERSION, zipkinSpans } from '../helpers/otlp-spans.js';

function roundTrip(spans: ZipkinSpan[]): ReturnType<typeof comparable> {
  return comparable(decodeProtobuf(encodeOtlpProtobuf(spans)));
}

describe('encodeOtlpProtobuf', () => {
  it('gives back every field of every span, decoded by the generated OTLP classes', () => {
    expect(roundTrip(EVERY_FIELD)).toEqual(expectedSpans(EVERY_FIELD, true));
  });

  it('maps as the table says, field by field, for one span of each kind of thing', () => {
    const decoded = roundTrip(EVERY_FIELD);
    const [server, client, producer, consumer] = EVERY_FIELD.slice(0, 4).map((span) => decoded.find((d) => d.spanId === span.id));
    expect(server).toMatchObject({
      serviceName: 'api',
      scope: { name: 'ziptrace', version: PACKAGE_VERSION },
      traceId: '00000000000000005af7183fb1d4cf5f', // a 64-bit id, left-padded
      spanId: '6b221d5bc9e6496c',
      parentSpanId: '',
      kind: 2,
      startTimeUnixNano: '1700000000123456000',
      endTimeUnixNano: '1700000000124690000',
      status: null,
    });
    expect(server!.events).toEqual([
      { timeUnixNano: '1700000000123457000', name: 'wr', attributes: [] },
      { timeUnixNano: '1700000000124456000', name: 'ünïcødé ✓ 🚀', attributes: [] },
    ]);
    expect(server!.attributes.slice(-4)).toEqual([
      { key: 'peer.service', value: { stringValue: 'web' } },
      { key: 'network.peer.address', value: { stringValue: '192.168.1.9' } },
      { key: 'network.peer.port', value: { intValue: '51234' } },
      { key: 'ziptrace.debug', value: { boolValue: true } },
    ]);
    expect(client).toMatchObject({ kind: 3, traceId: '5af7183fb1d4cf5f6b221d5bc9e6496c', parentSpanId: '6b221d5bc9e6496c', status: { code: 2, message: 'connection refused' }, droppedAttributesCount: 3, droppedEventsCount: 2 });
    expect(client!.attributes).toContainEqual({ key: 'ziptrace.dropped_tags', value: { stringValue: '3' } });
    expect(client!.attributes).toContainEqual({ key: 'network.peer.address', value: { stringValue: '2001:db8::c001' } });
    // The largest times: (2^53 - 1) µs start, twice that end, exact.
    expect(producer).toMatchObject({ kind: 4, startTimeUnixNano: '9007199254740991000', endTimeUnixNano: '18014398509481982000', status: { code: 2, message: '' } });
    expect(producer!.attributes).toContainEqual({ key: 'network.peer.address', value: { stringValue: '127.0.0.1' } });
    // `error: 'true'` says no more than "failed"; a tag named like an endpoint attribute wins over it.
    expect(consumer).toMatchObject({ kind: 5, status: { code: 2, message: '' }, startTimeUnixNano: '1000', endTimeUnixNano: '1000' });
    expect(consumer!.attributes.filter((a) => a.key === 'peer.service')).toEqual([{ key: 'peer.service', value: { stringValue: 'from a tag' } }]);
  });

  it('groups spans by service into ResourceSpans, services in order of first appearance, each with one ScopeSpans', () => {
    const request = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(encodeOtlpProtobuf(EVERY_FIELD)), { defaults: true, arrays: true }) as {
      resourceSpans: { resource: { attributes: { key: string; value: { stringValue: string } }[] }; scopeSpans: { spans: unknown[] }[] }[];
    };
    expect(request.resourceSpans.map((r) => [r.resource.attributes[0]!.value.stringValue, r.scopeSpans.length, r.scopeSpans[0]!.spans.length])).toEqual([
      ['api', 1, 3],
      ['worker', 1, 2],
      ['big', 1, 1],
    ]);
  });

  it('gives a span without a service name unknown_service, and an empty batch an empty request', () => {
    expect(roundTrip([{ traceId: '463ac35c9f6413ad', id: '463ac35c9f6413ad' }])[0]).toMatchObject({ serviceName: 'unknown_service', name: '', kind: 1, startTimeUnixNano: '0', endTimeUnixNano: '0' });
    expect(encodeOtlpProtobuf([]).length).toBe(0);
    expect(decodeProtobuf(encodeOtlpProtobuf([]))).toEqual([]);
  });

  it('never throws on a span given by hand in an odd shape: what it cannot read is left out or zero', () => {
    const odd = {
      traceId: '463AC35C9F6413AD',
      id: 'a2fb4a1d1a96d312',
      parentId: 'a2fb4a1d1a96d312ff',
      name: 42,
      kind: 'RPC',
      timestamp: -5,
      duration: 1.7,
      localEndpoint: 'api',
      remoteEndpoint: { serviceName: '', ipv4: '', ipv6: '::2', port: 70_000 },
      annotations: [null, { value: 7 }, { timestamp: 12.9, value: { x: 1 } }],
      tags: { n: 5, o: { a: [1] }, z: null, error: false, 'ziptrace.dropped_tags': 'many', 'ziptrace.dropped_annotations': '-1' },
    } as unknown as ZipkinSpan;
    const [span] = roundTrip([odd]);
    expect(span).toMatchObject({
      serviceName: 'unknown_service',
      traceId: '0000000000000000463ac35c9f6413ad',
      parentSpanId: 'fb4a1d1a96d312ff', // too long: its last 16 digits
      name: '',
      kind: 1,
      startTimeUnixNano: '0',
      endTimeUnixNano: '1000',
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      status: { code: 2, message: 'false' },
    });
    expect(span!.events).toEqual([
      { timeUnixNano: '0', name: '', attributes: [] },
      { timeUnixNano: '0', name: '7', attributes: [] },
      { timeUnixNano: '12000', name: '{"x":1}', attributes: [] },
    ]);
    expect(span!.attributes).toEqual([
      { key: 'n', value: { stringValue: '5' } },
      { key: 'o', value: { stringValue: '{"a":[1]}' } },
      { key: 'z', value: { stringValue: '' } },
      { key: 'error', value: { stringValue: 'false' } },
      { key: 'ziptrace.dropped_tags', value: { stringValue: 'many' } },
      { key: 'ziptrace.dropped_annotations', value: { stringValue: '-1' } },
      { key: 'network.peer.address', value: { stringValue: '::2' } },
    ]);
  });

  it('round-trips random spans (fast-check)', () => {
    fc.assert(
      fc.property(zipkinSpans, (spans) => {
        expect(roundTrip(spans)).toEqual(expectedSpans(spans, true));
      }),
      { numRuns: 300 },
    );
  });

  it('is application/x-protobuf, and its scope version is the package version', () => {
    expect(OTLP_PROTOBUF_CONTENT_TYPE).toBe('application/x-protobuf');
    expect(SCOPE_VERSION).toBe(PACKAGE_VERSION);
  });
});

describe('nanoseconds from microseconds, exact', () => {
  const exact = (a: number, b: number): bigint => (BigInt(a) + BigInt(b)) * 1000n;
  const words = new Uint32Array(2);
  const fromWords = (): bigint => (BigInt(words[1]!) << 32n) | BigInt(words[0]!);

  it.each([
    [0, 0],
    [1, 0],
    [0xffff_ffff, 0],
    [0x1_0000_0000, 1],
    [Number.MAX_SAFE_INTEGER, 0],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    [1_700_000_000_123_456, 999_999],
  ])('%d + %d µs', (a, b) => {
    expect(nanosText(a, b)).toBe(String(exact(a, b)));
    nanosWords(a, b, words);
    expect(fromWords()).toBe(exact(a, b));
  });

  it('for any two whole microsecond counts below 2^53 (fast-check)', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.maxSafeNat(), (a, b) => {
        expect(nanosText(a, b)).toBe(String(exact(a, b)));
        nanosWords(a, b, words);
        expect(fromWords()).toBe(exact(a, b));
      }),
    );
  });
});
