/**
 * ziptrace: distributed tracing for Node.js, in Zipkin's model, with the
 * current span carried by AsyncLocalStorage.
 *
 * This module only re-exports; each export is documented where it is defined.
 */
export { createTracer, setGlobalTracer, getGlobalTracer, startSpan, withSpan, currentSpan } from './global.js';
export { Tracer } from './tracer.js';
export type { TracerOptions, TracerStats, ErrorClass } from './tracer.js';
export { traced } from './decorators.js';
export type { TracedOptions, MethodDecoratorBoth } from './decorators.js';
export { createEndpoint } from './endpoint.js';
export { DEFAULT_LIMITS } from './span.js';
export type { Span, SpanLimits } from './span.js';
export { MemoryReporter } from './reporting/memory.js';
export type { MemoryReporterOptions } from './reporting/memory.js';
export { encodeSpans, encodeSpan } from './encoding/zipkin-json.js';
export { sampledByRate } from './sampling.js';
export { isTraceId, isSpanId } from './ids.js';
export { currentIds, logFields } from './log-fields.js';
export type { LogIds } from './log-fields.js';
export type {
  TraceContext,
  ContextSource,
  SamplingFlags,
  ExtractedContext,
  Endpoint,
  EndpointAddress,
  ZipkinSpan,
  ZipkinAnnotation,
  Reporter,
  Sampler,
  SamplingRequest,
  SpanKind,
  SpanOptions,
  HasContext,
  TagValue,
  Timestamp,
} from './types.js';
export { HttpReporter } from './reporting/http.js';
export type { HttpReporterOptions, HttpReporterStats, HttpReporterTlsOptions, DroppedSpans } from './reporting/http.js';
export { OtlpReporter } from './reporting/otlp.js';
export type { OtlpReporterOptions, OtlpReporterStats, OtlpEncoding } from './reporting/otlp.js';
export { ConsoleReporter, formatTrace } from './reporting/console.js';
export type { ConsoleReporterOptions } from './reporting/console.js';
export type { ReporterLogger } from './reporting/warnings.js';
export { B3MultiPropagator, B3SinglePropagator, makeHeaders, makeSingleHeader } from './propagation/b3.js';
export { W3CPropagator } from './propagation/w3c.js';
export { CompositePropagator } from './propagation/composite.js';
export type { PropagationFormat, PropagationOptions } from './propagation/composite.js';
export { injectMessage, extractMessage } from './propagation/messaging.js';
export { defaultGetter, defaultSetter } from './propagation/carrier.js';
export type { Getter, Setter } from './propagation/carrier.js';
export type { Propagator } from './propagation/propagator.js';
export type { TracerPropagationOptions } from './tracer.js';
export { ZiptraceError, InvalidOptionError, InvalidArgumentError, InvalidTimestampError } from './errors.js';
export type { ZiptraceErrorCode } from './errors.js';
export type { NewTraceOptions, RemoteSpanOptions } from './tracer.js';
