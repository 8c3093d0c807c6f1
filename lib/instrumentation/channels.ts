/**
 * Every `node:diagnostics_channel` name ziptrace subscribes to, in one place,
 * so that what ziptrace listens to can be read (and checked against Node's
 * and undici's documentation) at a glance.
 *
 * Append new names at the end; do not reorder: other modules import these by name.
 */

/**
 * undici (Node's bundled `fetch`, and the `undici` package): a request was
 * made. Published synchronously in the caller's async context, before the
 * request is sent, so `request.addHeader(name, value)` still reaches the
 * wire. One per redirect hop. Message: `{ request }`.
 */
export const UNDICI_REQUEST_CREATE = 'undici:request:create';

/** undici: the response headers arrived. Message: `{ request, response: { statusCode, headers, statusText } }`. */
export const UNDICI_REQUEST_HEADERS = 'undici:request:headers';

/**
 * undici: the response body was received to its end (with its trailers, if
 * any). Not published while a large body waits unread. Message: `{ request, trailers }`.
 */
export const UNDICI_REQUEST_TRAILERS = 'undici:request:trailers';

/** undici: the request failed (connection refused, reset, aborted, body cancelled). Message: `{ request, error }`. */
export const UNDICI_REQUEST_ERROR = 'undici:request:error';

/**
 * Fastify (3.21 and later, so every Fastify 4 and 5): an instance was made,
 * published synchronously inside `fastify()`, before the app's code can
 * register plugins or routes on it. Message: `{ fastify }`, the instance.
 */
export const FASTIFY_INITIALIZATION = 'fastify.initialization';

/**
 * node:http (and node:https): a request was parsed, published synchronously
 * just before the server's `'request'` event, while Node's requests still
 * share one hidden class. Message: `{ request, response, socket, server }`.
 */
export const HTTP_SERVER_REQUEST_START = 'http.server.request.start';
