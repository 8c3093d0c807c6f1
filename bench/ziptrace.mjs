// ziptrace, from the built dist/ (run.mjs builds it when missing), or from
// the dist/ directory named by ZIPTRACE_DIST (run.mjs --dist), to compare builds.
import { pathToFileURL } from 'node:url';
import { BATCH, makeCounts, runChild, wireBytes } from './harness.mjs';

const entry = process.env.ZIPTRACE_DIST ? pathToFileURL(`${process.env.ZIPTRACE_DIST}/esm/index.mjs`).href : '../dist/esm/index.mjs';
const { createTracer, encodeSpan } = await import(entry);

const counts = makeCounts();

/**
 * Takes finished spans as the tracer encodes them for HttpReporter (its
 * `reportJson` path: Zipkin v2 JSON straight from the span), and joins every
 * BATCH of them into the body of POST /api/v2/spans, as HttpReporter does
 * before sending. All of it happens inside the timed loop, so it is counted.
 */
class EncodingReporter {
  spans = [];
  bytes = 0;
  report(span) {
    this.reportJson(encodeSpan(span));
  }
  reportJson(json) {
    // HttpReporter measures each span's bytes for its caps (which also flattens the text once).
    this.bytes += Buffer.byteLength(json);
    this.spans.push(json);
    if (this.spans.length >= BATCH) this.encodeBatch();
  }
  encodeBatch() {
    if (this.spans.length === 0) return;
    const body = `[${this.spans.join(',')}]`;
    if (counts.sample === undefined) counts.sample = this.spans[0];
    counts.spans += this.spans.length;
    counts.bytes += wireBytes(body);
    this.spans = [];
    this.bytes = 0;
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
