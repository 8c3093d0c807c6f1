/**
 * One analysed trace as a waterfall for the terminal (`ziptrace view`, and the
 * server's log of traces as they settle):
 *
 * ```
 * api: get /users · trace 5af7183fb1d4cf5f · 48.1 ms · 4 spans · 1 error
 * span                                  duration   0                       48.1 ms
 * api get /users                         48.1 ms ● █░██████████████████░░░░░░░████
 * ├─ db select user                      3.40 ms ● ███
 * └─ ✗ cache get                         12.0 ms ●                    █░███████
 *    │ ✗ connection refused
 *    └─ cache connect                    2.00 ms ●                    ███
 *
 * → 'get /users' waits 25.6 ms on nothing it traced, between 'select user' and
 *   'get'
 * ```
 *
 * A bar spans the row's time on the trace's axis: █ where the span itself
 * works (no child running), ░ where it waits on its children; ● marks a row
 * on the critical path; ✗ an error, its message on the line below; ◌ a span
 * whose parent never arrived. The hints follow, wrapped.
 *
 * Every line fits `width` (by display columns: wide CJK and emoji count two),
 * and span names, services and tags are untrusted: control characters are
 * removed before anything is printed, so a span cannot send escape sequences
 * to the terminal. Without `color`, the output has no escape sequence at all.
 */
import { formatDuration, plainText } from './hints.js';
import type { SpanRow, TraceView } from './types.js';

/** How `renderTrace` draws. */
export interface RenderOptions {
  /** Columns; default 100, at least 20. */
  width?: number;
  /** ANSI colours and bold; default false (then no escape sequence at all). */
  color?: boolean;
  /** Rows drawn at most, default 200; the rest are counted in one line (a trace of 100,000 spans is for the page, not a terminal). */
  maxRows?: number;
}

/** At most this many hints are listed; the rest are counted. */
const MAX_HINTS = 20;
const DURATION_WIDTH = 8;

const STYLE = {
  bold: ['\u001b[1m', '\u001b[22m'],
  dim: ['\u001b[2m', '\u001b[22m'],
  red: ['\u001b[31m', '\u001b[39m'],
  yellow: ['\u001b[33m', '\u001b[39m'],
  cyan: ['\u001b[36m', '\u001b[39m'],
} as const;

/**
 * Draws an analysed trace (from `analyzeTrace`) as text: a header, one line
 * per row (plus one for an error's message), then the hints.
 *
 * @returns lines joined by '\n', without a trailing newline.
 */
export function renderTrace(view: TraceView, options: RenderOptions = {}): string {
  const width = Math.max(20, Math.floor(Number.isFinite(options.width) ? options.width! : 100));
  const color = options.color === true;
  const paint = (style: keyof typeof STYLE, text: string): string => (color && text !== '' ? `${STYLE[style][0]}${text}${STYLE[style][1]}` : text);

  // label | duration | critical mark | bar
  const barWidth = width >= 40 ? Math.floor((width - 11) * 0.45) : 0;
  const labelWidth = width - DURATION_WIDTH - 4 - barWidth;
  // The tree takes at most half the label: the names matter more than deep indentation.
  const maxLevels = Math.max(1, Math.floor(labelWidth / 6));

  const lines: string[] = [];
  const errors = view.errorCount === 1 ? '1 error' : `${view.errorCount} errors`;
  const header = [
    `${plainText(view.rootService)}: ${plainText(view.rootName || '(unnamed)')}`,
    `trace ${plainText(view.traceId)}`,
    formatDuration(view.duration),
    view.spanCount === 1 ? '1 span' : `${view.spanCount} spans`,
    errors,
  ].join(' · ');
  lines.push(paint('bold', fit(header, width)));

  if (barWidth > 0) {
    const from = '0';
    const to = formatDuration(view.duration);
    const axis = barWidth > from.length + to.length ? from + ' '.repeat(barWidth - from.length - to.length) + to : '';
    lines.push(paint('dim', `${pad('span', labelWidth)} ${'duration'.padStart(DURATION_WIDTH)}   ${axis}`.trimEnd()));
  }

  const byKey = new Map<string, SpanRow>();
  for (const row of view.rows) byKey.set(row.key, row);
  const onPath = new Set(view.criticalPath);
  const lastChild = new Set<string>();
  for (const row of view.rows) {
    const last = row.childKeys[row.childKeys.length - 1];
    if (last !== undefined) lastChild.add(last);
  }

  // open[d]: the latest row at depth d has siblings after it, so a │ continues below it.
  const open: boolean[] = [];
  const maxRows = Math.max(1, Math.floor(options.maxRows ?? 200));
  for (const [index, row] of view.rows.entries()) {
    if (index === maxRows) {
      lines.push(paint('dim', fit(`… and ${view.rows.length - maxRows} more spans: open the trace in the viewer`, width)));
      break;
    }
    const depth = row.depth;
    open.length = depth + 1;
    open[depth] = row.depth > 0 && !lastChild.has(row.key);
    const tree = depth === 0 ? (row.orphan ? '◌ ' : '') : treePrefix(depth, maxLevels, (d) => (d < depth ? (open[d] ? '│  ' : '   ') : open[d] ? '├─ ' : '└─ '));
    const mark = row.error ? '✗ ' : '';
    const name = plainText(row.span.name || '(unnamed)');
    const text = fit(`${tree}${mark}${plainText(row.service)} ${name}`, labelWidth);
    const label = row.error && color ? text.replace('✗', paint('red', '✗')) : text;
    const duration = fit(row.duration > 0 ? formatDuration(row.duration) : '-', DURATION_WIDTH);
    const critical = onPath.has(row.key);
    let line = `${label}${' '.repeat(labelWidth - displayWidth(text))} ${duration.padStart(DURATION_WIDTH)} ${critical ? paint('yellow', '●') : ' '} `;
    if (barWidth > 0) line += barOf(row, byKey, view.duration, barWidth, critical ? (s) => paint('yellow', s) : (s) => s, (s) => paint('dim', s));
    lines.push(line.trimEnd());

    if (row.errorMessage !== undefined) {
      const hasChildren = row.childKeys.length > 0;
      const under = depth === 0 ? '' : treePrefix(depth, maxLevels, (d) => (open[d] ? '│  ' : '   '));
      const message = fit(`${under}${hasChildren ? '│ ' : '  '}✗ ${plainText(row.errorMessage)}`, width);
      lines.push(color ? message.replace(/✗.*$/, (m) => paint('red', m)) : message);
    }
  }

  if (view.hints.length > 0) {
    lines.push('');
    for (const hint of view.hints.slice(0, MAX_HINTS)) {
      for (const [i, part] of wrap(plainText(hint.message), width - 2).entries()) lines.push(i === 0 ? `${paint('cyan', '→')} ${part}` : `  ${part}`);
    }
    if (view.hints.length > MAX_HINTS) lines.push(`  … and ${view.hints.length - MAX_HINTS} more hints`);
  }
  return lines.join('\n');
}

/**
 * The tree drawing in front of a row at `depth`: one piece per level, only the
 * deepest `maxLevels` of them (with '⋯' in front when cut), so a 10,000-deep
 * chain neither overflows the label nor costs depth² work.
 */
function treePrefix(depth: number, maxLevels: number, piece: (level: number) => string): string {
  const first = Math.max(1, depth - maxLevels + 1);
  let out = first > 1 ? '⋯' : '';
  for (let level = first; level <= depth; level++) out += piece(level);
  return out;
}

/** The row's bar on the trace's axis: █ where it works itself, ░ where a child runs. */
function barOf(row: SpanRow, byKey: Map<string, SpanRow>, total: number, width: number, style: (s: string) => string, dim: (s: string) => string): string {
  const timestamp = row.span.timestamp;
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) return ''; // where it ran is unknown
  const scale = total > 0 ? width / total : 0;
  const startCol = Math.min(width - 1, Math.max(0, Math.floor(row.offset * scale)));
  const endCol = Math.min(width, Math.max(startCol + 1, Math.ceil((row.offset + row.duration) * scale)));
  if (row.duration <= 0 || scale === 0) return ' '.repeat(startCol) + style(row.duration > 0 ? '█' : '▏');

  const from = row.offset;
  const to = row.offset + row.duration;
  const covered = mergedChildren(row, byKey, from, to);
  let out = ' '.repeat(startCol);
  let run = '';
  let runChar = '';
  let next = 0; // index into covered: intervals ending before the column are passed
  for (let col = startCol; col < endCol; col++) {
    const colFrom = Math.max(from, col / scale);
    const colTo = Math.min(to, (col + 1) / scale);
    while (next < covered.length && covered[next]!.end <= colFrom) next++;
    // The column is waiting only if children cover all of the row's time in it.
    let cursor = colFrom;
    for (let i = next; i < covered.length && covered[i]!.start <= cursor && cursor < colTo; i++) cursor = Math.max(cursor, covered[i]!.end);
    const char = cursor >= colTo ? '░' : '█';
    if (char !== runChar && run !== '') {
      out += runChar === '░' ? dim(run) : style(run);
      run = '';
    }
    runChar = char;
    run += char;
  }
  if (run !== '') out += runChar === '░' ? dim(run) : style(run);
  return out;
}

/** The row's placed children, clipped to it, merged into disjoint intervals in order. */
function mergedChildren(row: SpanRow, byKey: Map<string, SpanRow>, from: number, to: number): { start: number; end: number }[] {
  const intervals: { start: number; end: number }[] = [];
  for (const key of row.childKeys) {
    const child = byKey.get(key);
    if (child === undefined || typeof child.span.timestamp !== 'number') continue;
    const start = Math.max(from, child.offset);
    const end = Math.min(to, child.offset + child.duration);
    if (end > start) intervals.push({ start, end });
  }
  intervals.sort((a, b) => a.start - b.start);
  const merged: { start: number; end: number }[] = [];
  for (const interval of intervals) {
    const last = merged[merged.length - 1];
    if (last !== undefined && interval.start <= last.end) last.end = Math.max(last.end, interval.end);
    else merged.push({ ...interval });
  }
  return merged;
}

/** Code point ranges (inclusive) that take no column: combining marks, zero-width spaces and joiners, variation selectors, the BOM. */
const ZERO_WIDTH: readonly (readonly [number, number])[] = [
  [0x0300, 0x036f], [0x1ab0, 0x1aff], [0x1dc0, 0x1dff], [0x200b, 0x200f], [0x20d0, 0x20ff], [0xfe00, 0xfe0f], [0xfe20, 0xfe2f], [0xfeff, 0xfeff],
];
/** Ranges that take two: East Asian wide (Hangul, CJK, fullwidth forms) and the common emoji blocks. U+303F inside them is narrow. */
const DOUBLE_WIDTH: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f], [0x2e80, 0x303e], [0x3040, 0xa4cf], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe30, 0xfe4f], [0xff00, 0xff60], [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f], [0x1f900, 0x1f9ff], [0x20000, 0x3fffd],
];

const within = (code: number, ranges: readonly (readonly [number, number])[]): boolean => ranges.some(([from, to]) => code >= from && code <= to);

/** Columns a character takes: 0 for combining marks and zero-width ones, 2 for East Asian wide and emoji, else 1. */
function charWidth(code: number): number {
  if (within(code, ZERO_WIDTH)) return 0;
  return within(code, DOUBLE_WIDTH) ? 2 : 1;
}

/** Display columns of text without escape sequences (an approximation of wcwidth, enough to keep lines inside the width). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char.codePointAt(0)!);
  return width;
}

/** Text cut to at most `width` columns, with '…' when cut. */
function fit(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const char of text) {
    const w = charWidth(char.codePointAt(0)!);
    if (used + w > width - 1) break;
    out += char;
    used += w;
  }
  return `${out}…`;
}

function pad(text: string, width: number): string {
  const cut = fit(text, width);
  return cut + ' '.repeat(width - displayWidth(cut));
}

/** Words wrapped into lines of at most `width` columns; a word longer than a line is cut into pieces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    let rest = word;
    while (displayWidth(rest) > width) {
      if (line !== '') {
        lines.push(line);
        line = '';
      }
      const head = fit(rest, width + 1).slice(0, -1); // up to width columns, without the '…'
      const piece = head === '' ? Array.from(rest)[0]! : head;
      lines.push(piece);
      rest = rest.slice(piece.length);
    }
    const candidate = line === '' ? rest : `${line} ${rest}`;
    if (displayWidth(candidate) <= width) line = candidate;
    else {
      lines.push(line);
      line = rest;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
