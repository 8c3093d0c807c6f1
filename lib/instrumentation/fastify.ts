/**
 * Fastify 4 and 5: a plugin that gives each request its SERVER span
 * (lib/instrumentation/server.ts), named by the route template.
 *
 * Fastify is a peer, never imported, not even for its types (the core's
 * architecture spec refuses any import but `node:` built-ins): the plugin
 * reads only the few members of Fastify's instance, request and reply that
 * it needs, typed structurally below, which both majors' objects satisfy.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe } from '../describe.js';
import { InvalidArgumentError, InvalidOptionError } from '../errors.js';
import { unknownKeys, type ListsEvery } from '../option-keys.js';
import type { Tracer } from '../tracer.js';
import { serverRequests, type ServerOptions, type ServerRequest, type StartServerRequest } from './server.js';

/** Options of `fastifyTracing`: the tracer, and those of every server integration (their hooks get `request.raw` / `reply.raw`). */
export interface FastifyTracingOptions extends ServerOptions {
  /** The tracer that makes and reports the spans: one from `createTracer()`. */
  tracer: Tracer;
}

/** The members of a Fastify request the plugin reads. */
export interface FastifyRequestLike {
  /** Node's request, which the server span reads (method, url, headers, socket). */
  readonly raw: IncomingMessage;
  /** Fastify 4.10+ and 5: `url` is the matched route's template (`/users/:id`), undefined for a 404. */
  readonly routeOptions?: { readonly url?: string };
}

/** The members of a Fastify reply the plugin reads. */
export interface FastifyReplyLike {
  /** Node's response, whose `finish` and `close` end the span. */
  readonly raw: ServerResponse;
}

/** The callback-style `onRequest` hook the plugin adds. */
export type FastifyOnRequestHook = (request: FastifyRequestLike, reply: FastifyReplyLike, done: (error?: Error) => void) => void;

/** The callback-style `onError` hook the plugin adds. */
export type FastifyOnErrorHook = (request: FastifyRequestLike, reply: FastifyReplyLike, error: unknown, done: () => void) => void;

/** The member of a Fastify instance the plugin calls. */
export interface FastifyInstanceLike {
  /** Adds a lifecycle hook; the plugin adds `onRequest` and `onError`. */
  addHook(name: 'onRequest', hook: FastifyOnRequestHook): unknown;
  /** Adds a lifecycle hook; the plugin adds `onRequest` and `onError`. */
  addHook(name: 'onError', hook: FastifyOnErrorHook): unknown;
}

/** The plugin's type: a callback plugin, as `fastify.register` takes one. */
export type FastifyTracingPlugin = (instance: FastifyInstanceLike, options: FastifyTracingOptions, done: (error?: Error) => void) => void;

const WHERE = 'fastifyTracing';

/** The keys of ServerOptions, typed against the interface both ways so a new option cannot be refused here. */
const SERVER_KEYS = ['skip', 'name', 'tags', 'trustProxy', 'timeout'] as const satisfies readonly (keyof ServerOptions)[];
type _ServerKeys = ListsEvery<(typeof SERVER_KEYS)[number], keyof ServerOptions>;
/**
 * Options `fastify.register` itself reads from the same object (and a user
 * may pass out of habit): accepted, and meaningless here, since the plugin
 * is not encapsulated and has no routes to prefix.
 */
const REGISTER_KEYS = ['prefix', 'logLevel', 'logSerializers'] as const;
const KNOWN_KEYS: readonly string[] = ['tracer', ...SERVER_KEYS, ...REGISTER_KEYS];

/*
 * Each Fastify request's ServerRequest, for the later hooks, on the request
 * itself under a symbol (not a decoration: nothing to declare on the app, no
 * clash between two registrations). A WeakMap entry keeps its request alive
 * through young-generation collections (see server.ts): a WeakMap only for a
 * request that takes no new property.
 */
const TRACED = Symbol('ziptrace.fastify');
const unextensible = new WeakMap<object, ServerRequest>();

function tracedOf(request: object): ServerRequest | undefined {
  return ((request as Record<symbol, ServerRequest | undefined>)[TRACED] as ServerRequest | undefined) ?? unextensible.get(request);
}

function checkTracer(tracer: unknown): asserts tracer is Tracer {
  const t = tracer as Partial<Tracer> | null | undefined;
  if (t === null || typeof t !== 'object' || typeof t.joinSpan !== 'function' || typeof t.extract !== 'function' || typeof t.withActive !== 'function' || typeof t.bindEmitter !== 'function') {
    throw new InvalidArgumentError(`ziptrace: ${WHERE}: the tracer option must be a tracer from createTracer(), got ${describe(tracer)}`);
  }
}

/** Checks the options, naming every problem at once, and gives the per-request starter. */
function starterFor(options: unknown): StartServerRequest {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(`ziptrace: ${WHERE}: options must be an object { tracer, ...options }, got ${describe(options)}`);
  }
  const given = options as Record<string, unknown>;
  const tracer = given.tracer;
  checkTracer(tracer);
  const problems = unknownKeys(options, KNOWN_KEYS, WHERE);
  // Only the server's own keys go on: Fastify's register keys and the tracer are not its options.
  const serverOptions: Record<string, unknown> = {};
  for (const key of SERVER_KEYS) if (key in given) serverOptions[key] = given[key];
  try {
    const start = serverRequests(tracer, serverOptions as ServerOptions, WHERE);
    if (problems.length === 0) return start;
  } catch (error) {
    // The values' problems, said by the server instrumentation, join the unknown keys in one message.
    const prefix = `ziptrace: ${WHERE}: `;
    if (!(error instanceof InvalidOptionError) || problems.length === 0) throw error;
    problems.push(error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message);
  }
  throw new InvalidOptionError(`ziptrace: ${WHERE}: ${problems.join('; ')}`);
}

/**
 * The route template Fastify matched: `request.routeOptions.url` (4.10+ and
 * 5), `request.routerPath` before that. Undefined for a 404, which has no
 * route. routerPath is read only when routeOptions is missing: on 4.10+ the
 * getter prints a deprecation warning.
 */
function routeOf(request: FastifyRequestLike): string | undefined {
  const options = request.routeOptions;
  const url = options !== undefined ? options.url : (request as { routerPath?: unknown }).routerPath;
  return typeof url === 'string' && url.length > 0 ? url : undefined;
}

/**
 * The HTTP status an error asks for, as Fastify's default error handler reads
 * it (`statusCode`, else `status`), when it is one.
 */
function statusOf(error: unknown): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { statusCode, status } = error as { statusCode?: unknown; status?: unknown };
  const code = typeof statusCode === 'number' ? statusCode : status;
  return typeof code === 'number' && code >= 400 && code <= 599 ? code : undefined;
}

/**
 * The Fastify plugin (4 and 5): `fastify.register(fastifyTracing, { tracer, ...options })`.
 *
 * Each request gets one SERVER span, started in an `onRequest` hook: joined
 * to a B3 caller, a child of a W3C one, a new trace otherwise; named
 * `GET /users/:id` by the matched route's template (tagged `http.route`), the
 * method alone for a 404. The rest of the request's lifecycle (later hooks,
 * body parsing, the handler and its awaits, the error handler) runs with the
 * span active, and so do listeners on `request.raw` / `reply.raw`. It ends
 * when the response finishes, when the client goes away (`http.aborted`),
 * when a streamed reply's stream has been sent, or at the `timeout`.
 *
 * Errors that reach Fastify's `onError` hook (thrown, rejected, or sent with
 * `reply.send(error)`) are recorded as the span's `error`, unless they carry a
 * 4xx `statusCode` (a client's mistake, such as invalid JSON or a failed
 * schema) or the tracer's `ignoredErrors` ignores them; a 5xx reply without
 * an error is tagged with its status.
 *
 * The plugin is not encapsulated (`Symbol.for('skip-override')`), so its
 * hooks apply to every route of the instance it is registered on, the
 * routes of plugins registered before it included. Register it first: an
 * `onRequest` hook added before it runs with no span active. The options are
 * checked when Fastify loads the plugin: a mistake fails `ready()` /
 * `listen()` with an `InvalidOptionError` naming each problem.
 *
 * ```js
 * const app = Fastify();
 * await app.register(fastifyTracing, { tracer, skip: ['/healthz'] });
 * app.get('/users/:id', async (request) => ({ id: request.params.id }));
 * ```
 */
export const fastifyTracing: FastifyTracingPlugin = function fastifyTracing(instance, options, done) {
  let start: StartServerRequest;
  try {
    start = starterFor(options);
  } catch (error) {
    done(error as Error);
    return;
  }
  instance.addHook('onRequest', function tracingOnRequest(request, reply, next) {
    // Two registrations on nested instances would both see the request: the first one traces it.
    if (tracedOf(request) !== undefined) return next();
    const traced = start(request.raw, reply.raw);
    // An assignment, not Reflect.set (the reason is stateFor's, lib/object-state.ts); checked, since a store
    // can say yes and keep nothing.
    const own = request as unknown as Record<symbol, unknown>;
    try {
      own[TRACED] = traced;
      if (own[TRACED] !== traced) unextensible.set(request, traced);
    } catch {
      unextensible.set(request, traced);
    }
    // Only a span that records takes a name: Fastify's routeOptions getter (4.10+ and 5) makes a new object at each read.
    if (traced.span?.isRecording === true) {
      const route = routeOf(request);
      if (route !== undefined) traced.route(route);
    }
    // Fastify runs the rest of the lifecycle (the later hooks, the body's parsing, the handler) from this
    // continuation, synchronously or from promises and events begun inside it, so running it inside the span's
    // AsyncLocalStorage context is what makes the span active for all of it; req/res are bound for the rest.
    traced.run(() => next());
  });
  instance.addHook('onError', function tracingOnError(request, _reply, error, next) {
    const traced = tracedOf(request);
    const status = statusOf(error);
    if (traced !== undefined && !(status !== undefined && status < 500)) traced.fail(error);
    next();
  });
  done();
};

// Not encapsulated, as fastify-plugin would make it: the hooks reach every route of the app, not only the
// routes registered inside the plugin (it has none). The meta names it for `hasPlugin('ziptrace')` and
// other plugins' `dependencies`, and refuses a Fastify major it was not written for.
Object.assign(fastifyTracing, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'ziptrace',
  [Symbol.for('plugin-meta')]: { name: 'ziptrace', fastify: '4.x || 5.x' },
});
