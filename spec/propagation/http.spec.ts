/**
 * Headers as they really arrive: raw HTTP/1.1 written over a socket
 * (net.connect) to a real http.createServer on 127.0.0.1, with header lines
 * repeated the way a confused proxy repeats them. Node joins a repeated
 * header into one comma-separated value in `req.headers` and keeps each in
 * `req.headersDistinct`; both must give the same answer:
 *
 *   - a repeated traceparent, X-B3-TraceId or b3 is invalid (that format is skipped);
 *   - repeated tracestate lines join with ','.
 *
 * Then the W3C suite's setting end to end (a service calling a harness back
 * over HTTP, the harness counting traceparent lines on the wire), and fetch
 * Headers, both built by hand and from a real fetch().
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTracer, MemoryReporter, type ExtractedContext, type Tracer } from '../../lib/index.js';
import { essentials, expectWellFormed } from './helpers.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const OTHER = '4bf92f3577b34da6a3ce929d0e0e4737';
const SPAN = '00f067aa0ba902b7';
const SPAN2 = '00f067aa0ba902b8';
const VALID = `00-${TRACE}-${SPAN}-01`;

function newTracer(): Tracer {
  return createTracer({ serviceName: 'http-spec', reporter: new MemoryReporter(), global: false });
}

/** What the service saw: both of Node's views extracted, and the header lines as they came. */
interface Seen {
  joined: Record<string, unknown> | null;
  distinct: Record<string, unknown> | null;
  rawNames: string[];
}

const tracer = newTracer();
let server: http.Server;
let port: number;

function view(found: ExtractedContext | undefined): Record<string, unknown> | null {
  expectWellFormed(found);
  return essentials(found) ?? null;
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const seen: Seen = { joined: view(tracer.extract(req.headers)), distinct: view(tracer.extract(req.headersDistinct)), rawNames: req.rawHeaders.filter((_, i) => i % 2 === 0) };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(seen));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.close();
  await once(server, 'close');
});

/** Writes one raw HTTP/1.1 request with exactly these header lines and returns the parsed JSON body. */
async function sendRaw(lines: string[], to = port): Promise<Seen> {
  const socket = net.connect(to, '127.0.0.1');
  await once(socket, 'connect');
  // write, not end: a half-closed socket would let the server drop a response it answers asynchronously.
  // Connection: close has the server close the socket once it has answered.
  socket.write(['GET /trace HTTP/1.1', 'Host: 127.0.0.1', ...lines, 'Connection: close', '', ''].join('\r\n'));
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'close');
  const response = Buffer.concat(chunks).toString('latin1');
  expect(response.slice(0, 12), response).toBe('HTTP/1.1 200');
  return JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as Seen;
}

const count = (names: string[], name: string): number => names.filter((n) => n.toLowerCase() === name).length;

describe('repeated headers over a real socket', () => {
  it('two traceparent lines: no trace context from either view', async () => {
    const seen = await sendRaw([`traceparent: ${VALID}`, `traceparent: 00-${OTHER}-${SPAN}-01`]);
    expect(count(seen.rawNames, 'traceparent')).toBe(2);
    expect(seen.joined).toBeNull();
    expect(seen.distinct).toBeNull();
  });

  it('two identical traceparent lines: still invalid', async () => {
    const seen = await sendRaw([`traceparent: ${VALID}`, `TraceParent: ${VALID}`]);
    expect(count(seen.rawNames, 'traceparent')).toBe(2);
    expect(seen.joined).toBeNull();
    expect(seen.distinct).toBeNull();
  });

  it('two X-B3-TraceId lines (spelled differently): B3 is skipped and a valid traceparent is read', async () => {
    const seen = await sendRaw([`X-B3-TraceId: ${TRACE}`, `x-b3-traceid: ${OTHER}`, `X-B3-SpanId: ${SPAN2}`, 'X-B3-Sampled: 1', `traceparent: ${VALID}`]);
    expect(count(seen.rawNames, 'x-b3-traceid')).toBe(2);
    for (const found of [seen.joined, seen.distinct]) expect(found).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true, debug: false, source: 'w3c', random: false });
  });

  it('two X-B3-TraceId lines and nothing else: nothing', async () => {
    const seen = await sendRaw([`X-B3-TraceId: ${TRACE}`, `X-B3-TraceId: ${TRACE}`, `X-B3-SpanId: ${SPAN2}`, 'X-B3-Sampled: 0']);
    expect(seen.joined).toBeNull();
    expect(seen.distinct).toBeNull();
  });

  it('two X-B3-SpanId lines: B3 is skipped', async () => {
    const seen = await sendRaw([`X-B3-TraceId: ${TRACE}`, `X-B3-SpanId: ${SPAN}`, `X-B3-SpanId: ${SPAN2}`]);
    expect(seen.joined).toBeNull();
    expect(seen.distinct).toBeNull();
  });

  it('two b3 lines: the single header is skipped, B3 multi is read', async () => {
    const seen = await sendRaw([`b3: ${TRACE}-${SPAN}-1`, `B3: ${OTHER}-${SPAN}-1`, `X-B3-TraceId: ${TRACE}`, `X-B3-SpanId: ${SPAN2}`, 'X-B3-Sampled: 0']);
    expect(count(seen.rawNames, 'b3')).toBe(2);
    for (const found of [seen.joined, seen.distinct]) expect(found).toEqual({ traceId: TRACE, spanId: SPAN2, sampled: false, debug: false, source: 'b3', random: false });
  });

  it('two b3: 0 lines are not a decision', async () => {
    const seen = await sendRaw(['b3: 0', 'b3: 0']);
    expect(seen.joined).toBeNull();
    expect(seen.distinct).toBeNull();
  });

  it('tracestate lines join with "," in order (an empty one between them counts for nothing)', async () => {
    const seen = await sendRaw([`traceparent: ${VALID}`, 'tracestate: foo=1,bar=2', 'TraceState:', 'tracestate: rojo=1', 'TRACESTATE: baz=3']);
    expect(count(seen.rawNames, 'tracestate')).toBe(4);
    for (const found of [seen.joined, seen.distinct]) expect(found).toMatchObject({ traceId: TRACE, tracestate: 'foo=1,bar=2,rojo=1,baz=3' });
  });

  it('a key repeated across tracestate lines is kept as it came (Trace Context Level 2)', async () => {
    const seen = await sendRaw([`traceparent: ${VALID}`, 'tracestate: foo=1', 'tracestate: foo=2']);
    for (const found of [seen.joined, seen.distinct]) expect(found).toMatchObject({ traceId: TRACE, tracestate: 'foo=1,foo=2' });
  });

  it('an invalid key on one tracestate line drops tracestate, not the trace', async () => {
    const seen = await sendRaw([`traceparent: ${VALID}`, 'tracestate: foo=1', 'tracestate: Foo=2']);
    for (const found of [seen.joined, seen.distinct]) {
      expect(found).toMatchObject({ traceId: TRACE });
      expect(found!.tracestate).toBeUndefined();
    }
  });

  it('B3 wins, and the tracestate lines of a traceparent of the same trace come along', async () => {
    const seen = await sendRaw([`b3: ${TRACE}-${SPAN2}-1`, `traceparent: ${VALID}`, 'tracestate: a=1', 'tracestate: b=2']);
    for (const found of [seen.joined, seen.distinct]) expect(found).toEqual({ traceId: TRACE, spanId: SPAN2, sampled: true, debug: false, source: 'b3-single', random: false, tracestate: 'a=1,b=2' });
  });

  it('names in any case and white space around values, as sent on the wire', async () => {
    const seen = await sendRaw([`TRACEPARENT:   ${VALID} \t`, `X-B3-TRACEID:\t${TRACE}`, `x-B3-SpanID: ${SPAN2}  `]);
    for (const found of [seen.joined, seen.distinct]) expect(found).toMatchObject({ traceId: TRACE, spanId: SPAN2, source: 'b3' });
  });

  it('an over-long traceparent on the wire is ignored', async () => {
    const seen = await sendRaw([`traceparent: cc-${TRACE}-${SPAN}-01-${'x'.repeat(600)}`]);
    expect(seen.joined).toBeNull();
    expect(seen.distinct).toBeNull();
  });
});

describe('the W3C suite’s setting, end to end over HTTP', () => {
  /** The harness: records the header lines of each callback it receives. */
  let harness: http.Server;
  let harnessPort: number;
  const callbacks: string[][] = [];
  /** The service under test: extracts, serves in a span, calls the harness back with injected headers. */
  let service: http.Server;
  let servicePort: number;

  beforeAll(async () => {
    harness = http.createServer((req, res) => {
      callbacks.push(req.rawHeaders);
      res.end();
    });
    harness.listen(0, '127.0.0.1');
    await once(harness, 'listening');
    harnessPort = (harness.address() as AddressInfo).port;

    const serviceTracer = newTracer();
    service = http.createServer((req, res) => {
      const parent = serviceTracer.extract(req.headersDistinct);
      const span = parent === undefined ? serviceTracer.startSpan('server', { kind: 'SERVER', parent: null }) : serviceTracer.joinSpan(parent, 'server');
      const client = serviceTracer.startSpan('callback', { kind: 'CLIENT', parent: span });
      const outgoing = http.request({ host: '127.0.0.1', port: harnessPort, method: 'POST', path: '/callback' });
      serviceTracer.inject(client, outgoing); // setHeader on a real ClientRequest
      outgoing.on('response', (reply) => {
        reply.resume();
        client.finish();
        span.finish();
        res.end(JSON.stringify({}));
      });
      outgoing.end();
    });
    service.listen(0, '127.0.0.1');
    await once(service, 'listening');
    servicePort = (service.address() as AddressInfo).port;
  });

  afterAll(async () => {
    service.close();
    harness.close();
    await Promise.all([once(service, 'close'), once(harness, 'close')]);
  });

  /** Sends the lines to the service; returns the callback's traceparent (exactly one on the wire) and tracestate lines. */
  async function through(lines: string[]): Promise<{ traceparent: string; tracestate: string[] }> {
    callbacks.length = 0;
    await sendRaw(lines, servicePort);
    expect(callbacks).toHaveLength(1);
    const raw = callbacks[0]!;
    const values = (name: string): string[] => raw.filter((_, i) => i % 2 === 1 && raw[i - 1]!.toLowerCase() === name);
    expect(values('traceparent'), 'one traceparent line').toHaveLength(1);
    return { traceparent: values('traceparent')[0]!, tracestate: values('tracestate') };
  }

  it('valid traceparent: the callback continues the trace with a new parent id', async () => {
    const { traceparent } = await through([`traceparent: ${VALID}`]);
    expect(traceparent).toMatch(new RegExp(`^00-${TRACE}-(?!${SPAN})[0-9a-f]{16}-01$`));
  });

  it('duplicated traceparent: the callback starts a new trace', async () => {
    const { traceparent } = await through([`traceparent: 00-${OTHER}-${SPAN}-01`, `traceparent: ${VALID}`]);
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-03$/);
    expect(traceparent).not.toContain(TRACE);
    expect(traceparent).not.toContain(OTHER);
  });

  it('tracestate over several lines is passed on as one line', async () => {
    const { tracestate } = await through([`traceparent: ${VALID}`, 'tracestate: foo=1,bar=2', 'tracestate: rojo=1,congo=2', 'tracestate: baz=3']);
    expect(tracestate).toEqual(['foo=1,bar=2,rojo=1,congo=2,baz=3']);
  });

  it('tracestate with a key twice is passed on as it came (Trace Context Level 2: unique keys are the sender’s duty)', async () => {
    const { tracestate, traceparent } = await through([`traceparent: ${VALID}`, 'tracestate: foo=1', 'tracestate: foo=2']);
    expect(tracestate).toEqual(['foo=1,foo=2']);
    expect(traceparent).toContain(TRACE);
  });

  it('tracestate with a key that starts with @ is not passed on', async () => {
    const { tracestate, traceparent } = await through([`traceparent: ${VALID}`, 'tracestate: foo=1', 'tracestate: @foo=1']);
    expect(tracestate).toEqual([]);
    expect(traceparent).toContain(TRACE);
  });
});

describe('fetch Headers', () => {
  it('a repeated traceparent appended to Headers is joined, and so invalid', () => {
    const headers = new Headers();
    headers.append('traceparent', VALID);
    headers.append('TraceParent', VALID);
    expect(newTracer().extract(headers)).toBeUndefined();
  });

  it('repeated tracestate appended to Headers joins', () => {
    const headers = new Headers([['traceparent', VALID], ['tracestate', 'a=1'], ['TraceState', 'b=2']]);
    expect(newTracer().extract(headers)).toMatchObject({ traceId: TRACE, tracestate: 'a=1,b=2' });
  });

  it('a repeated b3 appended to Headers falls back to the next format', () => {
    const headers = new Headers([['b3', `${TRACE}-${SPAN}-1`], ['b3', `${TRACE}-${SPAN}-1`], ['traceparent', VALID]]);
    expect(newTracer().extract(headers)).toMatchObject({ traceId: TRACE, source: 'w3c' });
  });

  it('headers injected into a real fetch() arrive, in both of Node’s views, as they were sent', async () => {
    const t = newTracer();
    const client = t.startSpan('client', { kind: 'CLIENT', parent: { traceId: TRACE, spanId: SPAN, sampled: true, debug: false, shared: false, tracestate: 'a=1' } });
    const headers = new Headers();
    t.inject(client, headers);
    const response = await fetch(`http://127.0.0.1:${port}/fetch`, { headers });
    const seen = (await response.json()) as Seen;
    const want = { traceId: TRACE, spanId: client.context.spanId, parentId: SPAN, sampled: true, debug: false, source: 'b3', random: false, tracestate: 'a=1' };
    expect(seen.joined).toEqual(want);
    expect(seen.distinct).toEqual(want);
  });

  it('a fetch Response whose server sent traceparent twice is read as no traceparent', async () => {
    const twice = http.createServer((_req, res) => {
      res.setHeader('traceparent', [VALID, `00-${OTHER}-${SPAN}-01`]);
      res.setHeader('tracestate', ['a=1', 'b=2']);
      res.end();
    });
    twice.listen(0, '127.0.0.1');
    await once(twice, 'listening');
    try {
      const response = await fetch(`http://127.0.0.1:${(twice.address() as AddressInfo).port}/`);
      await response.arrayBuffer();
      expect(response.headers.get('traceparent')).toContain(', ');
      expect(newTracer().extract(response.headers)).toBeUndefined();
    } finally {
      twice.close();
      await once(twice, 'close');
    }
  });
});
