/**
 * Decoding `POST /api/v2/spans` bodies the way Zipkin's v2 JSON decoder
 * (zipkin2 `V2SpanReader` and the `Span`/`Endpoint` builders) does, so that a
 * body Zipkin takes is taken here and stored in the same normal form: ids
 * lower-hex and left-padded, service names lower-cased, zero times absent,
 * annotations sorted and de-duplicated, tags sorted by key. One difference:
 * span names are kept as sent ("Slow SQL"), where Zipkin lower-cases them;
 * the store lists and matches them lower-cased.
 *
 * Where Zipkin rejects (upper-case hex, an unknown kind, a tag without a value,
 * a port above 65535) this rejects too, with a message that names the span's
 * index and the field. Where Zipkin quietly drops (a negative timestamp, an IP
 * that does not parse, `debug: false`) this drops too.
 *
 * The work is bounded by the size of the text: `JSON.parse` is native and does
 * not recurse on the JS stack, and the walk below only descends the fixed
 * shape of a span (span → endpoint / annotation / tags), never into unknown
 * fields.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Endpoint, SpanKind, ZipkinAnnotation } from '../types.js';
import type { StoredSpan } from './types.js';

/** What {@link parseSpans} gives: the decoded spans, or why the body was refused. */
export type ParseSpansResult = { spans: StoredSpan[] } | { error: string };

const KINDS: ReadonlySet<string> = new Set<SpanKind>(['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER']);
const HEX = /^[0-9a-f]+$/;
const ALL_ZEROS = /^0+$/;

/**
 * Decodes a Zipkin v2 JSON list of spans.
 *
 * @param text the request body.
 * @returns the spans in the order given, normalized as Zipkin stores them, or
 *   `{ error }` naming the first bad span (by index) and field. An empty list
 *   is valid and gives no spans.
 */
export function parseSpans(text: string): ParseSpansResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `not valid JSON: ${(error as Error).message}` };
  }
  if (!Array.isArray(value)) return { error: `expected a JSON list of spans, got ${describe(value)}` };
  const spans: StoredSpan[] = [];
  for (let i = 0; i < value.length; i++) {
    const span = normalizeSpan(value[i], i);
    if (typeof span === 'string') return { error: span };
    spans.push(span);
  }
  return { spans };
}

/**
 * Checks and normalizes one decoded JSON value as a Zipkin v2 span (what
 * {@link parseSpans} does to each element; the data file reuses it).
 *
 * @param value one element of the list, as `JSON.parse` gave it.
 * @param index its position, for the message.
 * @returns the span, or an error message starting `span <index>: `.
 */
export function normalizeSpan(value: unknown, index: number): StoredSpan | string {
  const where = `span ${index}`;
  if (!isObject(value)) return `${where}: expected an object, got ${describe(value)}`;

  const traceIdText = stringOf(value.traceId);
  if (traceIdText === undefined) return `${where}: traceId ${value.traceId == null ? 'is missing' : `is ${describe(value.traceId)}, not a string`}`;
  const traceId = normalizeTraceId(traceIdText);
  if (traceId === undefined) return `${where}: ${idProblem('traceId', traceIdText, 32)}`;

  const idText = stringOf(value.id);
  if (idText === undefined) return `${where}: id ${value.id == null ? 'is missing' : `is ${describe(value.id)}, not a string`}`;
  const id = normalizeSpanId(idText);
  if (id === undefined || id === '') return `${where}: ${idProblem('id', idText, 16)}`;

  const span: StoredSpan = { traceId, id };

  if (value.parentId != null) {
    const text = stringOf(value.parentId);
    if (text === undefined) return `${where}: parentId is ${describe(value.parentId)}, not a string`;
    const parentId = normalizeSpanId(text);
    if (parentId === undefined) return `${where}: ${idProblem('parentId', text, 16)}`;
    // Zipkin reads an all-zeros parent as "no parent", and a span as its own parent as a root.
    if (parentId !== '' && parentId !== id) span.parentId = parentId;
  }

  if (value.kind != null) {
    if (typeof value.kind !== 'string' || !KINDS.has(value.kind)) return `${where}: kind ${describe(value.kind)} is not one of CLIENT, SERVER, PRODUCER, CONSUMER`;
    span.kind = value.kind as SpanKind;
  }

  if (value.name != null) {
    const name = stringOf(value.name);
    if (name === undefined) return `${where}: name is ${describe(value.name)}, not a string`;
    // Kept as sent ("Slow SQL"), where Zipkin lower-cases it: the page shows the name the code gave. The
    // store lists and matches names lower-cased, so queries behave as Zipkin's do.
    if (name !== '') span.name = name;
  }

  for (const field of ['timestamp', 'duration'] as const) {
    if (value[field] == null) continue;
    const n = longOf(value[field]);
    if (typeof n === 'string') return `${where}: ${field} ${n}`;
    // Zipkin keeps zero as "absent" and coerces a negative time to it.
    if (n > 0) span[field] = n;
  }

  for (const field of ['localEndpoint', 'remoteEndpoint'] as const) {
    if (value[field] == null) continue;
    const endpoint = endpointOf(value[field]);
    if (typeof endpoint === 'string') return `${where}: ${field}${endpoint}`;
    if (endpoint !== undefined) span[field] = endpoint;
  }

  if (value.annotations != null) {
    const annotations = annotationsOf(value.annotations);
    if (typeof annotations === 'string') return `${where}: annotations${annotations}`;
    if (annotations.length > 0) span.annotations = annotations;
  }

  if (value.tags != null) {
    const tags = tagsOf(value.tags);
    if (typeof tags === 'string') return `${where}: tags${tags}`;
    if (tags !== undefined) span.tags = tags;
  }

  for (const field of ['debug', 'shared'] as const) {
    if (value[field] == null) continue;
    if (typeof value[field] !== 'boolean') return `${where}: ${field} is ${describe(value[field])}, not true or false`;
    if (value[field] === true) span[field] = true;
  }
  // Zipkin: shared is for the server side; a client that claims it is corrected, not refused.
  if (span.shared && span.kind === 'CLIENT') delete span.shared;

  return span;
}

/**
 * Zipkin's `Span.normalizeTraceId`: 1 to 32 lower-case hex digits, not all
 * zeros, left-padded to 16 or 32; a 32-digit id whose upper half is zeros
 * becomes its 16-digit lower half.
 *
 * @param traceId the id as given (not lower-cased: Zipkin refuses upper-case).
 * @returns the normal form, or `undefined` when Zipkin would refuse it.
 */
export function normalizeTraceId(traceId: string): string | undefined {
  const length = traceId.length;
  if (length === 0 || length > 32 || !HEX.test(traceId) || ALL_ZEROS.test(traceId)) return undefined;
  const padded = length <= 16 ? traceId.padStart(16, '0') : traceId.padStart(32, '0');
  return padded.length === 32 && padded.startsWith('0000000000000000') ? padded.slice(16) : padded;
}

/**
 * A span or parent id: 1 to 16 lower-case hex digits, left-padded to 16.
 *
 * @returns the padded id; `''` when it is all zeros (no id: a parent id that
 *   Zipkin drops, a span id it refuses); `undefined` when it is not hex or too long.
 */
export function normalizeSpanId(id: string): string | undefined {
  if (id.length === 0 || id.length > 16 || !HEX.test(id)) return undefined;
  return ALL_ZEROS.test(id) ? '' : id.padStart(16, '0');
}

function idProblem(field: string, text: string, max: number): string {
  const shown = quote(text);
  if (text.length > 0 && text.length <= max && /^[0-9a-fA-F]+$/.test(text)) {
    if (ALL_ZEROS.test(text)) return `${field} ${shown} is all zeros`;
    return `${field} ${shown} is not lower-case hex (Zipkin refuses upper-case ids)`;
  }
  return `${field} ${shown} is not 1 to ${max} hex digits`;
}

/** Gson's `nextString`, which Zipkin uses, also takes a JSON number and gives its text. */
function stringOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Gson's `nextLong`: an integral number, or a string holding one. Returns a message when it is neither. */
function longOf(value: unknown): number | string {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^-?\d+$/.test(value)) n = Number(value);
  else return `is ${describe(value)}, not an integer`;
  if (!Number.isInteger(n)) return `${describe(value)} is not an integer`;
  // Beyond 2^53 a JSON number has already lost digits: refuse rather than store a different time.
  if (!Number.isSafeInteger(n)) return `${describe(value)} is too large`;
  return n;
}

/** An endpoint object; `undefined` when it holds nothing (Zipkin drops an empty endpoint); a message suffix when invalid. */
function endpointOf(value: unknown): Endpoint | undefined | string {
  if (!isObject(value)) return ` is ${describe(value)}, not an object`;
  const endpoint: Endpoint = {};
  if (value.serviceName != null) {
    const name = stringOf(value.serviceName);
    if (name === undefined) return `.serviceName is ${describe(value.serviceName)}, not a string`;
    if (name !== '') endpoint.serviceName = name.toLowerCase();
  }
  // Zipkin parses either field as an address of whichever family it is, and ignores what does not parse.
  for (const field of ['ipv4', 'ipv6'] as const) {
    if (value[field] == null) continue;
    const text = stringOf(value[field]);
    if (text === undefined) return `.${field} is ${describe(value[field])}, not a string`;
    parseIp(text, endpoint);
  }
  if (value.port != null) {
    const port = value.port;
    if (typeof port !== 'number' || !Number.isInteger(port)) return `.port ${describe(port)} is not an integer`;
    if (port > 0xffff) return `.port ${port} is above 65535`;
    if (port > 0) endpoint.port = port;
  }
  return endpoint.serviceName === undefined && endpoint.ipv4 === undefined && endpoint.ipv6 === undefined && endpoint.port === undefined
    ? undefined
    : endpoint;
}

/** Zipkin's `Endpoint.Builder.parseIp`: IPv4 as given, IPv4 embedded in IPv6 as IPv4, other IPv6 in canonical form. */
function parseIp(text: string, endpoint: Endpoint): void {
  if (isIPv4(text)) {
    endpoint.ipv4 = text;
    return;
  }
  if (!isIPv6(text)) return;
  const embedded = /^::(?:ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  if (embedded && isIPv4(embedded[1]!)) {
    endpoint.ipv4 = embedded[1]!;
    return;
  }
  // The URL parser serializes IPv6 canonically (RFC 5952): lower-case, longest zero run compressed.
  endpoint.ipv6 = new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

/** Annotations sorted by time then value, duplicates removed, as Zipkin's Span keeps them. */
function annotationsOf(value: unknown): ZipkinAnnotation[] | string {
  if (!Array.isArray(value)) return ` is ${describe(value)}, not a list`;
  const out: ZipkinAnnotation[] = [];
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (!isObject(item)) return `[${i}] is ${describe(item)}, not an object`;
    if (item.timestamp == null || item.value == null) return `[${i}] is incomplete: it needs a timestamp and a value`;
    const timestamp = longOf(item.timestamp);
    if (typeof timestamp === 'string') return `[${i}].timestamp ${timestamp}`;
    const text = stringOf(item.value);
    if (text === undefined) return `[${i}].value is ${describe(item.value)}, not a string`;
    out.push({ timestamp, value: text });
  }
  return sortAnnotations(out);
}

/**
 * Sorts annotations by timestamp, then value, and removes exact duplicates
 * (Zipkin's `Span.sortedList`). Returns a new array.
 */
export function sortAnnotations(annotations: readonly ZipkinAnnotation[]): ZipkinAnnotation[] {
  const sorted = [...annotations].sort((a, b) => a.timestamp - b.timestamp || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  const out: ZipkinAnnotation[] = [];
  for (const a of sorted) {
    const last = out[out.length - 1];
    if (last === undefined || last.timestamp !== a.timestamp || last.value !== a.value) out.push(a);
  }
  return out;
}

/** Tags as string → string, sorted by key; a null value is refused (Zipkin: "No value at"). */
function tagsOf(value: unknown): Record<string, string> | undefined | string {
  if (!isObject(value)) return ` is ${describe(value)}, not an object`;
  const entries: [string, string][] = [];
  for (const key of Object.keys(value)) {
    const raw = value[key];
    if (raw === null || raw === undefined) return `[${quote(key)}] has no value`;
    const text = stringOf(raw);
    if (text === undefined) return `[${quote(key)}] is ${describe(raw)}, not a string`;
    entries.push([key, text]);
  }
  if (entries.length === 0) return undefined;
  return tagObject(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * A plain object of the given tag entries, in order. Keys are defined as own
 * properties, so a `__proto__` key is a tag like any other rather than a
 * change of prototype.
 */
export function tagObject(entries: Iterable<readonly [string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return quote(value);
  return String(value);
}

/** JSON-quoted and cut short, so a message never echoes a huge or control-laden value. */
function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}
