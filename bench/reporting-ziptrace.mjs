// ziptrace in the reporting benchmark: createTracer with an HttpReporter to
// the loopback collector, with its default gzip (off: the collector is on this
// machine) or with `--gzip on` (gzip: true, a remote collector's default), from
// the built dist/ or the dist/ named by ZIPTRACE_DIST. With `--span-only`, the
// same spans with a reporter that drops what it gets (`report() {}`, no
// `reportJson`, so the tracer encodes nothing) and no collector. See
// bench/reporting.mjs.
import { pathToFileURL } from 'node:url';
import { BATCH, INTERVAL_MS, SPAN_ONLY, ZIPTRACE_QUEUE, collectorUrl, runReportingChild } from './reporting-child.mjs';

const entry = process.env.ZIPTRACE_DIST ? pathToFileURL(`${process.env.ZIPTRACE_DIST}/esm/index.mjs`).href : '../dist/esm/index.mjs';
const { createTracer, HttpReporter } = await import(entry);

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
    info: { dist: process.env.ZIPTRACE_DIST ?? 'dist', reporter: 'report() {} (no reportJson: nothing encoded)' },
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
