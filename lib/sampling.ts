import { debug } from './debug.js';
import type { Sampler, SamplingRequest } from './types.js';

const TWO_POW_52 = 2 ** 52;

/**
 * The rate decision as a function of the trace id alone, so every ziptrace
 * service that sees the same trace id with the same rate decides the same way.
 * The last 13 hex digits (52 bits, exact in a double) are random in both
 * 64- and 128-bit ids, including 128-bit ids that start with a timestamp.
 */
export function sampledByRate(traceId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  const bits = parseInt(traceId.slice(-13), 16);
  return bits / TWO_POW_52 < rate;
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
