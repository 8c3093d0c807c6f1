/**
 * The checks every span maker (`startSpan`, `withSpan`, `newTrace`,
 * `newChild`, `joinSpan`, `@traced`) runs on its options: a programmer's
 * mistake there is an error that says what to fix, thrown whether or not the
 * span is sampled, so it shows up in the first test rather than in one trace
 * out of a hundred in production.
 *
 * Only options given are checked: `withSpan(name, fn)` costs nothing here.
 */
import { timestampProblem, toMicros } from './clock.js';
import { describe } from './describe.js';
import { InvalidArgumentError, InvalidTimestampError } from './errors.js';
import { unknownKeyProblem, type ListsEvery } from './option-keys.js';
import type { SpanKind, SpanOptions } from './types.js';

/** The span kinds Zipkin knows, spelt as Zipkin spells them. */
export const SPAN_KINDS: ReadonlySet<string> = new Set<SpanKind>(['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER']);

/** Every key of SpanOptions (the switch in checkSpanOptions lists them too). */
const KEYS = ['kind', 'tags', 'remoteEndpoint', 'timestamp', 'parent'] as const satisfies readonly (keyof SpanOptions)[];
type _EverySpanOptionListed = ListsEvery<(typeof KEYS)[number], keyof SpanOptions>;

/**
 * Checks `opts` for `where` (the call, for the message) and returns the start
 * time it asks for in epoch microseconds, or undefined for "now". `extraKeys`
 * are keys the call takes beyond the common ones; `parent` is refused where
 * the call names its parent by its arguments.
 */
export function checkSpanOptions(opts: unknown, where: string, allowParent: boolean, extraKeys: readonly string[] = []): number | undefined {
  if (opts === undefined) return undefined;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new InvalidArgumentError(`ziptrace: ${where}: options must be an object such as { kind: 'CLIENT', tags: { peer: 'db' } }, got ${describe(opts)}`);
  }
  const o = opts as Record<string, unknown>;
  // for-in and a switch rather than Object.keys and includes: no array per call, and options objects are small literals.
  for (const key in o) {
    switch (key) {
      case 'kind':
      case 'tags':
      case 'remoteEndpoint':
      case 'timestamp':
      case 'parent':
        continue;
    }
    if ((extraKeys.length > 0 && extraKeys.includes(key)) || !Object.prototype.hasOwnProperty.call(o, key)) continue;
    const known = [...KEYS.filter((k) => allowParent || k !== 'parent'), ...extraKeys];
    throw new InvalidArgumentError(`ziptrace: ${where}: ${unknownKeyProblem(key, known, 'a span option')}`);
  }
  const { kind, tags, remoteEndpoint, timestamp } = o;
  if (kind !== undefined && !SPAN_KINDS.has(kind as string)) {
    const upper = typeof kind === 'string' && SPAN_KINDS.has(kind.toUpperCase()) ? ` (kinds are upper case: '${kind.toUpperCase()}')` : '';
    throw new InvalidArgumentError(`ziptrace: ${where}: kind must be 'CLIENT', 'SERVER', 'PRODUCER' or 'CONSUMER', or absent for a local span, got ${describe(kind)}${upper}`);
  }
  if (tags !== undefined && tags !== null && (typeof tags !== 'object' || Array.isArray(tags))) {
    throw new InvalidArgumentError(`ziptrace: ${where}: tags must be an object of tag names to values such as { 'http.method': 'GET' }, got ${describe(tags)}`);
  }
  if (remoteEndpoint !== undefined && (remoteEndpoint === null || typeof remoteEndpoint !== 'object')) {
    throw new InvalidArgumentError(`ziptrace: ${where}: remoteEndpoint must come from createEndpoint(name, { ipv4, ipv6, port }), got ${describe(remoteEndpoint)}`);
  }
  if (!allowParent && o.parent !== undefined) {
    throw new InvalidArgumentError(`ziptrace: ${where}: takes no parent option; its parent is the context it is given (use startSpan('name', { parent }) to choose one)`);
  }
  if (timestamp === undefined) return undefined;
  const micros = toMicros(timestamp as number | Date);
  if (micros === undefined) throw new InvalidTimestampError(`ziptrace: ${where}: timestamp ${timestampProblem(timestamp)}`);
  return micros;
}
