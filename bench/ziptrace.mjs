// ziptrace, from the built dist/ (run.mjs builds it when missing), or from
// the dist/ directory named by ZIPTRACE_DIST (run.mjs --dist), to compare builds.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { BATCH, makeCounts, runChild } from './harness.mjs';

const dist = process.env.ZIPTRACE_DIST ? pathToFileURL(`${process.env.ZIPTRACE_DIST}/`).href : new URL('../dist/', import.meta.url).href;
const { createTracer } = await import(new URL('esm/index.mjs', dist).href);
// HttpReporter's own queue, and the hand-off by which the tracer gives it each span (internal modules of the same build).
const internal = createRequire(import.meta.url);
const { SpanQueue } = internal(new URL('cjs/reporting/span-queue.js', dist).pathname);
const { REPORT_FINISHED } = internal(new URL('cjs/encoding/zipkin-bytes.js', dist).pathname);

const counts = makeCounts();

/**
 * Takes finished spans as the tracer hands them to HttpReporter (by
 * REPORT_FINISHED: each span written straight into the queue's bytes), in
 * HttpReporter's own SpanQueue, and takes every BATCH of them as the body of
 * POST /api/v2/spans, as HttpReporter does before sending. All of it happens
 * inside the timed loop, so it is counted. Each body is read here at once and
 * then given back as free (delivered(batch, true)), as HttpReporter gives it
 * back once its request wrote all of it: the queue writes later bodies into
 * it, as it does behind a real HttpReporter (a fresh body each batch would
 * charge every span about 0.1 µs of page faults no reporter pays).
 */
class EncodingReporter {
  queue = new SpanQueue({ maxQueueSpans: 4 * BATCH, maxQueueBytes: 64 * 1024 * 1024, maxBatchSpans: BATCH, maxBatchBytes: 64 * 1024 * 1024 });
  report() {
    throw new Error('the tracer hands HttpReporter its spans by REPORT_FINISHED');
  }
  [REPORT_FINISHED](span, endpointPart) {
    this.queue.addFinished(span, endpointPart);
    if (this.queue.full()) this.encodeBatch();
  }
  encodeBatch() {
    for (let batch = this.queue.take(); batch !== undefined; batch = this.queue.take()) {
      if (counts.sample === undefined) counts.sample = batch.spans[0];
      counts.spans += batch.count;
      counts.bytes += batch.body.length;
      this.queue.delivered(batch, true);
    }
  }
}

const reporter = new EncodingReporter();
const tracer = createTracer({ serviceName: 'bench', reporter, global: false });
const unsampledTracer = createTracer({ serviceName: 'bench', reporter, sampleRate: 0, global: false });
// Reports to a reporter that drops the spans: the tracer's own cost, without the encoding.
const droppingTracer = createTracer({ serviceName: 'bench', reporter: { report() {} }, global: false });

const leaf = async () => {
  await null;
};
const child3 = async () => {
  await tracer.withSpan('child-3', leaf);
};
const child2 = async () => {
  await tracer.withSpan('child-2', child3);
};
const child1 = async () => {
  await tracer.withSpan('child-1', child2);
};

await runChild(
  'ziptrace',
  {
    // A span made active across an await, finished when the function's promise settles.
    sampled: { spans: 1, encodes: true, op: () => tracer.withSpan('op', leaf) },
    // A root and three children, each active under the previous one.
    nested: { spans: 4, encodes: true, op: () => tracer.withSpan('root', child1) },
    unsampled: { spans: 1, encodes: false, op: () => unsampledTracer.withSpan('op', leaf) },
    notEncoded: { spans: 1, encodes: false, op: () => droppingTracer.withSpan('op', leaf) },
  },
  { flush: async () => reporter.encodeBatch(), counts, info: { dist: process.env.ZIPTRACE_DIST ?? 'dist' } },
);
