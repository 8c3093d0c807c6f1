// ziptrace in the reporting benchmark: createTracer with an HttpReporter to
// the loopback collector, with its default gzip (off: the collector is on this
// machine) or with `--gzip on` (gzip: true, a remote collector's default), from
// the built dist/ or the dist/ named by ZIPTRACE_DIST. With `--span-only`, the
// same spans with a reporter that drops what it gets and no collector: it takes
// the finished span as HttpReporter does (REPORT_FINISHED, an internal method of
// the same build), so the tracer makes nothing for it, and the span only costs
// what it costs before HttpReporter's part. (A reporter with only `report()`
// would have the tracer build a Zipkin span object for it, which HttpReporter
// never gets: the way out, the difference, would look cheaper than it is.)
// See bench/reporting.mjs.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { BATCH, INTERVAL_MS, SPAN_ONLY, ZIPTRACE_QUEUE, collectorUrl, runReportingChild } from './reporting-child.mjs';

const entry = process.env.ZIPTRACE_DIST ? pathToFileURL(`${process.env.ZIPTRACE_DIST}/esm/index.mjs`).href : '../dist/esm/index.mjs';
const { createTracer, HttpReporter } = await import(entry);
// The ESM entry re-exports the CommonJS build: this is the symbol that build's tracer looks for.
const internal = createRequire(import.meta.url);
const zipkinBytes = process.env.ZIPTRACE_DIST ? `${process.env.ZIPTRACE_DIST}/cjs/encoding/zipkin-bytes.js` : '../dist/cjs/encoding/zipkin-bytes.js';
const { REPORT_FINISHED } = internal(zipkinBytes);

// A sampled span with two tags, active across an await, finished when the function's promise settles.
const body = async (span) => {
  span.tag('http.method', 'GET');
  span.tag('http.path', '/api/items');
  await null;
};

if (SPAN_ONLY) {
  // Counting what it is handed is all it does: the check that every span was finished and handed over.
  let reported = 0;
  const reporter = {
    report() {
      throw new Error('the tracer hands this reporter its spans by REPORT_FINISHED, as it does HttpReporter');
    },
    [REPORT_FINISHED]() {
      reported++;
    },
  };
  const tracer = createTracer({ serviceName: 'bench', reporter, global: false });
  runReportingChild('ziptrace, span only', {
    op: () => tracer.withSpan('op', body),
    held: () => 0,
    capacity: ZIPTRACE_QUEUE,
    dropped: () => 0,
    flush: async () => {},
    stats: () => ({ reported }),
    info: { dist: process.env.ZIPTRACE_DIST ?? 'dist', reporter: 'REPORT_FINISHED that only counts (as HttpReporter is handed spans; nothing encoded)' },
  });
} else {
  const gzip = process.argv.includes('on');
  const reporter = new HttpReporter({
    url: collectorUrl(),
    batchInterval: INTERVAL_MS,
    maxBatchSpans: BATCH,
    maxQueueSpans: ZIPTRACE_QUEUE,
    // Left to its default unless asked: plain JSON to a collector on loopback.
    ...(gzip ? { gzip: true } : {}),
    logger: false,
  });
  const tracer = createTracer({ serviceName: 'bench', reporter, global: false });

  runReportingChild(gzip ? 'ziptrace, gzip on' : 'ziptrace', {
    op: () => tracer.withSpan('op', body),
    held: () => reporter.stats().queued,
    capacity: ZIPTRACE_QUEUE,
    dropped: () => reporter.stats().droppedTotal,
    flush: () => reporter.flush(),
    stats: () => {
      const { sent, requests, failedRequests, retries, bytesSent, dropped } = reporter.stats();
      return { sent, requests, failedRequests, retries, bytesSent, dropped };
    },
    info: { dist: process.env.ZIPTRACE_DIST ?? 'dist', batchInterval: INTERVAL_MS, maxBatchSpans: BATCH, maxQueueSpans: ZIPTRACE_QUEUE, gzip: gzip ? 'on (gzip: true; bodies of 1024 bytes or more)' : 'default (off: the collector is on loopback)' },
  });
}
