/**
 * The one door to `@opentelemetry/api`, an optional peer: nothing else in
 * ziptrace names it at run time. Loaded with `require` so that a missing
 * package says what to install, instead of Node's bare "Cannot find module".
 * The API keeps its globals on `globalThis`, so the copy loaded here and the
 * application's own (ESM or CommonJS) share one registration.
 */
import type * as OpenTelemetryApi from '@opentelemetry/api';

export type {
  Attributes,
  AttributeValue,
  Context,
  ContextManager,
  Exception,
  HrTime,
  Link,
  Span as OtelSpan,
  SpanContext,
  SpanOptions as OtelSpanOptions,
  SpanStatus,
  TextMapGetter,
  TextMapPropagator,
  TextMapSetter,
  TimeInput,
  Tracer as OtelTracer,
  TracerProvider,
} from '@opentelemetry/api';

/** The peer's range this bridge is written against (package.json's peerDependencies). */
export const API_RANGE = '>=1.3 <2';

/** Loads the API, or throws an error naming the package to install. */
export function loadApi(load: (id: string) => unknown): typeof OpenTelemetryApi {
  try {
    return load('@opentelemetry/api') as typeof OpenTelemetryApi;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error(`ziptrace/opentelemetry needs @opentelemetry/api (${API_RANGE}), which is not installed: npm install @opentelemetry/api`, { cause: error });
  }
}

/** `@opentelemetry/api`, as the application has it installed. */
export const api: typeof OpenTelemetryApi = loadApi(require);
