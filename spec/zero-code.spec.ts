/**
 * The zero-code start, as users run it: `node --import ziptrace/register
 * app.mjs` and `node --require ziptrace/register app.cjs`, in real child
 * processes (under the Node that runs this spec: `npm test` runs it on 20, 22
 * and 24), with real frameworks and real HTTP over loopback. The apps
 * (spec/fixtures/zero-code/) have no tracing code; the tracer is configured by
 * the environment only, and reports to a loopback collector.
 *
 * The children resolve `ziptrace/register` by the package's self-reference,
 * to dist/, built first if lib/ is newer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ZipkinSpan } from '../lib/index.js';
import { announcedPort, run } from './helpers/child-processes.js';
import { sleep, startCollector, takeInvalidBodies, type Collector } from './helpers/collector.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(root, 'spec', 'fixtures', 'zero-code');

/** The caller's B3 context, sent with each request to the apps. */
const CALLER = { traceId: '463ac35c9f6413ad48485a3953bb6124', spanId: 'a2fb4a1d1a96d312' };
const B3 = { 'x-b3-traceid': CALLER.traceId, 'x-b3-spanid': CALLER.spanId, 'x-b3-sampled': '1' };

let collector: Collector;
/** The second loopback server the apps call; it records the headers of each call. */
let downstream: http.Server;
let downstreamUrl: string;
const downstreamSeen: http.IncomingHttpHeaders[] = [];
const children = new Set<ChildProcess>();

beforeAll(async () => {
  const build = await run(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--if-stale'], { cwd: root, timeout: 170_000 });
  expect(build.code, `node scripts/build.mjs --if-stale failed, so dist/ cannot be tested:\n${build.output}`).toBe(0);
  collector = await startCollector();
  downstream = http.createServer((req, res) => {
    downstreamSeen.push(req.headers);
    res.end(req.url === '/profile' ? 'ada' : 'dark');
  });
  downstream.listen(0, '127.0.0.1');
  await once(downstream, 'listening');
  downstreamUrl = `http://127.0.0.1:${(downstream.address() as AddressInfo).port}`;
}, 180_000);

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  collector.reset();
  downstreamSeen.length = 0;
  expect(takeInvalidBodies()).toEqual([]);
});

afterAll(async () => {
  await collector?.close();
  downstream?.closeAllConnections();
  await new Promise((resolve) => downstream?.close(resolve));
});

/** A started app: its port, what it printed on stderr so far, and how it ended once it has. */
interface App {
  child: ChildProcess;
  port: number;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts a fixture with ziptrace/register preloaded (`--import` for `.mjs`,
 * `--require` for `.cjs`), configured by `env` over a Zipkin exporter to the
 * collector. A long batch delay, so that spans reach the collector only by
 * the flush the signal makes.
 */
async function startApp(fixture: string, env: Record<string, string> = {}): Promise<App> {
  const flag = fixture.endsWith('.cjs') ? '--require' : '--import';
  const environment: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    OTEL_SERVICE_NAME: 'zero-code-app',
    OTEL_TRACES_EXPORTER: 'zipkin',
    OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${collector.url}/api/v2/spans`,
    OTEL_BSP_SCHEDULE_DELAY: '60000',
    DOWNSTREAM_URL: downstreamUrl,
    ...env,
  };
  const child = spawn(process.execPath, [flag, 'ziptrace/register', path.join(fixtures, fixture)], { cwd: root, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await announcedPort(child, fixture);
  return { child, port, stderr: () => stderr, exited };
}

/** SIGTERM, as a process manager stops the app; resolves with how it ended. */
async function stop(app: App): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  app.child.kill('SIGTERM');
  const ended = await app.exited;
  children.delete(app.child);
  return ended;
}

/** A request to the app, sent with the caller's B3 headers unless told otherwise. */
async function get(app: App, path: string, headers: Record<string, string> = B3): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${app.port}${path}`, { headers });
  return { status: response.status, body: await response.text() };
}

/** The spans of the caller's trace: requests sent without its headers (`/patches`) are traces of their own. */
function callerSpans(): ZipkinSpan[] {
  return collector.spans.filter((span) => span.traceId === CALLER.traceId);
}

function serverSpans(): ZipkinSpan[] {
  return callerSpans().filter((span) => span.kind === 'SERVER');
}

/**
 * The trace every app makes of one `GET /users/42`: the SERVER span joined to
 * the caller's (B3: the same id, shared) and named by the route, and one
 * CLIENT span per downstream call as its children, whose ids the downstream
 * server received.
 */
function expectTrace(route: string, clientPaths: string[]): void {
  const servers = serverSpans();
  expect(servers, JSON.stringify(callerSpans(), null, 2)).toHaveLength(1);
  const server = servers[0]!;
  expect(server).toMatchObject({
    traceId: CALLER.traceId,
    id: CALLER.spanId,
    shared: true,
    name: route === '' ? 'GET' : `GET ${route}`,
    localEndpoint: { serviceName: 'zero-code-app' },
    tags: { 'http.method': 'GET', 'http.path': '/users/42', 'http.status_code': '200', ...(route === '' ? {} : { 'http.route': route }) },
  });
  const clients = callerSpans().filter((span) => span.kind === 'CLIENT');
  expect(clients.map((span) => span.tags?.['http.path']).sort()).toEqual([...clientPaths].sort());
  for (const client of clients) expect(client).toMatchObject({ traceId: CALLER.traceId, parentId: server.id, name: 'GET', remoteEndpoint: { ipv4: '127.0.0.1' } });
  expect(downstreamSeen.map((headers) => headers['x-b3-spanid']).sort()).toEqual(clients.map((span) => span.id).sort());
  expect(callerSpans()).toHaveLength(1 + clientPaths.length);
}

describe('node --import / --require ziptrace/register', () => {
  it.each([
    ['http.mjs', '', ['/profile', '/settings']],
    ['http.cjs', '', ['/profile']],
    ['express5.mjs', '/users/:id', ['/profile']],
    ['express4.cjs', '/users/:id', ['/profile']],
    ['koa3.mjs', '/users/:id', ['/profile']],
    ['koa2.cjs', '/users/:id', ['/profile']],
    ['fastify5.mjs', '/users/:id', ['/profile']],
    ['fastify4.cjs', '/users/:id', ['/profile']],
  ])('traces %s: the SERVER span named by its route, the CLIENT spans of its calls; SIGTERM flushes and still ends it', async (fixture, route, clientPaths) => {
    const app = await startApp(fixture);
    const answer = await get(app, '/users/42');
    expect(answer.status, app.stderr()).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ id: '42', profile: 'ada' });
    // Nothing yet: the batch waits a minute, so only the signal's flush can send it.
    await sleep(100);
    expect(collector.spans).toEqual([]);
    expect(await stop(app)).toEqual({ code: null, signal: 'SIGTERM' });
    expectTrace(route, clientPaths);
    expect(app.stderr()).toBe('');
  });

  it('records what an Express handler threw on the server span, as expressErrorTracing would', async () => {
    const app = await startApp('express5.mjs', { NODE_ENV: 'test' });
    expect((await get(app, '/fail')).status).toBe(500);
    await stop(app);
    expect(serverSpans()).toMatchObject([{ name: 'GET /fail', tags: { 'http.status_code': '500', error: 'the handler failed' } }]);
  });

  it.each([
    ['tracedHandler', 'traced-handler.mjs', ''],
    ['expressTracing and expressErrorTracing', 'express-own.cjs', '/users/:id'],
  ])('makes one server span, not two, for an app that also uses %s', async (_, fixture, route) => {
    const app = await startApp(fixture);
    expect((await get(app, '/users/42')).status).toBe(200);
    await stop(app);
    expectTrace(route, ['/profile']);
  });

  it('ZIPTRACE_INSTRUMENT turns parts off: fetch alone traces no server', async () => {
    const app = await startApp('express5.mjs', { ZIPTRACE_INSTRUMENT: 'fetch' });
    expect((await get(app, '/users/42')).status).toBe(200);
    await stop(app);
    // No server span, so no active span for the fetch, which (without traceRoots) is then not traced either.
    expect(collector.spans).toEqual([]);
    expect(downstreamSeen[0]!['x-b3-traceid']).toBeUndefined();
  });

  it('says what is wrong with the environment in one line on stderr, and runs the app untraced', async () => {
    const app = await startApp('http.mjs', { OTEL_TRACES_SAMPLER: 'always_onn' });
    expect((await get(app, '/users/42')).status).toBe(200);
    const patches = JSON.parse((await get(app, '/patches', {})).body) as Record<string, unknown>;
    await stop(app);
    const lines = app.stderr().split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ziptrace: OTEL_TRACES_SAMPLER="always_onn": .*always_on.*; the app runs untraced$/);
    expect(collector.requests).toEqual([]);
    expect(patches).toEqual({ serverEmit: false, moduleLoad: false, undici: false, fastify: false, signals: 0 });
  });

  it('OTEL_SDK_DISABLED=true: no spans, no patches, no signal listener, nothing said', async () => {
    const traced = await startApp('http.mjs');
    const patched = JSON.parse((await get(traced, '/patches', {})).body) as Record<string, unknown>;
    await stop(traced);
    // What the start changes, seen from the app: the comparison below means something.
    expect(patched).toEqual({ serverEmit: true, moduleLoad: true, undici: true, fastify: true, signals: 1 });
    collector.reset();

    const app = await startApp('http.mjs', { OTEL_SDK_DISABLED: 'true', OTEL_TRACES_SAMPLER: 'always_onn' });
    expect((await get(app, '/users/42')).status).toBe(200);
    const patches = JSON.parse((await get(app, '/patches', {})).body) as Record<string, unknown>;
    expect(await stop(app)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(patches).toEqual({ serverEmit: false, moduleLoad: false, undici: false, fastify: false, signals: 0 });
    expect(collector.requests).toEqual([]);
    expect(downstreamSeen.every((headers) => headers['x-b3-traceid'] === undefined)).toBe(true);
    expect(app.stderr()).toBe('');
  });

  it('starts once when loaded by both --import and --require', async () => {
    const child = spawn(process.execPath, ['--require', 'ziptrace/register', '--import', 'ziptrace/register', path.join(fixtures, 'http.mjs')], {
      cwd: root,
      env: { PATH: process.env.PATH, OTEL_SERVICE_NAME: 'zero-code-app', OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${collector.url}/api/v2/spans`, DOWNSTREAM_URL: downstreamUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const app: App = { child, port: await announcedPort(child, 'http.mjs'), stderr: () => '', exited };
    const patches = JSON.parse((await get(app, '/patches', {})).body) as Record<string, unknown>;
    expect(patches).toMatchObject({ signals: 1 });
    expect((await get(app, '/users/42')).status).toBe(200);
    await stop(app);
    expectTrace('', ['/profile', '/settings']);
  });
});
