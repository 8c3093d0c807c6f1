/**
 * The W3C's own Trace Context test suite (github.com/w3c/trace-context,
 * test/test.py), run as it is against a real ziptrace service: the suite's
 * harness sends requests to spec/fixtures/w3c-service.mjs (ziptrace from
 * dist/, W3C propagation only), which calls the harness back, and the harness
 * checks the traceparent and tracestate of each callback. Level 2, strict:
 * SPEC_LEVEL=2 STRICT_LEVEL=2. Every one of its tests must pass.
 *
 * The suite is reference material kept beside the repository
 * (../shared/w3c-trace-context, see its SOURCE.txt), not part of it: without
 * it this spec is skipped, and the run says so (spec/setup/w3c-suite-notice.ts,
 * and the summary of scripts/test.mjs). Where it is present the spec runs, and
 * it needs a python3 with aiohttp (apt-get install -y python3-aiohttp, as
 * .ci/run does): without one, or without the suite's test/test.py, it fails
 * saying so, rather than pass over the suite unseen.
 * spec/propagation/w3c.spec.ts restates the suite's cases in-process, so a
 * failure here that passes there points at the service or the transport.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announcedPort, run } from '../helpers/child-processes.js';
import { findPython } from '../helpers/python.js';
import { W3C_SUITE_DIR as suiteDir, W3C_SUITE_PRESENT, W3C_SUITE_SKIPPED } from '../setup/w3c-suite-notice.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const harness = path.join(suiteDir, 'test', 'test.py');
const service = path.join(repoRoot, 'spec', 'fixtures', 'w3c-service.mjs');

/** The suite's test count at the commit SOURCE.txt names, all levels and strictness included. */
const EXPECTED_TESTS = 41;

// Only the suite's absence skips this spec; said here and, once per run, by spec/setup/w3c-suite-notice.ts.
if (W3C_SUITE_SKIPPED !== undefined) console.warn(`spec/propagation/w3c-suite.spec.ts skipped: ${W3C_SUITE_SKIPPED}`);
const python = W3C_SUITE_PRESENT ? findPython(['aiohttp']) : undefined;

/** Why the suite, present, cannot run here (so the spec fails), or undefined when it can. */
function cannotRun(): string | undefined {
  if (!existsSync(harness)) {
    return `${suiteDir} is there, but not its test/test.py (${harness}): the reference copy is incomplete; lay it out again as its SOURCE.txt says.`;
  }
  if (python === undefined) {
    return (
      `no python3 with aiohttp, which the W3C Trace Context suite at ${suiteDir} needs (tried python3 on PATH and /usr/bin/python3).\n` +
      'Install it with: apt-get install -y python3-aiohttp   (as .ci/run does; it installs into /usr/bin/python3)'
    );
  }
  return undefined;
}

/** A TCP port free right now on 127.0.0.1, for the harness's own server (it defaults to a fixed 7777). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

const title = 'the W3C Trace Context test suite (Level 2, strict) against a ziptrace service';
describe.skipIf(!W3C_SUITE_PRESENT)(W3C_SUITE_SKIPPED === undefined ? title : `${title} [skipped: ${W3C_SUITE_SKIPPED}]`, () => {
  const unable = W3C_SUITE_PRESENT ? cannotRun() : undefined;
  let child: ChildProcess | undefined;
  let endpoint = '';

  beforeAll(async () => {
    // Nothing to start when the suite cannot run: the test below fails, saying why.
    if (unable !== undefined) return;
    // The service loads dist/: build it if lib/ changed since (as `npm test` does first).
    const build = await run(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs'), '--if-stale'], { cwd: repoRoot, timeout: 170_000 });
    expect(build.code, `node scripts/build.mjs --if-stale failed, so dist/ cannot be tested:\n${build.output}`).toBe(0);
    // stdin is a pipe that the service watches: should this process die, the service exits with it.
    child = spawn(process.execPath, [service], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    endpoint = `http://127.0.0.1:${await announcedPort(child, 'the service')}/test`;
  }, 200_000);

  afterAll(async () => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  });

  // The whole suite takes well under 2 s here (each failing case can cost the harness its 5 s timeout).
  it(`passes all ${EXPECTED_TESTS} tests of test.py`, async () => {
    if (unable !== undefined) throw new Error(unable);
    const env: NodeJS.ProcessEnv = { ...process.env, SPEC_LEVEL: '2', STRICT_LEVEL: '2', HARNESS_PORT: String(await freePort()), PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' };
    // The harness's own knobs from the environment would change what is tested or how it reads.
    for (const knob of ['HARNESS_DEBUG', 'HARNESS_HOST', 'HARNESS_BIND_HOST', 'HARNESS_BIND_PORT', 'HARNESS_TIMEOUT', 'SERVICE_ENDPOINT']) delete env[knob];
    const { code, output } = await run(python!, [harness, endpoint], { cwd: path.dirname(harness), env, timeout: 240_000 });
    const shown = `\n--- python3 test.py ${endpoint} (SPEC_LEVEL=2 STRICT_LEVEL=2) ---\n${output}`;

    const failed = [...output.matchAll(/^(?:FAIL|ERROR): (.+)$/gm)].map((m) => m[1]);
    expect(failed, `tests that failed${shown}`).toEqual([]);
    const ran = /^Ran (\d+) tests? in [\d.]+s$/m.exec(output);
    expect(ran, `no "Ran N tests" line${shown}`).not.toBeNull();
    expect(Number(ran![1]), `number of tests run${shown}`).toBe(EXPECTED_TESTS);
    // Exactly "OK": not "FAILED (...)", and not "OK (skipped=N)", as no test may be skipped at level 2.
    expect(/^OK$/m.test(output), `the result line is not "OK"${shown}`).toBe(true);
    expect(output.match(/\.\.\. ok$/gm)?.length ?? 0, `tests reported ok${shown}`).toBe(EXPECTED_TESTS);
    expect(code, `exit code of test.py${shown}`).toBe(0);
  }, 300_000);
});
