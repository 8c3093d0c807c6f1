/**
 * The OTLP/JSON encoder: its text is JSON in OTLP's mapping (lowerCamelCase
 * names, enums as integers, int64 as decimal strings, ids as hex), read back
 * by the message classes protobufjs generated from opentelemetry-proto
 * (spec/helpers/otlp-decode.ts), and it says what the protobuf encoder says.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ZipkinSpan } from '../../lib/index.js';
import { encodeOtlpJson, OTLP_JSON_CONTENT_TYPE } from '../../lib/encoding/otlp-json.js';
import { encodeOtlpProtobuf } from '../../lib/encoding/otlp-protobuf.js';
import { decodeJson, decodeProtobuf } from '../helpers/otlp-decode.js';
import { comparable, EVERY_FIELD, expectedSpans, PACKAGE_VERSION, zipkinSpans } from '../helpers/otlp-spans.js';

function roundTrip(spans: ZipkinSpan[]): ReturnType<typeof comparable> {
  return comparable(decodeJson(encodeOtlpJson(spans)));
}

describe('encodeOtlpJson', () => {
  it('gives back every field of every span, read by the generated OTLP classes', () => {
    expect(roundTrip(EVERY_FIELD)).toEqual(expectedSpans(EVERY_FIELD, false));
  });

  it('writes OTLP/JSON: hex ids, int64 as strings, enums and counts as numbers, lowerCamelCase names, no empty fields', () => {
    const [client] = [EVERY_FIELD[1]!];
    const json = JSON.parse(encodeOtlpJson([client, { traceId: '463ac35c9f6413ad', id: '463ac35c9f6413ad', localEndpoint: { serviceName: 'api' }, remoteEndpoint: { port: 80 }, debug: true }]));
    const spans = json.resourceSpans[0].scopeSpans[0].spans;
    expect(json.resourceSpans).toHaveLength(1);
    expect(json.resourceSpans[0].resource).toEqual({ attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] });
    expect(json.resourceSpans[0].scopeSpans[0].scope).toEqual({ name: 'ziptrace', version: PACKAGE_VERSION });
    expect(spans[0]).toEqual({
      traceId: '5af7183fb1d4cf5f6b221d5bc9e6496c',
      spanId: '00f067aa0ba902b7',
      parentSpanId: '6b221d5bc9e6496c',
      name: 'select',
      kind: 3,
      startTimeUnixNano: '1700000000123466000',
      endTimeUnixNano: '1700000000123467000',
      attributes: [
        { key: 'error', value: { stringValue: 'connection refused' } },
        { key: 'ziptrace.dropped_tags', value: { stringValue: '3' } },
        { key: 'ziptrace.dropped_annotations', value: { stringValue: '2' } },
        { key: 'sql.query', value: { stringValue: 'select 1' } },
        { key: 'peer.service', value: { stringValue: 'postgres' } },
        { key: 'network.peer.address', value: { stringValue: '2001:db8::c001' } },
        { key: 'network.peer.port', value: { intValue: '5432' } },
      ],
      droppedAttributesCount: 3,
      droppedEventsCount: 2,
      status: { message: 'connection refused', code: 2 },
    });
    expect(spans[1]).toEqual({
      traceId: '0000000000000000463ac35c9f6413ad',
      spanId: '463ac35c9f6413ad',
      kind: 1,
      startTimeUnixNano: '0',
      endTimeUnixNano: '0',
      attributes: [
        { key: 'network.peer.port', value: { intValue: '80' } },
        { key: 'ziptrace.debug', value: { boolValue: true } },
      ],
    });
  });

  it('writes events, and a status without a message when the error says no more than true', () => {
    const json = JSON.parse(encodeOtlpJson([{ traceId: '463ac35c9f6413ad', id: '463ac35c9f6413ad', annotations: [{ timestamp: 5, value: 'a "quoted" \n one' }, { timestamp: 6, value: '' }], tags: { error: 'true' } }]));
    const span = json.resourceSpans[0].scopeSpans[0].spans[0];
    expect(span.events).toEqual([{ timeUnixNano: '5000', name: 'a "quoted" \n one' }, { timeUnixNano: '6000' }]);
    expect(span.status).toEqual({ code: 2 });
    expect(json.resourceSpans[0].resource.attributes[0].value.stringValue).toBe('unknown_service');
  });

  it('says what the protobuf body says, for the spans that use every field', () => {
    expect(roundTrip(EVERY_FIELD)).toEqual(comparable(decodeProtobuf(encodeOtlpProtobuf(EVERY_FIELD))));
  });

  it('round-trips random spans, lone surrogates and all (fast-check)', () => {
    fc.assert(
      fc.property(zipkinSpans, (spans) => {
        expect(roundTrip(spans)).toEqual(expectedSpans(spans, false));
      }),
      { numRuns: 300 },
    );
  });

  it('is application/json, and an empty batch is an empty request', () => {
    expect(OTLP_JSON_CONTENT_TYPE).toBe('application/json');
    expect(JSON.parse(encodeOtlpJson([]))).toEqual({ resourceSpans: [] });
  });
});
