/**
 * `ziptrace/koa`: tracing for Koa 2 and 3 apps. A subpath of its own so that
 * `import 'ziptrace'` never loads it, and so that only an app that uses Koa
 * asks for it; nothing here imports Koa itself.
 *
 * This module only re-exports; each export is documented where it is defined.
 */
export { koaTracing } from './instrumentation/koa.js';
export type { KoaContextLike, KoaNext, KoaTracingMiddleware, KoaTracingOptions } from './instrumentation/koa.js';
