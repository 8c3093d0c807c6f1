/**
 * The analysis of one trace that the page's waterfall and the terminal both
 * draw: the rows of its tree with offsets, self time, the critical path and
 * errors, its summary, and the hints of where it loses time.
 *
 * Everything is iterative: traces are untrusted and may be 10,000 spans deep.
 */
import { findHints } from './hints.js';
import { buildTraceTree, durationOf, timestampOf, type TraceTree, type TreeNode } from './trace-tree.js';
import type { SpanRow, StoredSpan, TraceSummary, TraceView } from './types.js';

/** A half-open stretch of time, microseconds from the trace's start. */
interface Interval {
  start: number;
  end: number;
}

/**
 * Analyses one trace's merged spans: the waterfall's rows (depth first,
 * siblings by start), self times, the critical path, errors and hints.
 *
 * A span without timestamp is drawn at its parent's offset and counts for
 * nothing in its parent's self time or critical path (where it ran is unknown).
 */
export function analyzeTrace(spans: readonly StoredSpan[]): TraceView {
  const tree = buildTraceTree(spans);
  const { start, end } = traceBounds(spans);
  const rows: SpanRow[] = [];
  const rowOf = new Map<TreeNode, SpanRow>();
  for (const node of tree.nodes) {
    const timestamp = timestampOf(node.span);
    const parentRow = node.parent === undefined ? undefined : rowOf.get(node.parent);
    const row: SpanRow = {
      key: node.key,
      span: node.span,
      service: node.service,
      depth: node.depth,
      childKeys: node.children.map((child) => child.key),
      orphan: node.orphan,
      offset: timestamp === undefined ? (parentRow?.offset ?? 0) : timestamp - start,
      duration: durationOf(node.span),
      selfTime: 0,
      critical: 0,
      error: false,
    };
    if (parentRow !== undefined) row.parentKey = parentRow.key;
    const error = errorOf(node.span);
    if (error !== undefined) {
      row.error = true;
      if (error !== '') row.errorMessage = error;
    }
    rows.push(row);
    rowOf.set(node, row);
  }

  for (const node of tree.nodes) {
    const row = rowOf.get(node)!;
    const children = childIntervals(node, rowOf, row.offset, row.offset + row.duration);
    row.selfTime = row.duration - coveredTime(children);
  }

  const criticalPath = criticalPathOf(tree, rowOf, end - start);
  return {
    ...summaryOf(spans, tree, start, end),
    rows,
    criticalPath,
    hints: findHints(rows),
  };
}

/**
 * The summary of one trace for the page's list: cheaper than `analyzeTrace`
 * (no self time, critical path or hints), with the same root and error rules.
 */
export function summarizeTrace(spans: readonly StoredSpan[]): TraceSummary {
  const { start, end } = traceBounds(spans);
  return summaryOf(spans, buildTraceTree(spans), start, end);
}

function summaryOf(spans: readonly StoredSpan[], tree: TraceTree, start: number, end: number): TraceSummary {
  const realRoots = tree.roots.filter((node) => !node.orphan);
  // With exactly one root it names the trace; otherwise (a trace still arriving, or broken) the earliest span does.
  const root = realRoots.length === 1 ? realRoots[0]! : earliest(tree.nodes);
  const counts = new Map<string, number>();
  let errorCount = 0;
  for (const node of tree.nodes) {
    if (errorOf(node.span) !== undefined) errorCount++;
    // Spans without a service name say nothing about which services took part, so they are not listed.
    if (node.service !== 'unknown' || node.span.localEndpoint?.serviceName === 'unknown') counts.set(node.service, (counts.get(node.service) ?? 0) + 1);
  }
  const services = [...counts]
    .map(([name, spanCount]) => ({ name, spanCount }))
    .sort((a, b) => b.spanCount - a.spanCount || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    traceId: spans[0]?.traceId ?? '',
    start,
    duration: end - start,
    spanCount: spans.length,
    errorCount,
    rootService: root?.service ?? 'unknown',
    rootName: root?.span.name ?? '',
    services,
  };
}

/** The earliest span by timestamp (those without one last), ties by key: what names a trace without one root. */
function earliest(nodes: readonly TreeNode[]): TreeNode | undefined {
  let best: TreeNode | undefined;
  for (const node of nodes) {
    if (best === undefined) {
      best = node;
      continue;
    }
    const a = timestampOf(node.span);
    const b = timestampOf(best.span);
    if (a !== undefined && (b === undefined || a < b || (a === b && node.key < best.key))) best = node;
  }
  return best;
}

/** Epoch microseconds of the earliest start and the latest end; both 0 when no span has a timestamp. */
function traceBounds(spans: readonly StoredSpan[]): { start: number; end: number } {
  let start = Infinity;
  let end = -Infinity;
  for (const span of spans) {
    const timestamp = timestampOf(span);
    if (timestamp === undefined) continue;
    if (timestamp < start) start = timestamp;
    const finish = timestamp + durationOf(span);
    if (finish > end) end = finish;
  }
  return start === Infinity ? { start: 0, end: 0 } : { start, end };
}

/**
 * The error of a span: the `error` tag's value ('' when it only says there was
 * one: empty or 'true'), '' for an 'error' annotation, undefined for none.
 */
export function errorOf(span: StoredSpan): string | undefined {
  const tags = span.tags;
  if (tags !== undefined && tags !== null && typeof tags === 'object' && Object.hasOwn(tags, 'error')) {
    const value = String(tags.error);
    return value.trim() === '' || value.toLowerCase() === 'true' ? '' : value;
  }
  if (Array.isArray(span.annotations) && span.annotations.some((annotation) => annotation?.value === 'error')) return '';
  return undefined;
}

/** The node's children that ran (a timestamp and a duration), clipped to [start, end] and sorted by start. */
function childIntervals(node: TreeNode, rowOf: Map<TreeNode, SpanRow>, start: number, end: number): (Interval & { node: TreeNode })[] {
  const intervals: (Interval & { node: TreeNode })[] = [];
  for (const child of node.children) {
    if (timestampOf(child.span) === undefined) continue;
    const row = rowOf.get(child)!;
    const from = Math.max(row.offset, start);
    const to = Math.min(row.offset + row.duration, end);
    if (to > from) intervals.push({ start: from, end: to, node: child });
  }
  return intervals.sort((a, b) => a.start - b.start || a.end - b.end);
}

/** Microseconds covered by the union of intervals sorted by start: overlapping parallel children count once. */
export function coveredTime(sorted: readonly Interval[]): number {
  let total = 0;
  let from = -Infinity;
  let to = -Infinity;
  for (const { start, end } of sorted) {
    if (start > to) {
      if (to > from) total += to - from;
      from = start;
      to = end;
    } else if (end > to) {
      to = end;
    }
  }
  if (to > from) total += to - from;
  return total;
}

/**
 * The critical path (as Jaeger computes it): from a span's end, walk back; at
 * each point the child that ended last before it is what the span waited for,
 * so descend into it and continue from that child's start; time no such child
 * covers is the span's own. A virtual root over the whole trace makes several
 * roots (or orphans) work the same way. Sets `critical` on each row and
 * returns the keys on the path, from the root down in time order.
 */
function criticalPathOf(tree: TraceTree, rowOf: Map<TreeNode, SpanRow>, traceDuration: number): string[] {
  const visited: { row: SpanRow; start: number }[] = [];
  // A work list, not recursion: the path can be as deep as the trace.
  const work: { node: TreeNode | undefined; start: number; end: number }[] = [{ node: undefined, start: 0, end: traceDuration }];
  while (work.length > 0) {
    const { node, start, end } = work.pop()!;
    const row = node === undefined ? undefined : rowOf.get(node)!;
    if (row !== undefined) visited.push({ row, start });
    const children =
      node === undefined
        ? tree.roots.filter((root) => timestampOf(root.span) !== undefined).map((root) => clip(rowOf.get(root)!, root, start, end)).filter((c) => c.end > c.start)
        : childIntervals(node, rowOf, start, end);
    children.sort((a, b) => b.end - a.end || a.start - b.start);
    let cursor = end;
    for (const child of children) {
      if (child.end > cursor) continue; // it ran alongside the one already chosen, and ended later: it did not hold anything up
      if (row !== undefined) row.critical += cursor - child.end;
      work.push({ node: child.node, start: child.start, end: child.end });
      cursor = child.start;
      if (cursor <= start) break;
    }
    if (row !== undefined) row.critical += Math.max(0, cursor - start);
  }
  // Parents start no later than the children chosen in them; at equal starts the shallower comes first.
  visited.sort((a, b) => a.start - b.start || a.row.depth - b.row.depth);
  return visited.map((entry) => entry.row.key);
}

function clip(row: SpanRow, node: TreeNode, start: number, end: number): Interval & { node: TreeNode } {
  return { start: Math.max(row.offset, start), end: Math.min(row.offset + row.duration, end), node };
}
