/**
 * OtlpReporter: the reporter that sends spans over OTLP/HTTP
 * (`POST {url}/v1/traces`), to an OpenTelemetry Collector, Jaeger v2, Grafana
 * Tempo or any OTLP receiver, as protobuf (the default) or OTLP/JSON. Its
 * options, queue, schedule, transport, exit flush and warnings are
 * HttpReporter's (http-batch-reporter.ts); only the body differs. Spans are
 * queued as Zipkin v2 JSON, as for HttpReporter, and each batch is turned
 * into an OTLP request when it is sent, off the request path.
 *
 * OTLP answers: 200 is taken (a partial-success body is not read: the
 * rejected spans it may count are not subtracted from `sent`); 429 and 5xx
 * are retried, honouring `Retry-After`; 413 splits the batch once; another 4xx
 * (400: the collector could not read it) drops it. Retrying every 5xx and 408
 * is HttpReporter's policy, kept here: the OTLP specification names only 429,
 * 502, 503 and 504 as retryable, and a 500 retried costs at most `maxRetries`
 * attempts.
 */
import { describe } from '../describe.js';
import { encodeOtlpJson, OTLP_JSON_CONTENT_TYPE } from '../encoding/otlp-json.js';
import { encodeOtlpProtobuf, OTLP_PROTOBUF_CONTENT_TYPE } from '../encoding/otlp-protobuf.js';
import { isSpanId, isTraceId } from '../ids.js';
import { type ListsEvery } from '../option-keys.js';
import type { ZipkinSpan } from '../types.js';
import { HttpBatchReporter, type HttpReporterStats, type RequestBody } from './http-batch-reporter.js';
import { HTTP_REPORTER_OPTION_KEYS, resolveCollectorOptions, throwProblems, type CollectorKind, type HttpReporterOptions, type ResolvedHttpReporterOptions } from './http-options.js';
import { JOINLESS } from './reporter-traits.js';
import type { Batch } from './span-queue.js';

/** How {@link OtlpReporter} encodes its requests: OTLP's binary protobuf, or its JSON mapping. */
export type OtlpEncoding = 'protobuf' | 'json';

/**
 * Options of {@link OtlpReporter}: HttpReporter's (batching, bounds, retries,
 * gzip, timeouts, headers, logger, tls: the same names, defaults and checks),
 * with an OTLP receiver's `url` and the `encoding`. Sizes (`maxBatchBytes`,
 * `maxQueueBytes`) are bytes of the spans as they are held, Zipkin v2 JSON: a
 * protobuf body is smaller, an OTLP/JSON one may be up to about twice as large.
 */
export interface OtlpReporterOptions extends Omit<HttpReporterOptions, 'url'> {
  /**
   * The OTLP/HTTP receiver: its base, `http://127.0.0.1:4318` (then
   * `/v1/traces` is added), or a full `…/v1/traces` URL.
   */
  url: string | import('../globals.js').GlobalURL;
  /** `'protobuf'` (default, `application/x-protobuf`) or `'json'` (OTLP/JSON, `application/json`). */
  encoding?: OtlpEncoding;
}

/** What {@link OtlpReporter.stats} returns: the same counts as HttpReporter's. */
export interface OtlpReporterStats extends HttpReporterStats {}

const OTLP_COLLECTOR: CollectorKind = Object.freeze({ reporter: 'OtlpReporter', path: '/v1/traces', example: 'http://127.0.0.1:4318' });

// Typed against the interface both ways, as HttpReporter's are.
const OPTION_KEYS = [...HTTP_REPORTER_OPTION_KEYS, 'encoding'] as const satisfies readonly (keyof OtlpReporterOptions)[];
type _EveryKeyListed = ListsEvery<(typeof OPTION_KEYS)[number], keyof OtlpReporterOptions>;

/**
 * Sends finished spans to an OTLP/HTTP receiver (`POST /v1/traces`) in
 * batches, off the hot path, with HttpReporter's bounds, retries, gzip and
 * close deadline. A tracer whose reporters are all OtlpReporters defaults to
 * `supportsJoin: false`: OTLP has no span shared by a client and a server.
 *
 * @example
 * ```ts
 * const tracer = createTracer({ serviceName: 'api', reporter: new OtlpReporter({ url: 'http://127.0.0.1:4318' }) });
 * ```
 */
export class OtlpReporter extends HttpBatchReporter {
  /** How requests are encoded. */
  readonly encoding: OtlpEncoding;
  /** Tells the tracer that OTLP cannot show joined spans (see reporter-traits.ts). */
  readonly [JOINLESS] = true as const;

  /** @throws InvalidOptionError naming every problem with `options`. */
  constructor(options: OtlpReporterOptions) {
    const { resolved, encoding } = resolveOtlpReporterOptions(options);
    super(resolved, encoding === 'json' ? OTLP_JSON_CONTENT_TYPE : OTLP_PROTOBUF_CONTENT_TYPE);
    this.encoding = encoding;
  }

  /**
   * Encodes the span and queues it. Never blocks, never throws. A span whose
   * ids are not ziptrace's (lower-case hex: a 16- or 32-digit trace id,
   * 16-digit span ids, not all zeros) is dropped as unencodable: OTLP carries
   * them as bytes, and no byte form of another text would be the same id.
   */
  override report(span: ZipkinSpan): void {
    if (span === null || typeof span !== 'object' || !isTraceId(span.traceId) || !isSpanId(span.id) || (span.parentId !== undefined && !isSpanId(span.parentId))) {
      this.sender.refuse('unencodable');
      this.logger.warn(`ziptrace: a span without valid ids cannot be sent over OTLP and was dropped (traceId ${describe(span?.traceId)}, id ${describe(span?.id)})`, 'unencodable');
      return;
    }
    super.report(span);
  }

  /** Counts of what was sent, queued, dropped and retried. */
  override stats(): OtlpReporterStats {
    return super.stats();
  }

  /**
   * @internal The batch as an OTLP request. Made again for each attempt rather
   * than kept for retries: a kept body would hold memory the queue's bounds do not count.
   */
  protected body(batch: Batch): RequestBody {
    // The queue's body is already the spans as one JSON list.
    const spans = JSON.parse(batch.text()) as ZipkinSpan[];
    if (this.encoding === 'json') {
      const text = encodeOtlpJson(spans);
      return { body: text, bytes: Buffer.byteLength(text) };
    }
    const bytes = encodeOtlpProtobuf(spans);
    return { body: bytes, bytes: bytes.length };
  }
}

/** OtlpReporter's options checked, HttpReporter's with its own: one InvalidOptionError naming every problem. */
function resolveOtlpReporterOptions(options: OtlpReporterOptions): { resolved: ResolvedHttpReporterOptions; encoding: OtlpEncoding } {
  const problems: string[] = [];
  const resolved = resolveCollectorOptions(options, OTLP_COLLECTOR, OPTION_KEYS, problems);
  const encoding = options.encoding ?? 'protobuf';
  if (encoding !== 'protobuf' && encoding !== 'json') problems.push(`encoding must be 'protobuf' or 'json', got ${describe(encoding)}`);
  throwProblems(OTLP_COLLECTOR, problems);
  return { resolved, encoding };
}
