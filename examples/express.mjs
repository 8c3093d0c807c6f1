// examples/express.mjs
import express from 'express';
import { ConsoleReporter, createTracer, withSpan } from 'ziptrace';
import { expressErrorTracing, expressTracing } from 'ziptrace/express';

// Prints each trace as a tree; with ZIPKIN_URL set (http://127.0.0.1:9411), sends it to Zipkin too.
const tracer = createTracer({ serviceName: 'users', reporter: new ConsoleReporter(), zipkinUrl: process.env.ZIPKIN_URL || undefined });

const app = express();
app.use(expressTracing(tracer, { skip: ['/healthz'] })); // first: the span covers everything after it
app.use(express.json());

app.get('/healthz', (req, res) => res.send('ok'));

const users = express.Router();
users.post('/:id', async (req, res) => {
  // req.body was parsed in express.json()'s callbacks; this span nests under the request's all the same.
  const user = await withSpan('save user', async (span) => {
    span.tag('user.id', req.params.id);
    return { id: Number(req.params.id), ...req.body };
  });
  res.status(201).json(user);
});
users.get('/:id', () => {
  throw new Error('no such user');
});
app.use('/users', users);

app.use(expressErrorTracing()); // after the routes: records what they threw, and passes it on
app.use((error, req, res, next) => res.status(500).json({ error: error.message }));

const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const created = await fetch(`${base}/users/42`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Ada"}' });
console.log(created.status, await created.text());
const failed = await fetch(`${base}/users/7`);
console.log(failed.status, await failed.text());
console.log((await fetch(`${base}/healthz`)).status);

server.close();
await tracer.close();
