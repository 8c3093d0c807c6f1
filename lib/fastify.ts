/**
 * `ziptrace/fastify`: the Fastify plugin (Fastify 4 and 5). A subpath of its
 * own so that `import 'ziptrace'` never loads it, and an app that does not
 * use Fastify never needs it installed.
 *
 * This module only re-exports; each export is documented where it is defined.
 */
export { fastifyTracing } from './instrumentation/fastify.js';
export type {
  FastifyTracingOptions,
  FastifyTracingPlugin,
  FastifyInstanceLike,
  FastifyRequestLike,
  FastifyReplyLike,
  FastifyOnRequestHook,
  FastifyOnErrorHook,
} from './instrumentation/fastify.js';
