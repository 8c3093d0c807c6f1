/**
 * The server span of `ziptrace/http`: real node:http servers on loopback,
 * real clients (fetch, http.request), no mock of the network. Every span
 * reported here is also checked against the Zipkin v2 schema
 * (spec/setup/every-span.ts).
 */
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { currentSpan, InvalidArgumentError, InvalidOptionError, startSpan, withSpan, type Span, type Tracer } from '../../lib/index.js';
import { tracedHandler, startServerRequest, DEFAULT_SERVER_TIMEOUT } from '../../lib/http.js';
import { addressOf, requestPath, serverRequestOf } from '../../lib/instrumentation/server.js';
import { QUIET_MS, callerHeaders, concurrentRequests, expectChildOfW3CCaller, expectEachInItsOwnTrace, expectJoinedToB3Caller, loopbackServers, nestedWork, readFirstChunkAndLeave, serverSpan, spansOf } from '../helpers/http-servers.js';
import { clearGlobalTracerAfterEach, memoryTracer, sleep, thrown } from '../helpers/tracing.js';

clearGlobalTracerAfterEach();

const { listen } = loopbackServers();

const ok: RequestListener = (_req, res) => res.end('ok');

describe('tracedHandler: one SERVER span per request', () => {
  it('joins a B3 caller: the shared span, with the same id', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const url = await listen(tracedHandler(tracer, ok));
    const { headers, client } = callerHeaders('b3');
    expect(await (await fetch(`${url}/users/42`, { headers })).text()).toBe('ok');
    const [span] = await spansOf(reporter, 1);
    expectJoinedToB3Caller(span, client, 'GET', { 'http.method': 'GET', 'http.path': '/users/42', 'http.status_code': '200' });
    expect(span!.localEndpoint).toEqual({ serviceName: 'api' });
  });

  it('is a child of a W3C caller', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const url = await listen(tracedHandler(tracer, ok));
    const { headers, client } = callerHeaders('w3c');
    await (await fetch(url, { headers })).text();
    const [span] = await spansOf(reporter, 1);
    expectChildOfW3CCaller(span, client);
  });

  it('starts a new trace when nothing came in, and when what came is malformed', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const url = await listen(tracedHandler(tracer, ok));
    await (await fetch(url)).text();
    await (await fetch(url, { headers: { b3: 'not-a-context' } })).text();
    const spans = await spansOf(reporter, 2);
    for (const span of spans) expect(span.parentId).toBeUndefined();
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(2);
  });

  it('keeps the caller\'s decision: b3: 0 reports nothing, and the handler\'s spans are unsampled too', async () => {
    const { tracer, reporter } = memoryTracer('api');
    let seen: Span | undefined;
    const url = await listen(tracedHandler(tracer, (_req, res) => {
      seen = currentSpan();
      startSpan('inner').finish();
      res.end();
    }));
    await (await fetch(url, { headers: { b3: '0' } })).text();
    await sleep(QUIET_MS);
    expect(reporter.spans).toEqual([]);
    expect(seen?.context.sampled).toBe(false);
  });

  it('makes the server span current in the handler, and across its awaits', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const seen: (string | undefined)[] = [];
    const url = await listen(tracedHandler(tracer, async (_req, res) => {
      seen.push(currentSpan()?.context.spanId);
      await sleep(1);
      seen.push(currentSpan()?.context.spanId);
      res.end();
    }));
    await (await fetch(url)).text();
    const [span] = await spansOf(reporter, 1);
    expect(seen).toEqual([span!.id, span!.id]);
  });

  it('strips the query string from http.path and never names the span by the path', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const url = await listen(tracedHandler(tracer, ok));
    await (await fetch(`${url}/search/77?q=secret&page=2`, { method: 'POST', body: 'x' })).text();
    const [span] = await spansOf(reporter, 1);
    expect(span!.name).toBe('POST');
    expect(span!.tags!['http.path']).toBe('/search/77');
    expect(JSON.stringify(span)).not.toContain('secret');
  });

  it('is named by the name hook', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const url = await listen(tracedHandler(tracer, ok, { name: (req) => `${req.method} /users/:id` }));
    await (await fetch(`${url}/users/42`)).text();
    expect((await spansOf(reporter, 1))[0]!.name).toBe('GET /users/:id');
  });

  it('adds the tags hook\'s tags at the end, when the status is known', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const url = await listen(tracedHandler(tracer, (_req, res) => {
      res.statusCode = 201;
      res.end();
    }, { tags: (req, res) => ({ 'http.user_agent': req.headers['user-agent'], created: res.statusCode === 201, skipped: undefined }) }));
    await (await fetch(url, { headers: { 'user-agent': 'spec/1' } })).text();
    const [span] = await spansOf(reporter, 1);
    expect(span!.tags).toEqual({ 'http.method': 'GET', 'http.path': '/', 'http.status_code': '201', 'http.user_agent': 'spec/1', created: 'true' });
  });

  it('tags 404 with its status, and 500 with the status as its error', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const url = await listen(tracedHandler(tracer, (req, res) => {
      res.statusCode = req.url === '/missing' ? 404 : 500;
      res.end();
    }));
    await (await fetch(`${url}/missing`)).text();
    await (await fetch(`${url}/broken`)).text();
    const spans = await spansOf(reporter, 2);
    const byPath = (path: string) => spans.find((s) => s.tags!['http.path'] === path)!;
    expect(byPath('/missing').tags).toMatchObject({ 'http.status_code': '404' });
    expect(byPath('/missing').tags!.error).toBeUndefined();
    expect(byPath('/broken').tags).toMatchObject({ 'http.status_code': '500', error: '500' });
  });
});

describe('tracedHandler: errors are the handler\'s', () => {
  it('tags a synchronous throw and rethrows the same error', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const boom = new Error('sync boom');
    const traced = tracedHandler(tracer, () => {
      throw boom;
    });
    const caught: unknown[] = [];
    // What Node would do with the throw is crash the process; the spec catches it where Node would not.
    const url = await listen((req, res) => {
      try {
        traced(req, res);
      } catch (error) {
        caught.push(error);
        res.statusCode = 500;
        res.end();
      }
    });
    expect((await fetch(url)).status).toBe(500);
    const [span] = await spansOf(reporter, 1);
    expect(caught).toEqual([boom]);
    expect(span!.tags).toMatchObject({ error: 'sync boom', 'http.status_code': '500' });
  });

  it('tags a rejection and returns a promise rejected with the same error', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const boom = new Error('async boom');
    const traced = tracedHandler(tracer, async () => {
      await sleep(1);
      throw boom;
    });
    const caught: unknown[] = [];
    const url = await listen((req, res) => {
      traced(req, res).catch((error: unknown) => {
        caught.push(error);
        res.statusCode = 503;
        res.end();
      });
    });
    expect((await fetch(url)).status).toBe(503);
    const [span] = await spansOf(reporter, 1);
    expect(caught).toEqual([boom]);
    // The thrown error's message, not the status, is the error.
    expect(span!.tags).toMatchObject({ error: 'async boom', 'http.status_code': '503' });
  });

  it('keeps the error tag the handler set itself on a 5xx, where the status alone would be the error', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const url = await listen(tracedHandler(tracer, (req, res) => {
      currentSpan()!.tag('error', 'card declined');
      res.statusCode = 502;
      res.end();
    }));
    expect((await fetch(url)).status).toBe(502);
    expect((await spansOf(reporter, 1))[0]!.tags).toMatchObject({ error: 'card declined', 'http.status_code': '502' });
  });

  it('records no error the tracer\'s ignoredErrors ignores', async () => {
    const { tracer, reporter } = memoryTracer('api', { ignoredErrors: [RangeError] });
    const traced = tracedHandler(tracer, () => Promise.reject(new RangeError('expected')));
    const url = await listen((req, res) => void traced(req, res).catch(() => res.end()));
    await (await fetch(url)).text();
    expect((await spansOf(reporter, 1))[0]!.tags!.error).toBeUndefined();
  });
});

describe('tracedHandler: the span covers the whole request', () => {
  it('is active in the request body\'s listeners: a span started at \'end\' nests under it', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const url = await listen(tracedHandler(tracer, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        withSpan('parse body', (span) => {
          span.tag('bytes', Buffer.concat(chunks).length);
          res.end('parsed');
        });
      });
    }));
    // A body sent after a pause, so that its events fire well outside the handler's own run.
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode('{"a":'));
        await sleep(20);
        controller.enqueue(new TextEncoder().encode('1}'));
        controller.close();
      },
    });
    const response = await fetch(url, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(await response.text()).toBe('parsed');
    const spans = await spansOf(reporter, 2);
    const server = serverSpan(spans);
    const parse = spans.find((s) => s.name === 'parse body')!;
    expect(parse).toMatchObject({ traceId: server.traceId, parentId: server.id, tags: { bytes: '7' } });
  });

  it('ends when the client goes away mid-response, tagged http.aborted', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const url = await listen(tracedHandler(tracer, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part');
      // The rest never comes: the client leaves first.
    }));
    await readFirstChunkAndLeave(url);
    const [span] = await spansOf(reporter, 1);
    expect(span!.tags).toMatchObject({ 'http.aborted': 'true', 'http.status_code': '200' });
    expect(span!.tags!.error).toBeUndefined();
  });

  it('tags no status when the client leaves before the headers were sent', async () => {
    const { tracer, reporter } = memoryTracer('api');
    let arrived!: () => void;
    const inHandler = new Promise<void>((resolve) => (arrived = resolve));
    const url = await listen(tracedHandler(tracer, () => arrived()));
    const request = http.get(url);
    request.on('error', () => {});
    await inHandler;
    request.destroy();
    const [span] = await spansOf(reporter, 1);
    expect(span!.tags!['http.aborted']).toBe('true');
    expect(span!.tags!['http.status_code']).toBeUndefined();
  });

  it('ends a request never answered at the timeout, tagged so', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const url = await listen(tracedHandler(tracer, () => {}, { timeout: 100 }));
    const request = http.get(url);
    request.on('error', () => {});
    const started = Date.now();
    const [span] = await spansOf(reporter, 1, 1500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(span!.tags).toMatchObject({ 'http.timed_out': 'true', error: 'no response within 100 ms' });
    request.destroy();
    await sleep(QUIET_MS);
    // The later close finds the span ended: nothing more is reported.
    expect(reporter.spans).toHaveLength(1);
  });

  it('defaults the timeout to five minutes', () => {
    expect(DEFAULT_SERVER_TIMEOUT).toBe(300_000);
  });
});

describe('tracedHandler: skip, remote endpoint', () => {
  it('skips exact paths and predicates: no span, no trace, the handler still runs with none active', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const active: (Span | undefined)[] = [];
    const handler: RequestListener = (_req, res) => {
      active.push(currentSpan());
      startSpan('inside').finish();
      res.end('fine');
    };
    const byPath = await listen(tracedHandler(tracer, handler, { skip: ['/healthz'] }));
    const byPredicate = await listen(tracedHandler(tracer, handler, { skip: (req) => req.headers['user-agent'] === 'probe' }));
    expect(await (await fetch(`${byPath}/healthz?verbose=1`)).text()).toBe('fine');
    expect(await (await fetch(byPredicate, { headers: { 'user-agent': 'probe' } })).text()).toBe('fine');
    expect(active).toEqual([undefined, undefined]);
    // `inside` started a trace of its own (nothing was active), but no server span was made.
    await sleep(QUIET_MS);
    expect(reporter.spans.filter((s) => s.kind === 'SERVER')).toEqual([]);
    await (await fetch(`${byPath}/healthz/deep`)).text();
    await spansOf(reporter, 4);
    expect(reporter.spans.filter((s) => s.kind === 'SERVER').map((s) => s.tags!['http.path'])).toEqual(['/healthz/deep']);
  });

  it('takes the remote endpoint from the socket, and X-Forwarded-For only with trustProxy', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const plain = await listen(tracedHandler(tracer, ok));
    const trusting = await listen(tracedHandler(tracer, ok, { trustProxy: true }));
    const forwarded = { 'x-forwarded-for': '203.0.113.7, 10.0.0.1' };
    await (await fetch(plain, { headers: forwarded })).text();
    const [untrusted] = await spansOf(reporter, 1);
    expect(untrusted!.remoteEndpoint).toMatchObject({ ipv4: '127.0.0.1' });
    expect(untrusted!.remoteEndpoint!.port).toBeGreaterThan(0);
    await (await fetch(trusting, { headers: forwarded })).text();
    await (await fetch(trusting, { headers: { 'x-forwarded-for': 'garbage' } })).text();
    const [, trusted, fallback] = await spansOf(reporter, 3);
    expect(trusted!.remoteEndpoint).toEqual({ ipv4: '203.0.113.7' });
    expect(fallback!.remoteEndpoint).toMatchObject({ ipv4: '127.0.0.1' });
  });

  it('maps an IPv4-mapped IPv6 address to its IPv4, keeps IPv6, drops the rest', () => {
    expect(addressOf('::ffff:1.2.3.4', 5000)).toEqual({ ipv4: '1.2.3.4', port: 5000 });
    expect(addressOf('::FFFF:10.0.0.1')).toEqual({ ipv4: '10.0.0.1' });
    expect(addressOf('2001:db8::1', 443)).toEqual({ ipv6: '2001:db8::1', port: 443 });
    expect(addressOf(' 192.0.2.1 ', 0)).toEqual({ ipv4: '192.0.2.1' });
    expect(addressOf('localhost')).toBeUndefined();
    expect(addressOf(undefined)).toBeUndefined();
  });

  it('reads the path of origin-form and absolute-form targets', () => {
    expect(requestPath('/a/b?c=d#e')).toBe('/a/b');
    expect(requestPath('/a#frag?x')).toBe('/a');
    expect(requestPath('http://example.com/p/q?x=1')).toBe('/p/q');
    expect(requestPath('*')).toBe('*');
    expect(requestPath(undefined)).toBe('/');
  });
});

describe('tracedHandler: concurrency', () => {
  it('gives 200 concurrent requests each its own trace, with nested spans under the right parents across awaits', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const url = await listen(tracedHandler(tracer, async (req, res) => {
      const server = currentSpan()!;
      const id = await nestedWork();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ traceId: server.context.traceId, path: req.url, row: id }));
    }));
    await expectEachInItsOwnTrace(reporter, await concurrentRequests(url, 200));
  });
});

describe('startServerRequest: for framework integrations', () => {
  it('names the span by the route template once known, and tags http.route', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const url = await listen((req, res) => {
      const request = startServerRequest(tracer, req, res);
      request.run(() => {
        // What a router does once it has matched.
        request.route('/users/:id');
        expect(currentSpan()).toBe(request.span);
        res.end();
      });
    });
    await (await fetch(`${url}/users/42`, { method: 'DELETE' })).text();
    const [span] = await spansOf(reporter, 1);
    expect(span).toMatchObject({ name: 'DELETE /users/:id', tags: { 'http.route': '/users/:id', 'http.path': '/users/42' } });
  });

  it('gives a second integration on the same request the first one\'s handle: one span, named by the inner route', async () => {
    const outer = memoryTracer('outer');
    const inner = memoryTracer('inner', { global: false });
    const seen: unknown[] = [];
    // The zero-code server hook around an app that traces itself, with another tracer and its own options.
    const url = await listen(tracedHandler(outer.tracer, (req, res) => {
      const first = serverRequestOf(req);
      const again = startServerRequest(inner.tracer, req, res, { name: () => 'ignored' });
      seen.push(first !== undefined && again === first, currentSpan() === again.span);
      again.run(() => {
        again.route('/users/:id');
        res.end();
      });
    }));
    await (await fetch(`${url}/users/42`)).text();
    const [span] = await spansOf(outer.reporter, 1);
    expect(span).toMatchObject({ name: 'GET /users/:id', localEndpoint: { serviceName: 'outer' } });
    await sleep(QUIET_MS);
    expect(inner.reporter.spans).toEqual([]);
    expect(seen).toEqual([true, true]);
  });

  it('keeps the name hook\'s name over a route; fail() records an error; end() ends it once', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const url = await listen((req, res) => {
      const request = startServerRequest(tracer, req, res, { name: () => 'custom' });
      request.route('/x/:y').fail(new Error('handled')).end();
      request.end();
      res.end();
    });
    await (await fetch(`${url}/x/1`)).text();
    await sleep(QUIET_MS);
    const [span] = await spansOf(reporter, 1);
    expect(span).toMatchObject({ name: 'custom', tags: { 'http.route': '/x/:y', error: 'handled' } });
  });

  it('gives a skipped request no span, and a handle that does nothing', async () => {
    const { tracer, reporter } = memoryTracer('api');
    let request: ReturnType<typeof startServerRequest> | undefined;
    const url = await listen((req, res) => {
      request = startServerRequest(tracer, req, res, { skip: ['/'] });
      request.route('/').fail(new Error('x')).end();
      request.run(() => res.end());
    });
    await (await fetch(url)).text();
    expect(request).toMatchObject({ skipped: true, span: undefined });
    await sleep(QUIET_MS);
    expect(reporter.spans).toEqual([]);
  });
});

describe('hooks that throw never reach the app', () => {
  it('a throwing skip, name or tags hook is ignored: the request is traced with the defaults', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const fail = (): never => {
      throw new Error('hook bug');
    };
    const url = await listen(tracedHandler(tracer, ok, { skip: fail, name: fail, tags: fail }));
    expect(await (await fetch(`${url}/a`)).text()).toBe('ok');
    const [span] = await spansOf(reporter, 1);
    expect(span).toMatchObject({ name: 'GET', tags: { 'http.status_code': '200' } });
    expect(span!.tags!.error).toBeUndefined();
  });
});

describe('mistakes', () => {
  const tracer = (): Tracer => memoryTracer('api', { global: false }).tracer;

  it('names the closest option to an unknown one', () => {
    const error = thrown(() => tracedHandler(tracer(), ok, { trustProxies: true } as never));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toBe('ziptrace: tracedHandler: trustProxies is not an option of tracedHandler; did you mean trustProxy?');
  });

  it('says what each wrong option takes', () => {
    const error = thrown(() => tracedHandler(tracer(), ok, { skip: '/healthz', name: 'x', tags: {}, trustProxy: 'yes', timeout: 0 } as never));
    expect(error).toBeInstanceOf(InvalidOptionError);
    for (const part of ['skip must be an array of paths or a function', 'name must be a function', 'tags must be a function', 'trustProxy must be true or false', 'timeout must be milliseconds']) {
      expect(error.message).toContain(part);
    }
    expect(thrown(() => tracedHandler(tracer(), ok, { skip: ['/a', 1] } as never)).message).toContain('skip must list paths as strings, got 1');
    expect(thrown(() => tracedHandler(tracer(), ok, { timeout: 2 ** 31 } as never)).message).toContain('timeout must be milliseconds');
    expect(thrown(() => tracedHandler(tracer(), ok, 'fast' as never))).toBeInstanceOf(InvalidOptionError);
  });

  it('refuses a handler that is not a function, and a tracer that is not one', () => {
    expect(thrown(() => tracedHandler(tracer(), undefined as never))).toBeInstanceOf(InvalidArgumentError);
    const error = thrown(() => tracedHandler(undefined as never, ok));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toContain('the first argument must be a tracer from createTracer()');
    expect(thrown(() => startServerRequest({} as never, {} as IncomingMessage, {} as ServerResponse)).message).toContain('startServerRequest');
  });
});
