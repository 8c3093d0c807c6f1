// examples/demo-services.ts: the demo's three services, one per process: `node demo-services.js gateway|users|worker VIEWER_URL [PEERS]`.
import http from 'node:http';
import { createTracer, currentSpan, HttpReporter, traced, withSpan } from 'ziptrace';
import { instrumentHttpClients, tracedHandler } from 'ziptrace/http';

const [role, viewer, peersJson] = process.argv.slice(2) as ['gateway' | 'users' | 'worker', string, string | undefined];
const peers: Record<string, string> = JSON.parse(peersJson ?? '{}');
const tracer = createTracer({ serviceName: role, reporter: new HttpReporter({ url: viewer, batchInterval: 100 }) });
instrumentHttpClients(tracer); // every fetch below gets a CLIENT span and carries the trace on
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Orders {
  // N+1: one query per order, one after another, where one query for all would do.
  @traced({ name: 'SELECT order', kind: 'CLIENT', remoteEndpoint: { serviceName: 'postgres' } })
  async load(id: number): Promise<{ id: number; cents: number }> {
    currentSpan()?.tag('sql.query', `SELECT * FROM orders WHERE id = ${id}`);
    await sleep(4);
    return { id, cents: 1200 + id };
  }
}

class Invoices {
  @traced()
  async render(userId: string): Promise<string> {
    await sleep(6);
    return `invoice for user ${userId}`;
  }
}

const orders = new Orders();
const invoices = new Invoices();

async function call(url: string): Promise<unknown> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${new URL(url).pathname} answered ${response.status}`);
  return response.json();
}

type Route = (id: string) => Promise<unknown>;

const routes: Record<string, Record<string, Route>> = {
  gateway: {
    // A checkout: the user from the users service, then an invoice from the worker.
    '/checkout/:id': async (id) => ({ user: await call(`${peers.users}/users/${id}`), invoice: await call(`${peers.worker}/invoices/${id}`) }),
    '/orders/:id': async (id) => call(`${peers.users}/users/${id}/orders`),
  },
  users: {
    '/users/:id': async (id) => withSpan('cache lookup', async () => ({ id, name: id === '13' ? 'Mallory' : 'Ada' })),
    '/users/:id/orders': async (id) => {
      const all = [];
      for (const order of [1, 2, 3, 4, 5, 6]) all.push(await orders.load(order));
      return { id, orders: all };
    },
  },
  worker: {
    '/invoices/:id': async (id) => {
      await withSpan('Slow SQL', { kind: 'CLIENT', remoteEndpoint: { serviceName: 'postgres' }, tags: { 'db.type': 'sql' } }, async (span) => {
        span.annotate('START SQL');
        await sleep(35);
        span.annotate('END SQL');
      });
      if (id === '13') throw new Error('card declined');
      return { text: await invoices.render(id) };
    },
  },
};

const server = http.createServer(tracedHandler(tracer, async (req, res) => {
  res.setHeader('x-trace-id', currentSpan()?.context.traceId ?? '');
  for (const [pattern, route] of Object.entries(routes[role]!)) {
    const match = new RegExp(`^${pattern.replace(':id', '(\\d+)')}$`).exec(req.url ?? '');
    if (match === null) continue;
    try {
      const body = JSON.stringify(await route(match[1]!));
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } catch (error) {
      currentSpan()?.tag('error', (error as Error).message); // the reason, where a 5xx alone would say only its status
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (error as Error).message }));
    }
    return;
  }
  res.writeHead(404).end();
}, {
  // Span names from the route templates, never the raw paths.
  name: (req) => `${req.method} ${Object.keys(routes[role]!).find((p) => new RegExp(`^${p.replace(':id', '\\d+')}$`).test(req.url ?? '')) ?? req.url}`,
}));

server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as { port: number }).port}`));
process.on('SIGTERM', async () => {
  server.close();
  await tracer.close({ timeout: 2000 }); // the spans still queued go out before the process ends
  process.exit(0);
});
