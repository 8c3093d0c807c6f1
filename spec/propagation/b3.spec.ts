/**
 * B3 propagation (lib/propagation/b3.ts) against the rules of the B3 spec
 * (github.com/openzipkin/b3-propagation, README) and Brave's reading of them:
 *
 *   - ids are lower-hex: trace 16 or 32 characters, span and parent 16, never all zero;
 *   - X-B3-Sampled 1 accept, 0 deny, absent defer; a lenient reader takes true/false;
 *   - X-B3-Flags: 1 is debug, which implies accept, so X-B3-Sampled is not sent with it;
 *   - the single header is {TraceId}-{SpanId}-{SamplingState}-{ParentSpanId}, the last two
 *     optional, sampling 1/0/d; a decision alone is `b3: 0`, `1` or `d`; as Brave reads it,
 *     {TraceId}-{SpanId}-{ParentSpanId} too (a child whose decision is deferred);
 *   - an all-zero parent id is no parent, in either form;
 *   - a decision may come without ids; ids that are malformed are ignored as a whole;
 *   - the single header wins over the multi headers when both are present.
 *
 * Every extraction row runs over each carrier a transport delivers (Node's
 * joined headers, headersDistinct arrays, fetch Headers, a plain object as
 * sent, Buffer-valued message headers): the answer must not depend on it.
 *
 * A table of Brave's own single-header parse cases (B3SingleFormatTest, one
 * row per test, named after it) checks that ziptrace reads `b3` as Brave does,
 * or says in the row why it deliberately does not.
 */
import { describe, expect, it } from 'vitest';
import {
  B3MultiPropagator,
  B3SinglePropagator,
  createTracer,
  makeHeaders,
  makeSingleHeader,
  MemoryReporter,
  type ExtractedContext,
  type TraceContext,
  type TracerOptions,
} from '../../lib/index.js';
import { CARRIER_KINDS, CARRIERS, ctx, essentials, expectWellFormed, MAX_B3_SINGLE, MAX_ID_HEADER, type HeaderPair } from './helpers.js';

const T128 = '463ac35c9f6413ad48485a3953bb6124';
const T64 = '463ac35c9f6413ad';
const SPAN = 'a2fb4a1d1a96d312';
const PARENT = '0020000000000001';

const multi = new B3MultiPropagator();
const single = new B3SinglePropagator();

/** What a B3 multi extraction gives for a full context. */
const fromMulti = (fields: Partial<TraceContext>): Record<string, unknown> => ({ source: 'b3', debug: false, random: false, ...fields });
const fromSingle = (fields: Partial<TraceContext>): Record<string, unknown> => ({ source: 'b3-single', debug: false, random: false, ...fields });

function tracerWith(options: Partial<TracerOptions> = {}): { tracer: ReturnType<typeof createTracer>; reporter: MemoryReporter } {
  const reporter = new MemoryReporter();
  return { tracer: createTracer({ serviceName: 'b3-spec', reporter, global: false, ...options }), reporter };
}

interface ExtractRow {
  name: string;
  headers: HeaderPair[];
  /** essentials() of the result, or undefined for "nothing extracted". */
  want: Record<string, unknown> | undefined;
}

function ids(trace = T128, span = SPAN, parent: string | null = PARENT): HeaderPair[] {
  const out: HeaderPair[] = [
    ['X-B3-TraceId', trace],
    ['X-B3-SpanId', span],
  ];
  if (parent !== null) out.push(['X-B3-ParentSpanId', parent]);
  return out;
}

const MULTI_ROWS: ExtractRow[] = [
  // Identifiers (README "Identifiers", "Multiple Headers").
  { name: 'README example: 128-bit trace id, span, parent, accept', headers: [...ids(), ['X-B3-Sampled', '1']], want: fromMulti({ traceId: T128, spanId: SPAN, parentId: PARENT, sampled: true }) },
  { name: '64-bit trace id is accepted and kept as sent (not padded)', headers: [...ids(T64), ['X-B3-Sampled', '1']], want: fromMulti({ traceId: T64, spanId: SPAN, parentId: PARENT, sampled: true }) },
  { name: 'root span: no X-B3-ParentSpanId', headers: [...ids(T128, SPAN, null), ['X-B3-Sampled', '1']], want: fromMulti({ traceId: T128, spanId: SPAN, sampled: true }) },
  { name: 'header names match in any case', headers: [['X-B3-TRACEID', T128], ['x-b3-spanid', SPAN], ['X-b3-PaReNtSpAnId', PARENT], ['X-B3-SAMPLED', '1']], want: fromMulti({ traceId: T128, spanId: SPAN, parentId: PARENT, sampled: true }) },
  { name: 'optional white space around values is not part of them', headers: [['X-B3-TraceId', ` ${T128}\t`], ['X-B3-SpanId', `\t${SPAN} `], ['X-B3-Sampled', ' 1 ']], want: fromMulti({ traceId: T128, spanId: SPAN, sampled: true }) },
  // Sampling state.
  { name: 'deny: X-B3-Sampled: 0', headers: [...ids(), ['X-B3-Sampled', '0']], want: fromMulti({ traceId: T128, spanId: SPAN, parentId: PARENT, sampled: false }) },
  { name: 'defer: no X-B3-Sampled leaves sampled undefined (not false)', headers: ids(), want: fromMulti({ traceId: T128, spanId: SPAN, parentId: PARENT }) },
  { name: 'lenient: legacy X-B3-Sampled: true', headers: [...ids(), ['X-B3-Sampled', 'true']], want: fromMulti({ traceId: T128, spanId: SPAN, parentId: PARENT, sampled: true }) },
  { name: 'lenient: legacy X-B3-Sampled: false', headers: [...ids(), ['X-B3-Sampled', 'false']], want: fromMulti({ traceId: T128, spanId: SPAN, parentId: PARENT, sampled: false }) },
  { name: 'lenient: legacy true/false in any case (as Brave)', headers: [...ids(), ['X-B3-Sampled', 'True']], want: fromMulti({ traceId: T128, spanId: SPAN, parentId: PARENT, sampled: true }) },
  { name: 'debug: X-B3-Flags: 1 implies accept', headers: [...ids(), ['X-B3-Flags', '1']], want: fromMulti({ traceId: T128, spanId: SPAN, parentId: PARENT, sampled: true, debug: true }) },
  { name: 'debug wins over a contradicting X-B3-Sampled: 0', headers: [...ids(), ['X-B3-Sampled', '0'], ['X-B3-Flags', '1']], want: fromMulti({ traceId: T128, spanId: SPAN, parentId: PARENT, sampled: true, debug: true }) },
  { name: 'debug with a redundant X-B3-Sampled: 1', headers: [...ids(), ['X-B3-Sampled', '1'], ['X-B3-Flags', '1']], want: fromMulti({ traceId: T128, spanId: SPAN, parentId: PARENT, sampled: true, debug: true }) },
  { name: 'X-B3-Flags: 0 is not debug', headers: [...ids(), ['X-B3-Flags', '0']], want: fromMulti({ traceId: T128, spanId: SPAN, parentId: PARENT }) },
  { name: 'X-B3-Flags other than 1 is not debug (only 1 is actioned)', headers: [...ids(), ['X-B3-Sampled', '0'], ['X-B3-Flags', '3']], want: fromMulti({ traceId: T128, spanId: SPAN, parentId: PARENT, sampled: false }) },
  // A decision without identifiers.
  { name: 'decision alone: X-B3-Sampled: 0', headers: [['X-B3-Sampled', '0']], want: { sampled: false, debug: false, source: 'b3' } },
  { name: 'decision alone: X-B3-Sampled: 1', headers: [['X-B3-Sampled', '1']], want: { sampled: true, debug: false, source: 'b3' } },
  { name: 'decision alone: X-B3-Flags: 1 (debug, so accept)', headers: [['X-B3-Flags', '1']], want: { sampled: true, debug: true, source: 'b3' } },
  { name: 'no B3 headers at all', headers: [['content-type', 'text/plain']], want: undefined },
  { name: 'X-B3-Flags: 0 alone says nothing', headers: [['X-B3-Flags', '0']], want: undefined },
  // Malformed: ignored as a whole, the decision that came with it too.
  { name: 'span id missing', headers: [['X-B3-TraceId', T128], ['X-B3-Sampled', '1']], want: undefined },
  { name: 'trace id missing, span id present', headers: [['X-B3-SpanId', SPAN], ['X-B3-Sampled', '1']], want: undefined },
  { name: 'only a parent id', headers: [['X-B3-ParentSpanId', PARENT], ['X-B3-Sampled', '1']], want: undefined },
  { name: 'upper-case hex trace id', headers: [...ids(T128.toUpperCase()), ['X-B3-Sampled', '1']], want: undefined },
  { name: 'trace id of 15 characters', headers: [...ids(T64.slice(1)), ['X-B3-Sampled', '1']], want: undefined },
  { name: 'trace id of 17 characters', headers: [...ids(`${T64}a`), ['X-B3-Sampled', '1']], want: undefined },
  { name: 'trace id of 20 characters (neither 16 nor 32)', headers: [...ids(T128.slice(0, 20)), ['X-B3-Sampled', '1']], want: undefined },
  { name: 'trace id of 31 characters', headers: [...ids(T128.slice(1)), ['X-B3-Sampled', '1']], want: undefined },
  { name: 'trace id of 33 characters', headers: [...ids(`${T128}a`), ['X-B3-Sampled', '1']], want: undefined },
  { name: 'all-zero 64-bit trace id', headers: [...ids('0'.repeat(16)), ['X-B3-Sampled', '1']], want: undefined },
  { name: 'all-zero 128-bit trace id', headers: [...ids('0'.repeat(32)), ['X-B3-Sampled', '1']], want: undefined },
  { name: 'non-hex trace id', headers: [...ids(`${T64.slice(0, 15)}g`), ['X-B3-Sampled', '1']], want: undefined },
  { name: '0x-prefixed trace id', headers: [...ids(`0x${T64.slice(2)}`), ['X-B3-Sampled', '1']], want: undefined },
  { name: 'empty trace id', headers: [...ids(''), ['X-B3-Sampled', '1']], want: undefined },
  { name: 'upper-case span id', headers: [...ids(T128, SPAN.toUpperCase()), ['X-B3-Sampled', '1']], want: undefined },
  { name: 'span id of 15 characters', headers: [...ids(T128, SPAN.slice(1)), ['X-B3-Sampled', '1']], want: undefined },
  { name: 'span id of 32 characters', headers: [...ids(T128, T128), ['X-B3-Sampled', '1']], want: undefined },
  { name: 'all-zero span id', headers: [...ids(T128, '0'.repeat(16)), ['X-B3-Sampled', '1']], want: undefined },
  // An all-zero parent is no parent, as in the single header (Brave's B3SingleFormatTest parseB3SingleFormat_zero_parentId).
  // Brave's multi-header reader (TraceContext.Builder.parseParentId) rejects the whole set instead; ziptrace reads both
  // B3 forms alike, so that one context is not valid in one form and invalid in the other.
  { name: 'all-zero parent id: no parent, the rest stands', headers: [...ids(T128, SPAN, '0'.repeat(16)), ['X-B3-Sampled', '1']], want: fromMulti({ traceId: T128, spanId: SPAN, sampled: true }) },
  { name: 'all-zero parent id, deferred decision: no parent', headers: ids(T64, SPAN, '0'.repeat(16)), want: fromMulti({ traceId: T64, spanId: SPAN }) },
  { name: 'all-zero parent id of 15 characters: not an id', headers: [...ids(T128, SPAN, '0'.repeat(15)), ['X-B3-Sampled', '1']], want: undefined },
  { name: 'parent id of 15 characters', headers: [...ids(T128, SPAN, PARENT.slice(1)), ['X-B3-Sampled', '1']], want: undefined },
  { name: 'upper-case parent id', headers: [...ids(T128, SPAN, 'ABCDEF0123456789'), ['X-B3-Sampled', '1']], want: undefined },
  { name: 'X-B3-Sampled: 2', headers: [...ids(), ['X-B3-Sampled', '2']], want: undefined },
  { name: 'X-B3-Sampled: d (single-header spelling, not multi)', headers: [...ids(), ['X-B3-Sampled', 'd']], want: undefined },
  { name: 'X-B3-Sampled: yes', headers: [...ids(), ['X-B3-Sampled', 'yes']], want: undefined },
  { name: 'X-B3-Sampled empty', headers: [...ids(), ['X-B3-Sampled', '']], want: undefined },
  { name: 'invalid X-B3-Sampled alone is no decision', headers: [['X-B3-Sampled', 'maybe']], want: undefined },
  // Repeated headers: a proxy merged two traces; which id is right is unknowable.
  { name: 'X-B3-TraceId twice', headers: [...ids(), ['X-B3-TraceId', T128.replace('4', '5')], ['X-B3-Sampled', '1']], want: undefined },
  { name: 'X-B3-TraceId twice with the same value', headers: [...ids(), ['X-B3-TraceId', T128], ['X-B3-Sampled', '1']], want: undefined },
  { name: 'X-B3-TraceId twice, spelled differently', headers: [...ids(), ['x-b3-traceid', T128.replace('4', '5')], ['X-B3-Sampled', '1']], want: undefined },
  { name: 'X-B3-SpanId twice', headers: [...ids(), ['X-B3-SpanId', 'b2fb4a1d1a96d312'], ['X-B3-Sampled', '1']], want: undefined },
  { name: 'X-B3-ParentSpanId twice', headers: [...ids(), ['X-B3-ParentSpanId', '0020000000000002'], ['X-B3-Sampled', '1']], want: undefined },
  { name: 'X-B3-Flags twice: read leniently as "not debug", the rest stands', headers: [...ids(), ['X-B3-Sampled', '0'], ['X-B3-Flags', '1'], ['X-B3-Flags', '1']], want: fromMulti({ traceId: T128, spanId: SPAN, parentId: PARENT, sampled: false }) },
  { name: 'X-B3-Sampled twice', headers: [...ids(), ['X-B3-Sampled', '1'], ['X-B3-Sampled', '0']], want: undefined },
];

describe('B3 multi-header extraction, per the spec rules', () => {
  for (const kind of CARRIER_KINDS) {
    describe(`carrier: ${kind}`, () => {
      it.each(MULTI_ROWS)('$name', ({ headers, want }) => {
        const found = multi.extract(CARRIERS[kind](headers));
        expectWellFormed(found);
        expect(essentials(found)).toEqual(want);
      });
    });
  }

  it('a value up to the length cap is read (white space counted); one character more and the header set is ignored', () => {
    const padded = (id: string, length: number): string => id + ' '.repeat(length - id.length);
    expect(multi.extract({ 'x-b3-traceid': padded(T128, MAX_ID_HEADER), 'x-b3-spanid': SPAN })).toMatchObject({ traceId: T128, spanId: SPAN });
    expect(multi.extract({ 'x-b3-traceid': padded(T128, MAX_ID_HEADER + 1), 'x-b3-spanid': SPAN })).toBeUndefined();
    expect(multi.extract({ 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-sampled': padded('1', MAX_ID_HEADER + 1) })).toBeUndefined();
    // X-B3-Flags is read leniently (as Brave does): an unreadable one is "not debug", the rest stands.
    expect(multi.extract({ 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-flags': '1'.padStart(MAX_ID_HEADER, ' ') })).toMatchObject({ debug: true });
    expect(multi.extract({ 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-flags': '1'.padStart(MAX_ID_HEADER + 1, ' ') })).toMatchObject({ traceId: T128, debug: false, sampled: undefined });
  });
});

interface InjectRow {
  name: string;
  context: ExtractedContext;
  /** Exactly the headers written (lower-case names). */
  want: Record<string, string>;
}

const MULTI_INJECT: InjectRow[] = [
  { name: 'accept, with parent', context: ctx({ traceId: T128, spanId: SPAN, parentId: PARENT, sampled: true }), want: { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-parentspanid': PARENT, 'x-b3-sampled': '1' } },
  { name: 'deny', context: ctx({ traceId: T128, spanId: SPAN, sampled: false }), want: { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-sampled': '0' } },
  { name: 'defer: no X-B3-Sampled at all (never "0")', context: ctx({ traceId: T128, spanId: SPAN, sampled: undefined }), want: { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN } },
  { name: 'debug: X-B3-Flags: 1 and no X-B3-Sampled', context: ctx({ traceId: T128, spanId: SPAN, parentId: PARENT, sampled: true, debug: true }), want: { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-parentspanid': PARENT, 'x-b3-flags': '1' } },
  { name: '64-bit trace id sent as it is', context: ctx({ traceId: T64, spanId: SPAN, sampled: true }), want: { 'x-b3-traceid': T64, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' } },
  { name: 'a decision alone: deny', context: { sampled: false, debug: false }, want: { 'x-b3-sampled': '0' } },
  { name: 'a decision alone: accept', context: { sampled: true, debug: false }, want: { 'x-b3-sampled': '1' } },
  { name: 'a decision alone: debug', context: { sampled: true, debug: true }, want: { 'x-b3-flags': '1' } },
  { name: 'a deferred decision alone: nothing', context: { debug: false }, want: {} },
  { name: 'invalid ids are not echoed, only the decision goes', context: ctx({ traceId: 'not-a-trace-id', spanId: SPAN, sampled: true }), want: { 'x-b3-sampled': '1' } },
  { name: 'an all-zero span id is not echoed', context: ctx({ traceId: T128, spanId: '0'.repeat(16), sampled: false }), want: { 'x-b3-sampled': '0' } },
];

describe('B3 multi-header injection', () => {
  it.each(MULTI_INJECT)('$name', ({ context, want }) => {
    const headers: Record<string, string> = {};
    multi.inject(context, headers);
    expect(headers).toEqual(want);
  });

  it.each(MULTI_INJECT)('makeHeaders: $name, with canonical names', ({ context, want }) => {
    const canonical: Record<string, string> = { 'x-b3-traceid': 'X-B3-TraceId', 'x-b3-spanid': 'X-B3-SpanId', 'x-b3-parentspanid': 'X-B3-ParentSpanId', 'x-b3-sampled': 'X-B3-Sampled', 'x-b3-flags': 'X-B3-Flags' };
    expect(makeHeaders(context)).toEqual(Object.fromEntries(Object.entries(want).map(([k, v]) => [canonical[k]!, v])));
  });

  it('makeHeaders and makeSingleHeader take a span too', () => {
    const { tracer } = tracerWith();
    const span = tracer.startSpan('client', { parent: ctx({ traceId: T128, spanId: PARENT, sampled: true }) });
    expect(makeHeaders(span)).toEqual({ 'X-B3-TraceId': T128, 'X-B3-SpanId': span.context.spanId, 'X-B3-ParentSpanId': PARENT, 'X-B3-Sampled': '1' });
    expect(makeSingleHeader(span)).toEqual({ b3: `${T128}-${span.context.spanId}-1-${PARENT}` });
    span.finish();
  });
});

const SINGLE_ROWS: ExtractRow[] = [
  // The README's examples. (Its prose example swaps span and parent relative to its multi-header
  // example; the grammar {TraceId}-{SpanId}-{SamplingState}-{ParentSpanId} is what is read.)
  { name: 'README: trace-span-1-parent', headers: [['b3', '80f198ee56343ba864fe8b2a57d3eff7-05e3ac9a4f6e3b90-1-e457b5a2e4d86bd1']], want: fromSingle({ traceId: '80f198ee56343ba864fe8b2a57d3eff7', spanId: '05e3ac9a4f6e3b90', parentId: 'e457b5a2e4d86bd1', sampled: true }) },
  { name: 'README: trace-span-1 (parent optional)', headers: [['b3', '80f198ee56343ba864fe8b2a57d3eff7-05e3ac9a4f6e3b90-1']], want: fromSingle({ traceId: '80f198ee56343ba864fe8b2a57d3eff7', spanId: '05e3ac9a4f6e3b90', sampled: true }) },
  { name: 'README: trace-span-d is debug, which implies accept', headers: [['b3', '80f198ee56343ba864fe8b2a57d3eff7-05e3ac9a4f6e3b90-d']], want: fromSingle({ traceId: '80f198ee56343ba864fe8b2a57d3eff7', spanId: '05e3ac9a4f6e3b90', sampled: true, debug: true }) },
  { name: 'README: b3: 0 is a deny decision alone', headers: [['b3', '0']], want: { sampled: false, debug: false, source: 'b3-single' } },
  { name: 'b3: 1 is an accept decision alone', headers: [['b3', '1']], want: { sampled: true, debug: false, source: 'b3-single' } },
  { name: 'b3: d is a debug decision alone', headers: [['b3', 'd']], want: { sampled: true, debug: true, source: 'b3-single' } },
  { name: 'defer: trace-span, sampling absent', headers: [['b3', `${T128}-${SPAN}`]], want: fromSingle({ traceId: T128, spanId: SPAN }) },
  { name: '64-bit trace id kept', headers: [['b3', `${T64}-${SPAN}-1`]], want: fromSingle({ traceId: T64, spanId: SPAN, sampled: true }) },
  { name: 'deny with a parent', headers: [['b3', `${T128}-${SPAN}-0-${PARENT}`]], want: fromSingle({ traceId: T128, spanId: SPAN, parentId: PARENT, sampled: false }) },
  { name: 'debug with a parent', headers: [['b3', `${T64}-${SPAN}-d-${PARENT}`]], want: fromSingle({ traceId: T64, spanId: SPAN, parentId: PARENT, sampled: true, debug: true }) },
  { name: 'the name matches in any case', headers: [['B3', `${T128}-${SPAN}-1`]], want: fromSingle({ traceId: T128, spanId: SPAN, sampled: true }) },
  { name: 'optional white space around the value', headers: [['b3', `\t ${T128}-${SPAN}-1 `]], want: fromSingle({ traceId: T128, spanId: SPAN, sampled: true }) },
  { name: 'parent without a sampling state: deferred, as Brave reads it (the README grammar has no such form)', headers: [['b3', `${T128}-${SPAN}-${PARENT}`]], want: fromSingle({ traceId: T128, spanId: SPAN, parentId: PARENT }) },
  { name: 'all-zero parent id: no parent', headers: [['b3', `${T128}-${SPAN}-1-${'0'.repeat(16)}`]], want: fromSingle({ traceId: T128, spanId: SPAN, sampled: true }) },
  { name: 'all-zero parent id, deferred: no parent', headers: [['b3', `${T128}-${SPAN}-${'0'.repeat(16)}`]], want: fromSingle({ traceId: T128, spanId: SPAN }) },
  // Malformed: ignored.
  { name: 'empty', headers: [['b3', '']], want: undefined },
  { name: 'sampling state 2', headers: [['b3', '2']], want: undefined },
  { name: 'upper-case D', headers: [['b3', 'D']], want: undefined },
  { name: 'true is not a single-header sampling state', headers: [['b3', 'true']], want: undefined },
  { name: 'two sampling characters', headers: [['b3', '00']], want: undefined },
  { name: 'a lone hyphen', headers: [['b3', '-']], want: undefined },
  { name: 'a trace id alone', headers: [['b3', T128]], want: undefined },
  { name: 'trailing hyphen after the span id', headers: [['b3', `${T128}-${SPAN}-`]], want: undefined },
  { name: 'trailing hyphen after the sampling state', headers: [['b3', `${T128}-${SPAN}-1-`]], want: undefined },
  { name: 'sampling state 2 after ids', headers: [['b3', `${T128}-${SPAN}-2`]], want: undefined },
  { name: 'sampling state spelled out', headers: [['b3', `${T128}-${SPAN}-true`]], want: undefined },
  { name: 'a fifth field', headers: [['b3', `${T128}-${SPAN}-1-${PARENT}-extra`]], want: undefined },
  { name: 'upper-case trace id', headers: [['b3', `${T128.toUpperCase()}-${SPAN}-1`]], want: undefined },
  { name: 'trace id of 20 characters', headers: [['b3', `${T128.slice(0, 20)}-${SPAN}-1`]], want: undefined },
  { name: 'all-zero trace id', headers: [['b3', `${'0'.repeat(32)}-${SPAN}-1`]], want: undefined },
  { name: 'all-zero 64-bit trace id', headers: [['b3', `${'0'.repeat(16)}-${SPAN}-1`]], want: undefined },
  { name: 'all-zero span id', headers: [['b3', `${T128}-${'0'.repeat(16)}-1`]], want: undefined },
  { name: 'span id of 15 characters', headers: [['b3', `${T128}-${SPAN.slice(1)}-1`]], want: undefined },
  { name: 'parent id of 17 characters', headers: [['b3', `${T128}-${SPAN}-1-${PARENT}0`]], want: undefined },
  { name: 'b3 twice', headers: [['b3', `${T128}-${SPAN}-1`], ['b3', `${T128}-${PARENT}-1`]], want: undefined },
  { name: 'b3: 0 twice', headers: [['b3', '0'], ['b3', '0']], want: undefined },
];

describe('B3 single-header extraction, per the spec rules', () => {
  for (const kind of CARRIER_KINDS) {
    describe(`carrier: ${kind}`, () => {
      it.each(SINGLE_ROWS)('$name', ({ headers, want }) => {
        const found = single.extract(CARRIERS[kind](headers));
        expectWellFormed(found);
        expect(essentials(found)).toEqual(want);
      });
    });
  }

  it(`reads a value up to ${MAX_B3_SINGLE} characters (white space counted), and no longer`, () => {
    const value = `${T128}-${SPAN}-1-${PARENT}`;
    expect(single.extract({ b3: value.padEnd(MAX_B3_SINGLE, ' ') })).toMatchObject({ traceId: T128 });
    expect(single.extract({ b3: value.padEnd(MAX_B3_SINGLE + 1, ' ') })).toBeUndefined();
  });
});

// Brave's ids in B3SingleFormatTest.
const B_HIGH = '1234567890123459';
const B_TRACE = '1234567890123451';
const B_PARENT = '1234567890123452';
const B_SPAN = '1234567890123453';

interface BraveRow {
  /** The B3SingleFormatTest test this row restates. */
  brave: string;
  /** The whole `b3` header value. */
  value: string;
  /** essentials() of what ziptrace extracts, or undefined for nothing. */
  want: Record<string, unknown> | undefined;
  /** Set where ziptrace deliberately reads the value otherwise than Brave, or where Brave's test has no exact counterpart: why. */
  note?: string;
}

const BRAVE_SINGLE_ROWS: BraveRow[] = [
  { brave: 'parseB3SingleFormat_largest', value: `${B_HIGH}${B_TRACE}-${B_SPAN}-1-${B_PARENT}`, want: fromSingle({ traceId: B_HIGH + B_TRACE, spanId: B_SPAN, parentId: B_PARENT, sampled: true }) },
  {
    brave: 'parseB3SingleFormat_padded',
    value: `${'0'.repeat(16)}${B_TRACE}-${B_SPAN}-1-${B_PARENT}`,
    want: fromSingle({ traceId: '0'.repeat(16) + B_TRACE, spanId: B_SPAN, parentId: B_PARENT, sampled: true }),
    note:
      'differs: Brave keeps the low 64 bits (traceIdHigh 0), ziptrace keeps the id as it came, as it does in every format. ' +
      'It is the same trace either way: ziptrace compares trace ids on their low 64 bits where formats meet (sameTrace), ' +
      'and Zipkin stores a 32-character id with a zero high half as its low 16. Keeping it means what goes downstream is what came in.',
  },
  { brave: 'parseTraceparentFormat_padded_right', value: `${B_HIGH}${'0'.repeat(16)}-${B_SPAN}-1-${B_PARENT}`, want: fromSingle({ traceId: B_HIGH + '0'.repeat(16), spanId: B_SPAN, parentId: B_PARENT, sampled: true }) },
  {
    brave: 'parseB3SingleFormat_middleOfString',
    value: `${B_HIGH}${B_TRACE}-${B_SPAN}`,
    want: fromSingle({ traceId: B_HIGH + B_TRACE, spanId: B_SPAN }),
    note: 'Brave parses a range of a longer string (b3 inside a w3c list); ziptrace reads whole header values, so this is the range itself',
  },
  { brave: 'parseB3SingleFormat_middleOfString_debugOnly', value: 'd', want: { sampled: true, debug: true, source: 'b3-single' }, note: 'the range itself, as above' },
  {
    brave: 'parseB3SingleFormat_middleOfString_incorrectIndex',
    value: 'd,',
    want: undefined,
    note: 'the wrongly chosen range as a whole value: a comma means the header was repeated, so it is ignored',
  },
  { brave: 'parseB3SingleFormat_spanIdsNotYetSampled', value: `${B_TRACE}-${B_SPAN}`, want: fromSingle({ traceId: B_TRACE, spanId: B_SPAN }) },
  { brave: 'parseB3SingleFormat_spanIdsNotYetSampled128', value: `${B_HIGH}${B_TRACE}-${B_SPAN}`, want: fromSingle({ traceId: B_HIGH + B_TRACE, spanId: B_SPAN }) },
  { brave: 'parseB3SingleFormat_spanIdsUnsampled', value: `${B_TRACE}-${B_SPAN}-0`, want: fromSingle({ traceId: B_TRACE, spanId: B_SPAN, sampled: false }) },
  { brave: 'parseB3SingleFormat_parent_unsampled', value: `${B_TRACE}-${B_SPAN}-0-${B_PARENT}`, want: fromSingle({ traceId: B_TRACE, spanId: B_SPAN, parentId: B_PARENT, sampled: false }) },
  { brave: 'parseB3SingleFormat_parent_debug', value: `${B_TRACE}-${B_SPAN}-d-${B_PARENT}`, want: fromSingle({ traceId: B_TRACE, spanId: B_SPAN, parentId: B_PARENT, sampled: true, debug: true }) },
  { brave: 'parseB3SingleFormat_parentid_notYetSampled', value: `${B_TRACE}-${B_SPAN}-${B_PARENT}`, want: fromSingle({ traceId: B_TRACE, spanId: B_SPAN, parentId: B_PARENT }) },
  { brave: 'parseB3SingleFormat_spanIdsWithDebug', value: `${B_TRACE}-${B_SPAN}-d`, want: fromSingle({ traceId: B_TRACE, spanId: B_SPAN, sampled: true, debug: true }) },
  { brave: 'parseB3SingleFormat_sampledFalse', value: '0', want: { sampled: false, debug: false, source: 'b3-single' } },
  { brave: 'parseB3SingleFormat_sampled', value: '1', want: { sampled: true, debug: false, source: 'b3-single' } },
  { brave: 'parseB3SingleFormat_debug', value: 'd', want: { sampled: true, debug: true, source: 'b3-single' } },
  {
    brave: 'parseB3SingleFormat_ignoresBeforeAndAfter',
    value: `??${B_TRACE}-${B_SPAN}??`,
    want: undefined,
    note: 'Brave parses the range between the ??s; a whole header value with them is malformed',
  },
  { brave: 'parseB3SingleFormat_malformed', value: 'not-a-tumor', want: undefined },
  { brave: 'parseB3SingleFormat_malformed_notAscii', value: `${B_TRACE}-${B_SPAN.slice(0, 15)}\u{1F4A9}`, want: undefined },
  { brave: 'parseB3SingleFormat_malformed_uuid', value: 'b970dafd-0d95-40aa-95d8-1d8725aebe40', want: undefined },
  { brave: 'parseB3SingleFormat_malformed_hyphenForSampled', value: '-', want: undefined },
  { brave: 'parseB3SingleFormat_zero_traceId', value: `${'0'.repeat(16)}-${B_SPAN}-1-${B_PARENT}`, want: undefined },
  { brave: 'parseB3SingleFormat_zero_spanId', value: `${B_TRACE}-${'0'.repeat(16)}-1-${B_PARENT}`, want: undefined },
  { brave: 'parseB3SingleFormat_zero_parentId', value: `${B_TRACE}-${B_SPAN}-1-${'0'.repeat(16)}`, want: fromSingle({ traceId: B_TRACE, spanId: B_SPAN, sampled: true }) },
  { brave: 'parseB3SingleFormat_too_many_fields', value: `${B_TRACE}-${B_SPAN}-1-${B_PARENT}-`, want: undefined },
  { brave: 'parseB3SingleFormat_sampledCorrupt', value: `${B_TRACE}-${B_SPAN}-f`, want: undefined },
  { brave: 'parseB3SingleFormat_empty', value: '', want: undefined },
  { brave: 'parseB3SingleFormat_empty_traceId', value: `-234567812345678-${B_SPAN}`, want: undefined },
  { brave: 'parseB3SingleFormat_empty_spanId', value: `${B_TRACE}--`, want: undefined },
  { brave: 'parseB3SingleFormat_empty_spanId_with_parent', value: `${B_TRACE}--${B_PARENT}`, want: undefined },
  { brave: 'parseB3SingleFormat_empty_after_spanId', value: `${B_TRACE}-${B_SPAN}-`, want: undefined },
  { brave: 'parseB3SingleFormat_empty_sampled_with_parentId', value: `${B_TRACE}-${B_SPAN}--${B_PARENT}`, want: undefined },
  { brave: 'parseB3SingleFormat_empty_parent_after_sampled', value: `${B_TRACE}-${B_SPAN}-d-`, want: undefined },
  { brave: 'parseB3SingleFormat_truncated_traceId', value: `1-${B_SPAN}`, want: undefined },
  { brave: 'parseB3SingleFormat_truncated_traceId128', value: `${B_HIGH.slice(0, 15)}${B_TRACE}-${B_SPAN}`, want: undefined },
  { brave: 'parseB3SingleFormat_truncated_spanId', value: `${B_TRACE}-${B_SPAN.slice(0, 15)}`, want: undefined },
  { brave: 'parseB3SingleFormat_truncated_parentId', value: `${B_TRACE}-${B_SPAN}-${B_PARENT.slice(0, 15)}`, want: undefined },
  { brave: 'parseB3SingleFormat_truncated_parentId_after_sampled', value: `${B_TRACE}-${B_SPAN}-1-${B_PARENT.slice(0, 15)}`, want: undefined },
  { brave: 'parseB3SingleFormat_traceIdTooLong', value: `${B_TRACE}${B_TRACE}a-${B_SPAN}`, want: undefined },
  { brave: 'parseB3SingleFormat_spanIdTooLong', value: `${B_TRACE}-${B_SPAN}a`, want: undefined },
  { brave: 'parseB3SingleFormat_sampledTooLong', value: `${B_TRACE}-${B_SPAN}-11-${B_PARENT}`, want: undefined },
  { brave: 'parseB3SingleFormat_parentIdTooLong', value: `${B_TRACE}-${B_SPAN}-${B_PARENT}a`, want: undefined },
  { brave: 'parseB3SingleFormat_parentIdTooLong_afterSampled', value: `${B_TRACE}-${B_SPAN}-1-${B_PARENT}a`, want: undefined },
];

describe('B3 single header: Brave’s parse cases (B3SingleFormatTest)', () => {
  for (const kind of CARRIER_KINDS) {
    // fetch Headers take only byte strings: a value with a character past U+00FF cannot reach a propagator through them.
    const rows = kind === 'fetch' ? BRAVE_SINGLE_ROWS.filter((r) => !/[^\u0000-\u00ff]/.test(r.value)) : BRAVE_SINGLE_ROWS;
    describe(`carrier: ${kind}`, () => {
      it.each(rows)('$brave', ({ value, want }) => {
        const found = single.extract(CARRIERS[kind]([['b3', value]]));
        expectWellFormed(found);
        expect(essentials(found)).toEqual(want);
      });
    });
  }

  it('has one row per Brave test, each named once', () => {
    const names = BRAVE_SINGLE_ROWS.map((r) => r.brave);
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((n) => /^parse(B3Single|Traceparent)Format_\w+$/.test(n))).toBe(true);
  });

  it('a tracer’s default composite reader (b3-single first, then B3 multi, then W3C) reads these values the same', () => {
    // No propagation option: the default extract order, ['b3-single', 'b3', 'w3c'], of which only b3-single finds a header.
    const { tracer } = tracerWith();
    for (const { value, want } of BRAVE_SINGLE_ROWS) {
      const found = tracer.extract({ b3: value });
      expect(essentials(found), value).toEqual(want);
    }
  });
});

const SINGLE_INJECT: { name: string; context: ExtractedContext; want: string | undefined; withoutParent: string | undefined }[] = [
  { name: 'accept with parent', context: ctx({ traceId: T128, spanId: SPAN, parentId: PARENT, sampled: true }), want: `${T128}-${SPAN}-1-${PARENT}`, withoutParent: `${T128}-${SPAN}-1` },
  { name: 'deny', context: ctx({ traceId: T128, spanId: SPAN, sampled: false }), want: `${T128}-${SPAN}-0`, withoutParent: `${T128}-${SPAN}-0` },
  { name: 'debug is d', context: ctx({ traceId: T64, spanId: SPAN, parentId: PARENT, sampled: true, debug: true }), want: `${T64}-${SPAN}-d-${PARENT}`, withoutParent: `${T64}-${SPAN}-d` },
  { name: 'defer leaves out sampling, and so the parent that would follow it', context: ctx({ traceId: T128, spanId: SPAN, parentId: PARENT }), want: `${T128}-${SPAN}`, withoutParent: `${T128}-${SPAN}` },
  { name: 'a decision alone: 0', context: { sampled: false, debug: false }, want: '0', withoutParent: '0' },
  { name: 'a decision alone: 1', context: { sampled: true, debug: false }, want: '1', withoutParent: '1' },
  { name: 'a decision alone: d', context: { sampled: true, debug: true }, want: 'd', withoutParent: 'd' },
  { name: 'nothing to say: no header', context: { debug: false }, want: undefined, withoutParent: undefined },
  { name: 'invalid ids are not echoed', context: ctx({ traceId: T128, spanId: 'xyz', sampled: false }), want: '0', withoutParent: '0' },
];

describe('B3 single-header injection', () => {
  it.each(SINGLE_INJECT)('$name', ({ context, want, withoutParent }) => {
    const headers: Record<string, string> = {};
    single.inject(context, headers);
    expect(headers).toEqual(want === undefined ? {} : { b3: want });
    expect(makeSingleHeader(context)).toEqual(want === undefined ? {} : { b3: want });
    const message: Record<string, string> = {};
    new B3SinglePropagator({ withParent: false }).inject(context, message);
    expect(message).toEqual(withoutParent === undefined ? {} : { b3: withoutParent });
  });
});

describe('B3 round trips', () => {
  const contexts: TraceContext[] = [
    ctx({ traceId: T128, spanId: SPAN, parentId: PARENT, sampled: true }),
    ctx({ traceId: T64, spanId: SPAN, sampled: false }),
    ctx({ traceId: T128, spanId: SPAN, parentId: PARENT, sampled: true, debug: true }),
    ctx({ traceId: T64, spanId: SPAN, parentId: PARENT }),
  ];
  it.each(contexts)('multi: %o comes back with the same ids and decision', (context) => {
    const headers: Record<string, string> = {};
    multi.inject(context, headers);
    expect(essentials(multi.extract(headers))).toEqual(fromMulti({ traceId: context.traceId, spanId: context.spanId, parentId: context.parentId, sampled: context.sampled, debug: context.debug }));
  });
  it.each(contexts)('single: %o comes back, less the parent when the decision is deferred', (context) => {
    const headers: Record<string, string> = {};
    single.inject(context, headers);
    const parentId = context.sampled === undefined ? undefined : context.parentId;
    expect(essentials(single.extract(headers))).toEqual(fromSingle({ traceId: context.traceId, spanId: context.spanId, parentId, sampled: context.sampled, debug: context.debug }));
  });
});

describe('B3 through the tracer', () => {
  it('a malformed header set starts a new trace, and its ids are never echoed downstream', () => {
    const { tracer } = tracerWith();
    const incoming = { 'x-b3-traceid': 'ABCDEF0123456789', 'x-b3-spanid': SPAN, 'x-b3-sampled': '0' };
    const parent = tracer.extract(incoming);
    expect(parent).toBeUndefined();
    const server = tracer.startSpan('server', { kind: 'SERVER', parent: parent ?? null });
    expect(server.context.traceId).not.toBe('ABCDEF0123456789'.toLowerCase());
    expect(server.context.parentId).toBeUndefined();
    expect(server.context.sampled).toBe(true); // the local sampler decided; the broken header's "0" was ignored with it
    const out: Record<string, string> = {};
    tracer.inject(server, out);
    expect(Object.values(out).join(' ')).not.toMatch(/abcdef0123456789/i);
    expect(Object.values(out).join(' ')).not.toContain(SPAN);
  });

  it('joinSpan of a B3 context shares its ids (Zipkin shared span), reported with shared: true', () => {
    const { tracer, reporter } = tracerWith();
    const found = tracer.extract({ 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-parentspanid': PARENT, 'x-b3-sampled': '1' })!;
    const server = tracer.joinSpan(found, 'server');
    expect(server.context).toMatchObject({ traceId: T128, spanId: SPAN, parentId: PARENT, shared: true, sampled: true });
    server.finish();
    expect(reporter.spans).toHaveLength(1);
    expect(reporter.spans[0]).toMatchObject({ traceId: T128, id: SPAN, parentId: PARENT, shared: true });
  });

  it('joinSpan of a single-header B3 context shares its ids too', () => {
    const { tracer } = tracerWith();
    const server = tracer.joinSpan(tracer.extract({ b3: `${T64}-${SPAN}-1-${PARENT}` })!, 'server');
    expect(server.context).toMatchObject({ traceId: T64, spanId: SPAN, parentId: PARENT, shared: true });
  });

  it('supportsJoin: false makes a child instead: new span id, the caller’s span as parent', () => {
    const { tracer, reporter } = tracerWith({ supportsJoin: false });
    const server = tracer.joinSpan(tracer.extract({ 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' })!, 'server');
    expect(server.context.spanId).not.toBe(SPAN);
    expect(server.context).toMatchObject({ traceId: T128, parentId: SPAN, shared: false });
    server.finish();
    expect(reporter.spans[0]!.shared).toBeUndefined();
  });

  it.each([
    ['multi', { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' }],
    ['single', { b3: `${T128}-${SPAN}-d` }],
  ])('debug (%s) is propagated: the joined span and its children are debug, and X-B3-Flags: 1 goes downstream', (_format, incoming) => {
    const { tracer, reporter } = tracerWith({ sampleRate: 0 });
    const server = tracer.joinSpan(tracer.extract(incoming)!, 'server');
    const client = tracer.startSpan('client', { parent: server, kind: 'CLIENT' });
    const out: Record<string, string> = {};
    tracer.inject(client, out);
    expect(out).toMatchObject({ 'x-b3-traceid': T128, 'x-b3-spanid': client.context.spanId, 'x-b3-parentspanid': SPAN, 'x-b3-flags': '1' });
    expect(out['x-b3-sampled']).toBeUndefined();
    client.finish();
    server.finish();
    expect(reporter.spans.map((s) => s.debug)).toEqual([true, true]);
  });

  it('a deferred decision is not sent as "0" by a proxy that passes the context on', () => {
    const { tracer } = tracerWith({ sampleRate: 0 });
    const found = tracer.extract({ 'x-b3-traceid': T128, 'x-b3-spanid': SPAN });
    expect(found?.sampled).toBeUndefined();
    const out: Record<string, string> = {};
    tracer.inject(found!, out);
    expect(out['x-b3-sampled']).toBeUndefined();
    expect(out['x-b3-flags']).toBeUndefined();
    expect(out.traceparent).toBe(`00-${T128}-${SPAN}-00`); // W3C has no "defer": not sampled, no random flag for a B3 id
  });

  it.each([
    [0, false],
    [1, true],
  ])('a deferred decision is made by this service’s sampler when joined (sampleRate %d)', (sampleRate, sampled) => {
    const { tracer } = tracerWith({ sampleRate });
    const server = tracer.joinSpan(tracer.extract({ b3: `${T128}-${SPAN}` })!, 'server');
    expect(server.context.sampled).toBe(sampled);
    const out: Record<string, string> = {};
    tracer.inject(server, out);
    expect(out['x-b3-sampled']).toBe(sampled ? '1' : '0');
  });

  it.each([
    ['b3: 0', { b3: '0' }, 1, false, false],
    ['b3: 1', { b3: '1' }, 0, true, false],
    ['b3: d', { b3: 'd' }, 0, true, true],
    ['X-B3-Sampled: 0 alone', { 'X-B3-Sampled': '0' }, 1, false, false],
    ['X-B3-Flags: 1 alone', { 'X-B3-Flags': '1' }, 0, true, true],
  ] as const)('%s: the next span starts a new trace with that decision, as parent and as active context', (_name, incoming, sampleRate, sampled, debugFlag) => {
    const { tracer } = tracerWith({ sampleRate });
    const extracted = tracer.extract(incoming);
    expect(extracted).toEqual({ sampled, debug: debugFlag, source: expect.any(String) });
    expect(extracted!.traceId).toBeUndefined();
    const viaParent = tracer.startSpan('server', { parent: extracted });
    const viaActive = tracer.withActive(extracted, () => tracer.startSpan('server'));
    for (const span of [viaParent, viaActive]) {
      expect(span.context.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(span.context.parentId).toBeUndefined();
      expect(span.context.sampled).toBe(sampled);
      expect(span.context.debug).toBe(debugFlag);
      expect(span.isRecording).toBe(sampled);
    }
    expect(viaParent.context.traceId).not.toBe(viaActive.context.traceId);
    const out: Record<string, string> = {};
    tracer.inject(viaParent, out);
    expect(out['x-b3-traceid']).toBe(viaParent.context.traceId);
    expect(debugFlag ? out['x-b3-flags'] : out['x-b3-sampled']).toBe(debugFlag ? '1' : sampled ? '1' : '0');
  });

  it('ids that came in over B3 do not claim the W3C random flag; ids made here do', () => {
    const { tracer } = tracerWith();
    const remote = tracer.joinSpan(tracer.extract({ 'x-b3-traceid': T64, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' })!, 'server');
    const child = tracer.startSpan('child', { parent: remote });
    expect(child.context.random).toBe(false);
    const out: Record<string, string> = {};
    tracer.inject(child, out);
    expect(out.traceparent).toBe(`00-${'0'.repeat(16)}${T64}-${child.context.spanId}-01`); // 64-bit id left-padded
    const local = tracer.startSpan('local', { parent: null });
    const mine: Record<string, string> = {};
    tracer.inject(local, mine);
    expect(mine.traceparent).toBe(`00-${local.context.traceId}-${local.context.spanId}-03`);
  });

  it.each([
    ['X-B3-Sampled: 0 with a service sampling everything', { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-sampled': '0' }, 1, true],
    ['X-B3-Sampled: 1 with a service sampling nothing', { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' }, 0, false],
    ['b3: 0 with a service sampling everything', { b3: '0' }, 1, true],
    ['b3: 1 with a service sampling nothing', { b3: '1' }, 0, false],
  ] as const)('trustSampling: false ignores %s', (_name, incoming, sampleRate, sampled) => {
    const { tracer } = tracerWith({ sampleRate, propagation: { trustSampling: false } });
    const extracted = tracer.extract(incoming);
    expect(extracted?.sampled).toBeUndefined();
    const span = extracted?.traceId === undefined ? tracer.startSpan('s', { parent: extracted }) : tracer.joinSpan(extracted, 's');
    expect(span.context.sampled).toBe(sampled);
    if (extracted?.traceId !== undefined) expect(span.context.traceId).toBe(T128); // the ids are still used
  });

  it.each([
    ['X-B3-Flags: 1', { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' }],
    ['b3: …-d', { b3: `${T128}-${SPAN}-d` }],
    ['b3: d', { b3: 'd' }],
  ] as const)('trustDebug: false ignores %s, and the accept it implied', (_name, incoming) => {
    const { tracer, reporter } = tracerWith({ sampleRate: 0, propagation: { trustDebug: false } });
    const extracted = tracer.extract(incoming);
    expect(extracted?.debug).toBe(false);
    expect(extracted?.sampled).toBeUndefined();
    const span = extracted?.traceId === undefined ? tracer.startSpan('s', { parent: extracted }) : tracer.joinSpan(extracted!, 's');
    expect(span.context).toMatchObject({ debug: false, sampled: false });
    span.finish();
    expect(reporter.spans).toEqual([]);
  });

  it('trustDebug: false still honours a plain accept, and trustSampling: false still honours debug', () => {
    const noDebug = tracerWith({ sampleRate: 0, propagation: { trustDebug: false } }).tracer;
    expect(noDebug.extract({ 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' })).toMatchObject({ sampled: true, debug: false });
    const noSampling = tracerWith({ sampleRate: 0, propagation: { trustSampling: false } }).tracer;
    expect(noSampling.extract({ 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' })).toMatchObject({ sampled: true, debug: true });
  });
});
