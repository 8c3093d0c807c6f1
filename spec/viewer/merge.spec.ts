/**
 * mergeTrace follows zipkin2.internal.Trace.merge; the cases mirror Zipkin's
 * TraceTest, plus the rules of Span.Builder.merge it relies on.
 */
import { describe, expect, it } from 'vitest';
import type { SpanKind } from '../../lib/types.js';
import { mergeTrace } from '../../lib/viewer/merge.js';
import type { StoredSpan } from '../../lib/viewer/types.js';

const pad = (id: string): string => (id.length <= 16 ? id.padStart(16, '0') : id.padStart(32, '0'));

/** TraceTest's span(traceId, parentId, id, kind, local, ip, shared). */
function span(traceId: string, parentId: string | null, id: string, kind: SpanKind | null, local: string | null, ip: string | null, shared: boolean, extra: Partial<StoredSpan> = {}): StoredSpan {
  const s: StoredSpan = { traceId: pad(traceId), id: pad(id) };
  if (parentId !== null && parentId !== id) s.parentId = pad(parentId);
  if (kind !== null) s.kind = kind;
  if (local !== null || ip !== null) s.localEndpoint = { ...(local !== null ? { serviceName: local } : {}), ...(ip !== null ? { ipv4: ip } : {}) };
  Object.assign(s, extra);
  if (shared && kind !== 'CLIENT') s.shared = true;
  return s;
}

/** The merged spans, compared without regard to order (as containsExactlyInAnyOrder). */
function sorted(spans: StoredSpan[]): StoredSpan[] {
  return [...spans].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

describe('mergeTrace (Zipkin TraceTest)', () => {
  it.each<[string, StoredSpan[], StoredSpan[]]>([
    [
      'backfillsMissingParentIdOnSharedSpan',
      [span('a', null, 'a', 'SERVER', 'frontend', null, false), span('a', 'a', 'b', 'CLIENT', 'frontend', null, false), span('a', null, 'b', 'SERVER', 'backend', null, true)],
      [span('a', null, 'a', 'SERVER', 'frontend', null, false), span('a', 'a', 'b', 'CLIENT', 'frontend', null, false), span('a', 'a', 'b', 'SERVER', 'backend', null, true)],
    ],
    [
      'mergesWhenMissingEndpoints',
      [
        span('a', null, 'a', null, null, null, false, { tags: { service: 'frontend', 'span.kind': 'SERVER' } }),
        span('a', 'a', 'b', null, null, null, false, { timestamp: 1, tags: { service: 'frontend', 'span.kind': 'CLIENT' } }),
        span('a', 'a', 'b', 'SERVER', 'backend', null, true),
        span('a', 'a', 'b', null, null, null, false, { duration: 10 }),
      ],
      [
        span('a', null, 'a', null, null, null, false, { tags: { service: 'frontend', 'span.kind': 'SERVER' } }),
        span('a', 'a', 'b', null, null, null, false, { timestamp: 1, duration: 10, tags: { service: 'frontend', 'span.kind': 'CLIENT' } }),
        span('a', 'a', 'b', 'SERVER', 'backend', null, true),
      ],
    ],
    [
      'doesntMergeSharedSpansOnDifferentIPs',
      [
        span('a', null, 'a', 'SERVER', 'frontend', null, false),
        span('a', 'a', 'b', 'CLIENT', 'frontend', null, false, { timestamp: 1, annotations: [{ timestamp: 3, value: 'brave.flush' }] }),
        span('a', 'a', 'b', 'SERVER', 'backend', '1.2.3.4', true),
        span('a', 'a', 'b', 'SERVER', 'backend', '1.2.3.5', true),
        span('a', 'a', 'b', 'CLIENT', 'frontend', null, false, { duration: 10 }),
      ],
      [
        span('a', null, 'a', 'SERVER', 'frontend', null, false),
        span('a', 'a', 'b', 'CLIENT', 'frontend', null, false, { timestamp: 1, duration: 10, annotations: [{ timestamp: 3, value: 'brave.flush' }] }),
        span('a', 'a', 'b', 'SERVER', 'backend', '1.2.3.4', true),
        span('a', 'a', 'b', 'SERVER', 'backend', '1.2.3.5', true),
      ],
    ],
    [
      'putsRandomDataOnFirstSpanWithEndpoint',
      [
        span('a', null, 'a', 'SERVER', 'frontend', null, false),
        span('a', 'a', 'b', 'CLIENT', null, null, false),
        span('a', 'a', 'b', null, 'frontend', null, false, { timestamp: 1, annotations: [{ timestamp: 3, value: 'brave.flush' }] }),
        span('a', 'a', 'b', 'SERVER', 'backend', '1.2.3.4', true),
        span('a', 'a', 'b', 'SERVER', 'backend', '1.2.3.5', true),
        span('a', 'a', 'b', null, 'frontend', null, false, { duration: 10 }),
      ],
      [
        span('a', null, 'a', 'SERVER', 'frontend', null, false),
        span('a', 'a', 'b', 'CLIENT', 'frontend', null, false, { timestamp: 1, duration: 10, annotations: [{ timestamp: 3, value: 'brave.flush' }] }),
        span('a', 'a', 'b', 'SERVER', 'backend', '1.2.3.4', true),
        span('a', 'a', 'b', 'SERVER', 'backend', '1.2.3.5', true),
      ],
    ],
    [
      'mergesIncompleteEndpoints',
      [
        span('a', null, 'a', 'SERVER', 'frontend', null, false),
        span('a', 'a', 'b', 'CLIENT', 'frontend', null, false),
        span('a', 'a', 'b', 'CLIENT', null, '1.2.3.4', false),
        span('a', 'a', 'b', 'SERVER', null, '1.2.3.5', true),
        span('a', 'a', 'b', 'SERVER', 'backend', null, true),
      ],
      [span('a', null, 'a', 'SERVER', 'frontend', null, false), span('a', 'a', 'b', 'CLIENT', 'frontend', '1.2.3.4', false), span('a', 'a', 'b', 'SERVER', 'backend', '1.2.3.5', true)],
    ],
    [
      'worksWhenMissingParentSpan',
      [span('a', 'a', 'b', 'SERVER', 'backend', '1.2.3.4', false), span('a', 'a', 'c', 'SERVER', 'backend', null, false)],
      [span('a', 'a', 'b', 'SERVER', 'backend', '1.2.3.4', false), span('a', 'a', 'c', 'SERVER', 'backend', null, false)],
    ],
  ])('%s', (_name, input, expected) => {
    const before = JSON.stringify(input);
    expect(sorted(mergeTrace(input))).toEqual(sorted(expected));
    expect(JSON.stringify(input), 'the input is not changed').toBe(before);
  });

  it('deletesSelfReferencingParentId (on a merged part)', () => {
    const parts: StoredSpan[] = [
      { traceId: pad('a'), id: pad('a'), kind: 'SERVER', localEndpoint: { serviceName: 'frontend' } },
      { traceId: pad('a'), id: pad('a'), parentId: pad('a'), localEndpoint: { serviceName: 'frontend' } },
      span('a', 'a', 'b', 'CLIENT', 'frontend', null, false),
    ];
    expect(mergeTrace(parts)).toEqual([span('a', null, 'a', 'SERVER', 'frontend', null, false), span('a', 'a', 'b', 'CLIENT', 'frontend', null, false)]);
  });

  it('choosesBestTraceId', () => {
    const trace = [
      span('7180c278b62e8f6a216a2aea45d08fc9', null, 'a', 'SERVER', 'frontend', null, false),
      span('7180c278b62e8f6a216a2aea45d08fc9', 'a', 'b', 'CLIENT', 'frontend', null, false),
      span('216a2aea45d08fc9', 'a', 'b', 'SERVER', 'backend', null, true),
    ];
    expect(mergeTrace(trace).map((s) => s.traceId)).toEqual(Array(3).fill('7180c278b62e8f6a216a2aea45d08fc9'));
    // Also when the 64-bit form sorts first.
    expect(mergeTrace([trace[2]!, { ...trace[0]!, id: pad('c') }]).map((s) => s.traceId)).toEqual(Array(2).fill('7180c278b62e8f6a216a2aea45d08fc9'));
  });
});

describe('mergeTrace: the rules underneath', () => {
  it('gives one or no span back as it is', () => {
    const only = span('a', null, 'a', 'CLIENT', 'x', null, false);
    expect(mergeTrace([])).toEqual([]);
    const result = mergeTrace([only]);
    expect(result).toEqual([only]);
    expect(result[0]).toBe(only);
  });

  it('sorts by id, client before server, unshared before shared, no endpoint first', () => {
    const trace = [
      span('a', 'a', 'c', 'SERVER', 'z', null, false),
      span('a', 'a', 'b', 'SERVER', 'backend', null, true),
      span('a', 'a', 'b', 'CLIENT', 'frontend', null, false),
      span('a', null, 'a', 'SERVER', 'frontend', null, false),
      span('a', 'a', 'c', 'CLIENT', 'y', null, false, { remoteEndpoint: { serviceName: 'q' } }),
    ];
    expect(mergeTrace(trace).map((s) => `${s.id.slice(-1)}:${s.kind}:${s.shared === true}`)).toEqual(['a:SERVER:false', 'b:CLIENT:false', 'b:SERVER:true', 'c:CLIENT:false', 'c:SERVER:true']);
  });

  it('backfills the shared flag on a server after a client of the same id', () => {
    const merged = mergeTrace([span('a', 'a', 'b', 'SERVER', 'backend', null, false), span('a', 'a', 'b', 'CLIENT', 'frontend', null, false)]);
    expect(merged).toEqual([span('a', 'a', 'b', 'CLIENT', 'frontend', null, false), span('a', 'a', 'b', 'SERVER', 'backend', null, true)]);
  });

  it('fills fields from later parts, merges endpoints field by field, unions tags (later wins) and annotations', () => {
    const merged = mergeTrace([
      // The part with no kind and the less complete local endpoint sorts after the client part.
      {
        traceId: pad('a'), id: pad('b'), parentId: pad('a'), name: 'second', timestamp: 3, duration: 4, debug: true,
        tags: { b: '2', c: '2' }, annotations: [{ timestamp: 5, value: 'x' }, { timestamp: 1, value: 'y' }],
        localEndpoint: { serviceName: 'svc', port: 9 }, remoteEndpoint: { serviceName: 'db', ipv4: '2.2.2.2' },
      },
      { traceId: pad('a'), id: pad('b'), kind: 'CLIENT', name: 'first', tags: { a: '1', b: '1' }, annotations: [{ timestamp: 5, value: 'x' }], localEndpoint: { serviceName: 'svc', ipv6: '::1' }, remoteEndpoint: { ipv4: '1.1.1.1' } },
    ]);
    expect(merged).toEqual([
      {
        traceId: pad('a'), id: pad('b'), parentId: pad('a'), kind: 'CLIENT', name: 'first', timestamp: 3, duration: 4, debug: true,
        tags: { a: '1', b: '2', c: '2' }, annotations: [{ timestamp: 1, value: 'y' }, { timestamp: 5, value: 'x' }],
        localEndpoint: { serviceName: 'svc', ipv6: '::1', port: 9 }, remoteEndpoint: { ipv4: '1.1.1.1', serviceName: 'db' },
      },
    ]);
  });

  it('does not merge parts of one id on different services or ports', () => {
    const trace = [
      span('a', null, 'b', 'SERVER', 'one', null, false),
      span('a', null, 'b', 'SERVER', 'two', null, false),
      { ...span('a', null, 'c', 'SERVER', 'one', null, false), localEndpoint: { serviceName: 'one', port: 1 } },
      { ...span('a', null, 'c', 'SERVER', 'one', null, false), localEndpoint: { serviceName: 'one', port: 2 } },
    ];
    expect(mergeTrace(trace)).toHaveLength(4);
  });

  it('merges a __proto__ tag as a tag', () => {
    const withProto = JSON.parse('{"__proto__":"p"}') as Record<string, string>;
    const merged = mergeTrace([span('a', null, 'b', 'SERVER', 's', null, false, { tags: { a: '1' } }), span('a', null, 'b', 'SERVER', 's', null, false, { tags: withProto })]);
    expect(Object.keys(merged[0]!.tags!)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(merged[0]!.tags)).toBe(Object.prototype);
  });

  // No deadline here (speed is measured in bench/, not asserted in spec/): this took minutes when each part copied and re-sorted the run so far.
  it('merges 20,000 parts of one span, each with its own tag and annotation, into one complete sorted span', () => {
    const n = 20_000;
    const key = (i: number): string => `k${String(i).padStart(5, '0')}`;
    const parts = Array.from({ length: n }, (_, i) =>
      span('a', null, 'b', 'SERVER', 's', null, false, {
        // Timestamps count down, so the merged order is the reverse of the parts'; each part repeats 'start' and the 'last' tag.
        tags: { [key(n - 1 - i)]: `v${i}`, last: `v${i}` },
        annotations: [{ timestamp: 1_000_000 + (n - i), value: `a${i}` }, { timestamp: 1, value: 'start' }],
      }),
    );
    const merged = mergeTrace(parts);
    expect(merged).toHaveLength(1);
    const { tags, annotations } = merged[0]!;
    // Every tag, sorted by key, the later part's 'last' winning.
    const keys = Object.keys(tags!);
    expect(keys).toEqual([...Array.from({ length: n }, (_, i) => key(i)), 'last']);
    expect(keys.map((k) => tags![k])).toEqual([...Array.from({ length: n }, (_, i) => `v${n - 1 - i}`), `v${n - 1}`]);
    // Every annotation once ('start' from each part), sorted by time.
    const expected = ['1 start', ...Array.from({ length: n }, (_, j) => `${1_000_001 + j} a${n - 1 - j}`)];
    expect(annotations!.map((a) => `${a.timestamp} ${a.value}`)).toEqual(expected);
  });
});
