/**
 * W3C Trace Context (lib/propagation/w3c.ts): `traceparent` and `tracestate`.
 *
 * The first two tables restate, case for case, what the W3C's own test suite
 * (w3c/trace-context, test/test.py, strict level 2) sends to a service and
 * expects back. Its harness sends header lines to a service, which must call
 * back with one valid `traceparent`: the same trace id (and a new parent id)
 * when the input was valid, a new trace otherwise; `tracestate` passed on when
 * valid, dropped when not. Here the "service" is a tracer that extracts,
 * serves the request in a span and injects into each callback; every case runs
 * over each carrier the headers can arrive in. (spec/propagation/w3c-suite.spec.ts
 * runs the suite itself against a ziptrace service.) Each row is labelled
 * with the version of the W3C text its rule comes from: [L1] a Level 1 rule
 * that Level 2 keeps, [L2] one that Level 2 added or changed.
 *
 * Then the rules the suite does not cover: the random flag (Level 2),
 * version handling details, the tracestate limits, injection, the trace's
 * tracestate passed on by all its spans, and joinSpan making a child.
 */
import { describe, expect, it } from 'vitest';
import { createTracer, MemoryReporter, W3CPropagator, type ExtractedContext, type Tracer, type TracerOptions } from '../../lib/index.js';
import { CARRIER_KINDS, CARRIERS, ctx, essentials, expectWellFormed, isWellFormedTracestate, MAX_TRACEPARENT, MAX_TRACESTATE, type HeaderPair } from './helpers.js';

const TRACE = '12345678901234567890123456789012';
const PARENT = '1234567890123456';
const VALID = `00-${TRACE}-${PARENT}-01`;
const VALID_UNSAMPLED = `00-${TRACE}-${PARENT}-00`;
const HARNESS_FORMAT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

const w3c = new W3CPropagator();

function tracerWith(options: Partial<TracerOptions> = {}): { tracer: Tracer; reporter: MemoryReporter } {
  const reporter = new MemoryReporter();
  return { tracer: createTracer({ serviceName: 'w3c-spec', reporter, global: false, ...options }), reporter };
}

/**
 * The test service: reads the request's headers, serves it in a span (joined,
 * which for W3C means a child), and makes `calls` outgoing calls from it,
 * returning the headers each call carried.
 */
function serve(tracer: Tracer, carrier: unknown, calls = 1): Record<string, string>[] {
  const parent = tracer.extract(carrier);
  const server = parent === undefined ? tracer.startSpan('server', { kind: 'SERVER', parent: null }) : tracer.joinSpan(parent, 'server');
  const out = tracer.withActive(server, () =>
    Array.from({ length: calls }, () => {
      const client = tracer.startSpan('callback', { kind: 'CLIENT' });
      const headers: Record<string, string> = {};
      tracer.inject(client, headers);
      client.finish();
      return headers;
    }),
  );
  server.finish();
  return out;
}

/** The harness's reading of a callback: exactly one traceparent, in the version-00 form. */
function readCallback(headers: Record<string, string>): { traceId: string; parentId: string; flags: string; tracestate: string | undefined } {
  const names = Object.keys(headers).filter((k) => k.toLowerCase() === 'traceparent');
  expect(names, 'one traceparent header').toHaveLength(1);
  const match = HARNESS_FORMAT.exec(headers[names[0]!]!);
  expect(match, `traceparent ${headers[names[0]!]} in the harness's format`).not.toBeNull();
  expect(match![1]).toBe('00');
  return { traceId: match![2]!, parentId: match![3]!, flags: match![4]!, tracestate: headers.tracestate };
}

/**
 * Which version of the W3C text a row's rule comes from, shown in each test's
 * name. L1: Trace Context Level 1 (www.w3.org/TR/trace-context-1), a rule that
 * Level 2 keeps as it was. L2: Trace Context Level 2
 * (www.w3.org/TR/trace-context-2), a rule it added or changed; the row's
 * name, or the comment above its group, says what Level 1 had instead.
 */
type Level = 'L1' | 'L2';

interface TraceparentCase {
  level: Level;
  /** What the row checks; the comment above a group names the test.py test it restates, if any. */
  name: string;
  headers: HeaderPair[];
  /** continue: same trace id, new parent id. restart: a new trace id. */
  outcome: 'continue' | 'restart';
}

const FUTURE = 'what-the-future-will-be-like';

const TRACEPARENT_CASES: TraceparentCase[] = [
  // test_both_traceparent_and_tracestate_missing
  { level: 'L1', name: 'no traceparent, no tracestate: a valid new traceparent', headers: [], outcome: 'restart' },
  // test_traceparent_included_tracestate_missing
  { level: 'L1', name: 'traceparent without tracestate', headers: [['traceparent', VALID]], outcome: 'continue' },
  // test_traceparent_duplicated
  { level: 'L1', name: 'traceparent twice (different trace ids)', headers: [['traceparent', `00-${TRACE.slice(0, 31)}1-${PARENT}-01`], ['traceparent', VALID]], outcome: 'restart' },
  { level: 'L1', name: 'traceparent twice (the same value)', headers: [['traceparent', VALID], ['traceparent', VALID]], outcome: 'restart' },
  // test_traceparent_header_name
  { level: 'L1', name: 'wrong name trace-parent', headers: [['trace-parent', VALID]], outcome: 'restart' },
  { level: 'L1', name: 'wrong name trace.parent', headers: [['trace.parent', VALID]], outcome: 'restart' },
  // test_traceparent_header_name_valid_casing
  { level: 'L1', name: 'name spelled TraceParent', headers: [['TraceParent', VALID]], outcome: 'continue' },
  { level: 'L1', name: 'name spelled TrAcEpArEnT', headers: [['TrAcEpArEnT', VALID]], outcome: 'continue' },
  { level: 'L1', name: 'name spelled TRACEPARENT', headers: [['TRACEPARENT', VALID]], outcome: 'continue' },
  // test_traceparent_version_0x00
  { level: 'L1', name: 'version 00 with a trailing character', headers: [['traceparent', `${VALID}.`]], outcome: 'restart' },
  { level: 'L1', name: 'version 00 with future-style extra fields', headers: [['traceparent', `${VALID}-${FUTURE}`]], outcome: 'restart' },
  // test_traceparent_version_0xcc
  { level: 'L1', name: 'future version cc, same layout', headers: [['traceparent', `cc-${TRACE}-${PARENT}-01`]], outcome: 'continue' },
  { level: 'L1', name: 'future version cc with extra fields after a hyphen', headers: [['traceparent', `cc-${TRACE}-${PARENT}-01-${FUTURE}`]], outcome: 'continue' },
  { level: 'L1', name: 'future version cc with extra data not after a hyphen', headers: [['traceparent', `cc-${TRACE}-${PARENT}-01.${FUTURE}`]], outcome: 'restart' },
  // test_traceparent_version_0xff
  { level: 'L1', name: 'version ff is invalid', headers: [['traceparent', `ff-${TRACE}-${PARENT}-01`]], outcome: 'restart' },
  // test_traceparent_version_illegal_characters
  { level: 'L1', name: 'version .0', headers: [['traceparent', `.0-${TRACE}-${PARENT}-01`]], outcome: 'restart' },
  { level: 'L1', name: 'version 0.', headers: [['traceparent', `0.-${TRACE}-${PARENT}-01`]], outcome: 'restart' },
  // test_traceparent_version_too_long
  { level: 'L1', name: 'version of 3 digits', headers: [['traceparent', `000-${TRACE}-${PARENT}-01`]], outcome: 'restart' },
  { level: 'L1', name: 'version of 4 digits', headers: [['traceparent', `0000-${TRACE}-${PARENT}-01`]], outcome: 'restart' },
  // test_traceparent_version_too_short
  { level: 'L1', name: 'version of 1 digit', headers: [['traceparent', `0-${TRACE}-${PARENT}-01`]], outcome: 'restart' },
  // test_traceparent_trace_id_all_zero
  { level: 'L1', name: 'all-zero trace id', headers: [['traceparent', `00-${'0'.repeat(32)}-${PARENT}-01`]], outcome: 'restart' },
  // test_traceparent_trace_id_illegal_characters
  { level: 'L1', name: 'trace id starting with .', headers: [['traceparent', `00-.${TRACE.slice(1)}-${PARENT}-01`]], outcome: 'restart' },
  { level: 'L1', name: 'trace id ending with .', headers: [['traceparent', `00-${TRACE.slice(0, 31)}.-${PARENT}-01`]], outcome: 'restart' },
  // test_traceparent_trace_id_too_long
  { level: 'L1', name: 'trace id of 33 digits', headers: [['traceparent', `00-${TRACE}3-${PARENT}-01`]], outcome: 'restart' },
  // test_traceparent_trace_id_too_short
  { level: 'L1', name: 'trace id of 31 digits', headers: [['traceparent', `00-${TRACE.slice(0, 31)}-${PARENT}-01`]], outcome: 'restart' },
  // test_traceparent_parent_id_all_zero
  { level: 'L1', name: 'all-zero parent id', headers: [['traceparent', `00-${TRACE}-${'0'.repeat(16)}-01`]], outcome: 'restart' },
  // test_traceparent_parent_id_illegal_characters
  { level: 'L1', name: 'parent id starting with .', headers: [['traceparent', `00-${TRACE}-.${PARENT.slice(1)}-01`]], outcome: 'restart' },
  { level: 'L1', name: 'parent id ending with .', headers: [['traceparent', `00-${TRACE}-${PARENT.slice(0, 15)}.-01`]], outcome: 'restart' },
  // test_traceparent_parent_id_too_long / too_short
  { level: 'L1', name: 'parent id of 17 digits', headers: [['traceparent', `00-${TRACE}-${PARENT}7-01`]], outcome: 'restart' },
  { level: 'L1', name: 'parent id of 15 digits', headers: [['traceparent', `00-${TRACE}-${PARENT.slice(0, 15)}-01`]], outcome: 'restart' },
  // test_traceparent_trace_flags_illegal_characters
  { level: 'L1', name: 'flags .0', headers: [['traceparent', `00-${TRACE}-${PARENT}-.0`]], outcome: 'restart' },
  { level: 'L1', name: 'flags 0.', headers: [['traceparent', `00-${TRACE}-${PARENT}-0.`]], outcome: 'restart' },
  // test_traceparent_trace_flags_too_long / too_short
  { level: 'L1', name: 'flags of 3 digits', headers: [['traceparent', `00-${TRACE}-${PARENT}-001`]], outcome: 'restart' },
  { level: 'L1', name: 'flags of 1 digit', headers: [['traceparent', `00-${TRACE}-${PARENT}-1`]], outcome: 'restart' },
  // test_traceparent_ows_handling
  { level: 'L1', name: 'leading space', headers: [['traceparent', ` ${VALID}`]], outcome: 'continue' },
  { level: 'L1', name: 'leading tab', headers: [['traceparent', `\t${VALID}`]], outcome: 'continue' },
  { level: 'L1', name: 'trailing space', headers: [['traceparent', `${VALID} `]], outcome: 'continue' },
  { level: 'L1', name: 'trailing tab', headers: [['traceparent', `${VALID}\t`]], outcome: 'continue' },
  { level: 'L1', name: 'tabs and spaces on both sides', headers: [['traceparent', `\t ${VALID} \t`]], outcome: 'continue' },
  // Rules of the text that the suite does not test (Level 1's traceparent, unchanged in Level 2).
  { level: 'L1', name: 'upper-case hex trace id', headers: [['traceparent', `00-${'ABCDEF'.padEnd(32, '1')}-${PARENT}-01`]], outcome: 'restart' },
  { level: 'L1', name: 'upper-case hex parent id', headers: [['traceparent', `00-${TRACE}-ABCDEF1234567890-01`]], outcome: 'restart' },
  { level: 'L1', name: 'upper-case hex flags', headers: [['traceparent', `00-${TRACE}-${PARENT}-0A`]], outcome: 'restart' },
  { level: 'L1', name: 'upper-case future version', headers: [['traceparent', `CC-${TRACE}-${PARENT}-01`]], outcome: 'restart' },
  { level: 'L1', name: 'future version shorter than version 00', headers: [['traceparent', `cc-${TRACE}-${PARENT}-0`]], outcome: 'restart' },
  { level: 'L1', name: 'future version with a bad trace id', headers: [['traceparent', `cc-${'0'.repeat(32)}-${PARENT}-01-${FUTURE}`]], outcome: 'restart' },
  { level: 'L1', name: 'future version with trailing hyphen only', headers: [['traceparent', `cc-${TRACE}-${PARENT}-01-`]], outcome: 'continue' },
  { level: 'L1', name: 'version 00, all unknown flag bits set, read', headers: [['traceparent', `00-${TRACE}-${PARENT}-ff`]], outcome: 'continue' },
  { level: 'L1', name: 'a future-version traceparent twice (its tail could hold a comma; a repeat is still a repeat)', headers: [['traceparent', `cc-${TRACE}-${PARENT}-01-${FUTURE}`], ['traceparent', `cc-${TRACE}-${PARENT}-01-${FUTURE}`]], outcome: 'restart' },
  { level: 'L1', name: 'a future-version traceparent with a comma in its tail', headers: [['traceparent', `cc-${TRACE}-${PARENT}-01-a,b`]], outcome: 'restart' },
  { level: 'L1', name: 'empty traceparent', headers: [['traceparent', '']], outcome: 'restart' },
  { level: 'L1', name: 'a 64-bit id is not a W3C trace id', headers: [['traceparent', `00-${TRACE.slice(16)}-${PARENT}-01`]], outcome: 'restart' },
];

describe('traceparent: the W3C test suite’s cases, through a service', () => {
  for (const kind of CARRIER_KINDS) {
    describe(`carrier: ${kind}`, () => {
      it.each(TRACEPARENT_CASES)('[$level] $name → $outcome', ({ headers, outcome }) => {
        for (const propagation of [{ extract: ['w3c'], inject: ['w3c'] } as const, undefined]) {
          const { tracer } = tracerWith({ propagation });
          const [callback] = serve(tracer, CARRIERS[kind](headers));
          const out = readCallback(callback!);
          if (outcome === 'continue') {
            expect(out.traceId).toBe(TRACE);
            expect(out.parentId).not.toBe(PARENT);
          } else {
            expect(out.traceId).not.toBe(TRACE);
            expect(out.traceId).not.toBe('0'.repeat(32));
            expect(headers.some(([, v]) => v.includes(out.traceId))).toBe(false);
          }
        }
      });

      it.each(TRACEPARENT_CASES)('[$level] extract: $name', ({ headers, outcome }) => {
        const found = w3c.extract(CARRIERS[kind](headers));
        expectWellFormed(found);
        if (outcome === 'restart') expect(found).toBeUndefined();
        else expect(found).toMatchObject({ traceId: TRACE, spanId: PARENT, parentId: undefined, source: 'w3c', debug: false });
      });
    });
  }
});

interface TracestateCase {
  level: Level;
  name: string;
  /** tracestate lines; a valid traceparent (sampled 00) is sent before them unless `traceparent` says otherwise. */
  tracestate: HeaderPair[];
  traceparent?: string | null;
  /** The tracestate the service passes on, as ziptrace writes it (members joined with ',', no white space), or undefined. */
  want: string | undefined;
}

const ALL_KEY_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789_-*/';
const ALL_VALUE_CHARS = [[0x20, 0x2b], [0x2d, 0x3c], [0x3e, 0x7e]].map(([a, b]) => Array.from({ length: b! - a! + 1 }, (_, i) => String.fromCharCode(a! + i)).join('')).join('');
const members = (from: number, to: number): string => Array.from({ length: to - from + 1 }, (_, i) => `bar${String(from + i).padStart(2, '0')}=${String(from + i).padStart(2, '0')}`).join(',');

const TRACESTATE_CASES: TracestateCase[] = [
  // test_tracestate_included_traceparent_missing
  { level: 'L1', name: 'tracestate without traceparent is discarded', traceparent: null, tracestate: [['tracestate', 'foo=1']], want: undefined },
  { level: 'L1', name: 'tracestate (two members) without traceparent is discarded', traceparent: null, tracestate: [['tracestate', 'foo=1,bar=2']], want: undefined },
  // test_tracestate_included_traceparent_included
  { level: 'L1', name: 'tracestate with traceparent is passed on', tracestate: [['tracestate', 'foo=1,bar=2']], want: 'foo=1,bar=2' },
  // test_tracestate_header_name
  { level: 'L1', name: 'wrong name trace-state', tracestate: [['trace-state', 'foo=1']], want: undefined },
  { level: 'L1', name: 'wrong name trace.state', tracestate: [['trace.state', 'foo=1']], want: undefined },
  // test_tracestate_header_name_valid_casing
  { level: 'L1', name: 'name spelled TraceState', tracestate: [['TraceState', 'foo=1']], want: 'foo=1' },
  { level: 'L1', name: 'name spelled TrAcEsTaTe', tracestate: [['TrAcEsTaTe', 'foo=1']], want: 'foo=1' },
  { level: 'L1', name: 'name spelled TRACESTATE', tracestate: [['TRACESTATE', 'foo=1']], want: 'foo=1' },
  // test_tracestate_empty_header
  { level: 'L1', name: 'empty tracestate: no tracestate is sent on', tracestate: [['tracestate', '']], want: undefined },
  { level: 'L1', name: 'foo=1 then an empty tracestate line', tracestate: [['tracestate', 'foo=1'], ['tracestate', '']], want: 'foo=1' },
  { level: 'L1', name: 'an empty tracestate line then foo=1', tracestate: [['tracestate', ''], ['tracestate', 'foo=1']], want: 'foo=1' },
  // test_tracestate_multiple_headers_different_keys
  { level: 'L1', name: 'three tracestate lines combine in order', tracestate: [['tracestate', 'foo=1,bar=2'], ['tracestate', 'rojo=1,congo=2'], ['tracestate', 'baz=3']], want: 'foo=1,bar=2,rojo=1,congo=2,baz=3' },
  // test_tracestate_duplicated_keys: the header is passed on, and ziptrace passes it on as it came (the suite
  // also allows dropping the later duplicate). Keys unique is the sender's duty in Level 2 ("Mutating the
  // tracestate Field"), which lets a receiver keep a duplicate; Level 1's "only one entry per key is allowed"
  // made the old suite demand the whole header be dropped.
  { level: 'L2', name: 'duplicate key, same value: passed on as it came', tracestate: [['tracestate', 'foo=1,foo=1']], want: 'foo=1,foo=1' },
  { level: 'L2', name: 'duplicate key, different values: passed on as it came', tracestate: [['tracestate', 'foo=1,foo=2']], want: 'foo=1,foo=2' },
  { level: 'L2', name: 'duplicate key across lines, same value: passed on', tracestate: [['tracestate', 'foo=1'], ['tracestate', 'foo=1']], want: 'foo=1,foo=1' },
  { level: 'L2', name: 'duplicate key across lines, different values: passed on', tracestate: [['tracestate', 'foo=1'], ['tracestate', 'foo=2']], want: 'foo=1,foo=2' },
  // test_tracestate_all_allowed_characters
  { level: 'L1', name: 'every allowed character in a key without @ and in the value', tracestate: [['tracestate', `${ALL_KEY_CHARS}=${ALL_VALUE_CHARS}`]], want: `${ALL_KEY_CHARS}=${ALL_VALUE_CHARS}` },
  { level: 'L1', name: 'every allowed character in a key with @ and in the value', tracestate: [['tracestate', `${ALL_KEY_CHARS}@a-z0-9_-*/=${ALL_VALUE_CHARS}`]], want: `${ALL_KEY_CHARS}@a-z0-9_-*/=${ALL_VALUE_CHARS}` },
  // test_tracestate_ows_handling
  { level: 'L1', name: 'spaces and tabs around commas', tracestate: [['tracestate', 'foo=1 \t , \t bar=2, \t baz=3']], want: 'foo=1,bar=2,baz=3' },
  { level: 'L1', name: 'tabs and spaces around commas, other order', tracestate: [['tracestate', 'foo=1\t \t,\t \tbar=2,\t \tbaz=3']], want: 'foo=1,bar=2,baz=3' },
  { level: 'L1', name: 'leading space', tracestate: [['tracestate', ' foo=1']], want: 'foo=1' },
  { level: 'L1', name: 'leading tab', tracestate: [['tracestate', '\tfoo=1']], want: 'foo=1' },
  { level: 'L1', name: 'trailing space', tracestate: [['tracestate', 'foo=1 ']], want: 'foo=1' },
  { level: 'L1', name: 'trailing tab', tracestate: [['tracestate', 'foo=1\t']], want: 'foo=1' },
  { level: 'L1', name: 'tabs and spaces on both sides', tracestate: [['tracestate', '\t foo=1 \t']], want: 'foo=1' },
  // test_tracestate_key_illegal_characters
  { level: 'L1', name: 'space inside the key', tracestate: [['tracestate', 'foo =1']], want: undefined },
  { level: 'L1', name: 'upper-case key', tracestate: [['tracestate', 'FOO=1']], want: undefined },
  { level: 'L1', name: 'dot in the key', tracestate: [['tracestate', 'foo.bar=1']], want: undefined },
  // test_tracestate_key_illegal_vendor_format: in Level 2 '@' is a key character anywhere but first. Level 1's
  // tenant@system form wanted one '@' with a system id after it, so the first, third and fourth were invalid there.
  { level: 'L2', name: 'a key ending in @ (foo@) is a key', tracestate: [['tracestate', 'foo@=1,bar=2']], want: 'foo@=1,bar=2' },
  { level: 'L1', name: 'a key starting with @ (@foo): the whole tracestate is dropped', tracestate: [['tracestate', '@foo=1,bar=2']], want: undefined },
  { level: 'L2', name: 'two @ in a row (foo@@bar) is a key', tracestate: [['tracestate', 'foo@@bar=1,bar=2']], want: 'foo@@bar=1,bar=2' },
  { level: 'L2', name: 'two @ apart (foo@bar@baz) is a key', tracestate: [['tracestate', 'foo@bar@baz=1,bar=2']], want: 'foo@bar@baz=1,bar=2' },
  // test_tracestate_member_count_limit
  { level: 'L1', name: '32 members over four lines are passed on', tracestate: [['tracestate', members(1, 10)], ['tracestate', members(11, 20)], ['tracestate', members(21, 30)], ['tracestate', members(31, 32)]], want: members(1, 32) },
  { level: 'L1', name: '33 members: discarded', tracestate: [['tracestate', members(1, 10)], ['tracestate', members(11, 20)], ['tracestate', members(21, 30)], ['tracestate', members(31, 33)]], want: undefined },
  // test_tracestate_key_length_limit: Level 2 counts the whole key, 256 at most, '@' or not. Level 1 limited a
  // tenant to 241 and a system id to 14 characters.
  { level: 'L1', name: 'key of 256 characters', tracestate: [['tracestate', 'foo=1'], ['tracestate', `${'z'.repeat(256)}=1`]], want: `foo=1,${'z'.repeat(256)}=1` },
  { level: 'L1', name: 'key of 257 characters: discarded, foo=1 with it', tracestate: [['tracestate', 'foo=1'], ['tracestate', `${'z'.repeat(257)}=1`]], want: undefined },
  { level: 'L1', name: '241 characters, @, 14 characters', tracestate: [['tracestate', 'foo=1'], ['tracestate', `${'t'.repeat(241)}@${'v'.repeat(14)}=1`]], want: `foo=1,${'t'.repeat(241)}@${'v'.repeat(14)}=1` },
  { level: 'L2', name: '242 characters before the @ (Level 1 tenant limit 241)', tracestate: [['tracestate', 'foo=1'], ['tracestate', `${'t'.repeat(242)}@v=1`]], want: `foo=1,${'t'.repeat(242)}@v=1` },
  { level: 'L2', name: '15 characters after the @ (Level 1 system limit 14)', tracestate: [['tracestate', 'foo=1'], ['tracestate', `t@${'v'.repeat(15)}=1`]], want: `foo=1,t@${'v'.repeat(15)}=1` },
  // test_tracestate_value_illegal_characters
  { level: 'L1', name: 'value containing =', tracestate: [['tracestate', 'foo=bar=baz']], want: undefined },
  { level: 'L1', name: 'empty value', tracestate: [['tracestate', 'foo=,bar=3']], want: undefined },
  // Rules of the text that the suite does not test.
  { level: 'L1', name: 'empty list members are allowed and dropped', tracestate: [['tracestate', 'foo=1,,bar=2, ,']], want: 'foo=1,bar=2' },
  { level: 'L1', name: 'value of 256 characters', tracestate: [['tracestate', `foo=${'v'.repeat(256)}`]], want: `foo=${'v'.repeat(256)}` },
  { level: 'L1', name: 'value of 257 characters: discarded', tracestate: [['tracestate', `foo=${'v'.repeat(257)}`]], want: undefined },
  { level: 'L1', name: 'value with a space inside', tracestate: [['tracestate', 'foo=a b']], want: 'foo=a b' },
  { level: 'L1', name: 'value with leading spaces: they are part of the value', tracestate: [['tracestate', 'foo=  a']], want: 'foo=  a' },
  { level: 'L1', name: 'value of spaces only: empty once trailing white space goes, so discarded', tracestate: [['tracestate', 'foo=   ']], want: undefined },
  { level: 'L1', name: 'tab inside a value: discarded', tracestate: [['tracestate', 'foo=a\tb']], want: undefined },
  { level: 'L2', name: 'key starting with a digit (Level 1: only before an @)', tracestate: [['tracestate', '1foo=1']], want: '1foo=1' },
  { level: 'L1', name: 'digit first, then @', tracestate: [['tracestate', '1foo@bar=1']], want: '1foo@bar=1' },
  { level: 'L2', name: 'a digit right after the @ (Level 1: the system id started with a letter)', tracestate: [['tracestate', 'foo@1bar=1']], want: 'foo@1bar=1' },
  { level: 'L2', name: 'key of 256 characters with @ in it', tracestate: [['tracestate', `${'a'.repeat(200)}@${'b'.repeat(55)}=1`]], want: `${'a'.repeat(200)}@${'b'.repeat(55)}=1` },
  { level: 'L2', name: 'key of 257 characters with @ in it: discarded', tracestate: [['tracestate', `${'a'.repeat(200)}@${'b'.repeat(56)}=1`]], want: undefined },
  { level: 'L1', name: 'key starting with _: discarded', tracestate: [['tracestate', '_foo=1']], want: undefined },
  { level: 'L1', name: 'key of one letter', tracestate: [['tracestate', 'a=1']], want: 'a=1' },
  { level: 'L2', name: 'a duplicate among other members is passed on in place', tracestate: [['tracestate', 'foo=1, bar=2'], ['tracestate', 'foo=3']], want: 'foo=1,bar=2,foo=3' },
  { level: 'L2', name: 'a duplicate does not save an invalid member elsewhere', tracestate: [['tracestate', 'foo=1,foo=2,BAD=3']], want: undefined },
  { level: 'L1', name: 'member without =', tracestate: [['tracestate', 'foo=1,bar']], want: undefined },
  { level: 'L1', name: 'member that is only =1', tracestate: [['tracestate', 'foo=1,=1']], want: undefined },
  { level: 'L1', name: 'non-ASCII in a value', tracestate: [['tracestate', 'foo=caf\u00e9']], want: undefined },
  { level: 'L1', name: 'control character in a value', tracestate: [['tracestate', 'foo=a\u0001b']], want: undefined },
  { level: 'L1', name: 'invalid traceparent drops a valid tracestate', traceparent: `00-${'0'.repeat(32)}-${PARENT}-01`, tracestate: [['tracestate', 'foo=1']], want: undefined },
  { level: 'L1', name: 'tracestate with a future-version traceparent', traceparent: `cc-${TRACE}-${PARENT}-01-${FUTURE}`, tracestate: [['tracestate', 'foo=1']], want: 'foo=1' },
];

describe('tracestate: the W3C test suite’s cases, through a service', () => {
  for (const kind of CARRIER_KINDS) {
    // fetch Headers refuse values with control characters; that case does not reach a propagator through them.
    const cases = kind === 'fetch' ? TRACESTATE_CASES.filter((c) => !/[\u0000-\u0008]/.test(c.tracestate.map(([, v]) => v).join(''))) : TRACESTATE_CASES;
    describe(`carrier: ${kind}`, () => {
      it.each(cases)('[$level] $name', ({ traceparent, tracestate, want }) => {
        const headers: HeaderPair[] = traceparent === null ? tracestate : [['traceparent', traceparent ?? VALID_UNSAMPLED], ...tracestate];
        const { tracer } = tracerWith({ propagation: { extract: ['w3c'], inject: ['w3c'] } });
        const [callback] = serve(tracer, CARRIERS[kind](headers));
        const out = readCallback(callback!);
        expect(out.tracestate).toBe(want);
        if (want !== undefined) expect(isWellFormedTracestate(want)).toBe(true);
        if (traceparent === undefined) expect(out.traceId).toBe(TRACE); // an invalid tracestate never costs the trace
        const found = w3c.extract(CARRIERS[kind](headers));
        expectWellFormed(found);
        expect((found as { tracestate?: string } | undefined)?.tracestate).toBe(want);
      });
    });
  }
});

describe('the W3C suite’s advanced cases', () => {
  // AdvancedTest.test_multiple_requests_with_valid_traceparent
  it('several callbacks from one request share the trace id and each has its own parent id', () => {
    const { tracer } = tracerWith();
    const calls = serve(tracer, { traceparent: VALID }, 3).map(readCallback);
    expect(new Set(calls.map((c) => c.traceId))).toEqual(new Set([TRACE]));
    expect(new Set(calls.map((c) => c.parentId)).size).toBe(3);
  });

  // AdvancedTest.test_multiple_requests_without_traceparent
  it('without traceparent, callbacks still get distinct parent ids (in one new trace)', () => {
    const { tracer } = tracerWith();
    const calls = serve(tracer, {}, 3).map(readCallback);
    expect(new Set(calls.map((c) => c.parentId)).size).toBe(3);
    expect(new Set(calls.map((c) => c.traceId)).size).toBe(1);
  });

  // AdvancedTest.test_multiple_requests_with_illegal_traceparent
  it('with an all-zero trace id, callbacks get a new, non-zero trace id and distinct parent ids', () => {
    const { tracer } = tracerWith();
    const calls = serve(tracer, { traceparent: `00-${'0'.repeat(32)}-${PARENT}-01` }, 3).map(readCallback);
    for (const c of calls) expect(c.traceId).not.toBe('0'.repeat(32));
    expect(new Set(calls.map((c) => c.parentId)).size).toBe(3);
  });
});

describe('traceparent flags', () => {
  // The sampled bit (0x01) is Level 1's; the random bit (0x02) is Level 2's ("Random Trace ID Flag"). Level 1
  // readers ignore 0x02, as both levels ignore the bits they do not know and set them to zero when sending.
  it.each([
    ['L1', '00', false, false, '00'],
    ['L1', '01', true, false, '01'],
    ['L2', '02', false, true, '02'],
    ['L2', '03', true, true, '03'],
    ['L2', 'ff', true, true, '03'],
    ['L1', 'fc', false, false, '00'],
    ['L1', '09', true, false, '01'],
  ] as [Level, string, boolean, boolean, string][])('[%s] flags %s read as sampled=%s random=%s; the children send %s on (unknown bits are not)', (_level, flags, sampled, random, onward) => {
    const found = w3c.extract({ traceparent: `00-${TRACE}-${PARENT}-${flags}` });
    expect(found).toMatchObject({ sampled, random, debug: false });
    const { tracer } = tracerWith({ sampleRate: sampled ? 0 : 1 }); // the incoming decision is the one used
    const [callback] = serve(tracer, { traceparent: `00-${TRACE}-${PARENT}-${flags}` });
    expect(readCallback(callback!).flags).toBe(onward);
  });

  it('ids made by ziptrace set the random flag, sampled or not, 128-bit or 64-bit (left-padded)', () => {
    for (const [options, flags] of [
      [{ sampleRate: 1 }, '03'],
      [{ sampleRate: 0 }, '02'],
      [{ sampleRate: 1, traceId128Bit: false }, '03'],
    ] as const) {
      const { tracer } = tracerWith(options);
      for (const span of [tracer.startSpan('root', { parent: null }), tracer.newTrace({ name: 'root' })]) {
        const out: Record<string, string> = {};
        tracer.inject(span, out);
        const traceId = span.context.traceId.padStart(32, '0');
        expect(out.traceparent).toBe(`00-${traceId}-${span.context.spanId}-${flags}`);
      }
    }
  });

  it('a future version is answered in version 00', () => {
    const { tracer } = tracerWith();
    const [callback] = serve(tracer, { traceparent: `cc-${TRACE}-${PARENT}-03-${FUTURE}` });
    expect(callback!.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-03$`));
  });

  it(`reads a traceparent up to ${MAX_TRACEPARENT} characters (white space and future fields counted), and none longer`, () => {
    const future = (length: number): string => `cc-${TRACE}-${PARENT}-01-`.padEnd(length, 'x');
    expect(w3c.extract({ traceparent: future(MAX_TRACEPARENT) })).toMatchObject({ traceId: TRACE });
    expect(w3c.extract({ traceparent: future(MAX_TRACEPARENT + 1) })).toBeUndefined();
    expect(w3c.extract({ traceparent: VALID.padStart(MAX_TRACEPARENT, ' ') })).toMatchObject({ traceId: TRACE });
    expect(w3c.extract({ traceparent: VALID.padStart(MAX_TRACEPARENT + 1, ' ') })).toBeUndefined();
  });
});

describe('tracestate limits', () => {
  /** 32 valid members whose joined length is exactly `length` (at least 32 * 5 + 31). */
  function tracestateOfLength(length: number): string {
    const list = Array.from({ length: 32 }, (_, i) => `k${String(i).padStart(2, '0')}=`);
    let room = length - 31 - list.join('').length;
    return list
      .map((m) => {
        const take = Math.min(256, room - 0);
        room -= take;
        return m + 'v'.repeat(take);
      })
      .join(',');
  }

  it(`keeps a tracestate of ${MAX_TRACESTATE} characters and drops a longer one whole`, () => {
    const max = tracestateOfLength(MAX_TRACESTATE);
    expect(max).toHaveLength(MAX_TRACESTATE);
    expect(isWellFormedTracestate(max)).toBe(true);
    expect(w3c.extract({ traceparent: VALID, tracestate: max })).toMatchObject({ traceId: TRACE, tracestate: max });
    const over = tracestateOfLength(MAX_TRACESTATE + 1);
    expect(isWellFormedTracestate(over)).toBe(true);
    expect(w3c.extract({ traceparent: VALID, tracestate: over })).toMatchObject({ traceId: TRACE, tracestate: undefined });
  });

  it('the cap applies to all tracestate values together', () => {
    const half = tracestateOfLength(4200);
    const other = half.replace(/k(\d\d)=/g, 'j$1=');
    const found = w3c.extract({ traceparent: VALID, tracestate: [half, other] });
    expect(found).toMatchObject({ traceId: TRACE, tracestate: undefined });
  });
});

describe('W3C injection', () => {
  const SPAN = 'b7ad6b7169203331';
  it.each([
    ['L2', 'sampled, random', ctx({ traceId: TRACE, spanId: SPAN, sampled: true, random: true }), { traceparent: `00-${TRACE}-${SPAN}-03` }],
    ['L1', 'sampled, not known random', ctx({ traceId: TRACE, spanId: SPAN, sampled: true }), { traceparent: `00-${TRACE}-${SPAN}-01` }],
    ['L2', 'not sampled, random', ctx({ traceId: TRACE, spanId: SPAN, sampled: false, random: true }), { traceparent: `00-${TRACE}-${SPAN}-02` }],
    ['L1', 'deferred: W3C cannot say "defer", so not sampled', ctx({ traceId: TRACE, spanId: SPAN }), { traceparent: `00-${TRACE}-${SPAN}-00` }],
    ['L1', 'debug: W3C has no debug, so sampled', ctx({ traceId: TRACE, spanId: SPAN, sampled: true, debug: true }), { traceparent: `00-${TRACE}-${SPAN}-01` }],
    ['L1', '64-bit trace id: left-padded with zeros', ctx({ traceId: 'a3ce929d0e0e4736', spanId: SPAN, sampled: true }), { traceparent: `00-0000000000000000a3ce929d0e0e4736-${SPAN}-01` }],
    ['L1', 'the parent id is not sent (the span id is the parent-id field)', ctx({ traceId: TRACE, spanId: SPAN, parentId: PARENT, sampled: true }), { traceparent: `00-${TRACE}-${SPAN}-01` }],
    ['L1', 'tracestate is written as it is', ctx({ traceId: TRACE, spanId: SPAN, sampled: true, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' }), { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' }],
    ['L1', 'an empty tracestate is not written', ctx({ traceId: TRACE, spanId: SPAN, sampled: true, tracestate: '' }), { traceparent: `00-${TRACE}-${SPAN}-01` }],
    ['L1', 'a decision alone has no traceparent', { sampled: false, debug: false }, {}],
    ['L1', 'invalid ids write nothing', ctx({ traceId: TRACE, spanId: '0'.repeat(16), sampled: true, tracestate: 'a=1' }), {}],
  ] as [Level, string, ExtractedContext, Record<string, string>][])('[%s] %s', (_level, _name, context, want) => {
    const headers: Record<string, string> = {};
    w3c.inject(context, headers);
    expect(headers).toEqual(want);
  });

  it('round-trips what it writes', () => {
    const context = ctx({ traceId: TRACE, spanId: 'b7ad6b7169203331', sampled: false, random: true, tracestate: 'a=1,b@c=2' });
    const headers: Record<string, string> = {};
    w3c.inject(context, headers);
    expect(essentials(w3c.extract(headers))).toEqual({ traceId: TRACE, spanId: 'b7ad6b7169203331', sampled: false, debug: false, random: true, tracestate: 'a=1,b@c=2', source: 'w3c' });
  });
});

describe('tracestate is passed on by every span of the trace', () => {
  const incoming = { traceparent: `00-${TRACE}-${PARENT}-03`, tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' };

  it('joined server span, its children and grandchildren carry it and inject it', () => {
    const { tracer } = tracerWith();
    const server = tracer.joinSpan(tracer.extract(incoming)!, 'server');
    const child = tracer.startSpan('child', { parent: server });
    const grandchild = tracer.withActive(child, () => tracer.startSpan('grandchild'));
    const viaWithSpan = tracer.withSpan('active', { parent: grandchild }, () => tracer.startSpan('inner'));
    for (const span of [server, child, grandchild, viaWithSpan]) {
      expect(span.context.tracestate).toBe(incoming.tracestate);
      const out: Record<string, string> = {};
      tracer.inject(span, out);
      expect(out.tracestate).toBe(incoming.tracestate);
      expect(out.traceparent).toBe(`00-${TRACE}-${span.context.spanId}-03`);
    }
  });

  it('so do unsampled spans, which record nothing but still propagate', () => {
    const { tracer, reporter } = tracerWith();
    const server = tracer.joinSpan(tracer.extract({ ...incoming, traceparent: `00-${TRACE}-${PARENT}-00` })!, 'server');
    const child = tracer.startSpan('child', { parent: server });
    expect(child.isRecording).toBe(false);
    const out: Record<string, string> = {};
    tracer.inject(child, out);
    expect(out).toMatchObject({ traceparent: `00-${TRACE}-${child.context.spanId}-00`, tracestate: incoming.tracestate });
    child.finish();
    server.finish();
    expect(reporter.spans).toEqual([]);
  });

  it('a new trace (after an invalid traceparent) has no tracestate', () => {
    const { tracer } = tracerWith();
    const [callback] = serve(tracer, { traceparent: `00-${TRACE}-${PARENT}-0x`, tracestate: 'foo=1' });
    expect(callback!.tracestate).toBeUndefined();
    expect(readCallback(callback!).traceId).not.toBe(TRACE);
  });

  it('an invalid tracestate is dropped on its own: the trace goes on without it', () => {
    const { tracer } = tracerWith();
    const [callback] = serve(tracer, { traceparent: VALID, tracestate: 'foo=1,FOO=2' });
    expect(callback!.tracestate).toBeUndefined();
    expect(readCallback(callback!).traceId).toBe(TRACE);
  });
});

describe('joinSpan of a W3C context', () => {
  it('makes a child: W3C has no shared spans', () => {
    const { tracer, reporter } = tracerWith();
    const server = tracer.joinSpan(tracer.extract({ traceparent: VALID, tracestate: 'a=1' })!, 'server');
    expect(server.context.spanId).not.toBe(PARENT);
    expect(server.context).toMatchObject({ traceId: TRACE, parentId: PARENT, shared: false, sampled: true, tracestate: 'a=1', source: 'w3c', random: false });
    server.finish();
    expect(reporter.spans[0]).toMatchObject({ traceId: TRACE, parentId: PARENT });
    expect(reporter.spans[0]!.shared).toBeUndefined();
  });

  it('makes a child with supportsJoin: false too', () => {
    const { tracer } = tracerWith({ supportsJoin: false });
    const server = tracer.joinSpan(tracer.extract({ traceparent: VALID })!, 'server');
    expect(server.context).toMatchObject({ traceId: TRACE, parentId: PARENT, shared: false });
  });

  it('a W3C-only service never writes B3, a default one writes both', () => {
    const only = tracerWith({ propagation: { extract: ['w3c'], inject: ['w3c'] } }).tracer;
    const [w3cOnly] = serve(only, { traceparent: VALID });
    expect(Object.keys(w3cOnly!).sort()).toEqual(['traceparent']);
    const [both] = serve(tracerWith().tracer, { traceparent: VALID });
    expect(Object.keys(both!).sort()).toEqual(['traceparent', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid']);
  });
});
