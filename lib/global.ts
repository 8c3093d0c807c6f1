import { activeSpan, runtime, spanOf } from './context.js';
import { describe } from './describe.js';
import { checkSpanOptions } from './span-options.js';
import { LOCAL_SOURCE } from './trace-context.js';
import { InvalidArgumentError } from './errors.js';
import { NonRecordingSpan, type Span } from './span.js';
import { runSpan, splitArgs } from './run.js';
import { Tracer, type TracerOptions } from './tracer.js';
import type { SpanOptions, TraceContext } from './types.js';

/**
 * Creates a tracer. The first one created becomes the global tracer that the
 * free functions (`withSpan`, `startSpan`, `@traced`) use, unless
 * `global: false`. Throws a `TypeError` that names what to fix when an option is wrong.
 *
 * ```ts
 * const tracer = createTracer({ serviceName: 'gateway', reporter: new MemoryReporter() });
 * ```
 */
export function createTracer(options: TracerOptions): Tracer {
  const tracer = new Tracer(options);
  if (tracer._global === true || (tracer._global === undefined && runtime.globalTracer === undefined)) {
    runtime.globalTracer = tracer;
  }
  return tracer;
}

/** Makes `tracer` the global one, or clears it with `undefined` (tests do this in `afterEach`). */
export function setGlobalTracer(tracer: Tracer | undefined): void {
  if (tracer !== undefined && !(tracer instanceof Tracer) && typeof (tracer as { startSpan?: unknown })?.startSpan !== 'function') {
    throw new InvalidArgumentError(`ziptrace: setGlobalTracer(tracer): expected a tracer from createTracer() or undefined, got ${describe(tracer)}`);
  }
  runtime.globalTracer = tracer !== undefined && tracer.closed ? undefined : tracer;
}

/** The global tracer, or undefined when none is set. */
export function getGlobalTracer(): Tracer | undefined {
  return runtime.globalTracer as Tracer | undefined;
}

/** The tracer the free functions use: the active span's, else the global one. */
function currentTracer(): Tracer | undefined {
  const active = activeSpan();
  const tracer = (active?.tracer ?? runtime.globalTracer) as Tracer | undefined;
  return tracer;
}

// A plain object, not made by makeContext: its all-zero ids are not valid, so nothing may trust them.
const NO_TRACER_CONTEXT: TraceContext = Object.freeze({
  traceId: '0'.repeat(32),
  spanId: '0'.repeat(16),
  parentId: undefined,
  sampled: false,
  debug: false,
  shared: false,
  tracestate: undefined,
  source: LOCAL_SOURCE,
  random: false,
});

/** What the free functions hand out when no tracer exists: records nothing, propagates nothing. */
const NO_TRACER_SPAN: Span = new NonRecordingSpan(undefined, NO_TRACER_CONTEXT);

/**
 * Starts a span under the active one with the active span's tracer (else the
 * global tracer). Not made active. With no tracer at all it returns a span
 * that records nothing.
 */
export function startSpan(name: string, opts?: SpanOptions): Span {
  const tracer = currentTracer();
  if (tracer !== undefined) return tracer.startSpan(name, opts);
  // Checked without a tracer too: a library's tests, run with none, must still find its mistakes.
  if (opts !== undefined) checkSpanOptions(opts, 'startSpan', true);
  return NO_TRACER_SPAN;
}

/**
 * Runs `fn` inside a new active span of the current tracer (see
 * `tracer.withSpan`). With no tracer at all it only runs `fn`.
 *
 * ```ts
 * await withSpan('Slow SQL', { kind: 'CLIENT' }, async (span) => { span.annotate('START SQL'); });
 * ```
 */
export function withSpan<R>(name: string, fn: (span: Span) => R): R;
export function withSpan<R>(name: string, opts: SpanOptions | undefined, fn: (span: Span) => R): R;
export function withSpan<R>(name: string, optsOrFn: SpanOptions | undefined | ((span: Span) => R), maybeFn?: (span: Span) => R): R {
  const [opts, fn] = splitArgs(name, optsOrFn, maybeFn, 'withSpan');
  const tracer = currentTracer();
  if (tracer === undefined) {
    if (opts !== undefined) checkSpanOptions(opts, 'withSpan', true);
    return fn(NO_TRACER_SPAN);
  }
  return runSpan(tracer._startSpanFor(name, opts, 'withSpan'), fn, tracer._ignored);
}

/** The active span, or undefined when none is. */
export function currentSpan(): Span | undefined {
  // spanOf: the store may be a span with other values beside it (the OpenTelemetry bridge's), not the span.
  return spanOf(activeSpan()) as Span | undefined;
}
