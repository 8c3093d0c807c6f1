/**
 * The options of HttpReporter (and of OtlpReporter, which takes the same ones
 * and adds its own): their types, their defaults, and the checks
 * that turn a programmer's mistake (a typo in a key, milliseconds given as a
 * string, a `tls` option on an `http:` URL) into one InvalidOptionError that
 * names every problem and what to give instead. The url check is also
 * exported alone (`collectorUrlProblem`), for a caller that checks a
 * collector's URL before it builds a reporter.
 */
import { InvalidOptionError } from '../errors.js';
import { unknownKeys, type ListsEvery } from '../option-keys.js';
import { isLoopbackUrl } from './loopback.js';
import { type ReporterLogger, guardedLogger, silentLogger, throttledWarnings } from './warnings.js';

/** Options of {@link HttpReporter}. Times are milliseconds, sizes bytes of JSON. */
export interface HttpReporterOptions {
  /** The collector: `http://zipkin:9411` (then `/api/v2/spans` is added) or a full `…/api/v2/spans` URL. */
  url: string | import('../globals.js').GlobalURL;
  /** How long a span may wait for its batch to fill before it is sent. Default 1000. */
  batchInterval?: number;
  /** Spans per request at most. Default 1000. */
  maxBatchSpans?: number;
  /** JSON bytes per request at most; a single span larger than this is dropped as too large. Default 1 MiB. */
  maxBatchBytes?: number;
  /** Spans held at once, waiting or in flight; past it new spans are dropped. Default 10,000. */
  maxQueueSpans?: number;
  /** Bytes held at once, waiting or in flight; past it new spans are dropped. Default 16 MiB. */
  maxQueueBytes?: number;
  /**
   * Requests in flight at once (a request waiting to be retried counts). A
   * batch the collector refuses as too large (413) is split in two halves
   * sent at once, which may add one request for that moment. Default 2.
   */
  maxInFlight?: number;
  /** Deadline of one request, from sending to the end of the answer. Default 10,000. */
  timeout?: number;
  /** Retries of a batch after a connection error, timeout, 5xx, 408 or 429. Default 5. */
  maxRetries?: number;
  /** Exponential backoff between retries, with jitter: first delay and cap. Default 200 and 30,000. */
  retryBackoff?: { initial?: number; max?: number };
  /**
   * gzip bodies of at least `threshold` bytes (default 1024); `false` never.
   * Default: on, except for a collector on this machine by its URL
   * (`localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`, IPv4-mapped
   * `127.x.x.x`, `0.0.0.0`, `[::]`), where compressing saves no network and
   * costs both sides CPU (about 1.2 µs a span for the app: the README's
   * Speed section); `true` gzips there too (a tunnel to a far collector, say).
   */
  gzip?: boolean | { threshold?: number };
  /**
   * How long the process's exit may wait for the spans still queued, in
   * milliseconds. On a natural exit (`beforeExit`) it is the flush's
   * deadline. On `process.exit()` or an uncaught exception, where nothing
   * asynchronous can run, the spans queued and not yet on the wire are
   * POSTed from a child process that the exit waits for, at most this long
   * (a request already sent is not sent again: it may have arrived). With
   * nothing queued no child is started. `0` turns both off. Default 2000.
   */
  exitTimeout?: number;
  /** Extra request headers (authentication for a hosted collector, say). */
  headers?: Readonly<Record<string, string>>;
  /** Where failures are told: default `process.emitWarning`, once per kind per minute; `false` for silence. */
  logger?: ReporterLogger | false;
  /**
   * TLS for an `https:` collector: a private CA (`ca`), a client certificate
   * (`cert`, `key`) for mutual TLS. Certificates are verified unless
   * `rejectUnauthorized: false`.
   */
  tls?: HttpReporterTlsOptions;
}

/** What {@link HttpReporterOptions.tls} takes: the `node:tls` options a collector connection may need. */
export interface HttpReporterTlsOptions {
  // Uint8Array rather than Buffer (which is one) so that the types need no @types/node.
  /**
   * The certificate authorities to trust for the collector's certificate, in
   * PEM (`fs.readFileSync("ca.pem")`): a private CA, or the collector's own
   * self-signed certificate. Default: Node's bundled root CAs.
   */
  ca?: string | Uint8Array | (string | Uint8Array)[];
  /** The client certificate chain, in PEM, for a collector that asks for one (mutual TLS). Goes with `key`. */
  cert?: string | Uint8Array | (string | Uint8Array)[];
  /** The client certificate's private key, in PEM, for mutual TLS. Goes with `cert`. */
  key?: string | Uint8Array | (string | Uint8Array)[];
  /** The passphrase of an encrypted `key`. */
  passphrase?: string;
  /** The name the collector's certificate must carry (SNI and verification), when it is not the url's host name. */
  servername?: string;
  /**
   * Whether a collector whose certificate does not verify is refused. Default
   * true; `false` sends spans to any certificate, a test setup's choice only.
   */
  rejectUnauthorized?: boolean;
}

/** @internal Every option, checked, with its default filled in (see {@link HttpReporterOptions} for each). */
export interface ResolvedHttpReporterOptions {
  /** The full spans URL (`…/api/v2/spans`; OtlpReporter's `…/v1/traces`), a copy of the one given. */
  readonly url: URL;
  /** `batchInterval`. */
  readonly batchInterval: number;
  /** `maxBatchSpans`. */
  readonly maxBatchSpans: number;
  /** `maxBatchBytes`. */
  readonly maxBatchBytes: number;
  /** `maxQueueSpans`. */
  readonly maxQueueSpans: number;
  /** `maxQueueBytes`. */
  readonly maxQueueBytes: number;
  /** `maxInFlight`. */
  readonly maxInFlight: number;
  /** `timeout`. */
  readonly timeout: number;
  /** `maxRetries`. */
  readonly maxRetries: number;
  /** `exitTimeout`. */
  readonly exitTimeout: number;
  /** `retryBackoff.initial`. */
  readonly backoffInitial: number;
  /** `retryBackoff.max`. */
  readonly backoffMax: number;
  /** `gzip.threshold`; `Infinity` with `gzip: false`, or with no `gzip` for a collector on this machine. */
  readonly gzipThreshold: number;
  /** `headers`, as given. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** `logger`: the default throttled one, the silent one for `false`, or the one given. */
  readonly logger: ReporterLogger;
  /** `tls`, as given. */
  readonly tls: HttpReporterTlsOptions | undefined;
}

/**
 * @internal Which reporter the options are for, in its messages, and where
 * its collector takes spans: HttpReporter and OtlpReporter share these options
 * and their checks, and differ only here.
 */
export interface CollectorKind {
  /** The reporter's name, as the messages say it: `HttpReporter`. */
  readonly reporter: string;
  /** The path added to a base URL that does not end with it: `/api/v2/spans`. */
  readonly path: string;
  /** A base URL, as the messages give it for an example: `http://127.0.0.1:9411`. */
  readonly example: string;
}

/** @internal HttpReporter's: a Zipkin collector. */
export const ZIPKIN_COLLECTOR: CollectorKind = Object.freeze({ reporter: 'HttpReporter', path: '/api/v2/spans', example: 'http://127.0.0.1:9411' });

// Typed against the interfaces both ways, so a new option cannot be forgotten here (nor a stale one kept).
/** @internal Every key of {@link HttpReporterOptions}: those of another reporter built on these options start with them. */
export const HTTP_REPORTER_OPTION_KEYS = [
  'url',
  'batchInterval',
  'maxBatchSpans',
  'maxBatchBytes',
  'maxQueueSpans',
  'maxQueueBytes',
  'maxInFlight',
  'timeout',
  'maxRetries',
  'retryBackoff',
  'gzip',
  'exitTimeout',
  'headers',
  'logger',
  'tls',
] as const satisfies readonly (keyof HttpReporterOptions)[];
const BACKOFF_KEYS = ['initial', 'max'] as const satisfies readonly (keyof NonNullable<HttpReporterOptions['retryBackoff']>)[];
const GZIP_KEYS = ['threshold'] as const satisfies readonly (keyof Exclude<HttpReporterOptions['gzip'], boolean | undefined>)[];
const TLS_KEYS = ['ca', 'cert', 'key', 'passphrase', 'servername', 'rejectUnauthorized'] as const satisfies readonly (keyof HttpReporterTlsOptions)[];
// The other way: a key of the interfaces missing from a list fails to compile here.
type _EveryKeyListed = [
  ListsEvery<(typeof HTTP_REPORTER_OPTION_KEYS)[number], keyof HttpReporterOptions>,
  ListsEvery<(typeof BACKOFF_KEYS)[number], keyof NonNullable<HttpReporterOptions['retryBackoff']>>,
  ListsEvery<(typeof GZIP_KEYS)[number], keyof Exclude<HttpReporterOptions['gzip'], boolean | undefined>>,
  ListsEvery<(typeof TLS_KEYS)[number], keyof HttpReporterTlsOptions>,
];

/**
 * @internal Checks HttpReporter's options and fills in the defaults. Throws one
 * {@link InvalidOptionError} (`ziptrace: HttpReporter: …`) listing every problem.
 */
export function resolveHttpReporterOptions(options: HttpReporterOptions): ResolvedHttpReporterOptions {
  const problems: string[] = [];
  const resolved = resolveCollectorOptions(options, ZIPKIN_COLLECTOR, HTTP_REPORTER_OPTION_KEYS, problems);
  throwProblems(ZIPKIN_COLLECTOR, problems);
  return resolved;
}

/** @internal Throws the one InvalidOptionError (`ziptrace: <reporter>: …`) naming every problem, if there is any. */
export function throwProblems(kind: CollectorKind, problems: readonly string[]): void {
  if (problems.length > 0) throw new InvalidOptionError(`ziptrace: ${kind.reporter}: ${problems.join('; ')}`);
}

/**
 * @internal The options every reporter built on these (HttpReporter,
 * OtlpReporter) shares, checked with their defaults filled in: the problems
 * are added to `problems`, for the caller to add its own options' and throw
 * them all at once ({@link throwProblems}). `known` lists every key the
 * caller's options take (this module's and its own), for the unknown-key check.
 * Throws at once only when `options` is no object at all.
 */
export function resolveCollectorOptions(options: Omit<HttpReporterOptions, 'url'> & { url: unknown }, kind: CollectorKind, known: readonly string[], problems: string[]): ResolvedHttpReporterOptions {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError(`ziptrace: ${kind.reporter}: options must be an object such as { url: "${kind.example}" }`);
  problems.push(...unknownKeys(options, known, kind.reporter));
  const url = collectorUrl(options.url, kind, problems);
  const backoff = options.retryBackoff ?? {};
  if (isObject(backoff)) problems.push(...unknownKeys(backoff, BACKOFF_KEYS, `${kind.reporter}({ retryBackoff })`));
  // Unset: off for a collector on this machine (see HttpReporterOptions.gzip), on for any other.
  const gzipOption = options.gzip ?? !isLoopbackUrl(url);
  if (isObject(gzipOption)) problems.push(...unknownKeys(gzipOption, GZIP_KEYS, `${kind.reporter}({ gzip })`));
  const resolved: ResolvedHttpReporterOptions = {
    url,
    batchInterval: positive(options.batchInterval, 1000, 'batchInterval', problems),
    maxBatchSpans: whole(options.maxBatchSpans, 1000, 'maxBatchSpans', problems),
    maxBatchBytes: whole(options.maxBatchBytes, 1024 * 1024, 'maxBatchBytes', problems),
    maxQueueSpans: whole(options.maxQueueSpans, 10_000, 'maxQueueSpans', problems),
    maxQueueBytes: whole(options.maxQueueBytes, 16 * 1024 * 1024, 'maxQueueBytes', problems),
    maxInFlight: whole(options.maxInFlight, 2, 'maxInFlight', problems),
    timeout: positive(options.timeout, 10_000, 'timeout', problems),
    maxRetries: whole(options.maxRetries, 5, 'maxRetries', problems, 0),
    exitTimeout: exitTimeout(options.exitTimeout, problems),
    backoffInitial: positive(backoff.initial, 200, 'retryBackoff.initial', problems),
    backoffMax: positive(backoff.max, 30_000, 'retryBackoff.max', problems),
    gzipThreshold: gzipOption === false ? Infinity : gzipOption === true ? 1024 : whole(gzipOption.threshold, 1024, 'gzip.threshold', problems, 0),
    headers: options.headers,
    logger: options.logger === false ? silentLogger : options.logger === undefined ? throttledWarnings() : guardedLogger(options.logger),
    tls: options.tls,
  };
  if (options.headers !== undefined && (options.headers === null || typeof options.headers !== 'object')) problems.push('headers must be an object of header names to strings');
  if (options.logger !== undefined && options.logger !== false && typeof options.logger?.warn !== 'function') problems.push('logger must have a warn(message, kind) method, or be false');
  const tls = options.tls;
  if (tls !== undefined) {
    if (!isObject(tls)) problems.push('tls must be an object such as { ca: fs.readFileSync("ca.pem") }');
    else if (url.protocol !== 'https:') problems.push(`tls options need an https: url, got ${url.protocol}`);
    else problems.push(...unknownKeys(tls, TLS_KEYS, `${kind.reporter}({ tls })`));
  }
  return resolved;
}

function isObject(value: unknown): value is object {
  return value !== null && typeof value === 'object';
}

/**
 * What is wrong with `value` as HttpReporter's `url` (a string or URL of an
 * `http:` or `https:` collector), in the words of HttpReporter's own check
 * (`url must be http: or https:, got ftp:`), or `undefined` when it is fine.
 * Builds no reporter: for a caller that checks its options before making one.
 */
export function collectorUrlProblem(value: unknown): string | undefined {
  return parseCollectorUrl(value, ZIPKIN_COLLECTOR).problem;
}

/**
 * @internal
 * Marks a URL as the exact address to post to: no `/api/v2/spans` or
 * `/v1/traces` is added to it, whatever its path. For the zero-code start,
 * where `OTEL_EXPORTER_ZIPKIN_ENDPOINT` and `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
 * are, by OpenTelemetry's definition, used as they are (a proxy's
 * `/custom/traces`); the reporters' own `url` option keeps adding the path to
 * a base. A registered symbol, so a copy of ziptrace loaded beside this one
 * reads the mark too.
 */
export const EXACT_URL: unique symbol = Symbol.for('ziptrace.reporter.exact-url') as never;

/** @internal `href` as a URL marked {@link EXACT_URL}. Throws as `new URL` does on what is no URL. */
export function exactUrl(href: string): import('../globals.js').GlobalURL {
  return Object.defineProperty(new URL(href), EXACT_URL, { value: true, enumerable: false });
}

/** The collector's spans URL (a placeholder when `value` is no URL at all), and what is wrong with `value`, if anything. */
function parseCollectorUrl(value: unknown, kind: CollectorKind): { url: URL; problem: string | undefined } {
  let url: URL;
  try {
    url = value instanceof URL ? new URL(value.href) : new URL(String(value));
  } catch {
    return {
      url: new URL(kind.example + kind.path),
      problem: `url must be the collector's address such as '${kind.example}', got ${JSON.stringify(String(value))}`,
    };
  }
  let problem: string | undefined;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    // 'localhost:9411' parses as the scheme "localhost:": say what was meant.
    const hostPort = /^[a-z0-9.-]+:\d+(\/|$)/i.test(String(value)) ? ` (the scheme is missing: 'http://${String(value)}')` : '';
    problem = `url must be http: or https:, got ${url.protocol}${hostPort}`;
  }
  if ((value as { [EXACT_URL]?: boolean } | null)?.[EXACT_URL] === true) return { url, problem };
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith(kind.path) ? path : path + kind.path;
  return { url, problem };
}

/** The collector's spans URL: a copy of `value` with the kind's path (`/api/v2/spans`) added unless it ends so; its problem, if any, added to `problems`. */
function collectorUrl(value: unknown, kind: CollectorKind, problems: string[]): URL {
  const { url, problem } = parseCollectorUrl(value, kind);
  if (problem !== undefined) problems.push(problem);
  return url;
}

function positive(value: number | undefined, fallback: number, name: string, problems: string[]): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) problems.push(`${name} must be a positive number of milliseconds, got ${String(value)}`);
  return value;
}

/** `exitTimeout`: like the other deadlines, and 0 too, which turns the exit flush and the exit send off. */
function exitTimeout(value: number | undefined, problems: string[]): number {
  if (value === 0) return 0;
  if (value === undefined) return 2000;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) problems.push(`exitTimeout must be a positive number of milliseconds, or 0 for no flush at exit, got ${String(value)}`);
  return value;
}

function whole(value: number | undefined, fallback: number, name: string, problems: string[], min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) problems.push(`${name} must be a whole number of at least ${min}, got ${String(value)}`);
  return value;
}
