/**
 * Every `node:http` and `node:https` server's requests as SERVER spans, with
 * no change to the app: the servers' shared `emit` is wrapped so that each
 * `'request'` event starts the request's span (lib/instrumentation/server.ts)
 * and runs the app's request listeners inside it.
 *
 * Why `emit` and not `diagnostics_channel`: Node publishes
 * `http.server.request.start` synchronously just before `'request'`, but a
 * subscriber can only observe it. Making the span active for the listeners
 * would take `AsyncLocalStorage.enterWith`, which ziptrace never uses (see
 * lib/context.ts: it would leak the span into whatever the server does next).
 * Wrapping the emit runs the listeners inside `run()`, on Node 20, 22 and 24
 * alike. The classes' prototypes are patched, not the module's exports, so
 * `import { createServer } from 'node:http'` needs no syncBuiltinESMExports.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import { debug } from '../debug.js';
import { serverRequests, type ServerOptions, type StartServerRequest } from '../instrumentation/server.js';
import type { Tracer } from '../tracer.js';
import { errorMessage } from '../values.js';

type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;

/** Marks our wrapper, so that a second start (another copy of ziptrace) does not wrap it again. */
const WRAPPED = Symbol.for('ziptrace.zero-code.server-emit.v1');

/**
 * Starts tracing the requests of every `http.Server` and `https.Server`,
 * those already made included. The span is the one `tracedHandler` makes;
 * an app that also uses `tracedHandler`, `expressTracing`, `koaTracing` or
 * `fastifyTracing` gets this same span from them, not a second one.
 */
export function traceServers(tracer: Tracer, options?: ServerOptions): void {
  const start = serverRequests(tracer, options, 'ziptrace/register');
  // https.Server inherits from tls.Server, not http.Server: each has its own prototype chain to patch.
  for (const Server of [http.Server, https.Server]) wrapEmit(Server.prototype as unknown as { emit: Emit }, start);
}

function wrapEmit(prototype: { emit: Emit }, start: StartServerRequest): void {
  const emit = prototype.emit;
  if ((emit as unknown as Record<symbol, unknown>)[WRAPPED] === true) return;
  const traced: Emit = function (this: unknown, event, ...args) {
    if (event !== 'request') return emit.call(this, event, ...args);
    let request;
    try {
      request = start(args[0] as IncomingMessage, args[1] as ServerResponse);
    } catch (error) {
      // Tracing never keeps a request from its listeners.
      if (debug.enabled) debug('zero-code: starting a server span failed: %s', errorMessage(error));
      return emit.call(this, event, ...args);
    }
    return request.run(() => emit.call(this, event, ...args));
  };
  Object.defineProperty(traced, WRAPPED, { value: true });
  Object.defineProperty(traced, 'name', { value: emit.name, configurable: true });
  prototype.emit = traced;
}
