/**
 * The shapes the viewer's parts share: the store (what was received, queried
 * with Zipkin's rules), the analysis of one trace (tree, self time, critical
 * path, hints) that both the page and the terminal draw, and the summaries the
 * page lists. Types only: every part imports this, it imports nothing but them.
 */
import type { ZipkinSpan } from '../types.js';

/**
 * A span as the viewer keeps and serves it: Zipkin v2 JSON as received, ids
 * lower-case hex and left-padded (a trace id to 16 or 32 digits, a span id to 16).
 */
export type StoredSpan = ZipkinSpan;

/** A query of `GET /api/v2/traces`, as Zipkin's QueryRequest has it (names lower-cased; times in the units Zipkin's API uses). */
export interface TraceQuery {
  /** Lower-case local service name a span of the trace must have. */
  serviceName?: string;
  /** Lower-case remote service name a span (of serviceName, when given) must have. */
  remoteServiceName?: string;
  /** Lower-case span name a span (of serviceName, when given) must have. */
  spanName?: string;
  /** `annotationQuery` parsed: a key alone matches a tag key or an annotation value; key=value a tag. All must match. */
  annotationQuery?: Record<string, string>;
  /** Microseconds: a span (of serviceName/spanName, when given) lasting at least this long. */
  minDuration?: number;
  /** Microseconds: with minDuration, at most this long. */
  maxDuration?: number;
  /** Epoch milliseconds: the end of the window. */
  endTs: number;
  /** Milliseconds before endTs where the window starts. */
  lookback: number;
  /** At most this many traces, newest first. */
  limit: number;
}

/** A call between two services, as `GET /api/v2/dependencies` returns it. */
export interface DependencyLink {
  parent: string;
  child: string;
  callCount: number;
  errorCount?: number;
}

/** One trace in the page's list of search results. */
export interface TraceSummary {
  traceId: string;
  /** Epoch microseconds of the earliest span start. */
  start: number;
  /** Microseconds from the earliest start to the latest end. */
  duration: number;
  spanCount: number;
  errorCount: number;
  /** The root span's service and name (the earliest span's when there is no root). */
  rootService: string;
  rootName: string;
  /** Spans per service, most first. */
  services: { name: string; spanCount: number }[];
}

/** One span of a trace as drawn: a row of the waterfall. */
export interface SpanRow {
  /** Unique within the trace: the span id, with a suffix for a shared server span (it has its client's id). */
  key: string;
  /** The span, its parts merged. */
  span: StoredSpan;
  /** Local service name, or 'unknown'. */
  service: string;
  /** 0 for a root (or an orphan, whose parent never arrived). */
  depth: number;
  parentKey?: string;
  childKeys: string[];
  /** True when its parent id names a span that is not in the trace. */
  orphan: boolean;
  /** Microseconds from the trace's start. */
  offset: number;
  /** Microseconds; 0 when the span has no duration. */
  duration: number;
  /** Microseconds of its duration not covered by any child. */
  selfTime: number;
  /** Microseconds of this span's own time on the trace's critical path (0 = not on it). */
  critical: number;
  /** Has an `error` tag (its value, or the annotation 'error'). */
  error: boolean;
  errorMessage?: string;
}

/** Where a trace loses time, in words and the rows it is about. */
export interface TraceHint {
  /** 'repeated': a run of same-named sibling spans (N+1); 'gap': the parent waits on nothing it traced. */
  kind: 'repeated' | 'gap';
  /** The parent row the hint is under. */
  parentKey: string;
  /** The rows concerned (the run's spans; for a gap, the spans either side, if any). */
  keys: string[];
  /** Microseconds from the trace's start, and how long. */
  offset: number;
  duration: number;
  /** One sentence, plain text (the page shows it as text, never as markup). */
  message: string;
}

/** One trace, analysed: what the page's waterfall and the terminal draw. */
export interface TraceView extends TraceSummary {
  /** Depth first; siblings by start time. */
  rows: SpanRow[];
  /** Keys of the rows on the critical path, from the root down. */
  criticalPath: string[];
  hints: TraceHint[];
}
