/**
 * HttpReporter: the reporter that sends spans to a Zipkin collector over
 * HTTP, as the Zipkin v2 JSON list its spans are queued in. All the rest
 * (options, queue, schedule, transport, exit flush, warnings) it shares with
 * OtlpReporter: see http-batch-reporter.ts.
 */
import { HttpBatchReporter, type RequestBody } from './http-batch-reporter.js';
import { resolveHttpReporterOptions, type HttpReporterOptions } from './http-options.js';
import { batchJson, batchJsonBytes, type Batch } from './span-queue.js';

export type { HttpReporterOptions, HttpReporterTlsOptions } from './http-options.js';
export type { HttpReporterStats } from './http-batch-reporter.js';
export type { DroppedSpans } from './span-queue.js';

/**
 * Sends finished spans to a Zipkin-compatible collector (`POST /api/v2/spans`)
 * in batches, off the hot path: `report()` only encodes and enqueues.
 *
 * Bounded (by spans and bytes, in flight included), retried with backoff,
 * timed out, gzipped (except to a collector on this machine), never traced
 * itself, and never throwing: a dead, slow or rude collector costs the app
 * dropped spans, counted in `stats()`.
 */
export class HttpReporter extends HttpBatchReporter {
  /** @throws InvalidOptionError naming every problem with `options`. */
  constructor(options: HttpReporterOptions) {
    super(resolveHttpReporterOptions(options), 'application/json');
  }

  /** @internal The batch as the body of `POST /api/v2/spans`: `[a,b,c]`, measured without measuring again. */
  protected body(batch: Batch): RequestBody {
    return { body: batchJson(batch), bytes: batchJsonBytes(batch) };
  }
}
