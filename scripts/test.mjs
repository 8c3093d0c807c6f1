// `npm test`: type-check once, then run the vitest suite under every supported
// Node version (scripts/nodes.mjs), installing the missing ones first.
//
//   npm test                              everything
//   npm test -- spec/package.spec.ts      extra arguments go to vitest
//
// Env ZIPTRACE_NODES: the Node majors to run, comma-separated (ZIPTRACE_NODES=20
// runs only this machine's node). Without it, every supported major must be
// present or installable (linux x64 with the npm registry), or the run fails.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBinaries, SUPPORTED_MAJORS } from './nodes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const vitestArgs = process.argv.slice(2);

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
  const listed = (install) => nodeBinaries({ install }).filter((n) => majors.includes(n.major));
  const present = listed(false);
  return present.length === majors.length ? present : listed(true);
}

let nodes;
try {
  nodes = pickNodes();
} catch (error) {
  fail(`could not get every supported Node version (${SUPPORTED_MAJORS.join(', ')}): ${error.message}\n` +
    `Install them with \`node scripts/nodes.mjs\`, or set ZIPTRACE_NODES (e.g. ZIPTRACE_NODES=${process.versions.node.split('.')[0]}) to run fewer.`);
}

const results = [];

header('build: node scripts/build.mjs (dist/, which the examples and child processes load)');
const [buildOk, buildTime] = step(process.execPath, [join(root, 'scripts', 'build.mjs')]);
results.push({ name: 'build', ok: buildOk, seconds: buildTime });
if (!buildOk) fail('the build failed');

header('type-check: tsc --noEmit -p .');
const [typesOk, typesTime] = step(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '-p', '.']);
results.push({ name: 'type-check', ok: typesOk, seconds: typesTime });

const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
for (const { major, version, path } of nodes) {
  header(`vitest under Node ${version} (${path})`);
  // Child processes that run plain `node` (and npm's scripts) get this version too.
  const env = { ...process.env, PATH: `${dirname(path)}${delimiter}${process.env.PATH ?? ''}` };
  const report = join(root, '.cache', `vitest-node${major}.json`);
  rmSync(report, { force: true });
  const [ok, seconds] = step(path, [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...vitestArgs], env);
  results.push({ name: `Node ${version}`, ok, seconds, tests: testCounts(report) });
}

/** Passed and failed test counts from vitest's JSON report, or undefined when it wrote none. */
function testCounts(file) {
  if (!existsSync(file)) return undefined;
  const { numPassedTests, numFailedTests } = JSON.parse(readFileSync(file, 'utf8'));
  return { passed: numPassedTests, failed: numFailedTests };
}

header('summary');
for (const { name, ok, seconds, tests } of results) {
  const counts = tests ? `  ${tests.passed} passed, ${tests.failed} failed` : '';
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name.padEnd(16)} ${seconds.toFixed(1).padStart(6)}s${counts}`);
}
const failed = results.filter((r) => !r.ok).length;
const passedTests = results.reduce((sum, r) => sum + (r.tests?.passed ?? 0), 0);
const failedTests = results.reduce((sum, r) => sum + (r.tests?.failed ?? 0), 0);
console.log(`\nsteps: ${results.length - failed} passed, ${failed} failed`);
console.log(`tests: ${passedTests} passed, ${failedTests + (failed > 0 && failedTests === 0 ? 1 : 0)} failed`);
process.exit(failed === 0 ? 0 : 1);
