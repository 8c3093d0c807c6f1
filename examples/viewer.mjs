// examples/viewer.mjs
import { createTracer, withSpan } from 'ziptrace';
import { renderTrace, startViewer } from 'ziptrace/viewer';

// A viewer on a free port (`ziptrace serve` takes 9411), and a tracer that sends to it.
const viewer = await startViewer({ port: 0 });
const tracer = createTracer({ serviceName: 'reports', zipkinUrl: viewer.url });

let traceId;
await withSpan('GET /report', { kind: 'SERVER' }, async (span) => {
  traceId = span.context.traceId;
  for (const page of [1, 2, 3]) {
    await withSpan('SELECT page', { tags: { page } }, () => new Promise((resolve) => setTimeout(resolve, 5)));
  }
});
await tracer.close(); // sends what is queued

// The trace as the page gets it (tree, self time, critical path, hints), drawn for the terminal.
const view = await (await fetch(`${viewer.url}/ziptrace/api/trace/${traceId}`)).json();
console.log(renderTrace(view, { width: 100 }));
console.log(view.hints.map((hint) => hint.message).join('\n'));
await viewer.close();
