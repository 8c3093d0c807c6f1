/**
 * Express 4 and 5 without the app's code: when Express loads, its
 * application prototype is patched so that every app runs ziptrace's Express
 * integration (lib/instrumentation/express.ts) first and records what its
 * handlers threw, as `app.use(expressTracing(tracer))` first and
 * `app.use(expressErrorTracing())` last would.
 *
 * `express.application` is copied into each app when `express()` makes it,
 * so patching it at load time reaches every app; `handle` is where each app
 * (a mounted sub-app too) gets each request, in both majors.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expressErrorTracing, expressTracing } from '../instrumentation/express.js';
import type { ServerOptions } from '../instrumentation/server.js';
import type { Tracer } from '../tracer.js';
import type { ModuleWatcher } from './module-loads.js';

type Next = (error?: unknown) => void;
type Handle = (this: App, req: IncomingMessage, res: ServerResponse, callback?: Next) => unknown;

/** The members of an Express app read here. */
interface App {
  /** Express 4 only: makes `_router`. Its `app.router` is a getter that throws. */
  lazyrouter?: unknown;
  /** Express 4's router, once a route or middleware was added. */
  _router?: Router;
  /** Express 5's router (a getter that makes it). */
  router?: Router;
}

/** Express's router, as far as it is used here. */
interface Router {
  handle: (this: Router, req: IncomingMessage, res: ServerResponse, out: Next) => unknown;
}

/** What `require('express')` gives, as far as it is checked and patched. */
interface ExpressModule {
  application: { handle: Handle; init: unknown };
  Router: unknown;
}

/** Express exports already patched: each load of a cached module gives the same object again. */
const patched = new WeakSet<object>();
/** Routers whose `handle` already records errors. */
const routers = new WeakSet<object>();

/** Whether `exports` is Express (4 or 5, any copy, an alias such as `express4` too), by its shape. */
function isExpress(exports: unknown): exports is ExpressModule {
  if (typeof exports !== 'function') return false;
  const { application, Router, request, response } = exports as unknown as Partial<ExpressModule> & { request?: unknown; response?: unknown };
  return application !== null && typeof application === 'object' && typeof application.handle === 'function' && typeof application.init === 'function' && typeof Router === 'function' && typeof request === 'object' && typeof response === 'object';
}

/** The module watcher that patches each Express loaded to trace every app it makes. */
export function expressLoads(tracer: Tracer, options?: ServerOptions): ModuleWatcher {
  // Made here, so wrong options fail the start, not a request.
  const tracing = expressTracing(tracer, options);
  const recordError = expressErrorTracing();
  const noop = (): void => {};
  return (exports) => {
    if (!isExpress(exports) || patched.has(exports)) return;
    patched.add(exports);
    const handle = exports.application.handle;
    exports.application.handle = function (this: App, req, res, callback) {
      const app = this;
      watchErrors(app, recordError, noop);
      // expressTracing runs the app inside the request's span; a sub-app's request already has one and goes on.
      tracing(req, res, () => void handle.call(app, req, res, callback));
    };
  };
}

/**
 * Wraps the app's router so the error its chain ends with (the one Express
 * would give its final handler, or a sub-app its parent) is recorded on the
 * request's span first: the error middleware ziptrace's integration has the
 * app mount last, added here without mounting anything.
 */
function watchErrors(app: App, recordError: ReturnType<typeof expressErrorTracing>, noop: () => void): void {
  // Express 4 keeps its router in `_router` (and throws from `app.router`); Express 5 makes it in `app.router`.
  const router = typeof app.lazyrouter === 'function' ? app._router : app.router;
  if (router === undefined || router === null || typeof router.handle !== 'function' || routers.has(router)) return;
  routers.add(router);
  const handle = router.handle;
  router.handle = function (req, res, out) {
    if (typeof out !== 'function') return handle.call(this, req, res, out);
    return handle.call(this, req, res, function (this: unknown, error?: unknown) {
      // 'route' and 'router' are how Express's routers skip on, not errors.
      if (error !== undefined && error !== null && error !== 'route' && error !== 'router') recordError(error, req, res, noop);
      return out.apply(this, arguments as unknown as [unknown]);
    });
  };
}
