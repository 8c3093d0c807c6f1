/**
 * OtlpReporter against a real OTLP/HTTP receiver on loopback
 * (spec/helpers/otlp-collector.ts, whose bodies are decoded by the generated
 * OTLP classes, not by ziptrace): protobuf and JSON, batches, gzip, retries
 * and what is not retried, bounds, the close deadline, its options, and the
 * tracer's supportsJoin default. Its scheduling is HttpReporter's and is
 * specified at length in http.spec.ts; here, that it is the same through OTLP.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTracer, InvalidOptionError, MemoryReporter, OtlpReporter, type OtlpReporterOptions, type OtlpReporterStats, type ReporterLogger, type TraceContext, type Tracer, type ZipkinSpan } from '../../lib/index.js';
import { decodeProtobuf, ExportTraceServiceResponse } from '../helpers/otlp-decode.js';
import { answer, expectWellFormed, startOtlpCollector, waitFor, type OtlpCollector } from '../helpers/otlp-collector.js';
import { thrown } from '../helpers/tracing.js';

let collector: OtlpCollector;
const reporters: OtlpReporter[] = [];
const tracers: Tracer[] = [];

beforeAll(async () => {
  collector = await startOtlpCollector();
});
afterAll(async () => {
  await collector.close();
});
beforeEach(() => {
  collector.reset();
  // An OTLP receiver takes a request with 200 (and a body, an ExportTraceServiceResponse, here empty).
  collector.always(answer.accept(200));
});
afterEach(async () => {
  for (const tracer of tracers.splice(0)) await tracer.close({ timeout: 200 });
  for (const reporter of reporters.splice(0)) {
    await reporter.close({ timeout: 200 });
    expectBalanced(reporter.stats());
  }
  collector.releaseHung();
});

function expectBalanced(stats: OtlpReporterStats): void {
  expect(stats.reported).toBe(stats.sent + stats.queued + stats.droppedTotal);
  expect(stats.queued).toBe(0);
}

function recordingLogger(): ReporterLogger & { calls: { message: string; kind: string }[] } {
  const calls: { message: string; kind: string }[] = [];
  return { calls, warn: (message, kind) => void calls.push({ message, kind }) };
}

function makeReporter(options: Partial<OtlpReporterOptions> = {}): OtlpReporter {
  const reporter = new OtlpReporter({ url: collector.url, logger: false, ...options });
  reporters.push(reporter);
  return reporter;
}

function makeTracer(options: Parameters<typeof createTracer>[0]): Tracer {
  const tracer = createTracer({ global: false, ...options });
  tracers.push(tracer);
  return tracer;
}

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
function zspan(n: number, serviceName = 'otlp-spec'): ZipkinSpan {
  return { traceId: TRACE_ID, id: (n + 1).toString(16).padStart(16, '0'), name: `op ${n}`, timestamp: 1_700_000_000_000_000 + n, duration: 5, localEndpoint: { serviceName } };
}
const ids = (spans: { spanId: string }[]): string[] => spans.map((s) => s.spanId).sort();
const idsOf = (spans: ZipkinSpan[]): string[] => spans.map((s) => s.id).sort();

describe('OtlpReporter sends', () => {
  it.each(['protobuf', 'json'] as const)('a tracer’s spans as %s to POST /v1/traces, readable by the generated OTLP classes', async (encoding) => {
    const reporter = makeReporter(encoding === 'json' ? { encoding, headers: { authorization: 'Bearer x' } } : { headers: { authorization: 'Bearer x' } });
    expect(reporter.encoding).toBe(encoding);
    const tracer = makeTracer({ serviceName: 'checkout', reporter });
    tracer.withSpan('parent', { kind: 'SERVER', tags: { 'http.route': '/pay', error: 'card declined' } }, (span) => {
      span.annotate('charged');
      tracer.withSpan('child', { kind: 'CLIENT', remoteEndpoint: { serviceName: 'bank', ipv4: '10.1.2.3', port: 443 } }, () => {});
    });
    await reporter.flush();
    expectWellFormed(collector);
    expect(collector.requests).toHaveLength(1);
    const request = collector.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/v1/traces');
    expect(request.headers['content-type']).toBe(encoding === 'json' ? 'application/json' : 'application/x-protobuf');
    expect(request.headers.authorization).toBe('Bearer x');
    expect(request.headers.b3).toBe('0');
    const [child, parent] = collector.spans;
    expect(parent).toMatchObject({ serviceName: 'checkout', name: 'parent', kind: 2, parentSpanId: '', status: { code: 2, message: 'card declined' }, scope: { name: 'ziptrace' } });
    expect(parent!.events.map((e) => e.name)).toEqual(['charged']);
    expect(parent!.attributes).toContainEqual({ key: 'http.route', value: { stringValue: '/pay' } });
    expect(child).toMatchObject({ name: 'child', kind: 3, traceId: parent!.traceId, parentSpanId: parent!.spanId, status: null });
    expect(child!.attributes).toEqual(
      expect.arrayContaining([
        { key: 'peer.service', value: { stringValue: 'bank' } },
        { key: 'network.peer.address', value: { stringValue: '10.1.2.3' } },
        { key: 'network.peer.port', value: { intValue: '443' } },
      ]),
    );
    expect(BigInt(child!.endTimeUnixNano) >= BigInt(child!.startTimeUnixNano)).toBe(true);
    expect(reporter.stats()).toMatchObject({ reported: 2, sent: 2, requests: 1, failedRequests: 0 });
  });

  it('to the URL given: the base gets /v1/traces, a full …/v1/traces URL is kept, a path prefix stays', async () => {
    expect(makeReporter({ url: collector.url }).url.href).toBe(`${collector.url}/v1/traces`);
    expect(makeReporter({ url: `${collector.url}/v1/traces` }).url.href).toBe(`${collector.url}/v1/traces`);
    const prefixed = makeReporter({ url: new URL(`${collector.url}/otlp/`) });
    expect(prefixed.url.href).toBe(`${collector.url}/otlp/v1/traces`);
    prefixed.report(zspan(1));
    await prefixed.flush();
    expect(collector.requests.map((r) => r.url)).toEqual(['/otlp/v1/traces']);
  });

  it('in batches of maxBatchSpans, each one request, spans of several services grouped by service', async () => {
    const reporter = makeReporter({ maxBatchSpans: 2, batchInterval: 60_000 });
    const spans = [zspan(0, 'a'), zspan(1, 'b'), zspan(2, 'a'), zspan(3, 'b'), zspan(4, 'a')];
    for (const span of spans) reporter.report(span);
    await reporter.flush();
    expectWellFormed(collector);
    expect(collector.requests.map((r) => r.spans.length)).toEqual([2, 2, 1]);
    expect(ids(collector.spans)).toEqual(idsOf(spans));
    expect(collector.spans.map((s) => `${s.serviceName}:${s.name}`).sort()).toEqual(['a:op 0', 'a:op 2', 'a:op 4', 'b:op 1', 'b:op 3']);
    expect(reporter.stats()).toMatchObject({ sent: 5, requests: 3 });
  });

  it.each(['protobuf', 'json'] as const)('gzipped (%s) at the threshold, not with gzip: false, nor by default to a collector on this machine', async (encoding) => {
    const gzipped = makeReporter({ encoding, gzip: { threshold: 0 } });
    gzipped.report(zspan(1));
    await gzipped.flush();
    const plain = makeReporter({ encoding, gzip: false });
    for (let i = 0; i < 50; i++) plain.report(zspan(i));
    await plain.flush();
    expectWellFormed(collector);
    const [first, second] = collector.requests;
    expect(first!.headers['content-encoding']).toBe('gzip');
    expect(first!.spans.map((s) => s.spanId)).toEqual([zspan(1).id]);
    // What arrived was gzip (the helper gunzipped it to decode it): its bytes on the wire are not the body's.
    expect(first!.rawLength).not.toBe(first!.body.length);
    expect(second!.headers['content-encoding']).toBeUndefined();
    expect(second!.spans).toHaveLength(50);
    // bytesSent counts the body as sent: compressed for the first.
    expect(gzipped.stats().bytesSent).toBe(first!.rawLength);
    expect(plain.stats().bytesSent).toBe(second!.rawLength);
    // Left unset, as the zero-code start leaves it without OTEL_EXPORTER_OTLP_COMPRESSION: plain to this loopback collector.
    expect(new URL(collector.url).hostname).toBe('127.0.0.1');
    const byDefault = makeReporter({ encoding });
    for (let i = 0; i < 50; i++) byDefault.report(zspan(i));
    await byDefault.flush();
    const third = collector.requests[2]!;
    expect(third.headers['content-encoding']).toBeUndefined();
    expect(third.rawLength).toBeGreaterThan(1024);
    expect(third.rawLength).toBe(third.body.length);
    expect(third.spans).toHaveLength(50);
  });

  it('takes a 200 with a partial-success body as delivered (the rejected count is not read)', async () => {
    const partial = Buffer.from(ExportTraceServiceResponse.encode(ExportTraceServiceResponse.fromObject({ partialSuccess: { rejectedSpans: 1, errorMessage: 'one too old' } })).finish());
    collector.next(answer.status(200, partial.toString('latin1'), { 'content-type': 'application/x-protobuf' }));
    const reporter = makeReporter();
    reporter.report(zspan(1));
    reporter.report(zspan(2));
    await reporter.flush();
    expect(reporter.stats()).toMatchObject({ sent: 2, droppedTotal: 0 });
  });
});

describe('OtlpReporter fails as HttpReporter does', () => {
  it('retries a 503 no sooner than its Retry-After, then delivers (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      collector.next(answer.status(503, 'busy', { 'retry-after': '2' }));
      const logger = recordingLogger();
      // gzip off and a tiny backoff: the retry is made in the timer's own callback, at the Retry-After.
      const reporter = makeReporter({ batchInterval: 60_000, retryBackoff: { initial: 1, max: 1 }, gzip: false, logger });
      reporter.report(zspan(1));
      const flushed = reporter.flush();
      await waitFor(() => reporter.stats().failedRequests === 1, 'the 503');
      await vi.advanceTimersByTimeAsync(1999);
      expect(reporter.stats().requests).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(reporter.stats().requests).toBe(2);
      await flushed;
      expect(collector.requests.map((r) => r.status)).toEqual([503, 200]);
      expect(ids(collector.spans)).toEqual([zspan(1).id]);
      expect(reporter.stats()).toMatchObject({ sent: 1, retries: 1, failedRequests: 1 });
      expect(logger.calls.map((c) => c.kind)).toEqual(['status-503']);
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([429, 502, 504])('retries a %d', async (status) => {
    collector.next(answer.status(status));
    const reporter = makeReporter({ retryBackoff: { initial: 1, max: 1 } });
    reporter.report(zspan(1));
    await reporter.flush();
    expect(collector.requests.map((r) => r.status)).toEqual([status, 200]);
    expect(reporter.stats()).toMatchObject({ sent: 1, retries: 1 });
  });

  it('does not retry a 400: the batch is dropped as rejected, and the reason told', async () => {
    collector.next(answer.status(400, 'cannot unmarshal'));
    const logger = recordingLogger();
    const reporter = makeReporter({ logger });
    reporter.report(zspan(1));
    reporter.report(zspan(2));
    await reporter.flush();
    expect(collector.requests).toHaveLength(1);
    expect(reporter.stats()).toMatchObject({ sent: 0, requests: 1, retries: 0, dropped: { rejected: 2 } });
    expect(logger.calls).toEqual([{ kind: 'status-400', message: `ziptrace: ${collector.url}/v1/traces answered 400 and the spans were dropped: cannot unmarshal` }]);
  });

  it('is bounded: past maxQueueSpans new spans are dropped as queueFull, counted and told', async () => {
    collector.always(answer.hang());
    const logger = recordingLogger();
    const reporter = makeReporter({ maxQueueSpans: 3, maxBatchSpans: 1, maxInFlight: 1, logger });
    for (let i = 0; i < 10; i++) reporter.report(zspan(i));
    expect(reporter.stats()).toMatchObject({ reported: 10, queued: 3, dropped: { queueFull: 7 } });
    expect(logger.calls[0]).toMatchObject({ kind: 'queue-full' });
    await reporter.close({ timeout: 50 });
    expect(reporter.stats()).toMatchObject({ reported: 10, queued: 0, sent: 0, dropped: { queueFull: 7, closed: 3 } });
  });

  it('closes within its deadline when the receiver never answers; what was held is dropped as closed', async () => {
    collector.always(answer.hang());
    const reporter = makeReporter();
    for (let i = 0; i < 4; i++) reporter.report(zspan(i));
    const started = performance.now();
    await reporter.close({ timeout: 100 });
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(99);
    expect(took).toBeLessThan(2000);
    expect(reporter.stats()).toMatchObject({ sent: 0, dropped: { closed: 4 } });
    reporter.report(zspan(9));
    expect(reporter.stats().dropped.closed).toBe(5);
  });

  it('drops as unencodable a span given by hand whose ids OTLP cannot carry, and sends the rest', async () => {
    const logger = recordingLogger();
    const reporter = makeReporter({ logger });
    reporter.report({ ...zspan(1), traceId: 'not-hex' });
    reporter.report({ ...zspan(2), id: '0000000000000000' });
    reporter.report({ ...zspan(3), parentId: 'ABCDEF0123456789' });
    reporter.report(null as unknown as ZipkinSpan);
    reporter.report(zspan(4));
    await reporter.flush();
    expect(reporter.stats()).toMatchObject({ reported: 5, sent: 1, dropped: { unencodable: 4 } });
    expect(logger.calls[0]).toMatchObject({ kind: 'unencodable', message: expect.stringContaining('traceId "not-hex"') });
    expect(ids(collector.spans)).toEqual([zspan(4).id]);
  });

  it('drops as rejected, without a request, a batch it cannot encode (reportJson given text that is not JSON)', async () => {
    const logger = recordingLogger();
    const reporter = makeReporter({ logger });
    reporter.reportJson('{not json');
    await reporter.flush();
    expect(collector.requests).toHaveLength(0);
    expect(reporter.stats()).toMatchObject({ reported: 1, sent: 0, dropped: { rejected: 1 } });
    expect(logger.calls.map((c) => c.kind)).toEqual(['request-invalid']);
  });
});

describe('OtlpReporter options', () => {
  it('are HttpReporter’s, checked the same way, with encoding: every problem named at once, a typo with the closest key', () => {
    const error = thrown(() => new OtlpReporter({ url: 'localhost:4318', encodnig: 'json', encoding: 'xml', maxBatchSpans: 0, retryBackoff: { intial: 5 } } as unknown as OtlpReporterOptions));
    expect(error).toBeInstanceOf(InvalidOptionError);
    const message = (error as Error).message;
    expect(message).toMatch(/^ziptrace: OtlpReporter: /);
    expect(message).toContain('encodnig is not an option of OtlpReporter; did you mean encoding?');
    expect(message).toContain("url must be http: or https:, got localhost: (the scheme is missing: 'http://localhost:4318')");
    expect(message).toContain('maxBatchSpans must be a whole number of at least 1, got 0');
    expect(message).toContain('intial is not an option of OtlpReporter({ retryBackoff }); did you mean initial?');
    expect(message).toContain(`encoding must be 'protobuf' or 'json', got "xml"`);
  });

  it('refuse no object, and no URL, in OTLP’s words', () => {
    expect(() => new OtlpReporter(null as unknown as OtlpReporterOptions)).toThrow('ziptrace: OtlpReporter: options must be an object such as { url: "http://127.0.0.1:4318" }');
    expect(() => new OtlpReporter({} as OtlpReporterOptions)).toThrow(`url must be the collector's address such as 'http://127.0.0.1:4318', got "undefined"`);
  });
});

describe('supportsJoin with OtlpReporter', () => {
  const caller: TraceContext = { traceId: '463ac35c9f6413ad48485a3953bb6124', spanId: 'a2fb4a1d1a96d312', sampled: true, debug: false, shared: false, source: 'b3' };

  it('a tracer whose reporters are all OtlpReporters makes a server a child of its caller, reported as such', async () => {
    const reporter = makeReporter();
    const tracer = makeTracer({ serviceName: 'server', reporter: [reporter, makeReporter({ encoding: 'json' })] });
    const server = tracer.joinSpan(caller, 'get /');
    expect(server.context).toMatchObject({ traceId: caller.traceId, parentId: caller.spanId, shared: false });
    expect(server.context.spanId).not.toBe(caller.spanId);
    server.kind('SERVER').finish();
    await tracer.flush();
    expectWellFormed(collector);
    expect(collector.spans).toHaveLength(2);
    for (const span of collector.spans) expect(span).toMatchObject({ traceId: caller.traceId, parentSpanId: caller.spanId, spanId: server.context.spanId, kind: 2 });
  });

  it('an explicit supportsJoin: true wins, and a tracer with any other reporter (or zipkinUrl) joins by default', () => {
    const joined = makeTracer({ serviceName: 'server', reporter: makeReporter(), supportsJoin: true }).joinSpan(caller, 'get /');
    expect(joined.context).toMatchObject({ spanId: caller.spanId, shared: true });
    const memory = new MemoryReporter();
    const mixed = makeTracer({ serviceName: 'server', reporter: [makeReporter(), memory] }).joinSpan(caller, 'get /');
    expect(mixed.context).toMatchObject({ spanId: caller.spanId, shared: true });
    const withZipkin = makeTracer({ serviceName: 'server', reporter: makeReporter(), zipkinUrl: 'http://127.0.0.1:1' }).joinSpan(caller, 'x');
    expect(withZipkin.context.shared).toBe(true);
    const none = makeTracer({ serviceName: 'server' }).joinSpan(caller, 'x');
    expect(none.context.shared).toBe(true);
    // And false still means false, whatever the reporters.
    expect(makeTracer({ serviceName: 'server', reporter: memory, supportsJoin: false }).joinSpan(caller, 'x').context.shared).toBe(false);
  });
});

describe('decoding what we send gives back the spans', () => {
  it('for a protobuf body read straight off the wire', async () => {
    const reporter = makeReporter({ gzip: false });
    const spans = Array.from({ length: 20 }, (_, i) => zspan(i, i % 2 === 0 ? 'even' : 'odd'));
    for (const span of spans) reporter.report(span);
    await reporter.flush();
    const decoded = collector.requests.flatMap((r) => decodeProtobuf(r.body));
    expect(ids(decoded)).toEqual(idsOf(spans));
    for (const span of spans) {
      expect(decoded.find((d) => d.spanId === span.id)).toMatchObject({
        serviceName: span.localEndpoint!.serviceName,
        name: span.name,
        traceId: span.traceId,
        startTimeUnixNano: `${span.timestamp}000`,
        endTimeUnixNano: `${span.timestamp! + span.duration!}000`,
      });
    }
  });
});
