/**
 * What ziptrace's server integrations keep on a request, in one record under
 * one property.
 *
 * Express gives each request a hidden class of its own (its prototype is
 * swapped per request), so every property added to one copies the whole
 * list of its properties: measured, each cost an Express request about 1.3 kB
 * and several microseconds. The server's handle, Express's route watching and
 * the route and base URL values were six such properties; in one record they
 * are one, made the first time any of them is needed.
 *
 * Registered, so that every copy of ziptrace in the process (an `import` and
 * a `require`, or the copy `ziptrace/register` loaded beside the app's own)
 * finds the same record: one request, one server span, whichever copy started it.
 */
import type { ServerRequest } from './server.js';

const STATE = Symbol.for('ziptrace.request-state.v1');

/** Told of each assignment to a watched request's `route` or `baseUrl`, after it landed. */
export type RouteWatcher = (key: 'route' | 'baseUrl', value: unknown) => void;

/** One request's record. Every field is present from the start, so that all records share one shape. */
export interface RequestState {
  /** The request's server span handle, skipped ones included (lib/instrumentation/server.ts). */
  server: ServerRequest | undefined;
  /** Express's integration state for the request (lib/instrumentation/express.ts), typed there. */
  express: unknown;
  /** What Express assigned to `req.route`, behind ziptrace's accessor. */
  route: unknown;
  /** What Express assigned to `req.baseUrl`, behind ziptrace's accessor. */
  baseUrl: unknown;
  /** Those told of the two assignments, or undefined while nothing watches. */
  watchers: RouteWatcher[] | undefined;
}

/** The request's record, or undefined when it has none yet (or takes none). */
export function stateOf(req: object): RequestState | undefined {
  return (req as Record<symbol, RequestState | undefined>)[STATE];
}

/** The request's record, made now if it has none; undefined for a request that takes no new property (a frozen one, a Proxy that refuses). */
export function stateFor(req: object): RequestState | undefined {
  const existing = (req as Record<symbol, RequestState | undefined>)[STATE];
  if (existing !== undefined) return existing;
  const state: RequestState = { server: undefined, express: undefined, route: undefined, baseUrl: undefined, watchers: undefined };
  return Reflect.set(req, STATE, state) ? state : undefined;
}
