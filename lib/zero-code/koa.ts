/**
 * Koa 2 and 3 without the app's code: when Koa loads, its Application is
 * patched so that each app puts ziptrace's Koa middleware
 * (lib/instrumentation/koa.ts) first in its chain, which names the span by
 * the route `@koa/router` matched.
 *
 * `callback()` is where Koa composes the middleware an app was given into
 * its request handler (`app.listen()` calls it, and so does an app that
 * passes `app.callback()` to `http.createServer`), so inserting there, once
 * per app, puts the middleware before everything the app `use`d, whatever
 * the order of the app's calls. Koa 3's ESM entry re-exports the CommonJS
 * Application, so an `import Koa from 'koa'` gets the patched class.
 */
import { koaTracing, type KoaTracingMiddleware } from '../instrumentation/koa.js';
import type { ServerOptions } from '../instrumentation/server.js';
import type { Tracer } from '../tracer.js';
import type { ModuleWatcher } from './module-loads.js';

/** The members of a Koa app read and changed here. */
interface KoaApp {
  middleware: unknown[];
}

/** Koa's Application class, as far as it is checked and patched. */
interface KoaClass {
  prototype: { callback: (this: KoaApp, ...args: unknown[]) => unknown; use: unknown; createContext: unknown };
}

/** Application classes already patched. */
const patched = new WeakSet<object>();
/** Apps whose chain already starts with ziptrace's middleware. */
const apps = new WeakSet<object>();

/** Whether `exports` is Koa's Application (2 or 3, any copy or alias), by its shape. */
function isKoa(exports: unknown): exports is KoaClass {
  if (typeof exports !== 'function') return false;
  const prototype = (exports as { prototype?: Partial<KoaClass['prototype']> }).prototype;
  return prototype !== undefined && typeof prototype.callback === 'function' && typeof prototype.use === 'function' && typeof prototype.createContext === 'function';
}

/** The module watcher that patches each Koa loaded to trace every app made from it. */
export function koaLoads(tracer: Tracer, options?: ServerOptions): ModuleWatcher {
  // One middleware for all apps: it holds no per-app state. Made here, so wrong options fail the start.
  const tracing: KoaTracingMiddleware = koaTracing(tracer, options);
  return (exports) => {
    if (!isKoa(exports) || patched.has(exports)) return;
    patched.add(exports);
    const callback = exports.prototype.callback;
    exports.prototype.callback = function (this: KoaApp, ...args: unknown[]) {
      // Straight into the array rather than through use(): Koa 2's use() would warn about nothing, and
      // neither major checks the array again before composing it.
      if (!apps.has(this) && Array.isArray(this.middleware)) {
        apps.add(this);
        this.middleware.unshift(tracing);
      }
      return callback.apply(this, args);
    };
  };
}
