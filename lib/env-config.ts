/**
 * Configuration from the environment, for the zero-code start
 * (`node --import ziptrace/register app.mjs`): OpenTelemetry's variables with
 * OpenTelemetry's meanings, so that a deployment set up for an OpenTelemetry
 * SDK traces the same way under ziptrace, and `ZIPTRACE_*` variables for what
 * OpenTelemetry's do not cover.
 *
 * Two steps. {@link environmentConfig} reads and checks, and does nothing
 * else (no I/O), so every variable can be tested without a process.
 * {@link tracerOptionsFromEnvironment} then builds the reporters and hands
 * back `createTracer`'s options, or the reason to run untraced.
 *
 * A wrong value is a problem, never a throw: the zero-code start prints each
 * problem once and runs the app untraced. OpenTelemetry's own advice for a
 * value it does not know is "warn and use the default"; ziptrace rather runs
 * untraced, because a default chosen in place of a mistyped sampler or
 * collector may send every trace somewhere nobody looks, or record what was
 * meant to be dropped, with only one line at startup to say so.
 */
import { describe } from './describe.js';
import { closestKey, unknownKeyProblem } from './option-keys.js';
import type { TracerOptions } from './options.js';
import type { PropagationFormat } from './propagation/composite.js';
import { ConsoleReporter } from './reporting/console.js';
import { exactUrl } from './reporting/http-options.js';
import { HttpReporter } from './reporting/http.js';
import type { Reporter } from './types.js';

/** What `OTEL_TRACES_SAMPLER` can name in ziptrace: OpenTelemetry's built-in samplers. */
export type EnvironmentSamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

/** The sampler `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` describe. */
export interface EnvironmentSampler {
  /** The sampler's OpenTelemetry name. Default `parentbased_always_on`. */
  readonly name: EnvironmentSamplerName;
  /** The share of new traces recorded, 0 to 1, decided by trace id: 1 for `always_on`, 0 for `always_off`, the argument (default 1) for the ratios. */
  readonly ratio: number;
  /** `parentbased_*`: an incoming decision (sampled, or B3's debug flag) is kept; otherwise `ratio` decides every trace. */
  readonly parentBased: boolean;
}

/** The header formats `OTEL_PROPAGATORS` names, as `createTracer({ propagation })` takes them. */
export interface EnvironmentPropagation {
  /** Formats read, the first valid one winning. */
  readonly extract: readonly PropagationFormat[];
  /** Formats written. */
  readonly inject: readonly PropagationFormat[];
}

/** What the zero-code start can instrument, for `ZIPTRACE_INSTRUMENT`. */
export type InstrumentationName = 'http' | 'fetch' | 'express' | 'koa' | 'fastify';

/** The options every exporter that sends batches gets: OpenTelemetry's `OTEL_BSP_*`, its exporter's timeout, and the exit deadline. */
export interface EnvironmentBatchOptions {
  /** `OTEL_BSP_SCHEDULE_DELAY`: how long a span waits for its batch. Unset: the reporter's default. */
  readonly batchInterval?: number;
  /** `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`: spans per request at most. */
  readonly maxBatchSpans?: number;
  /** `OTEL_BSP_MAX_QUEUE_SIZE`: spans held at once. */
  readonly maxQueueSpans?: number;
  /** The exporter's `…_TIMEOUT`, else `OTEL_BSP_EXPORT_TIMEOUT`: the deadline of one request. */
  readonly timeout?: number;
  /** `ZIPTRACE_FLUSH_TIMEOUT`: how long the flush at exit may keep an idle process alive. */
  readonly exitTimeout: number;
}

/** What the zero-code start needs to build an OTLP reporter: `new OtlpReporter(options)`. */
export interface OtlpReporterEnvOptions extends EnvironmentBatchOptions {
  /**
   * The full URL to post to, `…/v1/traces`: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it is, or `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/traces` added.
   * Handed to the factory as a URL marked to be used as it is (see `exactUrl` in reporting/http-options.ts): OtlpReporter adds no path to it.
   */
  readonly url: string | import('./globals.js').GlobalURL;
  /** `http/protobuf` (the default) or `http/json`. */
  readonly encoding: 'protobuf' | 'json';
  /** `OTEL_EXPORTER_OTLP_HEADERS`, with `OTEL_EXPORTER_OTLP_TRACES_HEADERS` over it. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION` (or `OTEL_EXPORTER_OTLP_COMPRESSION`): `gzip` is true, `none` false.
   * Unset, left out: OtlpReporter's own default then (gzip, but for a collector on this machine).
   */
  readonly gzip?: boolean;
}

/** What the zero-code start needs to build a Zipkin reporter: `new HttpReporter(options)`. */
export interface ZipkinReporterEnvOptions extends EnvironmentBatchOptions {
  /** `OTEL_EXPORTER_ZIPKIN_ENDPOINT`, default `http://localhost:9411/api/v2/spans`. */
  readonly url: string;
}

/** One exporter `OTEL_TRACES_EXPORTER` names, with its options. */
export type EnvironmentExporter =
  | { readonly kind: 'zipkin'; readonly options: ZipkinReporterEnvOptions }
  | { readonly kind: 'otlp'; readonly options: OtlpReporterEnvOptions }
  | { readonly kind: 'console' };

/** Everything the environment says, checked: what {@link environmentConfig} returns. */
export interface EnvironmentConfig {
  /** `OTEL_SDK_DISABLED=true`: run untraced, and say nothing about the other variables. */
  readonly disabled: boolean;
  /** What is wrong, one line each, naming the variable, its value and what it takes; empty when all is well. Without the `ziptrace:` prefix. */
  readonly problems: readonly string[];
  /** `OTEL_SERVICE_NAME`, else `service.name` of `OTEL_RESOURCE_ATTRIBUTES`, else OpenTelemetry's default `unknown_service:node`. */
  readonly serviceName: string;
  /** `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`. */
  readonly sampler: EnvironmentSampler;
  /** `OTEL_PROPAGATORS`; undefined when unset, for ziptrace's default (reads B3 single, B3 multi and W3C; writes B3 multi and W3C). */
  readonly propagation: EnvironmentPropagation | undefined;
  /** `OTEL_TRACES_EXPORTER`, each at most once; empty for `none`. */
  readonly exporters: readonly EnvironmentExporter[];
  /** `ZIPTRACE_SUPPORTS_JOIN`; default true, but false when an exporter is OTLP (OTLP backends cannot show two spans with one id). */
  readonly supportsJoin: boolean;
  /** `ZIPTRACE_TRACE_ID_128BIT`; default true. */
  readonly traceId128Bit: boolean;
  /** `ZIPTRACE_INSTRUMENT`; default all of them, empty for `none`. */
  readonly instrument: readonly InstrumentationName[];
  /** `ZIPTRACE_FLUSH_TIMEOUT`, milliseconds: how long the flush on a signal or at exit may take. Default 2000. */
  readonly flushTimeout: number;
}

const DEFAULT_SERVICE_NAME = 'unknown_service:node';
const DEFAULT_ZIPKIN_URL = 'http://localhost:9411/api/v2/spans';
const DEFAULT_OTLP_URL = 'http://localhost:4318/v1/traces';
const DEFAULT_FLUSH_TIMEOUT = 2000;
const MAX_FLUSH_TIMEOUT = 60_000;
/** OpenTelemetry's ceiling for whole-number variables (2³¹ − 1). */
const MAX_WHOLE = 2 ** 31 - 1;

const SAMPLERS: readonly EnvironmentSamplerName[] = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];
/** OpenTelemetry's samplers that need a service ziptrace does not talk to. */
const UNSUPPORTED_SAMPLERS = ['jaeger_remote', 'parentbased_jaeger_remote', 'xray'];
const PROPAGATORS = ['tracecontext', 'b3', 'b3multi', 'baggage', 'none'];
/** Formats OpenTelemetry's contrib packages add, which ziptrace does not read or write. */
const UNSUPPORTED_PROPAGATORS = ['xray', 'ottrace', 'jaeger'];
const EXPORTERS = ['zipkin', 'otlp', 'console', 'none'];
/** Exporters OpenTelemetry names (some deprecated) that ziptrace has no reporter for. */
const UNSUPPORTED_EXPORTERS = ['jaeger', 'logging', 'prometheus'];
const INSTRUMENTATIONS: readonly InstrumentationName[] = ['http', 'fetch', 'express', 'koa', 'fastify'];

/** The `ZIPTRACE_*` variables this module reads. */
const ZIPTRACE_VARIABLES = ['ZIPTRACE_SUPPORTS_JOIN', 'ZIPTRACE_TRACE_ID_128BIT', 'ZIPTRACE_INSTRUMENT', 'ZIPTRACE_FLUSH_TIMEOUT'];
/**
 * `ZIPTRACE_*` variables that are not configuration: this repository's own
 * test and build scripts read them, and a child process they start with the
 * zero-code entry inherits them. Not problems, so a developer's test run is
 * not left untraced by its own seed.
 */
const NOT_CONFIGURATION = ['ZIPTRACE_SEED', 'ZIPTRACE_DIST', 'ZIPTRACE_NODES', 'ZIPTRACE_CHROMIUM'];

/**
 * Reads ziptrace's configuration from `env` (normally `process.env`) and
 * checks it; pure, so it may be called for a look at what a start would do.
 * Never throws: what is wrong is listed in `problems`, each line naming the
 * variable, its value (never a header's value, which may be a secret) and
 * what it takes.
 *
 * OpenTelemetry's rules for the values hold: an empty variable is an unset
 * one; names of samplers, propagators, exporters and protocols are read
 * without regard to case; a boolean is true only for `true` (any case).
 *
 * Where OpenTelemetry's default does not fit ziptrace, ziptrace's holds:
 * - `OTEL_TRACES_EXPORTER` unset sends to each exporter whose endpoint
 *   variable is set (`OTEL_EXPORTER_OTLP_ENDPOINT` or `…_TRACES_ENDPOINT` for
 *   OTLP, `OTEL_EXPORTER_ZIPKIN_ENDPOINT` for Zipkin), and with none set to
 *   Zipkin at `http://localhost:9411`, where `ziptrace serve` listens.
 *   (OpenTelemetry's default is OTLP alone.)
 * - `OTEL_PROPAGATORS` unset keeps ziptrace's propagation (B3 and W3C), not
 *   OpenTelemetry's `tracecontext,baggage`.
 * - The batch variables (`OTEL_BSP_*`) unset keep the reporter's defaults.
 * - `OTEL_BSP_SCHEDULE_DELAY=0` (send at once) is a batch interval of 1 ms.
 */
export function environmentConfig(env: NodeJS.ProcessEnv): EnvironmentConfig {
  const problems: string[] = [];
  const disabled = otelBoolean(env, 'OTEL_SDK_DISABLED', problems);
  const sampler = readSampler(env, problems);
  const propagation = readPropagation(env, problems);
  // At most a minute: a signalled process held longer than an orchestrator's grace period is killed anyway.
  const exitTimeout = whole(env, 'ZIPTRACE_FLUSH_TIMEOUT', problems, 1, undefined, MAX_FLUSH_TIMEOUT) ?? DEFAULT_FLUSH_TIMEOUT;
  const exporters = readExporters(env, exitTimeout, problems);
  const supportsJoin = ziptraceBoolean(env, 'ZIPTRACE_SUPPORTS_JOIN', problems) ?? !exporters.some((e) => e.kind === 'otlp');
  const traceId128Bit = ziptraceBoolean(env, 'ZIPTRACE_TRACE_ID_128BIT', problems) ?? true;
  const instrument = readInstrument(env, problems);
  const serviceName = readServiceName(env, problems);
  for (const name of Object.keys(env)) {
    if (!name.startsWith('ZIPTRACE_') || ZIPTRACE_VARIABLES.includes(name) || NOT_CONFIGURATION.includes(name)) continue;
    problems.push(unknownKeyProblem(name, ZIPTRACE_VARIABLES, 'a ziptrace variable'));
  }
  // Disabled means silent: the rest is not going to be used, and its problems would only be noise.
  return {
    disabled,
    problems: disabled ? [] : problems,
    serviceName,
    sampler,
    propagation,
    exporters,
    supportsJoin,
    traceId128Bit,
    instrument,
    flushTimeout: exitTimeout,
  };
}

/** Builds the OTLP reporter for {@link tracerOptionsFromEnvironment}: `(options) => new OtlpReporter(options)`. */
export type OtlpReporterFactory = (options: OtlpReporterEnvOptions) => Reporter;

/** What {@link tracerOptionsFromEnvironment} found: options to trace with, or why not to. */
export type EnvironmentSetup =
  | {
      readonly kind: 'traced';
      /** `createTracer`'s options, reporters built. */
      readonly options: TracerOptions;
      /** What they were made from (the flush timeout, what to instrument). */
      readonly config: EnvironmentConfig;
    }
  | {
      readonly kind: 'untraced';
      /** `disabled`: OTEL_SDK_DISABLED=true, nothing to say; `problems`: print them, then run the app untraced. */
      readonly reason: 'disabled' | 'problems';
      /** The problems, one line each, without the `ziptrace:` prefix; empty when disabled. */
      readonly problems: readonly string[];
    };

/**
 * The tracer the environment asks for: {@link environmentConfig}, then, when
 * nothing is wrong, its reporters built and `createTracer`'s options made.
 * Never throws; a reporter that refuses its options is a problem like any
 * other, and the reporters already built for the same call are closed.
 *
 * The sampler becomes `sampleRate` (decided by trace id, as
 * OpenTelemetry's TraceIdRatioBased decides) with `propagation.trustSampling`
 * and `trustDebug` on for `parentbased_*` and off otherwise: OpenTelemetry's
 * `always_on`, `always_off` and `traceidratio` ignore the caller's decision,
 * and B3's debug flag is a caller's decision too.
 *
 * @param otlpReporter builds the reporter for `otlp`; without it, `otlp` is a problem.
 */
export function tracerOptionsFromEnvironment(env: NodeJS.ProcessEnv, otlpReporter?: OtlpReporterFactory): EnvironmentSetup {
  const config = environmentConfig(env);
  if (config.disabled) return { kind: 'untraced', reason: 'disabled', problems: [] };
  if (config.problems.length > 0) return { kind: 'untraced', reason: 'problems', problems: config.problems };
  if (otlpReporter === undefined && config.exporters.some((e) => e.kind === 'otlp')) {
    const asked = read(env, 'OTEL_TRACES_EXPORTER') === undefined ? 'OTEL_EXPORTER_OTLP_ENDPOINT (or …_TRACES_ENDPOINT) is set, which asks for OTLP' : `${shown('OTEL_TRACES_EXPORTER', env.OTEL_TRACES_EXPORTER!.trim())} asks for OTLP`;
    return { kind: 'untraced', reason: 'problems', problems: [`${asked}, which this start of ziptrace cannot send (no OTLP reporter was given); use zipkin or console`] };
  }
  const reporters: Reporter[] = [];
  for (const exporter of config.exporters) {
    try {
      reporters.push(buildReporter(exporter, otlpReporter!));
    } catch (error) {
      // Reporters hold sockets and an exit hook: the ones already made for a tracer that will not be, go.
      for (const made of reporters) void Promise.resolve(made.close?.({ timeout: 1 })).catch(() => undefined);
      const message = error instanceof Error ? error.message.replace(/^ziptrace: /, '') : describe(error);
      return { kind: 'untraced', reason: 'problems', problems: [`OTEL_TRACES_EXPORTER (${exporter.kind}): the reporter refused the options made from the environment: ${message}`] };
    }
  }
  const { sampler, propagation } = config;
  const options: TracerOptions = {
    serviceName: config.serviceName,
    reporter: reporters,
    sampleRate: sampler.ratio,
    traceId128Bit: config.traceId128Bit,
    supportsJoin: config.supportsJoin,
    propagation: {
      ...(propagation === undefined ? {} : { extract: propagation.extract, inject: propagation.inject }),
      trustSampling: sampler.parentBased,
      trustDebug: sampler.parentBased,
    },
  };
  return { kind: 'traced', options, config };
}

function buildReporter(exporter: EnvironmentExporter, otlpReporter: OtlpReporterFactory): Reporter {
  switch (exporter.kind) {
    case 'zipkin':
      // The endpoint variables are the URL to post to, as OpenTelemetry defines them: no path is added.
      return new HttpReporter({ ...exporter.options, url: exactUrl(exporter.options.url) });
    case 'otlp':
      return otlpReporter({ ...exporter.options, url: exactUrl(String(exporter.options.url)) });
    case 'console':
      return new ConsoleReporter();
  }
}

/** A variable's value, trimmed; undefined when unset or empty (OpenTelemetry: "empty is unset"). */
function read(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** `NAME="value"`, for a problem: quoted, so spaces show; cut when long; the user name and password of a URL left out. */
function shown(name: string, value: string): string {
  const safe = value.replace(/\/\/[^/@]*@/, '//…@');
  return `${name}=${JSON.stringify(safe.length > 200 ? `${safe.slice(0, 200)}…` : safe)}`;
}

/** A comma list of names, lower-cased, empty entries dropped. */
function list(value: string): string[] {
  return value.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
}

/** What to say of `word`, one of a `kind` (`a sampler`) that is not known: the closest known one, or the whole list. */
function unknownWord(word: string, known: readonly string[], kind: string): string {
  const closest = closestKey(word, known);
  return closest === undefined ? `${word} is not ${kind}; it takes ${known.join(', ')}` : `${word} is not ${kind}; did you mean ${closest}?`;
}

/** OpenTelemetry's boolean: true for `true` only. Anything but `true`/`false` is a problem, not a quiet false. */
function otelBoolean(env: NodeJS.ProcessEnv, name: string, problems: string[]): boolean {
  const value = read(env, name);
  if (value === undefined) return false;
  const lower = value.toLowerCase();
  if (lower !== 'true' && lower !== 'false') problems.push(`${shown(name, value)}: expected true or false`);
  // An unclear OTEL_SDK_DISABLED stays enabled here, as OpenTelemetry reads it; the problem then leaves the app untraced anyway.
  return lower === 'true';
}

/** A `ZIPTRACE_*` boolean: `true` or `false` (any case); undefined when unset. */
function ziptraceBoolean(env: NodeJS.ProcessEnv, name: string, problems: string[]): boolean | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  problems.push(`${shown(name, value)}: expected true or false`);
  return undefined;
}

/** A whole number of at least `min` (milliseconds or spans); undefined when unset or wrong. */
function whole(env: NodeJS.ProcessEnv, name: string, problems: string[], min: number, what = 'milliseconds such as 5000', max = MAX_WHOLE): number | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  const number = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(number >= min && number <= max)) {
    problems.push(`${shown(name, value)}: expected a whole number of ${what}${min > 0 ? `, at least ${min}` : ''}${max < MAX_WHOLE ? `, at most ${max}` : ''}`);
    return undefined;
  }
  return number;
}

function readServiceName(env: NodeJS.ProcessEnv, problems: string[]): string {
  const named = read(env, 'OTEL_SERVICE_NAME');
  if (named !== undefined) return named;
  const attributes = read(env, 'OTEL_RESOURCE_ATTRIBUTES');
  if (attributes !== undefined) {
    // Only service.name is read; the other attributes have no place in a Zipkin span's endpoint.
    for (const entry of attributes.split(',')) {
      const at = entry.indexOf('=');
      if (at < 0 || entry.slice(0, at).trim() !== 'service.name') continue;
      const decoded = percentDecoded(entry.slice(at + 1).trim());
      if (decoded === undefined) problems.push('OTEL_RESOURCE_ATTRIBUTES: the value of service.name is not valid percent-encoding (a % must start %XX)');
      else if (decoded.trim() !== '') return decoded.trim();
    }
  }
  return DEFAULT_SERVICE_NAME;
}

function percentDecoded(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function readSampler(env: NodeJS.ProcessEnv, problems: string[]): EnvironmentSampler {
  const fallback: EnvironmentSampler = { name: 'parentbased_always_on', ratio: 1, parentBased: true };
  const value = read(env, 'OTEL_TRACES_SAMPLER');
  if (value === undefined) return fallback;
  const name = value.toLowerCase();
  if (UNSUPPORTED_SAMPLERS.includes(name)) {
    problems.push(`${shown('OTEL_TRACES_SAMPLER', value)}: ${name} is not supported by ziptrace; use ${SAMPLERS.join(', ')}`);
    return fallback;
  }
  if (!(SAMPLERS as readonly string[]).includes(name)) {
    problems.push(`${shown('OTEL_TRACES_SAMPLER', value)}: ${unknownWord(name, SAMPLERS, 'a sampler')}`);
    return fallback;
  }
  const sampler = name as EnvironmentSamplerName;
  const parentBased = sampler.startsWith('parentbased_');
  if (sampler.endsWith('always_on')) return { name: sampler, ratio: 1, parentBased };
  if (sampler.endsWith('always_off')) return { name: sampler, ratio: 0, parentBased };
  // As OpenTelemetry: the argument is read only by the samplers that take one.
  return { name: sampler, ratio: readRatio(env, problems), parentBased };
}

function readRatio(env: NodeJS.ProcessEnv, problems: string[]): number {
  const value = read(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (value === undefined) return 1;
  // Decimal notation only: Number() would also take '0x1', 'Infinity' and ' '.
  const ratio = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value) ? Number(value) : NaN;
  if (!(ratio >= 0 && ratio <= 1)) {
    problems.push(`${shown('OTEL_TRACES_SAMPLER_ARG', value)}: expected the share of traces to record, a number from 0 to 1 such as 0.25`);
    return 1;
  }
  return ratio;
}

/**
 * OTEL_PROPAGATORS as ziptrace's formats. OpenTelemetry's b3 and b3multi both
 * read either B3 form and differ in what they write (single header, or
 * multi). OpenTelemetry runs its propagators' extraction in order and the
 * last to find a context wins; ziptrace's first valid format wins, hence the
 * reversed order of reading.
 */
function readPropagation(env: NodeJS.ProcessEnv, problems: string[]): EnvironmentPropagation | undefined {
  const value = read(env, 'OTEL_PROPAGATORS');
  if (value === undefined) return undefined;
  const names = list(value);
  const wrong: string[] = [];
  for (const name of names) {
    if (UNSUPPORTED_PROPAGATORS.includes(name)) wrong.push(`${name} is not supported by ziptrace; it takes ${PROPAGATORS.join(', ')}`);
    else if (!PROPAGATORS.includes(name)) wrong.push(unknownWord(name, PROPAGATORS, 'a propagator'));
  }
  if (names.includes('none') && names.length > 1) wrong.push('none cannot be listed with other propagators');
  if (wrong.length > 0) {
    problems.push(`${shown('OTEL_PROPAGATORS', value)}: ${wrong.join('; ')}`);
    return undefined;
  }
  const extract: PropagationFormat[] = [];
  const inject: PropagationFormat[] = [];
  for (const name of names) {
    if (name === 'tracecontext') inject.push('w3c');
    if (name === 'b3') inject.push('b3-single');
    if (name === 'b3multi') inject.push('b3');
  }
  for (const name of [...names].reverse()) {
    if (name === 'tracecontext') extract.push('w3c');
    if (name === 'b3' || name === 'b3multi') extract.push('b3-single', 'b3');
  }
  // `baggage` is accepted and has no format: ziptrace carries no baggage.
  return { extract: [...new Set(extract)], inject: [...new Set(inject)] };
}

function readExporters(env: NodeJS.ProcessEnv, exitTimeout: number, problems: string[]): EnvironmentExporter[] {
  const value = read(env, 'OTEL_TRACES_EXPORTER');
  let names: string[];
  if (value === undefined) {
    const otlp = read(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== undefined || read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined;
    const zipkin = read(env, 'OTEL_EXPORTER_ZIPKIN_ENDPOINT') !== undefined;
    names = otlp || zipkin ? [...(zipkin ? ['zipkin'] : []), ...(otlp ? ['otlp'] : [])] : ['zipkin'];
  } else {
    names = [...new Set(list(value))];
    const wrong: string[] = [];
    for (const name of names) {
      if (name === 'logging') wrong.push('logging is not supported by ziptrace; use console');
      else if (UNSUPPORTED_EXPORTERS.includes(name)) wrong.push(`${name} is not supported by ziptrace; it takes ${EXPORTERS.join(', ')}`);
      else if (!EXPORTERS.includes(name)) wrong.push(unknownWord(name, EXPORTERS, 'an exporter'));
    }
    if (names.includes('none') && names.length > 1) wrong.push('none cannot be listed with other exporters');
    if (wrong.length > 0) problems.push(`${shown('OTEL_TRACES_EXPORTER', value)}: ${wrong.join('; ')}`);
  }
  const batch = readBatch(env, exitTimeout, problems);
  const exporters: EnvironmentExporter[] = [];
  for (const name of names) {
    if (name === 'zipkin') {
      const timeout = whole(env, 'OTEL_EXPORTER_ZIPKIN_TIMEOUT', problems, 1) ?? batch.timeout;
      exporters.push({ kind: 'zipkin', options: withTimeout({ ...batch, url: zipkinUrl(env, problems) }, timeout) });
    } else if (name === 'otlp') {
      exporters.push({ kind: 'otlp', options: otlpOptions(env, batch, problems) });
    } else if (name === 'console') {
      exporters.push({ kind: 'console' });
    }
  }
  return exporters;
}

/** `options` with `timeout` set, or without the key when there is none (the reporter's default holds). */
function withTimeout<T extends EnvironmentBatchOptions>(options: T, timeout: number | undefined): T {
  const { timeout: _, ...rest } = options;
  return (timeout === undefined ? rest : { ...rest, timeout }) as T;
}

function readBatch(env: NodeJS.ProcessEnv, exitTimeout: number, problems: string[]): EnvironmentBatchOptions {
  const delay = whole(env, 'OTEL_BSP_SCHEDULE_DELAY', problems, 0);
  const maxQueueSpans = whole(env, 'OTEL_BSP_MAX_QUEUE_SIZE', problems, 1, 'spans such as 2048');
  const maxBatchSpans = whole(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', problems, 1, 'spans such as 512');
  const timeout = whole(env, 'OTEL_BSP_EXPORT_TIMEOUT', problems, 1);
  return {
    // A batch interval must be positive: OpenTelemetry's 0, "no delay", is the shortest one.
    ...(delay === undefined ? {} : { batchInterval: Math.max(delay, 1) }),
    ...(maxQueueSpans === undefined ? {} : { maxQueueSpans }),
    ...(maxBatchSpans === undefined ? {} : { maxBatchSpans }),
    ...(timeout === undefined ? {} : { timeout }),
    exitTimeout,
  };
}

/** An endpoint variable's value when it is an http: or https: URL; a problem otherwise. */
function endpoint(env: NodeJS.ProcessEnv, name: string, example: string, problems: string[]): URL | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // Not a URL at all.
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    // 'localhost:4318' parses, with "localhost:" as its scheme: say what was meant.
    const missing = /^[a-z0-9.-]+:\d+(\/|$)/i.test(value) ? ` (the scheme is missing: http://${value})` : '';
    problems.push(`${shown(name, value)}: expected an http: or https: URL such as ${example}${missing}`);
    return undefined;
  }
  return url;
}

function zipkinUrl(env: NodeJS.ProcessEnv, problems: string[]): string {
  return endpoint(env, 'OTEL_EXPORTER_ZIPKIN_ENDPOINT', 'http://zipkin:9411/api/v2/spans', problems)?.href ?? DEFAULT_ZIPKIN_URL;
}

function otlpOptions(env: NodeJS.ProcessEnv, batch: EnvironmentBatchOptions, problems: string[]): OtlpReporterEnvOptions {
  // The traces endpoint is used as it is; the general one is a base that /v1/traces is added to.
  // A variable that traces do not use (the general one, under a traces-only one) is not read: it may be set for metrics or logs.
  const traces = endpoint(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'http://collector:4318/v1/traces', problems);
  const base = traces === undefined && read(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') === undefined ? endpoint(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', 'http://collector:4318', problems) : undefined;
  let url = DEFAULT_OTLP_URL;
  if (traces !== undefined) url = traces.href;
  else if (base !== undefined) {
    base.pathname = base.pathname.replace(/\/?$/, '/v1/traces');
    url = base.href;
  }
  const encoding = otlpEncoding(env, problems);
  const timeoutName = read(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') === undefined ? 'OTEL_EXPORTER_OTLP_TIMEOUT' : 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT';
  const timeout = whole(env, timeoutName, problems, 1) ?? batch.timeout;
  const general = headers(env, 'OTEL_EXPORTER_OTLP_HEADERS', problems);
  const specific = headers(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', problems);
  const merged = general === undefined && specific === undefined ? undefined : { ...general, ...specific };
  const gzip = otlpCompression(env, problems);
  return withTimeout({ ...batch, url, encoding, ...(merged === undefined ? {} : { headers: merged }), ...(gzip === undefined ? {} : { gzip }) }, timeout);
}

/** `gzip` or `none`, OpenTelemetry's two compressions for OTLP over HTTP; unset, `undefined` (the reporter's own default). */
function otlpCompression(env: NodeJS.ProcessEnv, problems: string[]): boolean | undefined {
  const name = read(env, 'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION') === undefined ? 'OTEL_EXPORTER_OTLP_COMPRESSION' : 'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION';
  const value = read(env, name);
  if (value === undefined) return undefined;
  const compression = value.toLowerCase();
  if (compression === 'gzip') return true;
  if (compression === 'none') return false;
  problems.push(`${shown(name, value)}: ${unknownWord(compression, ['gzip', 'none'], 'a compression')}`);
  return undefined;
}

function otlpEncoding(env: NodeJS.ProcessEnv, problems: string[]): 'protobuf' | 'json' {
  const name = read(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') === undefined ? 'OTEL_EXPORTER_OTLP_PROTOCOL' : 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL';
  const value = read(env, name);
  if (value === undefined) return 'protobuf';
  const protocol = value.toLowerCase();
  if (protocol === 'http/protobuf') return 'protobuf';
  if (protocol === 'http/json') return 'json';
  if (protocol === 'grpc') problems.push(`${shown(name, value)}: grpc is not supported by ziptrace, use http/protobuf (the default; an OpenTelemetry Collector takes it on port 4318) or http/json`);
  else problems.push(`${shown(name, value)}: ${unknownWord(protocol, ['http/protobuf', 'http/json'], 'an OTLP protocol')}`);
  return 'protobuf';
}

/** RFC 9110's token: what a header name may be made of. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;

/**
 * `key=value,key2=value2`, values percent-decoded (OpenTelemetry's headers
 * format). The problems name the entry and the key, never the value: these
 * variables carry API keys.
 */
function headers(env: NodeJS.ProcessEnv, name: string, problems: string[]): Record<string, string> | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  const out: Record<string, string> = {};
  const wrong: string[] = [];
  value.split(',').forEach((entry, i) => {
    if (entry.trim() === '') return;
    const at = entry.indexOf('=');
    const key = at < 0 ? '' : entry.slice(0, at).trim();
    if (at < 0 || key === '') {
      wrong.push(`entry ${i + 1} is not key=value`);
      return;
    }
    if (!HEADER_NAME.test(key)) {
      wrong.push(`${describe(key)} is not a header name`);
      return;
    }
    const decoded = percentDecoded(entry.slice(at + 1).trim());
    // A value that decodes to a line break would split the request's header block.
    if (decoded === undefined || /[\r\n\0]/.test(decoded)) wrong.push(`the value of ${key} is not valid percent-encoding of a header value`);
    else out[key.toLowerCase()] = decoded;
  });
  if (wrong.length > 0) {
    problems.push(`${name}: ${wrong.join('; ')}; expected key=value pairs separated by commas, such as api-key=secret,team=shop`);
    return undefined;
  }
  return out;
}

function readInstrument(env: NodeJS.ProcessEnv, problems: string[]): readonly InstrumentationName[] {
  const value = read(env, 'ZIPTRACE_INSTRUMENT');
  if (value === undefined) return INSTRUMENTATIONS;
  const names = [...new Set(list(value))];
  const known = [...INSTRUMENTATIONS, 'none'];
  const wrong = names.filter((n) => !known.includes(n)).map((n) => unknownWord(n, known, 'something ziptrace instruments'));
  if (names.includes('none') && names.length > 1) wrong.push('none cannot be listed with others');
  if (wrong.length > 0) {
    problems.push(`${shown('ZIPTRACE_INSTRUMENT', value)}: ${wrong.join('; ')}`);
    return INSTRUMENTATIONS;
  }
  return names.filter((n): n is InstrumentationName => n !== 'none');
}
