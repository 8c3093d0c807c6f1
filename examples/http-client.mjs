// examples/http-client.mjs
import http from 'node:http';
import { ConsoleReporter, createTracer, withSpan } from 'ziptrace';
import { instrumentHttpClients, tracedHandler } from 'ziptrace/http';

// Two services in one process, for the example: a gateway calling a users service over HTTP.
const reporter = new ConsoleReporter();
const gateway = createTracer({ serviceName: 'gateway', reporter });
const users = createTracer({ serviceName: 'users', reporter, global: false });

// The users service traces itself: each request joins the trace its caller sent.
const server = http.createServer(tracedHandler(users, (req, res) => res.end('{"id":42,"name":"Ada"}')));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

// The gateway's fetch and http.request calls get CLIENT spans, and pass the trace on in their headers.
const undo = instrumentHttpClients(gateway);

await withSpan('checkout', async () => {
  const response = await fetch(`http://127.0.0.1:${server.address().port}/users/42`);
  console.log(await response.text());
});

undo();
server.close();
await Promise.all([gateway.close(), users.close()]);
