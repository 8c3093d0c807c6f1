/**
 * One request, one CLIENT span: OpenTelemetry's `UndiciInstrumentation`
 * (real, from npm) and ziptrace's own client instrumentation
 * (`instrumentHttpClients`) both installed under `registerOpenTelemetry`.
 * The bridge stands OpenTelemetry's CLIENT span aside, so a fetch sends one
 * `traceparent` and one `x-b3-spanid`, makes one CLIENT span, and the server
 * joins that span. `@opentelemetry/instrumentation-http` is not installed
 * here: its part is checked through its scope name, as it calls the API.
 */
import http from 'node:http';
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { ZipkinSpan } from '../../lib/index.js';
import { instrumentHttpClients } from '../../lib/http.js';
import { instrumentClients } from '../../lib/instrumentation/http-client.js';
import { StandAsideSpan } from '../../lib/opentelemetry/span.js';
import { bridgedServer } from '../helpers/bridged-server.js';
import { clearGlobalTracerAfterEach, only, sleep } from '../helpers/tracing.js';

clearGlobalTracerAfterEach();

let seen: http.IncomingHttpHeaders[] = [];
const bridged = bridgedServer('double', () => [new UndiciInstrumentation()], (req, res) => {
  seen.push(req.headers);
  res.end('ok');
});
afterEach(() => {
  seen = [];
});

const clients = (): ZipkinSpan[] => bridged.reporter.spans.filter((span) => span.kind === 'CLIENT');

async function fetchInSpan(): Promise<ZipkinSpan> {
  await bridged.tracer.withSpan('outer', async () => (await fetch(`http://127.0.0.1:${bridged.port}/`)).text());
  await sleep(5);
  return only(bridged.reporter, 'outer');
}

describe('UndiciInstrumentation beside instrumentHttpClients', () => {
  it('one fetch: exactly one traceparent and one x-b3-spanid, one CLIENT span (ziptrace’s), and the server joins it', async () => {
    const uninstrument = instrumentHttpClients(bridged.tracer);
    try {
      const outer = await fetchInSpan();
      expect(seen).toHaveLength(1);
      const headers = seen[0]!;
      // Node joins repeated headers with ", ": one value means one header.
      expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/);
      expect(headers['x-b3-spanid']).toMatch(/^[0-9a-f]{16}$/);
      const [client, ...more] = clients();
      expect(more).toEqual([]);
      expect(client).toMatchObject({ traceId: outer.traceId, parentId: outer.id, name: 'GET' });
      expect(client!.tags?.['otel.scope.name']).toBeUndefined();
      expect(headers['x-b3-spanid']).toBe(client!.id);
      expect(headers.traceparent).toContain(client!.id);
      const serverSpan = bridged.reporter.spans.find((span) => span.kind === 'SERVER')!;
      expect(serverSpan).toMatchObject({ traceId: outer.traceId, id: client!.id, shared: true });
    } finally {
      uninstrument();
    }
  });

  it('without ziptrace’s client instrumentation (or after its undo), the undici instrumentation’s span is made as before', async () => {
    instrumentHttpClients(bridged.tracer)();
    const outer = await fetchInSpan();
    const [client, ...more] = clients();
    expect(more).toEqual([]);
    expect(client).toMatchObject({ traceId: outer.traceId, parentId: outer.id });
    expect(client!.tags).toMatchObject({ 'otel.scope.name': '@opentelemetry/instrumentation-undici' });
    expect(seen[0]!.traceparent).toContain(client!.id);
  });
});

describe('instrumentation-http, by its scope name', () => {
  const httpTracer = () => trace.getTracer('@opentelemetry/instrumentation-http', '0.200.0');

  /** What instrumentation-http does for an outgoing request: a CLIENT span, injection, and the request run with the span active. */
  function asInstrumentationHttp(): Promise<{ span: unknown; injected: Record<string, string> }> {
    const span = httpTracer().startSpan('GET', { kind: SpanKind.CLIENT });
    const requestContext = trace.setSpan(context.active(), span);
    const injected: Record<string, string> = {};
    propagation.inject(requestContext, injected);
    return context.with(requestContext, () => {
      expect(trace.getActiveSpan()).toBe(span);
      return new Promise<{ span: unknown; injected: Record<string, string> }>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: bridged.port, path: '/', agent: false }, (res) => {
            res.resume();
            res.on('end', () => {
              span.end();
              resolve({ span, injected });
            });
          })
          .on('error', reject);
      });
    });
  }

  it('its CLIENT span stands aside: non-recording, invalid, nothing injected; ziptrace’s http span under the active one carries the trace', async () => {
    const uninstrument = instrumentHttpClients(bridged.tracer);
    try {
      const { span, injected } = await bridged.tracer.withSpan('outer', () => asInstrumentationHttp());
      await sleep(5);
      expect(span).toBeInstanceOf(StandAsideSpan);
      const standAside = span as StandAsideSpan;
      expect(standAside.isRecording()).toBe(false);
      expect(trace.isSpanContextValid(standAside.spanContext())).toBe(false);
      // Every call is a no-op, as on a non-recording span.
      expect(standAside.setAttribute('k', 1).setAttributes({}).addEvent('e').addLink({} as never).addLinks([]).setStatus({ code: 2 }).updateName('n')).toBe(standAside);
      standAside.recordException(new Error('x'));
      expect(injected).toEqual({});
      const outer = only(bridged.reporter, 'outer');
      const [client, ...more] = clients();
      expect(more).toEqual([]);
      expect(client).toMatchObject({ traceId: outer.traceId, parentId: outer.id });
      expect(seen[0]!['x-b3-spanid']).toBe(client!.id);
      // An OTel span started under the stand-aside one is a child of what it stands for.
      bridged.tracer.withSpan('again', (again) => {
        const aside = httpTracer().startSpan('GET', { kind: SpanKind.CLIENT });
        context.with(trace.setSpan(context.active(), aside), () => trace.getTracer('x').startSpan('under').end());
        expect(only(bridged.reporter, 'under').parentId).toBe(again.context.spanId);
      });
      // At the root, it stands for nothing.
      const root = httpTracer().startSpan('GET', { kind: SpanKind.CLIENT }, ROOT_CONTEXT);
      context.with(trace.setSpan(ROOT_CONTEXT, root), () => {
        expect(trace.getActiveSpan()).toBe(root);
        trace.getTracer('x').startSpan('rooted').end();
      });
      expect(only(bridged.reporter, 'rooted').parentId).toBeUndefined();
      // Its SERVER spans are made as any other.
      expect(httpTracer().startSpan('in', { kind: SpanKind.SERVER }).isRecording()).toBe(true);
    } finally {
      uninstrument();
    }
  });

  it('with only fetch traced by ziptrace, instrumentation-http’s CLIENT spans are made as before', () => {
    const uninstrument = instrumentClients(bridged.tracer, {}, { fetch: true, http: false });
    try {
      expect(httpTracer().startSpan('GET', { kind: SpanKind.CLIENT }).isRecording()).toBe(true);
      expect(trace.getTracer('@opentelemetry/instrumentation-undici').startSpan('GET', { kind: SpanKind.CLIENT })).toBeInstanceOf(StandAsideSpan);
    } finally {
      uninstrument();
    }
  });
});
