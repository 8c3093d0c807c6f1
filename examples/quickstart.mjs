// examples/quickstart.mjs
import { createTracer, withSpan, startSpan, currentSpan, MemoryReporter } from 'ziptrace';

const reporter = new MemoryReporter();
const tracer = createTracer({ serviceName: 'gateway', reporter, sampleRate: 1 });

async function handleRequest(userId) {
  // Everything started inside this function nests under 'GET /users/:id'.
  return withSpan('GET /users/:id', { kind: 'SERVER', tags: { 'http.method': 'GET' } }, async () => {
    const user = await withSpan('Slow SQL', { kind: 'CLIENT', tags: { 'db.type': 'sql' } }, async (span) => {
      span.annotate('START SQL');
      await new Promise((resolve) => setTimeout(resolve, 20));
      const parse = startSpan('parse rows'); // a child of 'Slow SQL', found through AsyncLocalStorage
      parse.finish();
      return { id: userId, name: 'Ada' };
    });
    currentSpan()?.tag('user.id', user.id);
    return user;
  });
}

await handleRequest(42);
await tracer.close();

for (const span of reporter.spans) {
  const parent = span.parentId ? `child of ${span.parentId}` : 'root';
  console.log(`${span.name.padEnd(16)} ${String(span.duration).padStart(7)} µs  id ${span.id}  ${parent}`);
}
console.log(JSON.stringify(reporter.spans, null, 2));
