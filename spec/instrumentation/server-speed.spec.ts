/**
 * The server instrumentation after the speed changes (lib/instrumentation/server.ts:
 * a light handle for unsampled requests, a TracedRequest class for sampled
 * ones, the registry on the request): real node:http servers on loopback,
 * real fetch clients. Each case answers as it did at 2926f64.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { createTracer, type SamplingRequest } from '../../lib/index.js';
import { startServerRequest, tracedHandler } from '../../lib/http.js';
import { serverRequestOf, type ServerRequest } from '../../lib/instrumentation/server.js';
import { loopbackServers, spansOf } from '../helpers/http-servers.js';
import { clearGlobalTracerAfterEach, memoryTracer, sleep } from '../helpers/tracing.js';

clearGlobalTracerAfterEach();

const { listen } = loopbackServers();

describe('the sampler of a server request', () => {
  it('is asked with the request’s tags (http.method, http.path), as README’s sampler row says it is', async () => {
    const asked: SamplingRequest[] = [];
    // The usual way to keep health checks out of the traces: by path, in the sampler.
    const sampler = (request: SamplingRequest): boolean | undefined => {
      asked.push(request);
      return request.kind === 'SERVER' && request.tags?.['http.path'] === '/healthz' ? false : undefined;
    };
    const { tracer, reporter } = memoryTracer('api', { sampler, sampleRate: 1 });
    const url = await listen(tracedHandler(tracer, (_req, res) => res.end('ok')));
    await (await fetch(`${url}/healthz`)).text();
    await (await fetch(`${url}/users/1`)).text();
    const spans = await spansOf(reporter, 1);
    expect(spans[0]!.tags!['http.path']).toBe('/users/1');
    expect(asked.map((request) => request.tags)).toEqual([
      { 'http.method': 'GET', 'http.path': '/healthz' },
      { 'http.method': 'GET', 'http.path': '/users/1' },
    ]);
  });
});

describe('the handle’s methods taken off it', () => {
  it('route, run and end work destructured, as they did on the handle of closures', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const errors: unknown[] = [];
    const url = await listen((req, res) => {
      try {
        const { route, run, end } = startServerRequest(tracer, req, res);
        route('/users/:id');
        run(() => res.end('ok'));
        end();
      } catch (error) {
        errors.push(error);
        res.end('failed');
      }
    });
    expect(await (await fetch(`${url}/users/1`)).text()).toBe('ok');
    expect(errors).toEqual([]);
    const [span] = await spansOf(reporter, 1);
    expect(span!.name).toBe('GET /users/:id');
    expect(span!.tags!['http.route']).toBe('/users/:id');
  });

  it('fail given as a stream’s error listener records the error, and throws nothing into the emit', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const thrown: unknown[] = [];
    const url = await listen((req, res) => {
      const request = startServerRequest(tracer, req, res);
      // A listener Node calls with the emitter as `this`: req here.
      req.on('boom', request.fail);
      try {
        req.emit('boom', new Error('body parser failed'));
      } catch (error) {
        thrown.push(error);
      }
      res.statusCode = 400;
      res.end();
    });
    await (await fetch(url)).text();
    const [span] = await spansOf(reporter, 1);
    expect(thrown).toEqual([]);
    expect(span!.tags!.error).toBe('body parser failed');
  });
});

describe('a request object that cannot take new properties', () => {
  it('tracedHandler still runs the handler, and throws nothing of its own', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const thrown: unknown[] = [];
    let ran = false;
    const handler = tracedHandler(tracer, (_req: IncomingMessage, res: ServerResponse) => {
      ran = true;
      res.end('ok');
    });
    const url = await listen((req, res) => {
      // A framework's read-only view of the request: a Proxy that refuses new properties.
      const view = new Proxy(req, {
        set: (target, key, value) => (key in target ? Reflect.set(target, key, value) : false),
        defineProperty: () => false,
      });
      try {
        handler(view, res);
      } catch (error) {
        thrown.push(error);
        res.end('failed');
      }
    });
    expect(await (await fetch(url)).text()).toBe('ok');
    expect(thrown).toEqual([]);
    expect(ran).toBe(true);
    await spansOf(reporter, 1);
  });
});

/** GETs each path in turn, over one kept-alive connection, with its headers if given. */
async function overOneConnection(url: string, ...requests: (string | [string, Record<string, string>])[]): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (const request of requests) {
      const [path, headers] = typeof request === 'string' ? [request, {}] : request;
      await get(agent, `${url}${path}`, headers);
    }
  } finally {
    agent.destroy();
  }
}

/** GETs `path` on one kept-alive connection of `agent` (node:http, not fetch: the socket is the test's to choose). */
function get(agent: http.Agent, url: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/**
 * Sends 20 requests whose handler holds each response in `waiting`; once all
 * 20 are in flight, counts the setTimeout calls made meanwhile for `timeout`
 * ms (the real setTimeout, spied on), then answers them all.
 */
async function timersOfInFlight(url: string, waiting: ServerResponse[], timeout: number): Promise<{ timers: number; answers: string[] }> {
  const set = vi.spyOn(globalThis, 'setTimeout');
  let timers: number;
  const answers = Array.from({ length: 20 }, (_, i) => fetch(`${url}/r/${i}`).then((response) => response.text()));
  try {
    while (waiting.length < 20) await sleep(2);
    timers = set.mock.calls.filter(([, ms]) => ms === timeout).length;
  } finally {
    set.mockRestore();
  }
  for (const res of waiting) res.end('ok');
  return { timers, answers: await Promise.all(answers) };
}

describe('the timeouts of in-flight requests (one timer for all)', () => {
  it('20 sampled requests in flight at once set one timer between them, and each span ends at its response', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const waiting: ServerResponse[] = [];
    const url = await listen(tracedHandler(tracer, (_req, res) => void waiting.push(res), { timeout: 4321 }));
    const { timers, answers } = await timersOfInFlight(url, waiting, 4321);
    expect(answers).toEqual(Array.from({ length: 20 }, () => 'ok'));
    // A timer per request, as before, would have been 20.
    expect(timers).toBe(1);
    const spans = await spansOf(reporter, 20);
    expect(spans.every((span) => span.tags!['http.timed_out'] === undefined && span.tags!['http.status_code'] === '200')).toBe(true);
  });

  it('times out only the request left unanswered among answered ones, at the timeout, tagged so', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const url = await listen(
      tracedHandler(
        tracer,
        (req, res) => {
          if (req.url === '/never') return;
          // Answered well inside the timeout (5x), so that a slow machine cannot make it look timed out.
          setTimeout(() => res.end('ok'), req.url === '/slow' ? 30 : 0);
        },
        { timeout: 150 },
      ),
    );
    const started = performance.now();
    const never = fetch(`${url}/never`).catch(() => 'cut');
    await Promise.all([fetch(`${url}/fast`).then((r) => r.text()), fetch(`${url}/slow`).then((r) => r.text())]);
    const spans = await spansOf(reporter, 3, 3000);
    const byPath = new Map(spans.map((span) => [span.tags!['http.path'], span]));
    expect(byPath.get('/never')!.tags).toMatchObject({ 'http.timed_out': 'true', error: 'no response within 150 ms' });
    expect(byPath.get('/fast')!.tags!['http.timed_out']).toBeUndefined();
    expect(byPath.get('/slow')!.tags!['http.timed_out']).toBeUndefined();
    expect(byPath.get('/never')!.duration! / 1000).toBeGreaterThanOrEqual(149);
    expect(performance.now() - started).toBeGreaterThanOrEqual(149);
    void never;
  });
});

describe('the remote endpoint of a server span (made once per socket)', () => {
  it('is the client’s address and port for every request on a kept-alive connection, and another connection’s its own', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const ports: number[] = [];
    const url = await listen(
      tracedHandler(tracer, (req, res) => {
        ports.push(req.socket.remotePort!);
        res.end('ok');
      }),
    );
    await overOneConnection(url, '/a', '/b');
    await overOneConnection(url, '/c');
    const spans = await spansOf(reporter, 3);
    expect(ports[0]).toBe(ports[1]);
    expect(ports[2]).not.toBe(ports[0]);
    expect(spans.map((span) => span.remoteEndpoint)).toEqual(ports.map((port) => ({ ipv4: '127.0.0.1', port })));
  });

  it('is encoded as JSON.stringify gives it, on the HttpReporter’s path too, and the socket shows nothing new to util.inspect', async () => {
    const json: string[] = [];
    const jsonTracer = createTracer({ serviceName: 'api', global: false, reporter: { report() {}, reportJson: (text: string) => void json.push(text) } });
    const inspected: string[] = [];
    const url = await listen(
      tracedHandler(jsonTracer, (req, res) => {
        // After the span started: the endpoint is on the socket by now.
        inspected.push(inspect(req.socket, { depth: 0 }));
        res.end('ok');
      }),
    );
    await overOneConnection(url, '/a', '/b');
    while (json.length < 2) await sleep(2);
    const parsed = json.map((text) => JSON.parse(text) as { remoteEndpoint: unknown });
    expect(parsed[0]!.remoteEndpoint).toEqual({ ipv4: '127.0.0.1', port: expect.any(Number) });
    expect(parsed[1]!.remoteEndpoint).toEqual(parsed[0]!.remoteEndpoint);
    expect(json[0]).toContain(`"remoteEndpoint":${JSON.stringify(parsed[0]!.remoteEndpoint)}`);
    expect(inspected.join('\n')).not.toContain('ziptrace');
  });

  it('with trustProxy, is the forwarded address when a request has one, and the socket’s for the next one on the same connection that has none', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const url = await listen(tracedHandler(tracer, (_req, res) => res.end('ok'), { trustProxy: true }));
    await overOneConnection(url, '/a', ['/b', { 'x-forwarded-for': '203.0.113.7, 10.0.0.1' }], '/c');
    const spans = await spansOf(reporter, 3);
    expect(spans[0]!.remoteEndpoint).toEqual({ ipv4: '127.0.0.1', port: expect.any(Number) });
    expect(spans[1]!.remoteEndpoint).toEqual({ ipv4: '203.0.113.7' });
    expect(spans[2]!.remoteEndpoint).toEqual(spans[0]!.remoteEndpoint);
  });

  it('a span whose endpoint the handler set itself keeps the handler’s', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const url = await listen((req, res) => {
      const request = startServerRequest(tracer, req, res);
      request.span!.remoteEndpoint('gateway', { ipv4: '10.1.2.3', port: 8443 });
      request.run(() => res.end('ok'));
    });
    await overOneConnection(url, '/a', '/b');
    const spans = await spansOf(reporter, 2);
    expect(spans.map((span) => span.remoteEndpoint)).toEqual([
      { serviceName: 'gateway', ipv4: '10.1.2.3', port: 8443 },
      { serviceName: 'gateway', ipv4: '10.1.2.3', port: 8443 },
    ]);
  });
});

describe('what ziptrace adds to a node:http request and response', () => {
  it('one property each, its record (lib/object-state.ts), and util.inspect shows it in a few words', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const seen: { req: string[]; res: string[]; inspected: string }[] = [];
    const ours = (target: object): string[] => Reflect.ownKeys(target).filter((key) => typeof key === 'symbol' && String(key).includes('ziptrace')).map(String);
    const url = await listen(
      tracedHandler(tracer, (req, res) => {
        seen.push({ req: ours(req), res: ours(res), inspected: inspect(req, { depth: 0 }) });
        res.end('ok');
      }),
    );
    await (await fetch(`${url}/a`)).text();
    await spansOf(reporter, 1);
    const record = [String(Symbol.for('ziptrace.object-state.v1'))];
    expect(seen[0]!.req).toEqual(record);
    expect(seen[0]!.res).toEqual(record);
    expect(seen[0]!.inspected).toContain('[ziptrace binding, server request]');
  });
});

describe('startServerRequest called for each request (its options resolved at each call)', () => {
  it('20 such requests in flight with one timeout still share one timer', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const waiting: ServerResponse[] = [];
    const url = await listen((req, res) => {
      startServerRequest(tracer, req, res, { timeout: 4322 }).run(() => void waiting.push(res));
    });
    const { timers } = await timersOfInFlight(url, waiting, 4322);
    await spansOf(reporter, 20);
    // A list per call, as the first version of the shared timer had, set one timer per request and left each pending.
    expect(timers).toBe(1);
  });
});
