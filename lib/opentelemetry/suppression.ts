/**
 * OpenTelemetry's "suppress tracing" mark. Instrumentations set it (through
 * `@opentelemetry/core`'s `suppressTracing`) around work of their own that
 * must not be traced, such as an exporter's request. The key is a registered
 * symbol, so the one made here from the same description is the same key.
 */
import { api, type Context } from './api.js';

/** The key `@opentelemetry/core` keeps the mark under. */
export const SUPPRESS_TRACING_KEY: symbol = api.createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/** Whether tracing is suppressed in `context`. */
export function isSuppressed(context: Context): boolean {
  return context.getValue(SUPPRESS_TRACING_KEY) === true;
}
