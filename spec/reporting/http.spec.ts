/**
 * HttpReporter against a real collector on loopback (spec/helpers/collector.ts):
 * real sockets, every interval, backoff and timeout given in milliseconds.
 *
 * Where a spec is about time (the batch interval, backoff, Retry-After, the
 * request deadline) it fakes the reporter's timers (`withFakeTimers`) and
 * steps them exactly, while sockets and the collector stay real: no spec
 * waits out a backoff. Elsewhere timers are real; lower bounds on time are
 * exact (a timer never fires early) and upper bounds (deadlines) carry at
 * least 5x slack, as the suite runs on busy machines under several Node versions.
 */
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTracer, HttpReporter, InvalidOptionError, type HttpReporterOptions, type HttpReporterStats, type ReporterLogger, type Tracer, type ZipkinSpan } from '../../lib/index.js';
import { HttpTransport, type PostOutcome } from '../../lib/reporting/http-transport.js';
import { SpanQueue } from '../../lib/reporting/span-queue.js';
import { throttledWarnings } from '../../lib/reporting/warnings.js';
import { answer, closedPort, sleep, startCollector, takeInvalidBodies, waitFor, type Collector } from '../helpers/collector.js';
import { thrown } from '../helpers/tracing.js';
import { validateZipkinSpans } from '../helpers/zipkin-schema.js';

let collector: Collector;
const reporters: HttpReporter[] = [];
const tracers: Tracer[] = [];

beforeAll(async () => {
  collector = await startCollector();
});
afterAll(async () => {
  await collector.close();
});
beforeEach(() => {
  collector.reset();
});
afterEach(async () => {
  for (const tracer of tracers.splice(0)) await tracer.close({ timeout: 200 });
  for (const reporter of reporters.splice(0)) {
    await reporter.close({ timeout: 200 });
    // Whatever a spec did, every span handed to the reporter is accounted for, exactly.
    expectBalanced(reporter.stats());
    expect(reporter.stats().queued).toBe(0);
  }
  collector.releaseHung();
});

interface LogCall {
  message: string;
  kind: string;
}
function recordingLogger(): ReporterLogger & { calls: LogCall[] } {
  const calls: LogCall[] = [];
  return { calls, warn: (message, kind) => void calls.push({ message, kind }) };
}

/**
 * Runs `fn` with setTimeout and clearTimeout faked (and Date, when asked),
 * so the reporter's batch, retry and deadline timers move only when the spec
 * steps them; sockets, the collector, `sleep` and `waitFor` keep real time.
 */
async function withFakeTimers(fn: () => Promise<void>, fakeDate = false): Promise<void> {
  vi.useFakeTimers({ toFake: fakeDate ? ['setTimeout', 'clearTimeout', 'Date'] : ['setTimeout', 'clearTimeout'] });
  try {
    await fn();
  } finally {
    vi.useRealTimers();
  }
}

/**
 * Under fake timers, once failure number `failures` is in (and so its retry
 * scheduled): no retry in the first `min - 1` ms, and one by `max` ms. The
 * body must be below the gzip threshold, so that the request is made (and
 * counted) in the retry timer's own callback.
 */
async function expectRetryBetween(reporter: HttpReporter, failures: number, min: number, max: number): Promise<void> {
  await waitFor(() => reporter.stats().failedRequests === failures, `failure ${failures}`);
  const requests = reporter.stats().requests;
  await vi.advanceTimersByTimeAsync(min - 1);
  // A request counts when it is made, in the timer's own callback: no need to wait for the collector.
  expect(reporter.stats().requests, `no retry ${min - 1} ms after failure ${failures}`).toBe(requests);
  await vi.advanceTimersByTimeAsync(max - (min - 1));
  expect(reporter.stats().requests, `a retry ${max} ms after failure ${failures}`).toBe(requests + 1);
}

/** An HttpReporter to the spec's collector, silent unless a logger is given, closed after the spec. */
function makeReporter(options: Partial<HttpReporterOptions> = {}): HttpReporter {
  const reporter = new HttpReporter({ url: collector.url, logger: false, ...options });
  reporters.push(reporter);
  return reporter;
}

function makeTracer(reporter: HttpReporter, serviceName = 'http-spec'): Tracer {
  const tracer = createTracer({ serviceName, reporter, global: false });
  tracers.push(tracer);
  return tracer;
}

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
/** A valid Zipkin v2 span, numbered; `pad` characters in a tag to set its size. */
function zspan(n: number, pad = 0): ZipkinSpan {
  const span: ZipkinSpan = {
    traceId: TRACE_ID,
    id: (n + 1).toString(16).padStart(16, '0'),
    name: 'op',
    timestamp: 1_700_000_000_000_000 + n,
    duration: 5,
    localEndpoint: { serviceName: 'http-spec' },
  };
  if (pad > 0) span.tags = { pad: 'x'.repeat(pad) };
  return span;
}
const bytesOf = (span: ZipkinSpan): number => Buffer.byteLength(JSON.stringify(span));

function expectBalanced(stats: HttpReporterStats): void {
  const d = stats.dropped;
  expect(stats.droppedTotal).toBe(d.queueFull + d.tooLarge + d.rejected + d.retriesExhausted + d.closed + d.unencodable);
  expect({ reported: stats.reported, accounted: stats.sent + stats.queued + stats.droppedTotal }).toEqual({
    reported: stats.reported,
    accounted: stats.reported,
  });
}

const sortedIds = (spans: readonly ZipkinSpan[]): string[] => spans.map((s) => s.id).sort();

describe('URL', () => {
  const cases: [string, (base: string) => string | URL, string][] = [
    ['a base URL', (base) => base, '/api/v2/spans'],
    ['a base URL with a trailing slash', (base) => `${base}/`, '/api/v2/spans'],
    ['a full /api/v2/spans URL', (base) => `${base}/api/v2/spans`, '/api/v2/spans'],
    ['a full URL with a trailing slash', (base) => `${base}/api/v2/spans/`, '/api/v2/spans'],
    ['a path prefix', (base) => `${base}/zipkin`, '/zipkin/api/v2/spans'],
    ['a path prefix with a trailing slash', (base) => `${base}/zipkin/`, '/zipkin/api/v2/spans'],
    ['a full URL under a prefix', (base) => `${base}/zipkin/api/v2/spans`, '/zipkin/api/v2/spans'],
    ['a URL object', (base) => new URL(base), '/api/v2/spans'],
  ];
  for (const [what, url, path] of cases) {
    it(`posts to ${path} given ${what}`, async () => {
      const reporter = makeReporter({ url: url(collector.url) });
      expect(reporter.url.href).toBe(`${collector.url}${path}`);
      reporter.report(zspan(1));
      await reporter.flush();
      expect(collector.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`POST ${path}`]);
      expect(reporter.stats().sent).toBe(1);
    });
  }

  it('does not change the URL object it was given', () => {
    const given = new URL(collector.url);
    makeReporter({ url: given });
    expect(given.pathname).toBe('/');
  });

  const bad: [string, unknown, RegExp][] = [
    ['not a URL', 'not a url', /url must be the collector's address.*"not a url"/],
    ['an empty string', '', /url must be/],
    ['missing', undefined, /url must be/],
    ['not http', 'ftp://127.0.0.1:9411', /url must be http: or https:, got ftp:/],
  ];
  for (const [what, url, message] of bad) {
    it(`throws an InvalidOptionError naming url when the URL is ${what}`, () => {
      const error = thrown(() => new HttpReporter({ url: url as string, logger: false }));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as InvalidOptionError).code).toBe('ZIPTRACE_INVALID_OPTION');
      expect(error.message).toMatch(message);
    });
  }

  it('createTracer({ zipkinUrl }) with a bad URL throws a TypeError naming zipkinUrl', () => {
    const before = process.listenerCount('beforeExit');
    expect(() => createTracer({ serviceName: 'bad-url', zipkinUrl: 'nope', global: false })).toThrow(/^ziptrace: createTracer: zipkinUrl: must be/);
    expect(() => createTracer({ serviceName: 'bad-url', zipkinUrl: 'nope', global: false })).toThrow(InvalidOptionError);
    // Nothing was left open by the failed constructions.
    expect(process.listenerCount('beforeExit')).toBe(before);
  });
});

describe('createTracer({ zipkinUrl })', () => {
  for (const suffix of ['', '/api/v2/spans']) {
    it(`reports to <zipkinUrl>/api/v2/spans through an HttpReporter (zipkinUrl ${suffix === '' ? 'base' : 'full'})`, async () => {
      const tracer = createTracer({ serviceName: 'zipkin-url', zipkinUrl: collector.url + suffix, global: false });
      tracers.push(tracer);
      expect(tracer.reporter).toBeInstanceOf(HttpReporter);
      const reporter = tracer.reporter as HttpReporter;
      await tracer.withSpan('GET /orders', { kind: 'SERVER' }, async () => {
        await tracer.withSpan('db.query', { kind: 'CLIENT' }, async () => sleep(1));
        tracer.withSpan('render', () => {});
      });
      // finish() only enqueued: nothing went out yet (the default batchInterval is a second).
      expect(reporter.stats()).toMatchObject({ reported: 3, queued: 3, requests: 0 });
      await tracer.flush();
      expect(collector.requests).toHaveLength(1);
      expect(collector.requests[0]!.url).toBe('/api/v2/spans');
      expect(collector.spans.map((s) => s.name).sort()).toEqual(['GET /orders', 'db.query', 'render']);
      validateZipkinSpans(collector.requests[0]!.json);
      expect(reporter.stats()).toMatchObject({ reported: 3, sent: 3, queued: 0, droppedTotal: 0, requests: 1 });
    });
  }
});

describe('the test collector', () => {
  it('checks every body it receives against the Zipkin v2 schema, and lists the invalid ones until taken', async () => {
    const reporter = makeReporter();
    reporter.report(zspan(0));
    await reporter.flush();
    expect(collector.requests[0]!.schemaErrors).toEqual([]);
    // The one exemption from "no invalid body reaches a collector": this spec's own client posts them, and takes them back itself.
    collector.next(answer.status(400));
    await fetch(`${collector.url}/api/v2/spans`, { method: 'POST', body: JSON.stringify([{ ...zspan(1), id: 'not-hex' }]) });
    await fetch(`${collector.url}/api/v2/spans`, { method: 'POST', body: 'not json' });
    const [, wrongId, notJson] = collector.requests;
    expect(wrongId!.schemaErrors).toEqual(expect.arrayContaining([expect.stringMatching(/^ziptrace: \/0\/id must /)]));
    expect(notJson!.schemaErrors).toEqual(['the body is not JSON']);
    const invalid = takeInvalidBodies();
    expect(invalid).toEqual([
      expect.stringMatching(/^POST \/api\/v2\/spans \(request 1 to a collector, 1 spans\): ziptrace: \/0\/id must .*; body: \[\{"traceId"/),
      'POST /api/v2/spans (request 2 to a collector, 0 spans): the body is not JSON; body: not json',
    ]);
    expect(takeInvalidBodies()).toEqual([]);
  });
});

describe('option validation', () => {
  const cases: [string, Partial<HttpReporterOptions>, RegExp][] = [
    ['batchInterval 0', { batchInterval: 0 }, /batchInterval must be a positive number of milliseconds, got 0/],
    ['batchInterval NaN', { batchInterval: NaN }, /batchInterval must be a positive number of milliseconds, got NaN/],
    ['batchInterval Infinity', { batchInterval: Infinity }, /batchInterval must be a positive number/],
    ['batchInterval as a string', { batchInterval: '10' as unknown as number }, /batchInterval must be a positive number/],
    ['maxBatchSpans 0', { maxBatchSpans: 0 }, /maxBatchSpans must be a whole number of at least 1, got 0/],
    ['maxBatchSpans 1.5', { maxBatchSpans: 1.5 }, /maxBatchSpans must be a whole number of at least 1, got 1.5/],
    ['maxBatchBytes -1', { maxBatchBytes: -1 }, /maxBatchBytes must be a whole number/],
    ['maxQueueSpans 0', { maxQueueSpans: 0 }, /maxQueueSpans must be a whole number/],
    ['maxQueueBytes 0.5', { maxQueueBytes: 0.5 }, /maxQueueBytes must be a whole number/],
    ['maxInFlight 0', { maxInFlight: 0 }, /maxInFlight must be a whole number of at least 1/],
    ['timeout -5', { timeout: -5 }, /timeout must be a positive number of milliseconds, got -5/],
    ['maxRetries -1', { maxRetries: -1 }, /maxRetries must be a whole number of at least 0, got -1/],
    ['retryBackoff.initial 0', { retryBackoff: { initial: 0 } }, /retryBackoff.initial must be a positive number/],
    ['retryBackoff.max NaN', { retryBackoff: { max: NaN } }, /retryBackoff.max must be a positive number/],
    ['gzip.threshold -1', { gzip: { threshold: -1 } }, /gzip.threshold must be a whole number of at least 0/],
    ['exitTimeout -1', { exitTimeout: -1 }, /exitTimeout must be a positive number of milliseconds, or 0 for no flush at exit, got -1/],
    ['headers as a string', { headers: 'x' as unknown as Record<string, string> }, /headers must be an object/],
    ['headers null', { headers: null as unknown as Record<string, string> }, /headers must be an object/],
    ['a logger without warn', { logger: {} as ReporterLogger }, /logger must have a warn\(message, kind\) method, or be false/],
  ];
  for (const [what, options, message] of cases) {
    it(`rejects ${what} with an InvalidOptionError`, () => {
      const error = thrown(() => new HttpReporter({ url: collector.url, ...options }));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as InvalidOptionError).code).toBe('ZIPTRACE_INVALID_OPTION');
      expect(error.message).toMatch(message);
      expect(error.message).toMatch(/^ziptrace: HttpReporter: /);
    });
  }

  it('names every problem at once', () => {
    expect(() => new HttpReporter({ url: 'nope', batchInterval: -1, maxInFlight: 0 })).toThrow(/url must be.*; batchInterval must be.*; maxInFlight must be/);
  });

  it('rejects options that are not an object', () => {
    const error = thrown(() => new HttpReporter(null as unknown as HttpReporterOptions));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).code).toBe('ZIPTRACE_INVALID_OPTION');
    expect(error.message).toMatch(/options must be an object/);
  });

  const typos: [string, Record<string, unknown>, string][] = [
    ['batchIntervall', { batchIntervall: 5 }, 'batchIntervall is not an option of HttpReporter; did you mean batchInterval?'],
    ['maxbatchspans (case)', { maxbatchspans: 5 }, 'maxbatchspans is not an option of HttpReporter; did you mean maxBatchSpans?'],
    ['timeOut', { timeOut: 5 }, 'timeOut is not an option of HttpReporter; did you mean timeout?'],
    ['retryBackoff.inital', { retryBackoff: { inital: 5 } }, 'inital is not an option of HttpReporter({ retryBackoff }); did you mean initial?'],
    ['gzip.treshold', { gzip: { treshold: 5 } }, 'treshold is not an option of HttpReporter({ gzip }); did you mean threshold?'],
  ];
  for (const [what, options, problem] of typos) {
    it(`rejects an unknown key (${what}) with an InvalidOptionError naming the closest known one`, () => {
      const before = process.listenerCount('beforeExit');
      const error = thrown(() => new HttpReporter({ url: collector.url, ...options } as HttpReporterOptions));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).code).toBe('ZIPTRACE_INVALID_OPTION');
      expect(error.message).toBe(`ziptrace: HttpReporter: ${problem}`);
      // Nothing was left open by the failed construction.
      expect(process.listenerCount('beforeExit')).toBe(before);
    });
  }

  it('names an unknown key with no close one by listing the known keys, beside the other problems', () => {
    const error = thrown(() => new HttpReporter({ url: collector.url, compression: 'zstd', maxInFlight: 0 } as HttpReporterOptions));
    expect(error.message).toMatch(/^ziptrace: HttpReporter: compression is not an option of HttpReporter; known: url, batchInterval, .*, tls; maxInFlight must be/);
  });

  it('takes maxRetries 0 (one attempt), gzip.threshold 0 (every body gzipped) and logger false (nothing told)', async () => {
    collector.next(answer.status(503));
    const reporter = makeReporter({ maxRetries: 0, gzip: { threshold: 0 }, logger: false, batchInterval: 60_000 });
    const warned = vi.spyOn(process, 'emitWarning');
    try {
      reporter.report(zspan(0));
      await reporter.flush();
      reporter.report(zspan(1));
      await reporter.flush();
      expect(warned).not.toHaveBeenCalled();
    } finally {
      warned.mockRestore();
    }
    // The 503 was not retried; both bodies, though tiny, were gzipped.
    expect(collector.requests.map((r) => [r.status, r.headers['content-encoding'], r.spans.length])).toEqual([
      [503, 'gzip', 1],
      [202, 'gzip', 1],
    ]);
    expect(sortedIds(collector.spans)).toEqual([zspan(1).id]);
    expect(reporter.stats()).toMatchObject({ reported: 2, sent: 1, requests: 2, retries: 0, failedRequests: 1, droppedTotal: 1, dropped: { retriesExhausted: 1 } });
  });
});

describe('batching', () => {
  it('finish() only enqueues; a batch goes out once batchInterval has passed, to the millisecond (fake timers)', () =>
    withFakeTimers(async () => {
      const reporter = makeReporter({ batchInterval: 150 });
      const tracer = makeTracer(reporter);
      for (let i = 0; i < 3; i++) tracer.withSpan(`op-${i}`, () => {});
      expect(reporter.stats()).toMatchObject({ reported: 3, queued: 3, requests: 0, sent: 0 });
      await vi.advanceTimersByTimeAsync(149);
      expect(reporter.stats().requests).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(reporter.stats().requests).toBe(1);
      await waitFor(() => reporter.stats().sent === 3, 'the first batch');
      expect(collector.requests.map((r) => r.spans.length)).toEqual([3]);

      // The next span waits for a fresh interval and goes in its own batch.
      tracer.withSpan('op-3', () => {});
      await vi.advanceTimersByTimeAsync(149);
      expect(reporter.stats().requests).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      await waitFor(() => reporter.stats().sent === 4, 'the second batch');
      expect(collector.requests.map((r) => r.spans.length)).toEqual([3, 1]);
      expect(collector.spans.map((s) => s.name)).toEqual(['op-0', 'op-1', 'op-2', 'op-3']);
      expect(reporter.stats()).toMatchObject({ reported: 4, sent: 4, queued: 0, requests: 2 });
    }));

  it('sends a batch as soon as maxBatchSpans spans wait, without waiting for the interval', async () => {
    const reporter = makeReporter({ batchInterval: 60_000, maxBatchSpans: 10 });
    for (let i = 0; i < 25; i++) reporter.report(zspan(i));
    await waitFor(() => collector.spans.length === 20, 'two full batches');
    await sleep(50);
    expect(collector.requests.map((r) => r.spans.length)).toEqual([10, 10]);
    expect(reporter.stats()).toMatchObject({ queued: 5, sent: 20 });
    await reporter.flush();
    expect(collector.requests.map((r) => r.spans.length)).toEqual([10, 10, 5]);
    expect(sortedIds(collector.spans)).toEqual(sortedIds(Array.from({ length: 25 }, (_, i) => zspan(i))));
  });

  for (const [fit, slack] of [
    [3, 0],
    [2, -1],
  ] as const) {
    it(`packs batches up to maxBatchBytes exactly (${fit} spans per body when the limit is ${slack === 0 ? 'exactly' : 'a byte short of'} three)`, async () => {
      const size = bytesOf(zspan(0, 200));
      // The body is [a,b,c]: three spans, two commas, two brackets.
      const maxBatchBytes = 3 * size + 2 + 2 + slack;
      const reporter = makeReporter({ batchInterval: 60_000, maxBatchSpans: 1000, maxBatchBytes, gzip: false });
      const spans = Array.from({ length: 12 }, (_, i) => zspan(i, 200));
      expect(new Set(spans.map(bytesOf))).toEqual(new Set([size]));
      for (const span of spans) reporter.report(span);
      // Enough bytes waited to fill batches, so some went out before the (minute-long) interval.
      await waitFor(() => collector.requests.length >= 2, 'batches sent by size');
      await reporter.flush();
      for (const request of collector.requests) {
        expect(request.headers['content-encoding']).toBeUndefined();
        expect(request.rawLength).toBeLessThanOrEqual(maxBatchBytes);
        expect(request.rawLength).toBe(fit * size + (fit - 1) + 2);
      }
      expect(collector.requests.map((r) => r.spans.length)).toEqual(Array(12 / fit).fill(fit));
      expect(sortedIds(collector.spans)).toEqual(sortedIds(spans));
    });
  }

  it('has at most maxInFlight requests out at once (a request the collector holds counts)', async () => {
    collector.always(answer.hang());
    const reporter = makeReporter({ batchInterval: 60_000, maxBatchSpans: 5, maxInFlight: 3, timeout: 20_000 });
    const spans = Array.from({ length: 50 }, (_, i) => zspan(i));
    for (const span of spans) reporter.report(span);
    await waitFor(() => collector.active === 3, 'three requests held by the collector');
    await sleep(100);
    // The reporter itself holds back: it made three requests, not ten that an agent would queue.
    expect(reporter.stats()).toMatchObject({ requests: 3, queued: 50, sent: 0 });
    expect(collector.requests).toHaveLength(3);

    collector.always(answer.slow(20));
    collector.releaseHung();
    await reporter.flush();
    expect(collector.maxActive).toBe(3);
    expect(collector.requests).toHaveLength(10);
    expect(sortedIds(collector.spans)).toEqual(sortedIds(spans));
    expect(reporter.stats()).toMatchObject({ requests: 10, sent: 50, queued: 0, failedRequests: 0 });
  });

  it('sends several requests over one kept-alive connection', async () => {
    const reporter = makeReporter({ batchInterval: 60_000, maxBatchSpans: 1, maxInFlight: 1 });
    for (let i = 0; i < 5; i++) reporter.report(zspan(i));
    await reporter.flush();
    expect(collector.requests).toHaveLength(5);
    expect(collector.connections).toBe(1);
    expect(new Set(collector.requests.map((r) => r.remotePort)).size).toBe(1);
    expect(collector.requests.map((r) => r.headers.connection)).toEqual(Array(5).fill('keep-alive'));

    // Later flushes reuse the idle socket too.
    reporter.report(zspan(5));
    await reporter.flush();
    expect(collector.connections).toBe(1);
  });

  it('opens no more connections than maxInFlight', async () => {
    collector.always(answer.slow(10));
    const reporter = makeReporter({ batchInterval: 60_000, maxBatchSpans: 2, maxInFlight: 2 });
    for (let i = 0; i < 40; i++) reporter.report(zspan(i));
    await reporter.flush();
    expect(collector.requests).toHaveLength(20);
    expect(collector.connections).toBeLessThanOrEqual(2);
  });
});

describe("the tracer's spans", () => {
  it('are written straight into the queue, as the bytes of the text the tracer would have made, and arrive as that text', async () => {
    const addFinished = vi.spyOn(SpanQueue.prototype, 'addFinished');
    const add = vi.spyOn(SpanQueue.prototype, 'add');
    const texts: string[] = [];
    // A second reporter with reportJson gets the text: what the first must deliver, byte for byte.
    const reporter = makeReporter({ gzip: false });
    const tracer = createTracer({ serviceName: 'http-spec', reporter: [reporter, { report() {}, reportJson: (json: string) => texts.push(json) }], global: false });
    tracers.push(tracer);
    try {
      for (let i = 0; i < 5; i++) tracer.withSpan(`op ${i} ü€😀`, { kind: 'SERVER', tags: { i, 'quote"d': 'back\\slash' } }, () => {});
      await reporter.flush();
      expect(addFinished).toHaveBeenCalledTimes(5);
      expect(add).not.toHaveBeenCalled();
    } finally {
      addFinished.mockRestore();
      add.mockRestore();
    }
    expect(collector.requests).toHaveLength(1);
    expect(collector.requests[0]!.body.equals(Buffer.from(`[${texts.join(',')}]`))).toBe(true);
  });

  it('go through a subclass that overrides reportJson, which sees each as text', async () => {
    const seen: string[] = [];
    class Redacting extends HttpReporter {
      override reportJson(json: string): void {
        seen.push(json);
        super.reportJson(json.replace('secret', 'xxxxxx'));
      }
    }
    const reporter = new Redacting({ url: collector.url, logger: false });
    reporters.push(reporter);
    makeTracer(reporter).withSpan('op', { tags: { token: 'secret' } }, () => {});
    await reporter.flush();
    expect(seen).toHaveLength(1);
    expect(collector.spans.map((s) => s.tags?.token)).toEqual(['xxxxxx']);
  });

  it('larger than maxBatchBytes are dropped as tooLarge and told with their size', async () => {
    const logger = recordingLogger();
    const reporter = makeReporter({ maxBatchBytes: 400, logger });
    const tracer = makeTracer(reporter);
    tracer.withSpan('big', { tags: { pad: 'x'.repeat(500) } }, () => {});
    tracer.withSpan('small', () => {});
    await reporter.flush();
    expect(reporter.stats()).toMatchObject({ reported: 2, sent: 1, dropped: { tooLarge: 1 } });
    expect(logger.calls.map((c) => c.kind)).toEqual(['too-large']);
    expect(logger.calls[0]!.message).toMatch(/^ziptrace: a span of 6\d\d bytes is larger than maxBatchBytes \(400\) and was dropped$/);
    expect(collector.spans.map((s) => s.name)).toEqual(['small']);
  });
});

describe('request bodies', () => {
  it("reuse a delivered batch's body for later ones, and every span arrives as it was", async () => {
    const reporter = makeReporter({ gzip: false, maxBatchSpans: 40 });
    const tracer = makeTracer(reporter);
    const takes = vi.spyOn(SpanQueue.prototype, 'take');
    const stores = new Set<ArrayBufferLike>();
    let batches = 0;
    try {
      // Ten flushes of 40 spans of about 600 bytes: bodies of about 24 KB, written into the same one or two stores.
      for (let round = 0; round < 10; round++) {
        for (let i = 0; i < 40; i++) tracer.withSpan(`op ${round}.${i}`, { tags: { round, i, pad: 'x'.repeat(400 + i) } }, () => {});
        await reporter.flush();
      }
      for (const result of takes.mock.results) {
        const batch = result.value as ReturnType<SpanQueue['take']>;
        if (batch === undefined) continue;
        batches++;
        stores.add(batch.body.buffer);
      }
    } finally {
      takes.mockRestore();
    }
    expect(batches).toBe(10);
    expect(stores.size).toBeLessThanOrEqual(2);
    expect(reporter.stats()).toMatchObject({ reported: 400, sent: 400, droppedTotal: 0 });
    const names = collector.spans.map((s) => s.name);
    expect(names).toEqual(Array.from({ length: 400 }, (_, k) => `op ${Math.floor(k / 40)}.${k % 40}`));
    collector.spans.forEach((s, k) => expect(s.tags).toEqual({ round: String(Math.floor(k / 40)), i: String(k % 40), pad: 'x'.repeat(400 + (k % 40)) }));
  });

  it('are not called free when the collector answered before all of the body was written', async () => {
    // A collector that answers at the headers and then reads nothing: 32 MB cannot all be written into loopback's buffers.
    const sockets = new Set<Socket>();
    const rude = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('data', () => {
        socket.write('HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n');
        socket.pause();
      });
    });
    await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', resolve));
    const outcomes: PostOutcome[] = [];
    const transport = new HttpTransport<undefined>(
      { url: new URL(`http://127.0.0.1:${(rude.address() as AddressInfo).port}/api/v2/spans`), headers: undefined, timeout: 30_000, gzipThreshold: Infinity, maxSockets: 1, tls: undefined },
      { beforeRequest: () => true, afterRequest: (_, outcome) => outcomes.push(outcome) },
    );
    try {
      transport.post(Buffer.alloc(32 << 20, 0x20), 32 << 20, undefined);
      await waitFor(() => outcomes.length === 1, 'the rude collector\'s answer');
      expect(outcomes[0]).toMatchObject({ kind: 'answer', status: 202, bodyFree: false });
    } finally {
      transport.abort();
      transport.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => rude.close(resolve));
    }
    // The same transport to the test collector, which reads every byte before answering: free.
    const polite = new HttpTransport<undefined>(
      { url: new URL(collector.url + '/api/v2/spans'), headers: undefined, timeout: 30_000, gzipThreshold: Infinity, maxSockets: 1, tls: undefined },
      { beforeRequest: () => true, afterRequest: (_, outcome) => outcomes.push(outcome) },
    );
    try {
      polite.post(Buffer.from('[]'), 2, undefined);
      await waitFor(() => outcomes.length === 2, 'the test collector\'s answer');
      expect(outcomes[1]).toMatchObject({ kind: 'answer', bodyFree: true });
    } finally {
      polite.destroy();
    }
  });
});

describe('requests', () => {
  it('carry b3: 0, content-type application/json and the extra headers, which cannot override them', async () => {
    const reporter = makeReporter({ headers: { authorization: 'Bearer token', b3: '1', 'content-type': 'text/plain' } });
    reporter.report(zspan(1));
    await reporter.flush();
    const [request] = collector.requests;
    expect(request!.headers).toMatchObject({ b3: '0', 'content-type': 'application/json', authorization: 'Bearer token' });
    expect(Number(request!.headers['content-length'])).toBe(request!.rawLength);
    expect(request!.method).toBe('POST');
  });

  it('a request the HTTP client refuses (a header it cannot send) drops its batch as rejected, told once, not retried', async () => {
    const logger = recordingLogger();
    const reporter = makeReporter({ headers: { 'x-token': 'line\nbreak' }, retryBackoff: { initial: 5, max: 5 }, logger });
    for (let i = 0; i < 3; i++) reporter.report(zspan(i));
    await reporter.flush();
    // A retry would have come within 5 ms; none does.
    await sleep(25);
    expect(collector.requests).toHaveLength(0);
    expect(reporter.stats()).toMatchObject({ reported: 3, sent: 0, queued: 0, requests: 1, failedRequests: 1, retries: 0, droppedTotal: 3, dropped: { rejected: 3 } });
    expect(logger.calls.map((c) => c.kind)).toEqual(['request-invalid']);
    expect(logger.calls[0]!.message).toMatch(new RegExp(`^ziptrace: could not make a request to ${collector.url}: TypeError.*header.*x-token`, 'i'));
  });

  it('with gzip: true, gzips bodies above the default threshold (1024 bytes) and not below it; both decode to valid Zipkin v2 JSON', async () => {
    const reporter = makeReporter({ batchInterval: 60_000, gzip: true });
    const tracer = makeTracer(reporter);
    // One small span: well under 1024 bytes.
    tracer.withSpan('small', () => {});
    await reporter.flush();
    // Then a batch of realistic spans well over it.
    await tracer.withSpan('GET /big', { kind: 'SERVER', tags: { 'http.path': '/big' } }, async (root) => {
      root.annotate('wire receive');
      for (let i = 0; i < 20; i++) tracer.withSpan(`child-${i}`, { tags: { index: i, note: 'some text to make it larger' } }, () => {});
    });
    await reporter.flush();

    const [small, big] = collector.requests;
    expect(small!.headers['content-encoding']).toBeUndefined();
    expect(small!.rawLength).toBe(Buffer.byteLength(small!.text));
    expect(Buffer.byteLength(small!.text)).toBeLessThan(1024);

    expect(big!.headers['content-encoding']).toBe('gzip');
    expect(Buffer.byteLength(big!.text)).toBeGreaterThan(1024);
    expect(big!.rawLength).toBeLessThan(Buffer.byteLength(big!.text));
    expect(big!.spans).toHaveLength(21);

    for (const request of collector.requests) validateZipkinSpans(request.json);
    expect(reporter.stats().bytesSent).toBe(small!.rawLength + big!.rawLength);
  });

  it('sends plain JSON to a collector on this machine, by default and with gzip: false, however large the body', async () => {
    // Both are off here, so they look alike on the wire; that gzip: false also wins over a remote collector's default is http-options.spec's.
    expect(new URL(collector.url).hostname).toBe('127.0.0.1');
    const byDefault = makeReporter({ batchInterval: 60_000 });
    const tracer = makeTracer(byDefault);
    for (let i = 0; i < 50; i++) tracer.withSpan(`span-${i}`, { tags: { note: 'some text to make it larger' } }, () => {});
    await byDefault.flush();
    const off = makeReporter({ batchInterval: 60_000, gzip: false });
    for (let i = 0; i < 30; i++) off.report(zspan(i, 100));
    await off.flush();
    expect(collector.requests).toHaveLength(2);
    for (const [request, spans] of [[collector.requests[0]!, 50], [collector.requests[1]!, 30]] as const) {
      expect(request.headers['content-encoding']).toBeUndefined();
      expect(Buffer.byteLength(request.text)).toBeGreaterThan(3000);
      expect(request.rawLength).toBe(Buffer.byteLength(request.text));
      validateZipkinSpans(request.json);
      expect(request.spans).toHaveLength(spans);
    }
    expect(byDefault.stats().bytesSent).toBe(collector.requests[0]!.rawLength);
    expect(off.stats().bytesSent).toBe(collector.requests[1]!.rawLength);
  });

  it('gzips bodies of at least gzip.threshold bytes', async () => {
    const size = bytesOf(zspan(0));
    const at = makeReporter({ gzip: { threshold: size + 2 } });
    at.report(zspan(0));
    await at.flush();
    const above = makeReporter({ gzip: { threshold: size + 3 } });
    above.report(zspan(1));
    await above.flush();
    expect(collector.requests.map((r) => r.headers['content-encoding'])).toEqual(['gzip', undefined]);
    for (const request of collector.requests) validateZipkinSpans(request.json);
  });
});

describe('failures', () => {
  it('loses nothing when the collector fails a few times (500, 503, reset, 408, 429 + Retry-After) and recovers (fake timers)', () =>
    withFakeTimers(async () => {
      collector.next(answer.status(500), answer.status(503), answer.reset(), answer.status(408), answer.retryAfter(1));
      const logger = recordingLogger();
      // gzip off: ten spans would be gzipped (off the thread), and expectRetryBetween needs the request made in the timer's callback.
      const reporter = makeReporter({ batchInterval: 60_000, retryBackoff: { initial: 10, max: 40 }, maxRetries: 5, logger, gzip: false });
      const spans = Array.from({ length: 10 }, (_, i) => zspan(i));
      for (const span of spans) reporter.report(span);
      const flushed = reporter.flush();
      // Backoff ceilings 10, 20, 40, 40 ms: each retry waits half its ceiling at least, the whole at most.
      await expectRetryBetween(reporter, 1, 5, 10);
      await expectRetryBetween(reporter, 2, 10, 20);
      await expectRetryBetween(reporter, 3, 20, 40);
      await expectRetryBetween(reporter, 4, 20, 40);
      // The 429 asked for a second: far more than the backoff, so exactly a second.
      await expectRetryBetween(reporter, 5, 1000, 1000);
      await flushed;

      expect(collector.requests.map((r) => r.status ?? r.behaviour)).toEqual([500, 503, 'reset', 408, 429, 202]);
      // Every attempt carried the same spans, and the collector got them exactly once.
      for (const request of collector.requests) expect(sortedIds(request.spans)).toEqual(sortedIds(spans));
      expect(sortedIds(collector.spans)).toEqual(sortedIds(spans));
      expect(reporter.stats()).toMatchObject({ reported: 10, sent: 10, queued: 0, droppedTotal: 0, requests: 6, retries: 5, failedRequests: 5 });
      expect(logger.calls.map((c) => c.kind)).toEqual(['status-500', 'status-503', 'request-failed', 'status-408', 'status-429']);
    }));

  it('honours Retry-After given as an HTTP date, to the millisecond (fake timers and clock)', () =>
    withFakeTimers(async () => {
      // HTTP dates have whole seconds: two seconds ahead, cut to the second, is more than one second ahead.
      const retryAt = new Date(Date.now() + 2000).toUTCString();
      // The fake clock stands still until stepped, so the wait the reporter computes is this one exactly.
      const wait = Date.parse(retryAt) - Date.now();
      expect(wait).toBeGreaterThan(1000);
      collector.next(answer.status(429, '', { 'retry-after': retryAt }));
      const reporter = makeReporter({ batchInterval: 60_000, retryBackoff: { initial: 10, max: 40 } });
      reporter.report(zspan(1));
      const flushed = reporter.flush();
      await expectRetryBetween(reporter, 1, wait, wait);
      await flushed;
      expect(collector.requests.map((r) => r.status)).toEqual([429, 202]);
      expect(reporter.stats()).toMatchObject({ sent: 1, retries: 1 });
    }, true));

  it('backs off exponentially between retries (each wait between half its ceiling and all of it) and gives up after maxRetries (fake timers)', () =>
    withFakeTimers(async () => {
      collector.always(answer.status(503));
      const logger = recordingLogger();
      const reporter = makeReporter({ batchInterval: 60_000, retryBackoff: { initial: 80, max: 10_000 }, maxRetries: 3, logger });
      for (let i = 0; i < 4; i++) reporter.report(zspan(i));
      const flushed = reporter.flush();
      // Ceilings 80, 160, 320 ms; equal jitter waits at least half of each.
      await expectRetryBetween(reporter, 1, 40, 80);
      await expectRetryBetween(reporter, 2, 80, 160);
      await expectRetryBetween(reporter, 3, 160, 320);
      await flushed;
      expect(collector.requests).toHaveLength(4);
      expect(reporter.stats()).toMatchObject({ sent: 0, queued: 0, requests: 4, retries: 3, failedRequests: 4 });
      expect(reporter.stats().dropped).toMatchObject({ retriesExhausted: 4 });
      expect(logger.calls.filter((c) => c.kind === 'retries-exhausted')).toHaveLength(1);
      expect(logger.calls.find((c) => c.kind === 'retries-exhausted')!.message).toMatch(/gave up on a batch of 4 spans after 4 attempts/);
    }));

  it('caps the backoff at retryBackoff.max (fake timers)', () =>
    withFakeTimers(async () => {
      collector.always(answer.status(500));
      // Uncapped, the ceilings from 40 ms would double to 5120 ms; capped, every retry comes within 40 ms.
      const reporter = makeReporter({ batchInterval: 60_000, retryBackoff: { initial: 40, max: 40 }, maxRetries: 8 });
      reporter.report(zspan(0));
      const flushed = reporter.flush();
      for (let failure = 1; failure <= 8; failure++) await expectRetryBetween(reporter, failure, 20, 40);
      await flushed;
      expect(collector.requests).toHaveLength(9);
      expect(reporter.stats()).toMatchObject({ requests: 9, retries: 8, sent: 0, dropped: { retriesExhausted: 1 } });
    }));

  // Regression: a throwing logger.warn ran inside the attempt's promise, before the retry: an unhandled
  // rejection, and the batch held in flight for good (flush never resolved).
  it('a logger whose warn throws costs nothing but its warnings: retries run, flush resolves, every span is counted', async () => {
    collector.always(answer.status(503));
    let calls = 0;
    const logger: ReporterLogger = {
      warn() {
        calls++;
        throw new Error('the log sink is down');
      },
    };
    const reporter = makeReporter({ maxRetries: 2, retryBackoff: { initial: 1, max: 2 }, logger });
    for (let i = 0; i < 3; i++) reporter.report(zspan(i));
    await reporter.flush();
    expect(collector.requests).toHaveLength(3);
    expect(calls).toBe(4);
    const stats = reporter.stats();
    expect(stats).toMatchObject({ reported: 3, queued: 0, requests: 3, retries: 2, dropped: { retriesExhausted: 3 } });
    expect(stats.reported).toBe(stats.sent + stats.queued + stats.droppedTotal);
  });

  it('makes a single attempt with maxRetries: 0', async () => {
    collector.always(answer.status(500));
    const reporter = makeReporter({ maxRetries: 0 });
    reporter.report(zspan(0));
    await reporter.flush();
    expect(collector.requests).toHaveLength(1);
    expect(reporter.stats()).toMatchObject({ requests: 1, retries: 0, failedRequests: 1 });
    expect(reporter.stats().dropped.retriesExhausted).toBe(1);
  });

  for (const status of [400, 401, 404, 422]) {
    it(`drops a batch answered ${status} as rejected, without retrying, and tells the logger once with the reason`, async () => {
      const reason = `span 1 of 4: "id" must be 16 lower-hex characters (status ${status})`;
      collector.always(answer.status(status, `${reason}\n`));
      const logger = recordingLogger();
      const reporter = makeReporter({ batchInterval: 60_000, retryBackoff: { initial: 5, max: 5 }, logger });
      for (let i = 0; i < 4; i++) reporter.report(zspan(i));
      await reporter.flush();
      // A retry would have come within 5 ms; none does.
      await sleep(25);
      expect(collector.requests).toHaveLength(1);
      expect(reporter.stats()).toMatchObject({ sent: 0, queued: 0, requests: 1, retries: 0, failedRequests: 1, droppedTotal: 4 });
      expect(reporter.stats().dropped.rejected).toBe(4);
      expect(logger.calls).toHaveLength(1);
      expect(logger.calls[0]!.kind).toBe(`status-${status}`);
      expect(logger.calls[0]!.message).toContain(String(status));
      expect(logger.calls[0]!.message).toContain(reason);
    });
  }

  it('splits a batch answered 413 once; halves that pass are sent', async () => {
    collector.always(answer.tooLarge(3));
    const reporter = makeReporter({ batchInterval: 60_000 });
    const spans = Array.from({ length: 6 }, (_, i) => zspan(i));
    for (const span of spans) reporter.report(span);
    await reporter.flush();
    expect(collector.requests.map((r) => [r.spans.length, r.status])).toEqual([
      [6, 413],
      [3, 202],
      [3, 202],
    ]);
    expect(sortedIds(collector.spans)).toEqual(sortedIds(spans));
    expect(reporter.stats()).toMatchObject({ sent: 6, droppedTotal: 0, requests: 3, retries: 0 });
  });

  it('drops a batch still answered 413 after one split as tooLarge, without splitting again', async () => {
    collector.always(answer.tooLarge(3));
    const logger = recordingLogger();
    const reporter = makeReporter({ batchInterval: 60_000, logger });
    for (let i = 0; i < 10; i++) reporter.report(zspan(i));
    await reporter.flush();
    await sleep(50);
    expect(collector.requests.map((r) => [r.spans.length, r.status])).toEqual([
      [10, 413],
      [5, 413],
      [5, 413],
    ]);
    expect(reporter.stats()).toMatchObject({ sent: 0, queued: 0, droppedTotal: 10 });
    expect(reporter.stats().dropped.tooLarge).toBe(10);
    expect(logger.calls.length).toBeGreaterThanOrEqual(1);
    expect(logger.calls.every((c) => c.kind === 'too-large')).toBe(true);
  });

  it('drops a one-span batch answered 413 as tooLarge at once', async () => {
    collector.always(answer.tooLarge(0));
    const reporter = makeReporter();
    reporter.report(zspan(0));
    await reporter.flush();
    expect(collector.requests).toHaveLength(1);
    expect(reporter.stats().dropped.tooLarge).toBe(1);
  });

  it('drops a single span larger than maxBatchBytes as tooLarge when it is reported; one that just fits is sent', async () => {
    const size = bytesOf(zspan(0, 300));
    const logger = recordingLogger();
    // A body of one span is the span and two brackets.
    const reporter = makeReporter({ batchInterval: 60_000, maxBatchBytes: size + 2, logger, gzip: false });
    reporter.report(zspan(0, 300));
    reporter.report(zspan(1, 301));
    expect(reporter.stats()).toMatchObject({ reported: 2, queued: 1, droppedTotal: 1 });
    expect(reporter.stats().dropped.tooLarge).toBe(1);
    expect(logger.calls.map((c) => c.kind)).toEqual(['too-large']);
    expect(logger.calls[0]!.message).toContain(`larger than maxBatchBytes (${size + 2})`);
    await reporter.flush();
    expect(collector.requests.map((r) => r.rawLength)).toEqual([size + 2]);
    expect(sortedIds(collector.spans)).toEqual([zspan(0).id]);
  });

  it('times out a request the collector never answers, at its deadline to the millisecond, and retries it (fake timers)', () =>
    withFakeTimers(async () => {
      collector.next(answer.hang());
      const logger = recordingLogger();
      const reporter = makeReporter({ timeout: 200, maxRetries: 1, retryBackoff: { initial: 10, max: 10 }, logger });
      reporter.report(zspan(0));
      const flushed = reporter.flush();
      await waitFor(() => collector.active === 1, 'the collector to hold the request');
      await vi.advanceTimersByTimeAsync(199);
      await sleep(20);
      expect(reporter.stats()).toMatchObject({ requests: 1, failedRequests: 0 });
      expect(collector.aborted).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      await expectRetryBetween(reporter, 1, 5, 10);
      await flushed;
      expect(collector.requests.map((r) => r.behaviour)).toEqual(['hang', 'accept']);
      expect(reporter.stats()).toMatchObject({ sent: 1, requests: 2, retries: 1, failedRequests: 1, droppedTotal: 0 });
      expect(logger.calls.map((c) => c.kind)).toEqual(['request-failed']);
      expect(logger.calls[0]!.message).toMatch(/no answer within 200 ms/);
      // The timed-out request was really abandoned: the collector saw its client go.
      await waitFor(() => collector.aborted === 1, 'the collector to see the request aborted');
    }));

  it('drops a batch as retriesExhausted when every attempt times out', async () => {
    collector.always(answer.hang());
    const reporter = makeReporter({ timeout: 100, maxRetries: 1, retryBackoff: { initial: 5, max: 5 } });
    for (let i = 0; i < 3; i++) reporter.report(zspan(i));
    await reporter.flush();
    expect(reporter.stats()).toMatchObject({ requests: 2, failedRequests: 2, sent: 0, queued: 0 });
    expect(reporter.stats().dropped.retriesExhausted).toBe(3);
  });

  it('keeps waiting for a slow collector that answers within the timeout', async () => {
    collector.always(answer.slow(150));
    const reporter = makeReporter({ timeout: 5000 });
    reporter.report(zspan(0));
    await reporter.flush();
    expect(reporter.stats()).toMatchObject({ sent: 1, requests: 1, failedRequests: 0 });
  });
});

describe('bounded queue', () => {
  it('counts spans in flight against maxQueueSpans', async () => {
    collector.always(answer.hang());
    const logger = recordingLogger();
    const reporter = makeReporter({ maxQueueSpans: 10, maxBatchSpans: 5, maxInFlight: 2, timeout: 20_000, logger });
    for (let i = 0; i < 10; i++) reporter.report(zspan(i));
    await waitFor(() => collector.active === 2, 'both batches held by the collector');
    expect(reporter.stats()).toMatchObject({ queued: 10, requests: 2 });
    for (let i = 10; i < 15; i++) reporter.report(zspan(i));
    expect(reporter.stats()).toMatchObject({ reported: 15, queued: 10, droppedTotal: 5 });
    expect(reporter.stats().dropped.queueFull).toBe(5);
    expect(logger.calls.map((c) => c.kind)).toEqual(Array(5).fill('queue-full'));
    expect(logger.calls[0]!.message).toBe(`ziptrace: the span queue is full (10 spans or ${16 * 1024 * 1024} bytes); dropping spans until ${collector.url} catches up`);
    // The five dropped are gone for good: once the collector answers, only the first ten arrive.
    collector.releaseHung();
    await reporter.flush();
    expect(sortedIds(collector.spans)).toEqual(sortedIds(Array.from({ length: 10 }, (_, i) => zspan(i))));
    expect(reporter.stats()).toMatchObject({ reported: 15, sent: 10, queued: 0, droppedTotal: 5 });
  });

  it('counts bytes in flight against maxQueueBytes', async () => {
    collector.always(answer.hang());
    const size = bytesOf(zspan(0, 100));
    const reporter = makeReporter({ maxQueueBytes: 4 * size, maxBatchSpans: 2, maxInFlight: 2, timeout: 20_000 });
    for (let i = 0; i < 4; i++) reporter.report(zspan(i, 100));
    await waitFor(() => collector.active === 2, 'both batches held by the collector');
    expect(reporter.stats()).toMatchObject({ queued: 4, queuedBytes: 4 * size });
    reporter.report(zspan(4, 100));
    reporter.report(zspan(5));
    expect(reporter.stats()).toMatchObject({ reported: 6, queued: 4, queuedBytes: 4 * size });
    expect(reporter.stats().dropped.queueFull).toBe(2);
  });

  const caps: [string, Partial<HttpReporterOptions>, 'queued' | 'queuedBytes', number][] = [
    ['maxQueueSpans', { maxQueueSpans: 2_000, maxQueueBytes: 64 << 20 }, 'queued', 2_000],
    ['maxQueueBytes', { maxQueueSpans: 1_000_000, maxQueueBytes: 200_000 }, 'queuedBytes', 200_000],
  ];
  for (const [name, options, measure, cap] of caps) {
    it(`with the collector down, 100,000 spans never take the queue past ${name}, and every span is accounted for`, async () => {
      const port = await closedPort();
      const reporter = makeReporter({
        url: `http://127.0.0.1:${port}`,
        ...options,
        batchInterval: 5,
        maxBatchSpans: 200,
        maxRetries: 2,
        retryBackoff: { initial: 5, max: 20 },
        timeout: 1000,
      });
      const tracer = makeTracer(reporter, 'flood');
      let maxQueued = 0;
      let maxBytes = 0;
      let samples = 0;
      for (let i = 0; i < 100_000; i++) {
        tracer.withSpan('op', (span) => void span.tag('i', i));
        if (i % 50 === 0) {
          const stats = reporter.stats();
          samples++;
          maxQueued = Math.max(maxQueued, stats.queued);
          maxBytes = Math.max(maxBytes, stats.queuedBytes);
          expect(stats.queued).toBeLessThanOrEqual(options.maxQueueSpans!);
          expect(stats.queuedBytes).toBeLessThanOrEqual(options.maxQueueBytes!);
          expectBalanced(stats);
        }
        // Let requests fail and retry while spans keep coming.
        if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
      }
      const stats = reporter.stats();
      expect(samples).toBe(2000);
      expect(stats.reported).toBe(100_000);
      expect(stats.failedRequests).toBeGreaterThan(0);
      expect(stats.sent).toBe(0);
      expect(stats.dropped.queueFull).toBeGreaterThan(0);
      // The cap under test is the one that bound: the queue got within a span of it.
      const reached = measure === 'queued' ? maxQueued : maxBytes;
      expect(reached).toBeGreaterThan(cap * 0.95);
      expectBalanced(stats);

      await reporter.close({ timeout: 200 });
      const closed = reporter.stats();
      expect(closed.queued).toBe(0);
      expect(closed.queuedBytes).toBe(0);
      expect(closed.reported).toBe(100_000);
      expect(closed.sent + closed.droppedTotal).toBe(100_000);
      expectBalanced(closed);
    });
  }
});

describe('flush and close', () => {
  it('tracer.flush() sends what is queued', async () => {
    const reporter = makeReporter({ batchInterval: 60_000 });
    const tracer = makeTracer(reporter);
    for (let i = 0; i < 7; i++) tracer.withSpan(`op-${i}`, () => {});
    expect(collector.requests).toHaveLength(0);
    await tracer.flush();
    expect(collector.spans).toHaveLength(7);
    expect(reporter.stats()).toMatchObject({ sent: 7, queued: 0 });
    // Flushing with nothing queued resolves at once and sends nothing.
    await tracer.flush();
    expect(collector.requests).toHaveLength(1);
  });

  it('close() keeps its deadline, to the millisecond, against a collector that accepts and never answers, and counts what was left as closed (fake timers)', () =>
    withFakeTimers(async () => {
      collector.always(answer.hang());
      const reporter = makeReporter({ timeout: 60_000 });
      for (let i = 0; i < 20; i++) reporter.report(zspan(i));
      let closed = false;
      const closing = reporter.close({ timeout: 300 }).then(() => (closed = true));
      await waitFor(() => collector.active === 1, 'the collector to hold the request');
      await vi.advanceTimersByTimeAsync(299);
      expect(closed).toBe(false);
      expect(reporter.stats()).toMatchObject({ queued: 20, droppedTotal: 0 });
      await vi.advanceTimersByTimeAsync(1);
      await closing;
      expect(collector.requests).toHaveLength(1);
      expect(reporter.stats()).toMatchObject({ reported: 20, sent: 0, queued: 0, queuedBytes: 0, droppedTotal: 20 });
      expect(reporter.stats().dropped.closed).toBe(20);
      // The hung request was torn down, not left open.
      await waitFor(() => collector.aborted === 1, 'the collector to see the request aborted');
    }));

  it('tracer.close({ timeout }) keeps its deadline against a hung collector (zipkinUrl)', async () => {
    collector.always(answer.hang());
    const tracer = createTracer({ serviceName: 'close-hung', zipkinUrl: collector.url, global: false });
    tracers.push(tracer);
    for (let i = 0; i < 5; i++) tracer.withSpan(`op-${i}`, () => {});
    const started = performance.now();
    await tracer.close({ timeout: 300 });
    expect(performance.now() - started).toBeLessThan(1500);
    const stats = (tracer.reporter as HttpReporter).stats();
    expect(stats).toMatchObject({ reported: 5, queued: 0, sent: 0 });
    expect(stats.dropped.closed).toBe(5);
  });

  it('close() does not wait out a retry scheduled past its deadline', async () => {
    collector.always(answer.status(503));
    const reporter = makeReporter({ retryBackoff: { initial: 60_000, max: 60_000 } });
    for (let i = 0; i < 5; i++) reporter.report(zspan(i));
    void reporter.flush();
    await waitFor(() => reporter.stats().failedRequests === 1, 'the first attempt to fail');
    const started = performance.now();
    await reporter.close({ timeout: 200 });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(reporter.stats()).toMatchObject({ queued: 0, requests: 1 });
    expect(reporter.stats().dropped.closed).toBe(5);
  });

  it('close() delivers what is queued when the collector answers', async () => {
    const reporter = makeReporter({ batchInterval: 60_000 });
    for (let i = 0; i < 5; i++) reporter.report(zspan(i));
    await reporter.close({ timeout: 5000 });
    expect(collector.spans).toHaveLength(5);
    expect(reporter.stats()).toMatchObject({ sent: 5, droppedTotal: 0 });
  });

  it('report() never throws: after close the span is counted closed; an unencodable span is counted unencodable', async () => {
    const logger = recordingLogger();
    const reporter = makeReporter({ logger });
    const circular = { ...zspan(0), tags: {} as Record<string, unknown> };
    circular.tags.self = circular;
    reporter.report(circular as unknown as ZipkinSpan);
    reporter.report({ ...zspan(1), duration: 10n } as unknown as ZipkinSpan);
    expect(reporter.stats()).toMatchObject({ reported: 2, queued: 0, droppedTotal: 2, dropped: { unencodable: 2 } });
    expect(logger.calls.map((c) => c.kind)).toEqual(['unencodable', 'unencodable']);
    expect(logger.calls.map((c) => c.message)).toEqual([
      expect.stringMatching(/^ziptrace: a span could not be encoded as JSON and was dropped: TypeError: .*circular/i),
      expect.stringMatching(/^ziptrace: a span could not be encoded as JSON and was dropped: TypeError: .*BigInt/i),
    ]);

    await reporter.close({ timeout: 200 });
    reporter.report(zspan(2));
    // Counted, not queued, and not told: a span after close is the app shutting down, not a fault.
    expect(logger.calls).toHaveLength(2);
    expect(reporter.stats()).toMatchObject({ reported: 3, queued: 0, sent: 0, droppedTotal: 3 });
    expect(reporter.stats().dropped.closed).toBe(1);
    // flush and close after close resolve.
    await reporter.flush();
    await reporter.close();
    expect(collector.requests).toHaveLength(0);
  });

  it('reportJson() queues a span already encoded, beside report(); given anything but text it drops it as unencodable', async () => {
    const logger = recordingLogger();
    const reporter = makeReporter({ logger });
    reporter.report(zspan(0));
    reporter.reportJson(JSON.stringify(zspan(1)));
    reporter.reportJson(42 as unknown as string);
    reporter.reportJson(undefined as unknown as string);
    expect(logger.calls.map((c) => c.message)).toEqual([
      "ziptrace: reportJson takes a span's JSON text, got number; dropped",
      "ziptrace: reportJson takes a span's JSON text, got undefined; dropped",
    ]);
    await reporter.flush();
    expect(collector.spans).toEqual([zspan(0), zspan(1)]);
    expect(reporter.stats()).toMatchObject({ reported: 4, sent: 2, droppedTotal: 2 });
    expect(reporter.stats().dropped.unencodable).toBe(2);
    expect(logger.calls.map((c) => c.kind)).toEqual(['unencodable', 'unencodable']);
    await reporter.close();
  });

  it('the exit flush (what beforeExit calls) sends what waits, once at a time, and drops what is not out within exitTimeout (fake timers)', () =>
    withFakeTimers(async () => {
      const reporter = makeReporter({ batchInterval: 60_000, exitTimeout: 100 });
      // Idle: nothing to do.
      reporter.exitFlush();
      expect(reporter.stats().requests).toBe(0);
      for (let i = 0; i < 3; i++) reporter.report(zspan(i));
      reporter.exitFlush();
      reporter.exitFlush();
      await waitFor(() => reporter.stats().sent === 3, 'the exit flush to deliver');
      expect(collector.requests).toHaveLength(1);

      collector.always(answer.hang());
      reporter.report(zspan(3));
      reporter.exitFlush();
      await waitFor(() => collector.active === 1, 'the collector to hold the request');
      await vi.advanceTimersByTimeAsync(99);
      expect(reporter.stats()).toMatchObject({ queued: 1, droppedTotal: 0 });
      await vi.advanceTimersByTimeAsync(1);
      expect(reporter.stats()).toMatchObject({ reported: 4, sent: 3, queued: 0, droppedTotal: 1, dropped: { closed: 1 } });
      // Not closed by it: later spans are still taken and sent.
      collector.always(answer.accept());
      reporter.report(zspan(4));
      await reporter.flush();
      expect(reporter.stats()).toMatchObject({ reported: 5, sent: 4, queued: 0 });
      await reporter.close();
      // A closed reporter has nothing to flush on exit.
      reporter.report(zspan(5));
      reporter.exitFlush();
      expect(reporter.stats()).toMatchObject({ requests: 3, dropped: { closed: 2 } });
    }));

  it('installs no signal handlers', () => {
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
    const before = signals.map((s) => process.listenerCount(s));
    makeReporter();
    const tracer = createTracer({ serviceName: 'signals', zipkinUrl: collector.url, global: false });
    tracers.push(tracer);
    expect(signals.map((s) => process.listenerCount(s))).toEqual(before);
  });
});

describe('context', () => {
  // In-process garbage collection, so a WeakRef shows whether anything still holds a span.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;

  /** Whether the spans get collected. deref() keeps its target for the rest of the job, so gc runs in a later one. */
  async function collected(refs: WeakRef<object>[]): Promise<boolean> {
    for (let i = 0; i < 50; i++) {
      gc();
      if (refs.every((ref) => ref.deref() === undefined)) return true;
      await sleep(10);
    }
    return false;
  }

  it("delivers spans finished inside a request, and neither the reporter's timer nor its sockets hold the request's context", async () => {
    const reporter = makeReporter({ batchInterval: 60_000 });
    const tracer = makeTracer(reporter, 'ctx');

    // A request whose spans finish inside it: the first report (db.query's, with db.query active) arms the batch timer there.
    const first: WeakRef<object>[] = [];
    await tracer.withSpan('GET /orders', { kind: 'SERVER' }, async (span) => {
      first.push(new WeakRef(span));
      await tracer.withSpan('db.query', { kind: 'CLIENT' }, (db) => {
        first.push(new WeakRef(db));
        return sleep(1);
      });
    });
    expect(reporter.stats()).toMatchObject({ queued: 2, requests: 0 });
    // The minute-long timer is still pending; had it been made in the request's context it would hold its spans.
    expect(await collected(first)).toBe(true);

    // A flush from inside another request: the socket it opens stays in the keep-alive pool afterwards.
    const second: WeakRef<object>[] = [];
    await tracer.withSpan('POST /flush', async (span) => {
      second.push(new WeakRef(span));
      await reporter.flush();
    });
    expect(collector.spans.map((s) => s.name)).toEqual(['db.query', 'GET /orders']);
    expect(collector.connections).toBe(1);
    expect(await collected(second)).toBe(true);

    // A batch filled (and so sent) from inside a request, then failed: its retry timer, minutes away, does not hold the request either.
    collector.next(answer.status(503));
    const retrying = makeReporter({ maxBatchSpans: 1, retryBackoff: { initial: 60_000, max: 60_000 } });
    const third: WeakRef<object>[] = [];
    await tracer.withSpan('POST /retry', async (span) => {
      third.push(new WeakRef(span));
      retrying.report(zspan(0));
      expect(retrying.stats().requests).toBe(1);
      await waitFor(() => retrying.stats().failedRequests === 1, 'the first attempt to fail');
    });
    expect(retrying.stats()).toMatchObject({ queued: 1, retries: 0 });
    expect(await collected(third)).toBe(true);
  });

  it('the reporter makes its requests with no span active (its own requests are not traced)', async () => {
    const { storage } = (globalThis as unknown as Record<symbol, { storage: { getStore(): unknown } }>)[Symbol.for('ziptrace.runtime.v1')]!;
    const seen: unknown[] = [];
    const reporter = makeReporter({ batchInterval: 60_000 });
    const tracer = makeTracer(reporter);
    // Watch what is active whenever the reporter's request emits events (socket, response, close).
    const original = http.ClientRequest.prototype.emit;
    http.ClientRequest.prototype.emit = function (this: unknown, ...args: Parameters<typeof original>) {
      seen.push(storage.getStore());
      return original.apply(this as never, args);
    } as typeof original;
    try {
      await tracer.withSpan('GET /x', async () => {
        tracer.withSpan('inner', () => {});
        await reporter.flush();
      });
    } finally {
      http.ClientRequest.prototype.emit = original;
    }
    expect(collector.spans).toHaveLength(1);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((store) => store === undefined)).toBe(true);
  });
});

describe('logging', () => {
  /** process.emitWarning, recorded instead of printed: these warnings are expected, so they must not reach the test output. */
  function captureWarnings(): { calls: { message: string; type: string | undefined; code: string | undefined }[]; restore: () => void } {
    const calls: { message: string; type: string | undefined; code: string | undefined }[] = [];
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(((warning: string | Error, options?: { type?: string; code?: string }) => {
      calls.push({ message: String(warning), type: options?.type, code: options?.code });
    }) as typeof process.emitWarning);
    return { calls, restore: () => spy.mockRestore() };
  }

  it('the default logger emits one process warning per kind per minute', async () => {
    const warnings = captureWarnings();
    try {
      collector.always(answer.status(400, 'no such thing'));
      const reporter = makeReporter({ logger: undefined, batchInterval: 60_000, maxBatchSpans: 1, maxInFlight: 1, maxBatchBytes: 1000 });
      for (let i = 0; i < 5; i++) reporter.report(zspan(i));
      reporter.report(zspan(5, 2000));
      reporter.report(zspan(6, 2000));
      await reporter.flush();
      expect(collector.requests).toHaveLength(5);
      expect(reporter.stats().dropped).toMatchObject({ rejected: 5, tooLarge: 2 });
      expect(warnings.calls.map((w) => w.code).sort()).toEqual(['ZIPTRACE_STATUS_400', 'ZIPTRACE_TOO_LARGE']);
      expect(new Set(warnings.calls.map((w) => w.type))).toEqual(new Set(['ZiptraceWarning']));
      expect(warnings.calls.find((w) => w.code === 'ZIPTRACE_STATUS_400')!.message).toBe(`ziptrace: ${collector.url}/api/v2/spans answered 400 and the spans were dropped: no such thing`);
      expect(warnings.calls.find((w) => w.code === 'ZIPTRACE_TOO_LARGE')!.message).toBe(`ziptrace: a span of ${bytesOf(zspan(5, 2000))} bytes is larger than maxBatchBytes (1000) and was dropped`);
    } finally {
      warnings.restore();
    }
  });

  it('throttledWarnings warns again once the window has passed, not a millisecond sooner (fake clock)', () =>
    withFakeTimers(async () => {
      const warnings = captureWarnings();
      try {
        const logger = throttledWarnings(100);
        logger.warn('a', 'queue-full');
        logger.warn('a', 'queue-full');
        logger.warn('b', 'retries-exhausted');
        vi.advanceTimersByTime(99);
        logger.warn('a', 'queue-full');
        vi.advanceTimersByTime(1);
        logger.warn('a', 'queue-full');
        expect(warnings.calls).toEqual([
          { message: 'a', type: 'ZiptraceWarning', code: 'ZIPTRACE_QUEUE_FULL' },
          { message: 'b', type: 'ZiptraceWarning', code: 'ZIPTRACE_RETRIES_EXHAUSTED' },
          { message: 'a', type: 'ZiptraceWarning', code: 'ZIPTRACE_QUEUE_FULL' },
        ]);
      } finally {
        warnings.restore();
      }
    }, true));
});
