/**
 * Express 4 and 5: a middleware mounted first that gives each request its
 * SERVER span (lib/instrumentation/server.ts), names it by the route Express
 * matched, and an error middleware mounted last that records what the
 * handlers threw.
 *
 * Express is a peer: nothing here imports it, at runtime or for types. The
 * middleware reads only what Express's router writes on the request
 * (`req.route`, `req.baseUrl`, `req.params`), which Express 4 and 5 write the
 * same way, so one implementation serves both majors and the published
 * declarations need neither `express` nor `@types/express`.
 */
import { IncomingMessage, type ServerResponse } from 'node:http';
import { listenUnbound } from '../context.js';
import { debug } from '../debug.js';
import { describe } from '../describe.js';
import { InvalidArgumentError } from '../errors.js';
import type { Tracer } from '../tracer.js';
import { errorMessage } from '../values.js';
import { stateFor, stateOf, type ObjectState } from '../object-state.js';
import { recordRequestsEarly } from './early-records.js';
import { serverRequests, type ServerOptions, type ServerRequest } from './server.js';

/** Options of `expressTracing`: those of every server integration (`skip`, `name`, `tags`, `trustProxy`, `timeout`). */
export type ExpressTracingOptions = ServerOptions;

/** Express's `next`, as much of it as ziptrace calls. */
export type ExpressNext = (error?: unknown) => void;

/**
 * The middleware `expressTracing` gives: `app.use(expressTracing(tracer))`.
 * Typed on Node's request and response, which Express's extend, so it fits
 * `app.use` of Express 4 and 5 without ziptrace depending on their types.
 */
export type ExpressTracingMiddleware = (req: IncomingMessage, res: ServerResponse, next: ExpressNext) => void;

/**
 * The error middleware `expressErrorTracing` gives: four parameters, which is
 * how Express tells an error middleware from a plain one.
 */
export type ExpressErrorTracingMiddleware = (error: unknown, req: IncomingMessage, res: ServerResponse, next: ExpressNext) => void;

/** What Express's router writes on the request; absent on a request no router has seen. */
interface RoutedRequest extends IncomingMessage {
  /** The route the router matched last: Express's Route, whose `path` is the template. */
  route?: { path?: unknown } | undefined;
  /** The path the routers above matched (`/orgs/acme`), no template. */
  baseUrl?: unknown;
  /** The params of the layer matched last. */
  params?: unknown;
}

/**
 * Each traced request's state, for the error middleware, which Express calls
 * with only (err, req, res, next): in the request's record (object-state.ts).
 * A property costs an Express request less than a WeakMap entry, and the
 * record is one the request has anyway, where a property of its own would
 * copy the request's property list once more.
 */
function tracedOf(req: IncomingMessage): Traced | undefined {
  return stateOf(req)?.express as Traced | undefined;
}

/** A traced request: its ServerRequest and the route template once Express matched one. */
interface Traced {
  /** The request's server span, as lib/instrumentation/server.ts drives it. */
  readonly request: ServerRequest;
  /** The template last set (`/users/:id`), or undefined before a route matched. */
  route: string | undefined;
}

/**
 * The middleware that traces an Express app: mount it first, so the span is
 * active for every middleware, route and error handler after it.
 *
 * ```js
 * const app = express();
 * app.use(expressTracing(tracer, { skip: ['/healthz'] }));
 * app.get('/users/:id', handler); // spans named `GET /users/:id`
 * app.use(expressErrorTracing()); // last: records what the handlers threw
 * ```
 *
 * Each request gets one SERVER span, joined to its caller (B3 shared, W3C
 * child, a new trace otherwise). Once Express's router matches a route the
 * span is named from its template, the mount paths of the routers above it
 * included (`GET /orgs/:org/users/:id`); a request no route matched (a 404)
 * is named by its method alone. The span ends when the response finishes,
 * when the client goes away (`http.aborted`), or at the `timeout`.
 *
 * The options are those of every server integration, checked here once: an
 * unknown key throws an `InvalidOptionError` naming the closest one.
 *
 * From the first call on, every node:http and node:https request and its
 * response, of any server in the process, get ziptrace's small record
 * (lib/instrumentation/early-records.ts) when Node parses the request.
 */
export function expressTracing(tracer: Tracer, options?: ExpressTracingOptions): ExpressTracingMiddleware {
  const start = serverRequests(tracer, options, 'expressTracing');
  installAccessors();
  recordRequestsEarly();
  return function ziptraceExpress(req: IncomingMessage, res: ServerResponse, next: ExpressNext): void {
    // Mounted twice (an app and a sub-app both tracing): the first span is the request's; no second one.
    if (tracedOf(req) !== undefined) return next();
    const request = start(req, res);
    // An unsampled span takes no name, so its routes are not watched.
    if (!request.skipped && request.span?.isRecording === true) {
      const traced: Traced = { request, route: undefined };
      const state = stateFor(req);
      // A request that takes no new property is not watched: its span keeps the method as its name.
      if (state !== undefined) {
        state.express = traced;
        watchRoutes(req as RoutedRequest, res, traced, state);
      }
    }
    // Express calls the rest of the chain from inside next(): all of it runs with the span active,
    // and what it awaits or schedules keeps it (AsyncLocalStorage follows the async calls).
    request.run(() => next());
  };
}

/**
 * The error middleware that records what a handler threw on its request's
 * span: mount it last, after the routes (and before an error handler of your
 * own, which still gets the error). Express sends a thrown error (a rejection
 * too, in Express 5) along the chain to the error middleware and then to its
 * own final handler, never back to a middleware mounted first: this is the
 * piece that sees it.
 *
 * It tags `error` with the error's message, unless the tracer's
 * `ignoredErrors` says not to, or the error carries a `status` below 500
 * (a body parser's 400: the client's mistake, which the status tag records).
 * Then it calls `next(error)`, so Express answers as it would have.
 */
export function expressErrorTracing(): ExpressErrorTracingMiddleware {
  // It needs no tracer: it finds the request's span from the request. Called with one, the caller expects a
  // tracer or options to matter, and they would not.
  if (arguments.length > 0) {
    throw new InvalidArgumentError(`ziptrace: expressErrorTracing() takes no arguments (the tracer and options go to expressTracing), got ${describe(arguments[0])}`);
  }
  return function ziptraceExpressError(error: unknown, req: IncomingMessage, _res: ServerResponse, next: ExpressNext): void {
    const traced = tracedOf(req);
    if (traced !== undefined) {
      try {
        // Only when no route was seen matching: the mount path it matched under may be restored by now.
        if (traced.route === undefined) noteRoute(req as RoutedRequest, traced);
        if (!isClientError(error)) traced.request.fail(error);
      } catch (failure) {
        if (debug.enabled) debug('express instrumentation: could not record an error: %s', errorMessage(failure));
      }
    }
    next(error);
  };
}

/** An error Express would answer with a 4xx: `status` or `statusCode` (http-errors, body-parser) from 400 to 499. */
function isClientError(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const code = typeof status === 'number' ? status : statusCode;
  return typeof code === 'number' && code >= 400 && code < 500;
}

/**
 * Follows the router's writes to the request, so the route is known the
 * moment Express matches it (a request that then hangs, as an async throw does
 * in Express 4, is still named by its route when the timeout ends it), and so
 * the template of each mount path is known (`/orgs/:org`, never `/orgs/acme`):
 * `req.baseUrl` holds only the matched path, and the router keeps the mount's
 * template nowhere a request can read.
 *
 * `req.route` and `req.baseUrl` become accessors over the same values (kept
 * in the request's record, object-state.ts); every assignment Express makes still lands, stays an
 * own enumerable property (Object.keys, a spread and a logger see it as
 * before), and is told to the request's watchers. Each request gets them at
 * its first assignment, from accessors on IncomingMessage.prototype that
 * expressTracing() installs: a new property, the same two functions for every
 * request. Accessors made for each request gave each request a hidden class
 * of its own, and a plain property turned into an accessor afterwards (Express
 * sets `baseUrl` before any middleware runs) turned the request's properties
 * into a dictionary: either made Express's own work on the request several
 * times slower. Where the prototype's could not be installed, a request's own
 * `baseUrl` is turned into an accessor when it is watched (correct, slower);
 * if even that fails, the route is read when the response finishes.
 */
function watchRoutes(req: RoutedRequest, res: ServerResponse, traced: Traced, state: ObjectState): void {
  // Each mount path as matched (`/orgs/acme`) -> its template (`/orgs/:org`).
  const mounts = new Map<string, string>();
  const initialBase = typeof req.baseUrl === 'string' ? req.baseUrl : '';
  mounts.set(initialBase, initialBase);
  try {
    watch(req, state, (key, value) => {
      if (key === 'route') noteRoute(req, traced, mounts);
      else if (typeof value === 'string' && !mounts.has(value)) mounts.set(value, mountTemplate(value, mounts, req.params));
    });
  } catch (error) {
    if (debug.enabled) debug('express instrumentation: could not watch req.route, reading it at the end: %s', errorMessage(error));
  }
  const last = (): void => {
    res.removeListener('finish', last);
    res.removeListener('close', last);
    if (traced.route === undefined) noteRoute(req, traced, mounts);
  };
  // Before the app's own listeners, so the route is set before anything else sees the span end. Past the
  // response's binding (it needs no span active), and not once(): `last` removes both itself.
  listenUnbound(res, 'prependListener', 'finish', last);
  listenUnbound(res, 'prependListener', 'close', last);
}

/*
 * The values and the list of watchers are in the request's record
 * (object-state.ts), registered, so that two copies of ziptrace (the one
 * `ziptrace/register` loaded and the app's own) tracing one app both hear
 * every assignment, whichever copy's accessors are on the request.
 */

/** Told of each assignment to a watched request's `route` or `baseUrl`, after it landed. */
type RouteWatcher = (key: 'route' | 'baseUrl', value: unknown) => void;

function tell(state: ObjectState, key: 'route' | 'baseUrl', value: unknown): void {
  const watchers = state.watchers as RouteWatcher[] | undefined;
  if (watchers === undefined) return;
  for (const watcher of watchers) {
    // A watcher that throws is one copy's problem, never Express's assignment's.
    try {
      watcher(key, value);
    } catch (error) {
      if (debug.enabled) debug('express instrumentation: a route watcher failed: %s', errorMessage(error));
    }
  }
}

/** Marks the accessors' setters, so that a second copy of ziptrace knows them for what they are. */
// v2: the values are in the request's record (object-state.ts); another copy's accessors that keep them elsewhere are not ours.
const OURS = Symbol.for('ziptrace.express.accessor.v2');

/** A request's own accessor for `key`, over its record's value: an assignment lands there and is told to the watchers. */
function ownAccessor(key: 'route' | 'baseUrl'): { configurable: true; enumerable: true; get(this: object): unknown; set(this: object, value: unknown): void } {
  const set = function (this: object, value: unknown): void {
    const state = stateFor(this);
    if (state === undefined) return;
    state[key] = value;
    tell(state, key, value);
  };
  (set as { [OURS]?: true })[OURS] = true;
  return {
    configurable: true,
    enumerable: true,
    get(this: object): unknown {
      return stateOf(this)?.[key];
    },
    set,
  };
}

const ACCESSORS = { route: ownAccessor('route'), baseUrl: ownAccessor('baseUrl') };

function isOurs(descriptor: PropertyDescriptor | undefined): boolean {
  return (descriptor?.set as { [OURS]?: true } | undefined)?.[OURS] === true;
}

/**
 * The prototype's accessors: a request's first assignment defines its own
 * (ACCESSORS) and goes through it. Read before any assignment, a request has
 * no route or base URL, as a plain one would.
 */
function prototypeAccessor(key: 'route' | 'baseUrl'): PropertyDescriptor {
  const own = ACCESSORS[key];
  const set = function (this: object, assigned: unknown): void {
    try {
      Object.defineProperty(this, key, own);
    } catch {
      // A request that takes no own accessor: the value is kept in its record if it takes one, the watchers not told.
      const state = stateFor(this);
      if (state !== undefined) state[key] = assigned;
      return;
    }
    own.set.call(this, assigned);
  };
  (set as { [OURS]?: true })[OURS] = true;
  return {
    configurable: true,
    enumerable: false,
    get(this: object): unknown {
      return stateOf(this)?.[key];
    },
    set,
  };
}

let installed = false;

/**
 * Puts the prototype's accessors on IncomingMessage.prototype, once: called
 * by expressTracing(), before any request, so that Express's first
 * assignment to a request (`baseUrl`, before any middleware) already goes
 * through them. Left alone where something else owns the names.
 */
function installAccessors(): void {
  if (installed) return;
  installed = true;
  const proto = IncomingMessage.prototype;
  for (const key of ['route', 'baseUrl'] as const) {
    const existing = Object.getOwnPropertyDescriptor(proto, key);
    // Something else put accessors there: another copy of this version (the same record and marker) serves this
    // copy too; anything else is not ours, and watch() then makes each watched request's own, the slow way.
    if (existing !== undefined) continue;
    try {
      Object.defineProperty(proto, key, prototypeAccessor(key));
    } catch (error) {
      if (debug.enabled) debug('express instrumentation: could not put req.%s on IncomingMessage.prototype: %s', key, errorMessage(error));
    }
  }
}

/**
 * Adds `watcher` to those `req` tells of its `route` and `baseUrl`
 * assignments, making the two accessors on the first watch (another copy of
 * ziptrace may have made them already). Throws what defineProperty throws.
 */
function watch(req: RoutedRequest, state: ObjectState, watcher: RouteWatcher): void {
  const watchers = state.watchers as RouteWatcher[] | undefined;
  if (watchers !== undefined) {
    watchers.push(watcher);
    return;
  }
  for (const key of ['route', 'baseUrl'] as const) {
    const own = Object.getOwnPropertyDescriptor(req, key);
    // Not assigned yet (the prototype's accessor will make the request's own), or made already: nothing to do.
    if (own === undefined ? isOurs(Object.getOwnPropertyDescriptor(IncomingMessage.prototype, key)) : isOurs(own)) continue;
    // A plain property (assigned where the prototype's accessors are not): turned into ours, the slow way.
    state[key] = (req as unknown as Record<string, unknown>)[key];
    Object.defineProperty(req, key, ACCESSORS[key]);
  }
  state.watchers = [watcher];
}

/**
 * The template of a matched mount path: its parent's template, then each
 * segment the mount added, a segment equal to the param Express just matched
 * for it written as `:name` (each param once, in the path's order). The router sets `req.params` to the mount
 * layer's params just before it sets `req.baseUrl`.
 */
function mountTemplate(matched: string, mounts: Map<string, string>, params: unknown): string {
  let parent = '';
  for (const known of mounts.keys()) if (known.length > parent.length && matched.startsWith(known) && (matched[known.length] === '/' || known.endsWith('/'))) parent = known;
  const added = matched.slice(parent.length);
  const values = params !== null && typeof params === 'object' ? Object.entries(params as Record<string, unknown>).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1].length > 0) : [];
  // Each param names one segment, the params in the order of the path: matched from the right, so that a
  // literal equal to a param's value (`/users/users` under `/users/:id`) stays a literal where the param
  // comes after it, as it does in most paths.
  const segments = added.split('/');
  let next = values.length - 1;
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i]!;
    if (segment.length === 0) continue;
    let decoded = segment;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      // A malformed escape: compare it as it came.
    }
    const param = next >= 0 ? values[next]! : undefined;
    if (param !== undefined && (param[1] === decoded || param[1] === segment)) {
      segments[i] = `:${param[0]}`;
      next--;
    } else {
      segments[i] = guardId(segment);
    }
  }
  return (mounts.get(parent) ?? parent) + segments.join('/');
}

/**
 * A mount segment that matched no param but looks like an id (digits, a UUID,
 * long hex), as a regular-expression mount such as `app.use(/^\/t\/\d+/, router)`
 * matches them: written `*`, so that no span name carries a user's id. A
 * literal segment (`/users`) is kept.
 */
function guardId(segment: string): string {
  return /^\d+$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^[0-9a-f]{16,}$/i.test(segment) ? '*' : segment;
}

/** Names the span from `req.route` and the mount it matched under, when a route has matched. */
function noteRoute(req: RoutedRequest, traced: Traced, mounts?: Map<string, string>): void {
  const path = routePath(req.route?.path);
  if (path === undefined) return;
  const base = typeof req.baseUrl === 'string' ? (mounts?.get(req.baseUrl) ?? req.baseUrl) : '';
  // `router.get('/')` under `/users` serves `/users`, not `/users/`.
  const template = base.length > 0 && path === '/' ? base : base + path;
  if (template === traced.route) return;
  traced.route = template;
  traced.request.route(template);
}

/** A route's path as a name: a string as it is; a RegExp as its source; an array (one route, several paths) joined by commas. */
function routePath(path: unknown): string | undefined {
  if (typeof path === 'string') return path.length > 0 ? path : undefined;
  if (path instanceof RegExp) return String(path);
  if (Array.isArray(path)) {
    const parts = path.map(routePath).filter((part): part is string => part !== undefined);
    return parts.length > 0 ? parts.join(',') : undefined;
  }
  return undefined;
}
