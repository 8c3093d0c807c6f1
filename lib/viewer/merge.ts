/**
 * Zipkin's clean-up of one trace before it is shown or linked
 * (`zipkin2.internal.Trace.merge`): tracers may report one span in several
 * parts (a client's start and its finish, tags sent late), and a B3 server
 * may share its client's span id. This merges the parts of each span, keeps
 * client and shared server apart, and repairs what Zipkin repairs.
 */
import type { Endpoint, ZipkinAnnotation } from '../types.js';
import { sortAnnotations, tagObject } from './span-json.js';
import type { StoredSpan } from './types.js';

/**
 * Merges a trace's spans as Zipkin does.
 *
 * - Spans are sorted by id; for one id, unshared before shared, a CLIENT
 *   first among the unshared, then spans without a local endpoint before
 *   those with one (by service name, IPv4, IPv6).
 * - Adjacent spans with one id and one `shared` flag merge when their local
 *   endpoints agree (each field equal, or missing on one side): missing
 *   fields are filled from the later part, endpoints merged field by field,
 *   annotations unioned (sorted, de-duplicated), tags unioned (a later part's
 *   value wins), `debug`/`shared` true if either says so.
 * - The trace id becomes the first 128-bit one found (some hops truncate to
 *   64 bits), on every span.
 * - A SERVER after a CLIENT of the same id gets `shared`, and a shared span
 *   missing its parent id takes the client's.
 *
 * @param spans spans of one trace (one trace id, or its 64- and 128-bit forms).
 * @returns a new array in the order above; the input is not changed. Spans
 *   that were not changed are returned as they were given.
 */
export function mergeTrace(spans: readonly StoredSpan[]): StoredSpan[] {
  if (spans.length <= 1) return [...spans];
  const result = [...spans].sort(compareForCleanup);

  let traceId = result[0]!.traceId;
  for (let i = 1; i < result.length && traceId.length !== 32; i++) traceId = result[i]!.traceId;

  const out: StoredSpan[] = [];
  let last: StoredSpan | undefined;
  for (let i = 0; i < result.length; i++) {
    let span = result[i]!;
    let shared = span.shared === true;
    let replacement: StoredSpan | undefined = span.traceId === traceId ? undefined : { ...span, traceId };

    // Absorb the following parts of this span while they look like the same operation on the same host.
    let tracker: EndpointTracker | undefined;
    let run: PartMerger | undefined;
    while (i + 1 < result.length) {
      const next = result[i + 1]!;
      if (next.id !== span.id) break;
      tracker ??= new EndpointTracker(span.localEndpoint);
      if ((next.shared === true) !== shared || !tracker.tryMerge(next.localEndpoint)) break;
      run ??= new PartMerger(replacement ?? { ...span, traceId });
      run.add(next);
      i++;
    }
    if (run !== undefined) replacement = run.build();

    if (last !== undefined && last.id === span.id) {
      // Not every instrumentation marks the server side of a shared id; the client-first order lets us.
      if (last.kind === 'CLIENT' && span.kind === 'SERVER' && !shared) {
        shared = true;
        replacement = { ...(replacement ?? span), shared: true };
      }
      // A server that was not propagated its parent id: the client's parent is its parent.
      const current = replacement ?? span;
      if (shared && current.parentId === undefined && last.parentId !== undefined) {
        replacement = withParent(current, last.parentId);
      }
    }

    if (replacement !== undefined) span = finish(replacement);
    out.push(span);
    last = span;
  }
  return out;
}

/**
 * Zipkin's `Span.Builder.merge` over a run of parts: fills what the first
 * lacks from each later part. Tags and annotations are gathered in one map
 * and one list for the whole run and built once at the end (annotations are
 * sorted by {@link finish}), so 20,000 parts of one span cost linear time,
 * not a copy and a sort per part.
 */
class PartMerger {
  /** Tag key → value, a later part's value winning; created at the first part with a tag. */
  #tags: Map<string, string> | undefined;
  /** The run's annotations, each (timestamp, value) once; created at the first part with annotations. */
  #annotations: { list: ZipkinAnnotation[]; seen: Set<string> } | undefined;
  readonly #into: StoredSpan;

  /** @param into the first part, a fresh copy: it is changed and becomes the merged span. */
  constructor(into: StoredSpan) {
    this.#into = into;
  }

  add(part: StoredSpan): void {
    const into = this.#into;
    if (into.parentId === undefined && part.parentId !== undefined) into.parentId = part.parentId;
    if (into.kind === undefined && part.kind !== undefined) into.kind = part.kind;
    if (into.name === undefined && part.name !== undefined) into.name = part.name;
    if (into.timestamp === undefined && part.timestamp !== undefined) into.timestamp = part.timestamp;
    if (into.duration === undefined && part.duration !== undefined) into.duration = part.duration;
    const local = mergeEndpoint(into.localEndpoint, part.localEndpoint);
    if (local !== undefined) into.localEndpoint = local;
    const remote = mergeEndpoint(into.remoteEndpoint, part.remoteEndpoint);
    if (remote !== undefined) into.remoteEndpoint = remote;
    if (part.annotations !== undefined && part.annotations.length > 0) {
      if (this.#annotations === undefined) {
        this.#annotations = { list: [], seen: new Set() };
        addAnnotations(this.#annotations, into.annotations ?? []);
      }
      addAnnotations(this.#annotations, part.annotations);
    }
    if (part.tags !== undefined) {
      const keys = Object.keys(part.tags);
      if (keys.length > 0) {
        this.#tags ??= new Map(into.tags === undefined ? [] : Object.entries(into.tags));
        for (const key of keys) this.#tags.set(key, part.tags[key]!);
      }
    }
    if (part.debug === true) into.debug = true;
    if (part.shared === true) into.shared = true;
  }

  /** The merged span: tags sorted by key (safe for keys such as `__proto__`); annotations are left to {@link finish} to sort. */
  build(): StoredSpan {
    const into = this.#into;
    if (this.#annotations !== undefined) into.annotations = this.#annotations.list;
    if (this.#tags !== undefined) into.tags = tagObject([...this.#tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return into;
  }
}

/** Appends the annotations not already in `to` (same timestamp and value), in order. */
function addAnnotations(to: { list: ZipkinAnnotation[]; seen: Set<string> }, annotations: readonly ZipkinAnnotation[]): void {
  for (const annotation of annotations) {
    const key = `${annotation.timestamp}\u0000${annotation.value}`;
    if (to.seen.has(key)) continue;
    to.seen.add(key);
    to.list.push(annotation);
  }
}

function mergeEndpoint(a: Endpoint | undefined, b: Endpoint | undefined): Endpoint | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const out: Endpoint = { ...a };
  if (out.serviceName === undefined && b.serviceName !== undefined) out.serviceName = b.serviceName;
  if (out.ipv4 === undefined && b.ipv4 !== undefined) out.ipv4 = b.ipv4;
  if (out.ipv6 === undefined && b.ipv6 !== undefined) out.ipv6 = b.ipv6;
  if (out.port === undefined && b.port !== undefined) out.port = b.port;
  return out;
}

function withParent(span: StoredSpan, parentId: string): StoredSpan {
  // Rebuilt to keep the field order of Zipkin's JSON (parentId before id).
  const { traceId, ...rest } = span;
  return { traceId, parentId, ...rest };
}

/** Zipkin's `Span.Builder.build` rules, applied after a merge: no self-parent, no shared client, sorted annotations. */
function finish(span: StoredSpan): StoredSpan {
  if (span.parentId === span.id) delete span.parentId;
  if (span.shared === true && span.kind === 'CLIENT') delete span.shared;
  if (span.annotations !== undefined) span.annotations = sortAnnotations(span.annotations);
  return span;
}

/**
 * Tracks the local endpoint a run of parts has so far: a part whose endpoint
 * contradicts it (a different service, IP or port) is another host.
 */
class EndpointTracker {
  private serviceName: string | undefined;
  private ipv4: string | undefined;
  private ipv6: string | undefined;
  private port: number | undefined;

  constructor(first: Endpoint | undefined) {
    this.tryMerge(first);
  }

  tryMerge(endpoint: Endpoint | undefined): boolean {
    if (endpoint === undefined) return true;
    if (conflicts(this.serviceName, endpoint.serviceName) || conflicts(this.ipv4, endpoint.ipv4) || conflicts(this.ipv6, endpoint.ipv6) || conflicts(this.port, endpoint.port)) {
      return false;
    }
    this.serviceName ??= endpoint.serviceName;
    this.ipv4 ??= endpoint.ipv4;
    this.ipv6 ??= endpoint.ipv6;
    this.port ??= endpoint.port;
    return true;
  }
}

function conflicts<T>(known: T | undefined, next: T | undefined): boolean {
  return known !== undefined && next !== undefined && known !== next;
}

/** Zipkin's CLEANUP_COMPARATOR: by id, then client/unshared first, then endpoint (missing first). */
function compareForCleanup(left: StoredSpan, right: StoredSpan): number {
  if (left.id !== right.id) return left.id < right.id ? -1 : 1;
  return compareShared(left, right) || compareEndpoint(left.localEndpoint, right.localEndpoint);
}

function compareShared(left: StoredSpan, right: StoredSpan): number {
  const leftShared = left.shared === true;
  const rightShared = right.shared === true;
  if (leftShared || rightShared) return leftShared === rightShared ? 0 : leftShared ? 1 : -1;
  const leftClient = left.kind === 'CLIENT';
  const rightClient = right.kind === 'CLIENT';
  return leftClient === rightClient ? 0 : leftClient ? -1 : 1;
}

function compareEndpoint(left: Endpoint | undefined, right: Endpoint | undefined): number {
  if (left === undefined) return right === undefined ? 0 : -1;
  if (right === undefined) return 1;
  return compareMissingLast(left.serviceName, right.serviceName) || compareMissingLast(left.ipv4, right.ipv4) || compareMissingLast(left.ipv6, right.ipv6);
}

/** Inside an endpoint Zipkin puts a missing field last. */
function compareMissingLast(left: string | undefined, right: string | undefined): number {
  if (left === undefined) return right === undefined ? 0 : 1;
  if (right === undefined) return -1;
  return left < right ? -1 : left > right ? 1 : 0;
}
