// The timing loop every process of the propagation benchmark shares
// (propagation-hand.mjs, propagation-ziptrace.mjs, propagation-opentelemetry.mjs,
// propagation-zipkin-js.mjs), and the headers they all read.
//
// An operation is what a server that calls another service does with trace
// headers: read the incoming context from the request's headers, then write
// the headers of a child (a new span id, the incoming span its parent) into a
// fresh object for the outgoing request. Each library file gives, per
// operation, `extract(headers)`, `child(context)` and `inject(child, out)`;
// this file runs them, the same way for every library.
//
// The headers object is Node's own IncomingHttpHeaders: at start-up each
// process sends itself one request per workload over loopback, and keeps
// that request's `req.headers` for every operation.
//
// Driven by propagation.mjs over IPC, as harness.mjs's runChild is by run.mjs:
// 'warmup', then 'round' (every operation for --time ms, CPU time) as often
// as asked, or, in a process started with ALLOCATION_FLAGS, 'allocation';
// then 'summary'.
import { request, createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { bytesPerOp, options } from './harness.mjs';

export const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
export const SPAN_ID = '00f067aa0ba902b7';
export const PARENT_ID = '5b1d8a3c9e4f7021';
/** The child's span id, made beforehand: making ids is not what this measures. */
export const CHILD_SPAN_ID = 'e457b5a2e4d86bd1';

/** Per workload: the trace headers of the incoming request, and those the outgoing one must carry. */
export const WORKLOADS = {
  b3: {
    incoming: { 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': SPAN_ID, 'x-b3-parentspanid': PARENT_ID, 'x-b3-sampled': '1' },
    outgoing: { 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': CHILD_SPAN_ID, 'x-b3-parentspanid': SPAN_ID, 'x-b3-sampled': '1' },
  },
  'b3-single': {
    incoming: { b3: `${TRACE_ID}-${SPAN_ID}-1-${PARENT_ID}` },
    outgoing: { b3: `${TRACE_ID}-${CHILD_SPAN_ID}-1-${SPAN_ID}` },
  },
  traceparent: {
    incoming: { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` },
    outgoing: { traceparent: `00-${TRACE_ID}-${CHILD_SPAN_ID}-01` },
  },
};

/** What a service's request carries besides trace headers (Node adds `host`). */
const USUAL_HEADERS = { 'user-agent': 'checkout/2.4.1 node', accept: 'application/json', 'accept-encoding': 'gzip, deflate, br', connection: 'keep-alive' };

/** One loopback request per workload to a node:http server: each request's `req.headers`, by workload. */
async function incomingHeaders() {
  const received = new Map();
  const server = createServer((req, res) => {
    received.get(req.url.slice(1))(req.headers);
    res.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const out = {};
  for (const [name, { incoming }] of Object.entries(WORKLOADS)) {
    const headers = new Promise((resolve) => received.set(name, resolve));
    await new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: `/${name}`, agent: false, headers: { ...USUAL_HEADERS, ...incoming } }, (res) => res.resume().on('end', resolve));
      req.on('error', reject).end();
    });
    out[name] = await headers;
  }
  await new Promise((resolve) => server.close(resolve));
  return out;
}

/** The child context most libraries take: the incoming context as a plain object with a new span id, under the incoming span. */
export const plainChild = (context) => ({ ...context, spanId: CHILD_SPAN_ID, parentId: context.spanId });

/*
 * One operation, n times. Compiled from source once per operation, so that
 * each operation's loop has its own type feedback and optimised code: closures
 * of one function literal share theirs, so the calls to extract, child and
 * inject would turn polymorphic across a process's operations, and V8 would
 * inline them in a process with one operation (zipkin-js) and not in one with
 * four (ziptrace). The
 * context and the outgoing headers are stored where they outlive the
 * iteration, as a server's span and request would keep them, so that V8
 * cannot optimise their allocation away.
 */
const LOOP = `
  for (let i = 0; i < n; i++) {
    const context = extract(headers);
    const out = {};
    inject(child(context), out);
    kept.context = context;
    kept.out = out;
  }`;

/** Operations between two reads of the clock. */
const CHUNK = 256;

function timeRound(run, ms) {
  let ops = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const end = start + ms;
  do {
    run(CHUNK);
    ops += CHUNK;
  } while (performance.now() < end);
  const cpu = process.cpuUsage(cpuStart);
  return { ops, wallMs: performance.now() - start, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Headers with their names lower-cased (some libraries write `X-B3-TraceId`), in name order, for comparing. */
function lowerCased(headers) {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * Runs `operations` ({ name: { workload, variant?, extract, child, inject,
 * outgoing? } }): `workload` names the incoming headers (WORKLOADS), `variant`
 * says how this operation differs from the library's plain one for that
 * workload, `outgoing` replaces the workload's expected outgoing headers where
 * a library writes others by design. Every operation is checked once at
 * start-up; a mismatch is reported as a problem.
 */
export async function runPropagationChild(library, operations, { info = {} } = {}) {
  if (typeof process.send !== 'function') throw new Error(`${library}: run by bench/propagation.mjs, which drives it over IPC (npm run bench:propagation -- --lib ${library})`);
  const opts = options(process.argv.slice(2));
  const gc = globalThis.gc ?? (() => {});
  const headers = await incomingHeaders();
  const problems = [];
  const ops = Object.entries(operations).map(([name, op]) => {
    const loop = new Function('n', 'extract', 'child', 'inject', 'headers', 'kept', LOOP);
    const kept = { context: undefined, out: undefined };
    const carrier = headers[op.workload];
    return { name, op, kept, run: (n) => loop(n, op.extract, op.child, op.inject, carrier, kept) };
  });

  for (const { name, op, kept, run } of ops) {
    run(1);
    const expected = JSON.stringify(lowerCased(op.outgoing ?? WORKLOADS[op.workload].outgoing));
    const got = JSON.stringify(lowerCased(kept.out));
    if (got !== expected) problems.push(`${library} ${name}: wrote ${got}, expected ${expected}`);
  }

  const warmUp = () => {
    for (const { run } of ops) {
      const deadline = performance.now() + opts.warmupMs;
      while (performance.now() < deadline) timeRound(run, Math.min(50, opts.warmupMs));
    }
  };
  /** One round of every operation: ns per operation for each. */
  const round = () => {
    const out = {};
    for (const { name, run } of ops) {
      gc();
      const { ops: n, wallMs, cpuMs } = timeRound(run, opts.roundMs);
      out[name] = ((opts.clock === 'wall' ? wallMs : cpuMs) * 1e6) / n;
    }
    return out;
  };
  /**
   * Bytes per operation (bytesPerOp), and, when the extracted context is flat
   * (an object whose own properties hold no objects), the bytes of an object
   * literal with the same properties, which is what the context itself takes:
   * the goal compares ziptrace's allocation with it.
   */
  const allocation = async () => {
    const out = {};
    for (const { name, kept, run } of ops) {
      const { bytes, ops: n, highest } = await bytesPerOp(run);
      out[name] = { bytesPerOp: bytes, opsPerWindow: n, highestWindow: highest };
      const context = kept.context;
      if (typeof context === 'object' && context !== null && Object.values(context).every((value) => typeof value !== 'object' && typeof value !== 'function')) {
        const fields = Object.keys(context).map((key) => `${JSON.stringify(key)}: c[${JSON.stringify(key)}]`);
        const copy = new Function('n', 'c', 'kept', `for (let i = 0; i < n; i++) kept.copy = { ${fields.join(', ')} };`);
        const sink = {};
        out[name].contextBytes = (await bytesPerOp((m) => copy(m, context, sink))).bytes;
      }
    }
    return out;
  };
  const summary = () => ({
    library,
    node: process.version,
    options: opts,
    operations: ops.map(({ name, op }) => ({ name, workload: op.workload, variant: op.variant })),
    sample: Object.fromEntries(ops.map(({ name, kept }) => [name, lowerCased(kept.out)])),
    info,
    problems,
  });

  process.on('message', async (message) => {
    if (message === 'warmup') warmUp();
    const reply = message === 'round' ? round() : message === 'allocation' ? await allocation() : message === 'summary' ? summary() : null;
    process.send({ message, reply });
    if (message === 'summary') process.disconnect();
  });
  process.send({ message: 'ready' });
}
