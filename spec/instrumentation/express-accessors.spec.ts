/**
 * Express's `req.route` and `req.baseUrl` followed through accessors on
 * IncomingMessage.prototype (lib/instrumentation/express.ts watchAssignments),
 * against both majors of Express (5 as `express`, 4 as `express4`): real apps
 * on loopback, real clients. What a process sees the first time, and what an
 * app that is never traced sees, run in child processes of their own (plain
 * node on lib/ transpiled), so that no earlier test has installed anything.
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import http, { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentSpan } from '../../lib/index.js';
import { expressTracing } from '../../lib/express.js';
import { stateOf } from '../../lib/object-state.js';
import { loopbackServers, spansOf, QUIET_MS } from '../helpers/http-servers.js';
import { transpileLib } from '../helpers/transpiled-lib.js';
import { clearGlobalTracerAfterEach, memoryTracer, sleep } from '../helpers/tracing.js';

clearGlobalTracerAfterEach();

type Express = typeof import('express');
const require = createRequire(import.meta.url);
const majors: [string, 'express' | 'express4', Express][] = [
  ['Express 5', 'express', require('express') as Express],
  ['Express 4', 'express4', require('express4') as Express],
];

const { listen } = loopbackServers();

/** Whether ziptrace watches the request's route assignments: its record (lib/object-state.ts) lists watchers. */
const watchedOf = (target: object): boolean => stateOf(target)?.watchers !== undefined;

/*
 * The in-process specs are about a process past its first traced request (that one has a spec of its own, in a
 * child process): one traced request first, so that the accessors are installed whatever runs first.
 */
beforeAll(async () => {
  const { tracer } = memoryTracer('warm-up');
  const app = majors[0][2]();
  app.use(expressTracing(tracer));
  app.get('/', (_req, res) => {
    res.send('ok');
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)).text();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

let libDir: string | undefined;
function transpiled(): string {
  libDir ??= transpileLib('ziptrace-express-accessors-');
  return libDir;
}
afterAll(() => {
  if (libDir !== undefined) rmSync(libDir, { recursive: true, force: true });
});

/**
 * Runs `body` (an ES module's code) with plain node in a process of its own:
 * `lib` is the transpiled lib's folder URL, `express` the Express named by
 * `major`; its last line of stdout, read as JSON, is the answer.
 */
function child(major: 'express' | 'express4', body: string): Promise<unknown> {
  const dir = transpiled();
  const file = join(dir, `child-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(
    file,
    `import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(fileURLToPath(import.meta.url))});
const express = require(${JSON.stringify(major)});
const lib = ${JSON.stringify(pathToFileURL(dir).href)};
const { createTracer, MemoryReporter } = await import(lib + '/index.js');
const { expressTracing } = await import(lib + '/express.js');
const listen = (app) => new Promise((resolve) => { const server = app.listen(0, '127.0.0.1', () => resolve(server)); });
const get = async (server, path) => (await fetch('http://127.0.0.1:' + server.address().port + path)).text();
const until = async (reporter, n) => { for (let i = 0; i < 500 && reporter.spans.length < n; i++) await new Promise((r) => setTimeout(r, 2)); };
${body}
`,
  );
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [file], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error !== null) return reject(new Error(`child failed: ${String(error)}\n${stdout}${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

describe.each(majors)('%s', (_label, name, express) => {
  describe('the first traced request of a process', () => {
    it('names a parameterised mount by its template, as every later request is named', async () => {
      const names = await child(
        name,
        `const reporter = new MemoryReporter();
const tracer = createTracer({ serviceName: 'api', reporter, global: false });
const app = express();
app.use(expressTracing(tracer));
const users = express.Router({ mergeParams: true });
users.get('/users/:id', (req, res) => res.send('ok'));
app.use('/orgs/:org', users);
const server = await listen(app);
await get(server, '/orgs/acme/users/1');
await until(reporter, 1);
await get(server, '/orgs/acme/users/2');
await until(reporter, 2);
server.close();
console.log(JSON.stringify(reporter.spans.map((s) => s.name)));`,
      );
      // Now the first is 'GET /orgs/acme/users/:id': Express's router assigned req.baseUrl (to '') before the
      // tracing middleware ran and installed the accessors, so it is an own data property of that request that
      // hides them, and the mount's template is never learnt: the raw path, a user's value in it, names the span.
      expect(names).toEqual(['GET /orgs/:org/users/:id', 'GET /orgs/:org/users/:id']);
    }, 30_000);
  });

  describe('span names', () => {
    it('nested routers with mount params', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = express();
      app.use(expressTracing(tracer));
      const members = express.Router({ mergeParams: true });
      members.get('/members/:member', (req, res) => {
        res.json(req.params);
      });
      const users = express.Router({ mergeParams: true });
      users.get('/users/:id', (req, res) => {
        res.json(req.params);
      });
      users.use('/teams/:team', members);
      app.use('/orgs/:org', users);
      const url = await listen(app);
      expect(await (await fetch(`${url}/orgs/acme/users/7`)).json()).toEqual({ org: 'acme', id: '7' });
      expect(await (await fetch(`${url}/orgs/acme/teams/red/members/9`)).json()).toEqual({ org: 'acme', team: 'red', member: '9' });
      const spans = await spansOf(reporter, 2);
      expect(spans.map((s) => s.name).sort()).toEqual(['GET /orgs/:org/teams/:team/members/:member', 'GET /orgs/:org/users/:id']);
    });

    it('a sub-app (another express()) mounted under a path, with a parameterised router in it', async () => {
      const { tracer, reporter } = memoryTracer('api');
      const app = express();
      app.use(expressTracing(tracer));
      const sub = express();
      const users = express.Router({ mergeParams: true });
      users.get('/users/:id', (req, res) => {
        res.json(req.params);
      });
      sub.use('/orgs/:org', users);
      sub.get('/things/:thing', (req, res) => {
        res.json(req.params);
      });
      app.use('/v1', sub);
      const url = await listen(app);
      expect(await (await fetch(`${url}/v1/orgs/acme/users/7`)).json()).toEqual({ org: 'acme', id: '7' });
      await spansOf(reporter, 1);
      expect(await (await fetch(`${url}/v1/things/3`)).json()).toEqual({ thing: '3' });
      const spans = await spansOf(reporter, 2);
      expect(spans.map((s) => s.name)).toEqual(['GET /v1/orgs/:org/users/:id', 'GET /v1/things/:thing']);
    });

    it('unsampled requests (sampleRate 0) are answered, named by nobody and not watched', async () => {
      const { tracer, reporter } = memoryTracer('api', { sampleRate: 0 });
      const app = express();
      app.use(expressTracing(tracer));
      const seen: unknown[] = [];
      const users = express.Router({ mergeParams: true });
      users.get('/users/:id', (req, res) => {
        seen.push({ route: req.route?.path, baseUrl: req.baseUrl, watched: watchedOf(req), sampled: currentSpan()?.isRecording });
        res.json(req.params);
      });
      app.use('/orgs/:org', users);
      expect(await (await fetch(`${await listen(app)}/orgs/acme/users/7`)).json()).toEqual({ org: 'acme', id: '7' });
      await sleep(QUIET_MS);
      expect(reporter.spans).toHaveLength(0);
      expect(seen).toEqual([{ route: '/users/:id', baseUrl: '/orgs/acme', watched: false, sampled: false }]);
    });
  });

  describe('what the app reads', () => {
    /** An app whose handlers record what Express set on the request, in a nested router and after it. */
    function recordingApp(traced: boolean) {
      const { tracer } = memoryTracer('api');
      const app = express();
      if (traced) app.use(expressTracing(tracer));
      const seen: unknown[] = [];
      const read = (where: string, req: import('express').Request) =>
        seen.push({
          where,
          route: req.route?.path,
          routeIsExpress: req.route === undefined ? undefined : typeof req.route.dispatch === 'function',
          baseUrl: req.baseUrl,
          originalUrl: req.originalUrl,
          url: req.url,
          params: { ...req.params },
          inspectThrows: (() => {
            try {
              inspect(req, { depth: 1 });
              return false;
            } catch {
              return true;
            }
          })(),
          picked: JSON.stringify(req, ['route', 'baseUrl', 'path', 'method', 'originalUrl']),
        });
      const users = express.Router({ mergeParams: true });
      users.get('/users/:id', (req, _res, next) => {
        read('route', req);
        next();
      });
      app.use('/orgs/:org', users);
      app.use((req, res) => {
        read('after', req);
        res.send('done');
      });
      return { app, seen };
    }

    it('req.route and req.baseUrl are what Express set, as in an app that is not traced', async () => {
      const plain = recordingApp(false);
      const traced = recordingApp(true);
      expect(await (await fetch(`${await listen(plain.app)}/orgs/acme/users/7?x=1`)).text()).toBe('done');
      expect(await (await fetch(`${await listen(traced.app)}/orgs/acme/users/7?x=1`)).text()).toBe('done');
      expect(plain.seen).toHaveLength(2);
      expect(traced.seen).toEqual(plain.seen);
    });
  });

  describe('an app that is never traced, sharing the process with one that is', () => {
    it('sees Object.keys(req) and a copy of req ({...req}) as it did before any request was traced', async () => {
      const answer = await child(
        name,
        `const looks = [];
const plain = express();
plain.get('/users/:id', (req, res) => {
  looks.push({ keys: Object.keys(req).filter((k) => k === 'route' || k === 'baseUrl'), copied: (({ route, baseUrl }) => ({ route: route?.path, baseUrl }))({ ...req }) });
  res.send('ok');
});
const reporter = new MemoryReporter();
const tracer = createTracer({ serviceName: 'api', reporter, global: false });
const traced = express();
traced.use(expressTracing(tracer));
traced.get('/', (req, res) => res.send('ok'));
const p = await listen(plain);
const t = await listen(traced);
await get(p, '/users/1');
await get(t, '/');
await get(p, '/users/2');
p.close();
t.close();
console.log(JSON.stringify(looks));`,
      );
      // Both looks find both: a traced request elsewhere in the process changes nothing for this app's requests
      // (a logger that copies or enumerates req sees route and baseUrl).
      expect(answer).toEqual([
        { keys: ['baseUrl', 'route'], copied: { route: '/users/:id', baseUrl: '' } },
        { keys: ['baseUrl', 'route'], copied: { route: '/users/:id', baseUrl: '' } },
      ]);
    }, 30_000);
  });
});

describe('a client-side IncomingMessage (an http.get response)', () => {
  it('keeps what code assigns to its route and baseUrl, as own enumerable properties, after a traced request', async () => {
    const { tracer } = memoryTracer('api');
    const express = majors[0][2];
    const app = express();
    app.use(expressTracing(tracer));
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    const url = await listen(app);
    await (await fetch(url)).text();
    // expressTracing() put its accessors on the prototype; a response's assignments make its own properties.
    expect(Object.getOwnPropertyDescriptor(IncomingMessage.prototype, 'route')?.set).toBeTypeOf('function');
    const read = await new Promise<unknown>((resolve, reject) => {
      http
        .get(url, (response) => {
          const assigned = { path: '/x' };
          (response as unknown as Record<string, unknown>).route = assigned;
          (response as unknown as Record<string, unknown>).baseUrl = '/base';
          const r = response as unknown as Record<string, unknown>;
          resolve({
            same: r.route === assigned,
            baseUrl: r.baseUrl,
            watched: watchedOf(response),
            keys: Object.keys(response).filter((key) => key === 'route' || key === 'baseUrl'),
            copied: (({ route, baseUrl }) => ({ route, baseUrl }))({ ...r }),
          });
          response.resume();
        })
        .on('error', reject);
    });
    expect(read).toEqual({ same: true, baseUrl: '/base', watched: false, keys: ['route', 'baseUrl'], copied: { route: { path: '/x' }, baseUrl: '/base' } });
  });
});

describe('a second copy of ziptrace (lib/ transpiled, imported beside this one)', () => {
  it('names a parameterised mount by its template over the accessors this copy installed', async () => {
    const { tracer } = memoryTracer('warm');
    const express = majors[0][2];
    const warm = express();
    warm.use(expressTracing(tracer));
    warm.get('/', (_req, res) => {
      res.send('ok');
    });
    await (await fetch(await listen(warm))).text();
    const dir = transpiled();
    const copy = (await import(pathToFileURL(join(dir, 'index.js')).href)) as typeof import('../../lib/index.js');
    const copyExpress = (await import(pathToFileURL(join(dir, 'express.js')).href)) as typeof import('../../lib/express.js');
    const reporter = new copy.MemoryReporter();
    const other = copy.createTracer({ serviceName: 'api', reporter, global: false });
    const app = express();
    app.use(copyExpress.expressTracing(other));
    const users = express.Router({ mergeParams: true });
    users.get('/users/:id', (_req, res) => {
      res.send('ok');
    });
    app.use('/orgs/:org', users);
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/orgs/acme/users/1`)).text();
      const spans = await spansOf(reporter, 1);
      expect(spans[0]!.name).toBe('GET /orgs/:org/users/:id');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe.each(majors)('%s, with two copies of ziptrace tracing the same app', (_label, _name, express) => {
  // As `ziptrace/register`'s copy (its Express hook) and the app's own `require`d copy both mounting expressTracing.
  it('names a parameterised mount by its template', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const dir = transpiled();
    const copyExpress = (await import(pathToFileURL(join(dir, 'express.js')).href)) as typeof import('../../lib/express.js');
    const app = express();
    app.use(expressTracing(tracer));
    app.use(copyExpress.expressTracing(tracer));
    const users = express.Router({ mergeParams: true });
    users.get('/users/:id', (_req, res) => {
      res.send('ok');
    });
    app.use('/orgs/:org', users);
    await (await fetch(`${await listen(app)}/orgs/acme/users/1`)).text();
    await sleep(QUIET_MS);
    const spans = await spansOf(reporter, 1);
    // Now 'GET /orgs/acme/users/:id' (so at e981918~1 too): the second copy's watcher, under the same registered
    // symbol, replaces the first's; the first never learns a route, and its 'finish' listener then names the span
    // from the raw req.baseUrl, after the second named it right.
    expect(spans[0]!.name).toBe('GET /orgs/:org/users/:id');
  });
});

describe('what ziptrace adds to an Express request and its response', () => {
  // On Node 20 and 22 Express gives each request a hidden class of its own: each property added to one copies its whole property list.
  const ours = (target: object): string[] => Reflect.ownKeys(target).filter((key): key is symbol => typeof key === 'symbol' && String(key).includes('ziptrace')).map(String);
  for (const [label, , express] of majors) {
    it(`${label}: one property each, its record, and the same named properties as an untraced app's`, async () => {
      const { tracer, reporter } = memoryTracer('api');
      const seen: Record<string, { req: string[]; res: string[]; reqKeys: string[]; resKeys: string[]; watched: boolean }> = {};
      const build = (traced: boolean) => {
        const app = express();
        if (traced) app.use(expressTracing(tracer));
        const users = express.Router({ mergeParams: true });
        users.get('/users/:id', (req, res) => {
          seen[traced ? 'traced' : 'untraced'] = { req: ours(req), res: ours(res), reqKeys: Object.keys(req), resKeys: Object.keys(res), watched: watchedOf(req) };
          res.json(req.params);
        });
        app.use('/orgs/:org', users);
        return app;
      };
      expect(await (await fetch(`${await listen(build(true))}/orgs/acme/users/7`)).json()).toEqual({ org: 'acme', id: '7' });
      expect(await (await fetch(`${await listen(build(false))}/orgs/acme/users/7`)).json()).toEqual({ org: 'acme', id: '7' });
      const [span] = await spansOf(reporter, 1);
      expect(span!.name).toBe('GET /orgs/:org/users/:id');
      const record = [String(Symbol.for('ziptrace.object-state.v1'))];
      expect(seen.traced).toMatchObject({ req: record, res: record, watched: true });
      // An untraced app's request in this process keeps its route and base URL behind the accessors too, in a record,
      // and its response has one as well: every node:http request gets its records when Node parses it (early-records.ts).
      expect(seen.untraced).toMatchObject({ req: record, res: record, watched: false });
      expect(seen.traced!.reqKeys).toEqual(seen.untraced!.reqKeys);
      expect(seen.traced!.resKeys).toEqual(seen.untraced!.resKeys);
    });

    it(`${label}: the records are there before the app's first listener, so nothing is added once Express swaps the prototype`, async () => {
      // On Node 20 and 22 each request and response has a hidden class of its own after the swap: a property added
      // then copies the object's whole property list (lib/instrumentation/early-records.ts).
      const { tracer, reporter } = memoryTracer('api');
      const app = express();
      app.use(expressTracing(tracer));
      const seen: Record<string, unknown> = {};
      app.get('/users/:id', (req, res) => {
        seen.atRoute = { req: ours(req), res: ours(res) };
        res.send('ok');
      });
      const server = http.createServer();
      server.on('request', (req: IncomingMessage, res: http.ServerResponse) => {
        seen.atRequest = { req: ours(req), res: ours(res), nodes: Object.getPrototypeOf(req) === IncomingMessage.prototype && Object.getPrototypeOf(res) === http.ServerResponse.prototype };
      });
      server.on('request', app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        expect(await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/users/7`)).text()).toBe('ok');
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
      const record = [String(Symbol.for('ziptrace.object-state.v1'))];
      expect(seen.atRequest).toEqual({ req: record, res: record, nodes: true });
      expect(seen.atRoute).toEqual({ req: record, res: record });
      expect((await spansOf(reporter, 1))[0]!.name).toBe('GET /users/:id');
    });
  }
});
