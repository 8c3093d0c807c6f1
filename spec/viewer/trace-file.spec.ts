/**
 * Reading saved trace files: a list of spans (one trace or several), a list of
 * lists as GET /api/v2/traces returns, and every way a file can be wrong,
 * each an InvalidArgumentError naming the file and the span.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ZiptraceError } from '../../lib/errors.js';
import { analyzeTrace } from '../../lib/viewer/analysis.js';
import { renderTrace } from '../../lib/viewer/terminal.js';
import { readTraceFile } from '../../lib/viewer/trace-file.js';

const A = '463ac35c9f6413ad';
const B = '48485a3953bb6124';
const WIDE = `0af7651916cd43dd${A}`;
const s = (traceId: string, id: string, extra: Record<string, unknown> = {}) => ({ traceId, id, name: 'op', timestamp: 1_700_000_000_000_000, duration: 10, localEndpoint: { serviceName: 'svc' }, ...extra });

const thrown = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('did not throw');
};

describe('readTraceFile', () => {
  it('reads a list of one trace’s spans, normalized as POST /api/v2/spans stores them (span names kept as sent)', () => {
    const traces = readTraceFile(JSON.stringify([s(A, '1', { name: 'GET /x' }), s(A, '2', { parentId: '1', localEndpoint: { serviceName: 'DB' } })]), 'trace.json');
    expect(traces).toEqual([
      [
        { traceId: A, id: '0000000000000001', name: 'GET /x', timestamp: 1_700_000_000_000_000, duration: 10, localEndpoint: { serviceName: 'svc' } },
        { traceId: A, id: '0000000000000002', parentId: '0000000000000001', name: 'op', timestamp: 1_700_000_000_000_000, duration: 10, localEndpoint: { serviceName: 'db' } },
      ],
    ]);
  });

  it('groups a flat list of several traces by trace id, in order of appearance', () => {
    const traces = readTraceFile(JSON.stringify([s(B, 'b1'), s(A, 'a1'), s(B, 'b2'), s(A, 'a2')]));
    expect(traces.map((t) => t.map((span) => span.id.replace(/^0+/, '')))).toEqual([
      ['b1', 'b2'],
      ['a1', 'a2'],
    ]);
  });

  it('puts a 64-bit trace id with the one 128-bit id it truncates', () => {
    const traces = readTraceFile(JSON.stringify([s(A, '1'), s(WIDE, '2'), s(B, '3')]));
    expect(traces.map((t) => t.map((span) => span.traceId))).toEqual([[A, WIDE], [B]]);
    const after = readTraceFile(JSON.stringify([s(WIDE, '2'), s(A, '1')]));
    expect(after.map((t) => t.length)).toEqual([2]);
    // Two 128-bit traces share the lower half: the 64-bit one cannot tell which, and stays alone.
    const other = `1111111111111111${A}`;
    expect(readTraceFile(JSON.stringify([s(WIDE, '1'), s(other, '2'), s(A, '3')]))).toHaveLength(3);
  });

  it('joins 150,000 spans of a 64-bit id to their 128-bit trace (no call-stack overflow)', () => {
    const n = 150_000;
    const spans: unknown[] = [{ traceId: WIDE, id: '1' }];
    for (let i = 0; i < n; i++) spans.push({ traceId: A, id: (i + 2).toString(16) });
    const traces = readTraceFile(JSON.stringify(spans));
    expect(traces).toHaveLength(1);
    expect(traces[0]).toHaveLength(n + 1);
    expect(traces[0]![0]!.traceId).toBe(WIDE);
    expect(traces[0]!.every((span, i) => span.id === (i + 1).toString(16).padStart(16, '0'))).toBe(true);
  });

  it('reads a list of lists, as GET /api/v2/traces returns, leaving out empty traces', () => {
    const traces = readTraceFile(JSON.stringify([[s(A, '1'), s(A, '2', { parentId: '1' })], [], [s(B, '3')]]));
    expect(traces.map((t) => t.length)).toEqual([2, 1]);
    expect(readTraceFile('[]')).toEqual([]);
    expect(readTraceFile('[[]]')).toEqual([]);
  });

  it('takes a byte-order mark', () => {
    expect(readTraceFile(`\ufeff${JSON.stringify([s(A, '1')])}`)).toHaveLength(1);
  });

  it('refuses what is not JSON or not a list, naming the file', () => {
    for (const [text, message] of [
      ['{', /^ziptrace: bad\.json: not valid JSON \(/],
      ['{"traceId":"1"}', /^ziptrace: bad\.json: expected a JSON list of spans, or a list of lists/],
      ['"x"', /expected a JSON list/],
      [`[[${JSON.stringify(s(A, '1'))}], ${JSON.stringify(s(A, '2'))}]`, /^ziptrace: bad\.json: item 0 is a list but others are not/],
      [`[${JSON.stringify(s(A, '1'))}, []]`, /item 1 is a list but others are not/],
    ] as const) {
      const error = thrown(() => readTraceFile(text, 'bad.json'));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toBeInstanceOf(ZiptraceError);
      expect((error as InvalidArgumentError).code).toBe('ZIPTRACE_INVALID_ARGUMENT');
      expect(error.message).toMatch(message);
    }
  });

  it('refuses a bad span, naming the file and its index', () => {
    const cases: [unknown[], RegExp][] = [
      [[s(A, '1'), s('xyz', '2')], /^ziptrace: t\.json: span 1: traceId "xyz" is not 1 to 32 hex digits$/],
      [[s(A, '1'), s(A, '1'), { traceId: A }], /^ziptrace: t\.json: span 2: id is missing$/],
      [[s(A, 'ABC')], /span 0: id "ABC" is not lower-case hex/],
      [[s(A, '1', { timestamp: 'soon' })], /span 0: timestamp is "soon", not an integer/],
      [[s(A, '1', { tags: { error: null } })], /span 0: tags\["error"\] has no value/],
      [[null], /span 0: expected an object, got null/],
      [[s(A, '1', { name: { evil: true } })], /span 0: name is an object, not a string/],
    ];
    for (const [spans, message] of cases) expect(thrown(() => readTraceFile(JSON.stringify(spans), 't.json')).message).toMatch(message);
    expect(thrown(() => readTraceFile(JSON.stringify([[s(A, '1')], [s(A, '2'), s(A, 'zz')]]), 't.json')).message).toMatch(
      /^ziptrace: t\.json: trace 1, span 1: id "zz" is not 1 to 16 hex digits$/,
    );
    expect(thrown(() => readTraceFile('[1]')).message).toMatch(/^ziptrace: trace file: span 0: /);
  });

  it('what it reads renders', () => {
    const [trace] = readTraceFile(JSON.stringify([s(A, '1', { name: 'root\u001b[2J' }), s(A, '2', { parentId: '1', timestamp: 1_700_000_000_000_002, duration: 5 })]));
    const out = renderTrace(analyzeTrace(trace!), { width: 80 });
    expect(out).not.toMatch(/\u001b/);
    expect(out.split('\n')[0]).toBe(`svc: root[2J · trace ${A} · 10 µs · 2 spans · 0 errors`);
  });
});
