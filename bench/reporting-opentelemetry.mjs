// OpenTelemetry in the reporting benchmark: the SDK's BasicTracerProvider
// with the AsyncLocalStorage context manager, a BatchSpanProcessor and
// @opentelemetry/exporter-zipkin's ZipkinExporter to the loopback collector
// (uncompressed JSON: the exporter has no compression). With `--span-only`,
// the same spans with a span processor that does nothing on end in place of
// the BatchSpanProcessor, and no collector. See bench/reporting.mjs.
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { BATCH, INTERVAL_MS, OTEL_QUEUE, SPAN_ONLY, collectorUrl, runReportingChild } from './reporting-child.mjs';

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

// Only service.name in the resource, as in bench/opentelemetry.mjs.
const resource = resourceFromAttributes({ 'service.name': 'bench' });

// A sampled span with two attributes, active across an await; the callback ends it.
const body = async (span) => {
  try {
    span.setAttribute('http.method', 'GET');
    span.setAttribute('http.path', '/api/items');
    await null;
  } finally {
    span.end();
  }
};

if (SPAN_ONLY) {
  // NoopSpanProcessor's four methods, and a count of the spans ended: the check that every span was made and ended.
  let ended = 0;
  const processor = {
    onStart() {},
    onEnd() {
      ended++;
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const tracer = new BasicTracerProvider({ resource, sampler: new AlwaysOnSampler(), spanProcessors: [processor] }).getTracer('bench');
  runReportingChild('opentelemetry, span only', {
    op: () => tracer.startActiveSpan('op', body),
    held: () => 0,
    capacity: OTEL_QUEUE,
    dropped: () => 0,
    flush: () => processor.forceFlush(),
    stats: () => ({ reported: ended }),
    info: { spanProcessor: 'does nothing on end (in place of the BatchSpanProcessor)' },
  });
} else {
  const exporter = new ZipkinExporter({ url: `${collectorUrl()}/api/v2/spans` });
  const processor = new BatchSpanProcessor(exporter, { maxExportBatchSize: BATCH, scheduledDelayMillis: INTERVAL_MS, maxQueueSize: OTEL_QUEUE });
  const tracer = new BasicTracerProvider({ resource, sampler: new AlwaysOnSampler(), spanProcessors: [processor] }).getTracer('bench');

  // The processor's drop counter (_droppedSpansCount) is reset whenever a span
  // is accepted again, so count drops here, by the processor's own rule
  // (_finishedSpans at maxQueueSize), without changing what it does.
  let dropped = 0;
  const addToBuffer = processor._addToBuffer;
  if (typeof addToBuffer !== 'function' || !Array.isArray(processor._finishedSpans)) throw new Error('BatchSpanProcessor internals changed: cannot count drops');
  processor._addToBuffer = function (span) {
    if (this._finishedSpans.length >= this._maxQueueSize) dropped++;
    return addToBuffer.call(this, span);
  };

  runReportingChild('opentelemetry', {
    op: () => tracer.startActiveSpan('op', body),
    held: () => processor._finishedSpans.length,
    capacity: OTEL_QUEUE,
    dropped: () => dropped,
    flush: () => processor.forceFlush(),
    info: { maxExportBatchSize: BATCH, scheduledDelayMillis: INTERVAL_MS, maxQueueSize: OTEL_QUEUE, compression: 'none (ZipkinExporter sends plain JSON)' },
  });
}
