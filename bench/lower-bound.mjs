// The lower bound: the least a tracer can do for these workloads, hand-written
// for them and nothing else. No options, limits, tags, sampling choices,
// error handling or propagation: a span is { ids, name, start }, made active
// with one AsyncLocalStorage.run, finished from one then() when the
// function's promise settles, its two clock reads, and its Zipkin v2 JSON
// written at finish straight into the batch's bytes, as ziptrace's reporter
// does (a span written as text, measured with Buffer.byteLength and joined,
// as every other tracer here does it, costs more). It answers one question:
// how far from the floor can any withSpan-style tracer that encodes Zipkin
// JSON get on this machine? The distance between ziptrace and this row is
// what ziptrace's features cost.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BATCH, makeCounts, runChild } from './harness.mjs';

const counts = makeCounts();
const als = new AsyncLocalStorage();

const POOL = 16384;
const pool = Buffer.allocUnsafe(POOL);
let at = POOL;
const HEX = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** `bytes` random bytes as lower-case hex (no all-zero check: this is a bound, not a tracer). */
function hex(bytes) {
  if (at + bytes > POOL) {
    randomFillSync(pool);
    at = 0;
  }
  const codes = new Array(bytes * 2);
  for (let i = 0; i < bytes; i++) {
    const b = pool[at + i];
    codes[2 * i] = HEX[b >> 4];
    codes[2 * i + 1] = HEX[b & 15];
  }
  at += bytes;
  return String.fromCharCode.apply(null, codes);
}

const offset = Date.now() * 1000 - performance.now() * 1000;
let sampled = true;

// One batch's body, written in place: '[', the spans with commas between, ']'.
// A span here is under 200 bytes; the body never needs to grow.
const body = Buffer.allocUnsafe(BATCH * 256 + 2);
let end = 0;
let spans = 0;
let firstEnd = 0;

const bytesOf = (text) => Buffer.from(text, 'latin1');
const TRACE_ID = bytesOf('{"traceId":"');
const ID = bytesOf('","id":"');
const PARENT_ID = bytesOf('","parentId":"');
const DURATION = bytesOf(',"duration":');
const TAIL = bytesOf(',"localEndpoint":{"serviceName":"bench"}}');
// What follows the ids up to the timestamp's digits, one part per name (these workloads have five).
const heads = new Map();
function head(name) {
  let part = heads.get(name);
  if (part === undefined) heads.set(name, (part = bytesOf('","name":"' + name + '","timestamp":')));
  return part;
}

function put(part, i) {
  for (let k = 0; k < part.length; k++) body[i + k] = part[k];
  return i + part.length;
}
function ascii(text, i) {
  for (let k = 0; k < text.length; k++) body[i + k] = text.charCodeAt(k);
  return i + text.length;
}
/** The digits of 0 <= value < 10^8. */
function small(value, i) {
  let n = 1;
  for (let x = value; x >= 10; x = (x / 10) | 0) n++;
  for (let k = i + n - 1; k >= i; k--) {
    const next = (value / 10) | 0;
    body[k] = 0x30 + value - next * 10;
    value = next;
  }
  return i + n;
}
// A timestamp has 16 digits: the second's are cached as bytes, the six of the microseconds written.
let second = -1;
let secondBytes = bytesOf('');
function micros(value, i) {
  const s = Math.floor(value / 1e6);
  if (s !== second) {
    second = s;
    secondBytes = bytesOf(String(s));
  }
  i = put(secondBytes, i);
  let rest = value - s * 1e6;
  for (let k = i + 5; k >= i; k--) {
    const next = (rest / 10) | 0;
    body[k] = 0x30 + rest - next * 10;
    rest = next;
  }
  return i + 6;
}

function flushBatch() {
  if (spans === 0) return;
  body[end++] = 0x5d; // ']'
  // What an HTTP exporter writes to the socket: a view of the body, no copy.
  const request = body.subarray(0, end);
  if (counts.sample === undefined) counts.sample = body.toString('latin1', 1, firstEnd);
  counts.spans += spans;
  counts.bytes += request.length;
  spans = 0;
  end = 0;
}

function finish(span) {
  const duration = Math.round((performance.now() - span.start) * 1000) || 1;
  let i = end;
  body[i++] = spans === 0 ? 0x5b : 0x2c; // '[' or ','
  i = put(TRACE_ID, i);
  i = ascii(span.traceId, i);
  i = put(ID, i);
  i = ascii(span.id, i);
  if (span.parentId !== undefined) {
    i = put(PARENT_ID, i);
    i = ascii(span.parentId, i);
  }
  i = put(head(span.name), i);
  i = micros(span.timestamp, i);
  i = put(DURATION, i);
  i = small(duration, i);
  i = put(TAIL, i);
  if (spans === 0) firstEnd = i;
  end = i;
  if (++spans >= BATCH) flushBatch();
}

function withSpan(name, fn) {
  const parent = als.getStore();
  if (!sampled) return als.run(parent === undefined ? { traceId: undefined } : parent, fn);
  const traceId = parent === undefined ? hex(16) : parent.traceId;
  const start = performance.now();
  const span = { traceId, id: parent === undefined ? traceId.slice(16) : hex(8), parentId: parent?.id, name, start, timestamp: Math.round(offset + start * 1000) };
  return als.run(span, fn).then(
    (value) => {
      finish(span);
      return value;
    },
    (error) => {
      finish(span);
      throw error;
    },
  );
}

const leaf = async () => {
  await null;
};
const child3 = async () => {
  await withSpan('child-3', leaf);
};
const child2 = async () => {
  await withSpan('child-2', child3);
};
const child1 = async () => {
  await withSpan('child-1', child2);
};

await runChild(
  'lower-bound',
  {
    sampled: { spans: 1, encodes: true, op: () => withSpan('op', leaf) },
    nested: { spans: 4, encodes: true, op: () => withSpan('root', child1) },
    unsampled: {
      spans: 1,
      encodes: false,
      op: () => {
        sampled = false;
        const done = withSpan('op', leaf);
        sampled = true;
        return done;
      },
    },
  },
  { flush: async () => flushBatch(), counts },
);
