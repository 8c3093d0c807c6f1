/**
 * Real OpenTelemetry instrumentations from npm against the bridge, in both
 * directions: `@opentelemetry/instrumentation-dns` (dns.lookup),
 * `-fs` (fs.readFile) and `-undici` (fetch to a loopback server traced by
 * ziptrace's tracedHandler) run inside a ziptrace withSpan; their spans are
 * its children, with their attributes as tags and their kinds mapped, and
 * the fetch carries the trace to the server through the bridge's propagator.
 *
 * The dns and fs instrumentations patch the CommonJS module objects through
 * `require`; Node's built-in modules are one object for `require` and
 * `import`, so the modules are taken with `require` after the patching. The
 * undici one listens on diagnostics channels: nothing to load.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { trace } from '@opentelemetry/api';
import { DnsInstrumentation } from '@opentelemetry/instrumentation-dns';
import { FsInstrumentation } from '@opentelemetry/instrumentation-fs';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { describe, expect, it } from 'vitest';
import type { ZipkinSpan } from '../../lib/index.js';
import { bridgedServer } from '../helpers/bridged-server.js';
import { clearGlobalTracerAfterEach, only } from '../helpers/tracing.js';

clearGlobalTracerAfterEach();
const require = createRequire(import.meta.url);
const here = fileURLToPath(import.meta.url);

const bridged = bridgedServer(
  'instrumented',
  () => [new DnsInstrumentation(), new FsInstrumentation({ requireParentSpan: true }), new UndiciInstrumentation({ requireParentforSpans: true })],
  (req, res) => res.end(JSON.stringify({ traceparent: req.headers.traceparent, b3: req.headers['x-b3-traceid'] })),
);

/** The spans of `scope` (the instrumentation's name), failing when there is none. */
function byScope(scope: string): ZipkinSpan[] {
  const found = bridged.reporter.spans.filter((span) => span.tags?.['otel.scope.name'] === scope);
  expect(found.length, `spans of ${scope}`).toBeGreaterThan(0);
  return found;
}

describe('OpenTelemetry instrumentations from npm, traced by ziptrace', () => {
  it('instrumentation-dns: dns.lookup inside a withSpan is a child span, its attributes tags', async () => {
    const dns = require('node:dns') as typeof import('node:dns');
    const address = await bridged.tracer.withSpan('resolve', () => promisify(dns.lookup)('localhost'));
    expect(address).toBeDefined();
    const parent = only(bridged.reporter, 'resolve');
    const [lookup] = byScope('@opentelemetry/instrumentation-dns');
    expect(lookup).toMatchObject({ name: 'dns.lookup', traceId: parent.traceId, parentId: parent.id, kind: 'CLIENT' });
    expect(Object.keys(lookup!.tags!).some((key) => key.startsWith('peer') || key.startsWith('net') || key.startsWith('network') || key.startsWith('server'))).toBe(true);
  });

  it('instrumentation-fs: fs.readFile inside a withSpan is a child span (local: INTERNAL has no kind); outside any span, none (requireParentSpan)', async () => {
    const fs = require('node:fs') as typeof import('node:fs');
    const text = await bridged.tracer.withSpan('read', () => promisify(fs.readFile)(here, 'utf8'));
    expect(text).toContain('instrumentation-fs');
    const parent = only(bridged.reporter, 'read');
    const spans = byScope('@opentelemetry/instrumentation-fs');
    const readFile = spans.find((span) => span.name === 'fs readFile');
    expect(readFile).toMatchObject({ traceId: parent.traceId, parentId: parent.id });
    expect(readFile!.kind).toBeUndefined();
    bridged.reporter.clear();
    await promisify(fs.readFile)(here, 'utf8');
    expect(bridged.reporter.spans).toEqual([]);
  });

  it('instrumentation-undici: fetch inside a withSpan is a CLIENT child; the headers it injects through the bridge carry the trace to the server', async () => {
    const body = await bridged.tracer.withSpan('call', async () => (await fetch(`http://127.0.0.1:${bridged.port}/hello`)).json() as Promise<{ traceparent?: string; b3?: string }>);
    const parent = only(bridged.reporter, 'call');
    const [client] = byScope('@opentelemetry/instrumentation-undici');
    expect(client).toMatchObject({ traceId: parent.traceId, parentId: parent.id, kind: 'CLIENT' });
    expect(client!.tags).toMatchObject({ 'http.request.method': 'GET', 'url.full': `http://127.0.0.1:${bridged.port}/hello`, 'http.response.status_code': '200' });
    // The server (ziptrace's tracedHandler) read B3 and traceparent, written by the tracer's propagation.
    expect(body.b3).toBe(parent.traceId);
    expect(body.traceparent).toContain(client!.id);
    const serverSpan = bridged.reporter.spans.find((span) => span.kind === 'SERVER')!;
    expect(serverSpan).toMatchObject({ traceId: parent.traceId, id: client!.id, shared: true });
  });

  it('a ziptrace span inside an OTel span inside an instrumentation: the other direction', async () => {
    const fs = require('node:fs') as typeof import('node:fs');
    await trace.getTracer('app').startActiveSpan('otel job', async (job) => {
      await bridged.tracer.withSpan('zip step', () => promisify(fs.readFile)(here, 'utf8'));
      job.end();
    });
    const job = only(bridged.reporter, 'otel job');
    const step = only(bridged.reporter, 'zip step');
    const read = byScope('@opentelemetry/instrumentation-fs').find((span) => span.name === 'fs readFile')!;
    expect(step.parentId).toBe(job.id);
    expect(read.parentId).toBe(step.id);
    expect(new Set([job.traceId, step.traceId, read.traceId]).size).toBe(1);
  });
});
