// ziptrace's propagators, from the built dist/ (propagation.mjs builds it when
// missing or stale), or from the dist/ directory named by ZIPTRACE_DIST
// (propagation.mjs --dist), through the public API with its default getter
// and setter, as the HTTP instrumentation calls them.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { CHILD_SPAN_ID, runPropagationChild, WORKLOADS } from './propagation-harness.mjs';

const dist = process.env.ZIPTRACE_DIST ?? fileURLToPath(new URL('../dist', import.meta.url));
// When the build loaded was made: a rebuild may replace dist/ while a run goes from one Node version to the next.
const built = statSync(join(dist, 'cjs', 'index.js')).mtime.toISOString();
const { B3MultiPropagator, B3SinglePropagator, CompositePropagator, W3CPropagator } = await import(pathToFileURL(join(dist, 'esm', 'index.mjs')).href);

// The child's context as the tracer makes it for a child span (Tracer's _childContext): a context of the
// tracer's own making, whose ids inject need not check again. Not public API, so read from the build's module.
const { makeContext } = createRequire(import.meta.url)(join(dist, 'cjs', 'trace-context.js'));
const child = (c) => makeContext(c.traceId, CHILD_SPAN_ID, c.spanId, c.sampled, c.debug, false, c.tracestate, c.source, c.random === true);

const b3 = new B3MultiPropagator();
const b3Single = new B3SinglePropagator();
const w3c = new W3CPropagator();
// What a tracer propagates with unless told otherwise: reads b3 single, B3 multi, then traceparent; writes B3 multi and traceparent.
const composite = new CompositePropagator();

await runPropagationChild(
  'ziptrace',
  {
    b3: { workload: 'b3', extract: (headers) => b3.extract(headers), child, inject: (context, out) => b3.inject(context, out) },
    'b3-single': { workload: 'b3-single', extract: (headers) => b3Single.extract(headers), child, inject: (context, out) => b3Single.inject(context, out) },
    traceparent: { workload: 'traceparent', extract: (headers) => w3c.extract(headers), child, inject: (context, out) => w3c.inject(context, out) },
    composite: {
      workload: 'b3',
      variant: 'CompositePropagator, the default',
      extract: (headers) => composite.extract(headers),
      child,
      inject: (context, out) => composite.inject(context, out),
      outgoing: { ...WORKLOADS.b3.outgoing, traceparent: WORKLOADS.traceparent.outgoing.traceparent },
    },
  },
  { info: { dist: process.env.ZIPTRACE_DIST ?? 'dist', built } },
);
