// examples/otlp.mjs
import http from 'node:http';
import { createTracer, withSpan, OtlpReporter } from 'ziptrace';

// Where to send: OTLP_URL (a Collector, Jaeger v2 or Tempo: http://127.0.0.1:4318), else a tiny receiver of our own.
let url = process.env.OTLP_URL;
const received = [];
let receiver;
if (!url) {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk)).on('end', () => {
      for (const { resource, scopeSpans } of JSON.parse(body).resourceSpans) {
        const service = resource.attributes.find((a) => a.key === 'service.name').value.stringValue;
        for (const { spans } of scopeSpans) for (const span of spans) received.push({ service, path: req.url, ...span });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${receiver.address().port}`;
}

// JSON for our own receiver, so that it can read it without a protobuf library; protobuf (the default) for a real one.
const reporter = new OtlpReporter({ url, encoding: receiver ? 'json' : 'protobuf', gzip: false });
const tracer = createTracer({ serviceName: 'checkout', reporter });

await withSpan('POST /pay', { kind: 'SERVER', tags: { 'http.method': 'POST' } }, async () => {
  await withSpan('charge card', { kind: 'CLIENT', remoteEndpoint: { serviceName: 'bank', port: 443 } }, async (span) => {
    span.annotate('sent');
    span.tag('error', 'card declined');
  });
});
await tracer.close();

console.log(`sent ${reporter.stats().sent} spans to ${reporter.url}`);
for (const span of received) {
  const attributes = span.attributes?.map((a) => `${a.key}=${Object.values(a.value)[0]}`).join(' ') ?? '';
  console.log(`${span.path} ${span.service} ${span.name} kind=${span.kind} status=${span.status?.code ?? 0} ${attributes}`);
}
receiver?.close();
