/**
 * A real Zipkin-like collector on loopback for the reporting specs: an HTTP
 * server on 127.0.0.1 whose answer can be switched per request.
 *
 * Every request is read to the end first (so a behaviour can depend on the
 * body), gunzipped when it says `Content-Encoding: gzip`, parsed as JSON and
 * recorded; then the collector does what it was told:
 *
 *   accept            202 (the default), the spans count as received
 *   status            any status, optional body and headers (500, 503, 408, 400 + reason, …)
 *   retryAfter        429 with `Retry-After: <seconds>`
 *   tooLarge          413 for bodies of more than `maxSpans` spans, else accept
 *   reset             socket.destroy(): the client sees a reset connection
 *   hang              accept the request and never answer
 *   slow              wait `delay` ms, then do `then` (default accept)
 *
 * Behaviours are taken from a queue (`next(...)`, one per request) and then
 * from the default (`always(...)`), or decided by a function (`decide`).
 * `stop()` closes the port (the collector is down) and `start()` listens on
 * the same port again.
 *
 * Every body it receives, whatever it then answers, is checked against the
 * Zipkin v2 schema (spec/helpers/zipkin-schema.ts): the bodies all come from
 * HttpReporter, and none may carry an invalid span, in any spec. A body that
 * fails is recorded beside the request (`schemaErrors`) and in a list of this
 * module's, read and cleared by `takeInvalidBodies()` after each test.
 *
 * A collector of another protocol (OTLP: spec/helpers/otlp-collector.ts) is
 * this one with its own `BodyReader`: the same behaviours and records, its
 * own spans and checks. Its bodies' problems stay on its requests
 * (`schemaErrors`), out of the Zipkin list that `takeInvalidBodies()` reads.
 *
 * The collector keeps real time when a spec fakes the reporter's timers
 * (`vi.useFakeTimers`): it, `sleep` and `waitFor` use the timer functions as
 * they were when this module loaded, so a spec can step fake time exactly
 * while the sockets and the collector run for real.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import type { ZipkinSpan } from '../../lib/index.js';
import { zipkinSpanSchemaErrors } from './zipkin-schema.js';

export type Behaviour =
  | { kind: 'accept'; status?: number }
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'retryAfter'; seconds: number }
  | { kind: 'tooLarge'; maxSpans: number }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'slow'; delay: number; then?: Behaviour };

/** Shorthands for behaviours. */
export const answer = {
  accept: (status = 202): Behaviour => ({ kind: 'accept', status }),
  status: (status: number, body?: string, headers?: Record<string, string>): Behaviour => ({ kind: 'status', status, body, headers }),
  retryAfter: (seconds: number): Behaviour => ({ kind: 'retryAfter', seconds }),
  tooLarge: (maxSpans: number): Behaviour => ({ kind: 'tooLarge', maxSpans }),
  reset: (): Behaviour => ({ kind: 'reset' }),
  hang: (): Behaviour => ({ kind: 'hang' }),
  slow: (delay: number, then?: Behaviour): Behaviour => ({ kind: 'slow', delay, then }),
};

/** How a collector reads a body: its spans, and what is wrong with it. The default reads Zipkin v2 JSON. */
export interface BodyReader<S> {
  /**
   * `body` is decoded (gunzipped if it said so); `text` is it as UTF-8.
   * Returns the parsed body (`json`: for JSON bodies, else whatever the
   * reader parsed it to), its spans, and its problems (empty when valid).
   */
  read(body: Buffer, text: string, headers: http.IncomingHttpHeaders): { json: unknown; spans: S[]; errors: string[] };
}

/** The default reader: a JSON list of Zipkin v2 spans, checked against the schema. */
const zipkinReader: BodyReader<ZipkinSpan> = {
  read(_body, text) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return {
      json,
      spans: Array.isArray(json) ? (json as ZipkinSpan[]) : [],
      // Checked as parsed: a body that is not a JSON array of spans fails too.
      errors: json === undefined ? ['the body is not JSON'] : zipkinSpanSchemaErrors(json),
    };
  },
};

/** One request as the collector saw it. */
export interface RecordedRequest<S = ZipkinSpan> {
  /** 0-based, in order of arrival of the complete body. */
  index: number;
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  /** Bytes on the wire (compressed size when gzipped). */
  rawLength: number;
  /** The decoded body (gunzipped if needed). */
  body: Buffer;
  /** The decoded body text (gunzipped if needed). */
  text: string;
  /** The parsed body, or undefined when it was not JSON (or not readable by the collector's reader). */
  json: unknown;
  /** The body's spans when it was a JSON array (or as the reader found them), else []. */
  spans: S[];
  /** What is wrong with the body as a `POST /api/v2/spans` body of Zipkin v2 spans (or as the reader judges it); empty when it is valid. */
  schemaErrors: string[];
  /** The client's port: the same port means the same (kept-alive) connection. */
  remotePort: number;
  /** Which connection (1-based, in order of accept) carried it. */
  connection: number;
  /** performance.now() when the whole body had arrived. */
  at: number;
  /** What the collector did. */
  behaviour: Behaviour['kind'];
  /** The status answered, or undefined for reset/hang. */
  status: number | undefined;
}

export interface Collector<S = ZipkinSpan> {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Every request, in order. */
  readonly requests: RecordedRequest<S>[];
  /** Spans of the requests answered 2xx, in order. */
  readonly spans: S[];
  /** Connections accepted so far. */
  readonly connections: number;
  /** Requests being handled now (body arrived or arriving, no answer yet). */
  readonly active: number;
  /** The most requests handled at once. */
  readonly maxActive: number;
  /** Requests whose client went away before an answer (aborted, timed out). */
  readonly aborted: number;
  /** Queues behaviours, one per coming request, before the default applies. */
  next(...behaviours: Behaviour[]): void;
  /** Sets the default behaviour (initially accept). */
  always(behaviour: Behaviour): void;
  /** When set, decides every request (the queue and default are not used). */
  decide: ((request: RecordedRequest<S>) => Behaviour) | undefined;
  /** Answers every hanging request with 202 and clears them. */
  releaseHung(): void;
  /** Polls until `predicate()` holds; rejects after `timeout` ms with `what` in the message. */
  waitFor(predicate: () => boolean, what: string, timeout?: number): Promise<void>;
  /** Forgets recorded requests and spans, resets counters and behaviours. */
  reset(): void;
  /** Closes the port and every connection: the collector is down. */
  stop(): Promise<void>;
  /** Listens on the same port again. */
  start(): Promise<void>;
  /** Stops for good. */
  close(): Promise<void>;
}

/** Bodies that failed the schema check, described, since the last takeInvalidBodies(): of every collector of this worker. */
const invalidBodies: string[] = [];

/**
 * The bodies any collector of this worker received since the last call that
 * are not valid Zipkin v2 spans, one description each (the request, its
 * problems, the start of its text), and forgets them. For the check after
 * each test: it must come back empty.
 */
export function takeInvalidBodies(): string[] {
  return invalidBodies.splice(0);
}

/** One line for a body that failed the schema check. */
function describeInvalid(record: RecordedRequest<unknown>): string {
  const text = record.text.length > 500 ? `${record.text.slice(0, 500)}…` : record.text;
  return `${record.method} ${record.url} (request ${record.index} to a collector, ${record.spans.length} spans): ${record.schemaErrors.join('; ')}; body: ${text}`;
}

// Captured before any spec can fake them: the collector is another system, and time there is real.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** Waits `ms` of real time, fake timers or not. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => realSetTimeout(resolve, ms));
}

/** Polls `predicate` every few ms (of real time) until it holds or `timeout` passes. */
export async function waitFor(predicate: () => boolean, what: string, timeout = 10_000): Promise<void> {
  const started = performance.now();
  while (!predicate()) {
    if (performance.now() - started > timeout) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** A collector on 127.0.0.1 (`port` 0: any free one) reading Zipkin v2 JSON, or what `reader` reads. */
export async function startCollector(port?: number): Promise<Collector>;
export async function startCollector<S>(port: number, reader: BodyReader<S>): Promise<Collector<S>>;
export async function startCollector<S>(port = 0, reader?: BodyReader<S>): Promise<Collector<S>> {
  const read = reader ?? (zipkinReader as unknown as BodyReader<S>);
  const requests: RecordedRequest<S>[] = [];
  const spans: S[] = [];
  const sockets = new Set<Socket>();
  const hung = new Map<http.ServerResponse, RecordedRequest<S>>();
  const pendingTimers = new Set<NodeJS.Timeout>();
  let queue: Behaviour[] = [];
  let fallback: Behaviour = answer.accept();
  let connections = 0;
  let active = 0;
  let maxActive = 0;
  let aborted = 0;
  const connectionIds = new WeakMap<Socket, number>();
  const resetByUs = new WeakSet<http.ServerResponse>();

  const server = http.createServer();
  // Generous keep-alive so idle sockets between a spec's requests are not closed under a client.
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket) => {
    connections++;
    connectionIds.set(socket, connections);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  server.on('request', (req, res) => {
    active++;
    maxActive = Math.max(maxActive, active);
    let settled = false;
    const done = (): void => {
      if (settled) return;
      settled = true;
      active--;
    };
    res.on('finish', done);
    res.on('close', () => {
      // The client went away before an answer (it timed out or was closed); resets are ours, not counted.
      if (!res.writableFinished && !resetByUs.has(res)) aborted++;
      hung.delete(res);
      done();
    });

    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => {});
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body: Buffer;
      let text: string;
      try {
        body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        text = body.toString('utf8');
      } catch (error) {
        body = raw;
        text = `<undecodable: ${String(error)}>`;
      }
      const { json, spans: bodySpans, errors } = read.read(body, text, req.headers);
      const socket = req.socket;
      const record: RecordedRequest<S> = {
        index: requests.length,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawLength: raw.length,
        body,
        text,
        json,
        spans: bodySpans,
        schemaErrors: errors,
        remotePort: socket.remotePort ?? -1,
        connection: connectionIds.get(socket) ?? -1,
        at: performance.now(),
        behaviour: 'accept',
        status: undefined,
      };
      requests.push(record);
      // Only Zipkin bodies go to the list the every-span check reads; another reader's problems stay on the request.
      if (record.schemaErrors.length > 0 && reader === undefined) invalidBodies.push(describeInvalid(record));
      const behaviour = collector.decide !== undefined ? collector.decide(record) : (queue.shift() ?? fallback);
      perform(behaviour, record, res);
    });
  });

  function perform(behaviour: Behaviour, record: RecordedRequest<S>, res: http.ServerResponse): void {
    record.behaviour = behaviour.kind;
    const reply = (status: number, body = '', headers: Record<string, string> = {}): void => {
      record.status = status;
      if (status >= 200 && status < 300) spans.push(...record.spans);
      res.writeHead(status, { 'content-type': 'text/plain', ...headers });
      res.end(body);
    };
    switch (behaviour.kind) {
      case 'accept':
        return reply(behaviour.status ?? 202);
      case 'status':
        return reply(behaviour.status, behaviour.body, behaviour.headers);
      case 'retryAfter':
        return reply(429, 'slow down', { 'retry-after': String(behaviour.seconds) });
      case 'tooLarge':
        return record.spans.length > behaviour.maxSpans ? reply(413, 'too large') : reply(202);
      case 'reset':
        resetByUs.add(res);
        res.socket?.destroy();
        return;
      case 'hang':
        hung.set(res, record);
        return;
      case 'slow': {
        const timer = realSetTimeout(() => {
          pendingTimers.delete(timer);
          if (!res.destroyed) perform(behaviour.then ?? answer.accept(), record, res);
        }, behaviour.delay);
        pendingTimers.add(timer);
        return;
      }
    }
  }

  async function listen(on: number): Promise<number> {
    server.listen(on, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  }

  async function stop(): Promise<void> {
    for (const timer of pendingTimers) realClearTimeout(timer);
    pendingTimers.clear();
    hung.clear();
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const socket of sockets) socket.destroy();
    await closed;
  }

  const actualPort = await listen(port);

  const collector: Collector<S> = {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    requests,
    spans,
    get connections() {
      return connections;
    },
    get active() {
      return active;
    },
    get maxActive() {
      return maxActive;
    },
    get aborted() {
      return aborted;
    },
    next(...behaviours) {
      queue.push(...behaviours);
    },
    always(behaviour) {
      fallback = behaviour;
    },
    decide: undefined,
    releaseHung() {
      for (const [res, record] of hung) {
        if (!res.destroyed) {
          record.status = 202;
          spans.push(...record.spans);
          res.writeHead(202);
          res.end();
        }
      }
      hung.clear();
    },
    waitFor(predicate, what, timeout) {
      return waitFor(predicate, what, timeout);
    },
    reset() {
      requests.length = 0;
      spans.length = 0;
      queue = [];
      fallback = answer.accept();
      collector.decide = undefined;
      connections = 0;
      maxActive = active;
      aborted = 0;
    },
    stop,
    async start() {
      if (!server.listening) await listen(actualPort);
    },
    close: stop,
  };
  return collector;
}

/** A loopback port with nothing listening on it (taken, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
