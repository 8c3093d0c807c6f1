/**
 * What the server-instrumentation specs (spec/instrumentation/http-server,
 * express, koa and fastify) set up again and again: servers on loopback closed
 * after each test, the wait for the spans a request reports, a caller's
 * propagation headers, a client that leaves mid-response, a body that comes
 * slowly, the lookups of a server span and of the traces in a batch, and the
 * many concurrent requests that check each gets a trace of its own.
 */
import http, { type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect } from 'vitest';
import { createTracer, withSpan, type MemoryReporter, type Span, type ZipkinSpan } from '../../lib/index.js';
import { sleep } from './tracing.js';

/**
 * Registers, in the calling spec file, an afterEach that closes every server
 * started by the returned `listen` (its connections first, so a request left
 * hanging cannot hold the close up). Call it once, at the top of the file.
 *
 * `listen(listener)` serves `listener` on 127.0.0.1, on a port the OS chooses,
 * and resolves with the base URL (`http://127.0.0.1:<port>`).
 */
export function loopbackServers(): { listen: (listener: RequestListener) => Promise<string> } {
  const servers: http.Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
  return {
    async listen(listener: RequestListener): Promise<string> {
      const server = http.createServer(listener);
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
  };
}

/**
 * Waits until `reporter` has `count` spans, or `within` ms have passed, then
 * expects exactly `count` and gives them all. A server span ends on the
 * response's 'finish', near the client's read: it may not be there yet when
 * the client has its answer.
 */
export async function spansOf(reporter: MemoryReporter, count: number, within = 2000): Promise<ZipkinSpan[]> {
  const deadline = Date.now() + within;
  while (reporter.spans.length < count && Date.now() < deadline) await sleep(2);
  expect(reporter.spans).toHaveLength(count);
  return reporter.spans;
}

/**
 * The headers a caller sends for a sampled client span of a new trace, in one
 * format (`b3`: B3 single; `w3c`: traceparent), and that client span; its
 * tracer is not global and reports nowhere.
 */
export function callerHeaders(format: 'b3' | 'w3c'): { headers: Record<string, string>; client: Span } {
  const caller = createTracer({ serviceName: 'caller', global: false, propagation: { inject: [format] } });
  const client = caller.newTrace({ sampled: true, name: 'GET /x' });
  const headers: Record<string, string> = {};
  caller.inject(client, headers);
  return { headers, client };
}

/**
 * GETs `url` with http.get and resolves once the first chunk of the response
 * body has come, when the client destroys the connection; the reset that
 * follows is no error, any other error rejects.
 */
export function readFirstChunkAndLeave(url: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const request = http.get(url, (response) => {
      response.once('data', () => {
        request.destroy();
        resolve();
      });
    });
    request.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
  });
}

/**
 * A request body sent as `first`, then, after 20 ms, `second`: the server's
 * body events (a parser's) fire well after its middleware and hooks ran. Pass
 * it to fetch with `duplex: 'half'`.
 */
export function slowBody(first: string, second: string): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(new TextEncoder().encode(first));
      await sleep(20);
      controller.enqueue(new TextEncoder().encode(second));
      controller.close();
    },
  });
}

/** The first SERVER span of `spans`, typed as there: when there is none, the expectations made on it fail. */
export const serverSpan = (spans: ZipkinSpan[]): ZipkinSpan => spans.find((s) => s.kind === 'SERVER')!;

/** `spans` grouped by trace id, each trace's spans in the order reported. */
function spansByTrace(spans: ZipkinSpan[]): Map<string, ZipkinSpan[]> {
  const byTrace = new Map<string, ZipkinSpan[]>();
  for (const span of spans) byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span]);
  return byTrace;
}

/** What a handler of the concurrency specs answers: its server span's trace id, the request's path, and the id of its `row` span. */
export interface ConcurrentAnswer {
  traceId: string;
  path: string;
  row: string;
}

/**
 * The work a handler of the concurrency specs does in its server span: a
 * `db` span and, in it, a `row` span, each after a random pause of up to 4 ms
 * so that the requests interleave across awaits; gives the `row` span's id.
 */
export function nestedWork(): Promise<string> {
  return withSpan('db', async () => {
    await sleep(Math.floor(Math.random() * 5));
    return withSpan('row', async (row) => {
      await sleep(Math.floor(Math.random() * 5));
      return row.context.spanId;
    });
  });
}

/** GETs `<url>/r/0` to `<url>/r/<count - 1>` all at once; gives their JSON answers, in that order. */
export function concurrentRequests(url: string, count: number): Promise<ConcurrentAnswer[]> {
  return Promise.all(Array.from({ length: count }, async (_, i) => (await (await fetch(`${url}/r/${i}`)).json()) as ConcurrentAnswer));
}

/**
 * Waits (5 s at most) for the three spans of each answer (server, `db`,
 * `row`, as {@link nestedWork} makes them), then expects every answer in a
 * trace of its own: the server span a root, tagged with the answer's path (and
 * named `serverName`, when given), `db` its child, and `row` the answer's,
 * a child of `db`.
 */
export async function expectEachInItsOwnTrace(reporter: MemoryReporter, answers: ConcurrentAnswer[], serverName?: string): Promise<void> {
  const spans = await spansOf(reporter, 3 * answers.length, 5000);
  expect(new Set(answers.map((r) => r.traceId)).size).toBe(answers.length);
  const byTrace = spansByTrace(spans);
  for (const answer of answers) {
    const trace = byTrace.get(answer.traceId) ?? [];
    const server = serverSpan(trace);
    const db = trace.find((s) => s.name === 'db')!;
    expect(trace).toHaveLength(3);
    if (serverName === undefined) expect(server.tags!['http.path']).toBe(answer.path);
    else expect(server).toMatchObject({ name: serverName, tags: { 'http.path': answer.path } });
    expect(server.parentId).toBeUndefined();
    expect(db.parentId).toBe(server.id);
    expect(trace.find((s) => s.name === 'row')).toMatchObject({ id: answer.row, parentId: db.id });
  }
}

/**
 * The server span of a request whose caller sent B3 (see `callerHeaders`):
 * Zipkin's shared span, the caller's own ids, no parent of its own, named
 * `name`, with exactly `tags`.
 */
export function expectJoinedToB3Caller(span: ZipkinSpan | undefined, client: Span, name: string, tags: Record<string, string>): void {
  expect(span).toMatchObject({ traceId: client.context.traceId, id: client.context.spanId, shared: true, kind: 'SERVER', name });
  expect(span!.parentId).toBeUndefined();
  expect(span!.tags).toEqual(tags);
}

/** The server span of a request whose caller sent `traceparent`: a child of the caller's span, not shared (W3C has no shared spans). */
export function expectChildOfW3CCaller(span: ZipkinSpan | undefined, client: Span, name?: string): void {
  expect(span).toMatchObject({ traceId: client.context.traceId, parentId: client.context.spanId, kind: 'SERVER', ...(name === undefined ? {} : { name }) });
  expect(span!.id).not.toBe(client.context.spanId);
  expect(span!.shared).toBeUndefined();
}

/**
 * How long a spec waits before asserting that nothing (more) was reported: a
 * late or duplicate span, from a 'close' that follows a 'finish' say, comes
 * within a few milliseconds; ten times that covers a loaded machine.
 */
export const QUIET_MS = 200;
