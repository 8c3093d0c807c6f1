/**
 * `registerOpenTelemetry(tracer)`: makes `@opentelemetry/api` trace with
 * ziptrace, by setting its three globals (a TracerProvider, a ContextManager
 * and a TextMapPropagator) to the bridge's, and gives back the function that
 * removes them.
 */
import type { Tracer } from '../tracer.js';
import { InvalidArgumentError } from '../errors.js';
import { describe } from '../describe.js';
import { api } from './api.js';
import { ZiptraceContextManager } from './context-manager.js';
import { ZiptracePropagator } from './propagator.js';
import { ZiptraceTracerProvider } from './tracer.js';

/** The bridge set up by {@link registerOpenTelemetry}, for code that wants its parts (`registerInstrumentations({ tracerProvider })`). */
export interface OpenTelemetryBridge {
  readonly tracerProvider: ZiptraceTracerProvider;
  readonly contextManager: ZiptraceContextManager;
  readonly propagator: ZiptracePropagator;
}

/** The registration in effect in this copy, so that a second call says so. */
let current: { undo: () => void } | undefined;

/**
 * Installs ziptrace as `@opentelemetry/api`'s tracer provider, context manager
 * and propagator. Spans that OpenTelemetry-instrumented libraries make become
 * spans of `tracer`, under the active ziptrace span; ziptrace spans started
 * inside an OpenTelemetry span nest under it: one context, one trace.
 *
 * Returns `undo()`, which removes the three globals (OpenTelemetry calls are
 * no-ops again) and may be called any number of times. A global that is no
 * longer the bridge's (another part of the application disabled the API and
 * set an SDK's since) is left as it is. Calling
 * `registerOpenTelemetry` again before that throws: undo first to switch
 * tracers. It also throws, having set nothing, when the API already has a
 * global of another making (an OpenTelemetry SDK started): one of the two
 * would lose silently otherwise.
 *
 * ```ts
 * const undo = registerOpenTelemetry(tracer);
 * registerInstrumentations({ instrumentations: [new UndiciInstrumentation()] });
 * ```
 */
export function registerOpenTelemetry(tracer: Tracer): () => void {
  if (tracer === null || typeof tracer !== 'object' || typeof (tracer as { startSpan?: unknown }).startSpan !== 'function' || typeof (tracer as { extract?: unknown }).extract !== 'function') {
    throw new InvalidArgumentError(`ziptrace: registerOpenTelemetry(tracer): expected a tracer from createTracer(), got ${describe(tracer)}`);
  }
  if (current !== undefined) throw new Error('ziptrace: registerOpenTelemetry: already registered; call the function the first call returned before registering again');
  const bridge = createBridge(tracer);
  // Each set fails (returns false) when that global is taken: the ones already set are taken back.
  const undoers: (() => void)[] = [];
  // Each undo disables its global only while it is still the bridge's: someone else's (an SDK set up after a disable) stays.
  const steps: [string, () => boolean, () => void][] = [
    ['context manager', () => api.context.setGlobalContextManager(bridge.contextManager.enable()), () => ownsGlobal(api.context, '_getContextManager', bridge.contextManager) && api.context.disable()],
    ['tracer provider', () => api.trace.setGlobalTracerProvider(bridge.tracerProvider), () => globalTracerProvider() === bridge.tracerProvider && api.trace.disable()],
    ['propagator', () => api.propagation.setGlobalPropagator(bridge.propagator), () => ownsGlobal(api.propagation, '_getGlobalPropagator', bridge.propagator) && api.propagation.disable()],
  ];
  for (const [what, set, unset] of steps) {
    if (!set()) {
      bridge.contextManager.disable();
      for (const undoOne of undoers.reverse()) undoOne();
      throw new Error(`ziptrace: registerOpenTelemetry: @opentelemetry/api already has a global ${what} (an OpenTelemetry SDK?); disable it first (api.${what === 'propagator' ? 'propagation' : what === 'tracer provider' ? 'trace' : 'context'}.disable())`);
    }
    undoers.push(unset);
  }
  let done = false;
  const registration = {
    undo: (): void => {
      if (done) return;
      done = true;
      for (const undoOne of undoers.reverse()) undoOne();
      // api.context.disable() disabled the manager already; this keeps the count right if someone else's code replaced it.
      bridge.contextManager.disable();
      if (current === registration) current = undefined;
    },
  };
  current = registration;
  return registration.undo;
}

/**
 * The global tracer provider behind the API's proxy: `trace.getTracerProvider()`
 * is a `ProxyTracerProvider` whose public `getDelegate()` is the provider set.
 */
function globalTracerProvider(): unknown {
  const proxy = api.trace.getTracerProvider() as { getDelegate?: () => unknown };
  return typeof proxy.getDelegate === 'function' ? proxy.getDelegate() : proxy;
}

/**
 * Whether the API's global context manager or propagator is still `ours`.
 * The API exposes no public getter for them; `context._getContextManager()`
 * and `propagation._getGlobalPropagator()` are what its own `active()` and
 * `inject()` call, in every 1.x release (`>=1.3 <2`, API_RANGE). Should a
 * release lack the getter, the global is taken as ours, as before: undo
 * then disables it.
 */
function ownsGlobal(holder: object, getter: string, ours: object): boolean {
  const get = (holder as Record<string, unknown>)[getter];
  return typeof get !== 'function' || get.call(holder) === ours;
}

/**
 * The bridge's three parts for `tracer`, registered nowhere: for setting up
 * `@opentelemetry/api` by other means (an SDK's `contextManager` and
 * `textMapPropagator` options). The context manager must be `enable()`d.
 */
export function createBridge(tracer: Tracer): OpenTelemetryBridge {
  const contextManager = new ZiptraceContextManager(tracer);
  return { contextManager, tracerProvider: new ZiptraceTracerProvider(tracer, contextManager), propagator: new ZiptracePropagator(tracer) };
}
