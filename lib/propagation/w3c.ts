import { isSpanId, isTraceId } from '../ids.js';
import type { ExtractedContext, TraceContext } from '../types.js';
import { defaultGetter, defaultSetter, INVALID, readSingle, readValues, type Getter, type Setter } from './carrier.js';
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

/*
 * tracestate, as Level 2 (www.w3.org/TR/trace-context-2/#tracestate-header) has it:
 *
 *   list        = list-member 0*31( OWS "," OWS list-member )
 *   list-member = key "=" value / OWS
 *   key         = ( lcalpha / DIGIT ) 0*255 ( keychar )
 *   keychar     = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
 *   value       = 0*255( chr ) nblk-chr     ; chr %x20-7E but "," and "="; nblk-chr not a space
 *
 * Level 1's two key forms (a simple key starting with lcalpha, and
 * `tenant@system` with at most 241 and 14 characters, the system id starting
 * with lcalpha) are gone: `@` is a key character anywhere but first, so
 * `foo@`, `foo@@bar`, `foo@1bar` and `1foo` are keys, and only the total of
 * 256 counts. Keys are not checked for uniqueness: Level 2 makes that the sender's
 * duty and lets a receiver pass a duplicate on ("Mutating the tracestate
 * Field"), and the W3C suite's test_tracestate_duplicated_keys wants the
 * header passed on. Dropping the whole header for a duplicate, as the suite
 * once demanded from Level 1's "only one entry per key", would delete every
 * other vendor's entry for one sender's mistake; keeping it as it came, rather
 * than dropping the later entry, leaves the list as the sender wrote it (and
 * needs no set of keys per request).
 *
 * Read by hand rather than by split and regular expressions: this runs on
 * every request that carries tracestate, and a valid value that needs no
 * clean-up (one header, no white space or empty members) is returned as it
 * came, without a copy.
 */
const MAX_KEY = 256;
const MAX_VALUE = 256;

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** lcalpha or DIGIT: what a key starts with. */
function isKeyStart(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39);
}

/** keychar: lcalpha, DIGIT, `_`, `-`, `*`, `/`, `@`. */
function isKeyChar(code: number): boolean {
  return isKeyStart(code) || code === 0x5f || code === 0x2d || code === 0x2a || code === 0x2f || code === 0x40;
}

/** Whether `text[start, end)`, trimmed and not empty, is `key=value`. */
function isMember(text: string, start: number, end: number): boolean {
  const eq = text.indexOf('=', start);
  if (eq <= start || eq >= end || eq - start > MAX_KEY) return false;
  if (!isKeyStart(text.charCodeAt(start))) return false;
  for (let i = start + 1; i < eq; i++) if (!isKeyChar(text.charCodeAt(i))) return false;
  const valueLength = end - eq - 1;
  if (valueLength < 1 || valueLength > MAX_VALUE) return false;
  // ',' cannot occur (members end at commas); the last character is not a space, as trailing OWS was trimmed.
  for (let i = eq + 1; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e || code === 0x3d) return false;
  }
  return true;
}

/*
 * Where the member that nextMember read last lies, without its OWS:
 * `value[member.from, member.to)`, empty when the two are equal. One object
 * for the module, rather than one returned per member or a callback, so that
 * reading a header allocates nothing; each caller reads it right after its
 * call, before anything can call nextMember again. (An object's fields
 * measured faster here than two module-level `let`s.)
 */
const member = { from: 0, to: 0 };

/**
 * Reads the list member of `value` that starts at `start` and runs to the
 * next ',' (or the end), trimmed of OWS, into `member`; returns where it ends:
 * the index of that ',', or value.length.
 */
function nextMember(value: string, start: number): number {
  let end = value.indexOf(',', start);
  if (end === -1) end = value.length;
  let from = start;
  let to = end;
  while (from < to && isOws(value.charCodeAt(from))) from++;
  while (to > from && isOws(value.charCodeAt(to - 1))) to--;
  member.from = from;
  member.to = to;
  return end;
}

/**
 * One tracestate header value: -1 when a member is invalid, otherwise the
 * number of members times 2, plus 1 when there is white space or an empty
 * member to remove (so the value cannot be passed on as it is).
 */
function scanMembers(value: string): number {
  let members = 0;
  let untidy = 0;
  for (let start = 0; start <= value.length; ) {
    const end = nextMember(value, start);
    if (member.from === member.to) untidy = 1;
    else {
      if (!isMember(value, member.from, member.to)) return -1;
      members++;
      if (member.from !== start || member.to !== end) untidy = 1;
    }
    start = end + 1;
  }
  return members * 2 + untidy;
}

/**
 * Validates and normalises tracestate header values (several headers join
 * with ',', in order), per Trace Context Level 2. Undefined when there is no
 * member, more than 32, or any member is not a valid `key=value`: one bad
 * member drops the whole header. White space around members and empty
 * members are removed; a key seen twice is passed on as it came.
 */
export function parseTracestate(values: readonly string[]): string | undefined {
  let members = 0;
  let untidy = values.length !== 1;
  for (const value of values) {
    const scanned = scanMembers(value);
    if (scanned === -1) return undefined;
    members += scanned >> 1;
    if ((scanned & 1) === 1) untidy = true;
  }
  if (members === 0 || members > MAX_MEMBERS) return undefined;
  return untidy ? joinMembers(values) : values[0];
}

/** The members of already validated values, trimmed, joined with ',' and nothing else. */
function joinMembers(values: readonly string[]): string {
  let out = '';
  for (const value of values) {
    for (let start = 0; start <= value.length; ) {
      const end = nextMember(value, start);
      if (member.from < member.to) {
        const text = value.slice(member.from, member.to);
        out = out.length === 0 ? text : `${out},${text}`;
      }
      start = end + 1;
    }
  }
  return out;
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
