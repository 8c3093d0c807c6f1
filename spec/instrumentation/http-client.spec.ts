/**
 * instrumentHttpClients: fetch and http/https request/get, against real
 * servers on 127.0.0.1 (no network mocks). The servers answer with the
 * headers they received, so each spec reads back what went over the wire.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, withSpan, type Tracer, type ZipkinSpan, type MemoryReporter } from '../../lib/index.js';
import { DEFAULT_BODY_TIMEOUT, instrumentClients, instrumentHttpClients } from '../../lib/instrumentation/http-client.js';
import { closedPort, startCollector, waitFor } from '../helpers/collector.js';
import { clearGlobalTracerAfterEach, memoryTracer, sleep } from '../helpers/tracing.js';
import { QUIET_MS } from '../helpers/http-servers.js';

const specDir = dirname(fileURLToPath(import.meta.url));
const tlsDir = join(specDir, '..', 'fixtures', 'tls');
const cert = readFileSync(join(tlsDir, 'cert.pem'));
const key = readFileSync(join(tlsDir, 'key.pem'));

/** A body larger than undici and the socket buffer between them: it is not received until read. */
const BIG = Buffer.alloc(16 * 1024 * 1024, 97);

interface TestServer {
  url: string;
  port: number;
  /** The headers of every request, in order of arrival. */
  seen: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/**
 * Routes: `/status/<n>` answers n; `/redirect/<n>` redirects n times to
 * `/echo`; `/big` sends 16 MiB; `/cut` sends part of a body and resets the
 * connection; anything else answers 200 with the request headers as JSON.
 */
function handler(seen: http.IncomingHttpHeaders[]): http.RequestListener {
  return (req, res) => {
    seen.push(req.headers);
    const url = req.url ?? '/';
    const status = /^\/status\/(\d+)/.exec(url);
    const redirect = /^\/redirect\/(\d+)/.exec(url);
    if (status !== null) {
      res.writeHead(Number(status[1]), { 'content-type': 'text/plain' });
      res.end('status');
    } else if (redirect !== null) {
      const left = Number(redirect[1]) - 1;
      res.writeHead(302, { location: left > 0 ? `/redirect/${left}` : '/echo' });
      res.end('moved');
    } else if (url === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG.length });
      res.end(BIG);
    } else if (url === '/cut') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 1000 });
      res.write('part of it');
      setTimeout(() => res.socket?.destroy(), 20);
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.headers));
    }
  };
}

async function listen(server: http.Server | https.Server, scheme: string, seen: http.IncomingHttpHeaders[]): Promise<TestServer> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function startServer(): Promise<TestServer> {
  const seen: http.IncomingHttpHeaders[] = [];
  return listen(http.createServer(handler(seen)), 'http', seen);
}

function startTlsServer(): Promise<TestServer> {
  const seen: http.IncomingHttpHeaders[] = [];
  return listen(https.createServer({ cert, key }, handler(seen)), 'https', seen);
}

/** Makes a request with `send` and resolves with the answer's status and body once it has ended. */
function readAll(req: http.ClientRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
  });
}

function clientSpans(reporter: MemoryReporter): ZipkinSpan[] {
  return reporter.spans.filter((span) => span.kind === 'CLIENT');
}

let server: TestServer;
let tlsServer: TestServer;
beforeAll(async () => {
  server = await startServer();
  tlsServer = await startTlsServer();
});
afterAll(async () => {
  await server.close();
  await tlsServer.close();
});

clearGlobalTracerAfterEach();

let tracer: Tracer;
let reporter: MemoryReporter;
let undo: (() => void) | undefined;
beforeEach(() => {
  ({ tracer, reporter } = memoryTracer('client'));
  server.seen.length = 0;
});
afterEach(() => {
  undo?.();
  undo = undefined;
});

function instrument(options?: Parameters<typeof instrumentHttpClients>[1]): void {
  undo = instrumentHttpClients(tracer, options);
}

describe('fetch', () => {
  it('makes one CLIENT span under the active span and sends its B3 and traceparent headers', async () => {
    instrument();
    const { parent, headers } = await withSpan('parent', async (span) => {
      const res = await fetch(`${server.url}/echo?q=1`);
      return { parent: span.context, headers: (await res.json()) as Record<string, string> };
    });
    await waitFor(() => clientSpans(reporter).length === 1, 'the client span');
    const client = clientSpans(reporter)[0]!;
    expect(client).toMatchObject({
      name: 'GET',
      kind: 'CLIENT',
      traceId: parent.traceId,
      parentId: parent.spanId,
      tags: { 'http.method': 'GET', 'http.path': '/echo', 'http.status_code': '200' },
      remoteEndpoint: { ipv4: '127.0.0.1', port: server.port },
    });
    expect(client.tags?.error).toBeUndefined();
    expect(headers['x-b3-traceid']).toBe(parent.traceId);
    expect(headers['x-b3-spanid']).toBe(client.id);
    expect(headers['x-b3-parentspanid']).toBe(parent.spanId);
    expect(headers['x-b3-sampled']).toBe('1');
    // Sampled; 03 also says the trace id is random (W3C level 2).
    expect(headers.traceparent).toMatch(new RegExp(`^00-${parent.traceId}-${client.id}-0[13]$`));
  });

  it('replaces propagation headers the caller set, never doubling them', async () => {
    instrument();
    const headers = await withSpan('parent', async () => {
      const res = await fetch(`${server.url}/echo`, {
        headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'X-B3-TraceId': '0af7651916cd43dd8448eb211c80319c', b3: '1', 'x-app': 'kept' },
      });
      return (await res.json()) as Record<string, string>;
    });
    await waitFor(() => clientSpans(reporter).length === 1, 'the client span');
    const client = clientSpans(reporter)[0]!;
    expect(headers['x-b3-traceid']).toBe(client.traceId);
    // Sampled; 03 also says the trace id is random (W3C level 2).
    expect(headers.traceparent).toMatch(new RegExp(`^00-${client.traceId}-${client.id}-0[13]$`));
    expect(headers.b3).toBeUndefined();
    expect(headers['x-app']).toBe('kept');
  });

  it('tags a 5xx answer as an error, a 4xx not', async () => {
    instrument();
    await withSpan('parent', async () => {
      await (await fetch(`${server.url}/status/503`)).text();
      await (await fetch(`${server.url}/status/404`)).text();
    });
    await waitFor(() => clientSpans(reporter).length === 2, 'two client spans');
    const [failed, missing] = clientSpans(reporter);
    expect(failed!.tags).toMatchObject({ 'http.status_code': '503', error: '503', 'http.path': '/status/503' });
    expect(missing!.tags).toMatchObject({ 'http.status_code': '404' });
    expect(missing!.tags?.error).toBeUndefined();
  });

  it('tags a refused connection with the error, and the caller still gets its rejection', async () => {
    instrument();
    const port = await closedPort();
    const error = await withSpan('parent', () => fetch(`http://127.0.0.1:${port}/`).then(() => undefined, (e: Error) => e));
    expect(error).toBeInstanceOf(TypeError);
    await waitFor(() => clientSpans(reporter).length === 1, 'the client span');
    const client = clientSpans(reporter)[0]!;
    expect(client.tags?.error).toMatch(/ECONNREFUSED/);
    expect(client.tags?.['http.status_code']).toBeUndefined();
  });

  it('makes a span per redirect hop, each a child of the active span', async () => {
    instrument();
    const parent = await withSpan('parent', async (span) => {
      const res = await fetch(`${server.url}/redirect/2`);
      expect(res.status).toBe(200);
      await res.text();
      return span.context;
    });
    await waitFor(() => clientSpans(reporter).length === 3, 'three client spans');
    const spans = clientSpans(reporter);
    expect(spans.map((s) => s.tags?.['http.path'])).toEqual(['/redirect/2', '/redirect/1', '/echo']);
    expect(spans.map((s) => s.tags?.['http.status_code'])).toEqual(['302', '302', '200']);
    for (const span of spans) expect(span.parentId).toBe(parent.spanId);
    expect(new Set(spans.map((s) => s.id)).size).toBe(3);
    // Each hop carried its own span's id.
    expect(server.seen.map((h) => h['x-b3-spanid'])).toEqual(spans.map((s) => s.id));
  });

  it('ends the span of a body never read after bodyTimeout, tagged unfinished', async () => {
    // 1 s, and a look after 100 ms: 10x slack for a loaded machine, either way.
    instrument({ bodyTimeout: 1000 });
    const res = await withSpan('parent', () => fetch(`${server.url}/big`));
    expect(res.status).toBe(200);
    await sleep(100);
    expect(clientSpans(reporter)).toHaveLength(0);
    await waitFor(() => clientSpans(reporter).length === 1, 'the client span', 10_000);
    const client = clientSpans(reporter)[0]!;
    expect(client.tags).toMatchObject({ 'http.status_code': '200', 'http.response.body': 'unfinished after 1000 ms' });
    await res.body?.cancel();
    await sleep(QUIET_MS);
    expect(clientSpans(reporter)).toHaveLength(1);
  });

  it('ends the span when the body has been read, not when the headers came', async () => {
    instrument({ bodyTimeout: 10_000 });
    const res = await withSpan('parent', () => fetch(`${server.url}/big`));
    await sleep(50);
    expect(clientSpans(reporter)).toHaveLength(0);
    expect((await res.arrayBuffer()).byteLength).toBe(BIG.length);
    await waitFor(() => clientSpans(reporter).length === 1, 'the client span');
    expect(clientSpans(reporter)[0]!.tags?.['http.response.body']).toBeUndefined();
  });

  it('parents 200 concurrent fetches, each under its own span', async () => {
    instrument();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        withSpan(`parent ${i}`, async (span) => {
          await sleep(i % 7);
          const res = await fetch(`${server.url}/echo/${i}`);
          return { i, parent: span.context, headers: (await res.json()) as Record<string, string> };
        }),
      ),
    );
    await waitFor(() => clientSpans(reporter).length === 200, '200 client spans');
    const byPath = new Map(clientSpans(reporter).map((s) => [s.tags?.['http.path'], s]));
    for (const { i, parent, headers } of results) {
      const client = byPath.get(`/echo/${i}`)!;
      expect(client.parentId).toBe(parent.spanId);
      expect(client.traceId).toBe(parent.traceId);
      expect(headers['x-b3-spanid']).toBe(client.id);
      expect(headers['x-b3-traceid']).toBe(parent.traceId);
    }
  });
});

describe('http and https', () => {
  it('traces http.request, its headers set before they are written', async () => {
    instrument();
    const { parent, answer } = await withSpan('parent', async (span) => {
      const req = http.request(`${server.url}/echo?x=y`, { method: 'POST', headers: { traceparent: 'bogus', 'x-b3-spanid': 'old' } });
      req.setHeader('b3', '1');
      const done = readAll(req);
      req.end('body');
      return { parent: span.context, answer: await done };
    });
    const headers = JSON.parse(answer.body) as Record<string, string>;
    const client = clientSpans(reporter)[0]!;
    expect(clientSpans(reporter)).toHaveLength(1);
    expect(client).toMatchObject({
      name: 'POST',
      parentId: parent.spanId,
      traceId: parent.traceId,
      tags: { 'http.method': 'POST', 'http.path': '/echo', 'http.status_code': '200' },
      remoteEndpoint: { ipv4: '127.0.0.1', port: server.port },
    });
    expect(headers['x-b3-traceid']).toBe(parent.traceId);
    expect(headers['x-b3-spanid']).toBe(client.id);
    // Sampled; 03 also says the trace id is random (W3C level 2).
    expect(headers.traceparent).toMatch(new RegExp(`^00-${parent.traceId}-${client.id}-0[13]$`));
    expect(headers.b3).toBeUndefined();
  });

  it('traces http.get, and a response nobody listens for still ends the span', async () => {
    instrument();
    await withSpan('parent', async () => {
      const answer = await readAll(http.get(`${server.url}/status/500`));
      expect(answer.status).toBe(500);
      const req = http.get({ host: '127.0.0.1', port: server.port, path: '/echo' });
      await once(req, 'close');
    });
    await waitFor(() => clientSpans(reporter).length === 2, 'two client spans');
    const [failed, dumped] = clientSpans(reporter);
    expect(failed!.tags).toMatchObject({ 'http.status_code': '500', error: '500' });
    expect(dumped!.tags).toMatchObject({ 'http.status_code': '200', 'http.path': '/echo' });
    expect(dumped!.tags?.error).toBeUndefined();
  });

  it('traces https.request and https.get', async () => {
    instrument();
    const parent = await withSpan('parent', async (span) => {
      const one = await readAll(https.get(`${tlsServer.url}/echo`, { ca: cert }));
      const req = https.request({ host: '127.0.0.1', port: tlsServer.port, path: '/echo', method: 'PUT', ca: cert });
      const done = readAll(req);
      req.end();
      const two = await done;
      for (const answer of [one, two]) expect(JSON.parse(answer.body)['x-b3-traceid']).toBe(span.context.traceId);
      return span.context;
    });
    const spans = clientSpans(reporter);
    expect(spans.map((s) => s.name)).toEqual(['GET', 'PUT']);
    for (const span of spans) expect(span).toMatchObject({ parentId: parent.spanId, remoteEndpoint: { ipv4: '127.0.0.1', port: tlsServer.port } });
    expect(tlsServer.seen.map((h) => h['x-b3-spanid'])).toEqual(spans.map((s) => s.id));
  });

  it('tags a refused connection, and an application without an error listener still sees the error', async () => {
    instrument();
    const port = await closedPort();
    const error = await withSpan('parent', () => readAll(http.get(`http://127.0.0.1:${port}/`)).then(() => undefined, (e: Error) => e));
    expect(error?.message).toMatch(/ECONNREFUSED/);
    expect(clientSpans(reporter)[0]!.tags?.error).toMatch(/ECONNREFUSED/);
    // No listener of ours: the request's error listeners are the application's alone.
    const req = withSpan('parent', () => http.get(`http://127.0.0.1:${port}/`));
    expect(req.listenerCount('error')).toBe(0);
    req.on('error', () => {});
  });

  it('tags a response cut off before its end', async () => {
    instrument();
    const error = await withSpan('parent', () => readAll(http.get(`${server.url}/cut`)).then(() => undefined, (e: Error) => e));
    expect(error).toBeDefined();
    await waitFor(() => clientSpans(reporter).length === 1, 'the client span');
    const client = clientSpans(reporter)[0]!;
    expect(client.tags?.['http.status_code']).toBe('200');
    expect(client.tags?.error).toBeDefined();
  });

  it('ends the span of a body never read after bodyTimeout, tagged unfinished', async () => {
    instrument({ bodyTimeout: 1000 });
    const res = await withSpan('parent', () => new Promise<http.IncomingMessage>((resolve) => http.get(`${server.url}/big`, resolve)));
    await waitFor(() => clientSpans(reporter).length === 1, 'the client span', 10_000);
    expect(clientSpans(reporter)[0]!.tags).toMatchObject({ 'http.status_code': '200', 'http.response.body': 'unfinished after 1000 ms' });
    res.destroy();
    await sleep(QUIET_MS);
    expect(clientSpans(reporter)).toHaveLength(1);
  });
});

describe('upgrades', () => {
  // Regression: Node emits 'upgrade' and then 'close', never 'response', so the span ended as a failure.
  it('a 101 Switching Protocols ends the client span with its status, not as an error', async () => {
    const upgrading = http.createServer();
    upgrading.on('upgrade', (req, socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      socket.on('error', () => {});
    });
    const target = await listen(upgrading, 'http', []);
    try {
      instrument();
      await withSpan('open a socket', () => new Promise<void>((resolve, reject) => {
        const req = http.request(`${target.url}/ws`, { headers: { connection: 'Upgrade', upgrade: 'websocket' } });
        req.on('upgrade', (res, socket) => {
          socket.destroy();
          resolve();
        });
        req.on('error', reject);
        req.end();
      }));
      await waitFor(() => clientSpans(reporter).length === 1, 'the client span', 10_000);
      const client = clientSpans(reporter)[0]!;
      expect(client.tags).toMatchObject({ 'http.method': 'GET', 'http.path': '/ws', 'http.status_code': '101' });
      expect(client.tags?.error).toBeUndefined();
    } finally {
      await target.close();
    }
  });
});

describe('the remote endpoint', () => {
  it('names a host by serviceName, as OpenTelemetry maps server.address to Zipkin', async () => {
    instrument();
    await withSpan('parent', async () => (await fetch(`http://localhost:${server.port}/echo`)).text());
    await waitFor(() => clientSpans(reporter).length === 1, 'the client span');
    expect(clientSpans(reporter)[0]!.remoteEndpoint).toEqual({ serviceName: 'localhost', port: server.port });
  });

  it('gives an IPv6 literal as ipv6', async (context) => {
    const seen: http.IncomingHttpHeaders[] = [];
    const v6 = http.createServer(handler(seen));
    const listening = await new Promise<boolean>((resolve) => {
      v6.once('error', () => resolve(false));
      v6.listen(0, '::1', () => resolve(true));
    });
    if (!listening) return context.skip();
    try {
      instrument();
      const { port } = v6.address() as AddressInfo;
      await withSpan('parent', async () => {
        await (await fetch(`http://[::1]:${port}/echo`)).text();
        await readAll(http.get({ host: '::1', port, path: '/echo' }));
      });
      await waitFor(() => clientSpans(reporter).length === 2, 'two client spans');
      for (const span of clientSpans(reporter)) expect(span.remoteEndpoint).toEqual({ ipv6: '::1', port });
    } finally {
      v6.closeAllConnections();
      await new Promise((resolve) => v6.close(resolve));
    }
  });

  it('records a request whose headers are a raw array, which Node writes at once: no headers can be added', async () => {
    instrument();
    const req = withSpan('parent', () => http.request(`${server.url}/echo`, { headers: ['x-app', 'raw', 'host', `127.0.0.1:${server.port}`] }));
    const done = readAll(req);
    req.end();
    expect(JSON.parse((await done).body)['x-b3-traceid']).toBeUndefined();
    expect(clientSpans(reporter)[0]!.tags).toMatchObject({ 'http.status_code': '200' });
  });
});

describe('what is not traced', () => {
  it('leaves a request with no active span untouched: no span, no headers', async () => {
    instrument();
    const fromFetch = (await (await fetch(`${server.url}/echo`)).json()) as Record<string, string>;
    const fromHttp = JSON.parse((await readAll(http.get(`${server.url}/echo`))).body) as Record<string, string>;
    for (const headers of [fromFetch, fromHttp]) {
      expect(headers['x-b3-traceid']).toBeUndefined();
      expect(headers.traceparent).toBeUndefined();
    }
    expect(reporter.spans).toHaveLength(0);
  });

  it('with traceRoots, starts a trace for such a request', async () => {
    instrument({ traceRoots: true });
    const headers = (await (await fetch(`${server.url}/echo`)).json()) as Record<string, string>;
    await waitFor(() => clientSpans(reporter).length === 1, 'the client span');
    const client = clientSpans(reporter)[0]!;
    expect(client.parentId).toBeUndefined();
    expect(headers['x-b3-spanid']).toBe(client.id);
  });

  // Regression: b3: 0 was honoured only outside any span, so a reporter flushing inside one traced its own posts.
  it('leaves a request marked b3: 0 alone inside an active span too', async () => {
    instrument();
    const seen = JSON.parse(await withSpan('work', async () => (await fetch(`${server.url}/echo`, { headers: { b3: '0' } })).text())) as Record<string, string>;
    const viaHttp = await withSpan('work', () => readAll(http.get(`${server.url}/echo`, { headers: { b3: '0' } })));
    for (const headers of [seen, JSON.parse(viaHttp.body) as Record<string, string>]) {
      expect(headers.b3).toBe('0');
      expect(headers['x-b3-traceid']).toBeUndefined();
      expect(headers.traceparent).toBeUndefined();
    }
    expect(clientSpans(reporter)).toEqual([]);
  });

  it("never traces the reporter's own requests, even with traceRoots", async () => {
    const collector = await startCollector();
    try {
      ({ tracer, reporter } = memoryTracer('client', { zipkinUrl: collector.url }));
      instrument({ traceRoots: true });
      await tracer.withSpan('work', async () => {});
      await tracer.flush();
      expect(collector.spans.map((s) => s.name)).toEqual(['work']);
      expect(collector.requests[0]!.headers.b3).toBe('0');
      expect(collector.requests[0]!.headers['x-b3-traceid']).toBeUndefined();
      // A marked request of the application's, outside any span, is left alone too.
      await (await fetch(`${server.url}/echo`, { headers: { b3: '0' } })).text();
      await tracer.flush();
      expect(collector.spans.map((s) => s.name)).toEqual(['work']);
    } finally {
      await tracer.close();
      await collector.close();
    }
  });
});

describe('installing and undoing', () => {
  it('undo restores http and https and stops tracing fetch', async () => {
    const originals = [http.request, http.get, https.request, https.get];
    instrument();
    expect([http.request, http.get, https.request, https.get]).not.toEqual(originals);
    expect(http.request.name).toBe('request');
    undo!();
    undo!();
    undo = undefined;
    expect([http.request, http.get, https.request, https.get]).toEqual(originals);
    const headers = await withSpan('parent', async () => {
      const fromFetch = (await (await fetch(`${server.url}/echo`)).json()) as Record<string, string>;
      const fromHttp = JSON.parse((await readAll(http.get(`${server.url}/echo`))).body) as Record<string, string>;
      return [fromFetch, fromHttp];
    });
    for (const h of headers) expect(h['x-b3-traceid']).toBeUndefined();
    expect(clientSpans(reporter)).toHaveLength(0);
  });

  it('a second call while instrumented is a no-op, and its undo undoes nothing', async () => {
    instrument();
    const wrapped = http.request;
    const second = instrumentHttpClients(tracer, { traceRoots: true });
    expect(http.request).toBe(wrapped);
    second();
    expect(http.request).toBe(wrapped);
    await withSpan('parent', async () => (await fetch(`${server.url}/echo`)).text());
    await waitFor(() => clientSpans(reporter).length === 1, 'one client span, not two');
    // traceRoots of the second call did not apply.
    await (await fetch(`${server.url}/echo`)).text();
    await sleep(QUIET_MS);
    expect(clientSpans(reporter)).toHaveLength(1);
  });

  it.each([
    [{ fetch: true, http: false }, ['fetch']],
    [{ fetch: false, http: true }, ['http']],
  ] as const)('instrumentClients(%o) traces only those clients', async (kinds, traced) => {
    const originals = [http.request, http.get];
    undo = instrumentClients(tracer, {}, kinds);
    expect([http.request, http.get].every((f, i) => f === originals[i])).toBe(!kinds.http);
    const headers = await withSpan('parent', async () => ({
      fetch: (await (await fetch(`${server.url}/echo`)).json()) as Record<string, string>,
      http: JSON.parse((await readAll(http.get(`${server.url}/echo`))).body) as Record<string, string>,
    }));
    expect(Object.entries(headers).filter(([, h]) => h['x-b3-traceid'] !== undefined).map(([kind]) => kind)).toEqual(traced);
    await waitFor(() => clientSpans(reporter).length === 1, 'one client span');
    undo();
    undo = undefined;
    expect([http.request, http.get]).toEqual(originals);
  });

  it('a span in flight when undone still ends', async () => {
    instrument();
    const res = await withSpan('parent', () => fetch(`${server.url}/big`));
    undo!();
    undo = undefined;
    await res.arrayBuffer();
    await waitFor(() => clientSpans(reporter).length === 1, 'the client span');
  });

  it('a wrapper wrapped by someone else stays in place on undo, and traces nothing more', async () => {
    const original = http.request;
    instrument();
    const ours = http.request;
    const theirs = function request(this: unknown, ...args: unknown[]) {
      return (ours as (...a: unknown[]) => http.ClientRequest).apply(this, args);
    } as typeof http.request;
    http.request = theirs;
    try {
      undo!();
      undo = undefined;
      expect(http.request).toBe(theirs);
      const req = withSpan('parent', () => http.request(`${server.url}/echo`));
      const done = readAll(req);
      req.end();
      expect(JSON.parse((await done).body)['x-b3-traceid']).toBeUndefined();
      expect(clientSpans(reporter)).toHaveLength(0);
    } finally {
      http.request = original;
    }
  });

  it('checks its options', () => {
    expect(() => instrumentHttpClients(tracer, { traceroots: true } as never)).toThrow(InvalidOptionError);
    expect(() => instrumentHttpClients(tracer, { traceroots: true } as never)).toThrow(/did you mean traceRoots/);
    expect(() => instrumentHttpClients(tracer, { bodyTimeout: 0 })).toThrow(/bodyTimeout must be/);
    expect(() => instrumentHttpClients(tracer, { bodyTimeout: -1 })).toThrow(InvalidOptionError);
    expect(() => instrumentHttpClients(tracer, { traceRoots: 'yes' as never })).toThrow(/traceRoots must be true or false/);
    expect(() => instrumentHttpClients({} as Tracer)).toThrow(/tracer must be a Tracer/);
    expect(() => instrumentHttpClients(tracer, null as never)).toThrow(InvalidOptionError);
    expect(DEFAULT_BODY_TIMEOUT).toBe(30_000);
    // Nothing was installed by the calls that threw.
    instrument({ bodyTimeout: Infinity });
  });

  it('never throws into the application: a tracer that fails leaves the request as it was', async () => {
    const broken = { startSpan: () => { throw new Error('broken'); }, inject: () => {} } as unknown as Tracer;
    undo = instrumentHttpClients(broken, { traceRoots: true });
    const res = await fetch(`${server.url}/echo`);
    expect(res.status).toBe(200);
    await res.text();
    expect((await readAll(http.get(`${server.url}/echo`))).status).toBe(200);
  });
});

describe('ESM named imports', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("traces `import { request, get } from 'node:http'`, and undo restores them", async () => {
    const lib = transpileLib(dirs);
    const { code, stdout, stderr } = await runChild([join(specDir, '..', 'fixtures', 'http-client-esm.mjs'), lib]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout.trim()) as {
      parent: { traceId: string; spanId: string };
      requestHeaders: Record<string, string>;
      getHeaders: Record<string, string>;
      afterUndo: Record<string, string>;
      spans: ZipkinSpan[];
      restored: boolean;
    };
    const clients = result.spans.filter((s) => s.kind === 'CLIENT');
    expect(clients).toHaveLength(2);
    for (const client of clients) expect(client.parentId).toBe(result.parent.spanId);
    expect(result.requestHeaders['x-b3-spanid']).toBe(clients[0]!.id);
    expect(result.getHeaders['x-b3-spanid']).toBe(clients[1]!.id);
    expect(result.afterUndo['x-b3-traceid']).toBeUndefined();
    expect(result.restored).toBe(true);
  }, 60_000);
});

/**
 * Transpiles lib/**.ts as-is to plain ESM in a temp dir, so a bare `node`
 * child can load the current source (as spec/tracer.spec.ts does). Returns the dir's URL.
 */
function transpileLib(dirs: string[]): string {
  const libDir = join(specDir, '..', '..', 'lib');
  const outDir = mkdtempSync(join(tmpdir(), 'ziptrace-lib-'));
  dirs.push(outDir);
  for (const file of readdirSync(libDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
    const { outputText } = ts.transpileModule(readFileSync(join(libDir, file), 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    const target = join(outDir, file.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}\n');
  return pathToFileURL(`${outDir}/`).href;
}

function runChild(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}
