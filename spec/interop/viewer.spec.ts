/**
 * Other tracers' Zipkin reporters, sending to `ziptrace serve` as they would
 * to Zipkin: aiozipkin's Transport (Python; it posts `null` for absent fields
 * and `false` for flags) and OpenTelemetry JS's ZipkinExporter. What the
 * viewer makes of their spans is what a user sees: one trace across the
 * languages, the joined spans merged into one tree, the service links.
 *
 * The aiozipkin chain is spec/interop/aiozipkin.spec.ts's (its fixtures:
 * aiozipkin client → ziptrace service → aiozipkin server), with the viewer
 * as the collector of all three. It needs python3-aiozipkin, as that spec
 * does: skipped without it, saying how to install it, except under CI, where
 * it fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startViewer, type Viewer } from '../../lib/viewer/server.js';
import { analyzeTrace } from '../../lib/viewer/analysis.js';
import { announcedPort, run } from '../helpers/child-processes.js';
import { findPython } from '../helpers/python.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = path.join(repoRoot, 'spec', 'fixtures', 'aiozipkin');
const python = findPython(['aiohttp', 'aiozipkin']);
const MISSING = python === undefined ? 'no python3 with aiozipkin; install it with: apt-get update && apt-get install -y python3-aiozipkin (as .ci/run does)' : undefined;
const SKIP = MISSING !== undefined && !process.env.CI;
if (SKIP) console.warn(`spec/interop/viewer.spec.ts (aiozipkin) skipped: ${MISSING}`);

let viewer: Viewer;
beforeAll(async () => {
  viewer = await startViewer({ port: 0 });
});
afterAll(() => viewer.close());

/** Waits until the viewer holds `count` spans of the trace (a second more, so that one too many would show). */
async function spansOf(traceId: string, count: number) {
  await expect.poll(() => viewer.store.trace(traceId)?.length ?? 0, { timeout: 30_000, interval: 100 }).toBeGreaterThanOrEqual(count);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return viewer.store.trace(traceId)!;
}

describe.skipIf(SKIP)('aiozipkin client → ziptrace service → aiozipkin server, all reporting to ziptrace serve', () => {
  const children = new Set<ChildProcess>();
  const start = (file: string, args: string[], env: NodeJS.ProcessEnv, what: string): Promise<number> => {
    const child = spawn(file, args, { cwd: fixtures, env: { ...process.env, ...env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    return announcedPort(child, what);
  };
  afterAll(async () => {
    await Promise.all([...children].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    }));
  });

  it('shows one trace: five spans from two languages in one tree, each joined server span under its client, the services linked', async () => {
    if (MISSING !== undefined) throw new Error(MISSING);
    const build = await run(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs'), '--if-stale'], { cwd: repoRoot, timeout: 170_000 });
    expect(build.code, build.output).toBe(0);
    const serverPort = await start(python!, [path.join(fixtures, 'server.py'), viewer.url], {}, 'the aiozipkin server');
    const servicePort = await start(process.execPath, [path.join(fixtures, 'service.mjs')], { ZIPKIN_URL: viewer.url, DOWNSTREAM_URL: `http://127.0.0.1:${serverPort}` }, 'the ziptrace service');
    const client = await run(python!, [path.join(fixtures, 'client.py'), viewer.url, `http://127.0.0.1:${servicePort}/checkout`, JSON.stringify([{ sampled: true }])], { cwd: fixtures, timeout: 60_000 });
    expect(client.code, client.output).toBe(0);
    const { traceId } = JSON.parse(client.output.split('\n').find((line) => line.startsWith('{'))!) as { traceId: string };

    const spans = await spansOf(traceId, 5);
    expect(spans).toHaveLength(5);
    const view = analyzeTrace(spans);
    expect(view.rows.map((row) => [row.depth, row.service, row.span.kind ?? 'local', row.span.shared === true])).toEqual([
      [0, 'aiozipkin-client', 'local', false],
      [1, 'aiozipkin-client', 'CLIENT', false],
      [2, 'ziptrace-service', 'SERVER', true],
      [3, 'ziptrace-service', 'CLIENT', false],
      [4, 'aiozipkin-server', 'SERVER', true],
    ]);
    expect(view.rows.every((row) => !row.orphan)).toBe(true);
    expect(view.rootName).toBe('checkout');
    const links = viewer.store.dependencies(Date.now() + 1000, 3_600_000);
    expect(links).toEqual(expect.arrayContaining([
      { parent: 'aiozipkin-client', child: 'ziptrace-service', callCount: 1 },
      { parent: 'ziptrace-service', child: 'aiozipkin-server', callCount: 1 },
    ]));
  }, 120_000);
});

describe('OpenTelemetry JS\'s ZipkinExporter, sending to ziptrace serve', () => {
  it('lands as a trace: the parent and child, their kinds, attributes as tags, an ERROR status as the error', async () => {
    const exporter = new ZipkinExporter({ url: `${viewer.url}/api/v2/spans` });
    const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'otel-shop' }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('spec');
    const parent = tracer.startSpan('GET /cart', { kind: SpanKind.SERVER, attributes: { 'http.method': 'GET' } });
    const traceId = parent.spanContext().traceId;
    const { trace, context } = await import('@opentelemetry/api');
    const child = tracer.startSpan('load cart', { kind: SpanKind.CLIENT, attributes: { 'peer.service': 'redis' } }, trace.setSpan(context.active(), parent));
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'connection refused' });
    child.end();
    parent.end();
    await provider.forceFlush();
    await provider.shutdown();

    const spans = await spansOf(traceId, 2);
    const view = analyzeTrace(spans);
    expect(view.rows.map((row) => [row.depth, row.span.name, row.span.kind])).toEqual([
      [0, 'GET /cart', 'SERVER'],
      [1, 'load cart', 'CLIENT'],
    ]);
    expect(view.rows[0]!.span.tags).toMatchObject({ 'http.method': 'GET' });
    expect(view.rows[1]!).toMatchObject({ error: true, errorMessage: 'connection refused' });
    expect(viewer.store.serviceNames()).toContain('otel-shop');
  });
});
