import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTracer, type ZipkinSpan } from '../lib/index.js';
import { startViewer } from '../lib/viewer/server.js';
import { startCollector, type Collector } from './helpers/collector.js';
import { validateZipkinSpans } from './helpers/zipkin-schema.js';

// The README's examples are files in examples/, quoted whole; this spec checks
// the quotes are exact and runs each file as a user would.
const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

function quotedExamples(): Map<string, string> {
  const quoted = new Map<string, string>();
  for (const match of readme.matchAll(/```(?:js|ts|javascript|typescript)\n(\/\/ (examples\/[\w.-]+)\n[\s\S]*?)```/g)) {
    quoted.set(match[2]!, match[1]!);
  }
  return quoted;
}

describe('README', () => {
  it('starts with the two commands: the demo and the tests', () => {
    const firstBlock = /```(?:sh|bash)\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstBlock).toContain('npm install && npm run demo');
    expect(firstBlock).toContain('npm test');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.demo).toBe('node scripts/demo.mjs');
  });

  it('quotes every example file exactly', () => {
    const quoted = quotedExamples();
    expect([...quoted.keys()].sort()).toEqual(['examples/express.mjs', 'examples/fastify.mjs', 'examples/http-client.mjs', 'examples/http-server.mjs', 'examples/koa.mjs', 'examples/logs.mjs', 'examples/opentelemetry.mjs', 'examples/otlp.mjs', 'examples/quickstart.mjs', 'examples/server.mjs', 'examples/traced.ts', 'examples/untraced-app.mjs', 'examples/viewer.mjs']);
    for (const [file, text] of quoted) expect(text, file).toBe(readFileSync(join(root, file), 'utf8'));
  });

  it('runs the quick start: three nested spans, printed', async () => {
    const { stdout } = await run(process.execPath, ['examples/quickstart.mjs'], { cwd: root });
    const json = stdout.slice(stdout.indexOf('['));
    const spans = JSON.parse(json) as { name: string; id: string; parentId?: string; traceId: string; tags?: Record<string, string> }[];
    const byName = new Map(spans.map((s) => [s.name, s]));
    const server = byName.get('GET /users/:id')!;
    const sql = byName.get('Slow SQL')!;
    const parse = byName.get('parse rows')!;
    expect(spans).toHaveLength(3);
    expect(server.parentId).toBeUndefined();
    expect(sql.parentId).toBe(server.id);
    expect(parse.parentId).toBe(sql.id);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    expect(server.tags).toEqual({ 'http.method': 'GET', 'user.id': '42' });
    expect(stdout).toMatch(/^parse rows\s+\d+ µs {2}id [0-9a-f]{16} {2}child of [0-9a-f]{16}$/m);
  });

  it('runs the HTTP server example: spans named by the route, nested in the body\'s events, the health check untraced', async () => {
    const { stdout } = await run(process.execPath, ['examples/http-server.mjs'], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    const traces = stdout.split(/^(?=trace )/m).filter((t) => t.startsWith('trace '));
    expect(traces).toHaveLength(2);
    expect(traces[0]).toMatch(/^ {2}GET \/users\/:id +[\d.]+(µs|ms) {2}SERVER {2}http\.method=GET http\.path=\/users\/42 http\.status_code=200$/m);
    expect(traces[1]).toMatch(/^ {2}GET \/users\/:id +[\d.]+(µs|ms) {2}SERVER {2}http\.method=GET http\.path=\/users\/7 http\.status_code=404$/m);
    for (const trace of traces) expect(trace).toMatch(/^ {4}load user +[\d.]+(µs|ms) {2}user\.id=\d+$/m);
    expect(stdout).toContain('{"id":42,"name":"Ada"}\n');
    expect(stdout).not.toContain('fields=name');
    expect(stdout.trim().split('\n').slice(-2)).toEqual(['404', '200']);
  });

  it('runs the HTTP client example: one trace across the gateway and the users service', async () => {
    const { stdout } = await run(process.execPath, ['examples/http-client.mjs'], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    const heads = [...stdout.matchAll(/^trace ([0-9a-f]{32}) \((\w+)\)$/gm)].map((m) => [m[1], m[2]]);
    expect(heads.map(([, service]) => service).sort()).toEqual(['gateway', 'users']);
    expect(new Set(heads.map(([traceId]) => traceId)).size).toBe(1);
    expect(stdout).toMatch(/^ {2}checkout +[\d.]+(µs|ms)\n {4}GET +[\d.]+(µs|ms) {2}CLIENT {2}http\.method=GET http\.path=\/users\/42 http\.status_code=200$/m);
    expect(stdout).toMatch(/^ {2}GET +[\d.]+(µs|ms) {2}SERVER {2}http\.method=GET http\.path=\/users\/42 http\.status_code=200$/m);
    expect(stdout).toContain('{"id":42,"name":"Ada"}\n');
  });

  it('runs the Express example: route names through a mounted router, the body parsed in the span, the thrown error recorded, the health check untraced', async () => {
    const { stdout } = await run(process.execPath, ['examples/express.mjs'], { cwd: root, env: { ...process.env, NO_COLOR: '1', ZIPKIN_URL: '' } });
    const traces = stdout.split(/^(?=trace )/m).filter((t) => t.startsWith('trace '));
    expect(traces).toHaveLength(2);
    expect(stdout).toMatch(/^ {2}POST \/users\/:id +[\d.]+(µs|ms) {2}SERVER {2}http\.method=POST http\.path=\/users\/42 http\.route=\/users\/:id http\.status_code=201\n {4}save user +[\d.]+(µs|ms) {2}user\.id=42$/m);
    expect(stdout).toMatch(/^ {2}GET \/users\/:id +[\d.]+(µs|ms) {2}SERVER {2}http\.method=GET http\.path=\/users\/7 http\.route=\/users\/:id http\.status_code=500 {2}✗ no such user$/m);
    expect(stdout.trim().split('\n').slice(-1)).toEqual(['200']);
  });

  it('runs the Koa example: the route from @koa/router, the span active downstream', async () => {
    const { stdout } = await run(process.execPath, ['examples/koa.mjs'], { cwd: root, env: { ...process.env, NO_COLOR: '1', ZIPKIN_URL: '' } });
    expect(stdout).toMatch(/^ {2}GET \/users\/:id +[\d.]+(µs|ms) {2}SERVER {2}http\.method=GET http\.path=\/users\/42 http\.route=\/users\/:id http\.status_code=200\n {4}load user +[\d.]+(µs|ms) {2}user\.id=42$/m);
    expect(stdout).toContain('{"id":42,"name":"Ada"}\n');
  });

  it('runs the Fastify example: the route template, the JSON body parsed in the span', async () => {
    const { stdout } = await run(process.execPath, ['examples/fastify.mjs'], { cwd: root, env: { ...process.env, NO_COLOR: '1', ZIPKIN_URL: '' } });
    expect(stdout).toMatch(/^ {2}POST \/users\/:id\/orders +[\d.]+(µs|ms) {2}SERVER {2}http\.method=POST http\.path=\/users\/42\/orders http\.route=\/users\/:id\/orders http\.status_code=201\n {4}save order +[\d.]+(µs|ms) {2}user\.id=42$/m);
  });

  it('compiles the decorator example with tsc and runs it', async () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    await run(process.execPath, [tsc, '-p', 'examples/tsconfig.json'], { cwd: root });
    const { stdout } = await run(process.execPath, ['.cache/examples/traced.js'], { cwd: root });
    const lines = stdout.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual(['user ada', 'user grace']);
    const spans = new Map(lines.slice(2).map((line) => {
      const [name, rest] = line.split(/ (?=root|child of)/) as [string, string];
      const id = rest.split(' ').pop()!;
      const parent = rest.startsWith('child of ') ? rest.split(' ')[2] : undefined;
      return [name, { id, parent }];
    }));
    expect([...spans.keys()].sort()).toEqual(['GET /users', 'UserRepo.find', 'cache lookup', 'load all users']);
    expect(spans.get('UserRepo.find')!.parent).toBe(spans.get('GET /users')!.id);
    expect(spans.get('cache lookup')!.parent).toBe(spans.get('UserRepo.find')!.id);
    expect(spans.get('load all users')!.parent).toBe(spans.get('GET /users')!.id);
    expect(spans.get('GET /users')!.parent).toBeUndefined();
  }, 120_000);

  describe('npm run demo', () => {
    const demo = (args: string[]) => run(process.execPath, ['scripts/demo.mjs', '--exit', ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1', COLUMNS: '120' } });
    /** The waterfalls it printed, by their header lines. */
    const waterfalls = (stdout: string) => stdout.split(/\n(?=gateway: )/).filter((t) => t.startsWith('gateway: ')).map((t) => t.split(/\n\n(?!→)/)[0]!);

    it('starts a viewer and three services, sends three requests, prints each trace as a waterfall, and says where to look', async () => {
      const { stdout } = await demo(['--port', '0']);
      expect(stdout).toMatch(/^GET \/checkout\/42 → 200$/m);
      expect(stdout).toMatch(/^GET \/checkout\/13 → 502$/m);
      expect(stdout).toMatch(/^GET \/orders\/42 → 200$/m);
      const [ok, failed, orders] = waterfalls(stdout);
      expect(ok).toMatch(/^gateway: GET \/checkout\/:id · trace [0-9a-f]{32} · [\d.]+ ms · 8 spans · 0 errors$/m);
      // The tree: the gateway's client calls, each with the server that joined it, and the work inside.
      for (const row of [/^├─ gateway GET /m, /^│ {2}└─ users GET \/users\/:id /m, /^│ {5}└─ users cache lookup /m, /^└─ gateway GET /m, /^ {3}└─ worker GET \/invoices\/:id /m, /^ {6}├─ worker Slow SQL /m, /^ {6}└─ worker Invoices\.render /m]) {
        expect(ok).toMatch(row);
      }
      expect(failed).toMatch(/· 7 spans · 3 errors$/m);
      expect(failed).toMatch(/^ {3}└─ ✗ worker GET \/invoices\/:id .*\n {6}│ ✗ card declined$/m);
      expect(orders).toMatch(/^gateway: GET \/orders\/:id · .* · 9 spans · 0 errors$/m);
      expect(orders.match(/users SELECT order /g)).toHaveLength(6);
      expect(orders).toMatch(/^→ 6 × 'SELECT order' under 'GET \/users\/:id\/orders' one after another/m);
      const traceId = /^gateway: .* trace ([0-9a-f]{32})/m.exec(ok!)![1];
      expect(stdout).toMatch(new RegExp(`^See them in the viewer: http://127\\.0\\.0\\.1:\\d+/#/trace/${traceId}$`, 'm'));
    }, 120_000);

    it('uses the viewer already on the port: the traces, the service map and the errors land there', async () => {
      const viewer = await startViewer({ port: 0 });
      try {
        const { stdout } = await demo(['--port', String(viewer.port)]);
        expect(stdout).toContain(`using the viewer already on ${viewer.url}`);
        expect(viewer.store.serviceNames()).toEqual(['gateway', 'users', 'worker']);
        expect(viewer.store.remoteServiceNames('worker')).toEqual(['postgres']);
        expect(viewer.store.traceCount).toBe(3);
        const links = viewer.store.dependencies(Date.now(), 3_600_000).map(({ parent, child, callCount, errorCount }) => `${parent} → ${child} ${callCount}${errorCount ? ` (${errorCount} failed)` : ''}`);
        expect(links.sort()).toEqual(['gateway → users 3', 'gateway → worker 2 (1 failed)', 'users → postgres 6', 'worker → postgres 2']);
      } finally {
        await viewer.close();
      }
    }, 120_000);
  });

  it('runs the logs example: pino\'s and winston\'s lines inside the span carry its ids, the one outside none', async () => {
    const { stdout } = await run(process.execPath, ['examples/logs.mjs'], { cwd: root });
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line.replace(/^winston /, '')) as Record<string, unknown>);
    const starting = lines.find((l) => l.msg === 'starting')!;
    expect(starting.traceId).toBeUndefined();
    const charging = lines.filter((l) => l.msg === 'charging' || l.message === 'charging');
    expect(charging).toHaveLength(2);
    expect(charging[0]!.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(charging[0]!.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(charging[1]).toMatchObject({ traceId: charging[0]!.traceId, spanId: charging[0]!.spanId, cents: 1200 });
  });

  it('runs the OTLP example: two spans as OTLP/JSON at /v1/traces, kinds, the error status, the remote endpoint as attributes', async () => {
    const { stdout } = await run(process.execPath, ['examples/otlp.mjs'], { cwd: root });
    expect(stdout).toMatch(/^sent 2 spans to http:\/\/127\.0\.0\.1:\d+\/v1\/traces$/m);
    expect(stdout).toMatch(/^\/v1\/traces checkout POST \/pay kind=2 status=0 http\.method=POST$/m);
    expect(stdout).toMatch(/^\/v1\/traces checkout charge card kind=3 status=2 error=card declined peer\.service=bank network\.peer\.port=443$/m);
  });

  it('runs the OpenTelemetry example: one trace, the OpenTelemetry span a child of the ziptrace span, baggage kept, headers from ziptrace\'s propagation', async () => {
    const { stdout } = await run(process.execPath, ['examples/opentelemetry.mjs'], { cwd: root });
    expect(stdout).toMatch(/^inventory\.reserve +trace ([0-9a-f]{32}) id [0-9a-f]{16} child of [0-9a-f]{16} CLIENT$/m);
    expect(stdout).toMatch(/^tags: .*"otel\.scope\.name":"inventory-client".*"inventory\.qty":"1"/m);
    expect(stdout).toMatch(/^annotations: cache miss \{"layer":"l1"\}$/m);
    expect(stdout).toMatch(/^injected: .*"x-b3-traceid".*"traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-0[13]"/m);
    expect(stdout).toMatch(/^baggage seen inside: ada$/m);
    expect(stdout).toMatch(/^OK: one trace/m);
  });

  it('runs the untraced app under ziptrace/register: one trace of three spans, sent when SIGINT stops it, which then ends by the signal', async () => {
    const collector = await startCollector();
    const child = spawn(process.execPath, ['--import', 'ziptrace/register', 'examples/untraced-app.mjs'], {
      cwd: root,
      env: { ...process.env, PORT: '0', OTEL_SERVICE_NAME: 'shop', OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${collector.url}/api/v2/spans`, OTEL_BSP_SCHEDULE_DELAY: '60000' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [line] = (await once(child.stdout!, 'data')) as [Buffer];
      const port = Number(/listening on (\d+)/.exec(line.toString())?.[1]);
      expect(await (await fetch(`http://127.0.0.1:${port}/checkout`)).json()).toEqual({ ordered: true });
      expect(collector.spans).toEqual([]); // queued, not yet sent
      child.kill('SIGINT');
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      expect([code, signal]).toEqual([null, 'SIGINT']);
      const spans = collector.spans;
      validateZipkinSpans(spans);
      const checkout = spans.find((s) => s.kind === 'SERVER' && s.tags?.['http.path'] === '/checkout')!;
      const client = spans.find((s) => s.kind === 'CLIENT')!;
      const stock = spans.find((s) => s.kind === 'SERVER' && s.tags?.['http.path'] === '/stock')!;
      expect(spans).toHaveLength(3);
      expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
      expect(checkout.parentId).toBeUndefined();
      expect(client.parentId).toBe(checkout.id);
      expect(stock.id).toBe(client.id); // Zipkin's shared span: the server joined its caller
      expect(spans.every((s) => s.localEndpoint?.serviceName === 'shop')).toBe(true);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await collector.close();
    }
  }, 60_000);

  it('runs the viewer example: a trace received, drawn for the terminal, its N+1 hint', async () => {
    const { stdout } = await run(process.execPath, ['examples/viewer.mjs'], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    expect(stdout).toMatch(/^reports: GET \/report · trace [0-9a-f]{32} · [\d.]+ ms · 4 spans · 0 errors$/m);
    expect(stdout.match(/^[├└]─ reports SELECT page /gm)).toHaveLength(3);
    expect(stdout).toMatch(/^3 × 'SELECT page' under 'GET \/report' one after another: [\d.]+ ms; an N\+1 query\?/m);
  }, 60_000);

  describe('examples/server.mjs: a server that continues its callers\' traces and stops on SIGTERM', () => {
    it('joins a B3 caller, is a child of a W3C caller, starts a trace for a bare request; SIGTERM delivers the spans', async () => {
      const collector = await startCollector();
      const child = spawn(process.execPath, ['examples/server.mjs'], { cwd: root, env: { ...process.env, ZIPKIN_URL: collector.url, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const [line] = (await once(child.stdout!, 'data')) as [Buffer];
        const port = Number(/listening on (\d+)/.exec(line.toString())?.[1]);
        const caller = createTracer({ serviceName: 'shop', global: false });
        const call = async (propagation: 'b3' | 'w3c' | 'none') => {
          const client = caller.newTrace({ sampled: true, name: 'GET /stock' });
          const headers = new Headers();
          if (propagation !== 'none') createTracer({ serviceName: 'shop', global: false, propagation: { inject: [propagation] } }).inject(client, headers);
          const body = (await (await fetch(`http://127.0.0.1:${port}/stock`, { headers })).json()) as { stock: number; traceId: string };
          expect(body.stock).toBe(7);
          return { client: client.context, traceId: body.traceId };
        };
        const b3 = await call('b3');
        const w3c = await call('w3c');
        const none = await call('none');
        child.kill('SIGTERM');
        const [code] = (await once(child, 'exit')) as [number];
        expect(code).toBe(0);

        const spans = collector.spans;
        validateZipkinSpans(spans);
        expect(spans).toHaveLength(6);
        const server = (traceId: string): ZipkinSpan => spans.find((s) => s.traceId === traceId && s.kind === 'SERVER')!;
        const sql = (traceId: string): ZipkinSpan => spans.find((s) => s.traceId === traceId && s.name === 'Slow SQL')!;

        expect(b3.traceId).toBe(b3.client.traceId);
        expect(server(b3.traceId)).toMatchObject({ id: b3.client.spanId, shared: true, name: 'GET /stock', tags: { 'http.status_code': '200' } });
        expect(server(b3.traceId).parentId).toBeUndefined();

        expect(w3c.traceId).toBe(w3c.client.traceId);
        expect(server(w3c.traceId).parentId).toBe(w3c.client.spanId);
        expect(server(w3c.traceId).id).not.toBe(w3c.client.spanId);
        expect(server(w3c.traceId).shared).toBeUndefined();

        expect(none.traceId).not.toBe(none.client.traceId);
        expect(server(none.traceId).parentId).toBeUndefined();

        for (const { traceId } of [b3, w3c, none]) expect(sql(traceId).parentId).toBe(server(traceId).id);
      } finally {
        child.kill('SIGKILL');
        await collector.close();
      }
    }, 120_000);
  });
});
