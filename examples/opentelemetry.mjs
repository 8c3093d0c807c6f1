// examples/opentelemetry.mjs
// OpenTelemetry-instrumented code tracing into ziptrace (needs @opentelemetry/api, an optional peer).
import { context, propagation, trace } from '@opentelemetry/api';
import { createTracer, MemoryReporter, withSpan } from 'ziptrace';
import { registerOpenTelemetry } from 'ziptrace/opentelemetry';

const reporter = new MemoryReporter();
const tracer = createTracer({ serviceName: 'shop', reporter });
const undo = registerOpenTelemetry(tracer);

// A library instrumented with the OpenTelemetry API, knowing nothing of ziptrace.
const lib = trace.getTracer('inventory-client', '2.1.0');
async function reserve(sku) {
  return lib.startActiveSpan('inventory.reserve', { kind: 2 /* SpanKind.CLIENT */, attributes: { 'inventory.sku': sku, 'inventory.qty': 1 } }, async (span) => {
    span.addEvent('cache miss', { layer: 'l1' });
    // Headers for the request, written with ziptrace's propagation (B3 + traceparent).
    const headers = {};
    propagation.inject(context.active(), headers);
    // Baggage the application put in the OpenTelemetry context is still there.
    const customer = propagation.getBaggage(context.active())?.getEntry('customer')?.value;
    await new Promise((resolve) => setTimeout(resolve, 5));
    span.end();
    return { headers, customer };
  });
}

const withBaggage = propagation.setBaggage(context.active(), propagation.createBaggage({ customer: { value: 'ada' } }));
const result = await context.with(withBaggage, () => withSpan('POST /checkout', { kind: 'SERVER' }, () => reserve('sku-42')));
undo();
await tracer.close();

for (const span of reporter.spans) {
  console.log(`${span.name.padEnd(18)} trace ${span.traceId} id ${span.id} ${span.parentId ? `child of ${span.parentId}` : 'root'} ${span.kind ?? ''}`);
}
const [client, server] = reporter.spans;
console.log('tags:', JSON.stringify(client.tags));
console.log('annotations:', client.annotations.map((a) => a.value).join(', '));
console.log('injected:', JSON.stringify(result.headers));
console.log('baggage seen inside:', result.customer);
console.log(client.parentId === server.id && client.traceId === server.traceId ? 'OK: one trace, the OpenTelemetry span is a child of the ziptrace span' : 'WRONG: not one trace');
