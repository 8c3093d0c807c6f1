// Runs the benchmarks: every library in its own process, on every supported
// Node version, then prints a markdown table and writes bench/results/latest.json.
//
//   npm run bench                          Node 20, 22 and 24, about 4 minutes
//   npm run bench -- --node 20             only Node 20 (repeat or comma-separate: --node 20,24)
//   npm run bench -- --quick               a short smoke run (results/quick.json)
//   npm run bench -- --lib ziptrace        only some libraries (the floor always runs)
//   npm run bench -- --rounds 15 --time 1000 --warmup 1000
//   npm run bench -- --build               rebuild dist/ first (else only when missing or older than lib/)
//   npm run bench -- --dist /tmp/new-dist  measure another build of ziptrace (its dist/ directory)
//   npm run bench -- --baseline /tmp/old   and another build beside it, in a column of its own
//   npm run bench -- --wall                wall-clock time instead of the process's CPU time
//   npm run bench -- --out FILE            write the JSON elsewhere
//   npm run bench -- --reporting           the reporting benchmark instead (bench/reporting.mjs)
//   npm run bench -- --table [--write]     the READMEs' tables again from results/*latest.json (--write: their ratios too)
//
// Processes: bench/floor.mjs (AsyncLocalStorage alone), bench/ziptrace.mjs
// (the built dist/), bench/opentelemetry.mjs, bench/zipkin-js.mjs, each with
// the same workloads, timed by bench/harness.mjs. For each Node version they
// all start, then take turns over IPC, one round each: the floor, then every
// library, then the next round. After the rounds each library runs once more
// in a process of its own, started with the flags that measuring allocation
// needs, for the bytes each workload allocates per span. See bench/README.md.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, versions, writeResults } from './results.mjs';
import { median, options } from './harness.mjs';
import { allocation, Child, eachOption, ensureBuilt, nodesFor } from './processes.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const LIBRARIES = [
  { id: 'floor', label: 'floor', file: 'floor.mjs' },
  { id: 'ziptrace', label: 'ziptrace', file: 'ziptrace.mjs' },
  { id: 'opentelemetry', label: 'OpenTelemetry', short: 'OTel', file: 'opentelemetry.mjs' },
  { id: 'zipkin-js', label: 'zipkin-js', file: 'zipkin-js.mjs' },
  { id: 'lower-bound', label: 'lower bound', file: 'lower-bound.mjs' },
];
const WORKLOADS = [
  { id: 'sampled', label: 'sampled span, active across await, encoded' },
  { id: 'nested', label: 'root + 3 nested children, encoded (per span)' },
  { id: 'unsampled', label: 'unsampled span, active across await' },
  { id: 'notEncoded', label: 'sampled span, reported but not encoded' },
];
/** The issue's goals for ziptrace, as multiples of the floor (ziptrace's median ns ÷ the floor's). */
const GOALS = { sampled: 2, unsampled: 1.5 };

function parseArgs(argv) {
  const args = { quick: false, build: false, dist: undefined, baseline: undefined, nodes: [], libs: [], child: [], out: undefined };
  eachOption(argv, (arg, value) => {
    if (arg === '--quick') args.quick = true;
    else if (arg === '--build') args.build = true;
    else if (arg === '--dist') args.dist = value();
    else if (arg === '--baseline') args.baseline = value();
    else if (arg === '--node') args.nodes.push(...value().split(',').map(Number));
    else if (arg === '--lib') args.libs.push(...value().split(','));
    else if (arg === '--out') args.out = value();
    else if (arg === '--rounds' || arg === '--time' || arg === '--warmup') args.child.push(arg, value());
    else if (arg === '--wall') args.child.push(arg);
    else throw new Error(`unknown option ${arg}; see the top of bench/run.mjs`);
  });
  if (args.quick) args.child.unshift('--quick');
  return args;
}

const UNIT =
  'nanoseconds per span (per operation for the floor), median of the rounds; ratios: ratios of those medians (perRoundRatios: min, median and max of the per-round ratios); allocatedBytesPerSpan: bytes allocated per span (per operation for the floor), flushing included, in a separate process (harness.mjs bytesPerOp)';
const round1 = (n) => Math.round(n * 10) / 10;
const round2 = (n) => Math.round(n * 100) / 100;
const whole = (n) => (n === undefined ? '–' : Math.round(n).toLocaleString('en-US'));
const times = (n) => (n === undefined ? '–' : `${n.toFixed(2)}x`);

const range = (values) => ({ min: round2(Math.min(...values)), median: round2(median(values)), max: round2(Math.max(...values)) });

/**
 * The ratio shown beside a median is the ratio of the medians shown: a
 * library's median ns ÷ the floor's median ns, a peer's median ÷ ziptrace's,
 * each median in whole ns as the table prints it, so dividing the printed
 * numbers gives the printed ratio (the goals use the same). `perRoundRatios`
 * keeps how far single rounds stray: the min, median and max of the per-round
 * ratios, a library's round against the floor round just before it, a peer's
 * against ziptrace's round of the same turn. Takes a run as stored in
 * results/latest.json, so --table can redo it from the file.
 */
function ratiosFor(run) {
  const ratios = {};
  const perRoundRatios = {};
  for (const { id } of WORKLOADS) {
    const r = (ratios[id] = {});
    const p = (perRoundRatios[id] = {});
    const z = run.libraries.ziptrace?.results[id];
    for (const [libId, lib] of Object.entries(run.libraries)) {
      const v = lib.results[id];
      if (v === undefined) continue;
      const against = (key, base) => {
        r[key] = round2(Math.round(v.nsPerSpan) / Math.round(base.nsPerSpan));
        p[key] = range(v.rounds.map((value, i) => value / base.rounds[i]));
      };
      against(`${libId}/floor`, run.floor);
      if (libId !== 'ziptrace' && z !== undefined) against(`${libId}/ziptrace`, z);
    }
  }
  return { ratios, perRoundRatios };
}

/**
 * A markdown table: each library's median ns with its ratio to the floor in
 * brackets, and beside it the bytes it allocates per span when the runs
 * measured them (results from before allocation was measured have none), then
 * each peer ÷ ziptrace. With `spread`, each ratio with the range of its
 * per-round ratios instead of the ns and bytes.
 */
function table(runs, { libs, peers, workloads = WORKLOADS, spread = false }) {
  const label = (l) => l.short ?? l.label;
  const withBytes = !spread && runs.some((run) => run.floor.allocatedBytesPerOp !== undefined);
  const beside = (name) => (withBytes ? [name, 'bytes/span'] : [name]);
  const head = [
    'Node',
    'workload',
    ...(spread ? [] : beside('floor')),
    ...libs.flatMap((l) => (spread ? [`${l.label} ÷ floor`] : beside(l.label))),
    ...peers.map((p) => `${label(p)} ÷ ziptrace`),
  ];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i < 2 ? '---' : '--:')).join(' | ')} |`];
  for (const run of runs) {
    for (const w of workloads) {
      const r = run.ratios[w.id];
      const p = run.perRoundRatios[w.id];
      const ratio = (key) => (spread && p[key] !== undefined ? `${times(r[key])} (${p[key].min.toFixed(2)}–${p[key].max.toFixed(2)})` : times(r[key]));
      const cells = [
        ...(spread ? [] : [whole(run.floor.nsPerSpan), ...(withBytes ? [whole(run.floor.allocatedBytesPerOp)] : [])]),
        ...libs.flatMap((l) => {
          const v = run.libraries[l.id]?.results[w.id];
          if (spread) return [v === undefined ? '–' : ratio(`${l.id}/floor`)];
          const time = v === undefined ? '–' : `${whole(v.nsPerSpan)} (${times(r[`${l.id}/floor`])})`;
          return withBytes ? [time, whole(v?.allocatedBytesPerSpan)] : [time];
        }),
        ...peers.map((peer) => ratio(`${peer.id}/ziptrace`)),
      ];
      lines.push(`| ${run.major} | ${w.id} | ${cells.join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

function goals(runs) {
  const out = [];
  for (const run of runs) {
    for (const [workload, limit] of Object.entries(GOALS)) {
      const ratio = run.ratios[workload]['ziptrace/floor'];
      if (ratio === undefined) continue;
      out.push({ node: run.version, workload, ratio, goal: limit, met: ratio <= limit });
    }
  }
  return out;
}

/** Starts every library's process on `node`, and runs them round by round. */
async function measure(node, libs, args) {
  const children = libs.map((lib) => new Child(node, lib, args.child));
  try {
    await Promise.all(children.map((child) => child.ready));
    for (const child of children) {
      process.stderr.write(`Node ${node.version}: warming up ${child.lib.id}\n`);
      await child.ask('warmup');
    }
    const [floor, ...others] = children;
    const floorRounds = [];
    const rounds = new Map(others.map((child) => [child, []]));
    for (let i = 0; i < args.rounds; i++) {
      process.stderr.write(`Node ${node.version}: round ${i + 1} of ${args.rounds}\n`);
      floorRounds.push((await floor.ask('round')).floor);
      // Rotate the libraries' order from round to round, so none always follows the same one.
      for (let k = 0; k < others.length; k++) {
        const child = others[(i + k) % others.length];
        rounds.get(child).push(await child.ask('round'));
      }
    }
    const summaries = [];
    for (const child of children) summaries.push(await child.ask('summary'));
    await Promise.all(children.map((child) => child.exited));
    return { floorRounds, rounds: others.map((child) => rounds.get(child)), summaries };
  } finally {
    for (const child of children) child.kill();
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  for (const wanted of args.libs) if (!LIBRARIES.some((l) => l.id === wanted)) throw new Error(`unknown library ${wanted}`);
  const libs = LIBRARIES.filter((lib) => lib.id === 'floor' || args.libs.length === 0 || args.libs.includes(lib.id)).map((lib) =>
    lib.id === 'ziptrace' && args.dist !== undefined ? { ...lib, dist: resolve(args.dist) } : lib,
  );
  // Another build of ziptrace, measured side by side: a column of its own, and "÷ ziptrace" says how the current one compares.
  if (args.baseline !== undefined) libs.push({ id: 'baseline', label: 'ziptrace baseline', file: 'ziptrace.mjs', dist: resolve(args.baseline) });
  if (libs.some((lib) => lib.id === 'ziptrace') && args.dist === undefined) ensureBuilt(args.build);

  const nodes = nodesFor(args.nodes);

  const started = Date.now();
  const loadStart = loadavg()[0].toFixed(1);
  const runs = [];
  const problems = [];
  const childOptions = options(args.child);
  for (const node of nodes) {
    const nodeStarted = Date.now();
    const { floorRounds, rounds, summaries } = await measure(node, libs, { ...args, rounds: childOptions.rounds });
    const [floorBytes, ...libraryBytes] = (await allocation(node, libs, args.child)).map((a) => a.bytes);
    const libraries = {};
    libs.slice(1).forEach((lib, i) => {
      const summary = summaries[i + 1];
      problems.push(...summary.problems.map((p) => `Node ${node.version}: ${p}`));
      const results = {};
      for (const name of summary.workloads) {
        const ns = rounds[i].map((round) => round[name]);
        const allocated = libraryBytes[i][name];
        results[name] = {
          nsPerSpan: round1(median(ns)),
          rounds: ns.map(round1),
          allocatedBytesPerSpan: round1(allocated.bytesPerSpan),
          allocationWindowOps: allocated.opsPerWindow,
          allocationHighestWindow: round1(allocated.highestWindow),
        };
      }
      libraries[lib.id] = { results, bytesPerSpan: summary.bytesPerSpan, sample: summary.sample, info: summary.info };
    });
    const floor = {
      nsPerSpan: round1(median(floorRounds)),
      rounds: floorRounds.map(round1),
      allocatedBytesPerOp: round1(floorBytes.floor.bytesPerSpan),
      allocationWindowOps: floorBytes.floor.opsPerWindow,
      allocationHighestWindow: round1(floorBytes.floor.highestWindow),
    };
    const run = { major: node.major, version: node.version, floor, libraries };
    runs.push({ ...run, ...ratiosFor(run) });
    process.stderr.write(`Node ${node.version}: done in ${((Date.now() - nodeStarted) / 1000).toFixed(0)} s\n`);
  }

  const measured = libs.slice(1);
  const peers = measured.some((l) => l.id === 'ziptrace') ? measured.filter((l) => l.id !== 'ziptrace') : [];
  const goalList = goals(runs);
  const opts = childOptions;
  const report = {
    load: { start: loadStart, end: loadavg()[0].toFixed(1) },
    date: new Date().toISOString(),
    machine: machine(),
    options: { quick: args.quick, ...childOptions },
    unit: UNIT,
    versions: {
      ...versions(args.dist, ['@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-zipkin', '@opentelemetry/context-async-hooks', 'zipkin', 'zipkin-context-cls']),
      ...(args.baseline === undefined ? {} : { 'baseline dist': resolve(args.baseline) }),
    },
    goals: goalList,
    runs,
    problems,
  };

  const out = writeResults(report, args.quick ? 'quick' : 'latest', args.out);

  const lines = [
    `## ziptrace benchmarks${args.quick ? ' (quick smoke run: numbers are rough)' : ''}`,
    '',
    `${report.machine.cpu} × ${report.machine.cpus}, ${report.machine.platform}, load average ${report.load.start} at the start, ${report.load.end} at the end. ` +
      `ns per span of the process's ${opts.clock === 'wall' ? 'wall-clock' : 'CPU'} time, median of ${opts.rounds} rounds of ${opts.roundMs} ms after warm-up.`,
    '`floor`: ns per operation of AsyncLocalStorage.run(store, async () => { await null }) alone in its own process, one round of it before each round of the libraries.',
    'In brackets: the library\'s median ns ÷ the floor\'s median ns. `÷ ziptrace`: the peer\'s median ns ÷ ziptrace\'s, >1 means ziptrace is faster. Every ratio is the ratio of the medians shown.',
    '`bytes/span`: bytes allocated per span (per operation for the floor), encoding and flushing included, measured after the rounds in a process of its own (heapUsed across windows without a garbage collection; see bench/README.md).',
    '',
    table(runs, { libs: measured, peers }),
    '',
    ...(opts.rounds < 2
      ? []
      : [
          'The same ratios, each with the range of its per-round ratios (a round against the floor round just before it, or against ziptrace\'s round of the same turn):',
          '',
          table(runs, { libs: measured, peers, spread: true }),
          '',
        ]),
    'Goals (ziptrace ÷ floor): ' +
      (goalList.length === 0 ? 'not measured' : goalList.map((g) => `Node ${g.node} ${g.workload} ${g.ratio.toFixed(2)}x (≤ ${g.goal}x: ${g.met ? 'met' : 'MISSED'})`).join('; ')),
    '',
    `Encoded Zipkin JSON per span (bytes): ${libs
      .filter((l) => l.id !== 'floor')
      .map((l) => `${l.label} ${runs[0].libraries[l.id]?.bytesPerSpan ?? '–'}`)
      .join(', ')}. Written to ${out.startsWith(root) ? out.slice(root.length + 1) : out} in ${((Date.now() - started) / 1000).toFixed(0)} s.`,
  ];
  if (problems.length > 0) lines.push('', 'PROBLEMS:', ...problems.map((p) => `- ${p}`));
  process.stdout.write(lines.join('\n') + '\n');
  if (problems.length > 0) process.exitCode = 1;
}

/**
 * `--table`: README.md's "Speed" tables and bench/README.md's, made again from
 * results/latest.json and results/reporting-latest.json, the ratios recomputed
 * from the medians and rounds stored there. `--write` also stores the
 * recomputed ratios and goals back into those files.
 */
async function tables(argv) {
  const reporting = await import('./reporting.mjs');
  const read = (name) => JSON.parse(readFileSync(join(here, 'results', `${name}.json`), 'utf8'));
  const spans = read('latest');
  spans.unit = UNIT;
  spans.runs = spans.runs.map((run) => ({ ...run, ...ratiosFor(run) }));
  spans.goals = goals(spans.runs);
  const wire = read('reporting-latest');
  wire.unit = reporting.UNIT;
  wire.runs = wire.runs.map((run) => {
    const { ratios, perRoundRatios } = reporting.ratiosFor(run.libraries);
    return { ...run, ratios, perRoundRatios, goal: { ...run.goal, met: ratios['throughput ziptrace/opentelemetry'] >= run.goal.throughput } };
  });
  if (argv.includes('--write')) {
    writeResults(spans, 'latest');
    writeResults(wire, 'reporting-latest');
  }
  const pick = (...ids) => ids.map((id) => LIBRARIES.find((l) => l.id === id));
  const libs = pick('ziptrace', 'opentelemetry', 'zipkin-js', 'lower-bound');
  const peers = pick('opentelemetry', 'zipkin-js');
  const workloads = WORKLOADS.filter((w) => w.id !== 'notEncoded');
  process.stdout.write(
    [
      'README.md, "Speed":',
      '',
      table(spans.runs, { libs, peers, workloads }),
      '',
      reporting.readmeTable(wire.runs),
      '',
      'bench/README.md:',
      '',
      table(spans.runs, { libs, peers, workloads, spread: true }),
      '',
      reporting.table(wire.runs),
      '',
    ].join('\n'),
  );
}

// `--reporting`: the reporting benchmark instead (bench/reporting.mjs, its own options); `--table`: the tables from the stored results.
const argv = process.argv.slice(2);
const run = argv.includes('--reporting') ? import('./reporting.mjs').then((m) => m.main(argv)) : argv.includes('--table') ? tables(argv) : main();
run.catch((error) => {
  process.stderr.write(`\nbench: ${error.message}\n`);
  process.exitCode = 1;
});
