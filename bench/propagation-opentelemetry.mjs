// OpenTelemetry's propagators: B3Propagator (@opentelemetry/propagator-b3,
// multi- or single-header) and W3CTraceContextPropagator (@opentelemetry/core),
// with the API's default getter and setter, the context extracted into
// ROOT_CONTEXT, as its HTTP instrumentation does.
//
// A span context has no parent id, so OpenTelemetry's B3 writes none: no
// X-B3-ParentSpanId, and b3 single without its fourth field.
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { CHILD_SPAN_ID, runPropagationChild, TRACE_ID, WORKLOADS } from './propagation-harness.mjs';

const b3 = new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER });
const b3Single = new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER });
const w3c = new W3CTraceContextPropagator();

/** The span context a child span of the extracted one carries (a new span id, local), made active in a context derived from the extracted one. */
const child = (context) => trace.setSpanContext(context, { ...trace.getSpanContext(context), spanId: CHILD_SPAN_ID, isRemote: false });

const { 'x-b3-parentspanid': _noParent, ...b3Outgoing } = WORKLOADS.b3.outgoing;

await runPropagationChild('opentelemetry', {
  b3: {
    workload: 'b3',
    extract: (headers) => b3.extract(ROOT_CONTEXT, headers, defaultTextMapGetter),
    child,
    inject: (context, out) => b3.inject(context, out, defaultTextMapSetter),
    outgoing: b3Outgoing,
  },
  'b3-single': {
    workload: 'b3-single',
    extract: (headers) => b3Single.extract(ROOT_CONTEXT, headers, defaultTextMapGetter),
    child,
    inject: (context, out) => b3Single.inject(context, out, defaultTextMapSetter),
    outgoing: { b3: `${TRACE_ID}-${CHILD_SPAN_ID}-1` },
  },
  traceparent: {
    workload: 'traceparent',
    extract: (headers) => w3c.extract(ROOT_CONTEXT, headers, defaultTextMapGetter),
    child,
    inject: (context, out) => w3c.inject(context, out, defaultTextMapSetter),
  },
});
