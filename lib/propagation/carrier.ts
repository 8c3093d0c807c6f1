/**
 * Reading and writing headers on the carriers requests and messages come in:
 * Node's `IncomingHttpHeaders` (lower-case keys; a repeated header arrives
 * comma-joined, or as an array in `headersDistinct`), fetch `Headers`, `Map`s,
 * plain objects in any case, outgoing requests (`setHeader`), and message
 * headers whose values are `Buffer`s (Kafka clients).
 */

/** Reads a header; `name` is lower-case and must match case-insensitively. */
export interface Getter<C = unknown> {
  get(carrier: C, name: string): unknown;
}

/** Writes a header. */
export interface Setter<C = unknown> {
  set(carrier: C, name: string, value: string): void;
}

interface HeadersLike {
  get(name: string): string | null;
  set(name: string, value: string): void;
}

function isHeadersLike(carrier: object): carrier is HeadersLike {
  // fetch Headers (and undici's) match names case-insensitively themselves. Maps do not: handled below.
  return !(carrier instanceof Map) && typeof (carrier as HeadersLike).get === 'function' && typeof (carrier as HeadersLike).set === 'function';
}

/** Works on every carrier listed above. Own properties only: no value comes from a prototype. */
export const defaultGetter: Getter = {
  get(carrier, name) {
    if (carrier === null || typeof carrier !== 'object') return undefined;
    if (isHeadersLike(carrier)) {
      const value = carrier.get(name);
      return value === null ? undefined : value;
    }
    // Maps and plain objects may hold one header under several spellings ('traceparent' and
    // 'TraceParent'): that is the header repeated, so the values of every spelling are returned.
    let found: unknown[] | undefined;
    if (carrier instanceof Map) {
      for (const [key, value] of carrier) if (sameName(key, name)) (found ??= []).push(value);
    } else {
      const record = carrier as Record<string, unknown>;
      for (const key of Object.keys(record)) if (sameName(key, name)) (found ??= []).push(record[key]);
    }
    if (found === undefined) return undefined;
    return found.length === 1 ? found[0] : found.flat();
  },
};

function sameName(key: unknown, name: string): boolean {
  return typeof key === 'string' && key.length === name.length && (key === name || key.toLowerCase() === name);
}

/** Sets on fetch `Headers`, `Map`s, outgoing requests (`setHeader`) and plain objects. */
export const defaultSetter: Setter = {
  set(carrier, name, value) {
    if (carrier === null || typeof carrier !== 'object') return;
    const target = carrier as { setHeader?: unknown; set?: unknown };
    if (typeof target.setHeader === 'function') (target.setHeader as (n: string, v: string) => void)(name, value);
    else if (carrier instanceof Map || isHeadersLike(carrier)) (carrier as HeadersLike).set(name, value);
    else (carrier as Record<string, unknown>)[name] = value;
  },
};

/** A header that is present but cannot be valid: repeated where it must be single, or too long. */
export const INVALID = Symbol('invalid header');

/**
 * The values of one header as strings, or undefined when absent. Buffers are
 * decoded; arrays are kept as separate values. A value longer than
 * `maxLength` makes the whole header INVALID, before any parsing.
 */
export function readValues(getter: Getter, carrier: unknown, name: string, maxLength: number): string[] | undefined | typeof INVALID {
  let raw: unknown;
  try {
    raw = getter.get(carrier, name);
  } catch {
    return INVALID;
  }
  if (raw === undefined || raw === null) return undefined;
  const list = Array.isArray(raw) ? raw : [raw];
  const out: string[] = [];
  for (const item of list) {
    let text: string;
    if (typeof item === 'string') text = item;
    else if (item instanceof Uint8Array) {
      if (item.length > maxLength) return INVALID;
      text = Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('latin1');
    } else return INVALID;
    if (text.length > maxLength) return INVALID;
    out.push(text);
  }
  return out.length === 0 ? undefined : out;
}

/** Optional white space around a header value, as HTTP allows. */
export function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text.charCodeAt(start) === 32 || text.charCodeAt(start) === 9)) start++;
  while (end > start && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/**
 * A header that must appear once: its trimmed value, undefined when absent,
 * INVALID when repeated (as an array or comma-joined) or too long.
 */
export function readSingle(getter: Getter, carrier: unknown, name: string, maxLength: number): string | undefined | typeof INVALID {
  const values = readValues(getter, carrier, name, maxLength);
  if (values === undefined || values === INVALID) return values;
  if (values.length !== 1) return INVALID;
  const value = trimOws(values[0]!);
  return value.includes(',') ? INVALID : value;
}
