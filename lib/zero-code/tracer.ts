/**
 * The zero-code start's tracer: made from the environment (lib/env-config.ts),
 * or none, with what is wrong said on stderr.
 */
import type { EnvironmentConfig } from '../env-config.js';
import { tracerOptionsFromEnvironment } from '../env-config.js';
import { createTracer } from '../global.js';
import { OtlpReporter } from '../reporting/otlp.js';
import type { Tracer } from '../tracer.js';

/** A tracer the environment configured, and the configuration it came from. */
export interface EnvironmentTracer {
  /** The tracer: made global, so the app's own `withSpan` and `activeSpan` calls use it. */
  readonly tracer: Tracer;
  /** What to instrument, and how long a flush may take. */
  readonly config: EnvironmentConfig;
}

/**
 * Creates the tracer `env` describes, or gives undefined for an app that is
 * to run untraced: `OTEL_SDK_DISABLED=true` (silently), or a wrong value,
 * each problem printed as one `ziptrace:` line on stderr, naming the
 * variable. Nothing throws: a mistake in the environment must not keep the
 * app from starting.
 */
export function tracerFromEnvironment(env: NodeJS.ProcessEnv, warn: (line: string) => void): EnvironmentTracer | undefined {
  const setup = tracerOptionsFromEnvironment(env, (options) => new OtlpReporter(options));
  if (setup.kind === 'untraced') {
    for (const problem of setup.problems) warn(`ziptrace: ${problem}; the app runs untraced`);
    return undefined;
  }
  try {
    return { tracer: createTracer(setup.options), config: setup.config };
  } catch (error) {
    // createTracer refusing options env-config made is ziptrace's own bug; the app still runs.
    warn(`ziptrace: could not create the tracer from the environment (${error instanceof Error ? error.message : String(error)}); the app runs untraced`);
    return undefined;
  }
}
