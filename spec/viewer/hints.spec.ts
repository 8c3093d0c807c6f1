/**
 * Hints of lost time: repeated same-named siblings (N+1), sequential or
 * parallel, and gaps where a parent runs none of its children; thresholds,
 * neighbours named, a stable order; and the text helpers they share with the
 * terminal.
 */
import { describe, expect, it } from 'vitest';
import { analyzeTrace } from '../../lib/viewer/analysis.js';
import { DEFAULT_HINT_THRESHOLDS, findHints, formatDuration, plainText } from '../../lib/viewer/hints.js';
import type { SpanKind } from '../../lib/types.js';
import type { StoredSpan } from '../../lib/viewer/types.js';

const T = 1_700_000_000_000_000;

function span(id: string, parentId: string | undefined, start: number | undefined, duration: number | undefined, name?: string, service = 'api'): StoredSpan {
  const out: StoredSpan = { traceId: 'aaaaaaaaaaaaaaaa', id, localEndpoint: { serviceName: service } };
  if (name !== undefined) out.name = name;
  if (parentId !== undefined) out.parentId = parentId;
  if (start !== undefined) out.timestamp = T + start;
  if (duration !== undefined) out.duration = duration;
  return out;
}

const hintsOf = (spans: StoredSpan[]) => analyzeTrace(spans).hints;
const as = (kind: SpanKind, s: StoredSpan): StoredSpan => ({ ...s, kind });

describe('repeated hints', () => {
  it('finds 12 sequential same-named siblings: an N+1', () => {
    const spans = [span('r', undefined, 0, 50_000, 'GET /users')];
    for (let i = 0; i < 12; i++) spans.push(span(`q${i}`, 'r', 1000 + i * 4000, 4000, 'SELECT user', 'db'));
    const [hint, ...rest] = hintsOf(spans);
    expect(rest).toEqual([]);
    expect(hint).toEqual({
      kind: 'repeated',
      parentKey: 'r',
      keys: Array.from({ length: 12 }, (_, i) => `q${i}`),
      offset: 1000,
      duration: 48_000,
      message: "12 × 'SELECT user' under 'GET /users' one after another: 48.0 ms; an N+1 query? one batched call may do",
    });
  });

  it('says when the repeated calls ran in parallel', () => {
    const spans = [span('r', undefined, 0, 10_000, 'GET /users')];
    for (let i = 0; i < 4; i++) spans.push(span(`q${i}`, 'r', 100 * i, 9000, 'fetch', 'api'));
    expect(hintsOf(spans).map((h) => [h.kind, h.message, h.offset, h.duration])).toEqual([
      ['repeated', "4 × 'fetch' under 'GET /users' in parallel: 9.30 ms from the first start to the last end (36.0 ms of calls); one batched call may still do", 0, 9300],
    ]);
  });

  it('needs three, the same service, and a name', () => {
    const spans = [
      span('r', undefined, 0, 10_000, 'root'),
      span('a', 'r', 0, 3000, 'x', 'one'),
      span('b', 'r', 3000, 3000, 'x', 'one'),
      span('c', 'r', 6000, 3000, 'x', 'two'),
      span('d', 'r', 9000, 300),
      span('e', 'r', 9300, 300),
      span('f', 'r', 9600, 300),
    ];
    expect(hintsOf(spans)).toEqual([]);
    // With a lower threshold, two are enough.
    expect(findHints(analyzeTrace(spans).rows, { minRepeat: 2 }).map((h) => h.keys)).toEqual([['a', 'b']]);
  });

  it('counts same-named siblings even with others between them, and spans without time', () => {
    const spans = [span('r', undefined, 0, 10_000, 'root')];
    for (let i = 0; i < 3; i++) {
      spans.push(span(`u${i}`, 'r', i * 3000, 1500, 'select user', 'db'));
      spans.push(span(`o${i}`, 'r', i * 3000 + 1500, 1500, 'select order', 'db'));
    }
    spans.push(span('n1', 'r', undefined, undefined, 'untimed'), span('n2', 'r', undefined, undefined, 'untimed'), span('n3', 'r', undefined, undefined, 'untimed'));
    const hints = hintsOf(spans);
    expect(hints.map((h) => h.keys)).toEqual([['u0', 'u1', 'u2'], ['o0', 'o1', 'o2'], ['n1', 'n2', 'n3']]);
    expect(hints[2]!.message).toBe("3 × 'untimed' under 'root' one after another: 0 µs; an N+1 query? one batched call may do");
    expect(hints[2]!.offset).toBe(0);
  });
});

describe('gap hints', () => {
  it("names the children either side of a parent's wait", () => {
    const spans = [span('r', undefined, 0, 100_000, 'GET /checkout'), span('a', 'r', 0, 40_000, 'Slow SQL', 'db'), span('b', 'r', 75_000, 25_000, 'charge', 'pay')];
    expect(hintsOf(spans)).toEqual([
      { kind: 'gap', parentKey: 'r', keys: ['a', 'b'], offset: 40_000, duration: 35_000, message: "'GET /checkout' waits 35.0 ms on nothing it traced, between 'Slow SQL' and 'charge'" },
    ]);
  });

  it('finds gaps before the first child and after the last, most time first', () => {
    const spans = [span('r', undefined, 0, 100_000, 'root'), span('a', 'r', 42_000, 8000, 'mid')];
    expect(hintsOf(spans).map((h) => [h.message, h.keys, h.offset, h.duration])).toEqual([
      ["'root' waits 50.0 ms on nothing it traced, after 'mid'", ['a'], 50_000, 50_000],
      ["'root' waits 42.0 ms on nothing it traced, before 'mid'", ['a'], 0, 42_000],
    ]);
  });

  it('counts overlapping children as one cover, and names the one that ended last before the gap', () => {
    const spans = [span('r', undefined, 0, 10_000, 'root'), span('a', 'r', 0, 6000, 'long'), span('b', 'r', 1000, 1000, 'short'), span('c', 'r', 9000, 1000, 'last')];
    expect(hintsOf(spans).map((h) => h.message)).toEqual(["'root' waits 3.00 ms on nothing it traced, between 'long' and 'last'"]);
  });

  it('keeps to the thresholds: 20% of the parent and 1 ms', () => {
    expect(DEFAULT_HINT_THRESHOLDS).toEqual({ minRepeat: 3, sequentialCover: 0.75, gapFraction: 0.2, minGap: 1000, edgeGapFraction: 0.4, minEdgeGap: 5000 });
    // Between two children that fill the parent's start and end, so only the gap between them can count.
    const between = (parent: number, firstEnd: number, secondStart: number) => [span('r', undefined, 0, parent, 'r'), span('a', 'r', 0, firstEnd, 'a'), span('b', 'r', secondStart, parent - secondStart, 'b')];
    // 1.9 ms of 10 ms: under 20%.
    expect(hintsOf(between(10_000, 4000, 5900))).toEqual([]);
    // 0.5 ms of 1 ms: 50%, but under 1 ms.
    expect(hintsOf(between(1000, 250, 750))).toEqual([]);
    // Exactly 2 ms of 10 ms counts.
    expect(hintsOf(between(10_000, 4000, 6000)).map((h) => [h.keys, h.offset, h.duration])).toEqual([[['a', 'b'], 4000, 2000]]);
    // 1 ms of 10 ms: only with a lower fraction; 0.5 ms of 1 ms: only with a lower minimum.
    expect(hintsOf(between(10_000, 4000, 5000))).toEqual([]);
    expect(findHints(analyzeTrace(between(10_000, 4000, 5000)).rows, { gapFraction: 0.1 })).toHaveLength(1);
    expect(findHints(analyzeTrace(between(1000, 250, 750)).rows, { minGap: 500 })).toHaveLength(1);
  });

  it('asks more of a gap before the first child or after the last: 40% of the parent and 5 ms', () => {
    // 39 ms of 100 ms before the only child: over 5 ms, but under 40%.
    expect(hintsOf([span('r', undefined, 0, 100_000, 'r'), span('a', 'r', 39_000, 61_000, 'a')])).toEqual([]);
    // 41 ms of 100 ms counts.
    expect(hintsOf([span('r', undefined, 0, 100_000, 'r'), span('a', 'r', 41_000, 59_000, 'a')]).map((h) => h.message)).toEqual(["'r' waits 41.0 ms on nothing it traced, before 'a'"]);
    // 4.9 ms of 12 ms after the only child: over 40%, but under 5 ms.
    expect(hintsOf([span('r', undefined, 0, 12_000, 'r'), span('a', 'r', 0, 7100, 'a')])).toEqual([]);
    // Exactly 5 ms of 12 ms (42%) counts.
    expect(hintsOf([span('r', undefined, 0, 12_000, 'r'), span('a', 'r', 0, 7000, 'a')]).map((h) => h.message)).toEqual(["'r' waits 5.00 ms on nothing it traced, after 'a'"]);
    // A 30% gap counts between two children, not at an edge.
    expect(hintsOf([span('r', undefined, 0, 100_000, 'r'), span('a', 'r', 0, 35_000, 'a'), span('b', 'r', 65_000, 35_000, 'b')])).toHaveLength(1);
    expect(hintsOf([span('r', undefined, 0, 100_000, 'r'), span('a', 'r', 30_000, 70_000, 'a')])).toEqual([]);
    // The edge thresholds can be set too.
    const rows = analyzeTrace([span('r', undefined, 0, 100_000, 'r'), span('a', 'r', 39_000, 61_000, 'a')]).rows;
    expect(findHints(rows, { edgeGapFraction: 0.3 })).toHaveLength(1);
    expect(findHints(rows, { minEdgeGap: 40_000, edgeGapFraction: 0.1 })).toEqual([]);
  });

  it('gives CLIENT and PRODUCER parents no gap hints: the time around the remote side is the network', () => {
    // A call of 100 ms whose remote side ran 10 ms in the middle: 45 ms either side.
    const call = (kind: SpanKind, childKind: SpanKind) => [as(kind, span('c', undefined, 0, 100_000, 'call', 'web')), as(childKind, span('s', 'c', 45_000, 10_000, 'serve', 'users'))];
    expect(hintsOf(call('CLIENT', 'SERVER'))).toEqual([]);
    expect(hintsOf(call('PRODUCER', 'CONSUMER'))).toEqual([]);
    // Nor between two children of a CLIENT span.
    expect(hintsOf([as('CLIENT', span('c', undefined, 0, 100_000, 'call')), span('a', 'c', 0, 10_000, 'a'), span('b', 'c', 90_000, 10_000, 'b')])).toEqual([]);
    // A SERVER parent of the same shape waits on something it did not trace.
    expect(hintsOf(call('SERVER', 'SERVER')).map((h) => [h.kind, h.parentKey, h.offset, h.duration])).toEqual([
      ['gap', 'c', 0, 45_000],
      ['gap', 'c', 55_000, 45_000],
    ]);
    // Repeated calls under a CLIENT span are still said.
    const repeated = [as('CLIENT', span('c', undefined, 0, 10_000, 'call')), ...['a', 'b', 'd'].map((id, i) => span(id, 'c', i * 1000, 1000, 'x'))];
    expect(hintsOf(repeated).map((h) => h.kind)).toEqual(['repeated']);
  });

  it('says nothing of leaves, parents without time, or children that did not run inside the parent', () => {
    expect(hintsOf([span('r', undefined, 0, 10_000, 'r')])).toEqual([]);
    expect(hintsOf([span('r', undefined, undefined, 10_000, 'r'), span('a', 'r', 0, 10, 'a')])).toEqual([]);
    expect(hintsOf([span('r', undefined, 0, 10_000, 'r'), span('a', 'r', 20_000, 10, 'a'), span('b', 'r', 5000, undefined, 'b'), span('c', 'r', undefined, 100, 'c')])).toEqual([]);
  });

  it('quotes unnamed spans and cuts long or hostile names', () => {
    const spans = [span('r', undefined, 0, 10_000), span('a', 'r', 0, 1000, `${'n'.repeat(200)}\u001b[31m`)];
    const [hint] = hintsOf(spans);
    expect(hint!.message).toBe(`'(unnamed)' waits 9.00 ms on nothing it traced, after '${'n'.repeat(79)}…'`);
  });
});

describe('order', () => {
  it('is the same whatever order the spans come in', () => {
    const spans = [span('r', undefined, 0, 100_000, 'root'), span('p', 'r', 0, 50_000, 'p'), span('q', 'r', 55_000, 3000, 'q')];
    for (const [i, start] of [2000, 3000, 30_000].entries()) spans.push(span(`x${i}`, 'p', start, 1000, 'x'));
    const forward = hintsOf(spans);
    expect(forward.map((h) => [h.kind, h.parentKey, h.duration])).toEqual([
      ['gap', 'r', 42_000],
      ['repeated', 'p', 29_000],
      ['gap', 'p', 26_000],
    ]);
    expect(hintsOf([...spans].reverse())).toEqual(forward);
    expect(forward.map((h) => h.duration)).toEqual([...forward.map((h) => h.duration)].sort((a, b) => b - a));
  });

  it('at equal durations: by start, then repeated before gap, then keys', () => {
    const rows = analyzeTrace([
      span('r', undefined, 0, 30_000, 'root'),
      span('a', 'r', 0, 5000, 'x'),
      span('b', 'r', 5000, 5000, 'x'),
      span('c', 'r', 10_000, 5000, 'x'),
      span('s', undefined, 0, 30_000, 'root2'),
      span('d', 's', 0, 5000, 'x'),
      span('e', 's', 5000, 5000, 'x'),
      span('f', 's', 10_000, 5000, 'x'),
    ]).rows;
    expect(findHints(rows).map((h) => [h.kind, h.parentKey, h.offset, h.duration])).toEqual([
      ['repeated', 'r', 0, 15_000],
      ['repeated', 's', 0, 15_000],
      ['gap', 'r', 15_000, 15_000],
      ['gap', 's', 15_000, 15_000],
    ]);
    // Same start, same duration, different kinds (a wait in r, a run in s): repeated first, though r sorts before s.
    const same = findHints(
      analyzeTrace([
        span('r', undefined, 0, 12_000, 'root'),
        span('g', 'r', 6000, 6000, 'y'),
        span('s', undefined, 0, 6000, 'root2'),
        ...['h', 'i', 'j'].map((id, i) => span(id, 's', i * 2000, 2000, 'z')),
      ]).rows,
    );
    expect(same.map((h) => [h.kind, h.parentKey])).toEqual([
      ['repeated', 's'],
      ['gap', 'r'],
    ]);
  });

  it('skips child keys that name no row', () => {
    const rows = analyzeTrace([span('r', undefined, 0, 10_000, 'r'), span('a', 'r', 0, 1000, 'a')]).rows;
    rows[0]!.childKeys.push('nowhere');
    expect(findHints(rows)).toHaveLength(1);
  });
});

describe('formatDuration and plainText', () => {
  it('formats durations in three significant digits', () => {
    expect([0, 1, 999, 1000, 1234, 48_100, 123_456, 999_999, 1_000_000, 12_345_678, 1e9, -1, Number.NaN].map(formatDuration)).toEqual([
      '0 µs',
      '1 µs',
      '999 µs',
      '1.00 ms',
      '1.23 ms',
      '48.1 ms',
      '123 ms',
      '1000 ms',
      '1.00 s',
      '12.3 s',
      '1000 s',
      '?',
      '?',
    ]);
  });

  it('removes control characters and bidi overrides; tabs and newlines become spaces', () => {
    expect(plainText('a\tb\nc\u001b[31md\u0007\u009be\u202ef\u2066')).toBe('a b c[31mdef');
    expect(plainText('abcdef', 4)).toBe('abc…');
    expect(plainText('abcd', 4)).toBe('abcd');
    expect(plainText('🔥🔥🔥', 2)).toBe('🔥…');
  });
});
