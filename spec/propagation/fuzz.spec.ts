/**
 * Property tests (fast-check) for every extractor ziptrace has:
 *
 *   1. whatever arrives (strings in any alphabet, near-valid headers with one
 *      thing wrong, huge values, arrays, Buffers, numbers, objects, names in
 *      any case and repeated under two spellings, odd carriers) no extraction
 *      throws, and every context it returns is well formed: lower-hex ids of
 *      the right length and not all zero, sampled boolean or undefined, debug
 *      boolean, tracestate valid or absent; and its ids were in the input;
 *   2. traceparent, tracestate and single b3 agree with small reference
 *      readers written here from the specs' text (differential);
 *   3. for arbitrary valid contexts, inject then extract gives the context
 *      back, in each format and each carrier, less what the format cannot say.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  B3MultiPropagator,
  B3SinglePropagator,
  CompositePropagator,
  createTracer,
  extractMessage,
  injectMessage,
  MemoryReporter,
  W3CPropagator,
  type ExtractedContext,
  type TraceContext,
} from '../../lib/index.js';
import { essentials, expectWellFormed, isWellFormedTracestate, MAX_B3_SINGLE, MAX_TRACEPARENT, MAX_TRACESTATE } from './helpers.js';

/** FUZZ_SCALE=20 npx vitest run spec/propagation/fuzz.spec.ts runs every property 20 times as long. */
const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE) || 1);
const runs = (n: number): { numRuns: number } => ({ numRuns: n * SCALE });

const HEADER_NAMES = ['traceparent', 'tracestate', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags'] as const;
const HEX = '0123456789abcdef';

const tracer = (propagation?: Parameters<typeof createTracer>[0]['propagation']) => createTracer({ serviceName: 'fuzz', reporter: new MemoryReporter(), global: false, propagation });

/** Every extractor there is, by name. */
const EXTRACTORS: [string, (carrier: unknown) => ExtractedContext | undefined][] = [
  ['B3MultiPropagator', (c) => new B3MultiPropagator().extract(c)],
  ['B3SinglePropagator', (c) => new B3SinglePropagator().extract(c)],
  ['W3CPropagator', (c) => new W3CPropagator().extract(c)],
  ['CompositePropagator (default order)', (c) => new CompositePropagator().extract(c)],
  ['CompositePropagator (w3c, b3, b3-single)', (c) => new CompositePropagator({ extract: ['w3c', 'b3', 'b3-single'] }).extract(c)],
  ['extractMessage', (c) => extractMessage(c)],
  ['tracer.extract', (c) => tracer().extract(c)],
  ['tracer.extract, trusting nothing', (c) => tracer({ trustSampling: false, trustDebug: false }).extract(c)],
  ['tracer.extractMessage, no debug trust', (c) => tracer({ trustDebug: false }).extractMessage(c)],
];

// ---------------------------------------------------------------- arbitraries

const hex = (length: number) => fc.string({ unit: fc.constantFrom(...HEX), minLength: length, maxLength: length });
const nonZero = (id: string): boolean => /[^0]/.test(id);
const traceIdArb = fc.oneof(hex(32), hex(16)).filter(nonZero);
const spanIdArb = hex(16).filter(nonZero);

// Trace Context Level 2 keys: lcalpha or DIGIT, then lcalpha, DIGIT, _ - * / @, 256 in all. Some without '@',
// some in the tenant@system shape Level 1 had (with Level 1's limits crossed too, which Level 2 no longer has).
const simpleKey = fc.stringMatching(/^[a-z0-9][a-z0-9_\-*/]{0,15}$/);
const tenantKey = fc.stringMatching(/^[a-z0-9][a-z0-9_\-*/@]{0,8}@[a-z0-9_\-*/@]{0,13}$/);
const tsValue = fc.stringMatching(/^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,20}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/);

/** Sometimes `base` stretched with `filler` to a length around `limit`, landing on both sides of it. */
const nearLimit = (base: fc.Arbitrary<string>, filler: string, limit: number): fc.Arbitrary<string> =>
  fc.oneof({ weight: 5, arbitrary: base }, { weight: 1, arbitrary: fc.tuple(base, fc.integer({ min: limit - 2, max: limit + 2 })).map(([b, n]) => (b.length >= n ? b : b[0] + filler.repeat(n - b.length) + b.slice(1))) });
/** Members valid or just past a length limit: key 256 (with or without '@'; around Level 1's 241 and 14 too), value 256. */
const edgyMember = fc
  .tuple(
    fc.oneof(
      nearLimit(simpleKey, 'k', 256),
      nearLimit(tenantKey, '@', 256),
      fc.tuple(nearLimit(fc.stringMatching(/^[a-z0-9][a-z0-9_\-*/]{0,8}$/), 't', 241), nearLimit(fc.stringMatching(/^[a-z][a-z0-9_\-*/]{0,13}$/), 's', 14)).map(([t, v]) => `${t}@${v}`),
    ),
    nearLimit(tsValue, 'v', 256),
  )
  .map(([k, v]) => `${k}=${v}`);

/** A valid tracestate: 1 to 32 members with distinct keys. */
const tracestateArb = fc
  .uniqueArray(fc.tuple(fc.oneof(simpleKey, tenantKey), tsValue), { minLength: 1, maxLength: 32, selector: ([k]) => k })
  .map((members) => members.map(([k, v]) => `${k}=${v}`).join(','));

/** Valid header values, one per name, from which near-valid ones are mutated. */
const validValue: Record<(typeof HEADER_NAMES)[number], fc.Arbitrary<string>> = {
  traceparent: fc
    .tuple(fc.constantFrom('00', '01', 'cc', 'fe', 'ff'), hex(32).filter(nonZero), spanIdArb, hex(2), fc.constantFrom('', '-', '-future', '-x-y-z'))
    .map(([v, t, s, f, tail]) => `${v}-${t}-${s}-${f}${v === '00' ? '' : tail}`),
  tracestate: fc.oneof(tracestateArb, fc.array(edgyMember, { minLength: 1, maxLength: 4 }).map((ms) => ms.join(','))),
  b3: fc.oneof(
    fc.constantFrom('0', '1', 'd'),
    fc.tuple(traceIdArb, spanIdArb, fc.constantFrom('', '-0', '-1', '-d'), spanIdArb).map(([t, s, d, p]) => `${t}-${s}${d}${d === '' ? '' : `-${p}`}`),
    // Brave's deferred child ({traceId}-{spanId}-{parentSpanId}), and an all-zero parent (none).
    fc.tuple(traceIdArb, spanIdArb, fc.constantFrom('-', '-1-', '-0-', '-d-'), fc.oneof(spanIdArb, fc.constant('0'.repeat(16)))).map(([t, s, d, p]) => `${t}-${s}${d}${p}`),
  ),
  'x-b3-traceid': traceIdArb,
  'x-b3-spanid': spanIdArb,
  'x-b3-parentspanid': fc.oneof({ weight: 5, arbitrary: spanIdArb }, { weight: 1, arbitrary: fc.constant('0'.repeat(16)) }), // all zero: no parent
  'x-b3-sampled': fc.constantFrom('0', '1', 'true', 'false'),
  'x-b3-flags': fc.constantFrom('0', '1'),
};

/** Characters that matter to the parsers, so that mutations land near the grammar. */
const telling = fc.constantFrom(...'0123456789abcdefABCDEFgxz-_=,;@ \t.*/\u0000\u00e9\u2028\ud800'.split(''), '😀');

/** One edit of a valid value: insert (anywhere, the end too), delete, replace, duplicate, case flip, truncate, pad. */
function mutate(value: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(value, fc.nat(), telling, fc.nat({ max: 8 })).map(([v, at, ch, op]) => {
    const i = v.length === 0 ? 0 : at % v.length;
    switch (op) {
      case 0:
        return v.slice(0, at % (v.length + 1)) + ch + v.slice(at % (v.length + 1));
      case 1:
        return v.slice(0, i) + v.slice(i + 1);
      case 2:
        return v.slice(0, i) + ch + v.slice(i + 1);
      case 3:
        return `${v}, ${v}`;
      case 4:
        return v.toUpperCase();
      case 5:
        return v.slice(0, i);
      case 6:
        return ` \t${v}\t `;
      case 7:
        return `${v},${v.slice(0, i)}`;
      default:
        return v;
    }
  });
}

const junk = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.stringMatching(/^[0-9a-fdD\-, \t]{0,90}$/),
);
/** Huge values: cheap to make, well past every cap. */
const huge = fc.tuple(fc.constantFrom('1', ' ', '0af7651916cd43dd-', 'a=b,'), fc.integer({ min: 1_000, max: 200_000 })).map(([s, n]) => s.repeat(n));

function valueFor(name: (typeof HEADER_NAMES)[number]): fc.Arbitrary<unknown> {
  const text = fc.oneof({ weight: 3, arbitrary: validValue[name] }, { weight: 5, arbitrary: mutate(validValue[name]) }, { weight: 2, arbitrary: junk }, { weight: 1, arbitrary: huge });
  return fc.oneof(
    { weight: 8, arbitrary: text },
    { weight: 2, arbitrary: fc.array(text, { maxLength: 3 }) },
    { weight: 2, arbitrary: text.map((t) => Buffer.from(t, 'utf8')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.array(text.map((t) => Buffer.from(t)), { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.bigInt()) },
    { weight: 1, arbitrary: fc.object() },
    { weight: 1, arbitrary: fc.anything() },
  );
}

/** A header set: some of the names, each in a random case, sometimes twice under two spellings. */
const entriesArb: fc.Arbitrary<[string, unknown][]> = fc
  .array(
    fc.constantFrom(...HEADER_NAMES).chain((name) => fc.tuple(fc.oneof({ weight: 4, arbitrary: fc.constant(name as string) }, { weight: 1, arbitrary: fc.mixedCase(fc.constant(name as string)) }), valueFor(name))),
    { maxLength: 12 },
  )
  .map((entries) => entries as [string, unknown][]);

/** The entries in one of the carrier shapes; fetch Headers only where Headers accepts every value. */
const carrierArb = fc.tuple(entriesArb, fc.constantFrom('object', 'null-proto', 'map', 'headers')).map(([entries, shape]): unknown => {
  switch (shape) {
    case 'map':
      return new Map(entries);
    case 'null-proto':
      return Object.assign(Object.create(null) as object, Object.fromEntries(entries));
    case 'headers':
      try {
        return new Headers(entries.filter(([, v]) => typeof v === 'string') as [string, string][]);
      } catch {
        return Object.fromEntries(entries);
      }
    default:
      return Object.fromEntries(entries);
  }
});

/** Every string in the input, as read (Buffers decoded as latin1, arrays and Headers walked). */
function haystack(carrier: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('latin1'));
    else if (Array.isArray(v)) v.forEach(walk);
  };
  if (carrier instanceof Map) carrier.forEach(walk);
  else if (carrier instanceof Headers) carrier.forEach(walk);
  else if (carrier !== null && typeof carrier === 'object') Object.values(carrier).forEach(walk);
  return out.join('\n');
}

// ---------------------------------------------------------------- 1. never throws, never malformed

describe('no input makes an extractor throw or return a malformed context', () => {
  it.each(EXTRACTORS)('%s', (_name, extract) => {
    fc.assert(
      fc.property(carrierArb, (carrier) => {
        let found: ExtractedContext | undefined;
        expect(() => (found = extract(carrier))).not.toThrow();
        expectWellFormed(found);
        if (found?.traceId !== undefined) {
          const input = haystack(carrier);
          const ctx = found as TraceContext;
          // No invented ids: each came in (W3C pads nothing on the way in).
          expect(input).toContain(ctx.traceId);
          expect(input).toContain(ctx.spanId);
          if (ctx.parentId !== undefined) expect(input).toContain(ctx.parentId);
          if (ctx.tracestate !== undefined) for (const member of ctx.tracestate.split(',')) expect(input).toContain(member);
        }
      }),
      runs(400),
    );
  });

  it.each(EXTRACTORS)('%s, on anything at all as the carrier', (_name, extract) => {
    fc.assert(
      fc.property(fc.anything({ withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withBoxedValues: true, withSparseArray: true }), (carrier) => {
        let found: ExtractedContext | undefined;
        expect(() => (found = extract(carrier))).not.toThrow();
        expectWellFormed(found);
      }),
      runs(200),
    );
  });
});

// ---------------------------------------------------------------- 2. differential against reference readers

/** The W3C text's procedure for traceparent, independent of lib/propagation/w3c.ts. */
function referenceTraceparent(raw: string): { traceId: string; spanId: string; flags: number } | undefined {
  if (raw.length > MAX_TRACEPARENT) return undefined;
  // traceparent is a single header: a comma can only come from two of them joined (even in a future version's tail).
  if (raw.includes(',')) return undefined;
  const value = raw.replace(/^[ \t]+|[ \t]+$/g, '');
  const lowerHex = (s: string, n: number) => s.length === n && [...s].every((c) => HEX.includes(c));
  const version = value.slice(0, 2);
  if (!lowerHex(version, 2) || version === 'ff') return undefined;
  if (version === '00' && value.length !== 55) return undefined;
  if (value.length < 55) return undefined;
  if (value[2] !== '-' || value[35] !== '-' || value[52] !== '-') return undefined;
  if (value.length > 55 && value[55] !== '-') return undefined;
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!lowerHex(traceId, 32) || !lowerHex(spanId, 16) || !lowerHex(flags, 2)) return undefined;
  if (!nonZero(traceId) || !nonZero(spanId)) return undefined;
  return { traceId, spanId, flags: parseInt(flags, 16) };
}

/** The W3C text's list rules for tracestate: OWS around members, empty members allowed, then every member valid. */
function referenceTracestate(values: string[]): string | undefined {
  if (values.reduce((n, v) => n + v.length, 0) > MAX_TRACESTATE) return undefined;
  const members = values
    .join(',')
    .split(',')
    .map((m) => m.replace(/^[ \t]+|[ \t]+$/g, ''))
    .filter((m) => m.length > 0);
  if (members.length === 0) return undefined;
  const joined = members.join(',');
  return isWellFormedTracestate(joined) ? joined : undefined;
}

/**
 * The B3 README's grammar for the single header, plus what Brave reads beyond it: a 16-character third field is
 * the parent of a child whose decision is deferred, and an all-zero parent is none.
 */
function referenceB3Single(raw: string): Record<string, unknown> | undefined {
  if (raw.length > MAX_B3_SINGLE) return undefined;
  const value = raw.replace(/^[ \t]+|[ \t]+$/g, '');
  if (value === '0' || value === '1' || value === 'd') return { sampled: value !== '0', debug: value === 'd', source: 'b3-single' };
  const parts = value.split('-');
  if (parts.length < 2 || parts.length > 4) return undefined;
  let [traceId, spanId, sampling, parentId] = parts as [string, string, string?, string?];
  if (parts.length === 3 && sampling!.length === 16) [sampling, parentId] = [undefined, sampling];
  const isHex = (s: string | undefined, n: number[]) => s !== undefined && n.includes(s.length) && [...s].every((c) => HEX.includes(c)) && nonZero(s);
  if (!isHex(traceId, [16, 32]) || !isHex(spanId, [16])) return undefined;
  if (sampling !== undefined && !['0', '1', 'd'].includes(sampling)) return undefined;
  if (parentId === '0'.repeat(16)) parentId = undefined;
  if (parentId !== undefined && !isHex(parentId, [16])) return undefined;
  const out: Record<string, unknown> = { traceId, spanId, debug: sampling === 'd', source: 'b3-single', random: false };
  if (parentId !== undefined) out.parentId = parentId;
  if (sampling !== undefined) out.sampled = sampling !== '0';
  return out;
}

/** Printable ASCII and OWS only: the alphabet where the references are exact (a header can hold no more). */
const printable = (s: string): boolean => /^[\t\x20-\x7e]*$/.test(s);

describe('the parsers agree with reference readers written from the specs', () => {
  it('traceparent', () => {
    const w3c = new W3CPropagator();
    // Valid values, one or two edits away, and with a tail appended (the version-00 length rule).
    const tailed = fc.tuple(validValue.traceparent, fc.constantFrom('-', '-x', '.', ' -', '-00', '\t')).map(([v, t]) => v + t);
    fc.assert(
      fc.property(fc.oneof(validValue.traceparent, mutate(validValue.traceparent), mutate(mutate(validValue.traceparent)), tailed), (value) => {
        fc.pre(printable(value));
        const ref = referenceTraceparent(value);
        const found = w3c.extract({ traceparent: value });
        if (ref === undefined) expect(found).toBeUndefined();
        else expect(found).toMatchObject({ traceId: ref.traceId, spanId: ref.spanId, sampled: (ref.flags & 1) === 1, random: (ref.flags & 2) === 2 });
      }),
      runs(3000),
    );
  });

  it('tracestate', () => {
    const w3c = new W3CPropagator();
    const member = fc.oneof(
      fc.tuple(fc.oneof(simpleKey, tenantKey), tsValue).map(([k, v]) => `${k}=${v}`),
      edgyMember,
      mutate(fc.tuple(fc.oneof(simpleKey, tenantKey), tsValue).map(([k, v]) => `${k}=${v}`)),
      fc.constantFrom('', ' ', '\t', 'foo=1', 'foo=2', 'a@b=c'),
    );
    const line = fc.tuple(fc.array(member, { maxLength: 12 }), fc.constantFrom(',', ', ', ' ,\t')).map(([ms, sep]) => ms.join(sep));
    // Around the 32-member limit: 30 to 34 valid members, spread over up to four lines.
    const crowd = fc
      .tuple(fc.uniqueArray(fc.tuple(fc.oneof(simpleKey, tenantKey), tsValue), { minLength: 30, maxLength: 34, selector: ([k]) => k }), fc.integer({ min: 1, max: 4 }))
      .map(([ms, n]) => Array.from({ length: n }, (_, i) => ms.filter((_, j) => j % n === i).map(([k, v]) => `${k}=${v}`).join(',')));
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: fc.array(line, { minLength: 1, maxLength: 4 }) }, { weight: 1, arbitrary: crowd }), (lines) => {
        fc.pre(lines.every(printable));
        const found = w3c.extract({ traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`, tracestate: lines });
        expect(found).toBeDefined();
        expect(found!.tracestate).toBe(referenceTracestate(lines));
      }),
      runs(3000),
    );
  });

  it('single b3', () => {
    const single = new B3SinglePropagator();
    fc.assert(
      fc.property(fc.oneof(validValue.b3, mutate(validValue.b3), mutate(mutate(validValue.b3))), (value) => {
        fc.pre(printable(value));
        expect(essentials(single.extract({ b3: value }))).toEqual(referenceB3Single(value));
      }),
      runs(3000),
    );
  });
});

// ---------------------------------------------------------------- 3. round trips

/** A context as ziptrace makes them: debug implies sampled. */
const contextArb: fc.Arbitrary<TraceContext> = fc
  .record({
    traceId: traceIdArb,
    spanId: spanIdArb,
    parentId: fc.option(spanIdArb, { nil: undefined }),
    sampled: fc.constantFrom(true, false, undefined),
    debug: fc.boolean(),
    tracestate: fc.option(tracestateArb, { nil: undefined }),
    random: fc.boolean(),
  })
  .map((c) => ({ ...c, sampled: c.debug ? true : c.sampled, shared: false }));

/** Carriers a written header set may travel in: the object written to, a Map, fetch Headers, Buffer values, Node's headersDistinct. */
const TRANSPORTS: [string, (headers: Record<string, string>) => unknown][] = [
  ['object', (h) => h],
  ['Map, upper-case names', (h) => new Map(Object.entries(h).map(([k, v]) => [k.toUpperCase(), v]))],
  ['fetch Headers', (h) => new Headers(h)],
  ['Buffer values', (h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Buffer.from(v)]))],
  ['headersDistinct', (h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, [v]]))],
];

/** For each format: how to write, how to read, and what a context comes back as. */
const FORMATS: [string, (c: TraceContext, carrier: Record<string, string>) => void, (carrier: unknown) => ExtractedContext | undefined, (c: TraceContext) => Record<string, unknown>][] = [
  [
    'B3 multi',
    (c, h) => new B3MultiPropagator().inject(c, h),
    (h) => new B3MultiPropagator().extract(h),
    (c) => strip({ traceId: c.traceId, spanId: c.spanId, parentId: c.parentId, sampled: c.sampled, debug: c.debug, source: 'b3', random: false }),
  ],
  [
    'B3 single',
    (c, h) => new B3SinglePropagator().inject(c, h),
    (h) => new B3SinglePropagator().extract(h),
    // The parent follows the sampling state in the grammar: a deferred decision leaves it out.
    (c) => strip({ traceId: c.traceId, spanId: c.spanId, parentId: c.sampled === undefined ? undefined : c.parentId, sampled: c.sampled, debug: c.debug, source: 'b3-single', random: false }),
  ],
  [
    'W3C',
    (c, h) => new W3CPropagator().inject(c, h),
    (h) => new W3CPropagator().extract(h),
    // 64-bit ids are padded; no parent, no defer (not sampled), no debug (sampled); tracestate and random kept.
    (c) => strip({ traceId: c.traceId.padStart(32, '0'), spanId: c.spanId, sampled: c.sampled === true, debug: false, tracestate: c.tracestate, source: 'w3c', random: c.random }),
  ],
  [
    'default (B3 multi + traceparent)',
    (c, h) => new CompositePropagator().inject(c, h),
    (h) => new CompositePropagator().extract(h),
    // B3 multi wins; tracestate and the random flag ride along on the traceparent of the same trace.
    (c) => strip({ traceId: c.traceId, spanId: c.spanId, parentId: c.parentId, sampled: c.sampled, debug: c.debug, tracestate: c.tracestate, source: 'b3', random: c.random }),
  ],
  [
    'messaging (b3 without parent + traceparent)',
    (c, h) => injectMessage(c, h),
    (h) => extractMessage(h),
    (c) => strip({ traceId: c.traceId, spanId: c.spanId, sampled: c.sampled, debug: c.debug, tracestate: c.tracestate, source: 'b3-single', random: c.random }),
  ],
];

function strip(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

describe('inject then extract gives the context back, less what the format cannot carry', () => {
  for (const [format, inject, extract, expected] of FORMATS) {
    it.each(TRANSPORTS)(`${format}, carried as %s`, (_transport, carry) => {
      fc.assert(
        fc.property(contextArb, (context) => {
          const headers: Record<string, string> = {};
          inject(context, headers);
          const found = extract(carry(headers));
          expectWellFormed(found);
          expect(essentials(found)).toEqual(expected(context));
        }),
        runs(300),
      );
    });
  }

  it('a bare decision round-trips through both B3 formats', () => {
    fc.assert(
      fc.property(fc.constantFrom(true, false), fc.boolean(), (sampled, debugFlag) => {
        const decision = { sampled: debugFlag || sampled, debug: debugFlag };
        for (const p of [new B3MultiPropagator(), new B3SinglePropagator()]) {
          const headers: Record<string, string> = {};
          p.inject(decision, headers);
          expect(p.extract(headers)).toMatchObject(decision);
        }
      }),
      runs(20),
    );
  });

  it('through the tracer: a joined server span’s child carries the trace on in every format', () => {
    fc.assert(
      fc.property(contextArb, fc.constantFrom('b3', 'b3-single', 'w3c'), (context, format) => {
        const t = createTracer({ serviceName: 'fuzz', global: false, propagation: { inject: [format], extract: [format] } });
        const incoming: Record<string, string> = {};
        t.inject(context, incoming);
        const server = t.joinSpan(t.extract(incoming)!, 'server');
        const client = t.startSpan('client', { parent: server });
        const outgoing: Record<string, string> = {};
        t.inject(client, outgoing);
        const next = t.extract(outgoing) as TraceContext;
        expectWellFormed(next);
        expect(next.traceId).toBe(format === 'w3c' ? context.traceId.padStart(32, '0') : context.traceId);
        expect(next.spanId).toBe(client.context.spanId);
        expect(next.debug).toBe(format === 'w3c' ? false : context.debug);
        if (context.sampled !== undefined && format !== 'w3c') expect(next.sampled).toBe(context.sampled);
        if (format === 'w3c') expect(next.tracestate).toBe(context.tracestate);
      }),
      runs(300),
    );
  });
});
