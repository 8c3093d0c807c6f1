/**
 * Hints of where a trace loses time, found in its analysed rows:
 *
 * - **repeated**: at least `minRepeat` (3) siblings with the same service and
 *   name under one parent: the N+1 shape. Sequential when their calls hardly
 *   overlap (the union of their intervals is at least `sequentialCover`, 75%,
 *   of the sum of their durations), else they ran in parallel, which is said.
 * - **gap**: a stretch inside a parent where none of its children runs, at
 *   least `gapFraction` (20%) of the parent's duration and at least `minGap`
 *   (1 ms): the parent waits on something it did not trace (or computes).
 *   Before its first child and after its last, where a server routes and
 *   serialises, the bar is higher: `edgeGapFraction` (40%) and `minEdgeGap`
 *   (5 ms). Only parents with a child that ran count: a leaf's own time is
 *   not a wait. Nor do CLIENT and PRODUCER parents: the time around the
 *   remote side's span is the network and the other service's framework,
 *   not work the caller left untraced.
 *
 * Also the plain-text helpers the hints and the terminal share: durations in
 * human units, and untrusted text made safe to print.
 */
import type { SpanRow, TraceHint } from './types.js';

/** The thresholds of `findHints`; see the module's comment for what each means. */
export interface HintThresholds {
  /** Siblings with one name that make a 'repeated' hint; default 3. */
  minRepeat: number;
  /** Union of a run's intervals over the sum of its durations at or above which it ran one after another; default 0.75. */
  sequentialCover: number;
  /** A gap must be at least this fraction of its parent's duration; default 0.2. */
  gapFraction: number;
  /** And at least this many microseconds; default 1000. */
  minGap: number;
  /** A gap before the first child or after the last must be at least this fraction of the parent; default 0.4. */
  edgeGapFraction: number;
  /** And at least this many microseconds; default 5000. */
  minEdgeGap: number;
}

/** The thresholds `findHints` uses unless told otherwise. */
export const DEFAULT_HINT_THRESHOLDS: Readonly<HintThresholds> = Object.freeze({ minRepeat: 3, sequentialCover: 0.75, gapFraction: 0.2, minGap: 1000, edgeGapFraction: 0.4, minEdgeGap: 5000 });

/** Names longer than this are cut in messages: a hint is one sentence. */
const MAX_NAME = 80;

/**
 * The hints of a trace's rows (as `analyzeTrace` makes them), most time lost
 * first; ties by start, kind, then keys, so the order is always the same.
 */
export function findHints(rows: readonly SpanRow[], thresholds: Partial<HintThresholds> = {}): TraceHint[] {
  const limits = { ...DEFAULT_HINT_THRESHOLDS, ...thresholds };
  const byKey = new Map<string, SpanRow>();
  for (const row of rows) byKey.set(row.key, row);
  const hints: TraceHint[] = [];
  for (const parent of rows) {
    const children = parent.childKeys.map((key) => byKey.get(key)).filter((row): row is SpanRow => row !== undefined);
    if (children.length === 0) continue;
    repeatedHints(parent, children, limits, hints);
    gapHints(parent, children, limits, hints);
  }
  return hints.sort(
    (a, b) =>
      b.duration - a.duration ||
      a.offset - b.offset ||
      (a.kind === b.kind ? 0 : a.kind === 'repeated' ? -1 : 1) ||
      compareText(a.parentKey, b.parentKey) ||
      compareText(a.keys.join(' '), b.keys.join(' ')),
  );
}

function repeatedHints(parent: SpanRow, children: SpanRow[], limits: HintThresholds, hints: TraceHint[]): void {
  if (children.length < limits.minRepeat) return;
  const groups = new Map<string, SpanRow[]>();
  for (const child of children) {
    const name = child.span.name;
    if (typeof name !== 'string' || name === '') continue; // unnamed spans say nothing repeated
    const id = JSON.stringify([child.service, name]);
    const group = groups.get(id);
    if (group === undefined) groups.set(id, [child]);
    else group.push(child);
  }
  for (const group of groups.values()) {
    if (group.length < limits.minRepeat) continue;
    const placed = group.filter(isPlaced).sort((a, b) => a.offset - b.offset);
    const first = placed[0]?.offset ?? parent.offset;
    const last = placed.reduce((end, row) => Math.max(end, row.offset + row.duration), first);
    const sum = placed.reduce((total, row) => total + row.duration, 0);
    const union = unionLength(placed);
    const sequential = sum === 0 || union >= limits.sequentialCover * sum;
    const what = `${group.length} × ${quote(group[0]!.span.name)} under ${quote(parent.span.name)}`;
    const message = sequential
      ? `${what} one after another: ${formatDuration(sum)}; an N+1 query? one batched call may do`
      : `${what} in parallel: ${formatDuration(last - first)} from the first start to the last end (${formatDuration(sum)} of calls); one batched call may still do`;
    hints.push({ kind: 'repeated', parentKey: parent.key, keys: group.map((row) => row.key), offset: first, duration: last - first, message });
  }
}

function gapHints(parent: SpanRow, children: SpanRow[], limits: HintThresholds, hints: TraceHint[]): void {
  if (!isPlaced(parent) || parent.duration <= 0 || parent.span.kind === 'CLIENT' || parent.span.kind === 'PRODUCER') return;
  const from = parent.offset;
  const to = parent.offset + parent.duration;
  const ran = children
    .filter(isPlaced)
    .map((row) => ({ row, start: Math.max(row.offset, from), end: Math.min(row.offset + row.duration, to) }))
    .filter((child) => child.end > child.start)
    .sort((a, b) => a.start - b.start || a.end - b.end);
  if (ran.length === 0) return;
  const least = Math.max(limits.minGap, limits.gapFraction * parent.duration);
  const leastAtEdge = Math.max(limits.minEdgeGap, limits.edgeGapFraction * parent.duration);
  let cursor = from;
  let before: SpanRow | undefined; // the child that ended last so far: the one the gap comes after
  let beforeEnd = -Infinity;
  const consider = (end: number, after: SpanRow | undefined): void => {
    if (end - cursor < (before === undefined || after === undefined ? leastAtEdge : least)) return;
    const either = [before, after].filter((row): row is SpanRow => row !== undefined);
    const where =
      before !== undefined && after !== undefined
        ? `between ${quote(before.span.name)} and ${quote(after.span.name)}`
        : after !== undefined
          ? `before ${quote(after.span.name)}`
          : `after ${quote(before!.span.name)}`;
    const message = `${quote(parent.span.name)} waits ${formatDuration(end - cursor)} on nothing it traced, ${where}`;
    hints.push({ kind: 'gap', parentKey: parent.key, keys: either.map((row) => row.key), offset: cursor, duration: end - cursor, message });
  };
  for (const child of ran) {
    if (child.start > cursor) consider(child.start, child.row);
    if (child.end > beforeEnd) {
      before = child.row;
      beforeEnd = child.end;
    }
    cursor = Math.max(cursor, child.end);
  }
  if (to > cursor) consider(to, undefined);
}

/** A row with a real timestamp: one without is drawn somewhere, but where it ran is unknown. */
function isPlaced(row: SpanRow): boolean {
  return typeof row.span.timestamp === 'number' && Number.isFinite(row.span.timestamp);
}

function unionLength(sorted: readonly SpanRow[]): number {
  let total = 0;
  let end = -Infinity;
  for (const row of sorted) {
    const finish = row.offset + row.duration;
    if (finish <= end) continue;
    total += finish - Math.max(row.offset, end);
    end = finish;
  }
  return total;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A span name in quotes for a sentence: made printable, cut when long, '(unnamed)' when absent. */
function quote(name: string | undefined): string {
  return `'${plainText(typeof name === 'string' && name !== '' ? name : '(unnamed)', MAX_NAME)}'`;
}

/**
 * A duration in microseconds in human units, three significant digits:
 * '850 µs', '48.1 ms', '1.25 s'.
 */
export function formatDuration(micros: number): string {
  if (!Number.isFinite(micros) || micros < 0) return '?';
  if (micros < 1000) return `${Math.round(micros)} µs`;
  const [value, unit] = micros < 1e6 ? [micros / 1000, 'ms'] : [micros / 1e6, 's'];
  // 999.96 ms rounds to '1000 ms' rather than jump units: exact enough, and never longer than 7 characters up to 999 s.
  const digits = value < 10 ? 2 : value < 100 ? 1 : 0;
  return `${value.toFixed(digits)} ${unit}`;
}

/**
 * Untrusted text made safe to print as one line: C0 and C1 controls (ESC of
 * ANSI sequences, CR, BEL…), DEL, and bidirectional overrides removed; tabs
 * and newlines become spaces. With `max`, cut to that many characters with '…'.
 */
export function plainText(text: string, max?: number): string {
  const clean = String(text).replace(/[\t\n\r\v\f]/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '');
  if (max === undefined) return clean;
  const chars = Array.from(clean);
  return chars.length <= max ? clean : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}
