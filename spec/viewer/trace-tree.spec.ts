/**
 * The tree of one trace, with Zipkin's rules: roots, orphans at depth 0,
 * shared server spans under their client, siblings by start; and untrusted
 * shapes (self-parents, cycles, repeated ids, deep chains) that must neither
 * hang nor lose a span.
 */
import { describe, expect, it } from 'vitest';
import { buildTraceTree, compareNodes, durationOf, serviceOf, timestampOf } from '../../lib/viewer/trace-tree.js';
import type { StoredSpan } from '../../lib/viewer/types.js';
import { span, T, TRACE } from '../helpers/trace-spans.js';


const shape = (spans: StoredSpan[]) =>
  buildTraceTree(spans).nodes.map((n) => ({ key: n.key, depth: n.depth, parent: n.parent?.key, orphan: n.orphan }));

describe('buildTraceTree', () => {
  it('nests children under parents, depth first, siblings by start time', () => {
    const tree = buildTraceTree([span('c', 'a', 30, 5), span('a', undefined, 0, 100), span('b', 'a', 10, 5), span('d', 'b', 11, 1)]);
    expect(tree.roots.map((n) => n.key)).toEqual(['a']);
    expect(tree.nodes.map((n) => [n.key, n.depth])).toEqual([
      ['a', 0],
      ['b', 1],
      ['d', 2],
      ['c', 1],
    ]);
    expect(tree.nodes[0]!.children.map((n) => n.key)).toEqual(['b', 'c']);
    expect(tree.nodes.every((n) => !n.orphan)).toBe(true);
  });

  it('puts spans without a timestamp after their timed siblings, and breaks ties by key', () => {
    const tree = buildTraceTree([span('r', undefined, 0, 10), span('z', 'r'), span('y', 'r', 5, 1), span('x', 'r', 5, 1), span('w', 'r')]);
    expect(tree.nodes.map((n) => n.key)).toEqual(['r', 'x', 'y', 'w', 'z']);
  });

  it('draws a span whose parent is missing as an orphan at depth 0', () => {
    expect(shape([span('a', undefined, 0, 10), span('b', 'ffff', 5, 1), span('c', 'b', 6, 1)])).toEqual([
      { key: 'a', depth: 0, parent: undefined, orphan: false },
      { key: 'b', depth: 0, parent: undefined, orphan: true },
      { key: 'c', depth: 1, parent: 'b', orphan: false },
    ]);
  });

  it('makes a shared server span the child of its client, and its children nest under the server side', () => {
    const client = span('b', 'a', 10, 50, { kind: 'CLIENT', localEndpoint: { serviceName: 'front' } });
    const server = span('b', 'a', 15, 40, { kind: 'SERVER', shared: true, localEndpoint: { serviceName: 'back' } });
    const db = span('c', 'b', 20, 10, { localEndpoint: { serviceName: 'back' } });
    expect(shape([db, server, span('a', undefined, 0, 100, { localEndpoint: { serviceName: 'front' } }), client])).toEqual([
      { key: 'a', depth: 0, parent: undefined, orphan: false },
      { key: 'b', depth: 1, parent: 'a', orphan: false },
      { key: 'b:server', depth: 2, parent: 'b', orphan: false },
      { key: 'c', depth: 3, parent: 'b:server', orphan: false },
    ]);
  });

  it('with several servers sharing one client id, a child goes to the server of its own service', () => {
    const nodes = shape([
      span('a', undefined, 0, 100, { kind: 'CLIENT', localEndpoint: { serviceName: 'front' } }),
      span('a', undefined, 5, 10, { kind: 'SERVER', shared: true, localEndpoint: { serviceName: 'one' } }),
      span('a', undefined, 6, 10, { kind: 'SERVER', shared: true, localEndpoint: { serviceName: 'two' } }),
      span('c', 'a', 7, 1, { localEndpoint: { serviceName: 'two' } }),
      span('d', 'a', 8, 1, { localEndpoint: { serviceName: 'three' } }),
    ]);
    expect(nodes).toEqual([
      { key: 'a', depth: 0, parent: undefined, orphan: false },
      { key: 'a:server', depth: 1, parent: 'a', orphan: false },
      { key: 'd', depth: 2, parent: 'a:server', orphan: false },
      { key: 'a:server:2', depth: 1, parent: 'a', orphan: false },
      { key: 'c', depth: 2, parent: 'a:server:2', orphan: false },
    ]);
  });

  it('places a shared server span whose client never arrived by its parentId', () => {
    expect(shape([span('r', undefined, 0, 100), span('b', 'r', 10, 5, { shared: true, kind: 'SERVER' })])).toEqual([
      { key: 'r', depth: 0, parent: undefined, orphan: false },
      { key: 'b:server', depth: 1, parent: 'r', orphan: false },
    ]);
    expect(shape([span('b', undefined, 10, 5, { shared: true, kind: 'SERVER' })])).toEqual([{ key: 'b:server', depth: 0, parent: undefined, orphan: false }]);
    // A shared span naming its own id as parent, with no client: it cannot be its own parent.
    expect(shape([span('b', 'b', 10, 5, { shared: true })])).toEqual([{ key: 'b:server', depth: 0, parent: undefined, orphan: true }]);
  });

  it('treats a self-parent as an orphan', () => {
    expect(shape([span('a', 'a', 0, 1)])).toEqual([{ key: 'a', depth: 0, parent: undefined, orphan: true }]);
  });

  it('treats an empty parentId as none', () => {
    expect(shape([span('a', '', 0, 1)])).toEqual([{ key: 'a', depth: 0, parent: undefined, orphan: false }]);
  });

  it('cuts a cycle at its earliest span, keeping every span', () => {
    const nodes = shape([span('a', 'c', 20, 1), span('b', 'a', 30, 1), span('c', 'b', 10, 1), span('d', 'b', 40, 1)]);
    expect(nodes).toEqual([
      { key: 'c', depth: 0, parent: undefined, orphan: true },
      { key: 'a', depth: 1, parent: 'c', orphan: false },
      { key: 'b', depth: 2, parent: 'a', orphan: false },
      { key: 'd', depth: 3, parent: 'b', orphan: false },
    ]);
    // Two spans naming each other, and a tail hanging off the cycle.
    expect(shape([span('x', 'y', 5, 1), span('y', 'x', 1, 1), span('t', 'x', 9, 1)]).map((n) => [n.key, n.depth, n.orphan])).toEqual([
      ['y', 0, true],
      ['x', 1, false],
      ['t', 2, false],
    ]);
  });

  it('gives repeated ids unique keys', () => {
    const keys = buildTraceTree([span('a', undefined, 0, 1), span('a', undefined, 1, 1), span('a:2', undefined, 2, 1), span('a', undefined, 3, 1, { shared: true }), span('a', undefined, 4, 1, { shared: true })]).nodes.map(
      (n) => n.key,
    );
    expect(new Set(keys).size).toBe(5);
    expect(keys).toContain('a:server');
    expect(keys).toContain('a:server:2');
  });

  // No deadline in these two (speed is measured in bench/, not asserted in spec/): both took seconds when each repeat searched from the start.
  it('keys 20,000 spans of one id uniquely, skipping a key an id already took', () => {
    const id = '00000000000000a1'; // as the store has ids: 16 hex digits
    const spans = [span(`${id}:3`, undefined, 0, 1), ...Array.from({ length: 20_000 }, (_, i) => span(id, undefined, i + 1, 1, { localEndpoint: { serviceName: `s${i}` } }))];
    const tree = buildTraceTree(spans);
    expect(tree.nodes).toHaveLength(spans.length);
    expect(new Set(tree.nodes.map((n) => n.span))).toEqual(new Set(spans));
    const keys = tree.nodes.map((n) => n.key);
    expect(new Set(keys).size).toBe(spans.length);
    const keyOf = new Map(tree.nodes.map((n) => [n.span, n.key]));
    expect([1, 2, 3, 20_000].map((i) => keyOf.get(spans[i]!))).toEqual([id, `${id}:2`, `${id}:4`, `${id}:20001`]);
  });

  it('hangs each of 10,000 children under the one of 10,000 servers sharing its parent id that is in its service', () => {
    const n = 10_000;
    const client = span('a', undefined, 0, 100, { kind: 'CLIENT', localEndpoint: { serviceName: 'front' } });
    const servers = Array.from({ length: n }, (_, i) => span('a', undefined, 1, 50, { kind: 'SERVER', shared: true, localEndpoint: { serviceName: `s${i}` } }));
    const children = Array.from({ length: n }, (_, i) => span(`c${i}`, 'a', 2, 1, { localEndpoint: { serviceName: `s${n - 1 - i}` } }));
    const stranger = span('x', 'a', 3, 1, { localEndpoint: { serviceName: 'elsewhere' } });
    const spans = [client, ...servers, ...children, stranger];
    const tree = buildTraceTree(spans);
    expect(tree.nodes).toHaveLength(spans.length);
    expect(new Set(tree.nodes.map((n) => n.span))).toEqual(new Set(spans));
    const nodeOf = new Map(tree.nodes.map((node) => [node.span, node]));
    for (const server of servers) expect(nodeOf.get(server)!.parent!.span).toBe(client);
    for (let i = 0; i < n; i++) expect(nodeOf.get(children[i]!)!.parent!.span).toBe(servers[n - 1 - i]);
    // No server in its service: the first server.
    expect(nodeOf.get(stranger)!.parent!.span).toBe(servers[0]);
  });

  it('builds a 10,000-deep chain without recursion', () => {
    const spans: StoredSpan[] = [];
    for (let i = 0; i < 10_000; i++) spans.push(span(i.toString(16).padStart(16, '0'), i === 0 ? undefined : (i - 1).toString(16).padStart(16, '0'), i, 10_000 - i));
    const tree = buildTraceTree(spans.reverse());
    expect(tree.nodes).toHaveLength(10_000);
    expect(tree.nodes[9_999]!.depth).toBe(9_999);
    expect(tree.roots).toHaveLength(1);
  });

  it('survives a 10,000-span cycle', () => {
    const id = (i: number) => i.toString(16).padStart(16, '0');
    const spans = Array.from({ length: 10_000 }, (_, i) => span(id(i), id((i + 1) % 10_000), i, 1));
    const tree = buildTraceTree(spans);
    expect(tree.nodes).toHaveLength(10_000);
    expect(tree.roots.map((n) => [n.key, n.orphan])).toEqual([[id(0), true]]);
  });

  it('reads times and services defensively', () => {
    expect(timestampOf({ traceId: TRACE, id: 'a', timestamp: Number.NaN })).toBeUndefined();
    expect(timestampOf({ traceId: TRACE, id: 'a', timestamp: -1 })).toBeUndefined();
    expect(timestampOf({ traceId: TRACE, id: 'a', timestamp: '5' as unknown as number })).toBeUndefined();
    expect(timestampOf({ traceId: TRACE, id: 'a', timestamp: 5 })).toBe(5);
    expect(durationOf({ traceId: TRACE, id: 'a' })).toBe(0);
    expect(durationOf({ traceId: TRACE, id: 'a', duration: Infinity })).toBe(0);
    expect(durationOf({ traceId: TRACE, id: 'a', duration: 7 })).toBe(7);
    expect(serviceOf({ traceId: TRACE, id: 'a' })).toBe('unknown');
    expect(serviceOf({ traceId: TRACE, id: 'a', localEndpoint: { serviceName: '' } })).toBe('unknown');
    expect(serviceOf({ traceId: TRACE, id: 'a', localEndpoint: { serviceName: 'x' } })).toBe('x');
  });

  it('orders nodes without timestamps last and by key', () => {
    const [a, b, c] = buildTraceTree([span('b', undefined), span('a', undefined), span('c', undefined, 1, 1)]).roots;
    expect([a!.key, b!.key, c!.key]).toEqual(['c', 'a', 'b']);
    expect(compareNodes(a!, a!)).toBe(0);
  });
});
