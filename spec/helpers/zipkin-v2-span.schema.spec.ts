/**
 * ziptrace's own Zipkin v2 span schema (zipkin-v2-span.schema.ts) against the
 * official definition (../shared/zipkin-api/zipkin2-api.yaml), so the two
 * cannot drift apart silently:
 *
 * - a table of spans, each with the verdict of both schemas: valid for both,
 *   invalid for both, or invalid for ziptrace's only (where it is stricter,
 *   on purpose). Ours is held to its verdicts always; the official one where
 *   the definition is present (CI);
 * - the definitions side by side: same objects, properties, types, formats,
 *   enums, required lists and lengths, and every difference one of the
 *   deliberate, stricter ones;
 * - generated spans: whatever ziptrace's schema accepts, the official one
 *   accepts too.
 *
 * Without the official definition beside the repository, only the checks of
 * ziptrace's own schema run; the rest are skipped and say why in their titles.
 */
import fc from 'fast-check';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import {
  OFFICIAL_DEFINITION_PRESENT,
  officialSchemaErrors,
  officialTitle,
  ownSchemaErrors,
  ownSchemaValidator,
  zipkinJsonSchema,
} from './zipkin-schema.js';
import { SPAN_KINDS, ZIPKIN_V2_SPANS_SCHEMA_ID, zipkinV2SpansSchema } from './zipkin-v2-span.schema.js';

const official = it.skipIf(!OFFICIAL_DEFINITION_PRESENT);

type Json = Record<string, any>;

const TRACE_ID = '4e441824ec2b6a44ffdc9bb9a6453df3';
const SPAN_ID = 'ffdc9bb9a6453df3';
const T = 1556604172355737;

/** A minimal valid span with `fields` added (or, given `undefined`, removed). */
function span(fields: Json = {}): Json {
  const out: Json = { traceId: TRACE_ID, id: SPAN_ID, ...fields };
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  return out;
}

type Verdict = 'valid' | 'invalid';
/** [what, ziptrace's schema's verdict, the official definition's verdict, the request body] */
type Row = [string, Verdict, Verdict, unknown];

const both = (what: string, body: unknown, verdict: Verdict): Row => [what, verdict, verdict, body];
/** Rejected by ziptrace's schema only: where it is stricter than the definition, on purpose. */
const stricter = (what: string, body: unknown): Row => [what, 'invalid', 'valid', body];

const table: Row[] = [
  // The list
  both('an empty list', [], 'valid'),
  both('several spans', [span(), span({ id: '352bff9a74ca9ad2', parentId: SPAN_ID })], 'valid'),
  both('a span, not a list', span(), 'invalid'),
  both('a list holding a string', ['span'], 'invalid'),
  both('a list holding null', [null], 'invalid'),
  both('a list holding a list', [[span()]], 'invalid'),
  // Span: required, ids
  both('only the required fields (64-bit trace id)', [span({ traceId: '5af7183fb1d4cf5f' })], 'valid'),
  both('a 128-bit trace id', [span()], 'valid'),
  both('no traceId', [span({ traceId: undefined })], 'invalid'),
  both('no id', [span({ id: undefined })], 'invalid'),
  both('a 15-character trace id', [span({ traceId: TRACE_ID.slice(0, 15) })], 'invalid'),
  both('a 33-character trace id', [span({ traceId: `${TRACE_ID}a` })], 'invalid'),
  both('an upper-case trace id', [span({ traceId: TRACE_ID.toUpperCase() })], 'invalid'),
  both('a numeric trace id', [span({ traceId: 1234567890123456 })], 'invalid'),
  both('a 15-character id', [span({ id: SPAN_ID.slice(1) })], 'invalid'),
  both('a 17-character id', [span({ id: `${SPAN_ID}0` })], 'invalid'),
  both('an id with a non-hex character', [span({ id: 'ffdc9bb9a6453dfg' })], 'invalid'),
  both('a null parentId', [span({ parentId: null })], 'invalid'),
  both('a 32-character parentId', [span({ parentId: TRACE_ID })], 'invalid'),
  stricter('a 17-character trace id', [span({ traceId: TRACE_ID.slice(0, 17) })]),
  stricter('a 31-character trace id', [span({ traceId: TRACE_ID.slice(0, 31) })]),
  stricter('a trace id padded with non-hex characters', [span({ traceId: `zz${TRACE_ID.slice(0, 16)}` })]),
  stricter('an all-zero trace id', [span({ traceId: '0'.repeat(32) })]),
  stricter('an all-zero id', [span({ id: '0'.repeat(16) })]),
  stricter('an all-zero parentId', [span({ parentId: '0'.repeat(16) })]),
  // Span: name, kind
  both('a name', [span({ name: 'get /api' })], 'valid'),
  both('a numeric name', [span({ name: 7 })], 'invalid'),
  stricter('an empty name', [span({ name: '' })]),
  ...SPAN_KINDS.map((kind) => both(`kind ${kind}`, [span({ kind })], 'valid')),
  both('a lower-case kind', [span({ kind: 'client' })], 'invalid'),
  both('kind LOCAL', [span({ kind: 'LOCAL' })], 'invalid'),
  // Span: timestamp, duration
  both('a timestamp and a duration', [span({ timestamp: T, duration: 1431 })], 'valid'),
  both('the largest safe timestamp and duration', [span({ timestamp: Number.MAX_SAFE_INTEGER, duration: Number.MAX_SAFE_INTEGER })], 'valid'),
  both('a duration of 1', [span({ duration: 1 })], 'valid'),
  both('a zero duration', [span({ duration: 0 })], 'invalid'),
  both('a negative duration', [span({ duration: -1 })], 'invalid'),
  both('a fractional timestamp', [span({ timestamp: T + 0.5 })], 'invalid'),
  both('a fractional duration', [span({ duration: 1.5 })], 'invalid'),
  both('a timestamp as a string', [span({ timestamp: String(T) })], 'invalid'),
  both('a timestamp beyond int64', [span({ timestamp: 1e20 })], 'invalid'),
  stricter('a zero timestamp', [span({ timestamp: 0 })]),
  stricter('a negative timestamp', [span({ timestamp: -T })]),
  stricter('a timestamp of 2^53', [span({ timestamp: 2 ** 53 })]),
  stricter('a duration of 2^60', [span({ duration: 2 ** 60 })]),
  // Span: debug, shared
  both('debug and shared true', [span({ debug: true, shared: true })], 'valid'),
  both('debug as a string', [span({ debug: 'true' })], 'invalid'),
  both('shared as a number', [span({ shared: 1 })], 'invalid'),
  stricter('debug false', [span({ debug: false })]),
  stricter('shared false', [span({ shared: false })]),
  // Span: other properties
  stricter('an unknown span property', [span({ traceID: TRACE_ID })]),
  stricter('an unknown span property holding null', [span({ error: null })]),
  // Endpoint
  both('endpoints with every field', [span({ localEndpoint: { serviceName: 'backend', ipv4: '192.168.99.1', ipv6: '2001:db8::c001', port: 3306 }, remoteEndpoint: { ipv4: '172.19.0.2', port: 58648 } })], 'valid'),
  both('an empty endpoint', [span({ localEndpoint: {} })], 'valid'),
  both('an IPv4-mapped IPv6 address', [span({ remoteEndpoint: { ipv6: '::ffff:192.0.2.1' } })], 'valid'),
  both('ports 1 and 65535', [span({ localEndpoint: { port: 1 }, remoteEndpoint: { port: 65535 } })], 'valid'),
  both('an endpoint that is a string', [span({ localEndpoint: 'backend' })], 'invalid'),
  both('a numeric serviceName', [span({ localEndpoint: { serviceName: 1 } })], 'invalid'),
  both('an IPv4 address out of range', [span({ localEndpoint: { ipv4: '256.0.0.1' } })], 'invalid'),
  both('an IPv6 address in ipv4', [span({ localEndpoint: { ipv4: '::1' } })], 'invalid'),
  both('an IPv4 address in ipv6', [span({ remoteEndpoint: { ipv6: '10.0.0.1' } })], 'invalid'),
  both('a bad IPv6 address', [span({ remoteEndpoint: { ipv6: '2001:db8::g' } })], 'invalid'),
  both('a port as a string', [span({ remoteEndpoint: { port: '80' } })], 'invalid'),
  both('a fractional port', [span({ remoteEndpoint: { port: 80.5 } })], 'invalid'),
  stricter('an empty serviceName', [span({ localEndpoint: { serviceName: '' } })]),
  stricter('port 0', [span({ remoteEndpoint: { port: 0 } })]),
  stricter('port 65536', [span({ remoteEndpoint: { port: 65536 } })]),
  stricter('a negative port', [span({ remoteEndpoint: { port: -1 } })]),
  stricter('an unknown endpoint property', [span({ localEndpoint: { serviceName: 'a', host: 'x' } })]),
  // Annotation
  both('annotations', [span({ annotations: [{ timestamp: T, value: 'ws' }, { timestamp: T + 1, value: 'wr' }] })], 'valid'),
  both('an empty annotation list', [span({ annotations: [] })], 'valid'),
  both('the same value at two times', [span({ annotations: [{ timestamp: T, value: 'retry' }, { timestamp: T + 1, value: 'retry' }] })], 'valid'),
  both('the same annotation twice', [span({ annotations: [{ timestamp: T, value: 'ws' }, { timestamp: T, value: 'ws' }] })], 'invalid'),
  both('an annotation without value', [span({ annotations: [{ timestamp: T }] })], 'invalid'),
  both('an annotation without timestamp', [span({ annotations: [{ value: 'ws' }] })], 'invalid'),
  both('an annotation with a fractional timestamp', [span({ annotations: [{ timestamp: 1.5, value: 'x' }] })], 'invalid'),
  both('an annotation with a numeric value', [span({ annotations: [{ timestamp: T, value: 1 }] })], 'invalid'),
  both('annotations as an object', [span({ annotations: { 0: { timestamp: T, value: 'ws' } } })], 'invalid'),
  both('an annotation that is a string', [span({ annotations: ['ws'] })], 'invalid'),
  stricter('an annotation at timestamp 0', [span({ annotations: [{ timestamp: 0, value: 'x' }] })]),
  stricter('an unknown annotation property', [span({ annotations: [{ timestamp: T, value: 'x', endpoint: {} }] })]),
  // Tags
  both('tags', [span({ tags: { 'http.method': 'GET', 'http.path': '/api' } })], 'valid'),
  both('empty tags', [span({ tags: {} })], 'valid'),
  both('a tag with an empty key and value', [span({ tags: { '': '' } })], 'valid'),
  both('a numeric tag value', [span({ tags: { 'http.status_code': 200 } })], 'invalid'),
  both('a boolean tag value', [span({ tags: { error: true } })], 'invalid'),
  both('a null tag value', [span({ tags: { a: null } })], 'invalid'),
  both('an object tag value', [span({ tags: { a: { b: 'c' } } })], 'invalid'),
  both('tags as an array', [span({ tags: ['a'] })], 'invalid'),
  both('tags as a string', [span({ tags: 'a=b' })], 'invalid'),
];

describe('ziptrace’s Zipkin v2 span schema', () => {
  it('is a valid draft-07 JSON Schema, plain JSON, that compiles in strict mode', () => {
    const ajv = new Ajv({ strict: true });
    for (const format of ['int64', 'ipv4', 'ipv6']) ajv.addFormat(format, true);
    expect(ajv.validateSchema(zipkinV2SpansSchema)).toBe(true);
    expect(JSON.parse(JSON.stringify(zipkinV2SpansSchema))).toEqual(zipkinV2SpansSchema);
    expect(() => ajv.compile(zipkinV2SpansSchema)).not.toThrow();
    expect(zipkinV2SpansSchema.$id).toBe(ZIPKIN_V2_SPANS_SCHEMA_ID);
  });

  it('has each definition on its own too: Span, Endpoint, Annotation, Tags', () => {
    expect(ownSchemaValidator('Span')(span())).toBe(true);
    expect(ownSchemaValidator('Span')([span()])).toBe(false);
    expect(ownSchemaValidator('Endpoint')({ serviceName: 'a', port: 80 })).toBe(true);
    expect(ownSchemaValidator('Endpoint')({ port: 0 })).toBe(false);
    expect(ownSchemaValidator('Annotation')({ timestamp: T, value: 'ws' })).toBe(true);
    expect(ownSchemaValidator('Annotation')({ timestamp: T })).toBe(false);
    expect(ownSchemaValidator('Tags')({ a: 'b' })).toBe(true);
    expect(ownSchemaValidator('Tags')({ a: 1 })).toBe(false);
  });

  it.each(table)('%s: ziptrace’s schema says %s', (_what, ours, _theirs, body) => {
    const errors = ownSchemaErrors(body);
    if (ours === 'valid') expect(errors).toEqual([]);
    else expect(errors).not.toEqual([]);
  });

  official.each(table)(officialTitle('%s: ziptrace’s schema says %s, the official definition %s'), (_what, _ours, theirs, body) => {
    const errors = officialSchemaErrors(body);
    if (theirs === 'valid') expect(errors).toEqual([]);
    else expect(errors).not.toEqual([]);
  });

  it('the table has no span that ziptrace’s schema takes and the official one does not', () => {
    expect(table.filter(([, ours, theirs]) => ours === 'valid' && theirs === 'invalid')).toEqual([]);
    // …and covers each verdict.
    expect(new Set(table.map(([, ours, theirs]) => `${ours}/${theirs}`))).toEqual(new Set(['valid/valid', 'invalid/invalid', 'invalid/valid']));
  });
});

/** The definition name a `$ref` points to, in either document. */
function refName(ref: unknown): string | undefined {
  return typeof ref === 'string' ? /#\/definitions\/([^/]+)$/.exec(ref)?.[1] : undefined;
}

/** The keywords the official definition's schemas use, as converted; a new one means this spec (and ours) need a look. */
const OFFICIAL_KEYWORDS = new Set(['type', 'title', 'description', 'examples', 'properties', 'required', 'additionalProperties', 'items', '$ref', 'format', 'enum', 'pattern', 'minLength', 'maxLength', 'minimum', 'uniqueItems']);
/** What ziptrace's schema adds on a property, being stricter. */
const STRICTER_KEYWORDS = new Set(['const', 'minimum', 'maximum', 'minLength', 'pattern']);

/** Where the two schemas differ on one property or definition: one line per difference. */
function differences(at: string, theirs: Json, ours: Json): string[] {
  const out: string[] = [];
  for (const key of Object.keys(theirs)) {
    if (!OFFICIAL_KEYWORDS.has(key)) out.push(`${at}: the official definition uses ${key}, which this spec does not compare`);
  }
  for (const key of Object.keys(ours)) {
    if (!(key in theirs) && !STRICTER_KEYWORDS.has(key) && !['description', 'title', 'additionalProperties'].includes(key)) {
      out.push(`${at}: ziptrace's schema has ${key}, which the official one does not`);
    }
  }
  const same = (key: string) => {
    if (JSON.stringify(theirs[key]) !== JSON.stringify(ours[key])) out.push(`${at}.${key}: official ${JSON.stringify(theirs[key])}, ziptrace ${JSON.stringify(ours[key])}`);
  };
  for (const key of ['type', 'format', 'enum', 'uniqueItems', 'minLength', 'maxLength']) if (key in theirs) same(key);
  if ('$ref' in theirs || '$ref' in ours) {
    if (refName(theirs.$ref) !== refName(ours.$ref)) out.push(`${at}.$ref: official ${String(theirs.$ref)}, ziptrace ${String(ours.$ref)}`);
  }
  if ('items' in theirs || 'items' in ours) {
    if (refName(theirs.items?.$ref) !== refName(ours.items?.$ref)) out.push(`${at}.items: official ${JSON.stringify(theirs.items)}, ziptrace ${JSON.stringify(ours.items)}`);
  }
  if ('minimum' in theirs && !(typeof ours.minimum === 'number' && ours.minimum >= theirs.minimum)) {
    out.push(`${at}.minimum: official ${theirs.minimum}, ziptrace ${String(ours.minimum)} (must be as strict)`);
  }
  if ('pattern' in theirs && typeof ours.pattern !== 'string') out.push(`${at}.pattern: official ${theirs.pattern}, ziptrace has none`);
  if ('required' in theirs || 'required' in ours) {
    if (JSON.stringify([...(theirs.required ?? [])].sort()) !== JSON.stringify([...(ours.required ?? [])].sort())) same('required');
  }
  if ('additionalProperties' in theirs) same('additionalProperties');
  else if (theirs.type === 'object' && ours.additionalProperties !== false) {
    out.push(`${at}.additionalProperties: ziptrace's schema should be false (only the properties the definition names)`);
  }
  if ('properties' in theirs || 'properties' in ours) {
    const theirNames = Object.keys(theirs.properties ?? {}).sort();
    const ourNames = Object.keys(ours.properties ?? {}).sort();
    if (JSON.stringify(theirNames) !== JSON.stringify(ourNames)) out.push(`${at}.properties: official ${theirNames.join(',')}, ziptrace ${ourNames.join(',')}`);
    for (const name of theirNames) {
      if (name in (ours.properties ?? {})) out.push(...differences(`${at}.${name}`, theirs.properties[name], ours.properties[name]));
    }
  }
  return out;
}

describe('ziptrace’s schema beside the official definition', () => {
  const ours = zipkinV2SpansSchema as unknown as Json;

  official(officialTitle('has the same definitions, properties, types, formats, enums, lengths and required lists'), () => {
    const theirs = zipkinJsonSchema().definitions as Json;
    const problems: string[] = [];
    for (const name of ['Span', 'Endpoint', 'Annotation', 'Tags']) {
      if (!(name in theirs)) problems.push(`the official definition has no ${name}`);
      else problems.push(...differences(name, theirs[name], ours.definitions[name]));
    }
    const { $schema: _schema, $id: _id, definitions: _definitions, ...list } = ours;
    problems.push(...differences('ListOfSpans', theirs.ListOfSpans, list));
    expect(problems).toEqual([]);
  });

  official(officialTitle('agrees on generated spans: whatever ziptrace’s schema takes, the official one takes'), () => {
    const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
    const id = fc.oneof(hex(16), hex(32), fc.constant('0'.repeat(16)), fc.string({ maxLength: 40 }), fc.integer());
    const micros = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.maxSafeInteger(), fc.double(), fc.constant(2 ** 53), fc.string({ maxLength: 3 }));
    const endpoint = fc.record(
      {
        serviceName: fc.oneof(fc.string({ maxLength: 5 }), fc.integer()),
        ipv4: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 5 })),
        ipv6: fc.oneof(fc.ipV6(), fc.ipV4(), fc.string({ maxLength: 5 })),
        port: fc.oneof(fc.integer({ min: -2, max: 70000 }), fc.double(), fc.constant('80')),
        extra: fc.jsonValue({ maxDepth: 1 }),
      },
      { requiredKeys: [] },
    );
    const annotation = fc.record({ timestamp: micros, value: fc.oneof(fc.string({ maxLength: 3 }), fc.integer()), extra: fc.boolean() }, { requiredKeys: [] });
    const arbitrarySpan = fc.record(
      {
        traceId: id,
        id,
        parentId: fc.oneof(id, fc.constant(null)),
        name: fc.oneof(fc.string({ maxLength: 5 }), fc.integer()),
        kind: fc.oneof(fc.constantFrom(...SPAN_KINDS), fc.constantFrom('client', 'LOCAL', '')),
        timestamp: micros,
        duration: micros,
        debug: fc.oneof(fc.boolean(), fc.constant('true')),
        shared: fc.oneof(fc.boolean(), fc.constant(1)),
        localEndpoint: fc.oneof(endpoint, fc.constant('x')),
        remoteEndpoint: endpoint,
        annotations: fc.oneof(fc.array(annotation, { maxLength: 3 }), fc.constant({})),
        tags: fc.oneof(fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.constant(null)), { maxKeys: 3 }), fc.constant([])),
        extra: fc.jsonValue({ maxDepth: 1 }),
      },
      { requiredKeys: [] },
    );
    let acceptedByOurs = 0;
    fc.assert(
      fc.property(fc.array(arbitrarySpan, { maxLength: 2 }), (body) => {
        if (ownSchemaErrors(body).length > 0) return;
        acceptedByOurs++;
        expect(officialSchemaErrors(body)).toEqual([]);
      }),
      { numRuns: 3000 },
    );
    // Not a vacuous check: ziptrace's schema took some of them (at least the empty lists).
    expect(acceptedByOurs).toBeGreaterThan(0);
  });

  official(officialTitle('agrees on generated valid spans: both take them'), () => {
    const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length }).filter((s) => !/^0+$/.test(s));
    const micros = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
    const endpoint = fc.record(
      { serviceName: fc.string({ minLength: 1, maxLength: 8 }), ipv4: fc.ipV4(), ipv6: fc.ipV6(), port: fc.integer({ min: 1, max: 65535 }) },
      { requiredKeys: [] },
    );
    const validSpan = fc.record(
      {
        traceId: fc.oneof(hex(16), hex(32)),
        id: hex(16),
        parentId: hex(16),
        name: fc.string({ minLength: 1, maxLength: 8 }),
        kind: fc.constantFrom(...SPAN_KINDS),
        timestamp: micros,
        duration: micros,
        debug: fc.constant(true),
        shared: fc.constant(true),
        localEndpoint: endpoint,
        remoteEndpoint: endpoint,
        annotations: fc.uniqueArray(fc.record({ timestamp: micros, value: fc.string({ maxLength: 4 }) }), { maxLength: 4, selector: (a) => `${a.timestamp} ${a.value}` }),
        tags: fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 4 }),
      },
      { requiredKeys: ['traceId', 'id'] },
    );
    fc.assert(
      fc.property(fc.array(validSpan, { maxLength: 3 }), (body) => {
        expect(ownSchemaErrors(body)).toEqual([]);
        expect(officialSchemaErrors(body)).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });
});
