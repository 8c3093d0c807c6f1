/**
 * `ziptrace serve`'s HTTP face, over real loopback sockets: Zipkin's POST as
 * Zipkin answers it (202, 400 with the reason, 413 past either size, 415), the
 * read API, ziptrace's own endpoints, the live stream, the data file, the
 * settled-trace callback, and the guards a server on a developer's machine
 * needs (Host, Origin, CSP, no CORS).
 */
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTracer, HttpReporter, InvalidOptionError, withSpan, type ZipkinSpan } from '../../lib/index.js';
import { startViewer, type Viewer } from '../../lib/viewer/server.js';
import type { TraceSummary, TraceView } from '../../lib/viewer/types.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with full control of its headers (fetch will not send a Host or an Origin of ours). */
function request(viewer: Viewer, path: string, options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: viewer.port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const post = (viewer: Viewer, body: unknown, headers: http.OutgoingHttpHeaders = {}) =>
  request(viewer, '/api/v2/spans', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) });

const getJson = async <T>(viewer: Viewer, path: string): Promise<T> => {
  const answer = await request(viewer, path);
  expect(answer.status, `${path}: ${answer.body}`).toBe(200);
  expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
  return JSON.parse(answer.body) as T;
};

const NOW = Date.now() * 1000;
const TRACE = '5af7183fb1d4cf5f5af7183fb1d4cf5f';
/** A gateway → users call (the server joined its client's span) with an error in users, and a SQL span. */
const SPANS: ZipkinSpan[] = [
  { traceId: TRACE, id: '0000000000000001', name: 'GET /checkout', kind: 'SERVER', timestamp: NOW, duration: 100_000, localEndpoint: { serviceName: 'gateway' }, tags: { 'http.method': 'GET' } },
  { traceId: TRACE, id: '0000000000000002', parentId: '0000000000000001', name: 'GET /users/:id', kind: 'CLIENT', timestamp: NOW + 10_000, duration: 60_000, localEndpoint: { serviceName: 'gateway' }, remoteEndpoint: { serviceName: 'users' } },
  { traceId: TRACE, id: '0000000000000002', parentId: '0000000000000001', name: 'GET /users/:id', kind: 'SERVER', shared: true, timestamp: NOW + 12_000, duration: 55_000, localEndpoint: { serviceName: 'users' }, tags: { error: 'no such user', 'http.status_code': '500' } },
  { traceId: TRACE, id: '0000000000000003', parentId: '0000000000000002', name: 'Slow SQL', kind: 'CLIENT', timestamp: NOW + 15_000, duration: 40_000, localEndpoint: { serviceName: 'users' }, remoteEndpoint: { serviceName: 'postgres' }, annotations: [{ timestamp: NOW + 15_001, value: 'START SQL' }] },
];

describe('ziptrace serve', () => {
  let viewer: Viewer;
  beforeAll(async () => {
    viewer = await startViewer({ port: 0, maxBodyBytes: 64 * 1024, maxUnzippedBytes: 256 * 1024 });
    expect((await post(viewer, SPANS)).status).toBe(202);
  });
  afterAll(() => viewer.close());

  describe('POST /api/v2/spans, as Zipkin answers it', () => {
    it('takes a JSON list of spans: 202 with an empty body', async () => {
      const answer = await post(viewer, [{ ...SPANS[0]!, traceId: 'a'.repeat(32), id: 'b'.repeat(16) }]);
      expect(answer).toMatchObject({ status: 202, body: '' });
      expect(viewer.store.trace('a'.repeat(32))).toHaveLength(1);
    });

    it('takes it gzipped, and with no Content-Type (Zipkin reads that as JSON)', async () => {
      const gz = await request(viewer, '/api/v2/spans', { method: 'POST', headers: { 'content-encoding': 'gzip' }, body: gzipSync(JSON.stringify([{ ...SPANS[0]!, traceId: 'c'.repeat(32) }])) });
      expect(gz.status).toBe(202);
      expect(viewer.store.trace('c'.repeat(32))).toHaveLength(1);
    });

    it('takes an empty list', async () => {
      expect((await post(viewer, [])).status).toBe(202);
    });

    it.each([
      ['not JSON', '{"traceId":', /json/i],
      ['not a list', { traceId: TRACE, id: '1' }, /list/i],
      ['a span with a bad trace id', [{ traceId: 'xyz', id: '0000000000000001' }], /traceId/],
      ['a span with no id', [{ traceId: TRACE }], /\bid\b/],
      ['a span id of 17 digits', [{ traceId: TRACE, id: '1'.repeat(17) }], /\bid\b/],
    ])('answers 400 with the reason for %s', async (_, body, reason) => {
      const answer = await post(viewer, body);
      expect(answer.status).toBe(400);
      expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(answer.body).toMatch(reason);
    });

    it('answers 400 for a body that is not gzip though it says so', async () => {
      const answer = await post(viewer, '[]', { 'content-encoding': 'gzip' });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatch(/gzip/);
    });

    it('answers 413 past the body limit, said up front or found while reading', async () => {
      const big = JSON.stringify([{ ...SPANS[0]!, name: 'x'.repeat(70 * 1024) }]);
      const declared = await post(viewer, big);
      expect(declared.status).toBe(413);
      expect(declared.body).toMatch(/larger than 65536 bytes/);
      // Chunked: no Content-Length to judge by, so the limit is found while reading.
      const chunked = await new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: viewer.port, path: '/api/v2/spans', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.write(big.slice(0, 40_000));
        req.write(big.slice(40_000));
        req.end();
      });
      expect(chunked).toBe(413);
    });

    it('answers 413 when a small gzip body unzips past the unzipped limit', async () => {
      const bomb = gzipSync(JSON.stringify([{ ...SPANS[0]!, name: 'x'.repeat(300 * 1024) }]));
      expect(bomb.length).toBeLessThan(64 * 1024);
      const answer = await post(viewer, bomb, { 'content-encoding': 'gzip' });
      expect(answer.status).toBe(413);
      expect(answer.body).toMatch(/unzipped body is larger than 262144 bytes/);
    });

    it('answers 415 for protobuf, thrift and unknown encodings', async () => {
      expect((await post(viewer, 'x', { 'content-type': 'application/x-protobuf' })).status).toBe(415);
      expect((await post(viewer, 'x', { 'content-type': 'application/x-thrift' })).body).toMatch(/Zipkin v2 JSON/);
      expect((await post(viewer, '[]', { 'content-encoding': 'br' })).status).toBe(415);
    });

    it('answers 405 for another method, saying which are allowed', async () => {
      const answer = await request(viewer, '/api/v2/spans', { method: 'PUT', body: '[]' });
      expect(answer.status).toBe(405);
      expect(answer.headers.allow).toBe('GET, HEAD, POST');
    });

    it('receives what a ziptrace HttpReporter sends, gzip and batches included', async () => {
      // gzip asked for: to a collector on this machine the reporter sends plain JSON by default.
      const reporter = new HttpReporter({ url: viewer.url, gzip: true, logger: false });
      const tracer = createTracer({ serviceName: 'reporter-check', global: false, reporter });
      let traceId = '';
      const outer = tracer.newTrace({ name: 'outer', sampled: true });
      await tracer.withActive(outer, async () => {
        await withSpan('inner', async (span) => {
          traceId = span.context.traceId;
          for (let i = 0; i < 50; i++) span.annotate(`step ${i} ${'y'.repeat(40)}`);
        });
      });
      outer.finish();
      await tracer.close();
      expect(viewer.store.trace(traceId)?.map((s) => s.name).sort()).toEqual(['inner', 'outer']);
      expect(viewer.store.serviceNames()).toContain('reporter-check');
      // Both spans in one gzipped body: about 3.5 KB of JSON (50 annotations of some 60 bytes), far fewer bytes sent.
      expect(reporter.stats()).toMatchObject({ sent: 2, requests: 1, droppedTotal: 0 });
      expect(reporter.stats().bytesSent).toBeLessThan(1500);
    });
  });

  describe('the read API', () => {
    it('lists services, span names and remote services, lower-cased as Zipkin does', async () => {
      expect(await getJson<string[]>(viewer, '/api/v2/services')).toEqual(expect.arrayContaining(['gateway', 'users']));
      expect(await getJson<string[]>(viewer, '/api/v2/spans?serviceName=users')).toEqual(['get /users/:id', 'slow sql']);
      expect(await getJson<string[]>(viewer, '/api/v2/remoteServices?serviceName=USERS')).toEqual(['postgres']);
    });

    it('says serviceName is required where Zipkin requires it', async () => {
      for (const path of ['/api/v2/spans', '/api/v2/remoteServices']) {
        const answer = await request(viewer, path);
        expect(answer.status).toBe(400);
        expect(answer.body).toMatch(/serviceName is required/);
      }
    });

    it('returns a trace by its 128-bit id, in any case; 404 for an unknown one; 400 for what is not an id', async () => {
      const spans = await getJson<ZipkinSpan[]>(viewer, `/api/v2/trace/${TRACE.toUpperCase()}`);
      expect(spans).toHaveLength(4);
      expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([TRACE]));
      expect((await request(viewer, `/api/v2/trace/${'e'.repeat(32)}`)).status).toBe(404);
      expect((await request(viewer, '/api/v2/trace/not-hex')).status).toBe(400);
    });

    it('finds traces with Zipkin\'s query parameters, and refuses a malformed one', async () => {
      const found = await getJson<ZipkinSpan[][]>(viewer, '/api/v2/traces?serviceName=users&annotationQuery=error&minDuration=50000');
      expect(found.map((t) => t[0]!.traceId)).toEqual([TRACE]);
      expect(await getJson<ZipkinSpan[][]>(viewer, '/api/v2/traces?serviceName=users&minDuration=500000')).toEqual([]);
      const bad = await request(viewer, '/api/v2/traces?limit=many');
      expect(bad.status).toBe(400);
      expect(bad.body).toMatch(/limit/);
    });

    it('returns several traces at once, skipping unknown ids', async () => {
      const many = await getJson<ZipkinSpan[][]>(viewer, `/api/v2/traceMany?traceIds=${TRACE},${'e'.repeat(32)}`);
      expect(many).toHaveLength(1);
      expect((await request(viewer, '/api/v2/traceMany')).status).toBe(400);
    });

    it('links the services: the joined client and server are one call, and its error is counted', async () => {
      const links = await getJson<{ parent: string; child: string; callCount: number; errorCount?: number }[]>(viewer, `/api/v2/dependencies?endTs=${Date.now() + 60_000}&lookback=3600000`);
      expect(links).toContainEqual({ parent: 'gateway', child: 'users', callCount: 1, errorCount: 1 });
      expect(links).toContainEqual(expect.objectContaining({ parent: 'users', child: 'postgres', callCount: 1 }));
    });

    it('offers tag keys and values for autocompletion', async () => {
      expect(await getJson<string[]>(viewer, '/api/v2/autocompleteKeys')).toEqual(expect.arrayContaining(['http.method', 'http.status_code']));
      expect(await getJson<string[]>(viewer, '/api/v2/autocompleteValues?key=http.status_code')).toEqual(['500']);
      expect((await request(viewer, '/api/v2/autocompleteValues')).status).toBe(400);
    });

    it('answers 404 outside the API', async () => {
      expect((await request(viewer, '/api/v2/nothing')).status).toBe(404);
      expect((await request(viewer, '/api/v1/spans')).status).toBe(404);
    });
  });

  describe('ziptrace\'s own endpoints', () => {
    it('summarises traces for the page\'s list, newest first', async () => {
      const list = await getJson<TraceSummary[]>(viewer, '/ziptrace/api/traces?serviceName=gateway&lookback=3600000');
      const ours = list.find((s) => s.traceId === TRACE)!;
      expect(ours).toMatchObject({ spanCount: 4, errorCount: 1, rootService: 'gateway', rootName: 'GET /checkout', duration: 100_000 });
      expect(list.map((s) => s.start)).toEqual([...list.map((s) => s.start)].sort((a, b) => b - a));
    });

    it('returns a trace analysed: rows in tree order with self time and the critical path; 404 when unknown', async () => {
      const view = await getJson<TraceView>(viewer, `/ziptrace/api/trace/${TRACE}`);
      expect(view.rows.map((r) => [r.span.name, r.depth])).toEqual([
        ['GET /checkout', 0],
        ['GET /users/:id', 1],
        ['GET /users/:id', 2],
        ['Slow SQL', 3],
      ]);
      expect(view.rows[0]!.selfTime).toBe(40_000);
      expect(view.criticalPath[0]).toBe(view.rows[0]!.key);
      const missing = await request(viewer, `/ziptrace/api/trace/${'e'.repeat(32)}`);
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.body)).toEqual({ error: expect.stringMatching(/not found/) });
    });

    it('analyses an uploaded trace without storing it', async () => {
      const other = SPANS.map((s) => ({ ...s, traceId: 'f'.repeat(32) }));
      const answer = await request(viewer, '/ziptrace/api/analyze', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(other) });
      expect(answer.status).toBe(200);
      expect((JSON.parse(answer.body) as TraceView).spanCount).toBe(4);
      expect(viewer.store.trace('f'.repeat(32))).toBeUndefined();
      const two = await request(viewer, '/ziptrace/api/analyze', { method: 'POST', body: JSON.stringify([...other, SPANS[0]]) });
      expect(two.status).toBe(400);
      expect(JSON.parse(two.body).error).toMatch(/2 traces/);
    });

    it('streams "spans arrived" events to the page', async () => {
      const controller = new AbortController();
      const response = await fetch(`${viewer.url}/ziptrace/api/events`, { signal: controller.signal });
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      await post(viewer, [{ ...SPANS[0]!, traceId: '1'.repeat(32) }]);
      while (!text.includes('event: spans')) text += decoder.decode((await reader.read()).value);
      expect(text).toMatch(/event: spans\ndata: \{"traceIds":\["1{32}"\]\}\n\n/);
      controller.abort();
    });

    it('serves the page with a policy that runs only its own scripts', async () => {
      const page = await request(viewer, '/');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['content-security-policy']).toMatch(/script-src 'self';/);
      expect(page.headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(page.headers['x-frame-options']).toBe('DENY');
      expect((await request(viewer, '/../package.json')).status).toBe(404);
    });
  });

  describe('safe on a developer\'s machine', () => {
    it('refuses a Host that is not this machine (DNS rebinding), and answers loopback names and addresses', async () => {
      const rebound = await request(viewer, '/api/v2/services', { headers: { host: `evil.example:${viewer.port}` } });
      expect(rebound.status).toBe(403);
      expect(rebound.body).toMatch(/--allow-host/);
      for (const host of [`localhost:${viewer.port}`, `127.0.0.1:${viewer.port}`, `[::1]:${viewer.port}`, `app.localhost:${viewer.port}`, `192.168.1.20:${viewer.port}`]) {
        expect((await request(viewer, '/api/v2/services', { headers: { host } })).status, host).toBe(200);
      }
    });

    it('answers a name it was told to allow', async () => {
      const allowing = await startViewer({ port: 0, allowedHosts: ['devbox'] });
      try {
        expect((await request(allowing, '/api/v2/services', { headers: { host: 'DevBox:80' } })).status).toBe(200);
        expect((await request(allowing, '/api/v2/services', { headers: { host: 'devbox.evil.example' } })).status).toBe(403);
      } finally {
        await allowing.close();
      }
    });

    it('refuses a foreign Origin, for reads and for spans, and sends no CORS headers', async () => {
      for (const origin of ['http://evil.example', 'null', `https://127.0.0.1:${viewer.port}`, `http://127.0.0.1:${viewer.port + 1}`]) {
        const read = await request(viewer, '/api/v2/services', { headers: { origin } });
        expect(read.status, origin).toBe(403);
        const write = await post(viewer, [{ ...SPANS[0]!, traceId: '2'.repeat(32) }], { origin });
        expect(write.status, origin).toBe(403);
      }
      expect(viewer.store.trace('2'.repeat(32))).toBeUndefined();
      const same = await request(viewer, '/api/v2/services', { headers: { origin: `http://127.0.0.1:${viewer.port}` } });
      expect(same.status).toBe(200);
      expect(same.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await request(viewer, '/api/v2/spans', { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
      expect(preflight.status).toBe(403);
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('answers 400, not 500, for a path it cannot decode, and 403 for a Host with an impossible port', async () => {
      for (const path of ['/api/v2/trace/%E0%A4%A', '/ziptrace/api/trace/%E0%A4%A', 'http://[/']) {
        const answer = await request(viewer, path);
        expect(answer.status, path).toBe(400);
      }
      const answer = await request(viewer, '/api/v2/services', { headers: { host: 'localhost:99999', origin: 'http://localhost' } });
      expect(answer.status).toBe(403);
      expect((await request(viewer, '/api/v2/services')).status).toBe(200);
    });

    it('answers HEAD on the event stream without holding a stream open', async () => {
      const answer = await request(viewer, '/ziptrace/api/events', { method: 'HEAD' });
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    });

    it('listens on loopback by default', async () => {
      const fresh = await startViewer({ port: 0 });
      try {
        expect(fresh.url).toBe(`http://127.0.0.1:${fresh.port}`);
      } finally {
        await fresh.close();
      }
    });
  });
});

describe('startViewer', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('names a mistyped option and what it takes', async () => {
    await expect(startViewer({ prot: 0 } as never)).rejects.toThrow(InvalidOptionError);
    await expect(startViewer({ prot: 0 } as never)).rejects.toThrow(/prot is not an option of startViewer; did you mean port\?/);
    await expect(startViewer({ port: 70_000 })).rejects.toThrow(/port must be an integer from 0 to 65535/);
  });

  it('rejects with EADDRINUSE when the port is taken', async () => {
    const first = await startViewer({ port: 0 });
    try {
      await expect(startViewer({ port: first.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await first.close();
    }
  });

  it('keeps the spans across a restart in its data file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziptrace-viewer-'));
    dirs.push(dir);
    const dataFile = join(dir, 'spans.json');
    const first = await startViewer({ port: 0, dataFile });
    expect((await post(first, SPANS)).status).toBe(202);
    await first.close();
    const second = await startViewer({ port: 0, dataFile });
    try {
      expect(second.store.trace(TRACE)).toHaveLength(4);
      expect((await getJson<ZipkinSpan[]>(second, `/api/v2/trace/${TRACE}`)).map((s) => s.name)).toContain('Slow SQL');
    } finally {
      await second.close();
    }
  });

  it('refuses a data file it could not save, at start', async () => {
    await expect(startViewer({ port: 0, dataFile: join(tmpdir(), 'no-such-folder-ziptrace', 'spans.ndjson') })).rejects.toThrow(/dataFile ".*spans\.ndjson" cannot be saved/);
  });

  it('says once when the data file cannot be saved, keeps serving, and saves again once it can', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziptrace-viewer-'));
    dirs.push(dir);
    const dataFile = join(dir, 'sub', 'spans.ndjson');
    mkdirSync(join(dir, 'sub'));
    const problems: Error[] = [];
    const saving = await startViewer({ port: 0, dataFile, onError: (error) => problems.push(error) });
    try {
      rmSync(join(dir, 'sub'), { recursive: true });
      await post(saving, SPANS.slice(0, 1));
      await expect.poll(() => problems.length, { timeout: 10_000 }).toBe(1);
      expect(problems[0]!.message).toMatch(/could not save .*spans\.ndjson/);
      await post(saving, SPANS.slice(1, 2));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(problems).toHaveLength(1); // the same problem, said once
      expect((await request(saving, '/api/v2/services')).status).toBe(200);
      mkdirSync(join(dir, 'sub'));
    } finally {
      await saving.close();
    }
    // Saved at close, once the folder was back: both batches.
    const again = await startViewer({ port: 0, dataFile });
    try {
      expect(again.store.trace(TRACE)).toHaveLength(2);
    } finally {
      await again.close();
    }
  });

  it('keeps the spans of a request in flight when it closes: answered 202, then saved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziptrace-viewer-'));
    dirs.push(dir);
    const dataFile = join(dir, 'spans.ndjson');
    const closing = await startViewer({ port: 0, dataFile });
    const body = JSON.stringify(SPANS);
    let status = 0;
    const answered = new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: closing.port, path: '/api/v2/spans', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        status = res.statusCode!;
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.write(body.slice(0, 100));
      setTimeout(() => req.end(body.slice(100)), 200);
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = closing.close();
    await answered;
    await closed;
    expect(status).toBe(202);
    const again = await startViewer({ port: 0, dataFile });
    try {
      expect(again.store.trace(TRACE)).toHaveLength(4);
    } finally {
      await again.close();
    }
  });

  it('answers 503 when the bodies being read together pass maxInFlightBytes, and takes the next one', async () => {
    const busy = await startViewer({ port: 0, maxInFlightBytes: 50_000 });
    try {
      // One upload holds 40 kB, unfinished; a second one's 20 kB pass the budget.
      const first = http.request({ host: '127.0.0.1', port: busy.port, path: '/api/v2/spans', method: 'POST', headers: { 'content-type': 'application/json' } });
      first.on('error', () => {});
      first.write('[' + ' '.repeat(40_000));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const second = await post(busy, JSON.stringify([{ ...SPANS[0]!, name: 'y'.repeat(20_000) }]));
      expect(second.status).toBe(503);
      expect(second.headers['retry-after']).toBe('1');
      first.end(']');
      await new Promise((resolve) => first.once('response', resolve));
      expect((await post(busy, [SPANS[0]])).status).toBe(202);
    } finally {
      await busy.close();
    }
  });

  it('calls onTrace with each trace once it has been quiet for settleMs, and not before', async () => {
    const seen: TraceView[] = [];
    const settling = await startViewer({ port: 0, settleMs: 300, onTrace: (view) => seen.push(view) });
    try {
      await post(settling, SPANS.slice(0, 2));
      await new Promise((resolve) => setTimeout(resolve, 100));
      await post(settling, SPANS.slice(2));
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(seen).toHaveLength(0); // 250 ms after the first batch, 150 after the last: not yet
      await expect.poll(() => seen.length, { timeout: 5_000 }).toBe(1);
      expect(seen[0]!.spanCount).toBe(4);
    } finally {
      await settling.close();
    }
  });

  it('stays up when onTrace throws', async () => {
    const settling = await startViewer({ port: 0, settleMs: 20, onTrace: () => { throw new Error('printer broke'); } });
    try {
      await post(settling, SPANS);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await request(settling, '/api/v2/services')).status).toBe(200);
    } finally {
      await settling.close();
    }
  });

  it('closes with an event stream open', async () => {
    const fresh = await startViewer({ port: 0 });
    const response = await fetch(`${fresh.url}/ziptrace/api/events`);
    const reader = response.body!.getReader();
    await reader.read();
    await fresh.close();
    let done = false;
    while (!done) done = (await reader.read()).done;
    expect(done).toBe(true);
    // The port is free again.
    const again = http.createServer().listen(fresh.port, '127.0.0.1');
    await once(again, 'listening');
    again.close();
  });
});
