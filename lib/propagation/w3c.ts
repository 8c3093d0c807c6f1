import { isSpanId, isTraceId } from '../ids.js';
import type { ExtractedContext, TraceContext } from '../types.js';
import {
  defaultGetter,
  defaultSetter,
  doneReading,
  holds,
  INVALID,
  readerFor,
  readsDirectly,
  readSingle,
  readValues,
  setsProperties,
  singleOf,
  TRACEPARENT as TRACEPARENT_BIT,
  TRACESTATE as TRACESTATE_BIT,
  type Getter,
  type Setter,
} from './carrier.js';
import { isValidContext, makeContext } from '../trace-context.js';
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
/** The flag that says the trace id's right 7 bytes are random (Level 2). */
export const RANDOM_FLAG = 0x02;
const MAX_MEMBERS = 32;

/*
 * `{version}-{trace-id}-{parent-id}-{flags}`: 2, 32, 16 and 2 lower-case hex
 * digits. Version 00 ends there; a later version must start the same way, and
 * what follows a further '-' is that version's business. Read by position, as
 * every field has a fixed length: a regular expression's match array and
 * captures cost more than the rest of the extraction.
 */
const TRACEPARENT_LENGTH = 55;
const DASH = 45;

/** The value of a lower-case hex digit, or -1. */
function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** After version 00's fields, a later version has nothing, or '-' and anything on one line. */
function isLaterVersionTail(value: string): boolean {
  if (value.length === TRACEPARENT_LENGTH) return true;
  return value.length > TRACEPARENT_LENGTH && value.charCodeAt(TRACEPARENT_LENGTH) === DASH && !LINE_BREAK.test(value);
}

const LINE_BREAK = /[\n\r\u2028\u2029]/;

/**
 * Checks a traceparent value but for its ids: version, field lengths, dashes
 * and flags. Its flags byte, or -1 when one of them is not valid.
 */
function scanTraceparent(value: string): number {
  const v0 = hexDigit(value.charCodeAt(0));
  const v1 = hexDigit(value.charCodeAt(1));
  if (v0 < 0 || v1 < 0 || (v0 === 15 && v1 === 15)) return -1;
  if (v0 === 0 && v1 === 0 ? value.length !== TRACEPARENT_LENGTH : !isLaterVersionTail(value)) return -1;
  if (value.charCodeAt(2) !== DASH || value.charCodeAt(35) !== DASH || value.charCodeAt(52) !== DASH) return -1;
  const f0 = hexDigit(value.charCodeAt(53));
  const f1 = hexDigit(value.charCodeAt(54));
  if (f0 < 0 || f1 < 0) return -1;
  return f0 * 16 + f1;
}

/**
 * The flags of a valid traceparent value of the trace `traceId` (a valid id,
 * 64-bit ones zero-padded as W3C writes them), or -1 when the value is not
 * valid or is another trace's. Its trace id is compared as text, without
 * being cut out or checked digit by digit: equal to a valid id, it is one.
 */
export function traceparentFlags(value: string, traceId: string): number {
  const same = traceId.length === 32 ? value.startsWith(traceId, 3) : value.startsWith(ZERO_HALF, 3) && value.startsWith(traceId, 19);
  const flags = same ? scanTraceparent(value) : -1;
  return flags >= 0 && isSpanId(value.slice(36, 52)) ? flags : -1;
}

const ZERO_HALF = '0000000000000000';

/** The flags byte as traceparent writes it, for the four combinations of sampled and random. */
const FLAGS_TEXT = ['00', '01', '02', '03'] as const;

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
    if (!isValidContext(context)) return;
    const full = context;
    const flags = (full.sampled === true || full.debug ? SAMPLED_FLAG : 0) | (full.random === true ? RANDOM_FLAG : 0);
    const traceparent = `00-${w3cTraceId(full.traceId)}-${full.spanId}-${FLAGS_TEXT[flags]!}`;
    const tracestate = full.tracestate !== undefined && full.tracestate.length > 0 ? full.tracestate : undefined;
    if (setsProperties(carrier, setter)) {
      // By name, as B3's inject does for a plain object.
      carrier.traceparent = traceparent;
      if (tracestate !== undefined) carrier.tracestate = tracestate;
    } else {
      setter.set(carrier, TRACEPARENT, traceparent);
      if (tracestate !== undefined) setter.set(carrier, TRACESTATE, tracestate);
    }
  }

  extract(carrier: unknown, getter: Getter = defaultGetter): TraceContext | undefined {
    const get = readerFor(carrier, getter);
    const found = readW3C(carrier, get);
    if (get !== getter) doneReading();
    return found;
  }
}

/**
 * The carrier's traceparent, as readSingle gives it: by name when `get`
 * reads the carrier directly, which V8 caches for the carrier's shape.
 */
export function readTraceparent(get: Getter, carrier: unknown): string | undefined | typeof INVALID {
  if (readsDirectly(get, carrier)) {
    if (!holds(TRACEPARENT_BIT)) return undefined;
    let raw: unknown;
    try {
      raw = carrier.traceparent;
    } catch {
      return INVALID;
    }
    if (raw === undefined) return undefined;
    if (typeof raw === 'string') return singleOf(raw, MAX_TRACEPARENT);
  }
  return readSingle(get, carrier, TRACEPARENT, MAX_TRACEPARENT);
}

/** The traceparent and tracestate of a carrier read with `get`. */
function readW3C(carrier: unknown, get: Getter): TraceContext | undefined {
  const value = readTraceparent(get, carrier);
  if (value === undefined || value === INVALID) return undefined;
  const flags = scanTraceparent(value);
  if (flags < 0) return undefined;
  const traceId = value.slice(3, 35);
  const parentId = value.slice(36, 52);
  if (!isTraceId(traceId) || !isSpanId(parentId)) return undefined;
  return makeContext(traceId, parentId, undefined, (flags & SAMPLED_FLAG) !== 0, false, false, readTracestate(get, carrier), 'w3c', (flags & RANDOM_FLAG) !== 0);
}

/** The carrier's tracestate, validated; undefined when absent, too long or invalid. */
export function readTracestate(getter: Getter, carrier: unknown): string | undefined {
  if (readsDirectly(getter, carrier) && !holds(TRACESTATE_BIT)) return undefined;
  const values = readValues(getter, carrier, TRACESTATE, MAX_TRACESTATE);
  if (values === undefined || values === INVALID) return undefined;
  let total = 0;
  for (const v of values) total += v.length;
  return total > MAX_TRACESTATE ? undefined : parseTracestate(values);
}

