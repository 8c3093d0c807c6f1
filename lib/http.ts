/**
 * `ziptrace/http`: tracing for Node's HTTP servers and clients. A subpath of
 * its own so that `import 'ziptrace'` never loads instrumentation (nor what
 * it patches or subscribes to); an app asks for it.
 *
 * This module only re-exports; each export is documented where it is defined.
 */
export { instrumentHttpClients } from './instrumentation/http-client.js';
export type { HttpClientOptions } from './instrumentation/http-client.js';
export { tracedHandler } from './instrumentation/http-server.js';
export type { TracedHandlerOptions } from './instrumentation/http-server.js';
export { serverRequests, startServerRequest, DEFAULT_SERVER_TIMEOUT } from './instrumentation/server.js';
export type { ServerOptions, ServerRequest, StartServerRequest } from './instrumentation/server.js';
