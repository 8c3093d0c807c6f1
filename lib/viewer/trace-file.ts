/**
 * Reading a saved trace file for `ziptrace view FILE.json`: what Zipkin's UI
 * and our page download (a JSON list of one trace's spans), a list of spans of
 * several traces, or a list of lists as `GET /api/v2/traces` returns it.
 *
 * Each span goes through Zipkin's strict decoder (`normalizeSpan` of
 * span-json.ts), so a file is taken exactly when Zipkin would take its spans,
 * and what is rendered has hex ids and sane types. Anything wrong is an
 * `InvalidArgumentError` naming the file and the span.
 */
import { InvalidArgumentError } from '../errors.js';
import { normalizeSpan } from './span-json.js';
import type { StoredSpan } from './types.js';

/**
 * Parses a trace file into traces, each a list of its spans (not merged:
 * parts of one span stay apart, as in the file).
 *
 * A flat list is grouped by trace id in the order the traces first appear; a
 * 64-bit trace id joins the 128-bit one it is the lower half of (some hops
 * truncate ids), as Zipkin's merge does. A list of lists is taken as the
 * traces it lists, empty ones left out.
 *
 * @param text the file's contents.
 * @param name the file's name, for messages; default 'trace file'.
 * @throws InvalidArgumentError when the text is not JSON, not a list (of
 *   spans or of lists of spans), or a span is invalid: the message names the
 *   file and the span's index (and the trace's, in a list of lists).
 */
export function readTraceFile(text: string, name = 'trace file'): StoredSpan[][] {
  const fail = (problem: string): never => {
    throw new InvalidArgumentError(`ziptrace: ${name}: ${problem}`);
  };
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    return fail(`not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(value)) return fail('expected a JSON list of spans, or a list of lists of spans (as GET /api/v2/traces returns)');
  if (value.length === 0) return [];

  if (value.every(Array.isArray)) {
    const traces: StoredSpan[][] = [];
    value.forEach((list: unknown[], t) => {
      const spans = list.map((item, i) => checked(item, i, `trace ${t}, `, fail));
      if (spans.length > 0) traces.push(spans);
    });
    return traces;
  }
  const nested = value.findIndex(Array.isArray);
  if (nested >= 0) fail(`item ${nested} is a list but others are not: expected a list of spans, or a list of lists of spans`);
  return groupByTrace(value.map((item, i) => checked(item, i, '', fail)));
}

function checked(item: unknown, index: number, where: string, fail: (problem: string) => never): StoredSpan {
  const span = normalizeSpan(item, index);
  return typeof span === 'string' ? fail(`${where}${span}`) : span;
}

/**
 * Spans grouped by trace id, in order of first appearance. A 64-bit id joins
 * the 128-bit id it is the lower half of, when exactly one such is in the
 * file: two 128-bit traces that share a lower half stay apart.
 */
function groupByTrace(spans: StoredSpan[]): StoredSpan[][] {
  const groups = new Map<string, StoredSpan[]>();
  for (const span of spans) {
    const group = groups.get(span.traceId);
    if (group === undefined) groups.set(span.traceId, [span]);
    else group.push(span);
  }
  const wide = new Map<string, string[]>(); // lower half → the 128-bit ids with it
  for (const id of groups.keys()) {
    if (id.length !== 32) continue;
    const lower = id.slice(16);
    const ids = wide.get(lower);
    if (ids === undefined) wide.set(lower, [id]);
    else ids.push(id);
  }
  const out = new Map<string, StoredSpan[]>();
  for (const [id, group] of groups) {
    const into = id.length === 16 && wide.get(id)?.length === 1 ? wide.get(id)![0]! : id;
    const existing = out.get(into);
    if (existing === undefined) out.set(into, into === id ? group : [...group]);
    // One at a time: spreading a group of 150,000 spans into push() would overflow the call stack.
    else for (const span of group) existing.push(span);
  }
  return [...out.values()];
}
