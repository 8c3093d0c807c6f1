/**
 * A finished span written straight into a byte buffer as Zipkin v2 JSON:
 * exactly the UTF-8 of `encodeFinishedSpan` (zipkin-json.ts), byte for byte,
 * without making the text first.
 *
 * Why: a span's text is built by concatenation, which V8 keeps as a rope of a
 * few dozen pieces; the queue then had to flatten it to measure its bytes
 * (`Buffer.byteLength`), keep it until its batch went (a rope that lives
 * through a scavenge is copied, piece by piece), and write it out again into
 * the request's body. Written here into the queue's chunk (span-queue.ts),
 * the span is measured by writing it, held outside V8's heap, and copied
 * into the body as raw bytes. The way out of a span got 0.2 to 0.5 µs
 * cheaper, and allocates about 40 bytes of V8 heap where it allocated about
 * 1,000 (bench/README.md, Reporting).
 *
 * Printable ASCII (ids, digits, field names, most names and tag values) is
 * written by a loop; anything else (a string that needs escaping or is not
 * ASCII, a number that is not a safe integer) is written as the text the
 * string encoder makes of it, so the two cannot disagree.
 */
import { endpoint, int, micros, remembered, reportedTags, stringMap, type FinishedSpan } from './zipkin-json.js';
import { quote } from './json-string.js';

/**
 * The method by which a tracer hands a reporter of the same copy of ziptrace
 * its finished spans as they are, for the reporter to encode into its own
 * bytes (`HttpReporter` and `OtlpReporter` queue them so). A symbol of this
 * module, so that only a tracer and a reporter of one copy use it: another
 * copy's spans may not have the fields this encoder reads, and its tracer
 * calls `reportJson` instead.
 */
export const REPORT_FINISHED = Symbol('ziptrace.report-finished');

/** A reporter that takes finished spans by {@link REPORT_FINISHED}. */
export interface FinishedSpanReporter {
  /** Queues `span`, whose local endpoint is `endpointPart` (`,"localEndpoint":{...}`, as localEndpointPart gives it). Never throws on purpose. */
  [REPORT_FINISHED](span: FinishedSpan, endpointPart: string): void;
}

/** {@link encodeFinishedSpanInto}'s answer when the buffer has too little room from `at`: nothing usable was written. */
export const NO_ROOM = -1;

const encoder = new TextEncoder();
/**
 * A text's UTF-8 in an array of its own: a small `Buffer.from` is a slice of
 * Node's shared 8 KB pool, and a remembered slice would keep its whole slab.
 */
export const utf8 = (text: string): Uint8Array => encoder.encode(text);

/**
 * What follows the ids up to the timestamp's digits, as bytes:
 * `","name":"...","kind":"...","timestamp":` (name and kind when the span
 * has them), one part remembered by name for each kind, copied at once.
 */
const headParts = new Map<string | undefined, (name: string) => Uint8Array>();
function headPart(kind: string | undefined, name: string): Uint8Array {
  let part = headParts.get(kind);
  if (part === undefined) {
    // The kind as the text encoder writes it: one of the tracer's four, as it is.
    const kindPart = kind === undefined ? '' : ',"kind":"' + kind + '"';
    headParts.set(kind, (part = remembered((text) => utf8('"' + (text.length > 0 ? ',"name":' + quote(text) : '') + kindPart + ',"timestamp":'))));
  }
  return part(name);
}
/** `"key":` of a tag key, as bytes. */
const keyPart = remembered((key) => utf8(quote(key) + ':'));
/** `,"remoteEndpoint":` and the JSON of frozen endpoints (a server socket's, for as long as it lives), as bytes. */
const frozenEndpoints = new WeakMap<object, Uint8Array>();

const bytesOf = utf8;
const TRACE_ID = bytesOf('{"traceId":"');
const ID = bytesOf('","id":"');
const PARENT_ID = bytesOf('","parentId":"');
const DURATION = bytesOf(',"duration":');
/** The remote endpoint's key: alone before an endpoint that is not frozen, in one part with a frozen one's JSON. */
const REMOTE_KEY = ',"remoteEndpoint":';
const REMOTE = bytesOf(REMOTE_KEY);
const ANNOTATIONS = bytesOf(',"annotations":[');
const ANNOTATION = bytesOf('{"timestamp":');
const VALUE = bytesOf(',"value":');
const TAGS = bytesOf(',"tags":');
const DEBUG = bytesOf(',"debug":true');
const SHARED = bytesOf(',"shared":true');
/**
 * Room asked for the fixed fields before they are written (the ids, two
 * numbers and the constant parts take about 150 bytes at most), beside the
 * head part (name and kind) and the local endpoint: a span is refused when
 * less than that is left, even if it would have fitted.
 */
export const HEAD_ROOM = 256;

/**
 * Writes `span` as Zipkin v2 JSON into `buf` from `at`: the same bytes as
 * `Buffer.from(encodeFinishedSpan(span, endpointPart))`, `endpoint` being
 * the bytes of `endpointPart`. Gives the offset just past the span, or
 * {@link NO_ROOM} when it does not fit before `buf.length`, or when less than
 * {@link HEAD_ROOM} bytes beside its name and endpoint are left (what was
 * written from `at` is then garbage; nothing before `at` is touched).
 */
export function encodeFinishedSpanInto(span: FinishedSpan, endpoint: Uint8Array, buf: Buffer, at: number): number {
  const end = buf.length;
  const context = span.context;
  const head = headPart(span._kind, span._name);
  if (at + HEAD_ROOM + endpoint.length + head.length > end) return NO_ROOM;
  // The ids are the tracer's own, checked lower-case hex: written as they are.
  at = bytes(TRACE_ID, buf, at);
  at = ascii(context.traceId, buf, at);
  at = bytes(ID, buf, at);
  at = ascii(context.spanId, buf, at);
  if (context.parentId !== undefined) {
    at = bytes(PARENT_ID, buf, at);
    at = ascii(context.parentId, buf, at);
  }
  at = bytes(head, buf, at);
  at = timestamp(span._timestamp, buf, at);
  if (!room(at, DURATION.length, end)) return NO_ROOM;
  at = bytes(DURATION, buf, at);
  const duration = span._duration;
  at = Number.isSafeInteger(duration) && duration >= 0 ? digits(duration, buf, at) : text(int(duration), buf, at);
  // A number that is not a safe integer may have taken more than its share of HEAD_ROOM: measured again.
  if (!room(at, endpoint.length, end)) return NO_ROOM;
  at = bytes(endpoint, buf, at);
  const remote = span._remote;
  if (remote !== undefined) {
    at = remoteEndpoint(remote, buf, at);
    if (at === NO_ROOM) return NO_ROOM;
  }
  const annotations = span._annotations;
  if (annotations !== undefined && annotations.length > 0) {
    if (!room(at, ANNOTATIONS.length, end)) return NO_ROOM;
    at = bytes(ANNOTATIONS, buf, at);
    for (let i = 0; i < annotations.length; i++) {
      const a = annotations[i]!;
      // A comma, the part, a timestamp of at most 16 digits (any other number measures itself).
      if (!room(at, 1 + ANNOTATION.length + 16, end)) return NO_ROOM;
      if (i > 0) buf[at++] = 0x2c;
      at = bytes(ANNOTATION, buf, at);
      at = timestamp(a.timestamp, buf, at);
      if (!room(at, VALUE.length, end)) return NO_ROOM;
      at = quoted(a.value, buf, bytes(VALUE, buf, at));
      if (!room(at, 1, end)) return NO_ROOM;
      buf[at++] = 0x7d; // }
    }
    if (!room(at, 1, end)) return NO_ROOM;
    buf[at++] = 0x5d; // ]
  }
  const tags = reportedTags(span);
  if (tags !== undefined) {
    at = tagsInto(tags, buf, at);
    if (at === NO_ROOM) return NO_ROOM;
  }
  if (!room(at, DEBUG.length + SHARED.length + 1, end)) return NO_ROOM;
  if (context.debug) at = bytes(DEBUG, buf, at);
  if (context.shared) at = bytes(SHARED, buf, at);
  buf[at++] = 0x7d; // }
  return at;
}

/** `,"tags":{...}` as stringMap writes it: a value that is not a string makes it JSON.stringify's text, written as it is. */
function tagsInto(tags: Record<string, string>, buf: Buffer, at: number): number {
  const end = buf.length;
  if (!room(at, TAGS.length + 1, end)) return NO_ROOM;
  at = bytes(TAGS, buf, at);
  const start = at;
  buf[at++] = 0x7b; // {
  let first = true;
  // Own enumerable keys in their order: what stringMap visits. The span's tags
  // are a plain object (or have no prototype), whose own keys for-in finds
  // first in that order, with no array of keys made; keys of the prototype
  // only if something made a property of Object.prototype enumerable.
  const inherited = prototypeEnumerates();
  for (const key in tags) {
    if (inherited && !Object.hasOwn(tags, key)) continue;
    const value = tags[key];
    if (typeof value !== 'string') return text(stringMap(tags), buf, start);
    at = tag(key, value, first, buf, at);
    if (at === NO_ROOM) return NO_ROOM;
    first = false;
  }
  if (!room(at, 1, buf.length)) return NO_ROOM;
  buf[at++] = 0x7d; // }
  return at;
}

/** Whether for-in over a plain object would find a key of Object.prototype (someone made one enumerable). */
function prototypeEnumerates(): boolean {
  for (const _ in Object.prototype) return true;
  return false;
}

function tag(key: string, value: string, first: boolean, buf: Buffer, at: number): number {
  const part = keyPart(key);
  if (!room(at, 1 + part.length, buf.length)) return NO_ROOM;
  if (!first) buf[at++] = 0x2c;
  return quoted(value, buf, bytes(part, buf, at));
}

/** `,"remoteEndpoint":{...}`: for a frozen endpoint, the key and the JSON remembered as one part, copied at once. */
function remoteEndpoint(value: NonNullable<FinishedSpan['_remote']>, buf: Buffer, at: number): number {
  if (!Object.isFrozen(value)) {
    if (!room(at, REMOTE.length, buf.length)) return NO_ROOM;
    return text(endpoint(value), buf, bytes(REMOTE, buf, at));
  }
  let part = frozenEndpoints.get(value);
  if (part === undefined) frozenEndpoints.set(value, (part = utf8(REMOTE_KEY + endpoint(value))));
  return room(at, part.length, buf.length) ? bytes(part, buf, at) : NO_ROOM;
}

function room(at: number, n: number, end: number): boolean {
  return at !== NO_ROOM && at + n <= end;
}

/** Bytes copied; a loop for the short parts, where a call into the copy costs more than the copy. Room checked by the caller. */
function bytes(src: Uint8Array, buf: Buffer, at: number): number {
  const n = src.length;
  if (n > 8) {
    buf.set(src, at);
    return at + n;
  }
  for (let i = 0; i < n; i++) buf[at + i] = src[i]!;
  return at + n;
}

/** A text known to be ASCII (hex ids, a span kind). Room checked by the caller. */
function ascii(value: string, buf: Buffer, at: number): number {
  const n = value.length;
  for (let i = 0; i < n; i++) buf[at + i] = value.charCodeAt(i);
  return at + n;
}

/** A string as quote() quotes it: as it is between quotes when it is printable ASCII without `"` or `\`, else JSON.stringify's text. */
function quoted(value: string, buf: Buffer, at: number): number {
  const n = value.length;
  // Too long for the room left even unescaped: quote() and text() say whether it fits at all.
  if (at + n + 2 > buf.length) return text(quote(value), buf, at);
  buf[at] = 0x22;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    // quote() leaves a long plain string to JSON.stringify, which quotes it the same way.
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return text(quote(value), buf, at);
    buf[at + 1 + i] = c;
  }
  buf[at + 1 + n] = 0x22;
  return at + n + 2;
}

/** Any text as UTF-8, or NO_ROOM. */
function text(value: string, buf: Buffer, at: number): number {
  const room = buf.length - at;
  // Three bytes a UTF-16 unit at most; measured only when that might not fit.
  if (value.length * 3 > room && Buffer.byteLength(value) > room) return NO_ROOM;
  return at + buf.write(value, at, 'utf8');
}

/**
 * The second of the last timestamp written, and its digits: a span's
 * timestamp has 16 digits, of which the first 10 change once a second. They
 * are copied, and only the microseconds' six are worked out.
 */
let lastSecond = -1;
const secondDigits = Buffer.alloc(16);
let secondLength = 0;

/** As micros(): a safe integer's digits, anything else its JSON text. */
function timestamp(value: number, buf: Buffer, at: number): number {
  if (!(Number.isSafeInteger(value) && value >= 0)) return text(micros(value), buf, at);
  if (value < 1_000_000) return small(value, buf, at);
  // Exact: the quotient is rounded to the nearest double, and a safe integer's is never within
  // half a double's spacing (under 1e-6 below 2^53 / 10^6) of the next whole second.
  const second = Math.floor(value / 1_000_000);
  let rest = value - second * 1_000_000;
  if (second !== lastSecond) {
    secondLength = digits(second, secondDigits, 0);
    lastSecond = second;
  }
  for (let i = 0; i < secondLength; i++) buf[at + i] = secondDigits[i]!;
  at += secondLength;
  for (let i = at + 5; i >= at; i--) {
    const next = (rest / 10) | 0;
    buf[i] = 0x30 + rest - next * 10;
    rest = next;
  }
  return at + 6;
}

/** The decimal digits of a safe integer of at least 0 (at most 16 digits). Room checked by the caller. */
function digits(value: number, buf: Buffer, at: number): number {
  // Two halves of at most 8 digits each, so that the loops run on small integers.
  const high = Math.floor(value / 100_000_000);
  let low = value - high * 100_000_000;
  if (high === 0) return small(low, buf, at);
  at = small(high, buf, at);
  for (let i = at + 7; i >= at; i--) {
    const next = (low / 10) | 0;
    buf[i] = 0x30 + low - next * 10;
    low = next;
  }
  return at + 8;
}

/** The digits of 0 ≤ value < 10^8, unpadded. */
function small(value: number, buf: Buffer, at: number): number {
  let n = 1;
  for (let x = value; x >= 10; x = (x / 10) | 0) n++;
  for (let i = at + n - 1; i >= at; i--) {
    const next = (value / 10) | 0;
    buf[i] = 0x30 + value - next * 10;
    value = next;
  }
  return at + n;
}
