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
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';

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

/** Options, from the command line: --quick, --warmup MS, --time MS, --rounds N. */
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
  };
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
  const names = Object.keys(workloads);
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
      const reply = message === 'round' ? await round() : message === 'summary' ? summary() : null;
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
