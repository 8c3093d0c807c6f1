/**
 * Service dependency links from traces, by Zipkin's rules
 * (`zipkin2.internal.DependencyLinker` over the tree `SpanNode.Builder`
 * makes): links come from SERVER and CONSUMER spans (caller → callee), and
 * from CLIENT and PRODUCER spans at the bottom of the tree (a call to
 * something that did not trace itself); a span without kind counts as a
 * client when it names both services.
 */
import type { Endpoint } from '../types.js';
import { mergeTrace } from './merge.js';
import type { DependencyLink, StoredSpan } from './types.js';

/**
 * The links of the given traces, summed: one call per linked span, one error
 * per linked span with an `error` tag (or whose client half has one).
 *
 * @param traces each a list of spans of one trace (unmerged parts are fine:
 *   each trace is merged with {@link mergeTrace} first, as Zipkin does).
 * @returns links in the order first seen; `errorCount` only when above 0.
 */
export function linkDependencies(traces: readonly (readonly StoredSpan[])[]): DependencyLink[] {
  const counts = new LinkCounter();
  for (const trace of traces) if (trace.length > 0) linkTrace(trace, counts);
  return counts.links();
}

/**
 * Sums links with the same parent and child (Zipkin's `DependencyLinker.merge`),
 * keeping the order first seen.
 */
export function mergeLinks(links: Iterable<DependencyLink>): DependencyLink[] {
  const counts = new LinkCounter();
  for (const link of links) counts.add(link.parent, link.child, link.callCount, link.errorCount ?? 0);
  return counts.links();
}

class LinkCounter {
  private readonly byParent = new Map<string, Map<string, { callCount: number; errorCount: number }>>();
  private readonly order: { parent: string; child: string; counts: { callCount: number; errorCount: number } }[] = [];

  add(parent: string, child: string, calls: number, errors: number): void {
    let children = this.byParent.get(parent);
    if (children === undefined) this.byParent.set(parent, (children = new Map()));
    let counts = children.get(child);
    if (counts === undefined) {
      children.set(child, (counts = { callCount: 0, errorCount: 0 }));
      this.order.push({ parent, child, counts });
    }
    counts.callCount += calls;
    counts.errorCount += errors;
  }

  links(): DependencyLink[] {
    return this.order.map(({ parent, child, counts }) =>
      counts.errorCount > 0 ? { parent, child, callCount: counts.callCount, errorCount: counts.errorCount } : { parent, child, callCount: counts.callCount },
    );
  }
}

function linkTrace(spans: readonly StoredSpan[], counts: LinkCounter): void {
  const root = buildTree(spans);
  const remoteAncestors = new RemoteAncestors();
  for (const node of breadthFirst(root)) {
    const span = node.span!;
    let kind = span.kind;
    // A client with children is linked from its server child, whose name for itself we prefer.
    if (kind === 'CLIENT' && node.children.length > 0) continue;

    const serviceName = span.localEndpoint?.serviceName;
    const remoteServiceName = span.remoteEndpoint?.serviceName;
    if (kind === undefined) {
      // A span of no kind that knows both sides is taken for a client.
      if (serviceName === undefined || remoteServiceName === undefined) continue;
      kind = 'CLIENT';
    }

    let parent: string | undefined;
    let child: string | undefined;
    if (kind === 'SERVER' || kind === 'CONSUMER') {
      child = serviceName;
      parent = remoteServiceName;
      // The root server's caller is known only from its remote endpoint.
      if (node === root && parent === undefined) continue;
    } else {
      parent = serviceName;
      child = remoteServiceName;
    }

    let isError = hasErrorTag(span);
    if (kind === 'PRODUCER' || kind === 'CONSUMER') {
      // Messaging links only to its broker: producer and consumer are not assumed to talk directly.
      if (parent !== undefined && child !== undefined) counts.add(parent, child, 1, isError ? 1 : 0);
      continue;
    }

    // Local spans may sit between this span and the remote span above it.
    const ancestor = remoteAncestors.of(node);
    const ancestorName = ancestor?.localEndpoint?.serviceName;
    if (ancestor !== undefined && ancestorName !== undefined) {
      // The client's own service was skipped (it put the callee's name on itself?): backfill ancestor → it.
      if (kind === 'CLIENT' && serviceName !== undefined && ancestorName !== serviceName) counts.add(ancestorName, serviceName, 1, 0);
      if (kind === 'SERVER' || parent === undefined) parent = ancestorName;
      // The server half of a split RPC carries the call; its client half may carry the error.
      if (!isError && ancestor.kind === 'CLIENT' && span.parentId !== undefined && span.parentId === ancestor.id) isError = hasErrorTag(ancestor);
    }

    if (parent === undefined || child === undefined) continue;
    counts.add(parent, child, 1, isError ? 1 : 0);
  }
}

function hasErrorTag(span: StoredSpan): boolean {
  return span.tags !== undefined && Object.prototype.hasOwnProperty.call(span.tags, 'error');
}

/**
 * Each node's nearest ancestor with a kind (a remote span; local spans may
 * sit between), cached. Asked top-down (breadth first), a walk up stops at
 * the first ancestor already answered, and no node is walked past twice: a
 * chain of 30,000 local spans each with a client leaf costs linear time,
 * not a walk to the top per leaf.
 */
class RemoteAncestors {
  /** Node → the span of its nearest remote ancestor (undefined: none). */
  readonly #cache = new Map<SpanNode, StoredSpan | undefined>();

  of(node: SpanNode): StoredSpan | undefined {
    // The usual case, a span right under a remote one, needs no walk.
    if (node.parent?.span?.kind !== undefined) return node.parent.span;
    const cached = this.#cache.get(node);
    if (cached !== undefined || this.#cache.has(node)) return cached;
    // Walk up to the first ancestor that has a kind or an answer; the walk ends even if the data made a cycle.
    const walk: SpanNode[] = [node];
    const onWalk = new Set<SpanNode>(walk);
    let found: StoredSpan | undefined;
    for (let ancestor = node.parent; ancestor !== undefined && !onWalk.has(ancestor); ancestor = ancestor.parent) {
      if (ancestor.span?.kind !== undefined) {
        found = ancestor.span;
        break;
      }
      if (this.#cache.has(ancestor)) {
        found = this.#cache.get(ancestor);
        break;
      }
      walk.push(ancestor);
      onWalk.add(ancestor);
    }
    // Every node walked past has no kind, so it shares the answer.
    for (const visited of walk) this.#cache.set(visited, found);
    return found;
  }
}

/** A node of a trace tree; the root has no span when the trace has no root span (it holds the orphans). */
interface SpanNode {
  span: StoredSpan | undefined;
  parent: SpanNode | undefined;
  children: SpanNode[];
}

/** Real spans of the tree, breadth-first; each node once, whatever links the data made. */
function* breadthFirst(root: SpanNode): Generator<SpanNode> {
  const queue: SpanNode[] = root.span === undefined ? [...root.children] : [root];
  const seen = new Set<SpanNode>();
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!;
    if (seen.has(node)) continue;
    seen.add(node);
    yield node;
    // One at a time: spreading a root's 150,000 children into push() would overflow the call stack.
    for (const child of node.children) queue.push(child);
  }
}

/** Keys of the tree: a plain span id, or (for a shared server span) its id qualified by endpoint. */
function sharedKey(id: string, endpoint: Endpoint | undefined): string {
  const e = endpoint === undefined ? '' : JSON.stringify([endpoint.serviceName ?? null, endpoint.ipv4 ?? null, endpoint.ipv6 ?? null, endpoint.port ?? null]);
  return `shared:${id}:${e}`;
}

function nodeKey(id: string, shared: boolean, endpoint: Endpoint | undefined): string {
  return shared ? sharedKey(id, endpoint) : id;
}

/**
 * Zipkin's `SpanNode.Builder.build`: the trace merged, each span placed under
 * its parent; a shared server span under its client (same id), a span under
 * a shared server span of its own endpoint before any other span of its
 * parent's id. The first span without a parent is the root; other parentless
 * spans and orphans hang under it (or under a span-less root when there is none).
 */
function buildTree(spans: readonly StoredSpan[]): SpanNode {
  const cleaned = mergeTrace(spans);
  const keyToNode = new Map<string, SpanNode>();
  const spanToParent = new Map<string, string | undefined>();
  let root: SpanNode | undefined;

  for (const span of cleaned) {
    if (span.shared === true) spanToParent.set(sharedKey(span.id, span.localEndpoint), span.id);
    else spanToParent.set(span.id, span.parentId);
  }

  for (const span of cleaned) {
    const shared = span.shared === true;
    const key = nodeKey(span.id, shared, span.localEndpoint);
    const noEndpointKey = span.localEndpoint !== undefined ? nodeKey(span.id, shared, undefined) : key;

    let parent: string | undefined;
    if (shared) {
      parent = span.id;
    } else if (span.parentId !== undefined) {
      const sharedParent = sharedKey(span.parentId, span.localEndpoint);
      if (spanToParent.has(sharedParent)) {
        parent = sharedParent;
        spanToParent.set(noEndpointKey, parent);
      } else {
        parent = span.parentId;
      }
    }

    const node: SpanNode = { span, parent: undefined, children: [] };
    if (parent === undefined && root === undefined) {
      root = node;
      spanToParent.delete(noEndpointKey);
    } else if (shared) {
      keyToNode.set(key, node);
      keyToNode.set(noEndpointKey, node);
    } else {
      keyToNode.set(noEndpointKey, node);
    }
  }

  root ??= { span: undefined, parent: undefined, children: [] };
  for (const [childKey, parentKey] of spanToParent) {
    const child = keyToNode.get(childKey);
    if (child === undefined) continue;
    const parent = (parentKey === undefined ? undefined : keyToNode.get(parentKey)) ?? root;
    if (parent === child) continue;
    parent.children.push(child);
    child.parent = parent;
  }
  return root;
}
