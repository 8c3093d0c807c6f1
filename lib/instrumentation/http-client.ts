/**
 * Traces the HTTP requests this process makes: global `fetch` (undici,
 * bundled in Node) and `http`/`https` `request` and `get`. Each request gets
 * one CLIENT span under the active span, and the tracer's headers go out
 * with it, so the server it calls continues the trace.
 *
 * Two mechanisms, because Node offers the right hook for one client only:
 *
 * - undici publishes `undici:request:create` on `node:diagnostics_channel`
 *   synchronously in the caller's async context, before the request is
 *   written, and its `request.addHeader` reaches the wire (Node 20 to 24).
 *   So fetch is traced by subscribing, and nothing of undici is imported.
 * - `http.client.request.created` (the one `node:http` channel that comes
 *   while headers can still be set) exists only from Node 22.12 / 23.2;
 *   `http.client.request.start` comes after the headers are written. So
 *   `http.request`/`get` and `https.request`/`get` are wrapped, removably,
 *   and the headers are set on the `ClientRequest` before it is written.
 *
 * Nothing here throws into the application: the application's own call
 * runs first and untouched, and whatever tracing then fails is caught
 * (`NODE_DEBUG=ziptrace` says what).
 */
import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import { isIPv4, isIPv6 } from 'node:net';
import { activeSpan, runOutside, runtime, spanOf } from '../context.js';
import { debug } from '../debug.js';
import { describe } from '../describe.js';
import { InvalidOptionError } from '../errors.js';
import { unknownKeys, type ListsEvery } from '../option-keys.js';
import type { Span } from '../span.js';
import type { Tracer } from '../tracer.js';
import { UNDICI_REQUEST_CREATE, UNDICI_REQUEST_ERROR, UNDICI_REQUEST_HEADERS, UNDICI_REQUEST_TRAILERS } from './channels.js';

/** Options of {@link instrumentHttpClients}. */
export interface HttpClientOptions {
  /**
   * Trace requests made with no active span too, each as the root of a new
   * trace (subject to the tracer's sampling). Default false: a request
   * outside any span is left untouched, no span and no headers, as Brave and
   * OpenTelemetry leave requests that belong to no trace. Even when true, a
   * request that carries `b3: 0` with no active span is left alone: that is
   * how ziptrace's own `HttpReporter` (and Zipkin's reporters) mark theirs.
   */
  traceRoots?: boolean;
  /**
   * Milliseconds from the response headers to the end of the body, after
   * which a span whose body has not ended is finished anyway, tagged
   * `http.response.body: "unfinished after <ms> ms"`. A body the caller
   * never reads never ends (undici reports nothing more, and an unread
   * `IncomingMessage` stays paused), and its span would otherwise never be
   * reported. Default {@link DEFAULT_BODY_TIMEOUT}; `Infinity` never cuts a
   * span short (for long downloads and event streams), at the risk of
   * unread bodies never being reported.
   */
  bodyTimeout?: number;
}

/** The default `bodyTimeout`: 30 seconds. */
export const DEFAULT_BODY_TIMEOUT = 30_000;

const OPTION_KEYS = ['traceRoots', 'bodyTimeout'] as const satisfies readonly (keyof HttpClientOptions)[];
type _EveryOptionListed = ListsEvery<(typeof OPTION_KEYS)[number], keyof HttpClientOptions>;

/**
 * The propagation headers removed from a request before the tracer's are
 * added: B3 (both forms) and W3C, whatever the tracer writes. A caller's own
 * `traceparent` or `b3` belongs to some other context; sending it beside
 * ours would give the server two traces to choose from, and undici's
 * `addHeader` appends, so it would even repeat a header.
 */
const PROPAGATION_HEADERS: readonly string[] = ['b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags', 'traceparent', 'tracestate'];

/** What one instrumentation holds; `installation` is the live one. */
interface Installation {
  readonly tracer: Tracer;
  readonly traceRoots: boolean;
  readonly bodyTimeout: number;
}

/**
 * The live installation, shared by every copy of ziptrace in the process (an
 * `import` and a `require` of the dual package): two copies each tracing
 * fetch would make two spans per request.
 */
const INSTALLED = Symbol.for('ziptrace.http-clients.v1');
function installed(): Installation | undefined {
  return (globalThis as unknown as Record<symbol, Installation | undefined>)[INSTALLED];
}
function setInstalled(value: Installation | undefined): void {
  Object.defineProperty(globalThis, INSTALLED, { value, enumerable: false, configurable: true, writable: true });
}

/**
 * Starts tracing outgoing HTTP requests with `tracer`: global `fetch` (and
 * anything else built on Node's undici) and `http`/`https` `request` and
 * `get`, including the ESM named imports (`import { request } from 'node:http'`).
 *
 * Each request made while a span is active gets one CLIENT span, a child of
 * that span, named by the method (`GET`), tagged `http.method`, `http.path`
 * (no query string), `http.status_code`, and `error` (a network failure's
 * message, or the status of a 5xx answer); its remote endpoint is the host
 * and port. The tracer's propagation headers are sent with it, replacing any
 * the caller set. Each redirect hop of `fetch` is a span of its own. The
 * span ends when the response body ends, the request fails, or the response
 * is closed before its end; a body still unfinished `bodyTimeout` ms after
 * the headers ends it there, tagged.
 *
 * A request made where tracing is suppressed (OpenTelemetry's
 * `suppressTracing`, under `registerOpenTelemetry`) is not traced. While this
 * is installed, the CLIENT spans of OpenTelemetry's undici and http
 * instrumentations (for the clients traced here) stand aside under
 * `registerOpenTelemetry`: one request, one span, one set of headers.
 *
 * Returns the function that undoes it. Calling this again while it is in
 * effect (from any copy of ziptrace) changes nothing, and returns an undo
 * that does nothing. Throws an `InvalidOptionError` for a wrong option.
 */
export function instrumentHttpClients(tracer: Tracer, options: HttpClientOptions = {}): () => void {
  return instrumentClients(tracer, options, { fetch: true, http: true });
}

/** Which clients {@link instrumentClients} traces. */
export interface HttpClientKinds {
  /** `fetch`, and anything else built on Node's undici. */
  readonly fetch: boolean;
  /** `http`/`https` `request` and `get`. */
  readonly http: boolean;
}

/**
 * {@link instrumentHttpClients} for some of the clients only: what the
 * zero-code start calls, since `ZIPTRACE_INSTRUMENT` turns `fetch` and
 * `http` on and off apart. One installation still covers the process: a
 * later call, for any clients, does nothing while this one is in effect.
 */
export function instrumentClients(tracer: Tracer, options: HttpClientOptions, kinds: HttpClientKinds): () => void {
  const resolved = resolveOptions(tracer, options);
  if (installed() !== undefined) return () => {};
  setInstalled(resolved);
  let undone = false;
  let undoHttp: () => void = () => {};
  const clients = { fetch: false, http: false };
  try {
    if (kinds.fetch) {
      subscribeUndici();
      clients.fetch = true;
    }
    if (kinds.http) {
      undoHttp = patchHttp(resolved);
      clients.http = true;
    }
  } catch (error) {
    // A Node without diagnostics_channel subscribe, say: whatever part was set up stays undoable.
    if (debug.enabled) debug('instrumentHttpClients: setting up failed: %s', String(error));
  }
  // Told to the OpenTelemetry bridge (any copy's), which then stands OpenTelemetry's own client spans aside.
  runtime.clients = clients;
  return () => {
    if (undone) return;
    undone = true;
    try {
      if (runtime.clients === clients) runtime.clients = undefined;
      if (installed() === resolved) setInstalled(undefined);
      unsubscribeUndici();
      undoHttp();
    } catch (error) {
      if (debug.enabled) debug('instrumentHttpClients: undoing failed: %s', String(error));
    }
  };
}

function resolveOptions(tracer: Tracer, options: HttpClientOptions): Installation {
  const where = 'instrumentHttpClients';
  if (tracer === null || typeof tracer !== 'object' || typeof (tracer as Partial<Tracer>).startSpan !== 'function' || typeof (tracer as Partial<Tracer>).inject !== 'function') {
    throw new InvalidOptionError(`ziptrace: ${where}(tracer, options): tracer must be a Tracer from createTracer(), got ${describe(tracer)}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(`ziptrace: ${where}: options must be an object such as { traceRoots: true }, got ${describe(options)}`);
  }
  const problems = unknownKeys(options, OPTION_KEYS, where);
  const { traceRoots, bodyTimeout } = options;
  if (traceRoots !== undefined && typeof traceRoots !== 'boolean') problems.push(`traceRoots must be true or false, got ${describe(traceRoots)}`);
  if (bodyTimeout !== undefined && !(typeof bodyTimeout === 'number' && bodyTimeout > 0 && (Number.isFinite(bodyTimeout) ? bodyTimeout <= 2 ** 31 - 1 : bodyTimeout === Infinity))) {
    problems.push(`bodyTimeout must be a number of milliseconds above 0 (at most 2147483647), or Infinity, got ${describe(bodyTimeout)}`);
  }
  if (problems.length > 0) throw new InvalidOptionError(`ziptrace: ${where}: ${problems.join('; ')}`);
  return { tracer, traceRoots: traceRoots === true, bodyTimeout: bodyTimeout ?? DEFAULT_BODY_TIMEOUT };
}

/* ------------------------------------------------------------------ spans */

/** One traced request, from its start to the end of its response. */
interface Call {
  readonly span: Span;
  readonly bodyTimeout: number;
  done: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Told once, when the span is finished. */
  readonly onDone: (() => void) | undefined;
}

/** What a request says of itself, as each client reads it. */
interface Target {
  method: string;
  /** `http:` or `https:`. */
  protocol: string;
  /** A host name or IP literal, without IPv6 brackets; may be empty. */
  host: string;
  port: number | undefined;
  /** The path and query as sent. */
  path: string;
  /** Whether the request carries `b3: 0`, the reporters' "do not trace me". */
  optedOut: boolean;
}

/**
 * The span of one request, or undefined when it is not to be traced: no
 * active span (unless `traceRoots`), a reporter's own request, or tracing
 * suppressed where it is made (OpenTelemetry's `suppressTracing`, told by
 * the store's `suppressed`).
 */
function startCall(state: Installation, target: Target, onDone?: () => void): Call | undefined {
  // `b3: 0` opts a request out wherever it is made: a reporter that flushes inside a span must not trace its own
  // requests (each report would make a span to report).
  // A store that carries other values (the OpenTelemetry bridge's) but no span is no span: spanOf says which.
  const store = activeSpan();
  if (target.optedOut || (store !== undefined && store.suppressed === true) || (spanOf(store) === undefined && !state.traceRoots)) return undefined;
  const method = target.method.length > 0 ? target.method.toUpperCase() : 'GET';
  const query = target.path.indexOf('?');
  const path = query < 0 ? target.path : target.path.slice(0, query);
  const span = state.tracer.startSpan(method, { kind: 'CLIENT', tags: { 'http.method': method, 'http.path': path.length > 0 ? path : '/' } });
  setRemote(span, target);
  return { span, bodyTimeout: state.bodyTimeout, done: false, timer: undefined, onDone };
}

/**
 * The remote endpoint as OpenTelemetry's Zipkin exporter makes it from
 * `server.address`/`server.port`: an IP literal as `ipv4`/`ipv6`, a host
 * name as `serviceName` (so Zipkin's dependency graph shows the service
 * called even when it is not traced itself), and the port.
 */
function setRemote(span: Span, target: Target): void {
  const host = target.host.toLowerCase();
  const port = target.port ?? (target.protocol === 'https:' ? 443 : 80);
  if (isIPv4(host)) span.remoteEndpoint(undefined, { ipv4: host, port });
  else if (isIPv6(host)) span.remoteEndpoint(undefined, { ipv6: host, port });
  else if (host.length > 0) span.remoteEndpoint(host, { port });
}

/** The response headers came: the status is tagged, and the body's deadline starts. */
function answered(call: Call, status: number): void {
  if (call.done) return;
  if (Number.isInteger(status) && status > 0) {
    call.span.tag('http.status_code', String(status));
    // Brave and OpenTelemetry's server rule: a 5xx is the server's failure. A 4xx is left to the caller to judge.
    if (status >= 500) call.span.tag('error', String(status));
  }
  if (call.bodyTimeout !== Infinity) {
    // A timer of no request: made outside the caller's context, and not keeping the process alive.
    call.timer = runOutside(() => setTimeout(() => finish(call, undefined, `unfinished after ${call.bodyTimeout} ms`), call.bodyTimeout));
    call.timer.unref();
  }
}

/** Finishes the span once: `error` (a failure) and `unfinished` (the body deadline) are tagged first. */
function finish(call: Call, error?: unknown, unfinished?: string): void {
  if (call.done) return;
  call.done = true;
  if (call.timer !== undefined) clearTimeout(call.timer);
  try {
    if (error !== undefined) call.span.setError(error);
    if (unfinished !== undefined) call.span.tag('http.response.body', unfinished);
    call.span.finish();
  } catch (caught) {
    if (debug.enabled) debug('instrumentHttpClients: finishing a span failed: %s', String(caught));
  }
  call.onDone?.();
}

/** The tracer's headers for `span`, as name → value (lower-case names). */
function headersOf(tracer: Tracer, span: Span): Record<string, string> {
  const carrier: Record<string, string> = {};
  tracer.inject(span, carrier);
  return carrier;
}

/** Every header to remove before adding `ours`: the known propagation headers and whatever the tracer writes. */
function namesToReplace(ours: Record<string, string>): Set<string> {
  const names = new Set(PROPAGATION_HEADERS);
  for (const name of Object.keys(ours)) names.add(name.toLowerCase());
  return names;
}

/* ------------------------------------------------------------------ undici / fetch */

/** What ziptrace reads of undici's request object (undici 5 to 7). */
interface UndiciRequest {
  origin?: unknown;
  method?: unknown;
  path?: unknown;
  /** An array of alternating names and values from undici 6; a `name: value\r\n` string before. */
  headers?: unknown;
  addHeader?: (name: string, value: string) => unknown;
  /** Set for a WebSocket or other upgrade: undici then publishes no headers, trailers or error for it. */
  upgrade?: unknown;
}

/**
 * undici's requests in flight → their calls, on undici's request object itself, so a request undici drops
 * takes its call with it. Not a WeakMap: an entry would keep each request alive through young-generation
 * collections (see server.ts); the WeakMap only for a request that takes no new property.
 */
const undiciCalls = {
  key: Symbol('ziptrace.undici-call'),
  unextensible: new WeakMap<object, Call>(),
  set(request: object, call: Call): void {
    // An assignment, not Reflect.set (the reason is stateFor's, lib/object-state.ts); checked, since a store
    // can say yes and keep nothing.
    const own = request as Record<symbol, Call>;
    try {
      own[this.key] = call;
      if (own[this.key] !== call) this.unextensible.set(request, call);
    } catch {
      this.unextensible.set(request, call);
    }
  },
  get(request: object): Call | undefined {
    return ((request as Record<symbol, Call | undefined>)[this.key] as Call | undefined) ?? this.unextensible.get(request);
  },
};
/** Undici calls not yet finished: the ending channels stay subscribed until these are done, even after undo. */
let undiciLive = 0;
let creating = false;
let ending = false;

function onUndiciCreate(message: unknown): void {
  try {
    const state = installed();
    const request = (message as { request?: UndiciRequest } | null)?.request;
    if (state === undefined || request === null || typeof request !== 'object' || typeof request.addHeader !== 'function') return;
    // A CONNECT tunnel or an upgrade gets no headers, trailers or error message from undici: its span would never end.
    if (request.method === 'CONNECT' || (request.upgrade !== undefined && request.upgrade !== null && request.upgrade !== false)) return;
    const call = startCall(state, undiciTarget(request), () => {
      undiciLive--;
      if (undiciLive === 0 && !creating) setEnding(false);
    });
    if (call === undefined) return;
    undiciCalls.set(request, call);
    undiciLive++;
    const ours = headersOf(state.tracer, call.span);
    removeUndiciHeaders(request, namesToReplace(ours));
    for (const name of Object.keys(ours)) request.addHeader(name, ours[name]!);
  } catch (error) {
    if (debug.enabled) debug('instrumentHttpClients: undici:request:create failed: %s', String(error));
  }
}

function onUndiciHeaders(message: unknown): void {
  try {
    const { request, response } = message as { request: object; response?: { statusCode?: unknown } };
    const call = undiciCalls.get(request);
    if (call !== undefined) answered(call, Number(response?.statusCode));
  } catch (error) {
    if (debug.enabled) debug('instrumentHttpClients: undici:request:headers failed: %s', String(error));
  }
}

function onUndiciTrailers(message: unknown): void {
  try {
    const call = undiciCalls.get((message as { request: object }).request);
    if (call !== undefined) finish(call);
  } catch (error) {
    if (debug.enabled) debug('instrumentHttpClients: undici:request:trailers failed: %s', String(error));
  }
}

function onUndiciError(message: unknown): void {
  try {
    const { request, error } = message as { request: object; error: unknown };
    const call = undiciCalls.get(request);
    if (call !== undefined) finish(call, error ?? 'request failed');
  } catch (caught) {
    if (debug.enabled) debug('instrumentHttpClients: undici:request:error failed: %s', String(caught));
  }
}

function undiciTarget(request: UndiciRequest): Target {
  let protocol = 'http:';
  let host = '';
  let port: number | undefined;
  try {
    const origin = new URL(String(request.origin));
    protocol = origin.protocol;
    host = origin.hostname.replace(/^\[(.*)\]$/, '$1');
    port = origin.port === '' ? undefined : Number(origin.port);
  } catch {
    // No parsable origin: the span goes without a remote endpoint.
  }
  return {
    method: typeof request.method === 'string' ? request.method : 'GET',
    protocol,
    host,
    port,
    path: typeof request.path === 'string' ? request.path : '',
    optedOut: undiciHeader(request.headers, 'b3') === '0',
  };
}

/** One header's value on an undici request, in either of its header shapes. */
function undiciHeader(headers: unknown, name: string): string | undefined {
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1]).trim();
  } else if (typeof headers === 'string') {
    for (const line of headers.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name) return line.slice(colon + 1).trim();
    }
  }
  return undefined;
}

/** Removes the named headers from an undici request before ours are appended. */
function removeUndiciHeaders(request: UndiciRequest, names: Set<string>): void {
  const headers = request.headers;
  if (Array.isArray(headers)) {
    // In place: undici holds this very array. Names and values alternate.
    for (let i = headers.length - 2; i >= 0; i -= 2) if (names.has(String(headers[i]).toLowerCase())) headers.splice(i, 2);
  } else if (typeof headers === 'string') {
    request.headers = headers
      .split('\r\n')
      .filter((line) => {
        const colon = line.indexOf(':');
        return colon <= 0 || !names.has(line.slice(0, colon).trim().toLowerCase());
      })
      .join('\r\n');
  }
}

function subscribeUndici(): void {
  if (!creating) diagnostics.subscribe(UNDICI_REQUEST_CREATE, onUndiciCreate);
  creating = true;
  setEnding(true);
}

function unsubscribeUndici(): void {
  if (creating) diagnostics.unsubscribe(UNDICI_REQUEST_CREATE, onUndiciCreate);
  creating = false;
  // Requests in flight still end their spans; the last one to finish unsubscribes the rest.
  if (undiciLive === 0) setEnding(false);
}

function setEnding(on: boolean): void {
  if (on === ending) return;
  ending = on;
  const change = on ? diagnostics.subscribe : diagnostics.unsubscribe;
  change(UNDICI_REQUEST_HEADERS, onUndiciHeaders);
  change(UNDICI_REQUEST_TRAILERS, onUndiciTrailers);
  change(UNDICI_REQUEST_ERROR, onUndiciError);
}

/* ------------------------------------------------------------------ node:http / node:https */

type RequestFunction = (...args: unknown[]) => http.ClientRequest;
interface ClientModule {
  request: RequestFunction;
  get: RequestFunction;
}

/**
 * Wraps `request` and `get` of `node:http` and `node:https`, and syncs the
 * ESM named exports so `import { request } from 'node:http'` sees the
 * wrappers. Returns the undo: each original comes back where the wrapper is
 * still in place; a wrapper someone else has since wrapped stays, inert.
 */
function patchHttp(state: Installation): () => void {
  const undo: (() => void)[] = [];
  for (const [module, protocol] of [
    [http as unknown as ClientModule, 'http:'],
    [https as unknown as ClientModule, 'https:'],
  ] as const) {
    const originalRequest = module.request;
    const originalGet = module.get;
    const request = named(function (this: unknown, ...args: unknown[]): http.ClientRequest {
      const req = originalRequest.apply(this, args);
      if (installed() === state) traceClientRequest(state, req, protocol);
      return req;
    }, originalRequest);
    // What Node's own get does, over the wrapped request: Node's get calls its module's request
    // directly, not the export, so wrapping both would trace nothing twice, but get would not see ours.
    const get = named(function (this: unknown, ...args: unknown[]): http.ClientRequest {
      const req = request.apply(this, args);
      req.end();
      return req;
    }, originalGet);
    module.request = request;
    module.get = get;
    undo.push(() => {
      if (module.request === request) module.request = originalRequest;
      if (module.get === get) module.get = originalGet;
    });
  }
  syncBuiltinESMExports();
  return () => {
    for (const step of undo) step();
    syncBuiltinESMExports();
  };
}

/** `wrapper` with the name and length of `original`, for stack traces and code that looks. */
function named<F extends (...args: never[]) => unknown>(wrapper: F, original: (...args: never[]) => unknown): F {
  Object.defineProperty(wrapper, 'name', { value: original.name, configurable: true });
  Object.defineProperty(wrapper, 'length', { value: original.length, configurable: true });
  return wrapper;
}

/** Internals of `ClientRequest` read here: set once Node has composed the header block. */
interface ClientRequestInternals {
  _header?: unknown;
  /** Composes the header block on the first write, end or flushHeaders: the last moment to set a header. */
  _implicitHeader?: unknown;
  host?: unknown;
  protocol?: unknown;
}

/**
 * Traces one `ClientRequest` just made by the application's own call: a
 * span, the headers set before Node writes them, and the events that end it
 * observed by wrapping the instance's `emit`. No listener is added: an
 * `'error'` listener of ours would swallow errors the application does not
 * handle (which must still crash it, as without tracing), and code that
 * counts listeners would see ours.
 */
function traceClientRequest(state: Installation, req: http.ClientRequest, protocol: string): void {
  try {
    const internals = req as unknown as ClientRequestInternals;
    const hostHeader = req.getHeader('host');
    const target: Target = {
      method: req.method,
      protocol: typeof internals.protocol === 'string' ? internals.protocol : protocol,
      host: typeof internals.host === 'string' ? internals.host.replace(/^\[(.*)\]$/, '$1') : '',
      port: portOf(hostHeader),
      path: req.path,
      optedOut: String(req.getHeader('b3')).trim() === '0',
    };
    const call = startCall(state, target);
    if (call === undefined) return;
    // Headers given as an array are written by Node at once, in the constructor: too late to add ours.
    if (internals._header === undefined || internals._header === null) {
      const ours = headersOf(state.tracer, call.span);
      const names = namesToReplace(ours);
      const apply = (): void => {
        for (const name of names) if (req.hasHeader(name)) req.removeHeader(name);
        for (const name of Object.keys(ours)) req.setHeader(name, ours[name]!);
      };
      // Now, so that the caller can read them back; and again just before Node composes the header
      // block (its first write, end or flushHeaders), over a propagation header the caller set since.
      apply();
      const implicit = internals._implicitHeader;
      if (typeof implicit === 'function') {
        internals._implicitHeader = function (this: unknown): unknown {
          try {
            if (!req.headersSent) apply();
          } catch (error) {
            if (debug.enabled) debug('instrumentHttpClients: setting headers failed: %s', String(error));
          }
          return implicit.call(this);
        };
      }
    }
    observeRequest(req, call);
  } catch (error) {
    if (debug.enabled) debug('instrumentHttpClients: tracing http.request failed: %s', String(error));
  }
}

/** The port of a `Host` header (`127.0.0.1:8080`, `[::1]:8080`), or undefined when it names none. */
function portOf(hostHeader: unknown): number | undefined {
  if (typeof hostHeader !== 'string') return undefined;
  const match = /:(\d+)$/.exec(hostHeader);
  return match === null ? undefined : Number(match[1]);
}

type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;

/** Calls `observe` for each event `emitter` emits, before its listeners, then emits as before. */
function observeEmit(emitter: { emit: Emit }, observe: (event: string | symbol, arg: unknown) => void): void {
  const emit = emitter.emit;
  emitter.emit = function (this: unknown, event: string | symbol, ...args: unknown[]): boolean {
    try {
      observe(event, args[0]);
    } catch (error) {
      if (debug.enabled) debug('instrumentHttpClients: observing %s failed: %s', String(event), String(error));
    }
    return emit.call(this, event, ...args);
  };
}

function observeRequest(req: http.ClientRequest, call: Call): void {
  let responded = false;
  observeEmit(req as unknown as { emit: Emit }, (event, arg) => {
    if (event === 'response') {
      responded = true;
      const res = arg as http.IncomingMessage;
      answered(call, res.statusCode ?? 0);
      observeResponse(res, call);
    } else if (event === 'error') {
      // Before a response: the connection failed. After one, the response says how it ended.
      if (!responded) finish(call, arg);
    } else if (event === 'upgrade' || event === 'connect') {
      // A 101 (WebSocket) or a CONNECT tunnel: the answer came, and what follows is no longer HTTP to trace.
      responded = true;
      answered(call, (arg as http.IncomingMessage | undefined)?.statusCode ?? 0);
      finish(call);
    } else if (event === 'close') {
      if (!responded) finish(call, 'request closed before a response');
    }
  });
}

function observeResponse(res: http.IncomingMessage, call: Call): void {
  observeEmit(res as unknown as { emit: Emit }, (event, arg) => {
    if (event === 'end') finish(call);
    else if (event === 'error') finish(call, arg);
    // 'close' comes after 'end' when the body was read to its end; before it, the body was cut off.
    else if (event === 'close') finish(call, 'response closed before the body ended');
  });
}
