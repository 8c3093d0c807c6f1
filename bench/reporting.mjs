// The reporting benchmark: spans per second from finish() to bytes received by
// a loopback Zipkin collector, and CPU time per span, for ziptrace's
// HttpReporter and OpenTelemetry's ZipkinExporter behind its BatchSpanProcessor.
//
//   npm run bench:reporting                   Node 20, 22 and 24 (about 2 minutes)
//   npm run bench -- --reporting              the same, through run.mjs
//   npm run bench:reporting -- --quick        smoke run, seconds (results/reporting-quick.json)
//   npm run bench:reporting -- --node 22      one Node version (or --node 20,24)
//   npm run bench:reporting -- --spans 100000 --rounds 5
//   npm run bench:reporting -- --dist DIR     another ziptrace build (its dist/ folder)
//   npm run bench:reporting -- --build        rebuild dist/ first
//   npm run bench:reporting -- --out FILE
//   npm run bench:reporting -- --cpu-prof DIR   profile the library processes (node --cpu-prof) into DIR
//   npm run bench:reporting -- --no-allocation  skip the allocation phase
//
// Processes: one collector (bench/collector.mjs, on the node running this
// script) for the whole run, and for each Node version one process per
// library (bench/reporting-ziptrace.mjs, bench/reporting-opentelemetry.mjs,
// sharing bench/reporting-child.mjs). A round: the collector is told to expect
// N spans, the library makes N spans and flushes, and the round ends when the
// collector has counted all N (N minus what the library says it dropped).
// The libraries take turns, one round each, in alternating order.
//
// "Span only": for each library one more process makes the same spans in the
// same bursts with nothing exported (ziptrace: a reporter handed each finished
// span as HttpReporter is, which only counts it; OpenTelemetry: a span
// processor that does nothing on end), in the same rotation, its round ending
// when its N spans are made. The way out, what
// a span costs after finish(), is a configuration's CPU per span less its
// library's span-only CPU per span. Then, in fresh processes started with
// harness.mjs ALLOCATION_FLAGS, the bytes each configuration allocates per span
// (reporting-child.mjs, 'allocation'). See bench/README.md, "Reporting".
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eachOption, ensureBuilt, MessageChild, nodesFor } from './processes.mjs';
import { machine, versions, writeResults } from './results.mjs';
import { ALLOCATION_FLAGS, median } from './harness.mjs';
import { BATCH, BURST, INTERVAL_MS, OTEL_QUEUE, ZIPTRACE_QUEUE } from './reporting-child.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const LIBRARIES = [
  { id: 'ziptrace', label: 'ziptrace', file: 'reporting-ziptrace.mjs', argv: [], spanOnly: 'ziptrace' },
  { id: 'opentelemetry', label: 'OpenTelemetry', file: 'reporting-opentelemetry.mjs', argv: [], spanOnly: 'opentelemetry' },
  // For reference: what gzip costs and saves, as the default has it for a collector on another machine. Not part of the goal's comparison.
  { id: 'ziptrace-gzip', label: 'ziptrace, gzip on', file: 'reporting-ziptrace.mjs', argv: ['--gzip', 'on'], spanOnly: 'ziptrace' },
];
/** The same spans, nothing exported: what each library costs up to finish(), to subtract. */
const SPAN_ONLY = [
  { id: 'ziptrace', label: 'ziptrace, span only', file: 'reporting-ziptrace.mjs', argv: ['--span-only'] },
  { id: 'opentelemetry', label: 'OpenTelemetry, span only', file: 'reporting-opentelemetry.mjs', argv: ['--span-only'] },
];
/** The issue's goal: ziptrace's throughput at least this many times OpenTelemetry's. */
const GOAL = 3;
/** The way out's goal: OpenTelemetry's way-out CPU per span at least this many times ziptrace's (ziptrace's at most half). */
const WAY_OUT_GOAL = 2;
export const WAY_OUT_UNIT =
  'way out: CPU ns per span of a configuration less that of its library\'s span-only process (same workload, N, bursts and turns of the event loop, nothing exported), as the difference of the medians (cpuNsPerSpan) and per round (perRound: min, median, max of round k less span-only round k); otelOverThis: OpenTelemetry\'s way out ÷ this one\'s, of the differences of medians; heapBytesPerSpan / offHeapBytesPerSpan: bytes allocated per span (V8 heapUsed; ArrayBuffers) in all less span only, from windows with no GC inside that end once the flush is answered';
export const UNIT =
  "spans/s: spans the collector counted ÷ wall time from the first span to the collector counting the last; CPU: library process user+system (all threads) over the same time ÷ spans; medians of the rounds; ratios: ratios of those medians (perRoundRatios: min, median and max of the per-round ratios against OpenTelemetry's round of the same turn)";

function parseArgs(argv) {
  const args = { quick: false, build: false, dist: undefined, nodes: [], spans: undefined, rounds: undefined, warmup: undefined, out: undefined, cpuProf: undefined, allocation: true };
  eachOption(argv, (arg, value) => {
    if (arg === '--reporting') return;
    else if (arg === '--quick') args.quick = true;
    else if (arg === '--build') args.build = true;
    else if (arg === '--dist') args.dist = value();
    else if (arg === '--node') args.nodes.push(...value().split(',').map(Number));
    else if (arg === '--spans') args.spans = Number(value());
    else if (arg === '--rounds') args.rounds = Number(value());
    else if (arg === '--warmup') args.warmup = Number(value());
    else if (arg === '--out') args.out = value();
    else if (arg === '--cpu-prof') args.cpuProf = resolve(value());
    else if (arg === '--no-allocation') args.allocation = false;
    else throw new Error(`unknown option ${arg}; see the top of bench/reporting.mjs`);
  });
  args.spans ??= args.quick ? 20_000 : 200_000;
  args.rounds ??= args.quick ? 1 : 5;
  args.warmup ??= args.quick ? 10_000 : 50_000;
  return args;
}

/** One round of one library: N spans, until the collector has them all. */
async function round(collector, child, n) {
  collector.send({ type: 'expect', n });
  await collector.next('expecting');
  const reached = collector.next('reached');
  child.send({ type: 'run', n });
  const produced = await child.next('produced');
  if (produced.dropped > 0) collector.send({ type: 'adjust', n: n - produced.dropped });
  const got = await reached;
  child.send({ type: 'stop' });
  const result = await child.next('result');
  const spans = got.spans;
  return {
    spans,
    spansPerSecond: Math.round(spans / (result.wallMs / 1000)),
    cpuNsPerSpan: Math.round((result.cpuMs * 1e6) / n),
    mainThreadCpuNsPerSpan: result.mainThreadCpuMs === undefined ? undefined : Math.round((result.mainThreadCpuMs * 1e6) / n),
    collectorCpuNsPerSpan: Math.round((got.cpuMs * 1e6) / spans),
    wallMs: Math.round(result.wallMs * 10) / 10,
    cpuMs: Math.round(result.cpuMs * 10) / 10,
    producedMs: Math.round(result.producedMs * 10) / 10,
    backpressureWaits: result.waits,
    dropped: result.dropped,
    requests: got.requests,
    gzippedRequests: got.gzipped,
    wireBytesPerSpan: Math.round((got.wireBytes / spans) * 10) / 10,
    jsonBytesPerSpan: Math.round((got.jsonBytes / spans) * 10) / 10,
    badRequests: got.bad,
    stats: result.stats,
    sample: got.sample,
  };
}

/**
 * One round of a span-only process: N spans, the same bursts and turns of the
 * event loop, nothing exported; the clocks stop as soon as it says the N are
 * made (its flush does nothing). `reported`: spans its reporter or processor
 * was handed in the round, which must be N.
 */
async function spanOnlyRound(child, n) {
  child.send({ type: 'run', n });
  await child.next('produced');
  child.send({ type: 'stop' });
  const result = await child.next('result');
  const reported = result.stats.reported - (child.reported ?? 0);
  child.reported = result.stats.reported;
  return {
    spans: n,
    spansPerSecond: Math.round(n / (result.wallMs / 1000)),
    cpuNsPerSpan: Math.round((result.cpuMs * 1e6) / n),
    mainThreadCpuNsPerSpan: result.mainThreadCpuMs === undefined ? undefined : Math.round((result.mainThreadCpuMs * 1e6) / n),
    wallMs: Math.round(result.wallMs * 10) / 10,
    cpuMs: Math.round(result.cpuMs * 10) / 10,
    reported,
  };
}

const ziptraceEnv = (lib, args) => (lib.file === 'reporting-ziptrace.mjs' && args.dist !== undefined ? { ...process.env, ZIPTRACE_DIST: resolve(args.dist) } : process.env);

/** The library processes of one Node version, LIBRARIES then SPAN_ONLY, started with `flags(name)`. */
function start(node, url, args, flags) {
  const configs = [...LIBRARIES.map((lib) => ({ ...lib, name: lib.id, exports: true })), ...SPAN_ONLY.map((lib) => ({ ...lib, name: `${lib.id}-span-only`, exports: false }))];
  return configs.map((lib) => ({
    lib,
    proc: new MessageChild(`${lib.name} on Node ${node.version}`, node.path, [join(here, lib.file), ...(lib.exports ? ['--url', url] : []), ...lib.argv], { env: ziptraceEnv(lib, args), flags: ['--expose-gc', ...flags(lib.name)] }),
  }));
}

async function measure(node, collector, url, args) {
  const all = start(node, url, args, (name) =>
    // Named by process alone, with no `${pid}` placeholder: Node 20 writes that literally (every process of one
    // library would overwrite one file), and the name and the major already tell the processes of a run apart.
    args.cpuProf === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${args.cpuProf}`, `--cpu-prof-name=${name}-node${node.major}.cpuprofile`],
  );
  const children = all.map((c) => c.proc);
  const turn = (i, n) => (all[i].lib.exports ? round(collector, children[i], n) : spanOnlyRound(children[i], n));
  try {
    const ready = await Promise.all(children.map((c) => c.next('ready', 30_000)));
    for (const [i, { lib }] of all.entries()) {
      process.stderr.write(`Node ${node.version}: warming up ${lib.name}\n`);
      await turn(i, args.warmup);
    }
    const rounds = children.map(() => []);
    for (let r = 0; r < args.rounds; r++) {
      process.stderr.write(`Node ${node.version}: round ${r + 1} of ${args.rounds}\n`);
      // Rotate the order from round to round, so none always follows the same one.
      for (let k = 0; k < children.length; k++) {
        const i = (r + k) % children.length;
        rounds[i].push(await turn(i, args.spans));
      }
    }
    for (const child of children) child.send({ type: 'exit' });
    await Promise.all(children.map((c) => c.exited));
    const n = LIBRARIES.length;
    return { rounds: rounds.slice(0, n), ready: ready.slice(0, n), spanOnlyRounds: rounds.slice(n), spanOnlyReady: ready.slice(n) };
  } finally {
    for (const child of children) child.kill();
  }
}

/**
 * Bytes allocated per span by each configuration, exporting and span only, in
 * fresh processes started with ALLOCATION_FLAGS (which change how often the
 * garbage collector runs, so the timed processes go without them), one after
 * the other: what the exporters allocate depends a little on timing (partial
 * batches, backpressure waits), so none shares the machine with another.
 * Each warms up with `args.warmup` spans, then runs reporting-child.mjs's
 * allocation windows. The collector is reset first, and must have counted
 * every span the exporting ones made.
 */
async function allocation(node, collector, url, args) {
  const out = { configurations: {}, spanOnly: {} };
  collector.send({ type: 'expect' });
  await collector.next('expecting');
  let exported = 0;
  for (const { lib, proc } of start(node, url, args, () => ALLOCATION_FLAGS)) {
    process.stderr.write(`Node ${node.version}: allocation, ${lib.name}\n`);
    try {
      await proc.next('ready', 30_000);
      proc.send({ type: 'allocation', warmup: args.warmup });
      const { type, ...got } = await proc.next('allocated', 300_000);
      proc.send({ type: 'exit' });
      await proc.exited;
      if (lib.exports) exported += args.warmup + got.spans;
      const entry = {
        heapBytesPerSpan: round1(got.heapBytesPerSpan),
        offHeapBytesPerSpan: got.offHeapBytesPerSpan === undefined ? undefined : round1(got.offHeapBytesPerSpan),
        spansPerWindow: got.spansPerWindow,
        heapHighestWindow: round1(got.heapHighestWindow),
        offHeapWindows: got.offHeapWindows,
        dropped: got.dropped,
      };
      if (lib.exports) out.configurations[lib.id] = entry;
      else out.spanOnly[lib.id] = entry;
    } finally {
      proc.kill();
    }
  }
  collector.send({ type: 'count' });
  const counted = await collector.next('counted');
  out.collector = { expected: exported, counted: counted.spans, bad: counted.bad };
  return out;
}

function summarize(node, { rounds, ready, spanOnlyRounds, spanOnlyReady }, allocated) {
  const libraries = {};
  for (const [i, lib] of LIBRARIES.entries()) {
    const rs = rounds[i];
    const med = (key) => median(rs.map((r) => r[key]));
    libraries[lib.id] = {
      info: ready[i].info,
      spansPerSecond: med('spansPerSecond'),
      cpuNsPerSpan: med('cpuNsPerSpan'),
      ...(rs[0].mainThreadCpuNsPerSpan === undefined ? {} : { mainThreadCpuNsPerSpan: med('mainThreadCpuNsPerSpan') }),
      collectorCpuNsPerSpan: med('collectorCpuNsPerSpan'),
      wireBytesPerSpan: med('wireBytesPerSpan'),
      jsonBytesPerSpan: med('jsonBytesPerSpan'),
      requestsPerRound: med('requests'),
      dropped: rs.reduce((sum, r) => sum + r.dropped, 0),
      badRequests: rs.reduce((sum, r) => sum + r.badRequests, 0),
      sample: rs[0].sample,
      rounds: rs.map(({ sample, ...rest }) => rest),
    };
  }
  const { ratios, perRoundRatios } = ratiosFor(libraries);
  const spanOnly = {};
  for (const [i, lib] of SPAN_ONLY.entries()) {
    const rs = spanOnlyRounds[i];
    spanOnly[lib.id] = {
      info: spanOnlyReady[i].info,
      cpuNsPerSpan: median(rs.map((r) => r.cpuNsPerSpan)),
      ...(rs[0].mainThreadCpuNsPerSpan === undefined ? {} : { mainThreadCpuNsPerSpan: median(rs.map((r) => r.mainThreadCpuNsPerSpan)) }),
      spansPerSecond: median(rs.map((r) => r.spansPerSecond)),
      rounds: rs,
    };
  }
  const run = { major: node.major, version: node.version, libraries, ratios, perRoundRatios, spanOnly };
  if (allocated !== undefined) run.allocation = allocated;
  run.wayOut = wayOutFor(run);
  const wayOutRatio = run.wayOut.ziptrace.otelOverThis;
  run.goal = {
    throughput: GOAL,
    met: ratios['throughput ziptrace/opentelemetry'] >= GOAL,
    wayOut: WAY_OUT_GOAL,
    wayOutRatio,
    wayOutMet: wayOutRatio >= WAY_OUT_GOAL,
  };
  return run;
}

const round1 = (n) => Math.round(n * 10) / 10;
const round2 = (n) => Math.round(n * 100) / 100;
const range = (values, round) => ({ min: round(Math.min(...values)), median: round(median(values)), max: round(Math.max(...values)) });

/**
 * The way out of each configuration in LIBRARIES: its CPU per span less its
 * library's span-only CPU per span, as the difference of the two medians
 * (`cpuNsPerSpan`, what the ratios use) and as the per-round differences
 * (`perRound`: min, median, max; round k of the configuration less round k of
 * its span-only process, both of the same rotation), with the bytes on the
 * wire; `otelOverThis`: OpenTelemetry's way out ÷ this one's, from the
 * differences of medians (`perRoundRatio`: the same from round k's
 * differences). With allocation measured, the bytes allocated per span, total
 * less span only, on the V8 heap and outside it (ArrayBuffers). Takes a run as
 * stored in results/reporting-latest.json.
 */
export function wayOutFor(run) {
  const wayOut = {};
  for (const lib of LIBRARIES) {
    const total = run.libraries[lib.id];
    const only = run.spanOnly[lib.spanOnly];
    const perRound = total.rounds.map((r, k) => r.cpuNsPerSpan - only.rounds[k].cpuNsPerSpan);
    wayOut[lib.id] = {
      spanOnly: lib.spanOnly,
      totalCpuNsPerSpan: total.cpuNsPerSpan,
      spanOnlyCpuNsPerSpan: only.cpuNsPerSpan,
      cpuNsPerSpan: total.cpuNsPerSpan - only.cpuNsPerSpan,
      perRound: range(perRound, Math.round),
      perRoundNs: perRound,
      wireBytesPerSpan: total.wireBytesPerSpan,
    };
    // Where Node can say (22 and 24): the way out on the main thread alone, the same way; the rest ran on other threads (libuv's pool: gzip; V8's: GC, compiling).
    if (total.mainThreadCpuNsPerSpan !== undefined && only.mainThreadCpuNsPerSpan !== undefined) wayOut[lib.id].mainThreadCpuNsPerSpan = total.mainThreadCpuNsPerSpan - only.mainThreadCpuNsPerSpan;
    const bytes = run.allocation?.configurations[lib.id];
    const onlyBytes = run.allocation?.spanOnly[lib.spanOnly];
    if (bytes !== undefined && onlyBytes !== undefined) {
      Object.assign(wayOut[lib.id], {
        heapBytesPerSpan: round1(bytes.heapBytesPerSpan - onlyBytes.heapBytesPerSpan),
        totalHeapBytesPerSpan: bytes.heapBytesPerSpan,
        spanOnlyHeapBytesPerSpan: onlyBytes.heapBytesPerSpan,
        offHeapBytesPerSpan: bytes.offHeapBytesPerSpan === undefined || onlyBytes.offHeapBytesPerSpan === undefined ? undefined : round1(bytes.offHeapBytesPerSpan - onlyBytes.offHeapBytesPerSpan),
        totalOffHeapBytesPerSpan: bytes.offHeapBytesPerSpan,
        spanOnlyOffHeapBytesPerSpan: onlyBytes.offHeapBytesPerSpan,
      });
    }
  }
  const o = wayOut.opentelemetry;
  for (const w of Object.values(wayOut)) {
    w.otelOverThis = round2(o.cpuNsPerSpan / w.cpuNsPerSpan);
    w.perRoundRatio = range(
      w.perRoundNs.map((ns, k) => o.perRoundNs[k] / ns),
      round2,
    );
  }
  return wayOut;
}

/**
 * Each ziptrace variant against OpenTelemetry, as ratios of the medians shown
 * (spans/s ÷ OpenTelemetry's spans/s; OpenTelemetry's CPU per span ÷ this
 * one's), so dividing the printed numbers gives the printed ratio; the goal
 * uses the same. `perRoundRatios`: min, median and max of the per-round ratios,
 * against OpenTelemetry's round of the same turn. Takes `libraries` as stored
 * in results/reporting-latest.json.
 */
export function ratiosFor(libraries) {
  const o = libraries.opentelemetry;
  const ratios = {};
  const perRoundRatios = {};
  for (const [id, z] of Object.entries(libraries)) {
    if (id === 'opentelemetry') continue;
    const pair = (key, value) => {
      ratios[key] = round2(value(z, o));
      const each = z.rounds.map((r, k) => value(r, o.rounds[k]));
      perRoundRatios[key] = { min: round2(Math.min(...each)), median: round2(median(each)), max: round2(Math.max(...each)) };
    };
    pair(`throughput ${id}/opentelemetry`, (a, b) => a.spansPerSecond / b.spansPerSecond);
    pair(`cpu opentelemetry/${id}`, (a, b) => b.cpuNsPerSpan / a.cpuNsPerSpan);
  }
  return { ratios, perRoundRatios };
}

const int = (n) => Math.round(n).toLocaleString('en-US');
const us = (ns) => (ns / 1000).toFixed(2);
const x = (n) => `${n.toFixed(2)}x`;

/** The table printed after a run (and in bench/README.md). */
export function table(runs) {
  const head = ['Node', 'library', 'spans/s', 'throughput ÷ OTel', 'CPU µs/span', 'OTel CPU ÷ this', 'collector CPU µs/span', 'wire bytes/span', 'requests', 'dropped'];
  const lines = [`| ${head.join(' | ')} |`, `| --- | --- |${head.slice(2).map(() => ' ---: ').join('|')}|`];
  for (const run of runs) {
    for (const lib of LIBRARIES) {
      const l = run.libraries[lib.id];
      const peer = lib.id === 'opentelemetry';
      const cells = [
        run.major,
        lib.label,
        int(l.spansPerSecond),
        peer ? '1' : x(run.ratios[`throughput ${lib.id}/opentelemetry`]),
        us(l.cpuNsPerSpan),
        peer ? '1' : x(run.ratios[`cpu opentelemetry/${lib.id}`]),
        us(l.collectorCpuNsPerSpan),
        Math.round(l.wireBytesPerSpan),
        l.requestsPerRound,
        l.dropped,
      ];
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

const bytes = (n) => (n === undefined ? '–' : int(n));

/**
 * The way out, per Node version and configuration: CPU µs per span in all,
 * span only, and their difference (of the medians; then the median of the
 * per-round differences with its range), OpenTelemetry's way out ÷ this one's,
 * bytes on the wire, and the bytes allocated per span (V8 heap: in all, span
 * only, the difference; outside the heap: the difference). Runs without
 * `wayOut` (results from before it was measured) are left out.
 */
export function wayOutTable(runs) {
  const head = [
    'Node',
    'configuration',
    'CPU µs/span',
    'span only',
    'way out',
    'way out, per round',
    'OTel way out ÷ this',
    'way out, main thread',
    'wire bytes/span',
    'heap bytes/span',
    'span only',
    'way out',
    'off-heap bytes/span, way out',
  ];
  const lines = [`| ${head.join(' | ')} |`, `| --- | --- |${head.slice(2).map(() => ' ---: ').join('|')}|`];
  for (const run of runs) {
    if (run.wayOut === undefined) continue;
    for (const lib of LIBRARIES) {
      const w = run.wayOut[lib.id];
      const cells = [
        run.major,
        lib.label,
        us(w.totalCpuNsPerSpan),
        us(w.spanOnlyCpuNsPerSpan),
        us(w.cpuNsPerSpan),
        `${us(w.perRound.median)} (${us(w.perRound.min)}–${us(w.perRound.max)})`,
        lib.id === 'opentelemetry' ? '1' : x(w.otelOverThis),
        w.mainThreadCpuNsPerSpan === undefined ? '–' : us(w.mainThreadCpuNsPerSpan),
        Math.round(w.wireBytesPerSpan),
        bytes(w.totalHeapBytesPerSpan),
        bytes(w.spanOnlyHeapBytesPerSpan),
        bytes(w.heapBytesPerSpan),
        bytes(w.offHeapBytesPerSpan),
      ];
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

/** The way-out goal, one line: OpenTelemetry's way out ÷ ziptrace's, default configuration, and gzip on beside it. */
export function wayOutGoal(runs) {
  const measured = runs.filter((r) => r.wayOut !== undefined);
  return (
    `Goal (ziptrace's way out at most half OpenTelemetry's: OTel way out ÷ ziptrace's ≥ ${WAY_OUT_GOAL}x): ` +
    measured.map((r) => `Node ${r.version} ${x(r.wayOut.ziptrace.otelOverThis)} (${r.wayOut.ziptrace.otelOverThis >= WAY_OUT_GOAL ? 'met' : 'MISSED'})`).join('; ') +
    `. Gzip on (a remote collector's default), for reference: ${measured.map((r) => `Node ${r.major} ${x(r.wayOut['ziptrace-gzip'].otelOverThis)} (${r.wayOut['ziptrace-gzip'].otelOverThis >= WAY_OUT_GOAL ? 'would be met' : 'would be missed'})`).join('; ')}.`
  );
}

/** README.md's table: spans/s with its ratio to OpenTelemetry's, CPU µs per span, bytes. */
export function readmeTable(runs) {
  const lines = [
    '| Node | ziptrace (default: plain JSON on loopback) | OpenTelemetry (plain JSON) | ziptrace, gzip on | bytes on the wire per span |',
    '| --- | --: | --: | --: | --: |',
  ];
  for (const run of runs) {
    const l = run.libraries;
    const cell = (id) => `${int(l[id].spansPerSecond)}/s${id === 'opentelemetry' ? '' : ` (${x(run.ratios[`throughput ${id}/opentelemetry`])})`}, ${(l[id].cpuNsPerSpan / 1000).toFixed(1)} µs CPU`;
    lines.push(`| ${run.major} | ${cell('ziptrace')} | ${cell('opentelemetry')} | ${cell('ziptrace-gzip')} | ${Math.round(l.ziptrace.wireBytesPerSpan)} (gzip ${Math.round(l['ziptrace-gzip'].wireBytesPerSpan)}) vs ${Math.round(l.opentelemetry.wireBytesPerSpan)} |`);
  }
  return lines.join('\n');
}

export async function main(argv) {
  const started = Date.now();
  const args = parseArgs(argv);
  if (args.dist === undefined) ensureBuilt(args.build);
  const nodes = nodesFor(args.nodes);
  const loadStart = loadavg()[0].toFixed(2);

  const collector = new MessageChild('collector.mjs', process.execPath, [join(here, 'collector.mjs')], { flags: ['--expose-gc'] });
  const runs = [];
  const problems = [];
  try {
    const { port } = await collector.next('listening', 30_000);
    const url = `http://127.0.0.1:${port}`;
    for (const node of nodes) {
      const measured = await measure(node, collector, url, args);
      const allocated = args.allocation ? await allocation(node, collector, url, args) : undefined;
      const run = summarize(node, measured, allocated);
      runs.push(run);
      for (const [id, lib] of Object.entries(run.libraries)) {
        if (lib.dropped > 0) problems.push(`Node ${node.version} ${id}: dropped ${lib.dropped} spans`);
        if (lib.badRequests > 0) problems.push(`Node ${node.version} ${id}: the collector refused ${lib.badRequests} requests`);
      }
      for (const [id, lib] of Object.entries(run.spanOnly)) {
        for (const r of lib.rounds) if (r.reported !== r.spans) problems.push(`Node ${node.version} ${id}, span only: ${r.reported} spans handed over in a round of ${r.spans}`);
      }
      if (allocated !== undefined) {
        for (const [id, a] of Object.entries(allocated.configurations)) if (a.dropped > 0) problems.push(`Node ${node.version} ${id}: dropped ${a.dropped} spans while allocation was measured`);
        const c = allocated.collector;
        if (c.counted !== c.expected || c.bad > 0) problems.push(`Node ${node.version} allocation: the collector counted ${c.counted} spans of ${c.expected} (${c.bad} requests refused)`);
      }
    }
    collector.send({ type: 'exit' });
    await collector.exited;
  } finally {
    collector.kill();
  }

  const report = {
    date: new Date().toISOString(),
    machine: machine(),
    load: { start: loadStart, end: loadavg()[0].toFixed(2) },
    collectorNode: process.version,
    options: { quick: args.quick, spans: args.spans, rounds: args.rounds, warmupSpans: args.warmup, burst: BURST, allocation: args.allocation },
    configuration: {
      ziptrace: { batchInterval: INTERVAL_MS, maxBatchSpans: BATCH, maxQueueSpans: ZIPTRACE_QUEUE, gzip: 'default: off, the collector being on loopback (the ziptrace, gzip on row: gzip: true, bodies of 1024 bytes or more)', maxInFlight: '2 (default)' },
      opentelemetry: { scheduledDelayMillis: INTERVAL_MS, maxExportBatchSize: BATCH, maxQueueSize: OTEL_QUEUE, compression: 'none (ZipkinExporter sends plain JSON)', inFlight: '1 (one export at a time)' },
    },
    workload: 'a sampled span with two tags, active across an await inside it (ziptrace withSpan, OTel startActiveSpan), each awaited in turn; bursts of 256 with a turn of the event loop between',
    unit: UNIT,
    wayOutUnit: WAY_OUT_UNIT,
    versions: versions(args.dist, ['@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-zipkin', '@opentelemetry/context-async-hooks']),
    goal: `ziptrace throughput ≥ ${GOAL}x OpenTelemetry's`,
    wayOutGoal: `ziptrace's way-out CPU per span (total − span only) ≤ 1/${WAY_OUT_GOAL} of OpenTelemetry's, in ziptrace's default configuration (plain JSON to a collector on loopback, as OpenTelemetry's)`,
    runs,
    problems,
  };
  const out = writeResults(report, args.quick ? 'reporting-quick' : 'reporting-latest', args.out);

  const lines = [
    `## ziptrace reporting benchmark${args.quick ? ' (quick smoke run: numbers are rough)' : ''}`,
    '',
    `${report.machine.cpu} × ${report.machine.cpus}, ${report.machine.platform}, load average ${report.load.start} at the start, ${report.load.end} at the end. ` +
      `${int(args.spans)} spans a round, median of ${args.rounds} round${args.rounds === 1 ? '' : 's'} after ${int(args.warmup)} spans of warm-up; collector on Node ${process.version}.`,
    'spans/s: from the first span started to the collector having counted the last, wall clock. CPU µs/span: the library process, user + system, all threads, over the same time.',
    'throughput ÷ OTel: this row\'s spans/s ÷ OpenTelemetry\'s; OTel CPU ÷ this: OpenTelemetry\'s CPU µs/span ÷ this row\'s. Every ratio is the ratio of the medians shown.',
    'Both: batches of 512 spans, 1000 ms interval; queue bounds 2048 waiting (OTel) / 2560 waiting + in flight (ziptrace); producer waits instead of overflowing a queue. Both send plain JSON (ziptrace\'s default for a collector on this machine); ziptrace, gzip on: gzip: true.',
    '',
    table(runs),
    '',
    `Goal (ziptrace ≥ ${GOAL}x OpenTelemetry's throughput): ${runs.map((r) => `Node ${r.version} ${x(r.ratios['throughput ziptrace/opentelemetry'])} (${r.goal.met ? 'met' : 'MISSED'})`).join('; ')}.`,
    '',
    '### The way out: what a span costs after finish()',
    '',
    'CPU µs/span: as above. span only: the same spans in their own process, same N, bursts and turns of the event loop, nothing exported (ziptrace: a reporter handed each span as HttpReporter is, by REPORT_FINISHED, that only counts it; OTel: a span processor doing nothing on end), its clocks stopped once the N are made.',
    'way out: CPU µs/span less span only, difference of the medians; per round: median (min–max) of round k less span-only round k. OTel way out ÷ this: of the differences of medians.',
    args.allocation
      ? 'Bytes allocated per span, in other processes (--expose-gc, 128 MB semi-spaces): windows of the same bursts ending with the flush answered, no GC inside; heap: V8 heapUsed (harness.mjs bytesPerOp); off-heap: process.memoryUsage().arrayBuffers (request bodies, gzip, socket reads), total − span only.'
      : 'Allocation not measured (--no-allocation).',
    '',
    wayOutTable(runs),
    '',
    wayOutGoal(runs),
    '',
    `Written to ${out.startsWith(root) ? out.slice(root.length + 1) : out} in ${((Date.now() - started) / 1000).toFixed(0)} s.`,
  ];
  if (problems.length > 0) lines.push('', 'PROBLEMS:', ...problems.map((p) => `- ${p}`));
  process.stdout.write(lines.join('\n') + '\n');
  if (problems.length > 0) process.exitCode = 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`\nbench:reporting: ${error.message}\n`);
    process.exitCode = 1;
  });
}
