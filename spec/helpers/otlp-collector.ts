/**
 * An OTLP/HTTP receiver on loopback for OtlpReporter's specs: the Zipkin
 * test collector (collector.ts: its behaviours, records, stop and start)
 * with a body reader of OTLP trace requests. Bodies are decoded by their
 * `Content-Type` with the generated OTLP classes (otlp-decode.ts), never by
 * ziptrace's code; a body that does not decode, or comes with another
 * content type, is recorded with its problem in `schemaErrors`, for a spec to
 * assert on (`expectWellFormed`), and kept out of the Zipkin schema check.
 */
import { expect } from 'vitest';
import { startCollector, type BodyReader, type Collector } from './collector.js';
import { decodeRequest, type DecodedSpan } from './otlp-decode.js';

export { answer, closedPort, sleep, waitFor } from './collector.js';
export type { DecodedSpan } from './otlp-decode.js';

/** A test receiver whose spans are the decoded OTLP spans. */
export type OtlpCollector = Collector<DecodedSpan>;

const CONTENT_TYPES = ['application/x-protobuf', 'application/json'];

const otlpReader: BodyReader<DecodedSpan> = {
  read(body, _text, headers) {
    const type = headers['content-type'];
    if (type === undefined || !CONTENT_TYPES.includes(type)) return { json: undefined, spans: [], errors: [`content-type ${String(type)} is not OTLP's`] };
    try {
      const spans = decodeRequest(body, type);
      return { json: spans, spans, errors: [] };
    } catch (error) {
      return { json: undefined, spans: [], errors: [`the body does not decode as ${type}: ${String(error)}`] };
    }
  },
};

/** An OTLP receiver on 127.0.0.1 (`port` 0: any free one). */
export function startOtlpCollector(port = 0): Promise<OtlpCollector> {
  return startCollector(port, otlpReader);
}

/** Every body `collector` received decoded as an OTLP trace request of its content type, and went to `/v1/traces`. */
export function expectWellFormed(collector: OtlpCollector): void {
  for (const request of collector.requests) {
    expect(request.schemaErrors, `request ${request.index}`).toEqual([]);
    expect(request.url).toMatch(/\/v1\/traces$/);
  }
}
