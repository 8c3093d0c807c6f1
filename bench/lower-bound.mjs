// The lower bound: the least a tracer can do for these workloads, hand-written
// for them and nothing else. No options, limits, tags, sampling choices,
// error handling or propagation: a span is { ids, name, start }, made active
// with one AsyncLocalStorage.run, finished from one then() when the
// function's promise settles, its two clock reads, and its Zipkin v2 JSON
// built by concatenation and turned into the batch's bytes, as ziptrace's
// reporter does. It answers one question: how far from the floor can any
// withSpan-style tracer that encodes Zipkin JSON get on this machine? The
// distance between ziptrace and this row is what ziptrace's features cost.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BATCH, makeCounts, runChild, wireBytes } from './harness.mjs';

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
let batch = [];
let batchBytes = 0;

function flushBatch() {
  if (batch.length === 0) return;
  const body = `[${batch.join(',')}]`;
  if (counts.sample === undefined) counts.sample = batch[0];
  counts.spans += batch.length;
  counts.bytes += wireBytes(body);
  batch = [];
  batchBytes = 0;
}

// A 16-digit number to text is slow (V8 takes the double path past 2^31):
// the second's digits are cached and the microseconds padded on.
let second = -1;
let secondText = '';
function micros(value) {
  const s = Math.floor(value / 1e6);
  if (s !== second) {
    second = s;
    secondText = String(s);
  }
  const rest = value - s * 1e6;
  return secondText + (rest >= 100000 ? '' : rest >= 10000 ? '0' : rest >= 1000 ? '00' : rest >= 100 ? '000' : rest >= 10 ? '0000' : '00000') + rest;
}

function finish(span) {
  const duration = Math.round((performance.now() - span.start) * 1000) || 1;
  const json =
    '{"traceId":"' + span.traceId + '","id":"' + span.id + (span.parentId === undefined ? '"' : '","parentId":"' + span.parentId + '"') +
    ',"name":"' + span.name + '","timestamp":' + micros(span.timestamp) + ',"duration":' + duration + ',"localEndpoint":{"serviceName":"bench"}}';
  // What a reporter with byte caps must know of each span (ziptrace's HttpReporter learns it by writing the span into its queue's bytes).
  batchBytes += Buffer.byteLength(json);
  batch.push(json);
  if (batch.length >= BATCH) flushBatch();
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
