// examples/koa.mjs
import Router from '@koa/router';
import Koa from 'koa';
import { ConsoleReporter, createTracer, withSpan } from 'ziptrace';
import { koaTracing } from 'ziptrace/koa';

// Prints each trace as a tree; with ZIPKIN_URL set (http://127.0.0.1:9411), sends it to Zipkin too.
const tracer = createTracer({ serviceName: 'users', reporter: new ConsoleReporter(), zipkinUrl: process.env.ZIPKIN_URL || undefined });

const users = { 42: { id: 42, name: 'Ada' } };

const app = new Koa();
// First, so the span covers every middleware after it.
app.use(koaTracing(tracer, { skip: ['/healthz'] }));

const router = new Router();
router.get('/healthz', (ctx) => (ctx.body = 'ok'));
router.get('/users/:id', async (ctx) => {
  const user = await withSpan('load user', async (span) => {
    span.tag('user.id', ctx.params.id);
    return users[ctx.params.id];
  });
  if (user === undefined) ctx.throw(404, 'no such user');
  ctx.body = user;
});
app.use(router.routes());

const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));

// The span is named by the route, GET /users/:id, never by the raw path.
console.log(await (await fetch(`http://127.0.0.1:${server.address().port}/users/42?fields=name`)).text());

server.close();
await tracer.close();
