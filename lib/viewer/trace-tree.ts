/**
 * The tree of one trace's spans, with Zipkin's rules (as zipkin2.internal.SpanNode
 * has them): a span without parentId is a root; a span whose parent is not in
 * the trace is an orphan, drawn at depth 0; a shared SERVER span (Zipkin's
 * joined span: same id as its CLIENT) is the child of that client, and a span
 * whose parentId is that id nests under the server side.
 *
 * The spans are untrusted (anything can POST them): duplicate ids, self-parents
 * and cycles are expected, so nothing here recurses and every walk is bounded.
 */
import type { StoredSpan } from './types.js';

/** One span placed in the tree. */
export interface TreeNode {
  /** Unique within the trace: the span id; `${id}:server` for a shared server span; `:2`, `:3`… on a repeat. */
  readonly key: string;
  /** The span as given. */
  readonly span: StoredSpan;
  /** Local service name, or 'unknown'. */
  readonly service: string;
  /** The node it hangs under; undefined at depth 0. */
  parent: TreeNode | undefined;
  /** Sorted by start time (spans without a timestamp last), then key. */
  readonly children: TreeNode[];
  /** Its parentId names no span of the trace (or it was cut out of a cycle, or names itself). */
  orphan: boolean;
  /** 0 for roots and orphans. */
  depth: number;
}

/** The tree: its top-level nodes (roots and orphans) and every node depth first. */
export interface TraceTree {
  /** Depth 0: roots and orphans, sorted as siblings are. */
  readonly roots: TreeNode[];
  /** Every node, depth first, siblings in order: one per span given. */
  readonly nodes: TreeNode[];
}

/** A usable epoch-microseconds timestamp, or undefined: the data is untrusted, NaN or a string must not poison sorting. */
export function timestampOf(span: StoredSpan): number | undefined {
  const value = span.timestamp;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** A usable duration in microseconds; 0 when absent or nonsense. */
export function durationOf(span: StoredSpan): number {
  const value = span.duration;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/** The span's local service name, or 'unknown'. */
export function serviceOf(span: StoredSpan): string {
  const name = span.localEndpoint?.serviceName;
  return typeof name === 'string' && name !== '' ? name : 'unknown';
}

/** Siblings by start time; spans without a timestamp after those with one; then by key so the order never depends on input order. */
export function compareNodes(a: TreeNode, b: TreeNode): number {
  const ta = timestampOf(a.span);
  const tb = timestampOf(b.span);
  if (ta !== tb) {
    if (ta === undefined) return 1;
    if (tb === undefined) return -1;
    return ta - tb;
  }
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * Builds the tree of one trace's (merged) spans. Every span becomes exactly one
 * node; the result never has a cycle.
 */
export function buildTraceTree(spans: readonly StoredSpan[]): TraceTree {
  const nodes = makeNodes(spans);
  linkParents(nodes);
  breakCycles(nodes);

  const roots: TreeNode[] = [];
  for (const node of nodes) {
    if (node.parent === undefined) roots.push(node);
    else node.parent.children.push(node);
  }
  roots.sort(compareNodes);
  for (const node of nodes) node.children.sort(compareNodes);

  // Depth first with an explicit stack: a 10,000-deep chain must not overflow the call stack.
  const ordered: TreeNode[] = [];
  const stack: TreeNode[] = [];
  for (let i = roots.length - 1; i >= 0; i--) stack.push(roots[i]!);
  while (stack.length > 0) {
    const node = stack.pop()!;
    node.depth = node.parent === undefined ? 0 : node.parent.depth + 1;
    ordered.push(node);
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
  }
  return { roots, nodes: ordered };
}

function makeNodes(spans: readonly StoredSpan[]): TreeNode[] {
  const used = new Set<string>();
  // Per base key, the suffix to try next: every suffix below it is taken, so 20,000 repeats of one id stay linear.
  const nextSuffix = new Map<string, number>();
  return spans.map((span) => {
    const base = span.shared === true ? `${span.id}:server` : span.id;
    // Repeated ids (unmerged parts, several servers answering one client, or ids that look like our suffixes) still get unique keys.
    let key = base;
    if (used.has(key)) {
      let n = nextSuffix.get(base) ?? 2;
      while (used.has((key = `${base}:${n}`))) n++;
      nextSuffix.set(base, n + 1);
    }
    used.add(key);
    return { key, span, service: serviceOf(span), parent: undefined, children: [], orphan: false, depth: 0 };
  });
}

function linkParents(nodes: TreeNode[]): void {
  const clients = new Map<string, TreeNode>();
  // Shared servers by id, in order, and by id then service: a lookup per child, not a scan of every server of the id.
  const servers = new Map<string, { all: TreeNode[]; byService: Map<string, TreeNode[]> }>();
  for (const node of nodes) {
    const id = node.span.id;
    if (node.span.shared === true) {
      let index = servers.get(id);
      if (index === undefined) servers.set(id, (index = { all: [], byService: new Map() }));
      index.all.push(node);
      const same = index.byService.get(node.service);
      if (same === undefined) index.byService.set(node.service, [node]);
      else same.push(node);
    } else if (!clients.has(id)) {
      clients.set(id, node);
    }
  }

  for (const node of nodes) {
    const { span } = node;
    if (span.shared === true) {
      // The server side of a joined span hangs under its client, which has the same id.
      const client = clients.get(span.id);
      if (client !== undefined) {
        node.parent = client;
        continue;
      }
      // No client arrived: place it by its parentId like any span.
    }
    const parentId = span.parentId;
    if (parentId === undefined || parentId === '') continue;
    if (parentId === span.id && span.shared !== true) {
      node.orphan = true;
      continue;
    }
    const index = servers.get(parentId);
    // Several servers may answer one client id: prefer the first in this span's own service, else the first (never the span itself).
    const side = index === undefined ? undefined : (firstOther(index.byService.get(node.service), node) ?? firstOther(index.all, node));
    if (side !== undefined) {
      node.parent = side;
      continue;
    }
    const client = clients.get(parentId);
    if (client !== undefined && client !== node) node.parent = client;
    else node.orphan = true;
  }
}

/** The first node of a (non-empty) list that is not `node`: it appears at most once, so the first or the second. */
function firstOther(list: readonly TreeNode[] | undefined, node: TreeNode): TreeNode | undefined {
  if (list === undefined) return undefined;
  return list[0] !== node ? list[0] : list[1];
}

/**
 * Cuts every cycle of parent links (A → B → A, or longer). The member that
 * starts first becomes an orphan: its parent cannot be placed above it.
 */
function breakCycles(nodes: TreeNode[]): void {
  const state = new Map<TreeNode, 1 | 2>(); // 1: on the walk being made, 2: known to reach a root
  for (const start of [...nodes].sort(compareNodes)) {
    const walk: TreeNode[] = [];
    let node: TreeNode | undefined = start;
    while (node !== undefined && state.get(node) === undefined) {
      state.set(node, 1);
      walk.push(node);
      node = node.parent;
    }
    if (node !== undefined && state.get(node) === 1) {
      const cycle = walk.slice(walk.indexOf(node));
      const first = cycle.reduce((a, b) => (compareNodes(b, a) < 0 ? b : a));
      first.parent = undefined;
      first.orphan = true;
    }
    for (const visited of walk) state.set(visited, 2);
  }
}
