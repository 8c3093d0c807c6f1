// examples/http-server.mjs
import http from 'node:http';
import { ConsoleReporter, createTracer, withSpan } from 'ziptrace';
import { tracedHandler } from 'ziptrace/http';

const tracer = createTracer({ serviceName: 'users', reporter: new ConsoleReporter() });

const users = { 42: { id: 42, name: 'Ada' } };

const handler = tracedHandler(tracer, (req, res) => {
  if (req.url === '/healthz') return res.end('ok');
  // The body arrives in events after the handler has returned; the span is still active in them.
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    const id = /^\/users\/(\d+)/.exec(req.url)?.[1];
    const user = await withSpan('load user', async (span) => {
      span.tag('user.id', id);
      return users[id];
    });
    res.statusCode = user === undefined ? 404 : 200;
    res.end(JSON.stringify(user ?? { error: 'no such user' }));
  });
}, {
  // Name spans by the route, never by the raw path: one name for every user.
  name: (req) => (req.url.startsWith('/users/') ? `${req.method} /users/:id` : req.method),
  skip: ['/healthz'],
});

const server = http.createServer(handler);
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

console.log(await (await fetch(`${base}/users/42?fields=name`)).text());
console.log((await fetch(`${base}/users/7`)).status);
console.log((await fetch(`${base}/healthz`)).status);

server.close();
await tracer.close();
