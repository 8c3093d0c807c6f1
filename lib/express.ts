/**
 * `ziptrace/express`: tracing for Express 4 and 5 apps. A subpath of its own
 * so that `import 'ziptrace'` never loads it; Express itself is a peer, never
 * imported.
 *
 * This module only re-exports; each export is documented where it is defined.
 */
export { expressTracing, expressErrorTracing } from './instrumentation/express.js';
export type { ExpressTracingOptions, ExpressTracingMiddleware, ExpressErrorTracingMiddleware, ExpressNext } from './instrumentation/express.js';
