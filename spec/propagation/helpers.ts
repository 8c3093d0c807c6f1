/**
 * Shared by the propagation specs: carriers built the way each transport
 * delivers headers, the checks every extracted context must pass, and the
 * header length caps of lib/propagation/propagator.ts pinned as numbers (so a
 * change to a cap is a change a spec notices).
 */
import { expect } from 'vitest';
import { isSpanId, isTraceId, type ExtractedContext, type TraceContext } from '../../lib/index.js';

/** MAX_ID_HEADER: longest X-B3-TraceId / SpanId / ParentSpanId / Sampled / Flags value read. */
export const MAX_ID_HEADER = 64;
/** MAX_B3_SINGLE: longest `b3` value read. */
export const MAX_B3_SINGLE = 128;
/** MAX_TRACEPARENT: longest `traceparent` value read. */
export const MAX_TRACEPARENT = 512;
/** MAX_TRACESTATE: longest `tracestate`, all values together. */
export const MAX_TRACESTATE = 8192;

/** A header line as a client sends it: name (any case) and value. Repeats allowed. */
export type HeaderPair = readonly [name: string, value: string];

/**
 * The ways one list of header lines reaches a propagator:
 *
 *   node        IncomingHttpHeaders: lower-case names, a repeat joined with ', '
 *   distinct    IncomingMessage.headersDistinct: lower-case names, every value in an array
 *   fetch       fetch Headers (case-insensitive, repeats joined with ', ')
 *   object      a plain object keeping the sender's spelling; one name repeated exactly becomes an array
 *   buffers     message headers (Kafka): names as sent, values as Buffers, repeats in an array
 */
export const CARRIERS = {
  node(pairs: readonly HeaderPair[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of pairs) {
      const key = name.toLowerCase();
      out[key] = key in out ? `${out[key]}, ${value.trim()}` : value.trim();
    }
    return out;
  },
  distinct(pairs: readonly HeaderPair[]): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, value] of pairs) (out[name.toLowerCase()] ??= []).push(value.trim());
    return out;
  },
  fetch(pairs: readonly HeaderPair[]): Headers {
    const out = new Headers();
    for (const [name, value] of pairs) out.append(name, value);
    return out;
  },
  object(pairs: readonly HeaderPair[]): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of pairs) {
      const seen = out[name];
      out[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
    }
    return out;
  },
  buffers(pairs: readonly HeaderPair[]): Record<string, Buffer | Buffer[]> {
    const out: Record<string, Buffer | Buffer[]> = {};
    for (const [name, value] of pairs) {
      const seen = out[name];
      const buffer = Buffer.from(value, 'latin1');
      out[name] = seen === undefined ? buffer : Array.isArray(seen) ? [...seen, buffer] : [seen, buffer];
    }
    return out;
  },
} as const;

export type CarrierKind = keyof typeof CARRIERS;
export const CARRIER_KINDS = Object.keys(CARRIERS) as CarrierKind[];

const HEX = /^[0-9a-f]+$/;
// Trace Context Level 2's key: lcalpha or DIGIT, then up to 255 of lcalpha, DIGIT, _ - * / @.
const TRACESTATE_KEY = /^[a-z0-9][a-z0-9_\-*/@]{0,255}$/;
const TRACESTATE_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * Whether a tracestate value is one ziptrace may pass on: 1 to 32 members,
 * each `key=value` per W3C Trace Context Level 2, no empty members, no white
 * space around them. A key may appear twice: Level 2 leaves unique keys to
 * the sender and lets a receiver pass a duplicate on. Written independently
 * of the library's parser, so that the two can disagree.
 */
export function isWellFormedTracestate(value: string): boolean {
  const members = value.split(',');
  if (members.length < 1 || members.length > 32) return false;
  for (const member of members) {
    const eq = member.indexOf('=');
    if (eq < 1) return false;
    if (!TRACESTATE_KEY.test(member.slice(0, eq)) || !TRACESTATE_VALUE.test(member.slice(eq + 1))) return false;
  }
  return true;
}

/** Lower-case hex of `length` characters, not all zero. */
function isId(id: unknown, lengths: readonly number[]): boolean {
  return typeof id === 'string' && lengths.includes(id.length) && HEX.test(id) && /[^0]/.test(id);
}

/**
 * Fails unless `found` is undefined or a well-formed extracted context: ids
 * of the right length in lower-case hex and not all zero (or no ids at all,
 * for a bare decision), `sampled` boolean or undefined, `debug` boolean, debug
 * implying sampled, and a tracestate that is valid or absent.
 */
export function expectWellFormed(found: ExtractedContext | undefined): void {
  if (found === undefined) return;
  expect(typeof found).toBe('object');
  expect(found).not.toBeNull();
  expect([true, false, undefined]).toContain(found.sampled);
  expect(typeof found.debug).toBe('boolean');
  if (found.debug) expect(found.sampled).toBe(true);
  if (found.traceId === undefined) {
    expect(found.spanId).toBeUndefined();
    expect('parentId' in found ? (found as { parentId?: unknown }).parentId : undefined).toBeUndefined();
    expect('tracestate' in found ? (found as { tracestate?: unknown }).tracestate : undefined).toBeUndefined();
    return;
  }
  const ctx = found as TraceContext;
  expect(isId(ctx.traceId, [16, 32]), `traceId ${JSON.stringify(ctx.traceId)}`).toBe(true);
  expect(isId(ctx.spanId, [16]), `spanId ${JSON.stringify(ctx.spanId)}`).toBe(true);
  if (ctx.parentId !== undefined) expect(isId(ctx.parentId, [16]), `parentId ${JSON.stringify(ctx.parentId)}`).toBe(true);
  // The library's own validators agree.
  expect(isTraceId(ctx.traceId) && isSpanId(ctx.spanId)).toBe(true);
  expect(typeof ctx.shared).toBe('boolean');
  expect([true, false, undefined]).toContain(ctx.random);
  if (ctx.tracestate !== undefined) {
    expect(typeof ctx.tracestate).toBe('string');
    expect(isWellFormedTracestate(ctx.tracestate), `tracestate ${JSON.stringify(ctx.tracestate)}`).toBe(true);
  }
}

/** The fields of a context the specs compare, undefined ones left out. */
export function essentials(found: ExtractedContext | undefined): Record<string, unknown> | undefined {
  if (found === undefined) return undefined;
  const ctx = found as Partial<TraceContext>;
  const out: Record<string, unknown> = {};
  for (const key of ['traceId', 'spanId', 'parentId', 'sampled', 'debug', 'tracestate', 'source', 'random'] as const) {
    if (ctx[key] !== undefined) out[key] = ctx[key];
  }
  return out;
}

/** A full context for injection, with defaults for what a row leaves out. */
export function ctx(fields: Partial<TraceContext> & { traceId: string; spanId: string }): TraceContext {
  return { debug: false, shared: false, ...fields };
}

/** Header names of a plain object, lower-cased and sorted, for comparing what was written. */
export function lowerKeys(headers: Record<string, unknown>): string[] {
  return Object.keys(headers)
    .map((k) => k.toLowerCase())
    .sort();
}
