// One server of the HTTP benchmark (bench/http.mjs): a hello-world app on
// 127.0.0.1 that answers GET /hello/:name with a short JSON body, in one
// framework, traced one way, reporting to the loopback collector.
//
//   node bench/http-server.mjs --framework http|express|fastify
//                              --mode plain|work|als|ziptrace|ziptrace-unsampled|opentelemetry
//                              --collector http://127.0.0.1:PORT [--alloc] [--work-us N]
//
// `work` is no tracer: the plain app whose route first keeps the main thread
// busy for --work-us microseconds (5 unless given): the calibration of what
// the benchmark reports for a known amount of work added to each request.
// `als` is no tracer either: the plain app with each request run inside
// `AsyncLocalStorage.run()` with a fresh store, the least any tracer that
// keeps its context in AsyncLocalStorage adds to a request it does not record
// (an unsampled one must still be the active context, so that what the
// handler calls passes the decision on).
//
// Each mode is wired as its documentation tells a user to wire it; the
// framework is loaded only after the tracing is set up (OpenTelemetry patches
// node:http when it is required), and the same way in every mode.
//
// Driven by http.mjs over IPC:
//   ← { type: 'ready', port, info }
//   → { type: 'start' }       start the clocks ← { type: 'started' }
//   → { type: 'flush' }       load is over: wait for the connections to close, flush the tracer
//                             ← { type: 'flushed', requests }
//   → { type: 'read' }        the collector has every span: stop the clocks
//                             ← { type: 'result', requests, cpuUs, userUs, mainThreadMs, otherThreadsMs, stats }
//   → { type: 'alloc-start' } (--alloc, with --expose-gc) gc(), then note the heap ← { type: 'alloc-started' }
//   → { type: 'alloc-stop' }  flush, note the heap ← { type: 'alloc-result', requests, bytes, gcs }
//   → { type: 'exit' }
// The clocks are process.cpuUsage() (user + system, every thread of the
// process) and, per thread, /proc/self/task/*/stat; the request count is the
// server's own, counted in the route's handler.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const FRAMEWORKS = ['http', 'express', 'fastify'];
const MODES = ['plain', 'work', 'als', 'ziptrace', 'ziptrace-unsampled', 'opentelemetry'];

function arg(name) {
  const at = process.argv.indexOf(`--${name}`);
  const value = at < 0 ? undefined : process.argv[at + 1];
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}
const framework = arg('framework');
const mode = arg('mode');
const collector = arg('collector');
if (!FRAMEWORKS.includes(framework)) throw new Error(`--framework must be one of ${FRAMEWORKS.join(', ')}`);
if (!MODES.includes(mode)) throw new Error(`--mode must be one of ${MODES.join(', ')}`);
const serviceName = `hello-${framework}`;

/** Requests the route answered: the count every per-request number is divided by. */
let served = 0;

/** Microseconds of work the `work` mode's route does per request; 0 in every other mode. */
const workAt = process.argv.indexOf('--work-us');
const workUs = mode !== 'work' ? 0 : workAt < 0 ? 5 : Number(process.argv[workAt + 1]);
if (!Number.isFinite(workUs) || workUs < 0) throw new Error('--work-us needs a number of microseconds');

/** Where the spin's arithmetic goes, so that the compiler cannot drop it. */
let sink = 1;

/**
 * The work mode's known cost per request: the main thread kept busy for
 * `workUs`, on the clock (performance.now()), read every 256 steps of
 * arithmetic (about a quarter of a µs here). On the clock, not a number of
 * steps timed once: a first version ran steps timed at start-up, and inlined
 * into Fastify's handler they ran about five times slower than timed. Every
 * 256 steps, not every step: on Node 20 and 22 each read of the clock
 * allocates its number (2.3 to 2.8 KB a request, read at every step). Wall
 * time is the thread's CPU time as long as it is not preempted: the server
 * has a core to itself most of a round (the output says how busy the rest of
 * the machine was).
 */
function work() {
  if (workUs === 0) return;
  const until = performance.now() + workUs / 1000;
  let x = sink;
  do {
    for (let i = 0; i < 256; i++) x = (Math.imul(x, 1103515245) + 12345) | 0;
  } while (performance.now() < until);
  sink = x;
}

/** ziptrace from the built dist/, or the dist/ named by ZIPTRACE_DIST (as the other benchmarks do). */
async function ziptrace(sampleRate) {
  const dist = process.env.ZIPTRACE_DIST ? pathToFileURL(`${process.env.ZIPTRACE_DIST}/`).href : new URL('../dist/', import.meta.url).href;
  const load = (entry) => import(new URL(`esm/${entry}.mjs`, dist).href);
  const [{ createTracer, HttpReporter }, http, express, fastify] = await Promise.all([load('index'), load('http'), load('express'), load('fastify')]);
  // README "Quick start" / "HttpReporter": a tracer reporting to a Zipkin collector, every other option its default.
  const tracer = createTracer({ serviceName, sampleRate, reporter: new HttpReporter({ url: collector }) });
  return {
    flush: () => tracer.flush(),
    close: () => tracer.close(),
    // README "HTTP servers": a plain listener is named by the `name` hook, never by the raw path.
    http: (handler) => http.tracedHandler(tracer, handler, { name: (req) => (req.url.startsWith('/hello/') ? `${req.method} /hello/:name` : req.method) }),
    // Made only by the Express server: expressTracing() subscribes to Node's http.server.request.start for the
    // process (lib/instrumentation/early-records.ts), a cost the node:http and Fastify servers must not pay.
    express: () => ({ before: [express.expressTracing(tracer)], after: [express.expressErrorTracing()] }),
    fastify: (app) => app.register(fastify.fastifyTracing, { tracer }),
    stats: () => tracer.reporter?.stats?.() ?? tracer.stats(),
    // When the build was made: dist/ may be rebuilt during a run, and each server measures the one it loaded.
    info: { dist: process.env.ZIPTRACE_DIST ?? 'dist', built: statSync(new URL('esm/index.mjs', dist)).mtime.toISOString(), sampleRate, reporter: 'HttpReporter, default options (plain JSON: the collector is on loopback)' },
  };
}

/**
 * OpenTelemetry as its Node.js getting-started wires it: a tracer provider
 * with a BatchSpanProcessor and the Zipkin exporter, registered globally with
 * the AsyncLocalStorage context manager and W3C propagation (what
 * NodeTracerProvider.register() does; @opentelemetry/sdk-trace-node is not
 * installed, and BasicTracerProvider is its base), then the HTTP
 * instrumentation, before anything loads node:http for the app.
 */
async function openTelemetry() {
  const { context, propagation, trace } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } = await import('@opentelemetry/core');
  const { ZipkinExporter } = await import('@opentelemetry/exporter-zipkin');
  const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new BatchSpanProcessor(new ZipkinExporter({ url: `${collector}/api/v2/spans` }))],
  });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });
  return {
    flush: () => provider.forceFlush(),
    close: () => provider.shutdown(),
    info: { processor: 'BatchSpanProcessor, default options', exporter: 'ZipkinExporter', sampler: 'AlwaysOnSampler', instrumentations: ['@opentelemetry/instrumentation-http'] },
  };
}

const tracing = mode === 'ziptrace' ? await ziptrace(1) : mode === 'ziptrace-unsampled' ? await ziptrace(0) : mode === 'opentelemetry' ? await openTelemetry() : undefined;

// Loaded through require, after the tracing, in every mode alike: require is what OpenTelemetry's hook sees.
const require = createRequire(import.meta.url);
const http = require('node:http');
if (mode === 'als') {
  // Wrapped where OpenTelemetry's instrumentation wraps it, so that every framework's server gets it alike.
  const { AsyncLocalStorage } = require('node:async_hooks');
  const als = new AsyncLocalStorage();
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function emitInStore(event, req, res) {
    if (event !== 'request') return emit.apply(this, arguments);
    return als.run({ req }, () => emit.call(this, event, req, res));
  };
}
if (mode === 'opentelemetry' && typeof http.Server.prototype.emit.__wrapped !== 'boolean') {
  throw new Error('@opentelemetry/instrumentation-http did not patch http.Server: loaded too early?');
}

const body = (name) => ({ hello: name });

/** The app; resolves to its listening http.Server. */
async function listen() {
  if (framework === 'http') {
    const hello = (req, res) => {
      if (!req.url.startsWith('/hello/')) {
        res.statusCode = 404;
        res.end();
        return;
      }
      served++;
      work();
      const end = req.url.indexOf('?');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body(req.url.slice(7, end < 0 ? undefined : end))));
    };
    const server = http.createServer(tracing?.http ? tracing.http(hello) : hello);
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }
  if (framework === 'express') {
    const app = require('express')();
    const traced = tracing?.express?.();
    for (const middleware of traced?.before ?? []) app.use(middleware);
    app.get('/hello/:name', (req, res) => {
      served++;
      work();
      res.json(body(req.params.name));
    });
    for (const middleware of traced?.after ?? []) app.use(middleware);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
    return server;
  }
  const app = require('fastify')();
  if (tracing?.fastify) await tracing.fastify(app);
  app.get('/hello/:name', async (request) => {
    served++;
    work();
    return body(request.params.name);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app.server;
}

const server = await listen();

/** CPU ms of the main thread and of all the others (libuv's pool, V8's GC and compiler threads), from /proc. */
function threadTimes() {
  let main = 0;
  let other = 0;
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the command name, which is in brackets and may hold spaces: utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
      if (Number(tid) === process.pid) main += ms;
      else other += ms;
    }
  } catch {
    return undefined; // not Linux: the per-thread split is left out
  }
  return { main, other };
}

const connections = () => new Promise((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count)));

/**
 * After autocannon stops, its sockets close on the server a moment later, and
 * a request cut off then still ends its span (aborted): wait for every
 * connection to be gone, at most 2 s, so every span of the round exists.
 */
async function quiet() {
  const deadline = performance.now() + 2000;
  while ((await connections()) > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

let clocks;
/** The open allocation window: heapUsed, time and requests at its start, its end once closed, the GCs seen in it (any one spoils it). */
let alloc;
// Only in the allocation phase's servers (--alloc): the CPU phase's pay for no observer.
if (process.argv.includes('--alloc')) {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (alloc !== undefined && entry.startTime >= alloc.at && entry.startTime <= (alloc.end ?? Infinity)) alloc.gcs++;
  }).observe({ entryTypes: ['gc'] });
}
process.on('message', async (message) => {
  if (message.type === 'start') {
    clocks = { cpu: process.cpuUsage(), threads: threadTimes(), served };
    process.send({ type: 'started' });
  } else if (message.type === 'flush') {
    await quiet();
    await tracing?.flush();
    process.send({ type: 'flushed', requests: served - clocks.served });
  } else if (message.type === 'read') {
    const cpu = process.cpuUsage(clocks.cpu);
    const threads = threadTimes();
    process.send({
      type: 'result',
      requests: served - clocks.served,
      cpuUs: cpu.user + cpu.system,
      userUs: cpu.user,
      mainThreadMs: threads && threads.main - clocks.threads.main,
      otherThreadsMs: threads && threads.other - clocks.threads.other,
      stats: tracing?.stats?.(),
    });
  } else if (message.type === 'alloc-start') {
    await tracing?.flush();
    globalThis.gc();
    globalThis.gc();
    alloc = { heap: process.memoryUsage().heapUsed, at: performance.now(), served, gcs: 0 };
    process.send({ type: 'alloc-started' });
  } else if (message.type === 'alloc-stop') {
    // The spans' export is part of what a request allocates, as their CPU is part of what it costs.
    await tracing?.flush();
    const heap = process.memoryUsage().heapUsed;
    alloc.end = performance.now();
    // The observer hears of a GC a turn of the event loop after it ran.
    await new Promise((resolve) => setTimeout(resolve, 10));
    const window = alloc;
    alloc = undefined;
    process.send({ type: 'alloc-result', requests: served - window.served, bytes: heap - window.heap, gcs: window.gcs });
  } else if (message.type === 'exit') {
    server.close();
    server.closeAllConnections?.();
    await tracing?.close();
    // Exit rather than wait for sockets kept alive; exiting normally still writes a --cpu-prof profile.
    process.exit(0);
  }
});
// The driver went away (killed, crashed): nothing will ask for anything again.
process.on('disconnect', () => process.exit(1));

process.send({ type: 'ready', port: server.address().port, info: { framework, mode, node: process.version, ...tracing?.info, ...(workUs > 0 ? { workUs } : {}) } });
