// examples/server.mjs
import http from 'node:http';
import { createTracer, withSpan } from 'ziptrace';

const tracer = createTracer({ serviceName: 'inventory', zipkinUrl: process.env.ZIPKIN_URL ?? 'http://127.0.0.1:9411' });

const server = http.createServer((req, res) => {
  // Continue the caller's trace, whichever of B3 or traceparent it sent; a new trace if none.
  const span = tracer.joinSpan(tracer.extract(req.headers), `${req.method} /stock`, { kind: 'SERVER' });
  tracer.withActive(span, async () => {
    const stock = await withSpan('Slow SQL', { kind: 'CLIENT', tags: { 'db.type': 'sql' } }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return 7;
    });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ stock, traceId: span.context.traceId }));
    span.tag('http.status_code', 200).finish();
  });
});

server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => console.log(`listening on ${server.address().port}`));

// Containers stop with SIGTERM: stop taking requests, send the spans still queued, then exit.
process.on('SIGTERM', async () => {
  server.close();
  await tracer.close({ timeout: 2000 });
  process.exit(0);
});
