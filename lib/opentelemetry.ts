/**
 * `ziptrace/opentelemetry`: `@opentelemetry/api` (an optional peer, `>=1.3 <2`)
 * backed by ziptrace, so that OpenTelemetry-instrumented libraries trace into
 * ziptrace's traces and ziptrace spans nest under theirs. A subpath of its
 * own so that `import 'ziptrace'` never loads the API; importing this without
 * the API installed throws an error that says to install it.
 *
 * This module only re-exports; each export is documented where it is defined.
 */
export { registerOpenTelemetry, createBridge } from './opentelemetry/register.js';
export type { OpenTelemetryBridge } from './opentelemetry/register.js';
export { ZiptraceTracerProvider, ZiptraceOtelTracer } from './opentelemetry/tracer.js';
export { ZiptraceContextManager } from './opentelemetry/context-manager.js';
export { ZiptracePropagator } from './opentelemetry/propagator.js';
export { BridgeSpan } from './opentelemetry/span.js';
