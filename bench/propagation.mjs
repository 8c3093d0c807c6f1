// The propagation benchmark: what reading a request's trace headers and
// writing a child's into an outgoing request costs, in time and in bytes
// allocated, for ziptrace, OpenTelemetry and zipkin-js against hand-written
// code for each format alone, on every supported Node version.
//
//   npm run bench:propagation                       Node 20, 22 and 24, about 2 minutes
//   npm run bench:propagation -- --node 22          one Node version (or --node 20,24)
//   npm run bench:propagation -- --quick            a short smoke run (results/propagation-quick.json)
//   npm run bench:propagation -- --rounds 15 --time 500 --warmup 1000
//   npm run bench:propagation -- --lib ziptrace     only some libraries (the hand-written one always runs)
//   npm run bench:propagation -- --build            rebuild dist/ first (else only when missing or older than lib/)
//   npm run bench:propagation -- --dist DIR         measure another build of ziptrace (its dist/ directory)
//   npm run bench:propagation -- --wall             wall-clock time instead of the process's CPU time
//   npm run bench:propagation -- --out FILE         write the JSON elsewhere
//   npm run bench:propagation -- --cpu-prof DIR     node --cpu-prof of each timed process, into DIR
//
// Processes: one per library per Node version (bench/propagation-hand.mjs,
// propagation-ziptrace.mjs, propagation-opentelemetry.mjs,
// propagation-zipkin-js.mjs, sharing bench/propagation-harness.mjs). They
// start together, warm up, then take turns over IPC, one round each: the
// hand-written one, then every library in a rotating order, then the next
// round. Then each library runs once more in a process of its own, started
// with the flags that measuring allocation needs, for the bytes per
// operation. See bench/README.md, "Propagation".
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, options } from './harness.mjs';
import { WORKLOADS } from './propagation-harness.mjs';
import { allocation, Child, eachOption, ensureBuilt, nodesFor } from './processes.mjs';
import { machine, versions, writeResults } from './results.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const LIBRARIES = [
  { id: 'hand', label: 'hand-written', file: 'propagation-hand.mjs' },
  { id: 'ziptrace', label: 'ziptrace', file: 'propagation-ziptrace.mjs' },
  { id: 'opentelemetry', label: 'OpenTelemetry', file: 'propagation-opentelemetry.mjs' },
  { id: 'zipkin-js', label: 'zipkin-js', file: 'propagation-zipkin-js.mjs' },
];
/** The goal for ziptrace, per format: its median ns at most this many times the hand-written one's. */
const GOAL = 2;
/** Shorter rounds than the span benchmark's: an operation takes well under a microsecond, so 300 ms is a million of them. */
const DEFAULTS = { quick: { warmup: 100, time: 100, rounds: 1 }, full: { warmup: 500, time: 300, rounds: 9 } };

const UNIT =
  'ns per operation (extract, make the child, inject) of the process CPU time, median of the rounds; ratios: ratios of those medians to the hand-written one of the same workload (perRoundRatio: min, median and max of the per-round ratios, against the hand-written round of the same turn); bytesPerOp: bytes allocated per operation, in a separate process (harness.mjs bytesPerOp)';

function parseArgs(argv) {
  const args = { quick: false, build: false, dist: undefined, nodes: [], libs: [], out: undefined, cpuProf: undefined, child: [] };
  const timing = {};
  eachOption(argv, (arg, value) => {
    if (arg === '--quick') args.quick = true;
    else if (arg === '--build') args.build = true;
    else if (arg === '--dist') args.dist = resolve(value());
    else if (arg === '--node') args.nodes.push(...value().split(',').map(Number));
    else if (arg === '--lib') args.libs.push(...value().split(','));
    else if (arg === '--out') args.out = value();
    else if (arg === '--cpu-prof') args.cpuProf = resolve(value());
    else if (arg === '--rounds' || arg === '--time' || arg === '--warmup') timing[arg.slice(2)] = Number(value());
    else if (arg === '--wall') args.child.push(arg);
    else throw new Error(`unknown option ${arg}; see the top of bench/propagation.mjs`);
  });
  // The children read these with harness.mjs's options(); they are always given, so its span-benchmark defaults never apply.
  const chosen = { ...DEFAULTS[args.quick ? 'quick' : 'full'], ...timing };
  args.child.push('--warmup', String(chosen.warmup), '--time', String(chosen.time), '--rounds', String(chosen.rounds));
  return args;
}

/** Starts every library's process on `node`, and runs them round by round; the hand-written one comes first in every round. */
async function measure(node, libs, args, rounds) {
  const flags = (lib) =>
    args.cpuProf === undefined ? ['--expose-gc'] : ['--expose-gc', '--cpu-prof', `--cpu-prof-dir=${args.cpuProf}`, `--cpu-prof-name=${lib.id}-node${node.major}.cpuprofile`];
  const children = libs.map((lib) => new Child(node, lib, args.child, flags(lib)));
  try {
    await Promise.all(children.map((child) => child.ready));
    for (const child of children) {
      process.stderr.write(`Node ${node.version}: warming up ${child.lib.id}\n`);
      await child.ask('warmup');
    }
    const [hand, ...others] = children;
    const results = new Map(children.map((child) => [child, []]));
    for (let i = 0; i < rounds; i++) {
      process.stderr.write(`Node ${node.version}: round ${i + 1} of ${rounds}\n`);
      results.get(hand).push(await hand.ask('round'));
      // Rotate the libraries' order from round to round, so none always follows the same one.
      for (let k = 0; k < others.length; k++) {
        const child = others[(i + k) % others.length];
        results.get(child).push(await child.ask('round'));
      }
    }
    const summaries = [];
    for (const child of children) summaries.push(await child.ask('summary'));
    await Promise.all(children.map((child) => child.exited));
    return children.map((child, i) => ({ rounds: results.get(child), summary: summaries[i] }));
  } finally {
    for (const child of children) child.kill();
  }
}

const round1 = (n) => Math.round(n * 10) / 10;
const round2 = (n) => Math.round(n * 100) / 100;
const whole = (n) => (n === undefined ? '–' : Math.round(n).toLocaleString('en-US'));
const times = (n) => `${n.toFixed(2)}x`;

/**
 * One row per operation of each library, in workload order: its median ns
 * and rounds, its bytes, and against the hand-written row of its workload:
 * the ratio of the medians as the table prints them (whole ns), so dividing
 * the printed numbers gives the printed ratio; the per-round ratios' range,
 * each round against the hand-written round of the same turn; the bytes
 * allocated beyond the hand-written one's, in whole bytes as printed.
 */
function rowsFor(libs, timed, allocated) {
  const rows = [];
  libs.forEach((lib, i) => {
    for (const { name, workload, variant } of timed[i].summary.operations) {
      const ns = timed[i].rounds.map((round) => round[name]);
      const bytes = allocated[i].bytes[name];
      rows.push({
        library: lib.id,
        operation: name,
        workload,
        ...(variant === undefined ? {} : { variant }),
        nsPerOp: round1(median(ns)),
        rounds: ns.map(round1),
        bytesPerOp: round1(bytes.bytesPerOp),
        allocationWindowOps: bytes.opsPerWindow,
        allocationHighestWindow: round1(bytes.highestWindow),
        ...(bytes.contextBytes === undefined ? {} : { contextBytes: round1(bytes.contextBytes) }),
      });
    }
  });
  for (const row of rows) {
    const hand = rows.find((r) => r.library === 'hand' && r.workload === row.workload);
    const each = row.rounds.map((ns, k) => ns / hand.rounds[k]);
    row.handRatio = round2(Math.round(row.nsPerOp) / Math.round(hand.nsPerOp));
    row.perRoundRatio = { min: round2(Math.min(...each)), median: round2(median(each)), max: round2(Math.max(...each)) };
    row.bytesOverHand = Math.round(row.bytesPerOp) - Math.round(hand.bytesPerOp);
  }
  const order = Object.keys(WORKLOADS);
  return rows.sort((a, b) => order.indexOf(a.workload) - order.indexOf(b.workload));
}

/** The goals, for ziptrace's plain propagators (its composite row is for reference), per Node version and format. */
function goals(runs) {
  const out = [];
  for (const run of runs) {
    for (const row of run.rows) {
      if (row.library !== 'ziptrace' || row.variant !== undefined) continue;
      // Undefined when the context is not flat (propagation-harness.mjs measures no size for it then).
      const contextBytes = row.contextBytes === undefined ? undefined : Math.round(row.contextBytes);
      out.push({
        node: run.version,
        workload: row.workload,
        time: { ratio: row.handRatio, goal: GOAL, met: row.handRatio <= GOAL },
        allocation: { bytesOverHand: row.bytesOverHand, contextBytes, met: contextBytes === undefined ? undefined : row.bytesOverHand <= contextBytes },
      });
    }
  }
  return out;
}

/** The markdown table: one line per library's operation, by Node version and workload, the hand-written one first. */
function table(runs, libs) {
  const label = (row) => `${libs.find((l) => l.id === row.library).label}${row.variant === undefined ? '' : ` (${row.variant})`}`;
  const lines = [
    '| Node | workload | library | ns/op (range over rounds) | ÷ hand-written (range) | bytes/op | bytes over hand-written |',
    '| --- | --- | --- | --: | --: | --: | --: |',
  ];
  for (const run of runs) {
    for (const row of run.rows) {
      const hand = row.library === 'hand';
      const p = row.perRoundRatio;
      const spread = (low, high) => (low === high ? '' : ` (${low}–${high})`);
      const cells = [
        run.major,
        row.workload,
        label(row),
        `${whole(row.nsPerOp)}${spread(whole(Math.min(...row.rounds)), whole(Math.max(...row.rounds)))}`,
        hand ? '1' : `${times(row.handRatio)}${spread(p.min.toFixed(2), p.max.toFixed(2))}`,
        whole(row.bytesPerOp),
        hand ? '0' : `${row.bytesOverHand > 0 ? '+' : ''}${row.bytesOverHand.toLocaleString('en-US')}`,
      ];
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  for (const wanted of args.libs) if (!LIBRARIES.some((l) => l.id === wanted)) throw new Error(`unknown library ${wanted}`);
  const libs = LIBRARIES.filter((lib) => lib.id === 'hand' || args.libs.length === 0 || args.libs.includes(lib.id)).map((lib) =>
    lib.id === 'ziptrace' && args.dist !== undefined ? { ...lib, dist: args.dist } : lib,
  );
  if (libs.some((lib) => lib.id === 'ziptrace') && args.dist === undefined) ensureBuilt(args.build);
  const nodes = nodesFor(args.nodes);
  const opts = options(args.child);

  const started = Date.now();
  const loadStart = loadavg()[0].toFixed(1);
  const runs = [];
  const problems = [];
  for (const node of nodes) {
    const nodeStarted = Date.now();
    const timed = await measure(node, libs, args, opts.rounds);
    const allocated = await allocation(node, libs, args.child);
    for (const { problems: found } of [...timed.map((t) => t.summary), ...allocated]) problems.push(...found.map((p) => `Node ${node.version}: ${p}`));
    const libraries = Object.fromEntries(libs.map((lib, i) => [lib.id, { info: timed[i].summary.info, sample: timed[i].summary.sample }]));
    runs.push({ major: node.major, version: node.version, rows: rowsFor(libs, timed, allocated), libraries });
    process.stderr.write(`Node ${node.version}: done in ${((Date.now() - nodeStarted) / 1000).toFixed(0)} s\n`);
  }

  const goalList = goals(runs);
  const report = {
    load: { start: loadStart, end: loadavg()[0].toFixed(1) },
    date: new Date().toISOString(),
    machine: machine(),
    options: { quick: args.quick, ...opts },
    unit: UNIT,
    workloads: Object.fromEntries(Object.entries(WORKLOADS).map(([name, { incoming, outgoing }]) => [name, { incoming, outgoing }])),
    versions: versions(args.dist, ['@opentelemetry/api', '@opentelemetry/core', '@opentelemetry/propagator-b3', 'zipkin']),
    goals: goalList,
    runs,
    problems,
  };
  const out = writeResults(report, args.quick ? 'propagation-quick' : 'propagation-latest', args.out);

  const lines = [
    `## ziptrace propagation benchmark${args.quick ? ' (quick smoke run: numbers are rough)' : ''}`,
    '',
    `${report.machine.cpu} × ${report.machine.cpus}, ${report.machine.platform}, load average ${report.load.start} at the start, ${report.load.end} at the end. ` +
      `ns per operation of the process's ${opts.clock === 'wall' ? 'wall-clock' : 'CPU'} time, median of ${opts.rounds} round${opts.rounds === 1 ? '' : 's'} of ${opts.roundMs} ms after warm-up, in brackets the lowest and highest round.`,
    'An operation: extract the context from the IncomingHttpHeaders of a real loopback request, make a child of it (a span id made beforehand), inject the child into a fresh object.',
    '`÷ hand-written`: the row\'s median ns ÷ the hand-written median of the same workload (in brackets the range of the per-round ratios). `bytes/op`: bytes allocated per operation, in a process of its own (heapUsed across windows without a garbage collection; see bench/README.md).',
    '',
    table(runs, libs),
    '',
    'Goals for ziptrace, per format: time ≤ ' +
      `${GOAL}x the hand-written one's; bytes allocated beyond the hand-written one's ≤ those of the context ziptrace returns (an object of its fields).`,
    ...goalList.map(
      (g) =>
        `- Node ${g.node} ${g.workload}: time ${times(g.time.ratio)} (${g.time.met ? 'met' : 'MISSED'}); allocation ${g.allocation.bytesOverHand > 0 ? '+' : ''}${g.allocation.bytesOverHand} bytes ` +
        (g.allocation.contextBytes === undefined
          ? '(not measured: the context is not a flat object, so its size is not known)'
          : `against a ${g.allocation.contextBytes}-byte context (${g.allocation.met ? 'met' : 'MISSED'})`),
    ),
    ...(goalList.length === 0 ? ['- not measured (ziptrace left out)'] : []),
    '',
    ...(runs[0].libraries.ziptrace === undefined ? [] : [`ziptrace build measured (dist/cjs/index.js written at): ${runs.map((r) => `Node ${r.major} ${r.libraries.ziptrace.info.built}`).join(', ')}.`]),
    `Written to ${out.startsWith(root) ? out.slice(root.length + 1) : out} in ${((Date.now() - started) / 1000).toFixed(0)} s.`,
  ];
  if (problems.length > 0) lines.push('', 'PROBLEMS:', ...problems.map((p) => `- ${p}`));
  process.stdout.write(lines.join('\n') + '\n');
  if (problems.length > 0) process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(`\nbench:propagation: ${error.message}\n`);
  process.exitCode = 1;
});
