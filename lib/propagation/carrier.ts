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

/*
 * The built-in propagators read up to eight names from each carrier; scanning
 * every key of a plain object for each of them, as the case-insensitive match
 * above must, was half of what extracting a context cost. Node's
 * IncomingHttpHeaders always has lower-case keys, so one pass over the keys
 * first checks that none of them could be a trace header in another spelling,
 * and notes which trace headers are there: then `carrier[name]` of a noted
 * name is the whole answer, and a name not noted is absent without a lookup.
 * The pass sees what Object.keys would (own enumerable keys), since
 * Object.prototype is checked to hold no trace header's name (a polluted
 * prototype makes the pass give up): no Object.hasOwn per read, which cost
 * more than the read. It looks at most keys only for their length and first
 * letter, since each character a JavaScript loop reads costs about as much as
 * a property lookup.
 */

/** The bit of each trace header's name, for the set of names a checked carrier holds. */
export const B3 = 1;
export const X_B3_TRACEID = 2;
export const X_B3_SPANID = 4;
export const X_B3_PARENTSPANID = 8;
export const X_B3_SAMPLED = 16;
export const X_B3_FLAGS = 32;
export const TRACEPARENT = 64;
export const TRACESTATE = 128;

/** The bit of a trace header's name in lower case; 0 for any other name. */
function traceNameBit(name: string): number {
  switch (name) {
    case 'b3':
      return B3;
    case 'x-b3-traceid':
      return X_B3_TRACEID;
    case 'x-b3-spanid':
      return X_B3_SPANID;
    case 'x-b3-parentspanid':
      return X_B3_PARENTSPANID;
    case 'x-b3-sampled':
      return X_B3_SAMPLED;
    case 'x-b3-flags':
      return X_B3_FLAGS;
    case 'traceparent':
      return TRACEPARENT;
    case 'tracestate':
      return TRACESTATE;
    default:
      return 0;
  }
}

/** Bit n set: some trace header name has n characters (b3; x-b3-flags, tracestate; x-b3-spanid, traceparent; x-b3-traceid, x-b3-sampled; x-b3-parentspanid). */
const TRACE_NAME_LENGTHS = (1 << 2) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 17);

/**
 * Whether `key`, not a trace header's name in lower case, might be one in
 * another spelling: false for every key that is not of a trace header's
 * length or does not start with b, t or x in either case.
 */
function mayBeOtherSpelling(key: string): boolean {
  const length = key.length;
  if (length >= 32 || ((TRACE_NAME_LENGTHS >>> length) & 1) === 0) return false;
  const first = key.charCodeAt(0) | 0x20;
  if (first !== 0x78 && first !== 0x74 && first !== 0x62) return false;
  return key.toLowerCase() !== key;
}

/** Whether Object.prototype holds a trace header's name (`in` sees non-enumerable ones too). */
function prototypeHasTraceName(): boolean {
  const p = Object.prototype;
  return 'b3' in p || 'x-b3-traceid' in p || 'x-b3-spanid' in p || 'x-b3-parentspanid' in p || 'x-b3-sampled' in p || 'x-b3-flags' in p || 'traceparent' in p || 'tracestate' in p;
}

/*
 * The carrier the extract running now has checked, and the trace headers it
 * holds, so that the formats a CompositePropagator reads it with do not check
 * it again; set by {@link readerFor}, cleared by {@link doneReading}.
 */
let checkedCarrier: unknown;
let checkedNames = 0;

/**
 * Reads a checked carrier's trace headers by direct lookup. Handed to a
 * user's propagator inside a CompositePropagator, it reads any other name,
 * or any other carrier, by the full case-insensitive match.
 */
const lowerCaseGetter: Getter = {
  get(carrier, name) {
    const bit = carrier === checkedCarrier ? traceNameBit(name) : 0;
    if (bit === 0) return defaultGetter.get(carrier, name);
    return (checkedNames & bit) === 0 ? undefined : (carrier as Record<string, unknown>)[name];
  },
};

/**
 * The getter to read `carrier` with: `getter` itself, unless it is the
 * default and the carrier a plain object (not a Map, not Headers-like) that
 * the pass above finds readable by direct lookups. Called once per extract,
 * before any read, so a carrier changed between two extracts is checked
 * again. Never throws: a carrier that throws when looked at (a Proxy) is read
 * by the default getter, whose reads catch.
 */
export function readerFor(carrier: unknown, getter: Getter): Getter {
  if (getter === lowerCaseGetter) {
    if (carrier === checkedCarrier) return getter;
  } else if (getter !== defaultGetter) return getter;
  if (carrier === null || typeof carrier !== 'object') return defaultGetter;
  try {
    if (carrier instanceof Map || isHeadersLike(carrier)) return defaultGetter;
    const proto = Object.getPrototypeOf(carrier) as unknown;
    if ((proto !== Object.prototype && proto !== null) || prototypeHasTraceName()) return defaultGetter;
    let names = 0;
    for (const key in carrier) {
      const bit = traceNameBit(key);
      if (bit !== 0) names |= bit;
      else if (mayBeOtherSpelling(key)) return defaultGetter;
    }
    checkedCarrier = carrier;
    checkedNames = names;
    return lowerCaseGetter;
  } catch {
    return defaultGetter;
  }
}

/** Ends an extract's use of the carrier {@link readerFor} checked: its reads are direct only until then. */
export function doneReading(): void {
  checkedCarrier = undefined;
  checkedNames = 0;
}

/**
 * Whether `getter` reads `carrier` by direct lookups: {@link readerFor}
 * checked it in the extract running now. A propagator may then read a trace
 * header whose bit {@link holds} says is there as `carrier[name]` itself, by
 * name, which V8 caches for the carrier's shape where a lookup by a computed
 * name cannot be; a header it does not hold is absent.
 */
export function readsDirectly(getter: Getter, carrier: unknown): carrier is Record<string, unknown> {
  return getter === lowerCaseGetter && carrier === checkedCarrier;
}

/** Whether the carrier being read directly holds no trace header at all (of the eight names above). */
export function holdsNoTraceHeader(): boolean {
  return checkedNames === 0;
}

/** Whether the carrier being read directly holds the trace header of `bit`. */
export function holds(bit: number): boolean {
  return (checkedNames & bit) !== 0;
}

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

/**
 * Whether `setter` would write `carrier` as a plain object's properties, so
 * that a propagator may assign them itself: by name, which V8 does faster
 * than the setter's assignment by a computed key.
 */
export function setsProperties(carrier: unknown, setter: Setter): carrier is Record<string, unknown> {
  return (
    setter === defaultSetter &&
    carrier !== null &&
    typeof carrier === 'object' &&
    typeof (carrier as { setHeader?: unknown }).setHeader !== 'function' &&
    !(carrier instanceof Map) &&
    !isHeadersLike(carrier)
  );
}

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

/** {@link readSingle} of a header's value read directly, when it is a string. */
export function singleOf(raw: string, maxLength: number): string | typeof INVALID {
  if (raw.length > maxLength) return INVALID;
  const value = trimOws(raw);
  return value.includes(',') ? INVALID : value;
}

/**
 * A header that must appear once: its trimmed value, undefined when absent,
 * INVALID when repeated (as an array or comma-joined) or too long.
 */
export function readSingle(getter: Getter, carrier: unknown, name: string, maxLength: number): string | undefined | typeof INVALID {
  if (readsDirectly(getter, carrier)) {
    // The common case, a string from Node's headers, read without the arrays readValues makes (the
    // built-in propagators only ask for trace headers' names).
    const bit = traceNameBit(name);
    if (bit !== 0) {
      if (!holds(bit)) return undefined;
      let raw: unknown;
      try {
        raw = carrier[name];
      } catch {
        return INVALID;
      }
      if (raw === undefined) return undefined;
      if (typeof raw === 'string') return singleOf(raw, maxLength);
    }
  }
  const values = readValues(getter, carrier, name, maxLength);
  if (values === undefined || values === INVALID) return values;
  if (values.length !== 1) return INVALID;
  const value = trimOws(values[0]!);
  return value.includes(',') ? INVALID : value;
}
