/**
 * Koa 2 and 3: a middleware, mounted first, that gives each request its
 * SERVER span (lib/instrumentation/server.ts) and names it by the route
 * `@koa/router` matched.
 *
 * Koa is a peer: nothing here imports it, and the context is typed by the few
 * members read, so the declarations compile without Koa's types.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Tracer } from '../tracer.js';
import { serverRequests, type ServerOptions, type ServerRequest } from './server.js';

/** Options of `koaTracing`: those of every server integration. */
export type KoaTracingOptions = ServerOptions;

/**
 * The part of a Koa context the middleware reads: a Koa 2 or 3
 * `ParameterizedContext` is one.
 */
export interface KoaContextLike {
  /** Node's request, which the server span reads and whose events it binds. */
  readonly req: IncomingMessage;
  /** Node's response, whose `finish` and `close` end the span. */
  readonly res: ServerResponse;
  /** The response body: when it is a Node stream, its errors are recorded on the span. */
  body?: unknown;
}

/** Koa's `next`: the rest of the middleware chain, as a promise. */
export type KoaNext = () => Promise<unknown>;

/** The middleware `koaTracing` gives: `app.use` takes it in Koa 2 and 3. */
export type KoaTracingMiddleware = (ctx: KoaContextLike, next: KoaNext) => Promise<void>;

/** Marks a request already traced, so a second koaTracing (a mounted sub-app's) makes no second span. */
const TRACED = Symbol.for('ziptrace.koa.traced');

/** Where `@koa/router` (and the older `koa-router`) writes the template of the route it matched. */
const MATCHED_ROUTE = '_matchedRoute';

/**
 * Tracing for a Koa app: `app.use(koaTracing(tracer, options))`, before any
 * other middleware, so the span covers them all. Each request gets one
 * SERVER span, joined to its caller (B3 shares the caller's span, W3C makes a
 * child), active for the whole downstream chain, its awaits, and the
 * listeners added to `ctx.req` / `ctx.res` (a body parser's). It is named
 * `GET /users/:id` from the template `@koa/router` matched (`ctx._matchedRoute`),
 * by the method alone when no route matched (a 404): never the raw path. It
 * ends when the response finishes (after Koa has written its final status),
 * when the client goes away (`http.aborted`), or at the `timeout`.
 *
 * Errors thrown downstream pass through unchanged, so Koa answers and logs
 * them as it would without ziptrace (no `app.on('error')` listener is added:
 * one would silence Koa's default log). One Koa answers with a 5xx (a plain
 * `Error`, `ctx.throw(500)`) is recorded as the span's error; one with a 4xx
 * status (`ctx.throw(404)`) is an expected answer, tagged only by its status.
 * The options are checked here, once.
 *
 * ```js
 * const app = new Koa();
 * app.use(koaTracing(tracer, { skip: ['/healthz'] }));
 * app.use(router.routes());
 * ```
 */
export function koaTracing(tracer: Tracer, options?: KoaTracingOptions): KoaTracingMiddleware {
  const start = serverRequests(tracer, options, 'koaTracing');
  return async function ziptraceKoa(ctx: KoaContextLike, next: KoaNext): Promise<void> {
    const marked = ctx.req as IncomingMessage & { [TRACED]?: true };
    if (marked[TRACED] === true) return void (await next());
    try {
      marked[TRACED] = true;
    } catch {
      // A request that takes no new property is traced all the same: a second koaTracing on it gets the same
      // server request back from serverRequests, so it still has one span.
    }
    const request = start(ctx.req, ctx.res);
    // A skipped request runs with no span active, as tracedHandler runs it.
    if (request.skipped) return void (await request.run(next));
    watchRoute(ctx, request);
    // The chain's rejection is caught inside run, so that run does not record it: whether it is the
    // span's error depends on the status Koa will answer with, decided below.
    const outcome = await request.run(async (): Promise<{ error: unknown } | undefined> => {
      try {
        await next();
        return undefined;
      } catch (error) {
        return { error };
      } finally {
        routeOf(ctx, request);
      }
    });
    if (outcome !== undefined) {
      if (answeredWith(outcome.error) >= 500) request.fail(outcome.error);
      // Rethrown for Koa's own handler to answer (the 500 or the error's status) and log.
      throw outcome.error;
    }
    watchStream(ctx.body, request);
  };
}

/**
 * Names the span as soon as the router matches, not only once the chain
 * returns: the response may end first (a handler that writes `ctx.res`
 * itself, a client that leaves during a slow handler), and the span ends
 * with it. The router assigns `ctx._matchedRoute`; an accessor of the same
 * name on this context sees each assignment and keeps the value as a plain
 * property would. Only a sampled request's context: an unsampled span takes
 * no name.
 */
function watchRoute(ctx: KoaContextLike, request: ServerRequest): void {
  const target = ctx as unknown as Record<string | symbol, unknown>;
  if (request.span?.isRecording !== true || Object.prototype.hasOwnProperty.call(target, MATCHED_ROUTE)) return;
  try {
    target[ROUTE_REQUEST] = request;
    Object.defineProperty(target, MATCHED_ROUTE, ROUTE_ACCESSOR);
  } catch {
    // A frozen or exotic context: the route is still read once the chain returns (routeOf).
  }
}

/*
 * The accessor is the same two functions for every context, finding the
 * value and the request under symbols: accessors made for each request give
 * each context a hidden class of its own, which slows every later use of it.
 */
const ROUTE_VALUE = Symbol('ziptrace.koa.matched-route');
const ROUTE_REQUEST = Symbol('ziptrace.koa.request');

const ROUTE_ACCESSOR = {
  configurable: true,
  enumerable: true,
  get(this: Record<symbol, unknown>): unknown {
    return this[ROUTE_VALUE];
  },
  set(this: Record<symbol, unknown>, template: unknown): void {
    this[ROUTE_VALUE] = template;
    if (typeof template !== 'string') return;
    // Nothing thrown into the router's assignment.
    try {
      (this[ROUTE_REQUEST] as ServerRequest | undefined)?.route(template);
    } catch {
      // route() keeps the span's name; failing, the name is read once the chain returns.
    }
  },
} as const satisfies PropertyDescriptor;

/**
 * Reads the route once the chain has returned or thrown, for routers that
 * define `_matchedRoute` their own way. `ctx.routerPath` is not read: it is
 * also the path a user sets to route by, a raw path rather than a template.
 */
function routeOf(ctx: KoaContextLike, request: ServerRequest): void {
  const template = (ctx as unknown as Record<string, unknown>)[MATCHED_ROUTE];
  if (typeof template === 'string') request.route(template);
}

/**
 * The status Koa answers a thrown error with, by its own rule: the error's
 * `status` or `statusCode` when it is an HTTP error status, else 500. Koa 2
 * also answers `ENOENT` (a file not found by koa-send) with 404; Koa 3 answers
 * it with 500, which the span then tags as its error by the status alone.
 */
function answeredWith(error: unknown): number {
  if (error === null || typeof error !== 'object') return 500;
  const { status, statusCode, code } = error as { status?: unknown; statusCode?: unknown; code?: unknown };
  const given = status ?? statusCode;
  if (typeof given === 'number' && Number.isInteger(given) && given >= 400 && given <= 599) return given;
  return code === 'ENOENT' && given === undefined ? 404 : 500;
}

/**
 * A streamed body is piped after the chain returns; its failure would end
 * the response early (Koa 3 destroys it, tagged `http.aborted`) with the
 * status already sent. Listening for it records what failed. Koa listens too,
 * so adding a listener changes nothing of how the error is handled.
 */
function watchStream(body: unknown, request: ServerRequest): void {
  if (body === null || typeof body !== 'object') return;
  const stream = body as { once?: unknown; pipe?: unknown };
  if (typeof stream.once !== 'function' || typeof stream.pipe !== 'function') return;
  (stream as { once(event: 'error', listener: (error: unknown) => void): unknown }).once('error', (error) => request.fail(error));
}
