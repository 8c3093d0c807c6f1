/**
 * `ziptrace/fastify`: real Fastify servers (5, and 4 through the `fastify4`
 * alias) on loopback, real clients (fetch, http.request), no mocks. Every
 * test runs against both majors. Every span reported here is also checked
 * against the Zipkin v2 schema (spec/setup/every-span.ts).
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import Fastify5, { type FastifyInstance } from 'fastify';
import Fastify4, { type FastifyInstance as FastifyInstance4 } from 'fastify4';
import { afterEach, describe, expect, it } from 'vitest';
import { currentSpan, InvalidArgumentError, InvalidOptionError, startSpan, withSpan, type Span, type Tracer } from '../../lib/index.js';
import { fastifyTracing } from '../../lib/fastify.js';
import { QUIET_MS, callerHeaders, concurrentRequests, expectChildOfW3CCaller, expectEachInItsOwnTrace, expectJoinedToB3Caller, nestedWork, readFirstChunkAndLeave, serverSpan, slowBody, spansOf } from '../helpers/http-servers.js';
import { clearGlobalTracerAfterEach, memoryTracer, sleep } from '../helpers/tracing.js';

clearGlobalTracerAfterEach();

/**
 * Never called: it only has to compile, so that `register(fastifyTracing, ...)`
 * type-checks against each major's own declarations, options included.
 */
export function registerTypeChecks(app5: FastifyInstance, app4: FastifyInstance4, tracer: Tracer): void {
  void app5.register(fastifyTracing, { tracer, skip: ['/healthz'], timeout: 1000 });
  void app4.register(fastifyTracing, { tracer, name: (req) => `${req.method} custom` });
  // @ts-expect-error the tracer is required
  void app5.register(fastifyTracing, { skip: ['/healthz'] });
}

const majors = [
  ['Fastify 5', Fastify5],
  ['Fastify 4', Fastify4 as unknown as typeof Fastify5],
] as const;

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

describe.each(majors)('%s', (_major, Fastify) => {
  /** A Fastify app, closed after the test; `setup` adds the routes, after the plugin unless it registers it itself. */
  async function serve(tracer: Tracer | undefined, setup: (app: FastifyInstance) => void | Promise<void>, options: Record<string, unknown> = {}): Promise<string> {
    const app = Fastify({ forceCloseConnections: true });
    apps.push(app);
    if (tracer !== undefined) await app.register(fastifyTracing, { tracer, ...options });
    await setup(app);
    return app.listen({ port: 0, host: '127.0.0.1' });
  }

  const users = (app: FastifyInstance): void => {
    app.get('/users/:id', async (request) => ({ id: (request.params as { id: string }).id }));
  };

  it('reads the route only for a span that records (the routeOptions getter builds an object at each read)', async () => {
    const reads: Record<string, number> = {};
    for (const sampleRate of [0, 1]) {
      const { tracer, reporter } = memoryTracer('api', { sampleRate });
      const app = Fastify({ forceCloseConnections: true });
      apps.push(app);
      reads[sampleRate] = 0;
      // Added before the plugin, so it runs first: the request's own getter counts the reads and gives Fastify's value.
      app.addHook('onRequest', (request, _reply, done) => {
        let proto: object | null = Object.getPrototypeOf(request) as object | null;
        let descriptor: PropertyDescriptor | undefined;
        while (proto !== null && descriptor === undefined) {
          descriptor = Object.getOwnPropertyDescriptor(proto, 'routeOptions');
          proto = Object.getPrototypeOf(proto) as object | null;
        }
        Object.defineProperty(request, 'routeOptions', {
          configurable: true,
          get(this: object): unknown {
            reads[sampleRate]!++;
            return descriptor?.get?.call(this);
          },
        });
        done();
      });
      await app.register(fastifyTracing, { tracer });
      users(app);
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      expect(await (await fetch(`${url}/users/7`)).json()).toEqual({ id: '7' });
      await sleep(QUIET_MS);
      if (sampleRate === 1) expect((await spansOf(reporter, 1))[0]!.name).toBe('GET /users/:id');
      else expect(reporter.spans).toEqual([]);
    }
    expect(reads[0]).toBe(0);
    expect(reads[1]).toBeGreaterThan(0);
  });

  describe('one SERVER span per request', () => {
    it('joins a B3 caller (the shared span, same id), named by the route template', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const url = await serve(tracer, users);
      const { headers, client } = callerHeaders('b3');
      expect(await (await fetch(`${url}/users/42?x=1`, { headers })).json()).toEqual({ id: '42' });
      const [span] = await spansOf(reporter, 1);
      expectJoinedToB3Caller(span, client, 'GET /users/:id', { 'http.method': 'GET', 'http.path': '/users/42', 'http.route': '/users/:id', 'http.status_code': '200' });
      expect(span!.remoteEndpoint).toMatchObject({ ipv4: '127.0.0.1' });
    });

    it('is a child of a W3C caller', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const url = await serve(tracer, users);
      const { headers, client } = callerHeaders('w3c');
      await (await fetch(`${url}/users/7`, { headers })).text();
      const [span] = await spansOf(reporter, 1);
      expectChildOfW3CCaller(span, client, 'GET /users/:id');
    });

    it('starts a new trace when nothing came in', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const url = await serve(tracer, users);
      await (await fetch(`${url}/users/1`)).text();
      await (await fetch(`${url}/users/2`)).text();
      const spans = await spansOf(reporter, 2);
      for (const span of spans) expect(span.parentId).toBeUndefined();
      expect(new Set(spans.map((s) => s.traceId)).size).toBe(2);
    });

    it('names a 404 by the method alone, never by the path', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const url = await serve(tracer, users);
      expect((await fetch(`${url}/nowhere/42`, { method: 'DELETE' })).status).toBe(404);
      const [span] = await spansOf(reporter, 1);
      expect(span!.name).toBe('DELETE');
      expect(span!.tags).toEqual({ 'http.method': 'DELETE', 'http.path': '/nowhere/42', 'http.status_code': '404' });
    });

    it('traces the routes of every plugin, those registered before it and under a prefix included', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = Fastify({ forceCloseConnections: true });
      apps.push(app);
      await app.register(async (child) => {
        child.get('/items/:id', async () => 'item');
      }, { prefix: '/v1' });
      await app.register(fastifyTracing, { tracer });
      app.get('/later', async () => 'later');
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      expect(await (await fetch(`${url}/v1/items/3`)).text()).toBe('item');
      expect(await (await fetch(`${url}/later`)).text()).toBe('later');
      const spans = await spansOf(reporter, 2);
      expect(spans.map((s) => s.name).sort()).toEqual(['GET /later', 'GET /v1/items/:id']);
      expect((app as unknown as { hasPlugin(name: string): boolean }).hasPlugin('ziptrace')).toBe(true);
    });

    it('gives one span when registered twice (nested instances): the first registration traces', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const url = await serve(tracer, async (app) => {
        await app.register(async (child) => {
          await child.register(fastifyTracing, { tracer, name: () => 'second' });
          child.get('/twice', async () => 'ok');
        });
      });
      await (await fetch(`${url}/twice`)).text();
      await sleep(QUIET_MS);
      const [span] = await spansOf(reporter, 1);
      expect(span!.name).toBe('GET /twice');
    });

    it('keeps the name hook\'s name, and adds the tags hook\'s tags (given request.raw, reply.raw)', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const url = await serve(tracer, users, {
        name: (req: http.IncomingMessage) => `${req.method} by hook`,
        tags: (req: http.IncomingMessage, res: http.ServerResponse) => ({ agent: req.headers['user-agent'], status: res.statusCode }),
      });
      await (await fetch(`${url}/users/5`, { headers: { 'user-agent': 'spec/1' } })).text();
      const [span] = await spansOf(reporter, 1);
      expect(span).toMatchObject({ name: 'GET by hook', tags: { 'http.route': '/users/:id', agent: 'spec/1', status: '200' } });
    });
  });

  describe('the span is active for the whole lifecycle', () => {
    it('in an async handler across its awaits, in preHandler and onSend hooks, and in nested withSpan', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const seen: Record<string, string | undefined> = {};
      const url = await serve(tracer, (app) => {
        app.addHook('preHandler', (_request, _reply, done) => {
          seen.preHandler = currentSpan()?.context.spanId;
          done();
        });
        app.addHook('preValidation', async () => {
          await sleep(1);
          seen.asyncHook = currentSpan()?.context.spanId;
        });
        app.addHook('onSend', async (_request, _reply, payload) => {
          seen.onSend = currentSpan()?.context.spanId;
          return payload;
        });
        app.get('/work/:id', async () => {
          seen.handler = currentSpan()?.context.spanId;
          await sleep(2);
          seen.afterAwait = currentSpan()?.context.spanId;
          const inner = await withSpan('db', async () => {
            await sleep(1);
            return withSpan('row', async (row) => {
              await sleep(1);
              return row.context.spanId;
            });
          });
          seen.afterNested = currentSpan()?.context.spanId;
          return { inner };
        });
      });
      const { inner } = (await (await fetch(`${url}/work/1`)).json()) as { inner: string };
      const spans = await spansOf(reporter, 3);
      const server = serverSpan(spans);
      const db = spans.find((s) => s.name === 'db')!;
      expect(seen).toEqual({ asyncHook: server.id, preHandler: server.id, handler: server.id, afterAwait: server.id, afterNested: server.id, onSend: server.id });
      expect(db).toMatchObject({ traceId: server.traceId, parentId: server.id });
      expect(spans.find((s) => s.name === 'row')).toMatchObject({ id: inner, parentId: db.id });
    });

    it('in a POST handler after Fastify\'s JSON parser read a slow body: a span started there nests under it', async () => {
      const { tracer, reporter } = memoryTracer('api');
      let handlerSpan: string | undefined;
      const url = await serve(tracer, (app) => {
        app.post('/orders/:id', (request, reply) => {
          handlerSpan = currentSpan()?.context.spanId;
          withSpan('save order', (span) => {
            span.tag('items', (request.body as { items: unknown[] }).items.length);
          });
          void reply.code(201).send({ saved: true });
        });
      });
      const response = await fetch(`${url}/orders/9`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: slowBody('{"items"', ':[1,2,3]}'), duplex: 'half' } as RequestInit);
      expect(response.status).toBe(201);
      expect(await response.json()).toEqual({ saved: true });
      const spans = await spansOf(reporter, 2);
      const server = serverSpan(spans);
      expect(server).toMatchObject({ name: 'POST /orders/:id', tags: { 'http.status_code': '201' } });
      expect(handlerSpan).toBe(server.id);
      expect(spans.find((s) => s.name === 'save order')).toMatchObject({ traceId: server.traceId, parentId: server.id, tags: { items: '3' } });
    });

    it('gives 100 concurrent requests each its own trace, with nested spans under the right parents', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const url = await serve(tracer, (app) => {
        app.get('/r/:i', async (request) => {
          const server = currentSpan()!;
          const row = await nestedWork();
          return { traceId: server.context.traceId, path: request.url, row };
        });
      });
      await expectEachInItsOwnTrace(reporter, await concurrentRequests(url, 100), 'GET /r/:i');
    });
  });

  describe('errors and statuses', () => {
    const failing = (app: FastifyInstance): void => {
      app.get('/sync', () => {
        throw new Error('sync boom');
      });
      app.get('/async', async () => {
        await sleep(1);
        throw new Error('async boom');
      });
      app.get('/sent', (_request, reply) => {
        void reply.send(new Error('sent boom'));
      });
    };

    it('records what a handler throws, synchronously or not, with Fastify\'s default error handler', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const url = await serve(tracer, failing);
      for (const path of ['/sync', '/async', '/sent']) expect((await fetch(`${url}${path}`)).status).toBe(500);
      const spans = await spansOf(reporter, 3);
      const byRoute = (route: string) => spans.find((s) => s.tags!['http.route'] === route)!;
      expect(byRoute('/sync').tags).toMatchObject({ error: 'sync boom', 'http.status_code': '500' });
      expect(byRoute('/async').tags).toMatchObject({ error: 'async boom', 'http.status_code': '500' });
      expect(byRoute('/sent').tags).toMatchObject({ error: 'sent boom', 'http.status_code': '500' });
    });

    it('records them with the app\'s own error handler too, whatever status it answers, and the handler sees the span', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const inErrorHandler: (string | undefined)[] = [];
      const url = await serve(tracer, (app) => {
        app.setErrorHandler((error, _request, reply) => {
          inErrorHandler.push(currentSpan()?.context.spanId);
          void reply.code((error as Error).message.startsWith('sync') ? 503 : 422).send({ message: (error as Error).message });
        });
        failing(app);
      });
      expect((await fetch(`${url}/sync`)).status).toBe(503);
      expect((await fetch(`${url}/async`)).status).toBe(422);
      const spans = await spansOf(reporter, 2);
      const byRoute = (route: string) => spans.find((s) => s.tags!['http.route'] === route)!;
      expect(byRoute('/sync').tags).toMatchObject({ error: 'sync boom', 'http.status_code': '503' });
      expect(byRoute('/async').tags).toMatchObject({ error: 'async boom', 'http.status_code': '422' });
      expect(inErrorHandler.sort()).toEqual(spans.map((s) => s.id).sort());
    });

    it('tags a 5xx answered without an error with its status, and a 4xx not at all', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const url = await serve(tracer, (app) => {
        app.get('/unavailable', (_request, reply) => void reply.code(503).send('later'));
        app.get('/broken', async (_request, reply) => reply.code(500).send({ broken: true }));
        app.get('/teapot', async (_request, reply) => reply.code(418).send('short and stout'));
      });
      for (const path of ['/unavailable', '/broken', '/teapot']) await (await fetch(`${url}${path}`)).text();
      const spans = await spansOf(reporter, 3);
      const byRoute = (route: string) => spans.find((s) => s.tags!['http.route'] === route)!;
      expect(byRoute('/unavailable').tags).toMatchObject({ error: '503', 'http.status_code': '503' });
      expect(byRoute('/broken').tags).toMatchObject({ error: '500', 'http.status_code': '500' });
      expect(byRoute('/teapot').tags!['http.status_code']).toBe('418');
      expect(byRoute('/teapot').tags!.error).toBeUndefined();
    });

    it('records no error for a client\'s mistake that Fastify answers with a 4xx (invalid JSON), nor one ignoredErrors ignores', async () => {
      const { tracer, reporter } = memoryTracer('api', { ignoredErrors: [RangeError] });
      const url = await serve(tracer, (app) => {
        app.post('/parse', async (request) => request.body);
        app.get('/ignored', async () => {
          throw new RangeError('expected');
        });
      });
      expect((await fetch(`${url}/parse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"not json' })).status).toBe(400);
      expect((await fetch(`${url}/ignored`)).status).toBe(500);
      const spans = await spansOf(reporter, 2);
      const byRoute = (route: string) => spans.find((s) => s.tags!['http.route'] === route)!;
      expect(byRoute('/parse').tags).toMatchObject({ 'http.status_code': '400' });
      expect(byRoute('/parse').tags!.error).toBeUndefined();
      // Ignored as an error, the 500 it caused is still tagged as one.
      expect(byRoute('/ignored').tags).toMatchObject({ error: '500', 'http.status_code': '500' });
    });
  });

  describe('how the span ends', () => {
    it('ends a streamed reply when the stream ends, not before', async () => {
      const { tracer, reporter } = memoryTracer('api');
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const url = await serve(tracer, (app) => {
        app.get('/stream', (_request, reply) => {
          const stream = new Readable({ read() {} });
          stream.push('first;');
          void released.then(async () => {
            stream.push('second;');
            await sleep(5);
            stream.push(null);
          });
          void reply.type('text/plain').send(stream);
        });
      });
      const response = await fetch(`${url}/stream`);
      const reader = response.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toBe('first;');
      await sleep(30);
      expect(reporter.spans).toHaveLength(0);
      release();
      let rest = '';
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
      expect(rest).toBe('second;');
      const [span] = await spansOf(reporter, 1);
      expect(span).toMatchObject({ name: 'GET /stream', tags: { 'http.status_code': '200' } });
      expect(span!.tags!['http.aborted']).toBeUndefined();
      expect(span!.duration).toBeGreaterThanOrEqual(30_000);
    });

    it('ends when the client goes away mid-response, tagged http.aborted', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const url = await serve(tracer, (app) => {
        app.get('/forever', (_request, reply) => {
          const stream = new Readable({ read() {} });
          stream.push('first part');
          // The rest never comes: the client leaves first.
          void reply.type('text/plain').send(stream);
        });
      });
      await readFirstChunkAndLeave(`${url}/forever`);
      const [span] = await spansOf(reporter, 1);
      expect(span).toMatchObject({ name: 'GET /forever', tags: { 'http.aborted': 'true', 'http.status_code': '200' } });
      expect(span!.tags!.error).toBeUndefined();
    });

    it('ends a request never answered at the timeout, tagged so', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const url = await serve(tracer, (app) => {
        app.get('/hang', () => new Promise(() => {}));
      }, { timeout: 100 });
      const request = http.get(`${url}/hang`);
      request.on('error', () => {});
      const started = Date.now();
      const [span] = await spansOf(reporter, 1, 1500);
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      expect(span).toMatchObject({ name: 'GET /hang', tags: { 'http.timed_out': 'true', error: 'no response within 100 ms' } });
      request.destroy();
      await sleep(QUIET_MS);
      expect(reporter.spans).toHaveLength(1);
    });
  });

  describe('skip', () => {
    it('skips what a predicate says (given request.raw): no span, no trace, the handler runs with none active', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const active: (Span | undefined)[] = [];
      const url = await serve(tracer, (app) => {
        app.get('/ready', async () => {
          active.push(currentSpan());
          startSpan('inside').finish();
          return 'fine';
        });
      }, { skip: (req: http.IncomingMessage) => req.headers['user-agent'] === 'probe' });
      expect(await (await fetch(`${url}/ready`, { headers: { 'user-agent': 'probe' } })).text()).toBe('fine');
      expect(active).toEqual([undefined]);
      // `inside` started a trace of its own (nothing was active), but no server span was made.
      await spansOf(reporter, 1);
      expect(reporter.spans.filter((s) => s.kind === 'SERVER')).toEqual([]);
      await (await fetch(`${url}/ready`)).text();
      await spansOf(reporter, 3);
      expect(reporter.spans.filter((s) => s.kind === 'SERVER').map((s) => s.name)).toEqual(['GET /ready']);
    });

    it('skips exact paths, query strings ignored', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const url = await serve(tracer, (app) => {
        app.get('/healthz', async () => ({ ok: currentSpan() === undefined }));
      }, { skip: ['/healthz'] });
      expect(await (await fetch(`${url}/healthz?deep=1`)).json()).toEqual({ ok: true });
      await sleep(QUIET_MS);
      expect(reporter.spans).toEqual([]);
    });
  });

  describe('mistakes fail ready(), naming each', () => {
    async function loadError(options: unknown): Promise<Error> {
      const app = Fastify();
      apps.push(app);
      try {
        await app.register(fastifyTracing, options as never);
        await app.ready();
      } catch (error) {
        return error as Error;
      }
      throw new Error('expected ready() to fail');
    }

    it('names the closest option to an unknown one, with the values\' problems', async () => {
      const { tracer } = memoryTracer('api', { global: false });
      const error = await loadError({ tracer, trustProxies: true });
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toBe('ziptrace: fastifyTracing: trustProxies is not an option of fastifyTracing; did you mean trustProxy?');
      const both = await loadError({ tracer, skipp: ['/x'], timeout: 0, name: 'x' });
      expect(both).toBeInstanceOf(InvalidOptionError);
      expect(both.message).toMatch(/^ziptrace: fastifyTracing: skipp is not an option of fastifyTracing; did you mean skip\?; name must be a function.*; timeout must be milliseconds/);
      expect((await loadError({ tracer, timeout: -1 })).message).toContain('ziptrace: fastifyTracing: timeout must be milliseconds');
    });

    it('refuses a missing or wrong tracer, and options that are not an object', async () => {
      const missing = await loadError({ skip: ['/healthz'] });
      expect(missing).toBeInstanceOf(InvalidArgumentError);
      expect(missing.message).toBe('ziptrace: fastifyTracing: the tracer option must be a tracer from createTracer(), got undefined');
      expect((await loadError({ tracer: {} })).message).toContain('got an object');
      // Fastify itself turns a missing options object into {}: the tracer is what is missing then.
      expect(await loadError(undefined)).toBeInstanceOf(InvalidArgumentError);
    });

    it('accepts Fastify\'s own register options beside its own', async () => {
      const { tracer } = memoryTracer('api', { global: false });
      const app = Fastify();
      apps.push(app);
      await app.register(fastifyTracing, { tracer, prefix: '/api', logLevel: 'warn' } as never);
      await app.ready();
    });
  });
});
