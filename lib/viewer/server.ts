/**
 * `ziptrace serve`: a Zipkin-compatible server for a developer's machine. Any
 * Zipkin reporter can send to it (`POST /api/v2/spans`), Zipkin's UI could read
 * it (the v2 read API with Zipkin's rules), and it serves its own page on the
 * same port, with a few endpoints of its own under /ziptrace/api/ for what
 * Zipkin's API does not say (a trace analysed, a list of summaries, live
 * events).
 *
 * The lifecycle is explicit: `startViewer` resolves once listening (and once a
 * `--data` file is loaded), `close()` stops accepting, ends the event streams,
 * saves the data file and resolves when the server is closed.
 */
import { accessSync, constants } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { InvalidOptionError } from '../errors.js';
import { unknownKeys } from '../option-keys.js';
import { analyzeTrace, summarizeTrace } from './analysis.js';
import { readDataFile, writeDataFile } from './data-file.js';
import { isAllowedHost, isSameOrigin } from './host-guard.js';
import { LiveEvents } from './live-events.js';
import { mergeTrace } from './merge.js';
import { loadPageFiles, type PageFile } from './page-files.js';
import { parseDependenciesQuery, parseTraceQuery } from './query.js';
import { readBody } from './request-body.js';
import { SettledTraces } from './settled-traces.js';
import { parseSpans } from './span-json.js';
import { SpanStore } from './store.js';
import type { TraceView } from './types.js';

/** Options of {@link startViewer}. */
export interface ViewerOptions {
  /** Port to listen on; 0 picks a free one. Default 9411, Zipkin's. */
  port?: number;
  /** Address to listen on. Default `127.0.0.1`: only this machine. */
  host?: string;
  /** Spans kept in memory; past it the oldest whole traces go first. Default 500,000. */
  maxSpans?: number;
  /** Keep the spans in this file across restarts (loaded at start, saved a second after changes and at close). */
  dataFile?: string;
  /** Host names, beyond loopback names and IP addresses, that requests may name (for a name in /etc/hosts, say). */
  allowedHosts?: readonly string[];
  /** Largest request body accepted, in bytes. Default 8 MiB. */
  maxBodyBytes?: number;
  /** Largest body once unzipped, in bytes. Default 16 MiB (parsed, a body takes several times its size in memory). */
  maxUnzippedBytes?: number;
  /** Bytes the bodies being read may hold at once, all requests together; past it a request is answered 503. Default 64 MiB. */
  maxInFlightBytes?: number;
  /** Only these tag keys are offered by `/api/v2/autocompleteKeys` (Zipkin's AUTOCOMPLETE_KEYS); default every key seen. */
  autocompleteKeys?: readonly string[];
  /** Called with each trace once no span has arrived for it for `settleMs` (how `serve` prints traces). */
  onTrace?: (view: TraceView) => void;
  /** Quiet time after which a trace counts as complete for `onTrace`. Default 1000 ms. */
  settleMs?: number;
  /** Told of what goes wrong in the background (the data file cannot be saved), once per distinct problem. Default: a line on stderr. */
  onError?: (error: Error) => void;
}

const OPTION_KEYS = ['port', 'host', 'maxSpans', 'dataFile', 'allowedHosts', 'maxBodyBytes', 'maxUnzippedBytes', 'maxInFlightBytes', 'autocompleteKeys', 'onTrace', 'settleMs', 'onError'] as const;

const DEFAULT_MAX_BODY = 8 * 1024 * 1024;
const DEFAULT_MAX_UNZIPPED = 16 * 1024 * 1024;
const DEFAULT_IN_FLIGHT = 64 * 1024 * 1024;
/** Past this, close() stops waiting for clients that keep their connections open. */
const CLOSE_GRACE_MS = 5_000;

/** A running viewer. */
export interface Viewer {
  /** Its base URL, such as `http://127.0.0.1:9411`; reporters send to `${url}/api/v2/spans`. */
  readonly url: string;
  /** The port it listens on (the one picked, with `port: 0`). */
  readonly port: number;
  /** Spans received and kept. */
  readonly store: SpanStore;
  /** Stops listening, ends live streams, saves the data file; resolves when closed. */
  close(): Promise<void>;
}

/** Every response says this: no framing, no sniffing, no referrer, and a page that runs only its own files. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
} as const;

/** Starts the viewer; resolves once it listens. Rejects on an invalid option, an unreadable data file or a port in use. */
export async function startViewer(options: ViewerOptions = {}): Promise<Viewer> {
  const problems = checkOptions(options);
  if (problems.length > 0) throw new InvalidOptionError(`ziptrace: ${problems.join('; ')}`);
  const store = new SpanStore({ maxSpans: options.maxSpans, autocompleteKeys: options.autocompleteKeys });
  if (options.dataFile !== undefined) {
    store.accept(readDataFile(options.dataFile));
    // A file that cannot be written is said now, not a second after the first batch, from a timer.
    const folder = dirname(resolve(options.dataFile));
    try {
      accessSync(folder, constants.W_OK);
    } catch (error) {
      throw new InvalidOptionError(`ziptrace: dataFile ${JSON.stringify(options.dataFile)} cannot be saved: ${(error as Error).message}`);
    }
  }
  const app = new ViewerApp(store, options);
  const server = createServer({ requestTimeout: 60_000 }, (req, res) => app.handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9411, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const shown = host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host;
  return {
    url: `http://${shown}:${address.port}`,
    port: address.port,
    store,
    close: () => app.close(server),
  };
}

function checkOptions(options: ViewerOptions): string[] {
  const problems = unknownKeys(options, OPTION_KEYS, 'startViewer');
  const integer = (key: keyof ViewerOptions, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const value = options[key];
    if (value !== undefined && (!Number.isInteger(value) || (value as number) < min || (value as number) > max)) {
      problems.push(`${key} must be an integer from ${min} to ${max}, not ${String(value)}`);
    }
  };
  integer('port', 0, 65535);
  integer('maxSpans', 1);
  integer('maxBodyBytes', 1);
  integer('maxUnzippedBytes', 1);
  integer('maxInFlightBytes', 1);
  integer('settleMs', 1);
  for (const key of ['onTrace', 'onError'] as const) if (options[key] !== undefined && typeof options[key] !== 'function') problems.push(`${key} must be a function`);
  for (const key of ['host', 'dataFile'] as const) {
    if (options[key] !== undefined && (typeof options[key] !== 'string' || options[key] === '')) problems.push(`${key} must be a non-empty string`);
  }
  for (const key of ['allowedHosts', 'autocompleteKeys'] as const) {
    const value = options[key];
    if (value !== undefined && (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))) problems.push(`${key} must be a list of strings`);
  }
  return problems;
}

/** The request handling, with the state it shares. */
class ViewerApp {
  readonly #store: SpanStore;
  readonly #options: ViewerOptions;
  readonly #allowedHosts: ReadonlySet<string>;
  readonly #page: Map<string, PageFile>;
  readonly #events = new LiveEvents();
  readonly #settled: SettledTraces | undefined;
  #saveTimer: NodeJS.Timeout | undefined;
  #dirty = false;
  /** How long the last save took: the next waits ten times that, so saving a large store takes a tenth of the time at most. */
  #lastSaveMs = 0;
  #lastProblem: string | undefined;
  #closing = false;
  readonly #inFlight: { used: number; readonly max: number };

  constructor(store: SpanStore, options: ViewerOptions) {
    this.#store = store;
    this.#options = options;
    this.#inFlight = { used: 0, max: options.maxInFlightBytes ?? DEFAULT_IN_FLIGHT };
    this.#allowedHosts = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase()));
    this.#page = loadPageFiles();
    const onTrace = options.onTrace;
    if (onTrace !== undefined) {
      this.#settled = new SettledTraces(options.settleMs ?? 1000, (traceId) => {
        const spans = store.trace(traceId);
        if (spans === undefined) return;
        try {
          onTrace(analyzeTrace(spans));
        } catch {
          // The printer's problem must not take the collector down; the trace is still stored and shown on the page.
        }
      });
    }
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    // Closing: answer, then let the connection go, so close() does not wait on keep-alive sockets.
    if (this.#closing) res.setHeader('connection', 'close');
    this.#route(req, res).catch((error: unknown) => {
      if (!res.headersSent) text(res, 500, `ziptrace serve: ${(error as Error)?.message ?? String(error)}`);
      else res.destroy();
    });
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isAllowedHost(req.headers.host, this.#allowedHosts)) {
      return text(res, 403, `Host ${req.headers.host} is not this machine: ziptrace serve answers loopback names and IP addresses (start it with --allow-host NAME to add a name)`);
    }
    if (!isSameOrigin(req.headers.origin, req.headers.host)) {
      return text(res, 403, `cross-origin requests are refused (Origin ${req.headers.origin}); ziptrace serve sends no CORS headers`);
    }
    let url: URL;
    let path: string;
    try {
      url = new URL(req.url ?? '/', 'http://viewer');
      path = decodeURIComponent(url.pathname);
    } catch {
      return text(res, 400, `${JSON.stringify(req.url)} is not a path this server can read`);
    }
    const method = req.method ?? 'GET';

    if (path === '/api/v2/spans' && method === 'POST') return this.#acceptSpans(req, res);
    if (path === '/ziptrace/api/analyze' && method === 'POST') return this.#analyzeUpload(req, res);
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('allow', path === '/api/v2/spans' ? 'GET, HEAD, POST' : path === '/ziptrace/api/analyze' ? 'POST' : 'GET, HEAD');
      return text(res, 405, `${method} is not allowed on ${path}`);
    }
    if (path.startsWith('/api/v2/')) return this.#zipkinRead(path.slice('/api/v2/'.length), url.searchParams, res);
    if (path.startsWith('/ziptrace/api/')) return this.#ziptraceRead(path.slice('/ziptrace/api/'.length), url.searchParams, res);
    const file = this.#page.get(path);
    if (file !== undefined) {
      res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.body.length, 'cache-control': 'no-cache' });
      res.end(method === 'HEAD' ? undefined : file.body);
      return;
    }
    return text(res, 404, `nothing at ${path}`);
  }

  async #acceptSpans(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const type = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      req.resume();
      return text(res, 415, `Content-Type ${type} is not supported: ziptrace serve reads Zipkin v2 JSON (application/json), not protobuf or thrift`);
    }
    const body = await readBody(req, this.#limits());
    if ('status' in body) {
      // The rest of an oversized body is not read: answer, then close the connection.
      if (body.status === 413 || body.status === 503) res.setHeader('connection', 'close');
      if (body.status === 503) res.setHeader('retry-after', '1');
      return text(res, body.status, body.reason);
    }
    const parsed = parseSpans(body.text);
    if ('error' in parsed) return text(res, 400, parsed.error);
    const traceIds = this.#store.accept(parsed.spans);
    res.writeHead(202).end();
    // Accepted while closing: stored, and saved once the server has closed; nothing more is scheduled.
    if (traceIds.length === 0 || this.#closing) {
      this.#dirty ||= traceIds.length > 0 && this.#options.dataFile !== undefined;
      return;
    }
    this.#events.spansArrived(traceIds);
    this.#settled?.touched(traceIds);
    this.#changed();
  }

  async #analyzeUpload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, this.#limits());
    if ('status' in body) {
      if (body.status === 413 || body.status === 503) res.setHeader('connection', 'close');
      return json(res, body.status, { error: body.reason });
    }
    const parsed = parseSpans(body.text);
    if ('error' in parsed) return json(res, 400, { error: parsed.error });
    if (parsed.spans.length === 0) return json(res, 400, { error: 'the file has no spans' });
    const traceIds = new Set(parsed.spans.map((s) => s.traceId));
    if (traceIds.size > 1) return json(res, 400, { error: `the file holds ${traceIds.size} traces; upload one trace (a list of spans with one traceId)` });
    return json(res, 200, analyzeTrace(mergeTrace(parsed.spans)));
  }

  #zipkinRead(route: string, params: URLSearchParams, res: ServerResponse): void {
    const store = this.#store;
    const required = (name: string): string | undefined => {
      const value = params.get(name);
      if (value === null || value.trim() === '') text(res, 400, `${name} is required`);
      return value === null || value.trim() === '' ? undefined : value.trim().toLowerCase();
    };
    switch (route) {
      case 'services':
        return json(res, 200, store.serviceNames());
      case 'spans': {
        const service = required('serviceName');
        return service === undefined ? undefined : json(res, 200, store.spanNames(service));
      }
      case 'remoteServices': {
        const service = required('serviceName');
        return service === undefined ? undefined : json(res, 200, store.remoteServiceNames(service));
      }
      case 'traces': {
        const query = parseTraceQuery(params, Date.now());
        return 'error' in query ? text(res, 400, query.error) : json(res, 200, store.traces(query));
      }
      case 'traceMany': {
        const ids = (params.get('traceIds') ?? '').split(',').map((id) => id.trim()).filter(Boolean);
        if (ids.length === 0) return text(res, 400, 'traceIds is required: a comma-separated list of trace ids');
        const bad = ids.find((id) => !TRACE_ID.test(id));
        if (bad !== undefined) return text(res, 400, `traceIds: ${JSON.stringify(bad)} is not 1 to 32 hex digits`);
        return json(res, 200, store.traceMany(ids));
      }
      case 'dependencies': {
        const query = parseDependenciesQuery(params, Date.now());
        return 'error' in query ? text(res, 400, query.error) : json(res, 200, store.dependencies(query.endTs, query.lookback));
      }
      case 'autocompleteKeys':
        return json(res, 200, store.autocompleteKeys());
      case 'autocompleteValues': {
        const key = params.get('key');
        if (key === null || key === '') return text(res, 400, 'key is required');
        return json(res, 200, store.autocompleteValues(key));
      }
    }
    if (route.startsWith('trace/')) {
      const id = route.slice('trace/'.length);
      if (!TRACE_ID.test(id)) return text(res, 400, `${JSON.stringify(id)} is not a trace id: 1 to 32 hex digits`);
      const spans = store.trace(id);
      return spans === undefined ? text(res, 404, `trace ${id} not found`) : json(res, 200, spans);
    }
    return text(res, 404, `/api/v2/${route} is not part of Zipkin's v2 API`);
  }

  #ziptraceRead(route: string, params: URLSearchParams, res: ServerResponse): void {
    if (route === 'events') {
      if (res.req.method === 'HEAD') return void res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' }).end();
      return this.#events.open(res);
    }
    if (route === 'traces') {
      const query = parseTraceQuery(params, Date.now());
      return 'error' in query ? json(res, 400, { error: query.error }) : json(res, 200, this.#store.traces(query).map((spans) => summarizeTrace(spans)));
    }
    if (route.startsWith('trace/')) {
      const id = route.slice('trace/'.length);
      if (!TRACE_ID.test(id)) return json(res, 400, { error: `${JSON.stringify(id)} is not a trace id: 1 to 32 hex digits` });
      const spans = this.#store.trace(id);
      return spans === undefined ? json(res, 404, { error: `trace ${id} not found` }) : json(res, 200, analyzeTrace(spans));
    }
    return json(res, 404, { error: `/ziptrace/api/${route} does not exist` });
  }

  #limits() {
    return { maxBodyBytes: this.#options.maxBodyBytes ?? DEFAULT_MAX_BODY, maxUnzippedBytes: this.#options.maxUnzippedBytes ?? DEFAULT_MAX_UNZIPPED, inFlight: this.#inFlight };
  }

  /**
   * Saves the data file a while after a change: a second, or ten times what
   * the last save took (a large store is written synchronously, and must not
   * hold the event loop most of the time under steady traffic). A burst of
   * batches costs one write.
   */
  #changed(): void {
    if (this.#options.dataFile === undefined) return;
    this.#dirty = true;
    this.#saveTimer ??= setTimeout(() => {
      this.#saveTimer = undefined;
      this.#save();
    }, Math.max(1000, this.#lastSaveMs * 10)).unref();
  }

  /** Writes the data file if anything changed; a failure is reported (once per problem) and the save is tried again with the next change. */
  #save(): void {
    if (!this.#dirty || this.#options.dataFile === undefined) return;
    const started = Date.now();
    try {
      writeDataFile(this.#options.dataFile, this.#store.allSpans());
      this.#dirty = false;
      this.#lastProblem = undefined;
    } catch (error) {
      const problem = `ziptrace serve: could not save ${this.#options.dataFile}: ${(error as Error).message}`;
      if (problem !== this.#lastProblem) {
        this.#lastProblem = problem;
        const report = this.#options.onError ?? ((e: Error) => void process.stderr.write(`${e.message}\n`));
        try {
          report(new Error(problem, { cause: error }));
        } catch {
          // A reporter that throws must not take the server down either.
        }
      }
    }
    this.#lastSaveMs = Date.now() - started;
  }

  /** Stops taking connections, lets the requests in flight finish (their spans are kept), then reports the waiting traces and saves. */
  async close(server: Server): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#events.close();
    clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Clients that keep their sockets open past a grace period are cut off.
    const grace = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
    await closed;
    clearTimeout(grace);
    this.#settled?.flush();
    this.#save();
  }
}

/** A trace id as the read API takes it: Zipkin left-pads shorter ones. */
const TRACE_ID = /^[0-9a-fA-F]{1,32}$/;

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function text(res: ServerResponse, status: number, message: string): void {
  const body = `${message}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
