/**
 * Fastify 4 and 5 without the app's code: Fastify announces each instance it
 * makes on the `fastify.initialization` diagnostics channel (from Fastify
 * 3.21), before `fastify()` returns it; ziptrace's plugin
 * (lib/instrumentation/fastify.ts) is registered on it there. That is the
 * plugin's first registration, ahead of anything the app registers, as the
 * plugin wants; it is not encapsulated, so its hooks reach every route.
 *
 * No module is patched and no load is watched: a channel works the same for
 * `require('fastify')` and `import Fastify from 'fastify'`, on Node 20, 22 and 24.
 */
import diagnostics from 'node:diagnostics_channel';
import { debug } from '../debug.js';
import { FASTIFY_INITIALIZATION } from '../instrumentation/channels.js';
import { fastifyTracing, type FastifyTracingOptions } from '../instrumentation/fastify.js';
import type { ServerOptions } from '../instrumentation/server.js';
import type { Tracer } from '../tracer.js';
import { errorMessage } from '../values.js';

/** What `register` is called with; Fastify's own type is not imported (Fastify is a peer). */
interface Registering {
  register(plugin: typeof fastifyTracing, options: FastifyTracingOptions): unknown;
}

/** Registers ziptrace's Fastify plugin on every Fastify instance made from now on. */
export function traceFastify(tracer: Tracer, options?: ServerOptions): void {
  diagnostics.subscribe(FASTIFY_INITIALIZATION, (message) => {
    const instance = (message as { fastify?: Partial<Registering> } | null)?.fastify;
    if (instance === undefined || instance === null || typeof instance.register !== 'function') return;
    try {
      // register() returns the instance, a thenable: not awaited, Fastify loads the plugin in its own time.
      instance.register(fastifyTracing, { ...options, tracer });
    } catch (error) {
      // Never thrown into fastify(): the app starts untraced instead.
      if (debug.enabled) debug('zero-code: registering the Fastify plugin failed: %s', errorMessage(error));
    }
  });
}
