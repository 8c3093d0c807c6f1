/**
 * The byte writer (lib/encoding/zipkin-bytes.ts) against the text encoder it
 * must match byte for byte, on finished spans the tracer never makes: the
 * paths that fall back to the text encoder's own output (numbers that are not
 * safe integers, a tag that is not a string, an endpoint that is not frozen).
 * Every span the tracer does make is checked the same way in
 * zipkin-json.spec.ts, which reports through a writer of this kind.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFinishedSpanInto, HEAD_ROOM, NO_ROOM } from '../../lib/encoding/zipkin-bytes.js';
import { encodeFinishedSpan, localEndpointPart, type FinishedSpan } from '../../lib/encoding/zipkin-json.js';
import type { TraceContext } from '../../lib/types.js';

const ENDPOINT = localEndpointPart({ serviceName: 'checkout', ipv4: '10.0.0.1' });

function span(fields: Partial<Omit<FinishedSpan, 'context'>> & { context?: Partial<TraceContext> }): FinishedSpan {
  const { context, ...rest } = fields;
  return {
    context: { traceId: '463ac35c9f6413ad48485a3953bb6124', spanId: 'a2fb4a1d1a96d312', sampled: true, ...context } as TraceContext,
    _name: 'get /users/:id',
    _kind: 'SERVER',
    _timestamp: 1_700_000_000_123_456,
    _duration: 1234,
    _tags: undefined,
    _annotations: undefined,
    _remote: undefined,
    _droppedTags: 0,
    _droppedAnnotations: 0,
    ...rest,
  };
}

/** The writer's bytes, written at an odd offset, must be the text's; every shorter buffer must get NO_ROOM with nothing before the offset touched. */
function expectSameBytes(finished: FinishedSpan): void {
  const expected = Buffer.from(encodeFinishedSpan(finished, ENDPOINT));
  const endpoint = Buffer.from(ENDPOINT);
  const at = 3;
  const buf = Buffer.alloc(at + expected.length + HEAD_ROOM);
  const end = encodeFinishedSpanInto(finished, endpoint, buf, at);
  expect(end).toBe(at + expected.length);
  // Bytes, not their decoding: two different invalid sequences would both decode to U+FFFD.
  expect(buf.subarray(at, end).equals(expected), expected.toString('utf8')).toBe(true);
  for (let room = 0; room < expected.length; room++) {
    const short = Buffer.alloc(at + room, 0xee);
    expect(encodeFinishedSpanInto(finished, endpoint, short, at)).toBe(NO_ROOM);
    expect(short.subarray(0, at).every((byte) => byte === 0xee)).toBe(true);
  }
}

describe('the byte writer of finished spans', () => {
  it('writes the fields of a full span as the text encoder does', () => {
    expectSameBytes(
      span({
        context: { parentId: '0020000000000001', debug: true, shared: true },
        _tags: { 'http.method': 'GET', 'http.path': '/users/42', 'http.status_code': '200' },
        _annotations: [
          { timestamp: 1_700_000_000_123_500, value: 'ws' },
          { timestamp: 1_700_000_000_123_600, value: 'wr' },
        ],
        _remote: Object.freeze({ ipv4: '127.0.0.1', port: 54321 }),
      }),
    );
  });

  it('writes what the text encoder makes of numbers that are not safe integers, and of small and negative ones', () => {
    for (const value of [0, -0, 1, 9, 10, 99_999_999, 100_000_000, 123_456_789_012, Number.MAX_SAFE_INTEGER, -1, 1.5, 2 ** 53, 1e21, Number.NaN, Number.POSITIVE_INFINITY, -Number.MAX_VALUE]) {
      expectSameBytes(span({ _timestamp: value, _duration: value, _annotations: [{ timestamp: value, value: 'x' }] }));
    }
  });

  it('writes the digits of every timestamp, whichever second the last one was in', () => {
    // The digits of a timestamp's second are kept from one span to the next: seconds that change, repeat and go back,
    // microseconds that need padding, and seconds near 2^53, where doubles are furthest apart.
    const values = [999_999, 1_000_000, 1_700_000_000_999_999, 1_700_000_001_000_000, 1_700_000_001_000_007, 1_700_000_000_000_001, 1_700_000_000_000_001];
    values.push(9_007_199_253_999_999, 9_007_199_254_000_000, 9_007_199_254_740_991, 10_000_000_000_000, 1_000_000_000_000_000);
    for (const value of values) expectSameBytes(span({ _timestamp: value, _annotations: [{ timestamp: value + 1, value: 'x' }] }));
  });

  it('writes escapes, non-ASCII text and long values through the text encoder', () => {
    for (const text of ['quote " here', 'back\\slash', 'tab\there', 'naïve', '日本語', '😀', '\uD800 lone', 'x'.repeat(300), '']) {
      expectSameBytes(span({ _name: text, _tags: { [text || 'empty']: text, plain: 'ok' }, _annotations: [{ timestamp: 1_700_000_000_000_000, value: text }] }));
    }
  });

  it('writes a tags object holding something that is not a string as JSON.stringify does', () => {
    expectSameBytes(span({ _tags: { a: 'x', b: 1 as unknown as string, c: 'y' } }));
    const nullProto = Object.assign(Object.create(null) as Record<string, string>, { a: 'x', b: true as unknown as string });
    expectSameBytes(span({ _tags: nullProto }));
    // Keys in the order the text encoder visits them, integer-like ones first, in a plain and a null-prototype map.
    const keys = { b: 'y', a: 'x', '2': 'n', '1': 'm', __proto__x: 'p' };
    expectSameBytes(span({ _tags: { ...keys } }));
    expectSameBytes(span({ _tags: Object.assign(Object.create(null) as Record<string, string>, keys) }));
  });

  it("writes only a tags object's own keys when something made a key of Object.prototype enumerable", () => {
    const tags = { 'http.method': 'GET', shadowed: 'own' };
    const before = Buffer.from(encodeFinishedSpan(span({ _tags: tags }), ENDPOINT)).toString('utf8');
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = 'from the prototype';
    proto.shadowed = 'from the prototype';
    try {
      expectSameBytes(span({ _tags: tags }));
      expectSameBytes(span({ _tags: { ...tags, '7': 'n' } }));
      const buf = Buffer.alloc(1024);
      const end = encodeFinishedSpanInto(span({ _tags: tags }), Buffer.from(ENDPOINT), buf, 0);
      expect(buf.toString('utf8', 0, end)).toBe(before);
    } finally {
      delete proto.polluted;
      delete proto.shadowed;
    }
  });

  it('writes an endpoint that is not frozen as it is now, and says what the limits dropped', () => {
    const remote = { serviceName: 'db', ipv6: '::1', port: 5432 };
    expectSameBytes(span({ _remote: remote }));
    remote.port = 5433;
    expectSameBytes(span({ _remote: remote }));
    expectSameBytes(span({ _tags: { a: 'x' }, _droppedTags: 3, _droppedAnnotations: 2 }));
  });

  it('matches the text encoder on arbitrary strings and numbers (property)', () => {
    const number = fc.oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer(), fc.double());
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme-ascii', maxLength: 40 }));
    fc.assert(
      fc.property(text, number, number, fc.dictionary(text, text, { maxKeys: 5 }), fc.array(fc.tuple(number, text), { maxLength: 3 }), (name, timestamp, duration, tags, annotations) => {
        expectSameBytes(span({ _name: name, _timestamp: timestamp, _duration: duration, _tags: tags, _annotations: annotations.map(([t, value]) => ({ timestamp: t, value })) }));
      }),
      { numRuns: 200 },
    );
  });
});
