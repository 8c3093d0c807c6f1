// ziptrace in the reporting benchmark: createTracer with an HttpReporter to
// the loopback collector, gzip on (its default) or off with `--gzip off`, from
// the built dist/ or the dist/ named by ZIPTRACE_DIST. See bench/reporting.mjs.
import { pathToFileURL } from 'node:url';
import { BATCH, INTERVAL_MS, ZIPTRACE_QUEUE, collectorUrl, runReportingChild } from './reporting-child.mjs';

const entry = process.env.ZIPTRACE_DIST ? pathToFileURL(`${process.env.ZIPTRACE_DIST}/esm/index.mjs`).href : '../dist/esm/index.mjs';
const { createTracer, HttpReporter } = await import(entry);

const gzip = !process.argv.includes('off');
const reporter = new HttpReporter({
  url: collectorUrl(),
  batchInterval: INTERVAL_MS,
  maxBatchSpans: BATCH,
  maxQueueSpans: ZIPTRACE_QUEUE,
  gzip,
  logger: false,
});
const tracer = createTracer({ serviceName: 'bench', reporter, global: false });

// A sampled span with two tags, active across an await, finished when the function's promise settles.
const body = async (span) => {
  span.tag('http.method', 'GET');
  span.tag('http.path', '/api/items');
  await null;
};

runReportingChild(gzip ? 'ziptrace' : 'ziptrace, gzip off', {
  op: () => tracer.withSpan('op', body),
  held: () => reporter.stats().queued,
  capacity: ZIPTRACE_QUEUE,
  dropped: () => reporter.stats().droppedTotal,
  flush: () => reporter.flush(),
  stats: () => {
    const { sent, requests, failedRequests, retries, bytesSent, dropped } = reporter.stats();
    return { sent, requests, failedRequests, retries, bytesSent, dropped };
  },
  info: { dist: process.env.ZIPTRACE_DIST ?? 'dist', batchInterval: INTERVAL_MS, maxBatchSpans: BATCH, maxQueueSpans: ZIPTRACE_QUEUE, gzip: gzip ? 'on, the default (bodies of 1024 bytes or more)' : 'off' },
});
