import { isSpanId, isTraceId } from '../ids.js';
import type { ExtractedContext, TraceContext } from '../types.js';
import { defaultGetter, defaultSetter, INVALID, readSingle, readValues, trimOws, type Getter, type Setter } from './carrier.js';
import { makeContext } from '../trace-context.js';
import { MAX_TRACEPARENT, MAX_TRACESTATE, type Propagator } from './propagator.js';

/*
 * W3C Trace Context Level 2 (www.w3.org/TR/trace-context-2): `traceparent`
 * and `tracestate`. An invalid traceparent restarts the trace and drops
 * tracestate; an invalid tracestate is dropped on its own; the random flag
 * (0x02) is kept.
 */

const TRACEPARENT = 'traceparent';
const TRACESTATE = 'tracestate';
const SAMPLED_FLAG = 0x01;
const RANDOM_FLAG = 0x02;
const MAX_MEMBERS = 32;

const HEX2 = /^[0-9a-f]{2}$/;
const VERSION_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
// A later version must start like version 00; what follows a further '-' is that version's business.
const LATER_VERSION = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

/** Parses a traceparent value; undefined when it is not valid. */
export function parseTraceparent(value: string): { traceId: string; parentId: string; flags: number } | undefined {
  const version = value.slice(0, 2);
  if (!HEX2.test(version) || version === 'ff') return undefined;
  const match = version === '00' ? VERSION_00.exec(value) : LATER_VERSION.exec(value);
  if (match === null) return undefined;
  const traceId = match[1]!;
  const parentId = match[2]!;
  if (!isTraceId(traceId) || !isSpanId(parentId)) return undefined;
  return { traceId, parentId, flags: parseInt(match[3]!, 16) };
}

// Key: simple (lcalpha then up to 255 of lcalpha, digits, _ - * /) or multi-tenant (tenant@system).
const KEY = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/;
// Value: up to 256 printable ASCII characters except ',' and '=', not ending in a space.
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * Validates and normalises tracestate header values (several headers join
 * with ','). Undefined when empty or invalid: more than 32 members, a bad key
 * or value, or a key twice.
 */
export function parseTracestate(values: readonly string[]): string | undefined {
  const members: string[] = [];
  const keys = new Set<string>();
  for (const value of values) {
    for (const raw of value.split(',')) {
      const member = trimOws(raw);
      if (member.length === 0) continue;
      const eq = member.indexOf('=');
      if (eq <= 0) return undefined;
      const key = member.slice(0, eq);
      if (!KEY.test(key) || !VALUE.test(member.slice(eq + 1)) || keys.has(key)) return undefined;
      keys.add(key);
      members.push(member);
      if (members.length > MAX_MEMBERS) return undefined;
    }
  }
  return members.length === 0 ? undefined : members.join(',');
}

/** A trace id as W3C writes it: 64-bit ids are left-padded with zeros. */
export function w3cTraceId(traceId: string): string {
  return traceId.length === 32 ? traceId : traceId.padStart(32, '0');
}

/** W3C `traceparent` and `tracestate`. */
export class W3CPropagator implements Propagator {
  readonly fields = [TRACEPARENT, TRACESTATE] as const;

  inject(context: ExtractedContext, carrier: unknown, setter: Setter = defaultSetter): void {
    // W3C has no way to send a bare decision, nor a deferred one: a deferred decision goes as "not sampled".
    if (!isTraceId(context.traceId) || !isSpanId(context.spanId)) return;
    const full = context as TraceContext;
    const flags = (full.sampled === true || full.debug ? SAMPLED_FLAG : 0) | (full.random === true ? RANDOM_FLAG : 0);
    setter.set(carrier, TRACEPARENT, `00-${w3cTraceId(full.traceId)}-${full.spanId}-0${flags.toString(16)}`);
    if (full.tracestate !== undefined && full.tracestate.length > 0) setter.set(carrier, TRACESTATE, full.tracestate);
  }

  extract(carrier: unknown, getter: Getter = defaultGetter): TraceContext | undefined {
    const value = readSingle(getter, carrier, TRACEPARENT, MAX_TRACEPARENT);
    if (value === undefined || value === INVALID) return undefined;
    const parsed = parseTraceparent(value);
    if (parsed === undefined) return undefined;
    return makeContext(
      parsed.traceId,
      parsed.parentId,
      undefined,
      (parsed.flags & SAMPLED_FLAG) !== 0,
      false,
      false,
      readTracestate(getter, carrier),
      'w3c',
      (parsed.flags & RANDOM_FLAG) !== 0,
    );
  }
}

/** The carrier's tracestate, validated; undefined when absent, too long or invalid. */
export function readTracestate(getter: Getter, carrier: unknown): string | undefined {
  const values = readValues(getter, carrier, TRACESTATE, MAX_TRACESTATE);
  if (values === undefined || values === INVALID) return undefined;
  let total = 0;
  for (const v of values) total += v.length;
  return total > MAX_TRACESTATE ? undefined : parseTracestate(values);
}
