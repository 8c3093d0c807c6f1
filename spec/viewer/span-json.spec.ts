/**
 * parseSpans decodes POST /api/v2/spans as Zipkin's V2SpanReader and Span /
 * Endpoint builders do: what they normalize is normalized (but for span
 * names, kept as sent), what they refuse is refused with the span's index and
 * the field, what they drop is dropped.
 * Case names follow Zipkin's SpanTest / EndpointTest / V2SpanReader rules.
 */
import { describe, expect, it } from 'vitest';
import { normalizeSpanId, normalizeTraceId, parseSpans, sortAnnotations, tagObject } from '../../lib/viewer/span-json.js';
import type { StoredSpan } from '../../lib/viewer/types.js';
import { zipkinSpanSchemaErrors } from '../helpers/zipkin-schema.js';

const base = { traceId: '86154a4ba6e91385', id: '4d1e00c0db9010db' };

function one(fields: Record<string, unknown>): StoredSpan {
  const result = parseSpans(JSON.stringify([{ ...base, ...fields }]));
  if ('error' in result) throw new Error(result.error);
  expect(result.spans).toHaveLength(1);
  return result.spans[0]!;
}

function errorOf(body: unknown): string {
  const result = parseSpans(typeof body === 'string' ? body : JSON.stringify(body));
  if (!('error' in result)) throw new Error(`expected an error, got ${JSON.stringify(result.spans)}`);
  return result.error;
}

describe('parseSpans: the body', () => {
  it.each([
    ['not JSON', '[{', /^not valid JSON/],
    ['an object, not a list', '{"traceId":"a","id":"b"}', /^expected a JSON list of spans, got an object/],
    ['a string', '"spans"', /^expected a JSON list of spans, got "spans"/],
    ['null', 'null', /^expected a JSON list of spans, got null/],
    ['a list holding a non-object', '[1]', /^span 0: expected an object, got 1/],
    ['a list holding a list', '[[]]', /^span 0: expected an object, got a list/],
  ])('refuses %s', (_name, body, message) => {
    expect(errorOf(body)).toMatch(message);
  });

  it('takes an empty list as no spans', () => {
    expect(parseSpans('[]')).toEqual({ spans: [] });
  });

  it('names the index of the first bad span', () => {
    expect(errorOf([base, base, base, { ...base, traceId: 'xyz' }])).toBe('span 3: traceId "xyz" is not 1 to 32 hex digits');
  });

  it('keeps the order given and gives spans valid against the Zipkin v2 schema', () => {
    const body = [
      { ...base, id: '2', name: 'GET /', kind: 'SERVER', timestamp: 1_700_000_000_000_000, duration: 5, localEndpoint: { serviceName: 'Web', ipv4: '10.0.0.1', port: 80 }, tags: { 'http.method': 'GET' } },
      { ...base, id: '1', parentId: '2', annotations: [{ timestamp: 1_700_000_000_000_001, value: 'ws' }], debug: true },
    ];
    const result = parseSpans(JSON.stringify(body));
    if ('error' in result) throw new Error(result.error);
    expect(result.spans.map((s) => s.id)).toEqual(['0000000000000002', '0000000000000001']);
    expect(zipkinSpanSchemaErrors(result.spans)).toEqual([]);
  });
});

describe('parseSpans: ids (Span.normalizeTraceId, Builder.id, Builder.parentId)', () => {
  it.each([
    ['traceId 64-bit kept', { traceId: '86154a4ba6e91385' }, '86154a4ba6e91385'],
    ['traceId 128-bit kept', { traceId: '463ac35c9f6413ad48485a3953bb6124' }, '463ac35c9f6413ad48485a3953bb6124'],
    ['traceId short padded to 16', { traceId: 'a' }, '000000000000000a'],
    ['traceId 17..31 digits padded to 32', { traceId: '1' + '0'.repeat(16) }, '0'.repeat(15) + '1' + '0'.repeat(16)],
    ['traceId 128-bit with zero high bits becomes 64-bit', { traceId: '0000000000000000' + '48485a3953bb6124' }, '48485a3953bb6124'],
    ['traceId given as a JSON number (Gson nextString)', { traceId: 123 }, '0000000000000123'],
  ])('%s', (_name, fields, traceId) => {
    expect(one(fields).traceId).toBe(traceId);
  });

  it.each([
    ['traceId upper-case (Zipkin: lower-hex only)', { traceId: '86154A4BA6E91385' }, 'span 0: traceId "86154A4BA6E91385" is not lower-case hex (Zipkin refuses upper-case ids)'],
    ['traceId too long', { traceId: 'a'.repeat(33) }, `span 0: traceId "${'a'.repeat(33)}" is not 1 to 32 hex digits`],
    ['traceId empty', { traceId: '' }, 'span 0: traceId "" is not 1 to 32 hex digits'],
    ['traceId all zeros', { traceId: '0000000000000000' }, 'span 0: traceId "0000000000000000" is all zeros'],
    ['traceId missing', { traceId: undefined }, 'span 0: traceId is missing'],
    ['traceId null', { traceId: null }, 'span 0: traceId is missing'],
    ['traceId a boolean', { traceId: true }, 'span 0: traceId is true, not a string'],
    ['id missing', { id: undefined }, 'span 0: id is missing'],
    ['id an object', { id: {} }, 'span 0: id is an object, not a string'],
    ['id 17 digits', { id: 'a'.repeat(17) }, `span 0: id "${'a'.repeat(17)}" is not 1 to 16 hex digits`],
    ['id all zeros', { id: '0' }, 'span 0: id "0" is all zeros'],
    ['id with a prefix', { id: '0x1' }, 'span 0: id "0x1" is not 1 to 16 hex digits'],
    ['parentId not hex', { parentId: 'zz' }, 'span 0: parentId "zz" is not 1 to 16 hex digits'],
    ['parentId upper-case', { parentId: 'AB' }, 'span 0: parentId "AB" is not lower-case hex (Zipkin refuses upper-case ids)'],
    ['parentId a list', { parentId: [] }, 'span 0: parentId is a list, not a string'],
  ])('refuses %s', (_name, fields, message) => {
    expect(errorOf([{ ...base, ...fields }])).toBe(message);
  });

  it('cuts a long bad value short in the message', () => {
    expect(errorOf([{ ...base, traceId: 'x'.repeat(500) }])).toBe(`span 0: traceId "${'x'.repeat(64)}…" is not 1 to 32 hex digits`);
  });

  it.each([
    ['parentId padded', { parentId: 'b' }, '000000000000000b'],
    ['parentId all zeros means no parent (Builder.parentId)', { parentId: '0000000000000000' }, undefined],
    ['parentId "0" means no parent', { parentId: '0' }, undefined],
    ['parentId equal to id is dropped (Span: prevent self-referencing spans)', { parentId: base.id }, undefined],
    ['parentId null is skipped', { parentId: null }, undefined],
  ])('%s', (_name, fields, parentId) => {
    const span = one(fields);
    expect(span.parentId).toBe(parentId);
    expect('parentId' in span).toBe(parentId !== undefined);
  });

  it('id padded to 16', () => {
    expect(one({ id: 'd' }).id).toBe('000000000000000d');
  });

  it('normalizeTraceId and normalizeSpanId are the rules above', () => {
    expect(normalizeTraceId('A')).toBeUndefined();
    expect(normalizeTraceId('0'.repeat(32))).toBeUndefined();
    expect(normalizeTraceId('1'.padStart(32, '0'))).toBe('0000000000000001');
    expect(normalizeSpanId('00')).toBe('');
    expect(normalizeSpanId('g')).toBeUndefined();
    expect(normalizeSpanId('')).toBeUndefined();
  });
});

describe('parseSpans: fields', () => {
  it.each([
    ["name kept as sent, unlike Zipkin's Builder.name", { name: 'GET /Users' }, { name: 'GET /Users' }],
    ['empty name absent', { name: '' }, {}],
    ['kind kept', { kind: 'PRODUCER' }, { kind: 'PRODUCER' }],
    ['timestamp kept', { timestamp: 1_700_000_000_000_000 }, { timestamp: 1_700_000_000_000_000 }],
    ['timestamp 0 absent (zero means null)', { timestamp: 0 }, {}],
    ['negative timestamp absent (Builder.timestamp coerces to 0)', { timestamp: -5 }, {}],
    ['timestamp as a string of digits (Gson nextLong)', { timestamp: '1700000000000000' }, { timestamp: 1_700_000_000_000_000 }],
    ['timestamp 1.0 is integral', { timestamp: 1.0 }, { timestamp: 1 }],
    ['duration 0 absent', { duration: 0 }, {}],
    ['duration kept', { duration: 42 }, { duration: 42 }],
    ['debug true kept', { debug: true }, { debug: true }],
    ['debug false dropped', { debug: false }, {}],
    ['shared true on a server kept', { kind: 'SERVER', shared: true }, { kind: 'SERVER', shared: true }],
    ['shared on a client removed (Builder.build)', { kind: 'CLIENT', shared: true }, { kind: 'CLIENT' }],
    ['null optional fields skipped', { name: null, kind: null, timestamp: null, localEndpoint: null, annotations: null, tags: null, debug: null }, {}],
    ['unknown fields ignored', { foo: { deep: [1, 2, 3] }, traceIdHigh: 5 }, {}],
    ['empty annotations absent', { annotations: [] }, {}],
    ['empty tags absent', { tags: {} }, {}],
    ['empty endpoint absent', { localEndpoint: {} }, {}],
    ['endpoint with only unknown fields absent', { remoteEndpoint: { foo: 1 } }, {}],
  ])('%s', (_name, fields, expected) => {
    expect(one(fields)).toEqual({ ...base, ...expected });
  });

  it('writes fields in the order of Zipkin\'s JSON', () => {
    const span = one({ shared: true, tags: { a: 'b' }, annotations: [{ timestamp: 1, value: 'x' }], remoteEndpoint: { serviceName: 'r' }, localEndpoint: { serviceName: 'l' }, duration: 2, timestamp: 1, name: 'n', kind: 'SERVER', parentId: '1', debug: true });
    expect(Object.keys(span)).toEqual(['traceId', 'id', 'parentId', 'kind', 'name', 'timestamp', 'duration', 'localEndpoint', 'remoteEndpoint', 'annotations', 'tags', 'debug', 'shared']);
  });

  it.each([
    ['kind unknown', { kind: 'server' }, 'span 0: kind "server" is not one of CLIENT, SERVER, PRODUCER, CONSUMER'],
    ['kind a number', { kind: 1 }, 'span 0: kind 1 is not one of CLIENT, SERVER, PRODUCER, CONSUMER'],
    ['name an object', { name: {} }, 'span 0: name is an object, not a string'],
    ['timestamp fractional', { timestamp: 1.5 }, 'span 0: timestamp 1.5 is not an integer'],
    ['timestamp a word', { timestamp: 'soon' }, 'span 0: timestamp is "soon", not an integer'],
    ['timestamp a boolean', { timestamp: true }, 'span 0: timestamp is true, not an integer'],
    ['timestamp beyond 2^53', { timestamp: 2 ** 60 }, `span 0: timestamp ${2 ** 60} is too large`],
    ['duration a list', { duration: [] }, 'span 0: duration is a list, not an integer'],
    ['debug a string', { debug: 'true' }, 'span 0: debug is "true", not true or false'],
    ['shared a number', { shared: 1 }, 'span 0: shared is 1, not true or false'],
  ])('refuses %s', (_name, fields, message) => {
    expect(errorOf([{ ...base, ...fields }])).toBe(message);
  });
});

describe('parseSpans: endpoints (Endpoint.Builder)', () => {
  it.each([
    ['serviceName lower-cased', { serviceName: 'Frontend' }, { serviceName: 'frontend' }],
    ['empty serviceName absent, endpoint with port kept', { serviceName: '', port: 8080 }, { port: 8080 }],
    ['ipv4 kept', { ipv4: '192.168.99.100' }, { ipv4: '192.168.99.100' }],
    ['ipv6 canonical (lower-case, zeros compressed)', { ipv6: '2001:DB8:0:0:0:0:0:C001' }, { ipv6: '2001:db8::c001' }],
    ['IPv4 given as ipv6 is stored as ipv4 (parseIp picks the family)', { ipv6: '10.1.2.3' }, { ipv4: '10.1.2.3' }],
    ['IPv4-mapped IPv6 is stored as ipv4', { ipv6: '::ffff:10.1.2.3' }, { ipv4: '10.1.2.3' }],
    ['IPv4-compatible IPv6 is stored as ipv4', { ipv6: '::10.1.2.3' }, { ipv4: '10.1.2.3' }],
    ['::1 stays IPv6', { ipv6: '::1' }, { ipv6: '::1' }],
    ['an ip that does not parse is dropped', { serviceName: 'a', ipv4: 'localhost', ipv6: '1:2:3' }, { serviceName: 'a' }],
    ['port 0 absent', { serviceName: 'a', port: 0 }, { serviceName: 'a' }],
    ['negative port absent', { serviceName: 'a', port: -1 }, { serviceName: 'a' }],
    ['serviceName as a number', { serviceName: 7 }, { serviceName: '7' }],
  ])('%s', (_name, endpoint, expected) => {
    expect(one({ localEndpoint: endpoint }).localEndpoint).toEqual(expected);
  });

  it.each([
    ['port above 65535', { port: 65536 }, 'span 0: localEndpoint.port 65536 is above 65535'],
    ['port fractional', { port: 1.5 }, 'span 0: localEndpoint.port 1.5 is not an integer'],
    ['port a string', { port: '80' }, 'span 0: localEndpoint.port "80" is not an integer'],
    ['serviceName a boolean', { serviceName: false }, 'span 0: localEndpoint.serviceName is false, not a string'],
    ['ipv4 an object', { ipv4: {} }, 'span 0: localEndpoint.ipv4 is an object, not a string'],
  ])('refuses %s', (_name, endpoint, message) => {
    expect(errorOf([{ ...base, localEndpoint: endpoint }])).toBe(message);
  });

  it('refuses an endpoint that is not an object, naming which', () => {
    expect(errorOf([{ ...base, remoteEndpoint: 'db' }])).toBe('span 0: remoteEndpoint is "db", not an object');
  });
});

describe('parseSpans: annotations and tags', () => {
  it('sorts annotations by time then value and removes duplicates (Span.sortedList)', () => {
    const span = one({ annotations: [{ timestamp: 2, value: 'b' }, { timestamp: 1, value: 'z' }, { timestamp: 2, value: 'a' }, { timestamp: 1, value: 'z', extra: true }] });
    expect(span.annotations).toEqual([{ timestamp: 1, value: 'z' }, { timestamp: 2, value: 'a' }, { timestamp: 2, value: 'b' }]);
  });

  it.each([
    ['not a list', { annotations: {} }, 'span 0: annotations is an object, not a list'],
    ['an item not an object', { annotations: ['ws'] }, 'span 0: annotations[0] is "ws", not an object'],
    ['an item without value (Incomplete annotation)', { annotations: [{ timestamp: 1 }] }, 'span 0: annotations[0] is incomplete: it needs a timestamp and a value'],
    ['an item without timestamp', { annotations: [{ value: 'ws' }] }, 'span 0: annotations[0] is incomplete: it needs a timestamp and a value'],
    ['an item with a bad timestamp', { annotations: [{ timestamp: 'x', value: 'ws' }] }, 'span 0: annotations[0].timestamp is "x", not an integer'],
    ['an item with a non-string value', { annotations: [{ timestamp: 1, value: {} }] }, 'span 0: annotations[0].value is an object, not a string'],
  ])('refuses annotations: %s', (_name, fields, message) => {
    expect(errorOf([{ ...base, ...fields }])).toBe(message);
  });

  it('sorts tags by key and keeps a number value as its text (Gson nextString)', () => {
    const span = one({ tags: { 'http.status_code': 200, 'b': 'x', 'a': '' } });
    expect(Object.entries(span.tags!)).toEqual([['a', ''], ['b', 'x'], ['http.status_code', '200']]);
  });

  it.each([
    ['null value (No value at)', { tags: { error: null } }, 'span 0: tags["error"] has no value'],
    ['boolean value', { tags: { ok: true } }, 'span 0: tags["ok"] is true, not a string'],
    ['object value', { tags: { o: { a: 1 } } }, 'span 0: tags["o"] is an object, not a string'],
    ['not an object', { tags: ['a'] }, 'span 0: tags is a list, not an object'],
  ])('refuses tags: %s', (_name, fields, message) => {
    expect(errorOf([{ ...base, ...fields }])).toBe(message);
  });

  it('keeps a __proto__ tag as a tag, not a prototype', () => {
    const result = parseSpans(`[{"traceId":"1","id":"2","tags":{"__proto__":"x","constructor":"y"}}]`);
    if ('error' in result) throw new Error(result.error);
    const tags = result.spans[0]!.tags!;
    expect(Object.getPrototypeOf(tags)).toBe(Object.prototype);
    expect(Object.keys(tags)).toEqual(['__proto__', 'constructor']);
    expect(JSON.parse(JSON.stringify(tags))).toEqual(JSON.parse('{"__proto__":"x","constructor":"y"}'));
    expect(tags['__proto__']).toBe('x');
  });

  it('tagObject and sortAnnotations give new plain values', () => {
    const input = [{ timestamp: 2, value: 'a' }, { timestamp: 1, value: 'a' }];
    expect(sortAnnotations(input)).toEqual([{ timestamp: 1, value: 'a' }, { timestamp: 2, value: 'a' }]);
    expect(input[0]!.timestamp).toBe(2);
    expect(Object.keys(tagObject([['__proto__', '1']]))).toEqual(['__proto__']);
  });
});

describe('parseSpans: bounded work', () => {
  it('skips a deeply nested unknown field without walking it', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const result = parseSpans(`[{"traceId":"1","id":"2","extra":${deep}}]`);
    expect('spans' in result && result.spans).toEqual([{ traceId: '0000000000000001', id: '0000000000000002' }]);
  });
});
