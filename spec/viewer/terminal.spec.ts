/**
 * The terminal waterfall: what each line shows, that no line is wider than
 * asked (wide characters counted as two columns), that colour is all or
 * nothing, that untrusted names cannot inject escape sequences, and that a
 * 10,000-deep chain renders.
 */
import { describe, expect, it } from 'vitest';
import { analyzeTrace } from '../../lib/viewer/analysis.js';
import { displayWidth, renderTrace } from '../../lib/viewer/terminal.js';
import type { StoredSpan, TraceView } from '../../lib/viewer/types.js';

const T = 1_700_000_000_000_000;
const TRACE = '5af7183fb1d4cf5f';

function span(id: string, parentId: string | undefined, start: number | undefined, duration: number | undefined, name: string, service = 'api', extra: Partial<StoredSpan> = {}): StoredSpan {
  const out: StoredSpan = { traceId: TRACE, id, name, localEndpoint: { serviceName: service }, ...extra };
  if (parentId !== undefined) out.parentId = parentId;
  if (start !== undefined) out.timestamp = T + start;
  if (duration !== undefined) out.duration = duration;
  return out;
}

function checkout(): StoredSpan[] {
  const spans = [span('a', undefined, 0, 48_100, 'get /checkout'), span('b', 'a', 1000, 3400, 'slow sql', 'db')];
  for (let i = 0; i < 5; i++) spans.push(span(`c${i}`, 'a', 5000 + i * 2000, 1800, 'select user', 'db'));
  spans.push(span('e', 'a', 40_000, 5000, 'charge', 'payments', { tags: { error: 'card declined' } }));
  spans.push(span('f', 'e', 41_000, 2000, 'post /charge', 'stripe'));
  spans.push(span('g', 'missing', 30_000, 2000, 'orphan work', 'worker'));
  return spans;
}

// An independent measure: escape sequences removed, CJK ideographs and emoji counted as two columns.
const columns = (line: string) => {
  let n = 0;
  for (const ch of line.replace(/\u001b\[[0-9;]*m/g, '')) n += /[\u4e00-\u9fff\u{1f300}-\u{1f64f}]/u.test(ch) ? 2 : /[\u0300-\u036f]/.test(ch) ? 0 : 1;
  return n;
};

describe('renderTrace', () => {
  const view = analyzeTrace(checkout());
  const text = renderTrace(view);
  const lines = text.split('\n');

  it('starts with a header: root service and name, trace id, duration, spans, errors', () => {
    expect(lines[0]).toBe('api: get /checkout · trace 5af7183fb1d4cf5f · 48.1 ms · 10 spans · 1 error');
    expect(lines[1]).toMatch(/^span\s+duration\s+0\s+48\.1 ms$/);
  });

  it('draws one line per row with the tree, service, name, duration, critical mark and bar', () => {
    const rowLines = lines.slice(2, 14);
    expect(rowLines[0]).toMatch(/^api get \/checkout\s+48\.1 ms ● [█░]+$/);
    expect(rowLines[1]).toMatch(/^├─ db slow sql\s+3\.40 ms ● +█+$/);
    expect(rowLines.filter((l) => l.startsWith('├─ db select user'))).toHaveLength(5);
    expect(rowLines[7]).toMatch(/^└─ ✗ payments charge\s+5\.00 ms ● +[█░]+$/);
    // The error's message on its own line, under the row, the tree continuing to its child.
    expect(rowLines[8]).toBe('   │ ✗ card declined');
    expect(rowLines[9]).toMatch(/^ {3}└─ stripe post \/charge\s+2\.00 ms ● +█+$/);
    // The orphan, off the critical path (it ended before the checkout did).
    expect(rowLines[10]).toMatch(/^◌ worker orphan work\s+2\.00 ms {3,}█+$/);
    expect(rowLines[11]).toBe('');
  });

  it('a bar shows own time as █ and time waiting on children as ░, on the trace axis', () => {
    const root = lines[2]!;
    const bar = root.slice(root.indexOf('● ') + 2);
    expect(bar.length).toBeGreaterThan(30);
    expect(bar[0]).toBe('█'); // 0–1 ms: before slow sql starts
    expect(bar).toContain('░');
    const charge = lines[9]!;
    // charge runs 40–45 ms of 48.1: its bar starts at about 83% of the axis.
    const start = charge.indexOf('█') - charge.indexOf('● ') - 2;
    expect(start / bar.length).toBeGreaterThan(0.78);
    expect(start / bar.length).toBeLessThan(0.88);
  });

  it('lists the hints under the rows, wrapped', () => {
    const hints = lines.slice(lines.indexOf('') + 1);
    expect(hints[0]).toBe("→ 'get /checkout' waits 25.2 ms on nothing it traced, between 'select user' and 'charge'");
    expect(hints.join(' ')).toContain("5 × 'select user' under 'get /checkout' one after another: 9.00 ms");
    expect(hints.some((l) => l.startsWith('  '))).toBe(true);
  });

  it('never exceeds the width, at any width', () => {
    for (const width of [20, 30, 39, 40, 41, 60, 80, 100, 160, 7, Number.NaN]) {
      for (const line of renderTrace(view, { width }).split('\n')) expect(columns(line), `width ${width}: ${line}`).toBeLessThanOrEqual(Number.isNaN(width) ? 100 : Math.max(20, width));
      for (const line of renderTrace(view, { width, color: true }).split('\n')) expect(columns(line)).toBeLessThanOrEqual(Number.isNaN(width) ? 100 : Math.max(20, width));
    }
  });

  it('has no escape sequence without color, and colours with it', () => {
    expect(text).not.toMatch(/\u001b/);
    const colored = renderTrace(view, { color: true });
    expect(colored).toContain('\u001b[31m✗\u001b[39m');
    expect(colored).toContain('\u001b[1m');
    expect(colored).toContain('\u001b[33m●\u001b[39m');
    expect(colored.replace(/\u001b\[[0-9;]*m/g, '')).toBe(text);
  });

  it('strips control characters from names, services, messages and hints (no escape injection)', () => {
    const evil = '\u001b]0;pwned\u0007\u001b[2J\u009b31m\r\nname\u202e';
    const spans = [
      span('a', undefined, 0, 10_000, `root${evil}`, `svc${evil}`, { tags: { error: `bad${evil}` } }),
      ...[1, 2, 3].map((i) => span(`b${i}`, 'a', i * 1000, 500, `q${evil}`, 'db')),
    ];
    const out = renderTrace(analyzeTrace(spans), { width: 200 });
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(out).toContain('root]0;pwned[2J31m  name');
    const colored = renderTrace(analyzeTrace(spans), { width: 200, color: true });
    // The only escapes are the ones the renderer writes.
    expect(colored.replace(/\u001b\[(?:1|2|22|31|33|36|39)m/g, '')).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it('measures wide characters as two columns', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('查询用户')).toBe(8);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('🔥')).toBe(2);
    const spans = [span('a', undefined, 0, 100, '查询用户'.repeat(30), '服务'), span('b', 'a', 10, 10, '🔥'.repeat(50), 'db')];
    for (const line of renderTrace(analyzeTrace(spans), { width: 60 }).split('\n')) expect(columns(line)).toBeLessThanOrEqual(60);
  });

  it('renders a 10,000-deep chain, the tree cut to its deepest levels', () => {
    const id = (i: number) => i.toString(16).padStart(16, '0');
    const chain = Array.from({ length: 10_000 }, (_, i) => span(id(i), i === 0 ? undefined : id(i - 1), i, 20_000 - 2 * i, `op${i}`));
    const out = renderTrace(analyzeTrace(chain), { width: 80, maxRows: 10_000 });
    const rows = out.split('\n');
    expect(rows).toHaveLength(10_002);
    expect(rows[10_001]).toMatch(/^⋯\s+└─ api op9999/);
    for (const line of rows) expect(columns(line)).toBeLessThanOrEqual(80);
  });

  it('draws spans without duration or timestamp, zero-length traces, and no names', () => {
    const spans = [span('a', undefined, 0, 100, ''), span('b', 'a', 50, undefined, 'instant'), span('c', 'a', undefined, 20, 'unplaced')];
    const lines = renderTrace(analyzeTrace(spans), { width: 80 }).split('\n');
    expect(lines[0]).toContain('api: (unnamed)');
    expect(lines[2]).toMatch(/^api \(unnamed\)\s+100 µs ● █+$/);
    expect(lines[3]).toMatch(/^├─ api instant\s+- {3}\s+▏$/);
    expect(lines[4]).toMatch(/^└─ api unplaced\s+20 µs$/);

    const flat = renderTrace(analyzeTrace([span('x', undefined, 0, undefined, 'x')]), { width: 60 }).split('\n');
    expect(flat[0]).toBe('api: x · trace 5af7183fb1d4cf5f · 0 µs · 1 span · 0 errors');
    expect(flat[2]).toMatch(/^api x\s+- {3}▏$/);

    const empty = renderTrace(analyzeTrace([]));
    expect(empty.split('\n')[0]).toBe('unknown: (unnamed) · trace  · 0 µs · 0 spans · 0 errors');
  });

  it('lists at most 20 hints and counts the rest', () => {
    const base = analyzeTrace(checkout());
    const many: TraceView = { ...base, hints: Array.from({ length: 25 }, (_, i) => ({ kind: 'gap' as const, parentKey: 'a', keys: [], offset: i, duration: 1, message: `hint ${i}` })) };
    const out = renderTrace(many).split('\n');
    expect(out.filter((l) => l.startsWith('→ hint'))).toHaveLength(20);
    expect(out[out.length - 1]).toBe('  … and 5 more hints');
  });

  it('wraps a hint with a word longer than a line', () => {
    const base = analyzeTrace(checkout());
    const long: TraceView = { ...base, hints: [{ kind: 'gap', parentKey: 'a', keys: [], offset: 0, duration: 1, message: `short ${'x'.repeat(50)} end` }] };
    const out = renderTrace(long, { width: 30 }).split('\n');
    const hint = out.slice(out.indexOf('') + 1);
    expect(hint).toEqual(['→ short', `  ${'x'.repeat(28)}`, `  ${'x'.repeat(22)} end`]);
  });
});

describe('renderTrace: a huge trace', () => {
  it('draws at most maxRows rows (200 by default) and counts the rest', () => {
    const spans = [span('1', undefined, 0, 1_000_000, 'root')];
    for (let i = 2; i <= 1001; i++) spans.push(span(i.toString(16), '1', i * 10, 5, 'child'));
    const view = analyzeTrace(spans);
    const lines = renderTrace(view, { width: 100 }).split('\n');
    expect(lines.filter((line) => line.includes(' child')).length).toBe(199);
    expect(lines).toContain('… and 801 more spans: open the trace in the viewer');
    expect(renderTrace(view, { width: 100, maxRows: 5 }).split('\n').filter((line) => line.includes(' child')).length).toBe(4);
  });
});
