/**
 * `ziptrace/express` against both majors of Express (5 as `express`, 4 as
 * the `express4` alias): real apps on loopback, real clients (fetch,
 * http.request), no mocks. Every span reported here is also checked against
 * the Zipkin v2 schema (spec/setup/every-span.ts).
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { currentSpan, InvalidArgumentError, InvalidOptionError, withSpan, type Span } from '../../lib/index.js';
import { expressErrorTracing, expressTracing } from '../../lib/express.js';
import { QUIET_MS, callerHeaders, concurrentRequests, expectChildOfW3CCaller, expectEachInItsOwnTrace, expectJoinedToB3Caller, loopbackServers, nestedWork, readFirstChunkAndLeave, serverSpan, slowBody, spansOf } from '../helpers/http-servers.js';
import { clearGlobalTracerAfterEach, memoryTracer, sleep, thrown } from '../helpers/tracing.js';

clearGlobalTracerAfterEach();

type Express = typeof import('express');
const require = createRequire(import.meta.url);
// express4 is an npm alias with no types of its own: the API these specs use is the same in both majors.
const majors: [string, 4 | 5, Express][] = [
  ['Express 5', 5, require('express') as Express],
  ['Express 4', 4, require('express4') as Express],
];

const { listen } = loopbackServers();

describe.each(majors)('%s', (_label, major, express) => {
  /** An app with tracing mounted first; `env` test keeps Express's final handler from printing the errors it answers. */
  function tracedApp(tracer: Parameters<typeof expressTracing>[0], options?: Parameters<typeof expressTracing>[1]) {
    const app = express();
    app.set('env', 'test');
    app.use(expressTracing(tracer, options));
    return app;
  }

  describe('one SERVER span per request, named by the route', () => {
    it('joins a B3 caller (the shared span) and names the span by the route template', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = tracedApp(tracer);
      app.get('/users/:id', (req, res) => {
        res.json({ id: req.params.id });
      });
      const { headers, client } = callerHeaders('b3');
      expect(await (await fetch(`${await listen(app)}/users/42?fields=name`, { headers })).json()).toEqual({ id: '42' });
      const [span] = await spansOf(reporter, 1);
      expectJoinedToB3Caller(span, client, 'GET /users/:id', { 'http.method': 'GET', 'http.path': '/users/42', 'http.route': '/users/:id', 'http.status_code': '200' });
    });

    it('is a child of a W3C caller', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = tracedApp(tracer);
      app.get('/users/:id', (_req, res) => {
        res.send('ok');
      });
      const { headers, client } = callerHeaders('w3c');
      await (await fetch(`${await listen(app)}/users/7`, { headers })).text();
      const [span] = await spansOf(reporter, 1);
      expectChildOfW3CCaller(span, client, 'GET /users/:id');
    });

    it('names a 404 by the method alone, never by the path', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = tracedApp(tracer);
      app.get('/users/:id', (_req, res) => {
        res.send('ok');
      });
      expect((await fetch(`${await listen(app)}/nothing/here/123`, { method: 'DELETE' })).status).toBe(404);
      const [span] = await spansOf(reporter, 1);
      expect(span!.name).toBe('DELETE');
      expect(span!.tags).toEqual({ 'http.method': 'DELETE', 'http.path': '/nothing/here/123', 'http.status_code': '404' });
    });

    it('includes the templates of the routers mounted above the route, parameters and all', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = tracedApp(tracer);
      const users = express.Router({ mergeParams: true });
      users.get('/users/:id', (req, res) => {
        res.json(req.params);
      });
      users.get('/', (_req, res) => {
        res.send('index');
      });
      const orgs = express.Router();
      orgs.use('/:org', users);
      app.use('/orgs', orgs);
      app.use('/teams', users);
      const url = await listen(app);
      expect(await (await fetch(`${url}/orgs/acme/users/42`)).json()).toEqual({ org: 'acme', id: '42' });
      expect(await (await fetch(`${url}/teams`)).text()).toBe('index');
      const spans = await spansOf(reporter, 2);
      expect(spans.map((s) => s.name)).toEqual(['GET /orgs/:org/users/:id', 'GET /teams']);
      expect(spans[0]!.tags!['http.route']).toBe('/orgs/:org/users/:id');
      expect(JSON.stringify(spans.map((s) => s.name))).not.toContain('acme');
    });

    // Regression: a literal segment equal to the param's value was written as the param too (GET /:id/:id).
    it('keeps a literal mount segment that equals the value of the param after it', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = tracedApp(tracer);
      const profile = express.Router({ mergeParams: true });
      profile.get('/profile', (req, res) => {
        res.json(req.params);
      });
      app.use('/users/:id', profile);
      const url = await listen(app);
      expect(await (await fetch(`${url}/users/users/profile`)).json()).toEqual({ id: 'users' });
      const [span] = await spansOf(reporter, 1);
      expect(span!.name).toBe('GET /users/:id/profile');
      expect(span!.tags!['http.route']).toBe('/users/:id/profile');
    });

    // Regression: a mount by regular expression put its raw segments, ids included, in the span name.
    it('writes * for an id-like segment a regular-expression mount matched', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = tracedApp(tracer);
      const items = express.Router();
      items.get('/meta', (_req, res) => {
        res.send('meta');
      });
      app.use(/^\/t\/\d+/, items);
      expect(await (await fetch(`${await listen(app)}/t/12345/meta`)).text()).toBe('meta');
      const [span] = await spansOf(reporter, 1);
      expect(span!.name).toBe('GET /t/*/meta');
      expect(JSON.stringify(span)).not.toMatch(/"name":"[^"]*12345/);
    });

    it('makes one span when the middleware is mounted twice', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = tracedApp(tracer);
      app.use(expressTracing(tracer));
      app.get('/', (_req, res) => {
        res.send('ok');
      });
      await (await fetch(await listen(app))).text();
      await sleep(QUIET_MS);
      expect(await spansOf(reporter, 1)).toHaveLength(1);
    });
  });

  describe('errors', () => {
    it('a synchronous throw: Express answers 500, which tags error; the error middleware records the message', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const plain = tracedApp(tracer);
      const withErrors = tracedApp(tracer);
      for (const app of [plain, withErrors]) {
        app.get('/boom/:id', () => {
          throw new Error('sync boom');
        });
      }
      withErrors.use(expressErrorTracing());
      expect((await fetch(`${await listen(plain)}/boom/1`)).status).toBe(500);
      const [first] = await spansOf(reporter, 1);
      expect(first).toMatchObject({ name: 'GET /boom/:id', tags: { 'http.status_code': '500', error: '500' } });
      expect((await fetch(`${await listen(withErrors)}/boom/2`)).status).toBe(500);
      const [, second] = await spansOf(reporter, 2);
      expect(second).toMatchObject({ name: 'GET /boom/:id', tags: { 'http.status_code': '500', error: 'sync boom' } });
    });

    it('a route in a mounted router that fails keeps its whole name, though the error leaves the router', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = tracedApp(tracer);
      const accounts = express.Router();
      accounts.get('/:id/balance', (_req, _res, next) => next(new Error('ledger down')));
      app.use('/accounts', accounts);
      app.use(expressErrorTracing());
      expect((await fetch(`${await listen(app)}/accounts/5/balance`)).status).toBe(500);
      expect((await spansOf(reporter, 1))[0]).toMatchObject({ name: 'GET /accounts/:id/balance', tags: { 'http.route': '/accounts/:id/balance', error: 'ledger down' } });
    });

    it('the error middleware passes the error on to the app\'s own error handler', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = tracedApp(tracer);
      app.get('/teapot', (_req, _res, next) => next(new Error('no coffee')));
      app.use(expressErrorTracing());
      const seen: unknown[] = [];
      app.use((error: Error, _req: http.IncomingMessage, res: import('express').Response, _next: import('express').NextFunction) => {
        seen.push(error.message);
        res.status(503).send('later');
      });
      expect((await fetch(`${await listen(app)}/teapot`)).status).toBe(503);
      const [span] = await spansOf(reporter, 1);
      expect(seen).toEqual(['no coffee']);
      expect(span).toMatchObject({ name: 'GET /teapot', tags: { 'http.status_code': '503', error: 'no coffee' } });
    });

    if (major === 5) {
      it('an async rejection: Express 5 passes it on; 500 without the error middleware, the message with it', async () => {
        const { tracer, reporter } = memoryTracer('api');
        const plain = tracedApp(tracer);
        const withErrors = tracedApp(tracer);
        for (const app of [plain, withErrors]) {
          app.get('/async/:id', async () => {
            await sleep(1);
            throw new Error('async boom');
          });
        }
        withErrors.use(expressErrorTracing());
        expect((await fetch(`${await listen(plain)}/async/1`)).status).toBe(500);
        expect((await spansOf(reporter, 1))[0]).toMatchObject({ name: 'GET /async/:id', tags: { 'http.status_code': '500', error: '500' } });
        expect((await fetch(`${await listen(withErrors)}/async/2`)).status).toBe(500);
        expect((await spansOf(reporter, 2))[1]).toMatchObject({ name: 'GET /async/:id', tags: { 'http.status_code': '500', error: 'async boom' } });
      });
    } else {
      it('an async rejection: Express 4 passes it to nobody, the request hangs, and the timeout ends the span, named by its route', async () => {
        const { tracer, reporter } = memoryTracer('api');
        const app = tracedApp(tracer, { timeout: 150 });
        const rejected: unknown[] = [];
        app.get('/async/:id', (_req, _res) => {
          const work = (async () => {
            await sleep(1);
            throw new Error('async boom');
          })();
          // Express 4 drops the promise; the spec observes the rejection so it is not an unhandled one.
          work.catch((error: unknown) => rejected.push(error));
          return work;
        });
        app.use(expressErrorTracing());
        const request = http.get(`${await listen(app)}/async/3`);
        request.on('error', () => {});
        const [span] = await spansOf(reporter, 1, 1500);
        request.destroy();
        expect(rejected).toHaveLength(1);
        expect(span).toMatchObject({ name: 'GET /async/:id', tags: { 'http.timed_out': 'true', error: 'no response within 150 ms' } });
        expect(span!.tags!['http.status_code']).toBeUndefined();
      });
    }

    it('tags a 5xx the handler sends with its status; a 4xx is no error, nor a body parser\'s 400 through the error middleware', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = tracedApp(tracer);
      app.use(express.json());
      app.get('/down', (_req, res) => {
        res.status(503).send('down');
      });
      app.get('/gone', (_req, res) => {
        res.status(410).send('gone');
      });
      app.post('/json', (_req, res) => {
        res.send('ok');
      });
      app.use(expressErrorTracing());
      const url = await listen(app);
      expect((await fetch(`${url}/down`)).status).toBe(503);
      expect((await fetch(`${url}/gone`)).status).toBe(410);
      expect((await fetch(`${url}/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' })).status).toBe(400);
      const spans = await spansOf(reporter, 3);
      expect(spans[0]!.tags).toMatchObject({ 'http.status_code': '503', error: '503' });
      expect(spans[1]!.tags!['http.status_code']).toBe('410');
      expect(spans[1]!.tags!.error).toBeUndefined();
      expect(spans[2]!.tags!['http.status_code']).toBe('400');
      expect(spans[2]!.tags!.error).toBeUndefined();
    });

    it('records no error the tracer\'s ignoredErrors ignores', async () => {
      const { tracer, reporter } = memoryTracer('api', { ignoredErrors: [RangeError] });
      const app = tracedApp(tracer);
      app.get('/', () => {
        throw new RangeError('expected');
      });
      app.use(expressErrorTracing());
      app.use((_error: unknown, _req: http.IncomingMessage, res: import('express').Response, _next: import('express').NextFunction) => {
        res.status(200).send('handled');
      });
      await (await fetch(await listen(app))).text();
      expect((await spansOf(reporter, 1))[0]!.tags!.error).toBeUndefined();
    });
  });

  describe('the span covers the whole request', () => {
    it('is active in express.json()\'s callback and after it: a span the handler starts nests under it', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = tracedApp(tracer);
      app.use(express.json());
      const afterParser: (Span | undefined)[] = [];
      app.use((_req, _res, next) => {
        afterParser.push(currentSpan());
        next();
      });
      app.post('/users', (req, res) => {
        withSpan('save user', (span) => {
          span.tag('user.name', (req.body as { name: string }).name);
          res.status(201).json({ saved: true });
        });
      });
      // The body comes after a pause, so the parser's events fire well outside the middleware's own run.
      const body = slowBody('{"name":', '"Ada"}');
      const response = await fetch(`${await listen(app)}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
      expect(await response.json()).toEqual({ saved: true });
      const spans = await spansOf(reporter, 2);
      const server = serverSpan(spans);
      const save = spans.find((s) => s.name === 'save user')!;
      expect(server).toMatchObject({ name: 'POST /users', tags: { 'http.status_code': '201' } });
      expect(save).toMatchObject({ traceId: server.traceId, parentId: server.id, tags: { 'user.name': 'Ada' } });
      expect(afterParser.map((s) => s?.context.spanId)).toEqual([server.id]);
    });

    it('keeps nested withSpan calls under the right parents across awaits', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = tracedApp(tracer);
      app.get('/orders/:id', async (_req, res) => {
        const before = currentSpan()?.context.spanId;
        await withSpan('load order', async () => {
          await sleep(2);
          await withSpan('query', async () => sleep(2));
          await sleep(1);
          await withSpan('price', async () => sleep(1));
        });
        await sleep(1);
        res.json({ before, after: currentSpan()?.context.spanId });
      });
      const ids = (await (await fetch(`${await listen(app)}/orders/9`)).json()) as { before: string; after: string };
      const spans = await spansOf(reporter, 4);
      const byName = new Map(spans.map((s) => [s.name, s]));
      const server = byName.get('GET /orders/:id')!;
      expect(ids).toEqual({ before: server.id, after: server.id });
      expect(byName.get('load order')!.parentId).toBe(server.id);
      expect(byName.get('query')!.parentId).toBe(byName.get('load order')!.id);
      expect(byName.get('price')!.parentId).toBe(byName.get('load order')!.id);
    });

    it('ends when the client goes away mid-response, tagged http.aborted', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = tracedApp(tracer);
      app.get('/feed/:id', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first part');
      });
      await readFirstChunkAndLeave(`${await listen(app)}/feed/1`);
      const [span] = await spansOf(reporter, 1);
      expect(span).toMatchObject({ name: 'GET /feed/:id', tags: { 'http.aborted': 'true', 'http.status_code': '200' } });
      expect(span!.tags!.error).toBeUndefined();
    });

    it('ends a streamed response when the stream ends, not when the handler returns', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = tracedApp(tracer);
      let streamEnded = 0;
      app.get('/export/:id', (_req, res) => {
        res.type('text/plain');
        const body = Readable.from((async function* () {
          yield 'a\n';
          await sleep(60);
          yield 'b\n';
          await sleep(60);
          yield 'c\n';
        })());
        body.on('end', () => (streamEnded = Date.now()));
        body.pipe(res);
      });
      const started = Date.now();
      const response = await fetch(`${await listen(app)}/export/1`);
      // The headers are here, the stream is not done: the span is still open.
      expect(reporter.spans).toEqual([]);
      expect(await response.text()).toBe('a\nb\nc\n');
      const [span] = await spansOf(reporter, 1);
      expect(span).toMatchObject({ name: 'GET /export/:id', tags: { 'http.status_code': '200' } });
      expect(streamEnded).toBeGreaterThan(0);
      expect(span!.duration!).toBeGreaterThanOrEqual(100_000);
      expect(Math.floor(span!.timestamp! / 1000) + Math.floor(span!.duration! / 1000)).toBeGreaterThanOrEqual(started + 100);
    });

    it('skips a health check: no span and no trace, the handler runs with none active', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = tracedApp(tracer, { skip: ['/healthz'] });
      const active: (Span | undefined)[] = [];
      app.get('/healthz', (_req, res) => {
        active.push(currentSpan());
        res.send('fine');
      });
      app.get('/users/:id', (_req, res) => {
        res.send('ok');
      });
      const url = await listen(app);
      expect(await (await fetch(`${url}/healthz?deep=1`)).text()).toBe('fine');
      await (await fetch(`${url}/users/1`)).text();
      const spans = await spansOf(reporter, 1);
      expect(active).toEqual([undefined]);
      expect(spans.map((s) => s.name)).toEqual(['GET /users/:id']);
    });
  });

  it('gives 100 concurrent requests each its own trace, with nested spans under the right parents', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const app = tracedApp(tracer);
    app.get('/r/:i', async (req, res) => {
      const server = currentSpan()!;
      const row = await nestedWork();
      res.json({ traceId: server.context.traceId, path: req.path, row });
    });
    const url = await listen(app);
    await expectEachInItsOwnTrace(reporter, await concurrentRequests(url, 100), 'GET /r/:i');
  });
});

describe('mistakes', () => {
  const { tracer } = memoryTracer('api', { global: false });

  it('names the closest option to an unknown one, and says what a wrong one takes', () => {
    const error = thrown(() => expressTracing(tracer, { timout: 1000 } as never));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toBe('ziptrace: expressTracing: timout is not an option of expressTracing; did you mean timeout?');
    expect(thrown(() => expressTracing(tracer, { skip: '/healthz' } as never)).message).toContain('skip must be an array of paths or a function');
  });

  it('refuses a tracer that is not one, and arguments to expressErrorTracing, which takes none', () => {
    expect(thrown(() => expressTracing(undefined as never))).toBeInstanceOf(InvalidArgumentError);
    const error = thrown(() => (expressErrorTracing as (...args: unknown[]) => unknown)(tracer));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toContain('expressErrorTracing() takes no arguments');
  });

  it('gives Express the arities it tells middleware apart by', () => {
    expect(expressTracing(tracer).length).toBe(3);
    expect(expressErrorTracing().length).toBe(4);
  });
});
