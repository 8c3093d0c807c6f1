/**
 * `ziptrace/koa`: real Koa apps (Koa 3 as `koa`, Koa 2 as `koa2`) routed by
 * `@koa/router`, on loopback, with real clients (fetch, http.request); no
 * mock. Every test runs against both majors. Every span reported is also
 * checked against the Zipkin v2 schema (spec/setup/every-span.ts).
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import Router from '@koa/router';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { currentSpan, InvalidArgumentError, InvalidOptionError, withSpan, type Span, type Tracer } from '../../lib/index.js';
import { koaTracing, type KoaTracingOptions } from '../../lib/koa.js';
import { QUIET_MS, callerHeaders, concurrentRequests, expectChildOfW3CCaller, expectEachInItsOwnTrace, expectJoinedToB3Caller, loopbackServers, nestedWork, readFirstChunkAndLeave, serverSpan, slowBody, spansOf } from '../helpers/http-servers.js';
import { clearGlobalTracerAfterEach, memoryTracer, sleep, thrown } from '../helpers/tracing.js';

clearGlobalTracerAfterEach();

// Koa 2 is installed under the npm alias `koa2`, which has no types of its own; its API is Koa 3's as far as these specs use it.
const Koa2 = createRequire(import.meta.url)('koa2') as typeof Koa;

const { listen } = loopbackServers();

/** A Koa app traced by `koaTracing`, mounted first, then `routes` on a router; gives the base URL and the app. */
async function serve(
  App: typeof Koa,
  tracer: Tracer,
  routes: (router: Router, app: Koa) => void,
  options?: KoaTracingOptions,
): Promise<{ url: string; app: Koa }> {
  const app = new App();
  // The errors the specs throw on purpose would be logged by Koa's default handler; silent keeps the output readable.
  app.silent = true;
  app.use(koaTracing(tracer, options));
  const router = new Router();
  routes(router, app);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return { url: await listen(app.callback()), app };
}

describe.each([
  ['Koa 3', Koa],
  ['Koa 2', Koa2],
])('koaTracing on %s', (major, App) => {
  const users = (router: Router): void => {
    router.get('/users/:id', async (ctx) => {
      await sleep(1);
      ctx.body = { id: ctx.params.id };
    });
  };

  describe('one SERVER span per request', () => {
    it('joins a B3 caller (the shared span id) and is named by the route template', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const { url } = await serve(App, tracer, users);
      const { headers, client } = callerHeaders('b3');
      expect(await (await fetch(`${url}/users/42?fields=name`, { headers })).json()).toEqual({ id: '42' });
      const [span] = await spansOf(reporter, 1);
      expectJoinedToB3Caller(span, client, 'GET /users/:id', { 'http.method': 'GET', 'http.path': '/users/42', 'http.route': '/users/:id', 'http.status_code': '200' });
      expect(span!.remoteEndpoint).toMatchObject({ ipv4: '127.0.0.1' });
    });

    it('is a child of a W3C caller', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const { url } = await serve(App, tracer, users);
      const { headers, client } = callerHeaders('w3c');
      await (await fetch(`${url}/users/7`, { headers })).text();
      const [span] = await spansOf(reporter, 1);
      expectChildOfW3CCaller(span, client, 'GET /users/:id');
    });

    it('names the route with its router prefix, and nested routers by the full template', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const { url } = await serve(App, tracer, (router) => {
        const orders = new Router({ prefix: '/orders' });
        orders.post('/:orderId/items/:itemId', (ctx) => {
          ctx.status = 201;
        });
        router.use('/shops/:shop', orders.routes());
      });
      expect((await fetch(`${url}/shops/9/orders/1/items/2`, { method: 'POST' })).status).toBe(201);
      const [span] = await spansOf(reporter, 1);
      expect(span).toMatchObject({ name: 'POST /shops/:shop/orders/:orderId/items/:itemId', tags: { 'http.status_code': '201' } });
    });

    it('names a 404 by the method alone, never by the path, with no error', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const { url } = await serve(App, tracer, users);
      expect((await fetch(`${url}/nothing/here/123`)).status).toBe(404);
      const [span] = await spansOf(reporter, 1);
      expect(span!.name).toBe('GET');
      expect(span!.tags).toEqual({ 'http.method': 'GET', 'http.path': '/nothing/here/123', 'http.status_code': '404' });
      expect(JSON.stringify(span)).not.toMatch(/"name":"[^"]*nothing/);
    });

    it('takes the status Koa answers after the chain: allowedMethods\' 405, a 5xx set by a handler tagged as the error', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const { url } = await serve(App, tracer, (router) => {
        users(router);
        router.get('/upstream', (ctx) => {
          ctx.status = 502;
          ctx.body = 'bad gateway';
        });
      });
      expect((await fetch(`${url}/users/1`, { method: 'DELETE' })).status).toBe(405);
      expect((await fetch(`${url}/upstream`)).status).toBe(502);
      const spans = await spansOf(reporter, 2);
      const byPath = (path: string) => spans.find((s) => s.tags!['http.path'] === path)!;
      expect(byPath('/users/1')).toMatchObject({ name: 'DELETE', tags: { 'http.status_code': '405' } });
      expect(byPath('/users/1').tags!.error).toBeUndefined();
      expect(byPath('/upstream')).toMatchObject({ name: 'GET /upstream', tags: { 'http.status_code': '502', error: '502' } });
    });

    it('makes one span even when koaTracing is mounted twice', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const { url } = await serve(App, tracer, (router, app) => {
        app.use(koaTracing(tracer));
        users(router);
      });
      await (await fetch(`${url}/users/1`)).text();
      await sleep(QUIET_MS);
      expect((await spansOf(reporter, 1))[0]!.name).toBe('GET /users/:id');
    });

    it('adds no \'error\' listener: Koa\'s default error log stays on', async () => {
      const { tracer } = memoryTracer('api');
      const { url, app } = await serve(App, tracer, users);
      await (await fetch(`${url}/users/1`)).text();
      expect(app.listeners('error')).toEqual([app.onerror]);
    });
  });

  describe('errors: recorded, rethrown, answered by Koa', () => {
    const failing = (router: Router): void => {
      router.get('/sync', () => {
        throw new Error('sync boom');
      });
      router.get('/async', async () => {
        await sleep(2);
        throw new Error('async boom');
      });
      router.get('/missing/:id', (ctx) => ctx.throw(404, 'no such thing'));
      router.get('/forbidden', async (ctx) => {
        await sleep(1);
        ctx.throw(403);
      });
      router.get('/server-error', (ctx) => ctx.throw(500, 'db down'));
      router.get('/unavailable', async (ctx) => {
        await sleep(1);
        ctx.throw(503, 'overloaded');
      });
    };

    it('records a plain error, thrown or rejected, which Koa answers 500 and still receives', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const { url, app } = await serve(App, tracer, failing);
      const received: unknown[] = [];
      app.on('error', (error: Error) => received.push(error.message));
      expect((await fetch(`${url}/sync`)).status).toBe(500);
      expect((await fetch(`${url}/async`)).status).toBe(500);
      const spans = await spansOf(reporter, 2);
      expect(spans.find((s) => s.name === 'GET /sync')!.tags).toMatchObject({ error: 'sync boom', 'http.status_code': '500' });
      expect(spans.find((s) => s.name === 'GET /async')!.tags).toMatchObject({ error: 'async boom', 'http.status_code': '500' });
      expect(received).toEqual(['sync boom', 'async boom']);
    });

    it('tags ctx.throw(4xx) by its status only: an expected answer, not an error', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const { url } = await serve(App, tracer, failing);
      const missing = await fetch(`${url}/missing/5`);
      expect(missing.status).toBe(404);
      expect(await missing.text()).toBe('no such thing');
      expect((await fetch(`${url}/forbidden`)).status).toBe(403);
      const spans = await spansOf(reporter, 2);
      expect(spans.find((s) => s.name === 'GET /missing/:id')!.tags).toEqual({ 'http.method': 'GET', 'http.path': '/missing/5', 'http.route': '/missing/:id', 'http.status_code': '404' });
      expect(spans.find((s) => s.name === 'GET /forbidden')!.tags!.error).toBeUndefined();
    });

    it('records ctx.throw(5xx) with its message, sync and async', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const { url } = await serve(App, tracer, failing);
      expect((await fetch(`${url}/server-error`)).status).toBe(500);
      expect((await fetch(`${url}/unavailable`)).status).toBe(503);
      const spans = await spansOf(reporter, 2);
      expect(spans.find((s) => s.name === 'GET /server-error')!.tags).toMatchObject({ error: 'db down', 'http.status_code': '500' });
      expect(spans.find((s) => s.name === 'GET /unavailable')!.tags).toMatchObject({ error: 'overloaded', 'http.status_code': '503' });
    });

    it('leaves an error the app\'s own error middleware handled to the status it answered', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const { url } = await serve(App, tracer, (router, app) => {
        // The app's error handling, below the tracing: what it answers is the span's status.
        app.use(async (ctx, next) => {
          try {
            await next();
          } catch (error) {
            ctx.status = (error as { status?: number }).status ?? 500;
            ctx.body = { error: (error as Error).message };
          }
        });
        failing(router);
      });
      expect(await (await fetch(`${url}/async`)).json()).toEqual({ error: 'async boom' });
      expect((await fetch(`${url}/missing/1`)).status).toBe(404);
      const spans = await spansOf(reporter, 2);
      expect(spans.find((s) => s.name === 'GET /async')!.tags).toMatchObject({ 'http.status_code': '500', error: '500' });
      expect(spans.find((s) => s.name === 'GET /missing/:id')!.tags!.error).toBeUndefined();
    });

    it('records no error the tracer\'s ignoredErrors ignores', async () => {
      const { tracer, reporter } = memoryTracer('api', { ignoredErrors: [RangeError] });
      const { url } = await serve(App, tracer, (router) => {
        router.get('/range', () => {
          throw new RangeError('expected');
        });
      });
      expect((await fetch(`${url}/range`)).status).toBe(500);
      // Koa still answered 500: the status is the error, not the ignored one's message.
      expect((await spansOf(reporter, 1))[0]!.tags).toMatchObject({ 'http.status_code': '500', error: '500' });
    });
  });

  describe('the span covers the whole request', () => {
    it('is active in the request body\'s events (an inline raw-body parser) and in the handler after it', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const { url } = await serve(App, tracer, (router, app) => {
        // A tiny body parser, as koa-bodyparser reads: ctx.req's events, resolved in 'end'.
        app.use(async (ctx, next) => {
          if (ctx.method !== 'POST') return next();
          const raw = await new Promise<string>((resolve, reject) => {
            const chunks: Buffer[] = [];
            ctx.req.on('data', (chunk: Buffer) => chunks.push(chunk));
            ctx.req.on('error', reject);
            ctx.req.on('end', () => {
              withSpan('parse body', (span) => {
                const text = Buffer.concat(chunks).toString('utf8');
                span.tag('bytes', text.length);
                resolve(text);
              });
            });
          });
          (ctx.request as unknown as { body: unknown }).body = JSON.parse(raw);
          await next();
        });
        router.post('/users/:id', async (ctx) => {
          const body = (ctx.request as unknown as { body: { name: string } }).body;
          ctx.body = await withSpan('save user', async (span) => {
            span.tag('user.name', body.name);
            await sleep(1);
            return { saved: body.name };
          });
        });
      });
      // A body sent after a pause, so that its events fire well outside the middleware's own run.
      const body = slowBody('{"name":', '"Ada"}');
      const response = await fetch(`${url}/users/42`, { method: 'POST', body, duplex: 'half', headers: { 'content-type': 'application/json' } } as RequestInit);
      expect(await response.json()).toEqual({ saved: 'Ada' });
      const spans = await spansOf(reporter, 3);
      const root = serverSpan(spans);
      expect(root.name).toBe('POST /users/:id');
      expect(spans.find((s) => s.name === 'parse body')).toMatchObject({ traceId: root.traceId, parentId: root.id, tags: { bytes: '14' } });
      expect(spans.find((s) => s.name === 'save user')).toMatchObject({ traceId: root.traceId, parentId: root.id, tags: { 'user.name': 'Ada' } });
    });

    it('nests withSpan across awaits in middleware and handlers', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const seen: (string | undefined)[] = [];
      const { url } = await serve(App, tracer, (router, app) => {
        app.use(async (_ctx, next) => {
          seen.push(currentSpan()?.context.spanId);
          await sleep(1);
          await withSpan('auth', () => sleep(1));
          await next();
          seen.push(currentSpan()?.context.spanId);
        });
        router.get('/orders/:id', async (ctx) => {
          seen.push(currentSpan()?.context.spanId);
          ctx.body = await withSpan('load order', async () => {
            await sleep(1);
            return withSpan('query', async () => {
              await sleep(1);
              return { id: ctx.params.id };
            });
          });
          seen.push(currentSpan()?.context.spanId);
        });
      });
      await (await fetch(`${url}/orders/3`)).text();
      const spans = await spansOf(reporter, 4);
      const root = serverSpan(spans);
      const load = spans.find((s) => s.name === 'load order')!;
      expect(seen).toEqual([root.id, root.id, root.id, root.id]);
      expect(spans.find((s) => s.name === 'auth')!.parentId).toBe(root.id);
      expect(load.parentId).toBe(root.id);
      expect(spans.find((s) => s.name === 'query')!.parentId).toBe(load.id);
    });

    it('skips the health check: no span, none active, the handler still answers', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const active: (Span | undefined)[] = [];
      const { url } = await serve(App, tracer, (router) => {
        router.get('/healthz', (ctx) => {
          active.push(currentSpan());
          ctx.body = 'ok';
        });
        users(router);
      }, { skip: ['/healthz'] });
      expect(await (await fetch(`${url}/healthz?deep=1`)).text()).toBe('ok');
      await (await fetch(`${url}/users/1`)).text();
      const [span] = await spansOf(reporter, 1);
      expect(active).toEqual([undefined]);
      expect(span!.name).toBe('GET /users/:id');
    });

    it('ends when the client goes away mid-stream, tagged http.aborted, named by its route', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const { url } = await serve(App, tracer, (router) => {
        router.get('/feed/:id', (ctx) => {
          // A stream that sends one part and never ends: the client leaves first.
          ctx.body = new Readable({ read() {} });
          (ctx.body as Readable).push('first part');
        });
      });
      await readFirstChunkAndLeave(`${url}/feed/1`);
      const [span] = await spansOf(reporter, 1);
      expect(span).toMatchObject({ name: 'GET /feed/:id', tags: { 'http.aborted': 'true', 'http.status_code': '200' } });
      expect(span!.tags!.error).toBeUndefined();
    });

    it('is named by its route even when the client leaves before the handler returns', async () => {
      const { tracer, reporter } = memoryTracer('api');
      let arrived!: () => void;
      const inHandler = new Promise<void>((resolve) => (arrived = resolve));
      const { url } = await serve(App, tracer, (router) => {
        router.get('/slow/:id', async (ctx) => {
          arrived();
          await new Promise((resolve) => ctx.req.once('close', resolve));
          ctx.body = 'too late';
        });
      });
      const request = http.get(`${url}/slow/9`);
      request.on('error', () => {});
      await inHandler;
      request.destroy();
      const [span] = await spansOf(reporter, 1);
      expect(span).toMatchObject({ name: 'GET /slow/:id', tags: { 'http.aborted': 'true', 'http.route': '/slow/:id' } });
      expect(span!.tags!['http.status_code']).toBeUndefined();
    });

    it('names a request a handler answered itself (ctx.respond = false) by its route', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const { url } = await serve(App, tracer, (router) => {
        router.get('/raw/:id', async (ctx) => {
          ctx.respond = false;
          ctx.res.statusCode = 202;
          ctx.res.end('raw');
          await sleep(20);
        });
      });
      expect(await (await fetch(`${url}/raw/1`)).text()).toBe('raw');
      const [span] = await spansOf(reporter, 1);
      expect(span).toMatchObject({ name: 'GET /raw/:id', tags: { 'http.status_code': '202' } });
    });

    it('ends a streamed response when the stream ends, not when the chain returns', async () => {
      const { tracer, reporter } = memoryTracer('api');
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const { url } = await serve(App, tracer, (router) => {
        router.get('/export/:id', (ctx) => {
          ctx.type = 'text/plain';
          ctx.body = Readable.from((async function* () {
            yield 'head,';
            await gate;
            yield 'tail';
          })());
        });
      });
      const response = await fetch(`${url}/export/1`);
      const reader = response.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe('head,');
      // The chain returned long ago; the stream has not ended, and neither has the span.
      await sleep(30);
      expect(reporter.spans).toEqual([]);
      const released = Date.now();
      release();
      while (!(await reader.read()).done);
      const [span] = await spansOf(reporter, 1);
      expect(span).toMatchObject({ name: 'GET /export/:id', tags: { 'http.status_code': '200' } });
      expect(span!.tags!['http.aborted']).toBeUndefined();
      expect((span!.timestamp! + span!.duration!) / 1000).toBeGreaterThanOrEqual(released - 5);
    });

    it('records a streamed body\'s error on the span', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const { url } = await serve(App, tracer, (router) => {
        router.get('/broken-export', (ctx) => {
          const stream = new Readable({ read() {} });
          stream.push('partial');
          setTimeout(() => stream.destroy(new Error('disk gone')), 20);
          ctx.body = stream;
        });
      }, { timeout: 300 });
      const request = http.get(`${url}/broken-export`, (response) => response.resume());
      request.on('error', () => {});
      const [span] = await spansOf(reporter, 1, 1500);
      request.destroy();
      expect(span).toMatchObject({ name: 'GET /broken-export', tags: { error: 'disk gone', 'http.status_code': '200' } });
      // How it ended differs: Koa 3 destroys the response on the stream's error, so the span ends then, as an
      // abort; Koa 2 leaves the response open, so only the timeout ends it.
      if (major === 'Koa 3') {
        expect(span!.tags).toMatchObject({ 'http.aborted': 'true' });
        expect(span!.tags!['http.timed_out']).toBeUndefined();
      } else {
        expect(span!.tags).toMatchObject({ 'http.timed_out': 'true' });
      }
    });

    it('ends a request never answered at the timeout', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const { url } = await serve(App, tracer, (router) => {
        router.get('/never', () => new Promise(() => {}));
      }, { timeout: 100 });
      const request = http.get(`${url}/never`);
      request.on('error', () => {});
      const [span] = await spansOf(reporter, 1, 1500);
      expect(span).toMatchObject({ name: 'GET /never', tags: { 'http.timed_out': 'true', error: 'no response within 100 ms' } });
      request.destroy();
    });
  });

  describe('concurrency', () => {
    it('gives 100 concurrent requests each its own trace, with nested spans under the right parents', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const { url } = await serve(App, tracer, (router) => {
        router.get('/r/:i', async (ctx) => {
          const root = currentSpan()!;
          const row = await nestedWork();
          ctx.body = { traceId: root.context.traceId, path: ctx.path, row };
        });
      });
      await expectEachInItsOwnTrace(reporter, await concurrentRequests(url, 100), 'GET /r/:i');
    });
  });
});

describe('koaTracing: mistakes', () => {
  const tracer = (): Tracer => memoryTracer('api', { global: false }).tracer;

  it('names the closest option to an unknown one', () => {
    const error = thrown(() => koaTracing(tracer(), { skipp: ['/healthz'] } as never));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toBe('ziptrace: koaTracing: skipp is not an option of koaTracing; did you mean skip?');
  });

  it('says what a wrong option takes, and refuses what is not a tracer', () => {
    expect(thrown(() => koaTracing(tracer(), { timeout: -1 }))).toBeInstanceOf(InvalidOptionError);
    expect(thrown(() => koaTracing(tracer(), { timeout: -1 })).message).toContain('timeout must be milliseconds');
    const error = thrown(() => koaTracing({} as never));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toContain('koaTracing: the first argument must be a tracer from createTracer()');
  });
});
