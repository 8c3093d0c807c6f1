// `npm test`: type-check once, then run the vitest suite under every supported
// Node version (scripts/nodes.mjs), installing the missing ones first (it says
// what it fetches, and where, before it does).
//
//   npm test                              everything
//   npm test -- spec/package.spec.ts      extra arguments go to vitest
//
// Env ZIPTRACE_NODES: the Node majors to run, comma-separated (ZIPTRACE_NODES=20
// runs only this machine's node). Without it, every supported major must be
// present or installable (linux x64 with the npm registry), or the run fails.
//
// Coverage of lib/ is measured on one run only (this machine's node, else the
// first), with vitest's v8 provider as vitest.config.ts sets it up: a summary,
// the files under the threshold with their uncovered lines, and the run fails
// when lib/ as a whole is under it (coverage.thresholds there). Not measured
// when extra arguments are given, as they may run only part of the suite.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBinaries, SUPPORTED_MAJORS } from './nodes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const vitestArgs = process.argv.slice(2);
/** The per-file line threshold the table shows; the run's own is coverage.thresholds.lines in vitest.config.ts (keep them equal). */
const LINES_THRESHOLD = 95;
const coverageDir = join(root, 'coverage');

function fail(message) {
  console.error(`\nnpm test: ${message}`);
  process.exit(1);
}

function header(title) {
  console.log(`\n${'='.repeat(72)}\n${title}\n${'='.repeat(72)}`);
}

/** Runs `bin args` in the repo, output shown; returns [passed, seconds]. */
function step(bin, args, env = process.env) {
  const started = Date.now();
  const { status, error } = spawnSync(bin, args, { cwd: root, stdio: 'inherit', env });
  if (error) console.error(error);
  return [status === 0, (Date.now() - started) / 1000];
}

/** The Node binaries to test with: all supported ones, or those ZIPTRACE_NODES names. */
function pickNodes() {
  const only = process.env.ZIPTRACE_NODES;
  if (!only) return nodeBinaries({ install: true });
  const majors = [...new Set(only.split(/[\s,]+/).filter(Boolean).map(Number))];
  if (majors.length === 0 || majors.some((m) => !SUPPORTED_MAJORS.includes(m))) {
    fail(`ZIPTRACE_NODES=${only}: expected some of ${SUPPORTED_MAJORS.join(',')}`);
  }
  // Only the named ones: any of them missing is fetched (and said so first), no other.
  return nodeBinaries({ install: true, majors });
}

let nodes;
try {
  nodes = pickNodes();
} catch (error) {
  fail(`could not get every supported Node version (${SUPPORTED_MAJORS.join(', ')}): ${error.message}\n` +
    `Install them with \`node scripts/nodes.mjs\`, or set ZIPTRACE_NODES (e.g. ZIPTRACE_NODES=${process.versions.node.split('.')[0]}) to run fewer.`);
}

const results = [];

// One seed for every Node version's run (spec/helpers/tracing.ts reads it): the day's date unless given.
const seed = process.env.ZIPTRACE_SEED || new Date().toISOString().slice(0, 10).replaceAll('-', '');
process.env.ZIPTRACE_SEED = seed;
console.log(`seed: ${seed} (the randomness of the fuzzing and of the concurrency specs; ZIPTRACE_SEED=${seed} npm test repeats it)`);

header('build: node scripts/build.mjs (dist/, which the examples and child processes load)');
const [buildOk, buildTime] = step(process.execPath, [join(root, 'scripts', 'build.mjs')]);
results.push({ name: 'build', ok: buildOk, seconds: buildTime });
if (!buildOk) fail('the build failed');

header('type-check: tsc --noEmit -p .');
const [typesOk, typesTime] = step(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '-p', '.']);
results.push({ name: 'type-check', ok: typesOk, seconds: typesTime });

const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
// Coverage on one run: this machine's node's, else the first.
const coverageRun = vitestArgs.length > 0 ? undefined : (nodes.find((n) => n.path === process.execPath) ?? nodes[0]);
for (const node of nodes) {
  const { major, version, path } = node;
  const withCoverage = node === coverageRun;
  header(`vitest under Node ${version} (${path})${withCoverage ? ', with coverage of lib/' : ''}`);
  // Child processes that run plain `node` (and npm's scripts) get this version too.
  const env = { ...process.env, PATH: `${dirname(path)}${delimiter}${process.env.PATH ?? ''}` };
  const report = join(root, '.cache', `vitest-node${major}.json`);
  rmSync(report, { force: true });
  if (withCoverage) rmSync(coverageDir, { recursive: true, force: true });
  const coverageArgs = withCoverage ? ['--coverage'] : [];
  const [ok, seconds] = step(path, [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...coverageArgs, ...vitestArgs], env);
  results.push({ name: `Node ${version}`, ok, seconds, tests: testCounts(report) });
  if (withCoverage) results.push(coverageResult());
}
if (coverageRun === undefined) console.log('\ncoverage: not measured, as extra arguments were given to vitest (they may run part of the suite only)');

/**
 * The coverage step's result from vitest's reports in coverage/: lib/'s line
 * coverage in total, after a table of the files under the threshold with
 * their uncovered lines. (vitest itself prints the summary and fails the run
 * when the total is under coverage.thresholds.)
 */
function coverageResult() {
  const summaryFile = join(coverageDir, 'coverage-summary.json');
  if (!existsSync(summaryFile)) {
    console.log('\ncoverage: vitest wrote no coverage/coverage-summary.json');
    return { name: 'coverage lib/', ok: false, note: 'no report' };
  }
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
  const details = readJson(join(coverageDir, 'coverage-final.json')) ?? {};
  const below = Object.entries(summary)
    .filter(([file, { lines }]) => file !== 'total' && lines.pct < LINES_THRESHOLD)
    .map(([file, { lines }]) => ({ file: relative(root, file), lines, uncovered: uncoveredLines(details[file]) }))
    .sort((a, b) => a.lines.pct - b.lines.pct);
  if (below.length > 0) {
    console.log(`\ncoverage: files under ${LINES_THRESHOLD}% of lines`);
    const width = Math.max(...below.map((b) => b.file.length), 4);
    console.log(`  ${'file'.padEnd(width)}  ${'lines'.padStart(7)}  ${'covered'.padStart(9)}  uncovered lines`);
    for (const { file, lines, uncovered } of below) {
      console.log(`  ${file.padEnd(width)}  ${`${lines.pct.toFixed(2)}%`.padStart(7)}  ${`${lines.covered}/${lines.total}`.padStart(9)}  ${uncovered}`);
    }
  }
  const { pct, covered, total } = summary.total.lines;
  const ok = pct >= LINES_THRESHOLD;
  console.log(`\ncoverage: lib/ lines ${pct.toFixed(2)}% (${covered}/${total}), ${ok ? 'at least' : 'under'} the ${LINES_THRESHOLD}% threshold`);
  return { name: 'coverage lib/', ok, note: `lines ${pct.toFixed(2)}% (threshold ${LINES_THRESHOLD}%)` };
}

function readJson(file) {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

/** The lines no statement on which ran, as ranges ("12-14, 20"), from an istanbul file coverage. */
function uncoveredLines(fileCoverage) {
  if (fileCoverage === undefined) return '?';
  const hits = new Map(); // line -> max count of the statements starting on it, as istanbul counts lines
  for (const [id, count] of Object.entries(fileCoverage.s)) {
    const line = fileCoverage.statementMap[id]?.start.line;
    if (line !== undefined) hits.set(line, Math.max(hits.get(line) ?? 0, count));
  }
  const lines = [...hits].filter(([, count]) => count === 0).map(([line]) => line).sort((a, b) => a - b);
  const ranges = [];
  for (const line of lines) {
    const last = ranges.at(-1);
    if (last !== undefined && line === last[1] + 1) last[1] = line;
    else ranges.push([line, line]);
  }
  return ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ');
}

/** Passed and failed test counts from vitest's JSON report, or undefined when it wrote none. */
function testCounts(file) {
  if (!existsSync(file)) return undefined;
  const { numPassedTests, numFailedTests } = JSON.parse(readFileSync(file, 'utf8'));
  return { passed: numPassedTests, failed: numFailedTests };
}

header('summary');
for (const { name, ok, seconds, tests, note } of results) {
  const counts = tests ? `  ${tests.passed} passed, ${tests.failed} failed` : '';
  const time = seconds === undefined ? ' '.repeat(7) : `${seconds.toFixed(1).padStart(6)}s`;
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name.padEnd(16)} ${time}${counts}${note ? `  ${note}` : ''}`);
}
// The specs check spans against Zipkin's official definition only where it is beside the clone (as in CI).
if (!existsSync(join(root, '..', 'shared', 'zipkin-api', 'zipkin2-api.yaml'))) {
  console.log('\nzipkin schema: spans were checked against ziptrace\'s own schema only; no ../shared/zipkin-api/zipkin2-api.yaml beside the repository, so the checks against the official definition were skipped');
}
// The W3C Trace Context suite (spec/propagation/w3c-suite.spec.ts) is skipped only where it is not beside the clone
// (spec/setup/w3c-suite-notice.ts); where it is, it runs, and fails without a python3 with aiohttp.
if (!existsSync(join(root, '..', 'shared', 'w3c-trace-context'))) {
  console.log('\nw3c suite: ../shared/w3c-trace-context is not beside the repository; the W3C Trace Context suite was skipped');
}
console.log(`\nseed: ${seed} (ZIPTRACE_SEED=${seed} npm test repeats this run's random cases)`);
const failed = results.filter((r) => !r.ok).length;
const passedTests = results.reduce((sum, r) => sum + (r.tests?.passed ?? 0), 0);
const failedTests = results.reduce((sum, r) => sum + (r.tests?.failed ?? 0), 0);
console.log(`\nsteps: ${results.length - failed} passed, ${failed} failed`);
console.log(`tests: ${passedTests} passed, ${failedTests + (failed > 0 && failedTests === 0 ? 1 : 0)} failed`);
process.exit(failed === 0 ? 0 : 1);
