// zipkin-js (the `zipkin` package), B3 multi-header only: the package reads
// and writes no b3 single header and no traceparent. Reading is what
// Instrumentation.HttpServer's recordRequest does before it records the
// server span (`_createIdFromHeaders`, then tracer.join), given a readHeader
// that looks a header up by its lower-cased name, as zipkin-instrumentation-express
// makes one per request; writing is what Instrumentation.HttpClient's
// recordRequest returns (Request.addZipkinHeaders). zipkin-js checks no id.
import zipkin from 'zipkin';
import { CHILD_SPAN_ID, runPropagationChild } from './propagation-harness.mjs';

const { ExplicitContext, Instrumentation, Request, TraceId, Tracer, option } = zipkin;
const { None, Some } = option;

const tracer = new Tracer({ ctxImpl: new ExplicitContext(), recorder: { record() {} }, localServiceName: 'bench', traceId128Bit: true });
const server = new Instrumentation.HttpServer({ tracer, port: 80 });

const readHeaderOf = (headers) => (name) => {
  const value = headers[name.toLowerCase()];
  return value === undefined ? None : new Some(value);
};

await runPropagationChild('zipkin-js', {
  b3: {
    workload: 'b3',
    extract: (headers) => server._createIdFromHeaders(readHeaderOf(headers)).getOrElse(),
    // What tracer.createChildId(parent) makes, with the span id made beforehand.
    child: (id) => new TraceId({ traceId: id.traceId, parentId: new Some(id.spanId), spanId: CHILD_SPAN_ID, sampled: id.sampled, debug: id.isDebug() }),
    inject: (id, out) => Request.addZipkinHeaders({ headers: out }, id),
  },
});
