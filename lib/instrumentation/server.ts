/**
 * The server span of one HTTP request, independent of any framework: what
 * `tracedHandler` (node:http) uses, and what Express, Koa or Fastify
 * integrations will use, each only telling it the route once it knows it.
 *
 * It reads nothing but Node's `IncomingMessage` / `ServerResponse` surface
 * (`method`, `url`, `headers`, `socket`, the `finish` and `close` events),
 * and only the tracer's public methods, so a tracer from another copy of
 * ziptrace works too.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { isIPv4, isIPv6, Socket } from 'node:net';
import { isPromise, isProxy } from 'node:util/types';
import { shareBindingMethods } from '../context.js';
import { debug } from '../debug.js';
import { describe } from '../describe.js';
import { buildEndpoint } from '../endpoint.js';
import { InvalidArgumentError, InvalidOptionError } from '../errors.js';
import { stateFor, stateOf } from '../object-state.js';
import { unknownKeys, type ListsEvery } from '../option-keys.js';
import type { Span } from '../span.js';
import type { Tracer } from '../tracer.js';
import type { Endpoint, EndpointAddress, TagValue } from '../types.js';
import { errorMessage } from '../values.js';
import { Deadlines, type DeadlineEntry } from './request-deadlines.js';

/** The default `timeout`: five minutes, longer than any proxy in front of a server waits for an answer. */
export const DEFAULT_SERVER_TIMEOUT = 5 * 60 * 1000;

/** The largest delay `setTimeout` takes (about 24.8 days); a longer one would fire at once. */
const MAX_TIMEOUT = 2 ** 31 - 1;

/** Options of the server instrumentation (`tracedHandler`, `startServerRequest`). */
export interface ServerOptions {
  /**
   * Requests that get no span and start no trace (their handler still runs,
   * with no span active): exact paths without the query string, such as
   * `['/healthz', '/metrics']`, or a predicate. A predicate that throws
   * skips nothing.
   */
  skip?: readonly string[] | ((req: IncomingMessage) => boolean);
  /**
   * The span's name, decided when the request starts. Default: the method
   * alone (`GET`), or `GET /users/:id` once a route template is known; never
   * the raw path, whose ids would make a name per user. A name from this
   * hook is kept even when a route is set later. If it throws or gives no
   * string, the default is used.
   */
  name?: (req: IncomingMessage) => string;
  /** Extra tags, asked for when the span ends (the status is known then). What it throws is ignored. */
  tags?: (req: IncomingMessage, res: ServerResponse) => Record<string, TagValue> | undefined;
  /**
   * Takes the remote endpoint from the first `X-Forwarded-For` address rather
   * than the socket's. Only behind a proxy you run: any client can send the
   * header. Default false.
   */
  trustProxy?: boolean;
  /**
   * Milliseconds after which a request never answered has its span ended
   * (tagged `http.timed_out` and `error`) rather than held forever. Default
   * five minutes. The timer does not keep the process alive.
   */
  timeout?: number;
}

const SERVER_OPTION_KEYS = ['skip', 'name', 'tags', 'trustProxy', 'timeout'] as const satisfies readonly (keyof ServerOptions)[];
type _ServerOptionKeys = ListsEvery<(typeof SERVER_OPTION_KEYS)[number], keyof ServerOptions>;

/** One request's server span, as an integration drives it. */
export interface ServerRequest {
  /** The SERVER span, or undefined when the request is skipped. Unsampled requests have a span that records nothing. */
  readonly span: Span | undefined;
  /** Whether `skip` matched: no span, no trace. */
  readonly skipped: boolean;
  /**
   * Sets the route template (`/users/:id`): tags `http.route`, and names the
   * span `GET /users/:id` unless the `name` hook named it. Frameworks call
   * this once their router has matched.
   */
  route(template: string): this;
  /** Records an error the handler threw on the span (`error`: its message), unless the tracer's `ignoredErrors` says not to. */
  fail(error: unknown): this;
  /**
   * Runs `fn` with the span active (with none when skipped). A synchronous
   * throw is recorded and rethrown; a returned promise is passed on as a
   * promise that rejects with the same error, recorded. The span is not
   * ended by `fn` returning: the response ends it.
   */
  run<R>(fn: () => R): R;
  /** Ends the span now, as if the response had finished. Integrations rarely need it; a second call does nothing. */
  end(): void;
}

/** Starts a `ServerRequest` for each request; see {@link serverRequests}. */
export type StartServerRequest = (req: IncomingMessage, res: ServerResponse) => ServerRequest;

/** The options once checked, with their defaults. */
interface Resolved {
  skip: ((req: IncomingMessage, path: string) => boolean) | undefined;
  name: ((req: IncomingMessage) => string) | undefined;
  tags: ((req: IncomingMessage, res: ServerResponse) => Record<string, TagValue> | undefined) | undefined;
  trustProxy: boolean;
  timeout: number;
  /** The in-flight sampled requests of these options, and the one timer that times them out. */
  deadlines: Deadlines<TracedRequest>;
}

function withDeadlines(o: Omit<Resolved, 'deadlines'>): Resolved {
  return { ...o, deadlines: deadlinesFor(o.timeout) };
}

/**
 * The lists of in-flight requests, one per timeout, shared by every
 * `serverRequests` call with that timeout: `startServerRequest` resolves its
 * options at each call, and a list of its own per request would be a timer per
 * request again. Bounded: past 16 timeouts a list is made per call, and clears
 * its timer when it empties.
 */
const deadlineLists = new Map<number, Deadlines<TracedRequest>>();
const MAX_DEADLINE_LISTS = 16;

function deadlinesFor(timeout: number): Deadlines<TracedRequest> {
  let list = deadlineLists.get(timeout);
  if (list === undefined) {
    const shared = deadlineLists.size < MAX_DEADLINE_LISTS;
    list = new Deadlines<TracedRequest>(timeout, onRequestTimeout, !shared);
    if (shared) deadlineLists.set(timeout, list);
  }
  return list;
}

/** Checks the options once, throwing an `InvalidOptionError` that names each wrong one. */
function resolveOptions(options: ServerOptions | undefined, where: string): Resolved {
  if (options === undefined) return withDeadlines({ skip: undefined, name: undefined, tags: undefined, trustProxy: false, timeout: DEFAULT_SERVER_TIMEOUT });
  if (options === null || typeof options !== 'object') throw new InvalidOptionError(`ziptrace: ${where}: options must be an object, got ${describe(options)}`);
  const problems = unknownKeys(options, SERVER_OPTION_KEYS, where);
  const { skip, name, tags, trustProxy, timeout } = options;
  let skipper: Resolved['skip'];
  if (typeof skip === 'function') {
    skipper = (req) => skip(req) === true;
  } else if (Array.isArray(skip)) {
    if (skip.every((path) => typeof path === 'string')) {
      const paths = new Set<string>(skip);
      skipper = (_req, path) => paths.has(path);
    } else problems.push(`skip must list paths as strings, got ${describe(skip.find((path) => typeof path !== 'string'))} among them`);
  } else if (skip !== undefined) problems.push(`skip must be an array of paths or a function (req) => boolean, got ${describe(skip)}`);
  if (name !== undefined && typeof name !== 'function') problems.push(`name must be a function (req) => string, got ${describe(name)}`);
  if (tags !== undefined && typeof tags !== 'function') problems.push(`tags must be a function (req, res) => tags, got ${describe(tags)}`);
  if (trustProxy !== undefined && typeof trustProxy !== 'boolean') problems.push(`trustProxy must be true or false, got ${describe(trustProxy)}`);
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout > 0 && timeout <= MAX_TIMEOUT)) {
    problems.push(`timeout must be milliseconds, more than 0 and at most ${MAX_TIMEOUT}, got ${describe(timeout)}`);
  }
  if (problems.length > 0) throw new InvalidOptionError(`ziptrace: ${where}: ${problems.join('; ')}`);
  return withDeadlines({ skip: skipper, name, tags, trustProxy: trustProxy === true, timeout: timeout ?? DEFAULT_SERVER_TIMEOUT });
}

function checkTracer(tracer: unknown, where: string): asserts tracer is Tracer {
  const t = tracer as Partial<Tracer> | null | undefined;
  if (t === null || typeof t !== 'object' || typeof t.joinSpan !== 'function' || typeof t.extract !== 'function' || typeof t.withActive !== 'function' || typeof t.bindEmitter !== 'function') {
    throw new InvalidArgumentError(`ziptrace: ${where}: the first argument must be a tracer from createTracer(), got ${describe(tracer)}`);
  }
}

/** A hook's failure: never the app's problem. Said under NODE_DEBUG=ziptrace. */
function hookFailed(hook: string, error: unknown): void {
  if (debug.enabled) debug('server instrumentation: the %s hook threw, ignored: %s', hook, errorMessage(error));
}

/** The path of a request target without its query string or fragment: `/users/42?x=1` gives `/users/42`. */
export function requestPath(url: string | undefined): string {
  if (url === undefined || url.length === 0) return '/';
  let end = url.length;
  const query = url.indexOf('?');
  if (query >= 0) end = query;
  const hash = url.indexOf('#');
  if (hash >= 0 && hash < end) end = hash;
  const target = url.slice(0, end);
  if (target.startsWith('/')) return target;
  // The absolute form a proxy is sent (`GET http://host/path`): only its path.
  try {
    return new URL(target).pathname;
  } catch {
    return target;
  }
}

/** An address as Zipkin wants it: `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) as the IPv4 it is. */
export function addressOf(ip: string | undefined, port?: number): EndpointAddress | undefined {
  if (typeof ip !== 'string') return undefined;
  const text = ip.trim();
  const address: EndpointAddress = {};
  const mapped = text.toLowerCase().startsWith('::ffff:') ? text.slice(7) : undefined;
  if (mapped !== undefined && isIPv4(mapped)) address.ipv4 = mapped;
  else if (isIPv4(text)) address.ipv4 = text;
  else if (isIPv6(text)) address.ipv6 = text;
  else return undefined;
  if (port !== undefined && Number.isInteger(port) && port > 0 && port <= 65535) address.port = port;
  return address;
}

/** The client's address from `X-Forwarded-For` (`trustProxy`), its first one, without a port (the socket's is the proxy's). */
function forwardedAddress(req: IncomingMessage): EndpointAddress | undefined {
  const header = req.headers['x-forwarded-for'];
  const value = Array.isArray(header) ? header[0] : header;
  return typeof value === 'string' ? addressOf(value.split(',')[0]) : undefined;
}

/** Where a socket keeps its remote endpoint, made at its first traced request. */
const SOCKET_ENDPOINT = Symbol('ziptrace.remote-endpoint');

/**
 * The socket's remote endpoint, made once per socket and frozen: the requests
 * of a kept-alive connection share it (and the encoder then remembers its
 * JSON), where each once parsed, checked and encoded the same address again.
 */
function socketEndpoint(socket: Socket & { [SOCKET_ENDPOINT]?: Readonly<Endpoint> }): Readonly<Endpoint> | undefined {
  const cached = socket[SOCKET_ENDPOINT];
  if (cached !== undefined) return cached;
  const address = addressOf(socket.remoteAddress, socket.remotePort);
  // Not remembered while the socket has no address yet (or none any more): a later request may see it.
  if (address === undefined) return undefined;
  const endpoint = Object.freeze(buildEndpoint(undefined, address));
  try {
    // Not enumerable: util.inspect of a socket need not show it. A socket that refuses it is asked again next time.
    Object.defineProperty(socket, SOCKET_ENDPOINT, { value: endpoint, configurable: true });
  } catch {
    // A frozen socket: the endpoint is still right, only not remembered.
  }
  return endpoint;
}

/** Sets the client's endpoint on a request's span: `X-Forwarded-For`'s with `trustProxy`, else the socket's. */
function setRemote(span: Span, req: IncomingMessage, trustProxy: boolean): void {
  const forwarded = trustProxy ? forwardedAddress(req) : undefined;
  if (forwarded !== undefined) {
    span.remoteEndpoint(undefined, forwarded);
    return;
  }
  const socket = req.socket as unknown;
  if (!(socket instanceof Socket) || isProxy(socket)) {
    // Not a net.Socket (an HTTP/2 compatibility request's socket is a Proxy, whose reads and writes go to different
    // objects; a test double): the endpoint is made for the request, as a span's own.
    const other = socket as { remoteAddress?: unknown; remotePort?: unknown } | null | undefined;
    const address = other !== null && typeof other === 'object' ? addressOf(other.remoteAddress as string | undefined, other.remotePort as number | undefined) : undefined;
    if (address !== undefined) span.remoteEndpoint(undefined, address);
    return;
  }
  const endpoint = socketEndpoint(socket);
  if (endpoint === undefined) return;
  // A span of another copy of ziptrace (the tracer is any createTracer's) checks and copies it as usual.
  const checked = span as Span & { _setCheckedRemote?: (endpoint: Readonly<Endpoint>) => void };
  if (typeof checked._setCheckedRemote === 'function') checked._setCheckedRemote(endpoint);
  else span.remoteEndpoint(undefined, endpoint);
}

/**
 * Checks the options once and gives a function that starts the server span
 * of each request: what an integration calls per request.
 *
 * ```ts
 * const start = serverRequests(tracer, { skip: ['/healthz'] });
 * server.on('request', (req, res) => start(req, res).run(() => app(req, res)));
 * ```
 *
 * A request that already has a ServerRequest (an outer integration started
 * one: the zero-code server hook of `ziptrace/register`, or a `tracedHandler`
 * around an Express app that also mounts `expressTracing`) gets that one back,
 * whichever tracer and options started it, so one request has one server
 * span, which the inner integration still names by its route.
 *
 * @param where the call that option errors name (`expressTracing`, say): integrations built on this pass their own.
 */
export function serverRequests(tracer: Tracer, options?: ServerOptions, where = 'serverRequests'): StartServerRequest {
  checkTracer(tracer, where);
  const o = resolveOptions(options, where);
  return (req, res) => {
    // One request, one server span: a second integration on the same request (the zero-code server hook, then
    // an app's own tracedHandler or expressTracing) gets the first one's handle, to name and run under.
    const started = serverRequestOf(req);
    if (started !== undefined) return started;
    const request = startRequest(tracer, o, req, res);
    // On the request itself (in its one record, object-state.ts). A WeakMap entry, as it once was, kept every
    // request alive through young-generation collections (the collector treats an old WeakMap's entries as live
    // until a full collection, and the handle refers to req and res), which made the garbage collector most of
    // what a traced request cost.
    const state = stateFor(req);
    if (state !== undefined) state.server = request;
    else unextensible.set(req, request);
    return request;
  };
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
const inspectHandle = (): string => '[ziptrace server request]';
/** Those of requests that take no new property (a Proxy that refuses it, a frozen object). */
const unextensible = new WeakMap<object, ServerRequest>();

/**
 * The ServerRequest already started for `req` (by any integration, from any
 * copy of ziptrace), skipped ones included; undefined when none was. What
 * lets stacked integrations make one server span per request.
 */
export function serverRequestOf(req: IncomingMessage): ServerRequest | undefined {
  return (stateOf(req)?.server as ServerRequest | undefined) ?? unextensible.get(req);
}

/**
 * Starts the server span of one request: `serverRequests(tracer, options)(req, res)`.
 * Prefer `serverRequests` when the options are the same for every request, so they are checked once.
 */
export function startServerRequest(tracer: Tracer, req: IncomingMessage, res: ServerResponse, options?: ServerOptions): ServerRequest {
  return serverRequests(tracer, options, 'startServerRequest')(req, res);
}

/** The handle of a skipped request: no span, and the handler runs with none active. */
function skippedRequest(tracer: Tracer): ServerRequest {
  return {
    span: undefined,
    skipped: true,
    route() {
      return this;
    },
    fail() {
      return this;
    },
    run: (fn) => tracer.withActive(null, fn),
    end() {},
  };
}

let sharing = false;

/** Binds Node's requests and responses with one property each (see shareBindingMethods): done at the first request. */
function shareBinding(): void {
  sharing = true;
  shareBindingMethods(IncomingMessage.prototype);
  shareBindingMethods(ServerResponse.prototype);
}

/**
 * Body parsers and streams read req (and write res) through events that fire
 * outside the handler's context; bound, their listeners run with the server
 * span active, so spans they start nest under it (and, under an unsampled
 * request, are unsampled too rather than roots of traces of their own).
 */
function bindRequest(tracer: Tracer, span: Span, req: IncomingMessage, res: ServerResponse): void {
  try {
    if (!sharing) shareBinding();
    tracer.bindEmitter(req, span);
    tracer.bindEmitter(res, span);
  } catch (error) {
    if (debug.enabled) debug('server instrumentation: could not bind the request or response: %s', errorMessage(error));
  }
}

/**
 * The handle of a request whose span records nothing: the handler runs with
 * it active, so that what it calls propagates the decision, and there is
 * nothing to name, fail, time out or end, so no listener or timer either.
 */
function unsampledRequest(tracer: Tracer, span: Span): ServerRequest {
  const handle: ServerRequest & { [INSPECT]: () => string } = {
    [INSPECT]: inspectHandle,
    span,
    skipped: false,
    route: () => handle,
    fail: () => handle,
    run: (fn) => tracer.withActive(span, fn),
    end() {},
  };
  return handle;
}

function startRequest(tracer: Tracer, o: Resolved, req: IncomingMessage, res: ServerResponse): ServerRequest {
  const path = requestPath(req.url);
  if (o.skip !== undefined) {
    let skip = false;
    try {
      skip = o.skip(req, path);
    } catch (error) {
      hookFailed('skip', error);
    }
    if (skip) return skippedRequest(tracer);
  }
  const method = typeof req.method === 'string' && req.method.length > 0 ? req.method.toUpperCase() : 'GET';
  let hookName: string | undefined;
  if (o.name !== undefined) {
    try {
      const named = o.name(req);
      if (typeof named === 'string' && named.length > 0) hookName = named;
    } catch (error) {
      hookFailed('name', error);
    }
  }
  // joinSpan keeps Zipkin's shared span for a B3 caller, makes a child of a W3C one, and a root when nothing valid came.
  // The tags go in the options, not after: a sampler decides on them (the README's sampler row says so).
  const span = tracer.joinSpan(tracer.extract(req.headers), hookName ?? method, { kind: 'SERVER', tags: { 'http.method': method, 'http.path': path } });
  if (!span.isRecording) {
    bindRequest(tracer, span, req, res);
    return unsampledRequest(tracer, span);
  }
  setRemote(span, req, o.trustProxy);
  const request = new TracedRequest(tracer, o, span, req, res, method, hookName);
  bindRequest(tracer, span, req, res);
  return request;
}

function onRequestTimeout(request: TracedRequest): void {
  request.finish('timeout');
}

type Ending = 'finished' | 'aborted' | 'timeout';

/**
 * The handle of a sampled request: its span ends when the response does, or
 * at the timeout. Its methods are bound (arrow functions), so that they work
 * taken off it (`req.on('error', request.fail)`), as the handle's API allows.
 */
class TracedRequest implements ServerRequest, DeadlineEntry {
  /** How util.inspect shows it, on a logged request: not the tracer and all it holds. */
  [INSPECT](): string {
    return '[ziptrace server request]';
  }

  readonly skipped = false;
  private ended = false;
  private failed = false;
  /** @internal The deadline list's (see request-deadlines.ts). */
  _deadline = 0;
  /** @internal */ _older: DeadlineEntry | undefined = undefined;
  /** @internal */ _newer: DeadlineEntry | undefined = undefined;
  /** @internal */ _listed = false;
  private readonly onFinish = (): void => this.finish('finished');
  // 'close' also follows a normal 'finish'; only a close before it is the client going away.
  private readonly onClose = (): void => this.finish(this.res.writableFinished ? 'finished' : 'aborted');

  constructor(
    private readonly tracer: Tracer,
    private readonly o: Resolved,
    readonly span: Span,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly method: string,
    private readonly hookName: string | undefined,
  ) {
    // Added before the emitters are bound: these need no span active, and so skip the binding's wrapper.
    // on() rather than once(): finish() removes both and runs once, without the wrappers once() makes.
    res.on('finish', this.onFinish);
    res.on('close', this.onClose);
    // Timed out by the options' one timer, not a timer of its own (see request-deadlines.ts).
    o.deadlines.add(this);
  }

  readonly route = (template: string): this => {
    if (typeof template !== 'string' || template.length === 0 || this.ended) return this;
    this.span.tag('http.route', template);
    if (this.hookName === undefined) this.span.name(`${this.method} ${template}`);
    return this;
  };

  readonly fail = (error: unknown): this => {
    if (this.ended) return this;
    const ignored = this.tracer as { _isIgnored?: (error: unknown) => boolean };
    let ignore = false;
    try {
      ignore = typeof ignored._isIgnored === 'function' && ignored._isIgnored(error);
    } catch {
      // An ignoredErrors predicate that throws ignores nothing.
    }
    if (!ignore) {
      this.failed = true;
      this.span.setError(error);
    }
    return this;
  };

  readonly run = <R>(fn: () => R): R => {
    let result: R;
    try {
      result = this.tracer.withActive(this.span, fn);
    } catch (error) {
      this.fail(error);
      throw error;
    }
    // Only real promises: a thenable's then() may run work again. The derived promise rejects with the
    // same error, so a caller that leaves it unhandled gets the unhandled rejection it would have had.
    if (isPromise(result)) {
      return (result as unknown as Promise<unknown>).then(undefined, (error: unknown) => {
        this.fail(error);
        throw error;
      }) as R;
    }
    return result;
  };

  readonly end = (): void => {
    this.finish('finished');
  };

  /** @internal Ends the span, once. */
  finish(how: Ending): void {
    if (this.ended) return;
    this.ended = true;
    this.o.deadlines.remove(this);
    this.res.removeListener('finish', this.onFinish);
    this.res.removeListener('close', this.onClose);
    // This runs inside the response's own 'finish' or 'close' emit: nothing may throw out of it, even a span
    // from another copy of ziptrace.
    try {
      this.endSpan(how);
    } catch (error) {
      if (debug.enabled) debug('server instrumentation: ending the span failed: %s', errorMessage(error));
    }
  }

  private endSpan(how: Ending): void {
    const { span, res, o } = this;
    // The status is known only once the headers went out; an abort before that has none.
    if (how === 'finished' || res.headersSent) {
      const status = res.statusCode;
      span.tag('http.status_code', status);
      // The handler's own `error` tag (its reason) is kept: the status alone says less.
      if (status >= 500 && !this.failed && (span as { _tags?: Record<string, string> })._tags?.error === undefined) span.tag('error', String(status));
    }
    if (how === 'aborted') span.tag('http.aborted', 'true');
    if (how === 'timeout') {
      span.tag('http.timed_out', 'true');
      if (!this.failed) span.tag('error', `no response within ${o.timeout} ms`);
    }
    if (o.tags !== undefined) {
      try {
        const extra = o.tags(this.req, res);
        if (extra !== null && typeof extra === 'object') for (const key of Object.keys(extra)) span.tag(key, extra[key]);
      } catch (error) {
        hookFailed('tags', error);
      }
    }
    span.finish();
  }
}
