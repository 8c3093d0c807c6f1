// The timing loop every library's benchmark process shares.
//
// A library file (bench/ziptrace.mjs, bench/opentelemetry.mjs, ...) sets its
// tracer up and calls runChild() with its workloads. run.mjs starts one such
// process per library per Node version and drives them over IPC, one round at
// a time: a round of the floor, then a round of each library, then the next
// round. The processes take turns, so a busy spell on the machine falls on all
// of them alike, and each library is compared with the floor of its own round.
// Run directly (`node bench/ziptrace.mjs`), a file runs its rounds by itself
// and prints the result as one JSON line.
//
// An operation is an async function; the loop awaits each one in turn, so
// AsyncLocalStorage really propagates across the await inside it. A round runs
// operations for a fixed time, then flushes what the library still holds
// (encoding included) before the clock stops, so the encoding of every span is
// counted.
//
// After the timing rounds, run.mjs (and propagation.mjs, for its own
// processes) starts each library once more, in a process of its own with
// ALLOCATION_FLAGS, and asks it for the bytes each workload allocates
// (bytesPerOp): those flags change how often the garbage collector runs, so
// they stay out of the processes that are timed.
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance, PerformanceObserver } from 'node:perf_hooks';

/**
 * Finished spans are encoded in batches of this many, as OpenTelemetry's
 * BatchSpanProcessor does by default (maxExportBatchSize), in every library.
 */
export const BATCH = 512;

/** Operations between two reads of the clock. */
const CHUNK = 64;

/**
 * The floor: what any AsyncLocalStorage-based tracer costs at least, one
 * `run` with an `await` inside. It runs alone in its own process (floor.mjs):
 * on Node 20 and 22 every AsyncLocalStorage in a process adds to the cost of
 * every promise, so a second one beside a library's would slow both.
 */
export function floorWorkload() {
  const als = new AsyncLocalStorage();
  const store = { span: 'floor' };
  const body = async () => {
    await null;
  };
  return { spans: 1, encodes: false, op: () => als.run(store, body) };
}

/**
 * The bytes of a batch's JSON body, as an HTTP exporter must make them to
 * write the request: every library's batch goes through this, so a body
 * built as a rope of many small strings pays for flattening it, as it would
 * on the wire.
 */
export function wireBytes(body) {
  return Buffer.from(body).length;
}

/** Counts of encoded spans and JSON bytes, kept by each library's reporter/exporter. */
export function makeCounts() {
  return { spans: 0, bytes: 0, sample: undefined };
}

/** Options, from the command line: --quick, --warmup MS, --time MS, --rounds N, --only NAME[,NAME] (run directly: only those workloads, to profile one). */
export function options(argv) {
  const get = (flag, fallback) => {
    const at = argv.indexOf(flag);
    return at >= 0 ? Number(argv[at + 1]) : fallback;
  };
  const quick = argv.includes('--quick');
  return {
    warmupMs: get('--warmup', quick ? 150 : 500),
    roundMs: get('--time', quick ? 150 : 600),
    rounds: get('--rounds', quick ? 1 : 9),
    clock: argv.includes('--wall') ? 'wall' : 'cpu',
    only: argv.includes('--only') ? onlyNames(argv[argv.indexOf('--only') + 1]) : undefined,
  };
}

/** `--only`'s workloads; a missing list is a mistake to say, not an empty run. */
function onlyNames(value) {
  if (value === undefined || value.startsWith('--')) throw new Error('--only needs the workloads to run, comma-separated: --only sampled,nested');
  return value.split(',');
}

/**
 * Node flags of the processes that measure allocation: gc(), so that each
 * window starts from an empty young generation, and a young generation of two
 * 128 MB semi-spaces, that size from the start rather than grown after
 * collections, so that a window of ALLOCATION_BUDGET bytes fits in it without
 * a collection. Node 20, 22 and 24 all accept them.
 */
export const ALLOCATION_FLAGS = ['--expose-gc', '--max-semi-space-size=128', '--min-semi-space-size=128'];

/** What a window should allocate at most: a quarter of a semi-space, far from a scavenge. */
const ALLOCATION_BUDGET = 32 * 1024 * 1024;
/** Windows per measurement; the least counts (see bytesPerOp). */
const ALLOCATION_WINDOWS = 7;

/** Start times (performance.now()) of the collections seen, from the moment bytesPerOp first runs. */
const collections = [];
let gcObserver;

/**
 * A collection of the young generation (a scavenge), resolved once its
 * PerformanceObserver entry is in. Entries arrive in order, a few turns of the
 * event loop late, so once this one's is in, so is that of every collection
 * before it. Not a full collection: full ones age the code of functions, and
 * with two of them per window V8 threw the operations' compiled code away and
 * compiled it again inside the windows (100 KB of code and up to 8% more bytes
 * per operation in a window, on Node 20 and 22).
 */
async function collect() {
  const at = performance.now();
  globalThis.gc({ type: 'minor' });
  for (let turns = 0; !(collections.at(-1) >= at); turns++) {
    if (turns > 1000) throw new Error('bytesPerOp: the PerformanceObserver reported no gc entry for gc()');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Bytes allocated by `run(n)`, from an empty young generation on: heapUsed (every
 * space, so what is pretenured into old space counts too) after the window
 * less before it. Undefined when a collection ran inside the window, which
 * would have freed some of it.
 */
async function windowBytes(run, n) {
  await collect();
  const from = performance.now();
  const before = process.memoryUsage().heapUsed;
  await run(n);
  const after = process.memoryUsage().heapUsed;
  const to = performance.now();
  await collect();
  return collections.some((t) => t > from && t < to) ? undefined : after - before;
}

/**
 * Bytes allocated per operation, in a process started with ALLOCATION_FLAGS
 * and warmed up, so that compiling and optimising are over and only the
 * operations allocate. `run(n)` does n operations, and may return a promise.
 *
 * `run` is called 200 times unmeasured first: its loop is new, and V8
 * compiles a function in tiers as it is called, which allocates too.
 * Then: empty windows (run(0): reading heapUsed and the await allocate too)
 * give the overhead to subtract; a short window sizes the others to allocate
 * about ALLOCATION_BUDGET; the least of ALLOCATION_WINDOWS windows' bytes per
 * operation is returned, with the operations per window and the highest
 * window's. The least, not the median: warmed-up operations allocate the same
 * in every window of the same size, and what else lands in the heap while one
 * runs (code compiled late, say) only adds. A window in which a collection
 * ran is done again with half as many operations.
 */
export async function bytesPerOp(run) {
  if (typeof globalThis.gc !== 'function') throw new Error('bytesPerOp needs node --expose-gc (ALLOCATION_FLAGS)');
  if (gcObserver === undefined) {
    gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) collections.push(entry.startTime);
    });
    gcObserver.observe({ entryTypes: ['gc'] });
  }
  for (let i = 0; i < 200; i++) await run(16);
  const empty = [];
  while (empty.length < ALLOCATION_WINDOWS) {
    const bytes = await windowBytes(run, 0);
    if (bytes !== undefined) empty.push(bytes);
  }
  const overhead = Math.min(...empty);
  const probe = 64;
  const probeBytes = (await windowBytes(run, probe)) ?? ALLOCATION_BUDGET;
  let ops = Math.max(16, Math.min(1_000_000, Math.floor((ALLOCATION_BUDGET * probe) / Math.max(probe, probeBytes - overhead))));
  const perOp = [];
  while (perOp.length < ALLOCATION_WINDOWS) {
    const bytes = await windowBytes(run, ops);
    if (bytes !== undefined) perOp.push((bytes - overhead) / ops);
    else if (ops > 1) ops >>= 1;
    else throw new Error('bytesPerOp: a collection runs during every window, even of one operation');
  }
  return { bytes: Math.min(...perOp), ops, highest: Math.max(...perOp) };
}

async function timeRound(workload, ms, flush) {
  const op = workload.op;
  let ops = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const end = start + ms;
  do {
    for (let i = 0; i < CHUNK; i++) await op();
    ops += CHUNK;
  } while (performance.now() < end);
  await flush();
  const cpu = process.cpuUsage(cpuStart);
  return { ops, wallMs: performance.now() - start, cpuMs: (cpu.user + cpu.system) / 1000 };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Runs `workloads` ({ name: { spans, encodes, op } }). `flush()` encodes what
 * the library still holds; `counts` is the library's encoded-span tally,
 * checked against the spans made.
 */
export async function runChild(library, workloads, { flush = async () => {}, counts = makeCounts(), info = {} } = {}) {
  const opts = options(process.argv.slice(2));
  const names = Object.keys(workloads).filter((name) => opts.only === undefined || opts.only.includes(name));
  const unknown = opts.only?.filter((name) => !(name in workloads)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: ${library} has no workload ${unknown.join(', ')} (it has ${Object.keys(workloads).join(', ')})`);
  const gc = globalThis.gc ?? (() => {});
  const problems = [];

  const warmUp = async () => {
    for (const name of names) {
      const deadline = performance.now() + opts.warmupMs;
      while (performance.now() < deadline) await timeRound(workloads[name], Math.min(50, opts.warmupMs), flush);
    }
  };
  /** One round of every workload: ns per span for each. */
  const round = async () => {
    const out = {};
    for (const name of names) {
      const workload = workloads[name];
      gc();
      const before = counts.spans;
      const { ops, wallMs, cpuMs } = await timeRound(workload, opts.roundMs, flush);
      const spans = ops * workload.spans;
      out[name] = ((opts.clock === 'wall' ? wallMs : cpuMs) * 1e6) / spans;
      const encoded = counts.spans - before;
      const expected = workload.encodes ? spans : 0;
      if (encoded !== expected) problems.push(`${library} ${name}: encoded ${encoded} spans, expected ${expected}`);
    }
    return out;
  };
  /**
   * Bytes each workload allocates per span, flushing included (see
   * bytesPerOp), in a process started with ALLOCATION_FLAGS after warm-up.
   */
  const allocation = async () => {
    const out = {};
    for (const name of names) {
      const { op, spans } = workloads[name];
      const { bytes, ops, highest } = await bytesPerOp(async (n) => {
        for (let i = 0; i < n; i++) await op();
        await flush();
      });
      out[name] = { bytesPerSpan: bytes / spans, opsPerWindow: ops, highestWindow: highest / spans };
    }
    return out;
  };
  const summary = () => ({
    library,
    node: process.version,
    options: opts,
    workloads: names,
    bytesPerSpan: counts.spans > 0 ? Math.round(counts.bytes / counts.spans) : undefined,
    sample: counts.sample,
    info,
    problems,
  });

  if (typeof process.send === 'function') {
    // Driven by run.mjs: do what each message asks, answer, wait for the next.
    process.on('message', async (message) => {
      if (message === 'warmup') await warmUp();
      const reply = message === 'round' ? await round() : message === 'allocation' ? await allocation() : message === 'summary' ? summary() : null;
      process.send({ message, reply });
      if (message === 'summary') process.disconnect();
    });
    process.send({ message: 'ready' });
    return;
  }

  await warmUp();
  const rounds = [];
  for (let i = 0; i < opts.rounds; i++) rounds.push(await round());
  const results = {};
  for (const name of names) {
    const ns = rounds.map((r) => r[name]);
    results[name] = { nsPerSpan: median(ns), rounds: ns.map((n) => Math.round(n * 10) / 10) };
  }
  process.stdout.write(JSON.stringify({ ...summary(), results }) + '\n');
}
