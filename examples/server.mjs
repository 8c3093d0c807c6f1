// examples/server.mjs
import http from 'node:http';
import { createTracer, currentSpan, withSpan } from 'ziptrace';
import { tracedHandler } from 'ziptrace/http';

const tracer = createTracer({ serviceName: 'inventory', zipkinUrl: process.env.ZIPKIN_URL ?? 'http://127.0.0.1:9411' });

// tracedHandler continues the caller's trace, whichever of B3 or traceparent it sent (a new trace if none),
// and ends the SERVER span when the response is sent.
const server = http.createServer(tracedHandler(tracer, async (req, res) => {
  const stock = await withSpan('Slow SQL', { kind: 'CLIENT', tags: { 'db.type': 'sql' } }, async () => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    return 7;
  });
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ stock, traceId: currentSpan().context.traceId }));
}, { name: (req) => `${req.method} /stock` }));

server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => console.log(`listening on ${server.address().port}`));

// Containers stop with SIGTERM: stop taking requests, send the spans still queued, then exit.
process.on('SIGTERM', async () => {
  server.close();
  await tracer.close({ timeout: 2000 });
  process.exit(0);
});
