import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  jsonValueErrors,
  OFFICIAL_DEFINITION_PRESENT,
  officialSchemaErrors,
  officialTitle,
  ownSchemaErrors,
  validateZipkinSpans,
  ZIPKIN_API_YAML,
  zipkinJsonSchema,
  zipkinSpanExample,
  zipkinSpanSchemaErrors,
  ziptraceSchemaErrors,
} from './zipkin-schema.js';

// The validator is what every encoding spec leans on, so it must be able to
// fail: each known-bad span below is rejected, and says where. ziptrace's own
// schema is checked always; the official definition where it is beside the
// repository (../shared/zipkin-api, as in CI), else those checks are skipped.

const official = it.skipIf(!OFFICIAL_DEFINITION_PRESENT);
/** A span using every field, written by hand from the API definition. */
function goodSpan(): Record<string, unknown> {
  return {
    traceId: '4e441824ec2b6a44ffdc9bb9a6453df3',
    id: 'ffdc9bb9a6453df3',
    parentId: '6b221d5bc9e6496c',
    name: 'get /api',
    kind: 'SERVER',
    timestamp: 1556604172355737,
    duration: 1431,
    debug: true,
    shared: true,
    localEndpoint: { serviceName: 'backend', ipv4: '192.168.99.1', ipv6: '2001:db8::c001', port: 3306 },
    remoteEndpoint: { ipv4: '172.19.0.2', port: 58648 },
    annotations: [
      { timestamp: 1556604172355800, value: 'ws' },
      { timestamp: 1556604172355900, value: 'wr' },
    ],
    tags: { 'http.method': 'GET', 'http.path': '/api' },
  };
}

function withField(key: string, value: unknown): Record<string, unknown> {
  return { ...goodSpan(), [key]: value };
}

function without(key: string): Record<string, unknown> {
  const span = goodSpan();
  delete span[key];
  return span;
}

describe('zipkin-schema helper', () => {
  it('looks for the official definition beside the repository root, not at an absolute machine path', () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
    expect(relative(root, ZIPKIN_API_YAML).split(/[\\/]/)).toEqual(['..', 'shared', 'zipkin-api', 'zipkin2-api.yaml']);
  });

  it('checks against the official definition only where it is present, and says so when it is not', () => {
    expect(officialTitle('x')).toBe(OFFICIAL_DEFINITION_PRESENT ? 'x' : 'x [skipped: no ../shared/zipkin-api/zipkin2-api.yaml beside the repository]');
    if (OFFICIAL_DEFINITION_PRESENT) {
      expect(zipkinSpanSchemaErrors([withField('kind', 'server')]).join('\n')).toMatch(/zipkin2-api\.yaml: \/0\/kind/);
    } else {
      expect(() => officialSchemaErrors([])).toThrow(/not available .*guard this check with OFFICIAL_DEFINITION_PRESENT/);
      expect(zipkinSpanSchemaErrors([withField('kind', 'server')]).join('\n')).not.toContain('zipkin2-api.yaml:');
    }
    expect(zipkinSpanSchemaErrors([withField('kind', 'server')]).join('\n')).toMatch(/ziptrace: \/0\/kind/);
  });

  official(officialTitle('converts the Swagger definitions: refs rewritten, Swagger-only keywords gone, constraints kept'), () => {
    const schema = zipkinJsonSchema();
    const text = JSON.stringify(schema);
    expect(text).not.toContain('"#/definitions/');
    expect(text).not.toContain('"example"');
    const definitions = schema.definitions as Record<string, Record<string, any>>;
    for (const name of ['ListOfSpans', 'Span', 'Endpoint', 'Annotation', 'Tags']) expect(definitions).toHaveProperty(name);
    const span = definitions.Span!;
    expect(span.required).toEqual(['traceId', 'id']);
    expect(span.properties.kind.enum).toEqual(['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER']);
    expect(span.properties.traceId).toMatchObject({ minLength: 16, maxLength: 32, pattern: '[a-f0-9]{16,32}' });
    expect(span.properties.id).toMatchObject({ minLength: 16, maxLength: 16, pattern: '[a-f0-9]{16}' });
    expect(span.properties.timestamp).toMatchObject({ type: 'integer', format: 'int64' });
    expect(span.properties.duration).toMatchObject({ type: 'integer', format: 'int64', minimum: 1 });
    expect(span.properties.annotations.uniqueItems).toBe(true);
    expect(definitions.Tags!.additionalProperties).toEqual({ type: 'string' });
    expect(definitions.Annotation!.required).toEqual(['timestamp', 'value']);
  });

  it('accepts a hand-written span using every field, one with only the required fields, and an empty list', () => {
    expect(zipkinSpanSchemaErrors([goodSpan()])).toEqual([]);
    expect(ziptraceSchemaErrors([goodSpan()])).toEqual([]);
    expect(() => validateZipkinSpans([goodSpan()])).not.toThrow();
    expect(zipkinSpanSchemaErrors([{ traceId: '5af7183fb1d4cf5f', id: '352bff9a74ca9ad2' }])).toEqual([]);
    expect(zipkinSpanSchemaErrors([])).toEqual([]);
  });

  official(officialTitle('accepts the example span from the official definition, by both schemas'), () => {
    expect(officialSchemaErrors([zipkinSpanExample()])).toEqual([]);
    expect(ziptraceSchemaErrors([zipkinSpanExample()])).toEqual([]);
  });

  // Each of these breaks the official definition itself, and so ziptrace's
  // schema too: [what, spans, ziptrace's message, the official one's].
  const knownBad: [string, unknown, RegExp, RegExp][] = [
    ['null parentId', [withField('parentId', null)], /\/0\/parentId must be string/, /\/0\/parentId must be string/],
    ['numeric tag value', [withField('tags', { 'http.status_code': 200 })], /\/0\/tags\/http\.status_code must be string/, /\/0\/tags\/http\.status_code must be string/],
    ['lower-case kind', [withField('kind', 'server')], /\/0\/kind must be equal to one of the allowed values \(CLIENT, SERVER, PRODUCER, CONSUMER\)/, /\/0\/kind must be equal to one of the allowed values \(CLIENT, SERVER, PRODUCER, CONSUMER\)/],
    ['15-character id', [withField('id', 'ffdc9bb9a6453df')], /\/0\/id must NOT have fewer than 16 characters/, /\/0\/id must NOT have fewer than 16 characters/],
    ['17-character id', [withField('id', 'ffdc9bb9a6453df30')], /\/0\/id must NOT have more than 16 characters/, /\/0\/id must NOT have more than 16 characters/],
    ['upper-case hex id', [withField('id', 'FFDC9BB9A6453DF3')], /\/0\/id must match pattern .*got "FFDC9BB9A6453DF3"/, /\/0\/id must match pattern/],
    ['non-integer timestamp', [withField('timestamp', 1556604172355737.5)], /\/0\/timestamp must be integer/, /\/0\/timestamp must be integer/],
    ['timestamp as a string', [withField('timestamp', '1556604172355737')], /\/0\/timestamp must be integer/, /\/0\/timestamp must be integer/],
    ['timestamp beyond int64', [withField('timestamp', 1e20)], /\/0\/timestamp must be <= 9007199254740991/, /\/0\/timestamp must match format "int64"/],
    ['missing traceId', [without('traceId')], /\/0 must have required property 'traceId'/, /\/0 must have required property 'traceId'/],
    ['missing id', [without('id')], /\/0 must have required property 'id'/, /\/0 must have required property 'id'/],
    ['33-character traceId', [withField('traceId', '4e441824ec2b6a44ffdc9bb9a6453df3a')], /\/0\/traceId must NOT have more than 32 characters/, /\/0\/traceId must NOT have more than 32 characters/],
    ['zero duration', [withField('duration', 0)], /\/0\/duration must be >= 1/, /\/0\/duration must be >= 1/],
    ['non-integer duration', [withField('duration', 1.5)], /\/0\/duration must be integer/, /\/0\/duration must be integer/],
    ['debug as a string', [withField('debug', 'true')], /\/0\/debug must be boolean/, /\/0\/debug must be boolean/],
    ['bad ipv4', [withField('localEndpoint', { serviceName: 'a', ipv4: '999.1.1.1' })], /\/0\/localEndpoint\/ipv4 must match format "ipv4"/, /\/0\/localEndpoint\/ipv4 must match format "ipv4"/],
    ['bad ipv6', [withField('remoteEndpoint', { ipv6: '2001:db8::g' })], /\/0\/remoteEndpoint\/ipv6 must match format "ipv6"/, /\/0\/remoteEndpoint\/ipv6 must match format "ipv6"/],
    ['port as a string', [withField('localEndpoint', { serviceName: 'a', port: '80' })], /\/0\/localEndpoint\/port must be integer/, /\/0\/localEndpoint\/port must be integer/],
    ['annotation without value', [withField('annotations', [{ timestamp: 1556604172355800 }])], /\/0\/annotations\/0 must have required property 'value'/, /\/0\/annotations\/0 must have required property 'value'/],
    ['annotation with a float timestamp', [withField('annotations', [{ timestamp: 1.5, value: 'x' }])], /\/0\/annotations\/0\/timestamp must be integer/, /\/0\/annotations\/0\/timestamp must be integer/],
    [
      'duplicate annotations',
      [withField('annotations', [{ timestamp: 1556604172355800, value: 'ws' }, { timestamp: 1556604172355800, value: 'ws' }])],
      /\/0\/annotations must NOT have duplicate items/,
      /\/0\/annotations must NOT have duplicate items/,
    ],
    ['tags as an array', [withField('tags', ['a'])], /\/0\/tags must be object/, /\/0\/tags must be object/],
    ['null tag value', [withField('tags', { a: null })], /\/0\/tags\/a must be string/, /\/0\/tags\/a must be string/],
    ['a span, not a list', goodSpan(), /\(root\) must be array/, /\(root\) must be array/],
    ['null in the list', [null], /\/0 must be object/, /\/0 must be object/],
  ];

  it.each(knownBad)('rejects a %s (by ziptrace’s schema)', (_what, spans, message) => {
    const own = ownSchemaErrors(spans);
    expect(own.length).toBeGreaterThan(0);
    expect(own.join('\n')).toMatch(message);
    expect(zipkinSpanSchemaErrors(spans).join('\n')).toMatch(message);
    expect(() => validateZipkinSpans(spans)).toThrow(message);
  });

  official.each(knownBad)(officialTitle('rejects a %s (by the official definition itself)'), (_what, spans, _own, message) => {
    const errors = officialSchemaErrors(spans);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(message);
    expect(zipkinSpanSchemaErrors(spans).join('\n')).toMatch(message);
  });

  it('lists every problem at once, each with its path', () => {
    const spans = [withField('kind', 'client'), withField('parentId', null), without('traceId')];
    let thrown: unknown;
    try {
      validateZipkinSpans(spans);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    const message = (thrown as Error).message;
    expect(message).toMatch(/^invalid Zipkin v2 spans \(\d+ problems\)/);
    expect(message).toContain('/0/kind');
    expect(message).toContain('/1/parentId');
    expect(message).toContain("/2 must have required property 'traceId'");
    expect(message).toMatch(/\nspans: \[\{"traceId":/);
  });

  // The official definition is looser than Zipkin's servers and than
  // ziptrace's promises in these cases: ziptrace's schema rejects them, the
  // official one lets them through.
  const stricter: [string, unknown, RegExp][] = [
    ['17-character traceId (the file allows 16 to 32)', [withField('traceId', '4e441824ec2b6a44f')], /\/0\/traceId must match pattern .*got "4e441824ec2b6a44f"/],
    ['id padded with non-hex (the file pattern is unanchored)', [withField('traceId', 'zz4e441824ec2b6a44')], /\/0\/traceId must match pattern/],
    ['all-zero span id', [withField('id', '0000000000000000')], /\/0\/id must match pattern "\^\(\?!0\+\$\).*got "0000000000000000"/],
    ['all-zero trace id', [withField('traceId', '0'.repeat(32))], /\/0\/traceId must match pattern/],
    ['debug: false', [withField('debug', false)], /\/0\/debug must be equal to constant \(true\), got false/],
    ['shared: false', [withField('shared', false)], /\/0\/shared must be equal to constant \(true\)/],
    ['unknown span property', [withField('traceID', 'x')], /\/0 must NOT have additional properties \(traceID\)/],
    ['unknown endpoint property', [withField('localEndpoint', { serviceName: 'a', host: 'x' })], /\/0\/localEndpoint must NOT have additional properties \(host\)/],
    ['unknown annotation property', [withField('annotations', [{ timestamp: 1, value: 'a', extra: 1 }])], /\/0\/annotations\/0 must NOT have additional properties \(extra\)/],
    ['zero timestamp', [withField('timestamp', 0)], /\/0\/timestamp must be >= 1, got 0/],
    ['negative annotation timestamp', [withField('annotations', [{ timestamp: -5, value: 'a' }])], /\/0\/annotations\/0\/timestamp must be >= 1/],
    ['timestamp a double cannot hold exactly', [withField('timestamp', 2 ** 60)], /\/0\/timestamp must be <= 9007199254740991/],
    ['empty name', [withField('name', '')], /\/0\/name must NOT have fewer than 1 characters/],
    ['empty serviceName', [withField('localEndpoint', { serviceName: '' })], /\/0\/localEndpoint\/serviceName must NOT have fewer than 1 characters/],
    ['port zero', [withField('remoteEndpoint', { port: 0 })], /\/0\/remoteEndpoint\/port must be >= 1/],
    ['port over 65535', [withField('remoteEndpoint', { port: 65536 })], /\/0\/remoteEndpoint\/port must be <= 65535/],
  ];

  it.each(stricter)('rejects a %s (by ziptrace’s schema, stricter than the file)', (_what, spans, message) => {
    expect(ownSchemaErrors(spans).join('\n')).toMatch(message);
    expect(() => validateZipkinSpans(spans)).toThrow(message);
  });

  official.each(stricter)(officialTitle('lets a %s through (the official definition, looser than ziptrace)'), (_what, spans) => {
    expect(officialSchemaErrors(spans)).toEqual([]);
  });

  it('rejects nulls, undefined-valued properties and values JSON cannot carry anywhere in the object', () => {
    expect(ziptraceSchemaErrors([withField('extra', null)]).join('\n')).toContain('/0/extra is null');
    // Properties holding undefined vanish in JSON, but ziptrace leaves them out of the object too.
    expect(ownSchemaErrors([withField('parentId', undefined)])).toEqual([]); // JSON Schema cannot see it…
    expect(jsonValueErrors([withField('parentId', undefined)]).join('\n')).toContain('/0/parentId is undefined'); // …this does
    expect(ziptraceSchemaErrors([withField('timestamp', Number.NaN)]).join('\n')).toContain('/0/timestamp is NaN');
    expect(ziptraceSchemaErrors([withField('tags', { a: 1n })]).join('\n')).toContain('/0/tags/a is a bigint');
    expect(ziptraceSchemaErrors([withField('localEndpoint', new Date())]).join('\n')).toContain('/0/localEndpoint is not a plain object');
    expect(() => validateZipkinSpans([withField('parentId', undefined)])).toThrow(/parentId is undefined/);
    expect(() => validateZipkinSpans([withField('tags', { a: 1n })])).toThrow(/"a":"1n"/);
  });

  official(officialTitle('the official definition lets an unknown property hold anything'), () => {
    expect(officialSchemaErrors([withField('extra', null)])).toEqual([]);
  });

  it('accepts prototype-less objects, as ziptrace uses for tags', () => {
    const tags = Object.create(null) as Record<string, string>;
    tags.a = 'b';
    tags['__proto__'] = 'x'; // an own key: there is no prototype to hold the accessor
    expect(Object.keys(tags)).toEqual(['a', '__proto__']);
    expect(zipkinSpanSchemaErrors([withField('tags', tags)])).toEqual([]);
  });
});
