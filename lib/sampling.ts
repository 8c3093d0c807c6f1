import { debug } from './debug.js';
import { lowBitsSampled } from './ids.js';
import type { Sampler, SamplingRequest } from './types.js';

/**
 * The rate decision as a function of the trace id alone, so every ziptrace
 * service that sees the same trace id with the same rate decides the same way.
 * The last 13 hex digits (52 bits, exact in a double) are random in both
 * 64- and 128-bit ids, including 128-bit ids that start with a timestamp.
 */
export function sampledByRate(traceId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return lowBitsSampled(lowBits(traceId), rate);
}

/*
 * The last 13 hex digits as a number: what parseInt(traceId.slice(-13), 16)
 * gives, read digit by digit instead, without the slice: 53 ns through
 * slice and parseInt, 38 so (Node 20). A caller's trace id that came without
 * a decision is decided here, and so is a new root at a rate above one half
 * (at most one half, the root is decided on its id's bytes: sampledTraceId
 * in lib/ids.ts, which must agree with this). A character that is not lower-case hex
 * (ids are checked before they get here, so only a caller's own context
 * could bring one) is left to parseInt, which then decides as it always did.
 */
function lowBits(traceId: string): number {
  const end = traceId.length;
  if (end < 13) return parseInt(traceId, 16);
  let value = 0;
  for (let i = end - 13; i < end; i++) {
    const c = traceId.charCodeAt(i);
    let digit: number;
    if (c >= 48 && c <= 57) digit = c - 48;
    else if (c >= 97 && c <= 102) digit = c - 87;
    else return parseInt(traceId.slice(-13), 16);
    value = value * 16 + digit;
  }
  return value;
}

/**
 * Decides a new trace: debug forces it, then the custom sampler, then the
 * rate. A sampler that throws or returns something other than a boolean
 * defers. `errors` counts the throws.
 */
export function decide(
  sampler: Sampler | undefined,
  rate: number,
  request: SamplingRequest,
  counters: { samplerErrors: number },
): boolean {
  if (sampler !== undefined) {
    try {
      const answer = sampler(request);
      if (answer === true || answer === false) return answer;
    } catch (error) {
      counters.samplerErrors++;
      if (debug.enabled) debug('sampler threw, deferring to the sample rate: %s', String(error));
    }
  }
  return sampledByRate(request.traceId, rate);
}
