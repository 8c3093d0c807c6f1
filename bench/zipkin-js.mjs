// zipkin-js: Tracer with CLSContext('zipkin', true) from zipkin-context-cls
// (its async/await mode, on cls-hooked), a BatchRecorder, and a logger that
// does what zipkin-transport-http's HttpLogger does before its HTTP request:
// JSON_V2-encode each span as it is logged, join a batch into one JSON list.
import zipkin from 'zipkin';
import CLSContext from 'zipkin-context-cls';
import { BATCH, makeCounts, runChild, wireBytes } from './harness.mjs';

const { Tracer, BatchRecorder, jsonEncoder, sampler } = zipkin;
const { JSON_V2 } = jsonEncoder;

const counts = makeCounts();

class EncodingLogger {
  queue = [];
  logSpan(span) {
    this.queue.push(JSON_V2.encode(span));
    if (this.queue.length >= BATCH) this.encodeBatch();
  }
  encodeBatch() {
    if (this.queue.length === 0) return;
    const body = '[' + this.queue.join(',') + ']';
    if (counts.sample === undefined) counts.sample = this.queue[0];
    counts.spans += this.queue.length;
    counts.bytes += wireBytes(body);
    this.queue = [];
  }
}

const logger = new EncodingLogger();
const ctxImpl = new CLSContext('zipkin', true);
const recorder = new BatchRecorder({ logger });
// 128-bit trace ids, as ziptrace and OpenTelemetry make.
const tracer = new Tracer({ ctxImpl, recorder, localServiceName: 'bench', traceId128Bit: true });
const unsampledTracer = new Tracer({
  ctxImpl,
  recorder,
  localServiceName: 'bench',
  traceId128Bit: true,
  sampler: new sampler.Sampler(sampler.neverSample),
});
// Logs to a logger that drops the spans: the tracer's own cost, without the encoding.
const droppingTracer = new Tracer({ ctxImpl, recorder: new BatchRecorder({ logger: { logSpan() {} } }), localServiceName: 'bench', traceId128Bit: true });

// tracer.local makes a child of the current id (a root when there is none)
// active for the callback, and finishes it when the returned promise settles.
const leaf = async () => {
  await null;
};
const child3 = async () => {
  await tracer.local('child-3', leaf);
};
const child2 = async () => {
  await tracer.local('child-2', child3);
};
const child1 = async () => {
  await tracer.local('child-1', child2);
};

await runChild(
  'zipkin-js',
  {
    sampled: { spans: 1, encodes: true, op: () => tracer.local('op', leaf) },
    nested: { spans: 4, encodes: true, op: () => tracer.local('root', child1) },
    unsampled: { spans: 1, encodes: false, op: () => unsampledTracer.local('op', leaf) },
    notEncoded: { spans: 1, encodes: false, op: () => droppingTracer.local('op', leaf) },
  },
  { flush: async () => logger.encodeBatch(), counts },
);
