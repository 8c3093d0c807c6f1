// The HTTP benchmark: what tracing adds to a real HTTP request on the server.
// autocannon loads hello-world servers (node:http, Express 5, Fastify 5) on
// loopback, untraced, traced by ziptrace (sampled and unsampled) and by
// OpenTelemetry, all reporting to one loopback Zipkin collector; the servers
// measure their own CPU time per request, and, in a second phase, the bytes
// they allocate per request.
//
//   npm run bench:http                              Node 20, 22 and 24, 7 rounds (about 25 minutes)
//   npm run bench:http -- --quick                   smoke run, under a minute (results/http-quick.json)
//   npm run bench:http -- --node 22                 one Node version (or --node 20,24)
//   npm run bench:http -- --framework fastify --mode plain,ziptrace
//   npm run bench:http -- --rounds 5 --duration 3 --warmup 2 --connections 10
//   npm run bench:http -- --headers                 requests carry a sampled caller's B3 and traceparent headers
//   npm run bench:http -- --pin                     the servers on the last core, this process (autocannon) and the collector on the others (Linux, taskset)
//   npm run bench:http -- --work-us 5               the calibration mode's work per request (default 5 µs, the goal; 0: no calibration)
//   npm run bench:http -- --server-flags "--cpu-prof --cpu-prof-dir=/tmp/prof"
//                                                   node flags for the measured servers (not the allocation phase's);
//                                                   --cpu-prof alone names each profile <framework>-<mode>-node<major>.cpuprofile
//   npm run bench:http -- --alloc-requests 2000     requests per allocation window (0: no allocation phase)
//   npm run bench:http -- --dist DIR                another ziptrace build (its dist/ folder)
//   npm run bench:http -- --build                   rebuild dist/ first (else only when missing or older than lib/)
//   npm run bench:http -- --out FILE
//
// Processes: the collector (bench/collector.mjs, on the node running this
// script) for the whole run; for each Node version, one server
// (bench/http-server.mjs) per framework × mode, started together and kept
// warm, loaded one at a time by autocannon running here. A round loads every
// server once; the order rotates from round to round. Then the allocation
// phase: fresh servers with a young generation large enough that no GC runs
// during a window of requests. See bench/README.md, "HTTP".
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SUPPORTED_MAJORS } from '../scripts/nodes.mjs';
import { eachOption, ensureBuilt, MessageChild, nodesFor } from './processes.mjs';
import { machine, versionOf, versions, writeResults } from './results.mjs';
import { median } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const FRAMEWORKS = [
  { id: 'http', label: 'node:http' },
  { id: 'express', label: 'Express' },
  { id: 'fastify', label: 'Fastify' },
];
/** `sampled`: every request is a reported span, which the collector must count. */
const MODES = [
  { id: 'plain', label: 'plain', sampled: false },
  // The calibration: no tracer, the plain app with a known amount of work (--work-us) added to each request.
  // What the benchmark reports for it shows how the measurement scales real work (bench/README.md, "Calibration").
  { id: 'work', label: 'plain + work', sampled: false },
  // The floor of an unsampled request: no tracer, each request run in AsyncLocalStorage.run() (bench/README.md, "HTTP").
  { id: 'als', label: 'AsyncLocalStorage only', sampled: false },
  { id: 'ziptrace', label: 'ziptrace', sampled: true },
  { id: 'ziptrace-unsampled', label: 'ziptrace, unsampled', sampled: false },
  { id: 'opentelemetry', label: 'OpenTelemetry', sampled: true },
];
/** The issue's goals: µs of server CPU ziptrace adds to a request, and OpenTelemetry's added cost ÷ ziptrace's. */
const GOALS = { sampledUs: 5, unsampledUs: 1, otelOverZiptrace: 5 };
/** A round in which other processes used more than this many cores on average is flagged as under high load. */
const BUSY_CORES = 0.25;
/** Semi-space size (MB) of the allocation phase's servers: a young generation of 256 MB holds a window without a GC. */
const ALLOC_SEMI_SPACE_MB = 128;
const PATH = '/hello/ada';

/**
 * `--headers`: a caller's B3 multi headers and traceparent, as a traced
 * gateway in front would send. Sampled for every mode, except that the
 * unsampled mode gets the same caller's "not sampled" decision (`X-B3-Sampled:
 * 0`, flags 00): a sampled caller would make ziptrace record the request.
 */
function callerHeaders(sampled) {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const spanId = '00f067aa0ba902b7';
  return { 'x-b3-traceid': traceId, 'x-b3-spanid': spanId, 'x-b3-sampled': sampled ? '1' : '0', traceparent: `00-${traceId}-${spanId}-${sampled ? '01' : '00'}` };
}

function parseArgs(argv) {
  const args = { quick: false, build: false, headers: false, pin: false, pinned: undefined, dist: undefined, out: undefined, nodes: [], frameworks: [], modes: [], serverFlags: [], workUs: 5 };
  const numbers = {};
  eachOption(argv, (arg, value) => {
    const number = () => {
      const text = value();
      const n = text.trim() === '' ? NaN : Number(text);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${arg} needs a number`);
      return n;
    };
    if (arg === '--quick') args.quick = true;
    else if (arg === '--build') args.build = true;
    else if (arg === '--headers') args.headers = true;
    else if (arg === '--pin') args.pin = true;
    else if (arg === '--dist') args.dist = resolve(value());
    else if (arg === '--out') args.out = value();
    else if (arg === '--node') args.nodes.push(...value().split(',').map(Number));
    else if (arg === '--framework') args.frameworks.push(...value().split(','));
    else if (arg === '--mode') args.modes.push(...value().split(','));
    else if (arg === '--server-flags') args.serverFlags.push(...value().split(/\s+/).filter(Boolean));
    else if (arg === '--rounds') numbers.rounds = number();
    else if (arg === '--duration') numbers.duration = number();
    else if (arg === '--warmup') numbers.warmup = number();
    else if (arg === '--connections') numbers.connections = number();
    else if (arg === '--alloc-requests') numbers.allocRequests = number();
    else if (arg === '--work-us') args.workUs = number();
    else throw new Error(`unknown option ${arg}; see the top of bench/http.mjs`);
  });
  const q = args.quick;
  Object.assign(args, {
    rounds: numbers.rounds ?? (q ? 1 : 7),
    duration: numbers.duration ?? (q ? 0.3 : 3),
    warmup: numbers.warmup ?? (q ? 0.3 : 2),
    connections: numbers.connections ?? 10,
    allocRequests: numbers.allocRequests ?? (q ? 200 : 2000),
    allocWindows: q ? 1 : 3,
  });
  for (const f of args.frameworks) if (!FRAMEWORKS.some((x) => x.id === f)) throw new Error(`unknown framework ${f} (${FRAMEWORKS.map((x) => x.id).join(', ')})`);
  for (const m of args.modes) if (!MODES.some((x) => x.id === m)) throw new Error(`unknown mode ${m} (${MODES.map((x) => x.id).join(', ')})`);
  for (const n of args.nodes) if (!SUPPORTED_MAJORS.includes(n)) throw new Error(`Node ${n} is not one of ${SUPPORTED_MAJORS.join(', ')}`);
  // Every traced mode is measured against plain: it always runs. The calibration runs beside any of ziptrace's
  // modes (their estimate is scaled by it), and not at all with --work-us 0.
  if (args.modes.length > 0 && !args.modes.includes('plain')) args.modes.unshift('plain');
  if (args.modes.length > 0 && !args.modes.includes('work') && args.modes.some((m) => m.startsWith('ziptrace'))) args.modes.splice(1, 0, 'work');
  if (args.workUs === 0) args.modes = (args.modes.length > 0 ? args.modes : MODES.map((m) => m.id)).filter((m) => m !== 'work');
  if (args.rounds < 1 || args.duration <= 0 || args.warmup <= 0 || args.connections < 1) throw new Error('--rounds, --duration, --warmup and --connections must be positive');
  return args;
}

/** Busy CPU ms of the whole machine (every core), from /proc/stat; undefined off Linux. */
function machineBusyMs() {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return ((user + nice + system + irq + softirq + steal) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * --pin: the servers get the last core to themselves, this process
 * (autocannon) and the collector, started after this, the others. Unpinned,
 * the scheduler places a server beside or away from autocannon as it goes,
 * and a server can keep one placement for several rounds: on two cores
 * servers with AsyncLocalStorage on Node 20 and 22, the AsyncLocalStorage-only
 * one too, were seen to drop from about 80,000 requests a second to 55,000
 * after a round or two and stay there, in some runs and not others. Linux,
 * with taskset (util-linux) and at least two cores; anything else is an error.
 */
function pinCores() {
  const count = availableParallelism();
  if (process.platform !== 'linux' || count < 2) throw new Error('--pin needs Linux and at least two cores');
  const server = String(count - 1);
  const rest = count === 2 ? '0' : `0-${count - 2}`;
  try {
    // -a: every thread of this process (V8's and libuv's are made at start-up).
    execFileSync('taskset', ['-a', '-p', '-c', rest, String(process.pid)], { stdio: 'ignore' });
  } catch (error) {
    throw new Error(`--pin: taskset failed (${error.message}); is util-linux installed?`);
  }
  return { server, driver: rest };
}

/** The server of one framework × mode on one Node version. */
function startServer(node, framework, mode, collectorUrl, args, { alloc = false } = {}) {
  const flags = alloc ? ['--expose-gc', `--min-semi-space-size=${ALLOC_SEMI_SPACE_MB}`, `--max-semi-space-size=${ALLOC_SEMI_SPACE_MB}`] : [...args.serverFlags];
  // One profile per measured server, named so it says which: Node 20 and 22 do not expand ${pid} in a name.
  if (flags.includes('--cpu-prof') && !flags.some((f) => f.startsWith('--cpu-prof-name'))) flags.push(`--cpu-prof-name=${framework.id}-${mode.id}-node${node.major}.cpuprofile`);
  const env = args.dist === undefined ? process.env : { ...process.env, ZIPTRACE_DIST: args.dist };
  const argv = [join(here, 'http-server.mjs'), '--framework', framework.id, '--mode', mode.id, '--collector', collectorUrl, '--work-us', String(args.workUs), ...(alloc ? ['--alloc'] : [])];
  const label = `${framework.id} ${mode.id}${alloc ? ' (allocation)' : ''} on Node ${node.version}`;
  // --pin: started through taskset, so that every thread the server ever makes is on its core from the first.
  const proc = args.pinned === undefined ? new MessageChild(label, node.path, argv, { env, flags }) : new MessageChild(label, 'taskset', argv, { env, flags: ['-c', args.pinned.server, node.path, ...flags] });
  return { proc, framework, mode, ready: proc.next('ready', 30_000) };
}

/** The collector's counts since its last reset, once it has `expected` spans or they stop coming (5 s). */
async function collectorCounts(collector, expected) {
  let counts = await collector.ask({ type: 'count' }, 'counted');
  let last = { spans: counts.spans, at: performance.now() };
  while (counts.spans < expected && performance.now() - last.at < 5000) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    counts = await collector.ask({ type: 'count' }, 'counted');
    if (counts.spans !== last.spans) last = { spans: counts.spans, at: performance.now() };
  }
  return counts;
}

/**
 * One round of one server: the server's clocks start, autocannon loads it for
 * `seconds`, the server waits for the connections to close and flushes its
 * tracer, the collector counts every span of the round, and only then do the
 * server's clocks stop: the exporter's CPU, batch timer and flush alike, is
 * inside the window for every library.
 */
async function round(server, collector, args, seconds) {
  const { proc, mode } = server;
  const load = [loadavg()[0]];
  const busy0 = machineBusyMs();
  const driverCpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await collector.ask({ type: 'expect' }, 'expecting');
  await proc.ask({ type: 'start' }, 'started');
  const result = await autocannon({
    url: `${server.url}${PATH}`,
    connections: args.connections,
    pipelining: 1,
    duration: seconds,
    // Samples every 100 ms, so that a round ends within 100 ms of its duration (autocannon stops on a sample).
    sampleInt: 100,
    headers: args.headers ? callerHeaders(mode.id !== 'ziptrace-unsampled') : undefined,
  });
  const { requests } = await proc.ask({ type: 'flush' }, 'flushed');
  const counts = await collectorCounts(collector, mode.sampled ? requests : 0);
  const cpu = await proc.ask({ type: 'read' }, 'result');
  const wallMs = performance.now() - wall0;
  const driverCpu = process.cpuUsage(driverCpu0);
  const busy1 = machineBusyMs();
  load.push(loadavg()[0]);
  const ours = cpu.cpuUs / 1000 + (driverCpu.user + driverCpu.system) / 1000 + counts.cpuMs;
  return {
    requests: cpu.requests,
    autocannonRequests: result.requests.total,
    requestsPerSecond: Math.round(result.requests.total / result.duration),
    p99Ms: result.latency.p99,
    cpuUsPerRequest: round2(cpu.cpuUs / cpu.requests),
    userUsPerRequest: round2(cpu.userUs / cpu.requests),
    mainThreadMs: cpu.mainThreadMs,
    otherThreadsMs: cpu.otherThreadsMs,
    spans: counts.spans,
    expectedSpans: mode.sampled ? cpu.requests : 0,
    collectorRequests: counts.requests,
    collectorCpuMs: round2(counts.cpuMs),
    errors: result.errors + result.timeouts + result.non2xx,
    durationS: result.duration,
    wallMs: Math.round(wallMs),
    load: load.map(round2),
    // What the rest of the machine used meanwhile: all busy CPU less this server's, the driver's (autocannon) and the collector's.
    otherCores: busy0 === undefined ? undefined : round2(Math.max(0, busy1 - busy0 - ours) / wallMs),
    // The reporter's own counts (ziptrace), since the server started.
    reporterStats: cpu.stats,
  };
}

/** Checks a round's spans: a traced mode that reported none is miswired, and fails the run at once. */
function checkSpans(label, r, problems) {
  if (r.expectedSpans > 0 && r.spans === 0) throw new Error(`${label}: the collector counted 0 spans for ${r.requests} requests: the tracing is not wired`);
  if (r.spans !== r.expectedSpans) problems.push(`${label}: the collector counted ${r.spans} spans for ${r.requests} requests (expected ${r.expectedSpans})`);
  if (r.errors > 0) problems.push(`${label}: autocannon saw ${r.errors} errors, timeouts or non-2xx answers`);
}

/** `n` GETs one after another through `agent` (one kept-alive connection), from here: the allocation windows' load. */
function sequential(url, agent, n, headers) {
  return new Promise((resolve, reject) => {
    let left = n;
    const one = () => {
      if (left-- === 0) return resolve();
      http
        .get(`${url}${PATH}`, { agent, headers }, (res) => {
          res.resume();
          res.on('end', one);
        })
        .on('error', reject);
    };
    one();
  });
}

/**
 * Bytes of V8 heap the server allocates per request: after a warm-up, gc(),
 * heapUsed, `n` sequential requests, the tracer flushed, heapUsed again. The
 * young generation holds more than a window allocates, so no GC runs in
 * between and the difference is what was allocated; a window in which the
 * server saw a GC anyway is measured again with half the requests. The
 * connection is made before the first window, so no window pays for it.
 */
async function allocation(server, args) {
  const { proc, mode } = server;
  const headers = args.headers ? callerHeaders(mode.id !== 'ziptrace-unsampled') : undefined;
  await autocannon({ url: `${server.url}${PATH}`, connections: args.connections, duration: args.warmup, sampleInt: 100, headers });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const windows = [];
  try {
    await sequential(server.url, agent, 100, headers);
    let n = args.allocRequests;
    while (windows.length < args.allocWindows && n >= 50) {
      await proc.ask({ type: 'alloc-start' }, 'alloc-started');
      await sequential(server.url, agent, n, headers);
      const w = await proc.ask({ type: 'alloc-stop' }, 'alloc-result');
      if (w.gcs > 0) n = Math.floor(n / 2);
      else windows.push({ requests: w.requests, bytesPerRequest: Math.round(w.bytes / w.requests) });
    }
  } finally {
    agent.destroy();
  }
  return windows;
}

const round1 = (n) => Math.round(n * 10) / 10;
const round2 = (n) => Math.round(n * 100) / 100;
const spread = (values) => (values.length === 0 ? undefined : { median: round2(median(values)), min: round2(Math.min(...values)), max: round2(Math.max(...values)) });

/** Every configuration of one Node version: the interleaved rounds, then the allocation phase. */
async function measure(node, configs, collector, collectorUrl, args, problems) {
  const results = new Map(configs.map((c) => [c, { rounds: [], allocation: [] }]));
  const servers = configs.map((c) => ({ config: c, ...startServer(node, c.framework, c.mode, collectorUrl, args) }));
  try {
    for (const s of servers) {
      const ready = await s.ready;
      s.url = `http://127.0.0.1:${ready.port}`;
      results.get(s.config).info = ready.info;
    }
    for (const s of servers) {
      process.stderr.write(`Node ${node.version}: warming up ${s.framework.id} ${s.mode.id}\n`);
      checkSpans(`Node ${node.version} ${s.framework.id} ${s.mode.id} (warm-up)`, await round(s, collector, args, args.warmup), problems);
    }
    for (let r = 0; r < args.rounds; r++) {
      process.stderr.write(`Node ${node.version}: round ${r + 1} of ${args.rounds}\n`);
      // A framework's modes run one after the other, so each traced round is close in time to the plain
      // round it is compared with; the order of the frameworks, and of the modes within each, rotates.
      const frameworks = [...new Set(configs.map((c) => c.framework))];
      for (let f = 0; f < frameworks.length; f++) {
        const own = servers.filter((s) => s.framework === frameworks[(r + f) % frameworks.length]);
        for (let m = 0; m < own.length; m++) {
          const s = own[(r + m) % own.length];
          const result = await round(s, collector, args, args.duration);
          checkSpans(`Node ${node.version} ${s.framework.id} ${s.mode.id} round ${r + 1}`, result, problems);
          results.get(s.config).rounds.push({ round: r + 1, ...result });
        }
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.proc.exit()));
  }
  if (args.allocRequests > 0) {
    process.stderr.write(`Node ${node.version}: allocation per request\n`);
    const allocServers = configs.map((c) => ({ config: c, ...startServer(node, c.framework, c.mode, collectorUrl, args, { alloc: true }) }));
    try {
      for (const s of allocServers) {
        const ready = await s.ready;
        s.url = `http://127.0.0.1:${ready.port}`;
        results.get(s.config).allocationInfo = ready.info;
      }
      for (const s of allocServers) {
        const windows = await allocation(s, args);
        if (windows.length === 0) problems.push(`Node ${node.version} ${s.framework.id} ${s.mode.id}: every allocation window saw a GC`);
        results.get(s.config).allocation = windows;
      }
    } finally {
      await Promise.all(allocServers.map((s) => s.proc.exit()));
    }
  }
  return results;
}

/**
 * A Node version's results, per framework and mode: medians over the rounds
 * with their min and max; `addedUs`, the median (min, max) of the per-round
 * differences against plain's round of the same framework and round; bytes
 * per request, the median of the windows, and their difference from plain's.
 */
function summarize(node, configs, results, workUs) {
  const frameworks = {};
  for (const c of configs) {
    const { info, allocationInfo, rounds, allocation } = results.get(c);
    const plain = results.get(configs.find((p) => p.framework === c.framework && p.mode.id === 'plain'));
    // The median (min, max) of the per-round differences from plain's round of the same framework and round.
    const added = (of) => (c.mode.id === 'plain' ? undefined : spread(rounds.map((r) => of(r) - of(plain.rounds.find((p) => p.round === r.round)))));
    // The main thread's and the other threads' CPU per request, from /proc (absent off Linux).
    const threads = c.mode.id !== 'plain' && rounds.every((r) => r.mainThreadMs !== undefined) && plain.rounds.every((r) => r.mainThreadMs !== undefined);
    const perRequest = (ms, r) => (ms * 1000) / r.requests;
    const split = rounds.filter((r) => r.otherThreadsMs !== undefined);
    const entry = {
      info,
      requestsPerSecond: spread(rounds.map((r) => r.requestsPerSecond)),
      p99Ms: spread(rounds.map((r) => r.p99Ms)),
      cpuUsPerRequest: spread(rounds.map((r) => r.cpuUsPerRequest)),
      userUsPerRequest: spread(rounds.map((r) => r.userUsPerRequest)),
      addedUs: added((r) => r.cpuUsPerRequest),
      addedUserUs: added((r) => r.userUsPerRequest),
      addedSystemUs: added((r) => r.cpuUsPerRequest - r.userUsPerRequest),
      addedMainThreadUs: threads ? added((r) => perRequest(r.mainThreadMs, r)) : undefined,
      addedOtherThreadsUs: threads ? added((r) => perRequest(r.otherThreadsMs, r)) : undefined,
      otherThreadsShare: spread(split.map((r) => r.otherThreadsMs / (r.mainThreadMs + r.otherThreadsMs))),
      spansPerRequest: round2(rounds.reduce((sum, r) => sum + r.spans, 0) / rounds.reduce((sum, r) => sum + r.requests, 0)),
      bytesPerRequest: allocation.length === 0 ? undefined : Math.round(median(allocation.map((w) => w.bytesPerRequest))),
      rounds,
      allocation,
      allocationInfo,
    };
    (frameworks[c.framework.id] ??= { modes: {} }).modes[c.mode.id] = entry;
  }
  for (const f of Object.values(frameworks)) {
    const plainBytes = f.modes.plain.bytesPerRequest;
    for (const [id, m] of Object.entries(f.modes)) if (id !== 'plain' && m.bytesPerRequest !== undefined && plainBytes !== undefined) m.addedBytes = m.bytesPerRequest - plainBytes;
    const z = f.modes.ziptrace?.addedUs?.median;
    const o = f.modes.opentelemetry?.addedUs?.median;
    // The ratio of the medians as printed (µs to one decimal). Where ziptrace's is not above zero it means nothing.
    if (z !== undefined && o !== undefined) f.otelOverZiptrace = round1(z) > 0 ? round2(round1(o) / round1(z)) : undefined;
    // The calibration: what the benchmark reports for workUs of known work on the main thread. A mode's added
    // main-thread CPU scaled by it, plus its other threads' (gzip on libuv's pool, GC helpers) as measured, is
    // an estimate of the work the mode adds (linear in the work; bench/README.md, "Calibration").
    const work = f.modes.work;
    if (work?.addedUs !== undefined && work.addedUs.median > 0 && workUs > 0) f.workReportedAs = round2(work.addedUs.median / workUs);
    const w = work?.addedMainThreadUs?.median;
    if (w !== undefined && w > 0 && workUs > 0) {
      for (const [id, m] of Object.entries(f.modes)) {
        if (id === 'plain' || id === 'work' || m.addedMainThreadUs === undefined) continue;
        m.addedAsWorkUs = round2((m.addedMainThreadUs.median / w) * workUs + m.addedOtherThreadsUs.median);
      }
    }
  }
  return { major: node.major, version: node.version, frameworks };
}

function goals(runs) {
  const out = [];
  for (const run of runs) {
    for (const [id, f] of Object.entries(run.frameworks)) {
      const add = (goal, value, unit, met) => value !== undefined && out.push({ node: run.version, framework: id, goal, value, unit, met });
      const z = f.modes.ziptrace?.addedUs?.median;
      add(`ziptrace adds ≤ ${GOALS.sampledUs} µs to a sampled request`, z, 'µs', z <= GOALS.sampledUs);
      const u = f.modes['ziptrace-unsampled']?.addedUs?.median;
      add(`ziptrace adds ≤ ${GOALS.unsampledUs} µs to an unsampled request`, u, 'µs', u <= GOALS.unsampledUs);
      const o = f.modes.opentelemetry?.addedUs?.median;
      if (z === undefined || o === undefined) continue;
      // ziptrace adding nothing measurable meets it whenever OpenTelemetry adds anything.
      const ratio = f.otelOverZiptrace;
      add(`OpenTelemetry adds ≥ ${GOALS.otelOverZiptrace}x ziptrace's`, ratio ?? 'ziptrace adds ≤ 0', 'x', ratio === undefined ? o > 0 : ratio >= GOALS.otelOverZiptrace);
    }
  }
  return out;
}

const int = (n) => Math.round(n).toLocaleString('en-US');
const fixed = (n, digits = 1) => n.toFixed(digits);
const signed = (n, digits = 1) => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(digits)}`;
const withRange = (s, f) => (s === undefined ? '–' : s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`);

/** The markdown table: one row per Node × framework × mode. */
function table(runs, workUs) {
  const head = ['Node', 'framework', 'mode', 'requests/s', 'p99 ms', 'CPU µs/request', 'added µs/request', 'of which user', 'of which system', 'other threads', 'bytes/request', 'added bytes', 'spans/request'];
  const signedMedian = (s) => (s === undefined ? '–' : signed(s.median));
  const lines = [`| ${head.join(' | ')} |`, `| --- | --- | --- |${head.slice(3).map(() => ' ---: ').join('|')}|`];
  for (const run of runs) {
    for (const f of FRAMEWORKS) {
      const fw = run.frameworks[f.id];
      if (fw === undefined) continue;
      for (const mode of MODES) {
        const m = fw.modes[mode.id];
        if (m === undefined) continue;
        const cells = [
          run.major,
          f.label,
          modeLabel(mode, workUs),
          withRange(m.requestsPerSecond, int),
          withRange(m.p99Ms, (n) => fixed(n, 0)),
          withRange(m.cpuUsPerRequest, fixed),
          mode.id === 'plain' ? '' : withRange(m.addedUs, signed),
          mode.id === 'plain' ? '' : signedMedian(m.addedUserUs),
          mode.id === 'plain' ? '' : signedMedian(m.addedSystemUs),
          m.otherThreadsShare === undefined ? '–' : `${Math.round(m.otherThreadsShare.median * 100)}%`,
          m.bytesPerRequest === undefined ? '–' : int(m.bytesPerRequest),
          mode.id === 'plain' || m.addedBytes === undefined ? '' : `${m.addedBytes >= 0 ? '+' : '−'}${int(Math.abs(m.addedBytes))}`,
          m.spansPerRequest,
        ];
        lines.push(`| ${cells.join(' | ')} |`);
      }
    }
  }
  return lines.join('\n');
}

/** A mode's name in the tables: the calibration's says how much work it adds. */
const modeLabel = (mode, workUs) => (mode.id === 'work' ? `plain + ${workUs} µs of work` : mode.label);

/**
 * Per Node × framework: what each tracer adds, OpenTelemetry's added CPU ÷
 * ziptrace's, and, where the calibration ran, what its known work showed as
 * and ziptrace's added CPU scaled back by it to work on the main thread.
 */
function ratioTable(runs, workUs) {
  const lines = [
    `| Node | framework | ziptrace adds | ziptrace unsampled adds | OpenTelemetry adds | OTel ÷ ziptrace (CPU) | ${workUs} µs of work adds | ziptrace as work: sampled / unsampled | bytes: ziptrace adds | bytes: OTel adds |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const us = (m) => (m?.addedUs === undefined ? '–' : `${signed(m.addedUs.median)} µs`);
  const asWork = (m) => (m?.addedAsWorkUs === undefined ? '–' : signed(m.addedAsWorkUs));
  const bytes = (m) => (m?.addedBytes === undefined ? '–' : `${m.addedBytes >= 0 ? '+' : '−'}${int(Math.abs(m.addedBytes))}`);
  for (const run of runs) {
    for (const f of FRAMEWORKS) {
      const fw = run.frameworks[f.id];
      if (fw === undefined) continue;
      const ratio = fw.otelOverZiptrace === undefined ? '–' : `${fw.otelOverZiptrace.toFixed(2)}x`;
      const work = fw.modes.work === undefined ? '–' : `${us(fw.modes.work)}${fw.workReportedAs === undefined ? '' : ` (${fw.workReportedAs.toFixed(2)}x)`}`;
      const asWorkCell = fw.modes.ziptrace?.addedAsWorkUs === undefined && fw.modes['ziptrace-unsampled']?.addedAsWorkUs === undefined ? '–' : `${asWork(fw.modes.ziptrace)} / ${asWork(fw.modes['ziptrace-unsampled'])} µs`;
      lines.push(`| ${run.major} | ${f.label} | ${us(fw.modes.ziptrace)} | ${us(fw.modes['ziptrace-unsampled'])} | ${us(fw.modes.opentelemetry)} | ${ratio} | ${work} | ${asWorkCell} | ${bytes(fw.modes.ziptrace)} | ${bytes(fw.modes.opentelemetry)} |`);
    }
  }
  return lines.join('\n');
}

async function main() {
  const started = Date.now();
  const args = parseArgs(process.argv.slice(2));
  if (args.dist === undefined) ensureBuilt(args.build);
  const nodes = nodesFor(args.nodes);
  const frameworks = FRAMEWORKS.filter((f) => args.frameworks.length === 0 || args.frameworks.includes(f.id));
  const modes = MODES.filter((m) => args.modes.length === 0 || args.modes.includes(m.id));
  const configs = frameworks.flatMap((framework) => modes.map((mode) => ({ framework, mode })));
  const loadStart = round2(loadavg()[0]);
  if (args.pin) args.pinned = pinCores();

  const collector = new MessageChild('collector.mjs', process.execPath, [join(here, 'collector.mjs')]);
  const runs = [];
  const problems = [];
  try {
    const collectorUrl = `http://127.0.0.1:${(await collector.next('listening', 30_000)).port}`;
    for (const node of nodes) {
      const nodeStarted = Date.now();
      const results = await measure(node, configs, collector, collectorUrl, args, problems);
      runs.push(summarize(node, configs, results, args.workUs));
      process.stderr.write(`Node ${node.version}: done in ${((Date.now() - nodeStarted) / 1000).toFixed(0)} s\n`);
    }
  } finally {
    await collector.exit();
  }

  const allRounds = runs.flatMap((run) => Object.values(run.frameworks).flatMap((f) => Object.values(f.modes).flatMap((m) => m.rounds)));
  const others = allRounds.map((r) => r.otherCores).filter((c) => c !== undefined);
  const busyRounds = others.filter((c) => c > BUSY_CORES).length;
  const loads = allRounds.flatMap((r) => r.load);
  const goalList = goals(runs);
  const report = {
    date: new Date().toISOString(),
    machine: machine(),
    load: { start: loadStart, end: round2(loadavg()[0]), roundsMin: round2(Math.min(...loads)), roundsMax: round2(Math.max(...loads)), otherCores: spread(others), busyRounds, busyAbove: BUSY_CORES },
    options: { workUs: args.workUs, quick: args.quick, rounds: args.rounds, durationS: args.duration, warmupS: args.warmup, connections: args.connections, pipelining: 1, headers: args.headers, pinned: args.pinned ?? false, serverFlags: args.serverFlags, allocRequests: args.allocRequests, allocWindows: args.allocWindows, allocSemiSpaceMb: ALLOC_SEMI_SPACE_MB, path: `GET ${PATH}` },
    unit:
      'CPU µs/request: server process user+system (all threads) from the start of the load to the collector having counted every span of the round, ÷ requests the server answered; medians over the rounds with min and max; addedUs: median (min, max) of per-round differences against plain of the same framework and round (addedUserUs, addedSystemUs: of user and system CPU alone); addedMainThreadUs, addedOtherThreadsUs: the same of the main thread\'s and the other threads\' CPU (/proc); workReportedAs: the work mode\'s addedUs ÷ its workUs; addedAsWorkUs: a mode\'s addedMainThreadUs × workUs ÷ the work mode\'s, plus its addedOtherThreadsUs; bytesPerRequest: V8 heap allocated per request (no GC in the window), median of the windows; addedBytes: its difference from plain; otelOverZiptrace: ratio of the addedUs medians',
    // autocannon and the collector both run on the node running this script.
    driver: { node: process.version, autocannon: versionOf('autocannon') },
    versions: versions(args.dist, ['express', 'fastify', '@opentelemetry/instrumentation-http', '@opentelemetry/instrumentation', '@opentelemetry/sdk-trace-base', '@opentelemetry/sdk-trace', '@opentelemetry/exporter-zipkin', '@opentelemetry/context-async-hooks', '@opentelemetry/api']),
    goals: goalList,
    runs,
    problems,
  };
  const out = writeResults(report, args.quick ? 'http-quick' : 'http-latest', args.out);

  const goalValue = (g) => (typeof g.value !== 'number' ? g.value : g.unit === 'x' ? `${g.value.toFixed(2)}x` : `${signed(g.value)} µs`);
  const goalText = (g) => `Node ${g.node} ${g.framework}: ${g.goal}: ${goalValue(g)} (${g.met ? 'met' : 'MISSED'})`;
  const lines = [
    `## ziptrace HTTP benchmark${args.quick ? ' (quick smoke run: numbers are rough)' : ''}`,
    '',
    `${report.machine.cpu} × ${report.machine.cpus}, ${report.machine.platform}; load average ${report.load.start} at the start, ${report.load.end} at the end (${report.load.roundsMin}–${report.load.roundsMax} during the rounds, this benchmark's own two busy processes included). ` +
      (others.length === 0
        ? ''
        : `Other processes used ${report.load.otherCores.median.toFixed(2)} cores (median of the rounds, max ${report.load.otherCores.max.toFixed(2)}); ${busyRounds === 0 ? 'no round' : `${busyRounds} of ${others.length} rounds`} above ${BUSY_CORES} cores${busyRounds > 0 ? ': HIGH LOAD, numbers moved by it' : ''}.`),
    `autocannon ${report.driver.autocannon} on Node ${process.version} (this process): ${args.connections} connections, pipelining 1, GET ${PATH}${args.headers ? ' with a caller\'s B3 and traceparent headers' : ', no trace headers'}; ${args.duration} s a round, median of ${args.rounds} interleaved round${args.rounds === 1 ? '' : 's'} after ${args.warmup} s of warm-up per server.${args.pinned === undefined ? '' : ` Servers pinned to core ${args.pinned.server}, autocannon and the collector to ${args.pinned.driver} (--pin).`} In brackets: min–max over the rounds.`,
    'CPU µs/request: the server process\'s user + system CPU, all threads, from the start of the load until the collector had counted every span of the round (the export included), ÷ the requests the server answered. added: median of the per-round differences from plain (same framework, same round), and of the user and the system CPU alone. other threads: share of that CPU off the main thread.',
    args.allocRequests === 0
      ? 'bytes/request: not measured (--alloc-requests 0).'
      : `bytes/request: V8 heap allocated per request (heapUsed across ${args.allocRequests} sequential requests, fewer if a GC ran, with no GC in between; median of ${args.allocWindows} window${args.allocWindows === 1 ? '' : 's'}; separate server processes with a ${2 * ALLOC_SEMI_SPACE_MB} MB young generation); added: difference from plain's.`,
    '',
    table(runs, args.workUs),
    '',
    'OpenTelemetry ÷ ziptrace (CPU): the ratio of the two medians of added µs shown. ' +
      `${args.workUs} µs of work adds: what the calibration (the plain app doing ${args.workUs} µs of CPU on the main thread per request) showed as, and in brackets that ÷ ${args.workUs} µs; ziptrace as work: ziptrace's added main-thread CPU scaled by the calibration's, plus its added CPU on other threads, an estimate of the work it adds (see bench/README.md, "Calibration"). The goals are judged on the added CPU as measured.`,
    '',
    ratioTable(runs, args.workUs),
    '',
    'Goals:',
    ...goalList.map((g) => `- ${goalText(g)}`),
    '',
    `Written to ${out.startsWith(root) ? out.slice(root.length + 1) : out} in ${((Date.now() - started) / 1000).toFixed(0)} s.`,
  ];
  if (problems.length > 0) lines.push('', 'PROBLEMS:', ...problems.map((p) => `- ${p}`));
  process.stdout.write(lines.join('\n') + '\n');
  if (problems.length > 0) process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(`\nbench:http: ${error.stack ?? error.message}\n`);
  process.exitCode = 1;
});
