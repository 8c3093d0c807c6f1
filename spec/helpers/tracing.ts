/**
 * What the specs of the core set up again and again: a tracer reporting to
 * memory, the global tracer cleared after each test, the one span of a name,
 * a real sleep, and the error a call throws.
 */
import { afterEach, expect } from 'vitest';
import { SEED } from './seed.js';
import { createTracer, MemoryReporter, setGlobalTracer, type Tracer, type TracerOptions, type ZipkinSpan } from '../../lib/index.js';

/** A tracer for `serviceName` that reports to a fresh MemoryReporter; `options` add to or replace the defaults. */
export function memoryTracer(serviceName: string, options: Partial<TracerOptions> = {}): { tracer: Tracer; reporter: MemoryReporter } {
  const reporter = new MemoryReporter();
  const tracer = createTracer({ serviceName, reporter, ...options });
  return { tracer, reporter };
}

/** Clears the global tracer after every test of the calling file, so the first tracer of the next test becomes global again. */
export function clearGlobalTracerAfterEach(): void {
  afterEach(() => setGlobalTracer(undefined));
}

/** The one span named `name`, failing the test when there is none or more than one. */
export function only(reporter: MemoryReporter, name: string): ZipkinSpan {
  const found = reporter.byName(name);
  expect(found, `exactly one span named ${name}`).toHaveLength(1);
  return found[0]!;
}

/** Waits `ms` of real time (specs that need timers to really fire across async hops). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The error `fn` throws, failing the test when it throws none. */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw, got none');
}

export { SEED } from './seed.js';

/** A seeded pseudo-random source in [0, 1) (mulberry32): the same sequence for the same seed. */
export function seededRandom(seed: number = SEED): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
