/**
 * The options of `createTracer`: their types, their defaults, and the checks
 * that turn a programmer's mistake into a TypeError saying what to fix.
 */
import { describe } from './describe.js';
import { buildEndpoint } from './endpoint.js';
import { CompositePropagator, type PropagationOptions } from './propagation/composite.js';
import type { Propagator } from './propagation/propagator.js';
import { InvalidOptionError } from './errors.js';
import { unknownKeyProblem, unknownKeys, type ListsEvery } from './option-keys.js';
import { collectorUrlProblem } from './reporting/http-options.js';
import { HttpReporter } from './reporting/http.js';
import { isJoinless } from './reporting/reporter-traits.js';
import { DEFAULT_LIMITS, type SpanLimits } from './span.js';
import type { Endpoint, Reporter, Sampler } from './types.js';

/** An error class, for `ignoredErrors`. */
export type ErrorClass = abstract new (...args: never[]) => unknown;

/** Options of {@link createTracer}. */
export interface TracerOptions {
  /** This service's name in Zipkin. Give it, or `localEndpoint`. */
  serviceName?: string;
  /** This service's endpoint, from `createEndpoint(name, { ipv4, ipv6, port })`. */
  localEndpoint?: Endpoint;
  /** Where finished spans go: one reporter or several. Without one, finished spans are dropped and counted. */
  reporter?: Reporter | readonly Reporter[];
  /**
   * A Zipkin-compatible collector, `http://127.0.0.1:9411` (or a full
   * `…/api/v2/spans` URL): adds an {@link HttpReporter} with default options.
   */
  zipkinUrl?: string | import('./globals.js').GlobalURL;
  /** Share of new traces to record, 0 to 1. Default 1. */
  sampleRate?: number;
  /** Decides new traces; returning `undefined` defers to `sampleRate`. */
  sampler?: Sampler;
  /** 128-bit trace ids (default), or 64-bit for old Zipkin setups. */
  traceId128Bit?: boolean;
  /** Errors that `withSpan` and `@traced` pass through without marking the span: classes, or a predicate. */
  ignoredErrors?: readonly ErrorClass[] | ((error: unknown) => boolean);
  /** Caps on what one span may hold. */
  limits?: Partial<SpanLimits>;
  /** Become the global tracer used by the free functions (default: when none is set yet). */
  global?: boolean;
  /** Header formats read and written, and how far incoming decisions are trusted. */
  propagation?: TracerPropagationOptions;
  /**
   * Whether a server may share its caller's span id (Zipkin's joined span).
   * Default true, but false when every reporter is an `OtlpReporter`; false
   * for backends that cannot show two spans with one id (Grafana Tempo, OTLP
   * pipelines): servers then start child spans.
   */
  supportsJoin?: boolean;
}

/** `createTracer({ propagation })`. */
export interface TracerPropagationOptions extends PropagationOptions {
  /** A propagator of your own, used instead of `extract`/`inject`. */
  propagator?: Propagator;
  /** Honour an incoming sampling decision (default true); false lets this service's sampler decide. */
  trustSampling?: boolean;
  /** Honour an incoming debug flag (default true); false ignores it, so callers cannot force recording. */
  trustDebug?: boolean;
}

/** Every key of {@link TracerOptions} and of its `propagation`, for the unknown-key check; typed against them both ways. */
const TRACER_OPTION_KEYS = [
  'serviceName',
  'localEndpoint',
  'reporter',
  'zipkinUrl',
  'sampleRate',
  'sampler',
  'traceId128Bit',
  'ignoredErrors',
  'limits',
  'global',
  'propagation',
  'supportsJoin',
] as const satisfies readonly (keyof TracerOptions)[];
const PROPAGATION_OPTION_KEYS = ['extract', 'inject', 'propagator', 'trustSampling', 'trustDebug'] as const satisfies readonly (keyof TracerPropagationOptions)[];
type _EveryTracerOptionListed = [
  ListsEvery<(typeof TRACER_OPTION_KEYS)[number], keyof TracerOptions>,
  ListsEvery<(typeof PROPAGATION_OPTION_KEYS)[number], keyof TracerPropagationOptions>,
];

/** Everything a tracer needs from its options, checked. */
export interface ResolvedTracerOptions {
  /** `global` as given: true, false, or undefined (become global when none is). */
  global: boolean | undefined;
  localEndpoint: Readonly<Endpoint>;
  reporters: readonly Reporter[];
  sampleRate: number;
  sampler: Sampler | undefined;
  traceId128Bit: boolean;
  ignored: ((error: unknown) => boolean) | undefined;
  limits: SpanLimits;
  propagator: Propagator;
  trustSampling: boolean;
  trustDebug: boolean;
  supportsJoin: boolean;
}

/**
 * Checks `createTracer`'s options and fills in the defaults. Throws one
 * TypeError that lists every problem, each saying what to fix.
 */
export function resolveTracerOptions(options: TracerOptions): ResolvedTracerOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(`ziptrace: createTracer: options must be an object such as { serviceName: 'my-service' }, got ${describe(options)}`);
  }
  const problems: string[] = unknownKeys(options, TRACER_OPTION_KEYS, 'createTracer');
  const localEndpoint = Object.freeze(resolveLocalEndpoint(options, problems));
  if (options.zipkinUrl !== undefined) {
    // Checked with the others, so that every problem is named at once; the reporter itself is made only once all pass.
    const problem = collectorUrlProblem(options.zipkinUrl);
    if (problem !== undefined) problems.push(`zipkinUrl: ${problem.replace(/^url /, '')}`);
  }
  const given = resolveReporters(options, problems);
  const sampleRate = resolveRate(options.sampleRate, problems);
  if (options.sampler !== undefined && typeof options.sampler !== 'function') {
    problems.push(`sampler must be a function ({ traceId, name, kind, tags, parent }) => boolean | undefined, got ${describe(options.sampler)}`);
  }
  const traceId128Bit = flag(options.traceId128Bit, true, 'traceId128Bit', problems);
  const ignored = resolveIgnored(options.ignoredErrors, problems);
  const limits = resolveLimits(options.limits, problems);
  const propagation = options.propagation ?? {};
  if (propagation !== null && typeof propagation === 'object') problems.push(...unknownKeys(propagation, PROPAGATION_OPTION_KEYS, 'createTracer({ propagation })'));
  const propagator = resolvePropagator(propagation, problems);
  const trustSampling = flag(propagation.trustSampling, true, 'propagation.trustSampling', problems);
  const trustDebug = flag(propagation.trustDebug, true, 'propagation.trustDebug', problems);
  // OTLP has no shared span: a tracer that reports only there makes servers start children, unless told otherwise.
  const joinless = options.zipkinUrl === undefined && given.length > 0 && given.every(isJoinless);
  const supportsJoin = flag(options.supportsJoin, !joinless, 'supportsJoin', problems);
  const global = flag(options.global, false, 'global', problems);
  if (problems.length > 0) throw new InvalidOptionError(`ziptrace: createTracer: ${problems.join('; ')}`);
  // Only now, with every other option valid: a reporter made for options that then fail would be left open (a socket pool, an exit hook).
  const reporters = Object.freeze(options.zipkinUrl === undefined ? given : [new HttpReporter({ url: options.zipkinUrl }), ...given]);
  return {
    global: options.global === undefined ? undefined : global, localEndpoint, reporters, sampleRate, sampler: options.sampler, traceId128Bit, ignored, limits, propagator, trustSampling, trustDebug, supportsJoin };
}

function resolveLocalEndpoint(options: TracerOptions, problems: string[]): Endpoint {
  if (options === null || typeof options !== 'object') {
    problems.push(`options must be an object such as { serviceName: 'my-service' }, got ${describe(options)}`);
    return {};
  }
  const { serviceName, localEndpoint } = options;
  if (localEndpoint !== undefined) {
    if (localEndpoint === null || typeof localEndpoint !== 'object') {
      problems.push(`localEndpoint must come from createEndpoint(name, { ipv4, ipv6, port }), got ${describe(localEndpoint)}`);
      return {};
    }
    const endpoint = buildEndpoint(serviceName ?? localEndpoint.serviceName, localEndpoint, problems);
    if (endpoint.serviceName === undefined && serviceName === undefined && localEndpoint.serviceName === undefined) {
      problems.push('localEndpoint needs a serviceName');
    }
    return endpoint;
  }
  if (typeof serviceName !== 'string' || serviceName.trim().length === 0) {
    problems.push(`serviceName must be a non-empty string naming this service, got ${describe(serviceName)}`);
    return {};
  }
  return { serviceName };
}

function resolveReporters(options: TracerOptions, problems: string[]): Reporter[] {
  const list: Reporter[] = [];
  const reporter = options?.reporter;
  if (reporter !== undefined) {
    const given = Array.isArray(reporter) ? (reporter as readonly Reporter[]) : [reporter as Reporter];
    given.forEach((item, i) => {
      if (item === null || typeof item !== 'object' || typeof item.report !== 'function') {
        problems.push(`reporter${Array.isArray(reporter) ? `[${i}]` : ''} must have a report(span) method, got ${describe(item)}`);
      }
    });
    list.push(...given);
  }
  return list;
}

function resolvePropagator(options: TracerPropagationOptions, problems: string[]): Propagator {
  if (options === null || typeof options !== 'object') {
    problems.push(`propagation must be an object such as { extract: ['b3', 'w3c'], inject: ['b3'] }, got ${describe(options)}`);
    return new CompositePropagator();
  }
  if (options.propagator !== undefined) {
    const p = options.propagator;
    if (p === null || typeof p !== 'object' || typeof p.inject !== 'function' || typeof p.extract !== 'function') {
      problems.push(`propagation.propagator must have inject(context, carrier) and extract(carrier), got ${describe(p)}`);
      return new CompositePropagator();
    }
    return p;
  }
  try {
    return new CompositePropagator({ extract: options.extract, inject: options.inject });
  } catch (error) {
    problems.push((error as Error).message.replace(/^ziptrace: /, ''));
    return new CompositePropagator();
  }
}

function flag(value: unknown, fallback: boolean, name: string, problems: string[]): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') problems.push(`${name} must be true or false, got ${describe(value)}`);
  return value === true;
}

function resolveRate(rate: unknown, problems: string[]): number {
  if (rate === undefined) return 1;
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
    problems.push(`sampleRate must be a number from 0 to 1 (0.1 records one trace in ten), got ${describe(rate)}`);
    return 1;
  }
  return rate;
}

function resolveIgnored(ignored: TracerOptions['ignoredErrors'], problems: string[]): ((error: unknown) => boolean) | undefined {
  if (ignored === undefined) return undefined;
  if (typeof ignored === 'function') return ignored as (error: unknown) => boolean;
  if (!Array.isArray(ignored) || ignored.some((c) => typeof c !== 'function')) {
    problems.push(`ignoredErrors must be an array of error classes or a predicate (error) => boolean, got ${describe(ignored)}`);
    return undefined;
  }
  const classes = [...(ignored as readonly ErrorClass[])];
  return (error) => classes.some((c) => error instanceof (c as unknown as new () => unknown));
}

function resolveLimits(limits: Partial<SpanLimits> | undefined, problems: string[]): SpanLimits {
  const out: SpanLimits = { ...DEFAULT_LIMITS };
  if (limits === undefined) return out;
  if (limits === null || typeof limits !== 'object') {
    problems.push(`limits must be an object such as { maxTags: 64 }, got ${describe(limits)}`);
    return out;
  }
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof SpanLimits)[]) {
    const value = limits[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1) problems.push(`limits.${key} must be a whole number of at least 1, got ${describe(value)}`);
    else out[key] = value;
  }
  for (const key of Object.keys(limits)) {
    if (!(key in DEFAULT_LIMITS)) problems.push(`limits.${unknownKeyProblem(key, Object.keys(DEFAULT_LIMITS), 'a limit')}`);
  }
  return out;
}
