// examples/untraced-app.mjs
// An app with no tracing code: `node --import ziptrace/register examples/untraced-app.mjs` traces it.
import http from 'node:http';

const server = http.createServer(async (req, res) => {
  if (req.url === '/checkout') {
    // An outgoing call: under ziptrace/register, a CLIENT span that carries the trace to /stock.
    const stock = await (await fetch(`http://127.0.0.1:${server.address().port}/stock`)).json();
    res.end(JSON.stringify({ ordered: stock.count > 0 }));
  } else {
    res.end(JSON.stringify({ count: 3 }));
  }
});

server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => console.log(`listening on ${server.address().port}`));
