import type { ExtractedContext } from '../types.js';
import type { Getter, Setter } from './carrier.js';

/**
 * Writes a context into a carrier's headers and reads it back. Extraction
 * never throws: a malformed header is ignored as a whole and gives `undefined`.
 */
export interface Propagator {
  /** The header names this propagator reads and writes (lower-case). */
  readonly fields: readonly string[];
  inject(context: ExtractedContext, carrier: unknown, setter?: Setter): void;
  extract(carrier: unknown, getter?: Getter): ExtractedContext | undefined;
}

/** Longest header values read; a longer value is ignored unparsed. */
export const MAX_ID_HEADER = 64;
export const MAX_B3_SINGLE = 128;
export const MAX_TRACEPARENT = 512;
export const MAX_TRACESTATE = 8192;
