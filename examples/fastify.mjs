// examples/fastify.mjs
import Fastify from 'fastify';
import { ConsoleReporter, createTracer, withSpan } from 'ziptrace';
import { fastifyTracing } from 'ziptrace/fastify';

// Prints each trace as a tree; with ZIPKIN_URL set (http://127.0.0.1:9411), sends it to Zipkin too.
const tracer = createTracer({ serviceName: 'users', reporter: new ConsoleReporter(), zipkinUrl: process.env.ZIPKIN_URL || undefined });

const app = Fastify();
// Registered first, so every hook and route after it runs inside the request's span.
await app.register(fastifyTracing, { tracer, skip: ['/healthz'] });

app.get('/healthz', async () => 'ok');
// Fastify's JSON parser reads the body; the handler still runs inside the span, named POST /users/:id/orders.
app.post('/users/:id/orders', async (request, reply) => {
  const order = await withSpan('save order', async (span) => {
    span.tag('user.id', request.params.id);
    return { id: 1, items: request.body.items.length };
  });
  return reply.code(201).send(order);
});

const base = await app.listen({ port: 0, host: '127.0.0.1' });
const response = await fetch(`${base}/users/42/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"items":["tea"]}' });
console.log(response.status, await response.text());
console.log((await fetch(`${base}/healthz`)).status);

await app.close();
await tracer.close();
