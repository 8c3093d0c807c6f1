/**
 * Three services A → B → C, each a process of its own with `tracedHandler`
 * and `instrumentHttpClients` and nothing else, reporting to one loopback
 * collector: over fetch and over http.request, each call one trace with the
 * right parents, and Zipkin's shared spans where B3 came in (the default
 * propagation writes B3 multi beside traceparent), with B on node:http and
 * on each framework integration in turn (Express 4 and 5, Koa 2 and 3,
 * Fastify 4 and 5). Then 500 calls at once through A → B: every trace
 * separate and complete.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ZipkinSpan } from '../../lib/index.js';
import { startCollector, waitFor, type Collector } from '../helpers/collector.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SERVICE = join(root, 'spec', 'fixtures', 'chain', 'service.mjs');

let collector: Collector;
const children: ChildProcess[] = [];

beforeAll(async () => {
  collector = await startCollector();
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
  collector.reset();
});
afterAll(async () => {
  await collector.close();
});

/** Starts a service process; resolves with its first JSON line (its port, or what it did). */
async function service(env: Record<string, string>): Promise<{ child: ChildProcess; first: Record<string, number> }> {
  const child = spawn(process.execPath, [SERVICE], { cwd: root, env: { ...process.env, ZIPKIN: collector.url, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(() => [undefined])])) as [string | undefined];
  if (line === undefined) throw new Error(`${env.SERVICE} exited before it said anything`);
  return { child, first: JSON.parse(line) as Record<string, number> };
}

/** A chain of servers, the last first; returns the URL of the first. */
async function chain(names: string[], client: string, server = 'node'): Promise<string> {
  let next = '';
  for (const name of [...names].reverse()) {
    const { first } = await service({ SERVICE: name, NEXT: next, CLIENT: client, SERVER: server });
    next = `http://127.0.0.1:${first.port}`;
  }
  return next;
}

/** Runs the calling service A: `n` calls at once, each under a span of its own. */
async function callThrough(url: string, client: string, n: number): Promise<void> {
  const { child, first } = await service({ SERVICE: 'a', NEXT: url, CLIENT: client, REQUESTS: String(n) });
  expect(first).toEqual({ done: n });
  if (child.exitCode === null) await once(child, 'exit');
}

function byTrace(spans: readonly ZipkinSpan[]): Map<string, ZipkinSpan[]> {
  const traces = new Map<string, ZipkinSpan[]>();
  for (const span of spans) {
    const list = traces.get(span.traceId) ?? [];
    list.push(span);
    traces.set(span.traceId, list);
  }
  return traces;
}

/** Checks one trace of A → B → … : A's root, then for each hop A's CLIENT span and the next SERVER span sharing its id. */
function expectChain(spans: readonly ZipkinSpan[], services: string[]): void {
  const of = (service: string, kind: string | undefined): ZipkinSpan[] => spans.filter((s) => s.localEndpoint?.serviceName === service && s.kind === kind);
  const [rootSpan, ...rest] = of('a', undefined);
  expect(rest, 'one local span in a').toEqual([]);
  expect(rootSpan!.parentId).toBeUndefined();
  let caller = rootSpan!;
  let from = 'a';
  for (const to of services) {
    const [client, ...moreClients] = of(from, 'CLIENT');
    expect(moreClients, `one CLIENT span in ${from}`).toEqual([]);
    expect(client, `${from}'s CLIENT span`).toMatchObject({ name: 'GET', parentId: caller.id, tags: { 'http.method': 'GET', 'http.status_code': '200' } });
    const [server, ...moreServers] = of(to, 'SERVER');
    expect(moreServers, `one SERVER span in ${to}`).toEqual([]);
    // B3 came in: the server continues the caller's span (Zipkin's shared span), with the same parent.
    expect(server, `${to}'s SERVER span`).toMatchObject({ id: client!.id, parentId: caller.id, shared: true, name: 'GET /items/:id', tags: { 'http.status_code': '200' } });
    caller = server!;
    from = to;
  }
  expect(spans).toHaveLength(1 + services.length * 2);
}

describe.each(['fetch', 'http'])('A → B → C over %s', (client) => {
  it('is one trace with the right parents, B and C sharing their callers\' client spans', async () => {
    const url = await chain(['b', 'c'], client);
    await callThrough(url, client, 3);
    // A flushed on exit; B and C report within their batch interval.
    await waitFor(() => collector.spans.length >= 3 * 5, 'every span of three calls through three services', 20_000);
    const traces = byTrace(collector.spans);
    expect(traces.size).toBe(3);
    for (const spans of traces.values()) expectChain(spans, ['b', 'c']);
  }, 60_000);
});

describe.each(['express', 'express4', 'koa', 'koa2', 'fastify', 'fastify4'])('A → B → C with B on %s', (framework) => {
  it.each(['fetch', 'http'])('over %s is one trace with the right parents, shared spans where B3 came in', async (client) => {
    const c = await chain(['c'], client);
    const { first } = await service({ SERVICE: 'b', NEXT: c, CLIENT: client, SERVER: framework });
    await callThrough(`http://127.0.0.1:${first.port}`, client, 3);
    await waitFor(() => collector.spans.length >= 3 * 5, 'every span of three calls through three services', 20_000);
    const traces = byTrace(collector.spans);
    expect(traces.size).toBe(3);
    for (const spans of traces.values()) expectChain(spans, ['b', 'c']);
  }, 60_000);
});

describe('500 calls at once through A → B', () => {
  it('are 500 traces, each separate and complete', async () => {
    const url = await chain(['b'], 'fetch');
    await callThrough(url, 'fetch', 500);
    await waitFor(() => collector.spans.length >= 500 * 3, 'every span of 500 calls', 30_000);
    const traces = byTrace(collector.spans);
    expect(traces.size).toBe(500);
    for (const spans of traces.values()) expectChain(spans, ['b']);
    expect(collector.spans).toHaveLength(1500);
  }, 120_000);
});
