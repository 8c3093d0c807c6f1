/**
 * The viewer's span storage: what `POST /api/v2/spans` received, kept in
 * memory within a bound, and queried with Zipkin's rules (its
 * `InMemoryStorage` with `strictTraceId=true`, and `QueryRequest.test`).
 *
 * Ingest is cheap: a span is appended to its trace and counted in a few
 * indexes. The costly work (merging a trace's parts) happens when a trace is
 * read, and is cached per trace until the trace receives another span.
 */
import { linkDependencies } from './dependencies.js';
import { mergeTrace } from './merge.js';
import { normalizeTraceId } from './span-json.js';
import type { DependencyLink, StoredSpan, TraceQuery } from './types.js';

/** Options of {@link SpanStore}. */
export interface SpanStoreOptions {
  /**
   * At most this many spans are kept (default 500 000, Zipkin's in-memory
   * default); above it, whole traces are evicted, the first received first.
   */
  maxSpans?: number;
  /**
   * Tag keys whose values are offered for autocompletion (Zipkin's
   * `AUTOCOMPLETE_KEYS`). When given, only these are indexed and listed, as in
   * Zipkin. When absent, every tag key seen is (up to 1000 keys), so the page
   * can suggest without configuration.
   */
  autocompleteKeys?: readonly string[];
}

/** Distinct tag keys indexed for autocompletion when no keys are configured. */
const MAX_AUTOCOMPLETE_KEYS = 1000;
/** Distinct values indexed per autocompletion key. */
const MAX_AUTOCOMPLETE_VALUES = 1000;
/**
 * Values indexed in all, and the longest one indexed: the index outlives
 * evicted spans (as Zipkin's does), so it is bounded on its own, at about
 * 25 MB of text. A value longer than a search box holds is no suggestion.
 */
const MAX_AUTOCOMPLETE_TOTAL = 100_000;
const MAX_AUTOCOMPLETE_LENGTH = 256;

interface TraceEntry {
  /** Normalized trace id: 16 or 32 lower-hex digits. */
  readonly traceId: string;
  /** The lower 64 bits, which Zipkin orders by and links dependencies by. */
  readonly lowId: string;
  /** As received, in order. */
  readonly spans: StoredSpan[];
  /** {@link mergeTrace} of spans, or undefined when spans changed since. */
  merged: StoredSpan[] | undefined;
}

/** What one service's spans name, counted so eviction can take names away again. */
interface ServiceIndex {
  /** Trace id → spans of this service in it. */
  readonly traces: Map<string, number>;
  readonly spanNames: Map<string, number>;
  readonly remoteServiceNames: Map<string, number>;
}

/**
 * Spans in memory, grouped by trace, with Zipkin's queries.
 *
 * Trace ids are strict (Zipkin's `strictTraceId=true`, its default): a
 * 128-bit trace id and its lower 64 bits are different traces. Spans are
 * expected as {@link parseSpans} gives them (normalized ids, lower-case
 * service names, span names as sent); span names are listed and matched
 * lower-cased, as Zipkin stores them. Returned spans and arrays are shared
 * with the store's cache: read them, do not change them.
 */
export class SpanStore {
  readonly #maxSpans: number;
  readonly #configuredKeys: readonly string[] | undefined;
  /** Map order is the order of first receipt: eviction takes from the front. */
  readonly #traces = new Map<string, TraceEntry>();
  readonly #services = new Map<string, ServiceIndex>();
  readonly #autocomplete = new Map<string, Set<string>>();
  #autocompleteTotal = 0;
  #spanCount = 0;
  #evictedSpans = 0;
  #evictedTraces = 0;

  /**
   * @param options the bound and the autocompletion keys; see {@link SpanStoreOptions}.
   * @throws RangeError when `maxSpans` is not a positive integer.
   */
  constructor(options: SpanStoreOptions = {}) {
    const maxSpans = options.maxSpans ?? 500_000;
    if (!Number.isSafeInteger(maxSpans) || maxSpans <= 0) throw new RangeError(`maxSpans must be a positive integer, got ${String(maxSpans)}`);
    this.#maxSpans = maxSpans;
    this.#configuredKeys = options.autocompleteKeys === undefined ? undefined : [...new Set(options.autocompleteKeys)];
    for (const key of this.#configuredKeys ?? []) this.#autocomplete.set(key, new Set());
  }

  /**
   * Stores spans. When the store then holds more than `maxSpans`, whole
   * traces are evicted in the order they were first received (a trace that
   * keeps receiving spans keeps its place), until it does not; that may
   * include a trace just touched when it alone is too big. Exact duplicates
   * are kept (they count towards the bound) and fold together when merged.
   *
   * @param spans normalized spans (from {@link parseSpans}).
   * @returns the ids of the traces touched that are still stored, each once, in first-touched order.
   */
  accept(spans: readonly StoredSpan[]): string[] {
    const touched = new Set<string>();
    for (const span of spans) {
      let entry = this.#traces.get(span.traceId);
      if (entry === undefined) {
        entry = { traceId: span.traceId, lowId: lowTraceId(span.traceId), spans: [], merged: undefined };
        this.#traces.set(span.traceId, entry);
      }
      entry.spans.push(span);
      entry.merged = undefined;
      this.#spanCount++;
      this.#index(span, 1);
      touched.add(span.traceId);
    }
    while (this.#spanCount > this.#maxSpans) this.#evictOldest();
    return [...touched].filter((id) => this.#traces.has(id));
  }

  /** Spans dropped by eviction since the store was made. */
  get evictedSpans(): number {
    return this.#evictedSpans;
  }

  /** Traces dropped by eviction since the store was made. */
  get evictedTraces(): number {
    return this.#evictedTraces;
  }

  /** Spans stored now. */
  get spanCount(): number {
    return this.#spanCount;
  }

  /** Traces stored now (a 128-bit id and its lower half count as two). */
  get traceCount(): number {
    return this.#traces.size;
  }

  /**
   * One trace, merged ({@link mergeTrace}).
   *
   * @param traceId 1 to 32 hex digits in any case; left-padded as Zipkin
   *   normalizes (a 32-digit id with a zero upper half is its lower 16).
   *   Strict: a 16-digit id does not find a 128-bit trace.
   * @returns its spans, or `undefined` when unknown or not a trace id.
   */
  trace(traceId: string): StoredSpan[] | undefined {
    const id = normalizeTraceId(traceId.toLowerCase());
    if (id === undefined) return undefined;
    const entry = this.#traces.get(id);
    return entry === undefined ? undefined : [...this.#merged(entry)];
  }

  /**
   * Several traces, merged, for `GET /api/v2/traceMany`: the known ones, in
   * the order asked, each once; unknown and invalid ids are skipped.
   */
  traceMany(ids: readonly string[]): StoredSpan[][] {
    const seen = new Set<string>();
    const out: StoredSpan[][] = [];
    for (const raw of ids) {
      const id = normalizeTraceId(raw.toLowerCase());
      if (id === undefined || seen.has(id)) continue;
      seen.add(id);
      const entry = this.#traces.get(id);
      if (entry !== undefined) out.push([...this.#merged(entry)]);
    }
    return out;
  }

  /**
   * Traces matching a query, as Zipkin's in-memory storage finds them:
   *
   * 1. Candidates are traces with a span whose timestamp (in ms; a span
   *    without one counts as 0) is in `[endTs - lookback, endTs]` (and, with
   *    `serviceName`, that have a span of the service). They are ranked by the
   *    latest such timestamp, newest first (ties: higher trace id first).
   * 2. Each candidate, merged, must pass `QueryRequest.test`: the trace's
   *    timestamp (its root span's, else its earliest) is in the window; and
   *    among the spans of `serviceName` (all spans when unset) one has the
   *    `remoteServiceName`, one the `spanName`, one a duration in
   *    `[minDuration, maxDuration]`, and every annotationQuery term is met by
   *    some span (a bare key: an annotation value or tag key; key=value: a tag).
   * 3. At most `limit` traces.
   */
  traces(query: TraceQuery): StoredSpan[][] {
    const beginMs = query.endTs - query.lookback;
    const candidates: { entry: TraceEntry; rank: number }[] = [];
    const pool = query.serviceName === undefined ? this.#traces.keys() : (this.#services.get(query.serviceName)?.traces.keys() ?? [].values());
    for (const id of pool) {
      const entry = this.#traces.get(id)!;
      let rank = -Infinity;
      for (const span of entry.spans) {
        const ms = Math.floor((span.timestamp ?? 0) / 1000);
        if (ms >= beginMs && ms <= query.endTs && ms > rank) rank = ms;
      }
      if (rank !== -Infinity) candidates.push({ entry, rank });
    }
    candidates.sort((a, b) => b.rank - a.rank || compareDescending(a.entry.lowId, b.entry.lowId) || compareDescending(a.entry.traceId, b.entry.traceId));

    const out: StoredSpan[][] = [];
    for (const { entry } of candidates) {
      if (out.length >= query.limit) break;
      const spans = this.#merged(entry);
      if (matches(query, spans)) out.push([...spans]);
    }
    return out;
  }

  /** Local service names of the stored spans, sorted. */
  serviceNames(): string[] {
    return [...this.#services.keys()].sort();
  }

  /** Span names of a service's spans, lower-cased (as Zipkin stores them) and sorted; the service name is lower-cased first, as Zipkin does. */
  spanNames(serviceName: string): string[] {
    return [...(this.#services.get(serviceName.toLowerCase())?.spanNames.keys() ?? [])].sort();
  }

  /** Remote service names a service's spans name, sorted; the service name is lower-cased first. */
  remoteServiceNames(serviceName: string): string[] {
    return [...(this.#services.get(serviceName.toLowerCase())?.remoteServiceNames.keys() ?? [])].sort();
  }

  /**
   * Tag keys offered for autocompletion: the configured keys as given (as
   * Zipkin returns them, seen or not), else every tag key seen, sorted.
   * Values stay indexed after their spans are evicted, as in Zipkin.
   */
  autocompleteKeys(): string[] {
    return this.#configuredKeys !== undefined ? [...this.#configuredKeys] : [...this.#autocomplete.keys()].sort();
  }

  /** Values seen for an autocompletion key, sorted; `[]` for a key that is not indexed. */
  autocompleteValues(key: string): string[] {
    return [...(this.#autocomplete.get(key) ?? [])].sort();
  }

  /**
   * Dependency links ({@link linkDependencies}) of the traces with a span
   * whose timestamp (ms; none counts as 0) is in `[endTs - lookback, endTs]`.
   * As in Zipkin, traces are grouped by the lower 64 bits of their id here, so
   * a trace reported with both id lengths is counted once.
   */
  dependencies(endTs: number, lookback: number): DependencyLink[] {
    const beginMs = endTs - lookback;
    const groups = new Map<string, StoredSpan[]>();
    for (const entry of this.#traces.values()) {
      const inWindow = entry.spans.some((span) => {
        const ms = Math.floor((span.timestamp ?? 0) / 1000);
        return ms >= beginMs && ms <= endTs;
      });
      if (!inWindow) continue;
      const group = groups.get(entry.lowId);
      if (group === undefined) groups.set(entry.lowId, [...entry.spans]);
      else for (const span of entry.spans) group.push(span);
    }
    return linkDependencies([...groups.values()]);
  }

  /** Every stored span as received (unmerged), trace by trace in order of first receipt: what persistence writes. */
  allSpans(): StoredSpan[] {
    const out: StoredSpan[] = [];
    for (const entry of this.#traces.values()) for (const span of entry.spans) out.push(span);
    return out;
  }

  #merged(entry: TraceEntry): StoredSpan[] {
    entry.merged ??= mergeTrace(entry.spans);
    return entry.merged;
  }

  #evictOldest(): void {
    const first = this.#traces.values().next();
    if (first.done === true) return;
    const entry = first.value;
    this.#traces.delete(entry.traceId);
    for (const span of entry.spans) this.#index(span, -1);
    this.#spanCount -= entry.spans.length;
    this.#evictedSpans += entry.spans.length;
    this.#evictedTraces++;
  }

  /** Adds (delta 1) or removes (delta -1) one span's entries in the name indexes. */
  #index(span: StoredSpan, delta: 1 | -1): void {
    const service = span.localEndpoint?.serviceName;
    if (service !== undefined) {
      let index = this.#services.get(service);
      if (index === undefined) {
        index = { traces: new Map(), spanNames: new Map(), remoteServiceNames: new Map() };
        this.#services.set(service, index);
      }
      count(index.traces, span.traceId, delta);
      if (span.name !== undefined) count(index.spanNames, span.name.toLowerCase(), delta);
      const remote = span.remoteEndpoint?.serviceName;
      if (remote !== undefined) count(index.remoteServiceNames, remote, delta);
      if (index.traces.size === 0) this.#services.delete(service);
    }
    if (delta === 1 && span.tags !== undefined) this.#indexTags(span.tags);
  }

  #indexTags(tags: Record<string, string>): void {
    for (const key of Object.keys(tags)) {
      let values = this.#autocomplete.get(key);
      if (values === undefined) {
        if (this.#configuredKeys !== undefined || this.#autocomplete.size >= MAX_AUTOCOMPLETE_KEYS) continue;
        this.#autocomplete.set(key, (values = new Set()));
      }
      const value = tags[key]!;
      if (values.size >= MAX_AUTOCOMPLETE_VALUES || value.length > MAX_AUTOCOMPLETE_LENGTH || this.#autocompleteTotal >= MAX_AUTOCOMPLETE_TOTAL || values.has(value)) continue;
      values.add(value);
      this.#autocompleteTotal++;
    }
  }
}

/** Zipkin's `QueryRequest.test`, over one merged trace. */
function matches(query: TraceQuery, spans: readonly StoredSpan[]): boolean {
  // The trace's time: its root span's timestamp, else its earliest.
  let timestamp = 0;
  for (const span of spans) {
    const ts = span.timestamp ?? 0;
    if (ts === 0) continue;
    if (span.parentId === undefined) {
      timestamp = ts;
      break;
    }
    if (timestamp === 0 || timestamp > ts) timestamp = ts;
  }
  if (timestamp === 0 || timestamp < (query.endTs - query.lookback) * 1000 || timestamp > query.endTs * 1000) return false;

  const { serviceName, minDuration, maxDuration } = query;
  let serviceFound = serviceName === undefined;
  let remoteToMatch = query.remoteServiceName;
  let nameToMatch = query.spanName;
  let durationFound = minDuration === undefined && maxDuration === undefined;
  const remaining = new Map(Object.entries(query.annotationQuery ?? {}));

  for (const span of spans) {
    // The service name, when given, constrains every other condition to its spans.
    if (serviceName !== undefined && span.localEndpoint?.serviceName !== serviceName) continue;
    serviceFound = true;
    for (const annotation of span.annotations ?? []) if (remaining.get(annotation.value) === '') remaining.delete(annotation.value);
    if (span.tags !== undefined) {
      for (const key of Object.keys(span.tags)) {
        const wanted = remaining.get(key);
        if (wanted !== undefined && (wanted === '' || wanted === span.tags[key])) remaining.delete(key);
      }
    }
    if (remoteToMatch !== undefined && remoteToMatch === span.remoteEndpoint?.serviceName) remoteToMatch = undefined;
    if (nameToMatch !== undefined && nameToMatch === span.name?.toLowerCase()) nameToMatch = undefined;
    if (!durationFound && minDuration !== undefined) {
      const duration = span.duration ?? 0;
      durationFound = duration >= minDuration && (maxDuration === undefined || duration <= maxDuration);
    }
  }
  return serviceFound && remoteToMatch === undefined && nameToMatch === undefined && remaining.size === 0 && durationFound;
}

function count(map: Map<string, number>, key: string, delta: 1 | -1): void {
  const next = (map.get(key) ?? 0) + delta;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}

function lowTraceId(traceId: string): string {
  return traceId.length === 32 ? traceId.slice(16) : traceId;
}

function compareDescending(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}
