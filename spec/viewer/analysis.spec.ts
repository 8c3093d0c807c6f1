/**
 * The analysis of one trace, on hand-made traces whose answers are worked out
 * by hand: offsets, self time (parallel children counted once), the critical
 * path (Jaeger's walk back from the end), errors, the summary's root and
 * services; and traces too deep or too broken to recurse over.
 */
import { describe, expect, it } from 'vitest';
import { analyzeTrace, coveredTime, errorOf, summarizeTrace } from '../../lib/viewer/analysis.js';
import type { SpanRow, StoredSpan, TraceView } from '../../lib/viewer/types.js';
import { span, T, TRACE } from '../helpers/trace-spans.js';


const row = (view: TraceView, key: string): SpanRow => {
  const found = view.rows.find((r) => r.key === key);
  if (found === undefined) throw new Error(`no row ${key}`);
  return found;
};
const numbers = (view: TraceView) => Object.fromEntries(view.rows.map((r) => [r.key, { offset: r.offset, duration: r.duration, self: r.selfTime, critical: r.critical }]));

describe('analyzeTrace: self time and critical path', () => {
  it('parent 0–100 with children 10–30 and 20–60: self 50, the path runs through the second child', () => {
    const view = analyzeTrace([span('a', undefined, 0, 100), span('b', 'a', 10, 20), span('c', 'a', 20, 40)]);
    expect(numbers(view)).toEqual({
      a: { offset: 0, duration: 100, self: 50, critical: 60 },
      b: { offset: 10, duration: 20, self: 20, critical: 0 },
      c: { offset: 20, duration: 40, self: 40, critical: 40 },
    });
    expect(view.criticalPath).toEqual(['a', 'c']);
    expect(view.start).toBe(T);
    expect(view.duration).toBe(100);
  });

  it('sequential children are all on the path, in time order', () => {
    const view = analyzeTrace([span('a', undefined, 0, 100), span('b', 'a', 10, 20), span('c', 'a', 30, 40), span('d', 'c', 35, 10)]);
    expect(view.criticalPath).toEqual(['a', 'b', 'c', 'd']);
    expect(numbers(view)).toMatchObject({ a: { self: 40, critical: 40 }, b: { critical: 20 }, c: { self: 30, critical: 30 }, d: { critical: 10 } });
  });

  it('of parallel children, the one that ends last is critical; the others are not, however long', () => {
    // b runs 0–90, c 5–95: c ends last. b ends after c starts, so it cannot precede c on the path.
    const view = analyzeTrace([span('a', undefined, 0, 100), span('b', 'a', 0, 90), span('c', 'a', 5, 90)]);
    expect(view.criticalPath).toEqual(['a', 'c']);
    expect(row(view, 'a').selfTime).toBe(5);
    expect(row(view, 'a').critical).toBe(10);
    expect(row(view, 'b').critical).toBe(0);
    expect(row(view, 'c').critical).toBe(90);
  });

  it('clips children that outrun their parent (clock skew) to it', () => {
    const view = analyzeTrace([span('a', undefined, 10, 50), span('b', 'a', 0, 30), span('c', 'a', 50, 40), span('d', 'a', 100, 5)]);
    // Covered inside a: 10–30 (b) and 50–60 (c); d lies wholly after a.
    expect(row(view, 'a').selfTime).toBe(20);
    expect(row(view, 'a').offset).toBe(10);
    expect(row(view, 'b').offset).toBe(0);
    // The trace runs from b’s start (0) to d’s end (105): children outside their parent still count for the trace.
    expect(view.duration).toBe(105);
    expect(row(view, 'c').critical).toBe(10);
    expect(row(view, 'b').critical).toBe(20);
    expect(row(view, 'd').critical).toBe(0);
    expect(row(view, 'a').critical).toBe(20);
  });

  it('the critical time of a single-rooted trace adds up to its duration', () => {
    const spans = [span('r', undefined, 0, 1000)];
    // A fan of overlapping children with grandchildren.
    for (let i = 0; i < 20; i++) {
      spans.push(span(`c${i}`, 'r', i * 40, 100 + (i % 3) * 30));
      spans.push(span(`g${i}`, `c${i}`, i * 40 + 10, 50));
    }
    const view = analyzeTrace(spans);
    expect(view.rows.reduce((sum, r) => sum + r.critical, 0)).toBe(1000);
    expect(view.criticalPath[0]).toBe('r');
    for (const r of view.rows) {
      expect(r.selfTime).toBeGreaterThanOrEqual(0);
      expect(r.selfTime).toBeLessThanOrEqual(r.duration);
      expect(r.critical).toBeLessThanOrEqual(r.duration);
    }
  });

  it('a parent fully covered by a child is on the path with no critical time of its own', () => {
    const view = analyzeTrace([span('a', undefined, 0, 100), span('b', 'a', 0, 100)]);
    expect(view.criticalPath).toEqual(['a', 'b']);
    expect(row(view, 'a').critical).toBe(0);
    expect(row(view, 'a').selfTime).toBe(0);
    expect(row(view, 'b').critical).toBe(100);
  });

  it('follows the path through a shared server span', () => {
    const view = analyzeTrace([
      span('a', undefined, 0, 100, { kind: 'SERVER' }),
      span('b', 'a', 10, 80, { kind: 'CLIENT' }),
      span('b', 'a', 20, 60, { kind: 'SERVER', shared: true, localEndpoint: { serviceName: 'back' } }),
      span('c', 'b', 30, 20, { localEndpoint: { serviceName: 'back' } }),
    ]);
    expect(view.rows.map((r) => [r.key, r.depth, r.parentKey])).toEqual([
      ['a', 0, undefined],
      ['b', 1, 'a'],
      ['b:server', 2, 'b'],
      ['c', 3, 'b:server'],
    ]);
    expect(view.criticalPath).toEqual(['a', 'b', 'b:server', 'c']);
    expect(numbers(view)).toMatchObject({ a: { critical: 20 }, b: { critical: 20 }, 'b:server': { critical: 40, self: 40 }, c: { critical: 20 } });
  });

  it('with several top-level spans, the path ends in the one that ends last, as if they were siblings', () => {
    // o ends last; a ends after o starts, so it did not hold o up; p ended before o started.
    const view = analyzeTrace([span('a', undefined, 0, 50), span('o', 'missing', 40, 60), span('p', 'missing', 0, 10)]);
    expect(view.criticalPath).toEqual(['p', 'o']);
    expect(row(view, 'o').critical).toBe(60);
    expect(row(view, 'p').critical).toBe(10);
    expect(row(view, 'a').critical).toBe(0);
    expect(row(view, 'o').orphan).toBe(true);
  });

  it('spans without timestamp or duration still get rows, with duration 0, drawn at their parent', () => {
    const view = analyzeTrace([span('a', undefined, 0, 100), span('b', 'a', undefined, 30), span('c', 'a', 50), span('d', 'b', 60, 10)]);
    expect(numbers(view)).toEqual({
      a: { offset: 0, duration: 100, self: 100, critical: 100 },
      // b ran for 30 somewhere unknown: it is drawn at a's offset and counts for nothing in a.
      b: { offset: 0, duration: 30, self: 30, critical: 0 },
      d: { offset: 60, duration: 10, self: 10, critical: 0 },
      c: { offset: 50, duration: 0, self: 0, critical: 0 },
    });
    expect(view.criticalPath).toEqual(['a']);
  });

  it('a trace without any timestamp has start 0 and duration 0', () => {
    const view = analyzeTrace([span('a', undefined), span('b', 'a', undefined, 5)]);
    expect(view.start).toBe(0);
    expect(view.duration).toBe(0);
    expect(view.rows.map((r) => r.offset)).toEqual([0, 0]);
    expect(view.criticalPath).toEqual([]);
  });

  it('an empty trace', () => {
    const view = analyzeTrace([]);
    expect(view).toMatchObject({ traceId: '', spanCount: 0, rows: [], criticalPath: [], hints: [], rootService: 'unknown', rootName: '' });
  });

  it('analyses a 10,000-deep chain and a 10,000-span cycle without recursion', () => {
    const id = (i: number) => i.toString(16).padStart(16, '0');
    const chain = Array.from({ length: 10_000 }, (_, i) => span(id(i), i === 0 ? undefined : id(i - 1), i, 20_000 - 2 * i));
    const view = analyzeTrace(chain);
    expect(view.rows).toHaveLength(10_000);
    expect(view.criticalPath).toHaveLength(10_000);
    expect(view.rows.reduce((sum, r) => sum + r.critical, 0)).toBe(20_000);
    expect(view.rows[0]!.selfTime).toBe(2);

    const cycle = Array.from({ length: 10_000 }, (_, i) => span(id(i), id((i + 1) % 10_000), i, 1));
    expect(analyzeTrace(cycle).rows).toHaveLength(10_000);
  });

  it('a 1000-span wide trace', () => {
    const spans = [span('r', undefined, 0, 10_000)];
    for (let i = 0; i < 999; i++) spans.push(span(`s${i}`, 'r', i * 10, 10));
    const view = analyzeTrace(spans);
    expect(view.rows).toHaveLength(1000);
    expect(row(view, 'r').selfTime).toBe(10);
    expect(view.criticalPath).toHaveLength(1000);
  });
});

describe('analyzeTrace: errors', () => {
  it('takes an error tag, its message unless empty or true, and an error annotation', () => {
    const view = analyzeTrace([
      span('a', undefined, 0, 10, { tags: { error: 'connection refused' } }),
      span('b', 'a', 1, 1, { tags: { error: '' } }),
      span('c', 'a', 2, 1, { tags: { error: 'true' } }),
      span('d', 'a', 3, 1, { annotations: [{ timestamp: T + 3, value: 'error' }] }),
      span('e', 'a', 4, 1, { tags: { 'http.status_code': '200' }, annotations: [{ timestamp: T + 4, value: 'ws' }] }),
    ]);
    expect(view.rows.map((r) => [r.key, r.error, r.errorMessage])).toEqual([
      ['a', true, 'connection refused'],
      ['b', true, undefined],
      ['c', true, undefined],
      ['d', true, undefined],
      ['e', false, undefined],
    ]);
    expect(view.errorCount).toBe(4);
    expect('errorMessage' in row(view, 'b')).toBe(false);
  });

  it('errorOf reads tags with a __proto__ key and ignores inherited properties', () => {
    const tags = Object.create({ error: 'inherited' }) as Record<string, string>;
    expect(errorOf({ traceId: TRACE, id: 'a', tags })).toBeUndefined();
    const own: Record<string, string> = {};
    Object.defineProperty(own, 'error', { value: 'TRUE', enumerable: true });
    expect(errorOf({ traceId: TRACE, id: 'a', tags: own })).toBe('');
  });
});

describe('summaries', () => {
  const trace = [
    span('b', 'a', 10, 20, { localEndpoint: { serviceName: 'db' } }),
    span('a', undefined, 5, 100, { name: 'get /users', localEndpoint: { serviceName: 'api' } }),
    span('c', 'a', 20, 20, { localEndpoint: { serviceName: 'db' } }),
    span('d', 'a', 30, 90, { localEndpoint: { serviceName: 'cache' }, tags: { error: 'x' } }),
    span('e', 'a', 30, 9, { localEndpoint: undefined }),
  ];

  it('summarizeTrace: root service and name, services by span count, errors, times', () => {
    expect(summarizeTrace(trace)).toEqual({
      traceId: TRACE,
      start: T + 5,
      duration: 115,
      spanCount: 5,
      errorCount: 1,
      rootService: 'api',
      rootName: 'get /users',
      services: [
        { name: 'db', spanCount: 2 },
        { name: 'api', spanCount: 1 },
        { name: 'cache', spanCount: 1 },
      ],
    });
  });

  it('analyzeTrace has the same summary', () => {
    const view = analyzeTrace(trace);
    const { rows, criticalPath, hints, ...summary } = view;
    expect(summary).toEqual(summarizeTrace(trace));
    expect(rows).toHaveLength(5);
    expect(criticalPath.length).toBeGreaterThan(0);
    expect(Array.isArray(hints)).toBe(true);
  });

  it('with several roots or none, the earliest span names the trace', () => {
    const orphans = [span('x', 'gone', 20, 1, { name: 'late' }), span('y', 'gone', 10, 1, { name: 'early', localEndpoint: { serviceName: 'first' } }), span('z', 'gone')];
    expect(summarizeTrace(orphans)).toMatchObject({ rootService: 'first', rootName: 'early' });
    const roots = [span('r1', undefined, 30, 1, { name: 'one' }), span('r2', undefined, 3, 1, { name: 'two' }), span('r3', undefined, 3, 1, { name: 'three' })];
    expect(summarizeTrace(roots)).toMatchObject({ rootName: 'two' });
    const untimed = [span('q', 'gone', undefined, undefined, { name: 'q' }), span('p', 'gone', undefined, undefined, { name: 'p' })];
    // None has a time: the first in the tree's order (by key) names it, whatever the order given.
    expect(summarizeTrace(untimed)).toMatchObject({ rootName: 'p' });
    expect(summarizeTrace([span('n', undefined, 1, 1, { name: undefined })]).rootName).toBe('');
  });

  it('counts a service literally named unknown, but not spans without one', () => {
    const spans = [span('a', undefined, 0, 1, { localEndpoint: { serviceName: 'unknown' } }), span('b', 'a', 0, 1, { localEndpoint: {} })];
    expect(summarizeTrace(spans).services).toEqual([{ name: 'unknown', spanCount: 1 }]);
  });
});

describe('coveredTime', () => {
  it('counts overlapping intervals once', () => {
    expect(coveredTime([])).toBe(0);
    expect(
      coveredTime([
        { start: 0, end: 10 },
        { start: 5, end: 8 },
        { start: 5, end: 15 },
        { start: 20, end: 30 },
      ]),
    ).toBe(25);
  });
});
