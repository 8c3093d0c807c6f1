import type { Endpoint, SpanKind, TraceContext, ZipkinAnnotation, ZipkinSpan } from '../types.js';

/** What the encoder reads from a finished span. */
export interface FinishedSpan {
  readonly context: TraceContext;
  readonly _name: string;
  readonly _kind: SpanKind | undefined;
  readonly _timestamp: number;
  readonly _duration: number;
  readonly _tags: Record<string, string> | undefined;
  readonly _annotations: ZipkinAnnotation[] | undefined;
  readonly _remote: Endpoint | undefined;
  readonly _droppedTags: number;
  readonly _droppedAnnotations: number;
}

/**
 * A finished span as a Zipkin v2 object. Optional fields are left out, never
 * null; what the limits dropped is said in `ziptrace.dropped_*` tags.
 */
export function toZipkinSpan(span: FinishedSpan, localEndpoint: Endpoint): ZipkinSpan {
  const context = span.context;
  const out: ZipkinSpan = { traceId: context.traceId, id: context.spanId };
  if (context.parentId !== undefined) out.parentId = context.parentId;
  if (span._name.length > 0) out.name = span._name;
  if (span._kind !== undefined) out.kind = span._kind;
  out.timestamp = span._timestamp;
  out.duration = span._duration;
  out.localEndpoint = localEndpoint;
  if (span._remote !== undefined) out.remoteEndpoint = span._remote;
  if (span._annotations !== undefined && span._annotations.length > 0) out.annotations = span._annotations;
  let tags = span._tags;
  if (span._droppedTags > 0 || span._droppedAnnotations > 0) {
    tags = Object.assign(Object.create(null) as Record<string, string>, tags);
    if (span._droppedTags > 0) tags['ziptrace.dropped_tags'] = String(span._droppedTags);
    if (span._droppedAnnotations > 0) tags['ziptrace.dropped_annotations'] = String(span._droppedAnnotations);
  }
  if (tags !== undefined) out.tags = tags;
  if (context.debug) out.debug = true;
  if (context.shared) out.shared = true;
  return out;
}

/** A list of Zipkin v2 spans as the JSON body of `POST /api/v2/spans`. */
export function encodeSpans(spans: readonly ZipkinSpan[]): string {
  return JSON.stringify(spans);
}
