// OpenTelemetry: the SDK's BasicTracerProvider with the AsyncLocalStorage
// context manager, a BatchSpanProcessor, and an exporter that does what
// @opentelemetry/exporter-zipkin does before its HTTP request: the package's
// own toZipkinSpan() on each span, then JSON.stringify of the batch.
import { createRequire } from 'node:module';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { BATCH, makeCounts, runChild, wireBytes } from './harness.mjs';

// toZipkinSpan is not exported from the package's entry point; the exporter
// itself calls it from build/src/transform.js (see build/src/zipkin.js, _sendSpans).
const require = createRequire(import.meta.url);
const { toZipkinSpan, defaultStatusCodeTagName, defaultStatusErrorTagName } = require('@opentelemetry/exporter-zipkin/build/src/transform.js');

const counts = makeCounts();
const SERVICE_NAME = 'service.name';

/** ZipkinExporter.export + _sendSpans + the node prepareSend, minus the HTTP request. */
class ZipkinJsonExporter {
  export(spans, done) {
    const serviceName = String(spans[0].resource.attributes[SERVICE_NAME] || 'unknown_service');
    const zipkinSpans = spans.map((span) =>
      toZipkinSpan(span, String(span.attributes[SERVICE_NAME] || serviceName), defaultStatusCodeTagName, defaultStatusErrorTagName),
    );
    const payload = JSON.stringify(zipkinSpans);
    if (counts.sample === undefined) counts.sample = JSON.stringify(zipkinSpans[0]);
    counts.spans += spans.length;
    counts.bytes += wireBytes(payload);
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown() {}
  async forceFlush() {}
}

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

// Only service.name in the resource (no telemetry.sdk.* attributes), so the
// exporter adds one resource tag per span rather than four.
const resource = resourceFromAttributes({ [SERVICE_NAME]: 'bench' });
const processor = new BatchSpanProcessor(new ZipkinJsonExporter(), { maxExportBatchSize: BATCH });
const tracer = new BasicTracerProvider({ resource, sampler: new AlwaysOnSampler(), spanProcessors: [processor] }).getTracer('bench');
const unsampledTracer = new BasicTracerProvider({ resource, sampler: new AlwaysOffSampler(), spanProcessors: [processor] }).getTracer('bench');
// Exports to an exporter that drops the spans: the tracer's own cost, without the encoding.
const droppingProcessor = new BatchSpanProcessor(
  { export: (spans, done) => done({ code: ExportResultCode.SUCCESS }), shutdown: async () => {}, forceFlush: async () => {} },
  { maxExportBatchSize: BATCH },
);
const droppingTracer = new BasicTracerProvider({ resource, sampler: new AlwaysOnSampler(), spanProcessors: [droppingProcessor] }).getTracer('bench');

// startActiveSpan makes the span active for the callback; the callback ends it.
const leaf = async (span) => {
  try {
    await null;
  } finally {
    span.end();
  }
};
const child3 = async (span) => {
  try {
    await tracer.startActiveSpan('child-3', leaf);
  } finally {
    span.end();
  }
};
const child2 = async (span) => {
  try {
    await tracer.startActiveSpan('child-2', child3);
  } finally {
    span.end();
  }
};
const child1 = async (span) => {
  try {
    await tracer.startActiveSpan('child-1', child2);
  } finally {
    span.end();
  }
};

await runChild(
  'opentelemetry',
  {
    sampled: { spans: 1, encodes: true, op: () => tracer.startActiveSpan('op', leaf) },
    nested: { spans: 4, encodes: true, op: () => tracer.startActiveSpan('root', child1) },
    unsampled: { spans: 1, encodes: false, op: () => unsampledTracer.startActiveSpan('op', leaf) },
    notEncoded: { spans: 1, encodes: false, op: () => droppingTracer.startActiveSpan('op', leaf) },
  },
  { flush: () => Promise.all([processor.forceFlush(), droppingProcessor.forceFlush()]), counts },
);
