/**
 * node:http and node:https servers: a request listener wrapped so each
 * request gets its SERVER span (lib/instrumentation/server.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe } from '../describe.js';
import { InvalidArgumentError } from '../errors.js';
import type { Tracer } from '../tracer.js';
import { serverRequests, type ServerOptions } from './server.js';

/** Options of `tracedHandler`: those of every server integration. */
export type TracedHandlerOptions = ServerOptions;

/**
 * Wraps a request listener of `http.createServer` / `https.createServer` so
 * that each request has a SERVER span, active for the handler, its awaits,
 * and the request's and response's event listeners; it ends when the
 * response finishes, when the client goes away (`http.aborted`), or at the
 * `timeout`. The options are checked here, once.
 *
 * Errors are the handler's: a synchronous throw is tagged and rethrown, as
 * Node would have it; a rejected promise is tagged and the listener returns a
 * promise rejected with the same error, so the process sees the unhandled
 * rejection it would have seen without ziptrace. Neither sends a response:
 * a request left unanswered is ended by the `timeout`.
 *
 * ```js
 * http.createServer(tracedHandler(tracer, (req, res) => res.end('ok'))).listen(8080);
 * ```
 */
export function tracedHandler<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse<Req> = ServerResponse<Req>, R = unknown>(
  tracer: Tracer,
  handler: (req: Req, res: Res) => R,
  options?: TracedHandlerOptions,
): (req: Req, res: Res) => R {
  const start = serverRequests(tracer, options, 'tracedHandler');
  if (typeof handler !== 'function') throw new InvalidArgumentError(`ziptrace: tracedHandler(tracer, handler): handler must be a function (req, res) => ..., got ${describe(handler)}`);
  return function traced(this: unknown, req: Req, res: Res): R {
    // Keeps `this` (the server, for an http.Server listener) as the handler would have had it.
    return start(req, res as unknown as ServerResponse).run(() => handler.call(this, req, res));
  };
}
