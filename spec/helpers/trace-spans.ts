/**
 * Hand-made spans of one trace for the viewer's analysis specs: times in
 * microseconds from a fixed start, so a spec reads as a timeline.
 */
import type { StoredSpan } from '../../lib/viewer/types.js';

/** The trace's start, epoch microseconds. */
export const T = 1_700_000_000_000_000;
/** Their trace id. */
export const TRACE = 'aaaaaaaaaaaaaaaa';

/** A span named `op {id}` of service `svc`, starting `start` µs after T (no timestamp or duration when not given). */
export function span(id: string, parentId: string | undefined, start?: number, duration?: number, extra: Partial<StoredSpan> = {}): StoredSpan {
  const out: StoredSpan = { traceId: TRACE, id, name: `op ${id}`, localEndpoint: { serviceName: 'svc' }, ...extra };
  if (parentId !== undefined) out.parentId = parentId;
  if (start !== undefined) out.timestamp = T + start;
  if (duration !== undefined) out.duration = duration;
  return out;
}
