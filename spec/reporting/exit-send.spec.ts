/**
 * The synchronous last-chance send on `exit` (lib/reporting/exit-send.ts,
 * its child lib/reporting/exit-sender.ts), in real child processes
 * (spec/fixtures/exit-send/child.mjs, running dist/, built first if lib/ is
 * newer: the sender must be a script plain Node runs) against real loopback
 * collectors. Spans queued when the app calls `process.exit()`, throws, or
 * exits from its own SIGTERM handler reach the collector, the exit code and
 * Node's printed error stay the app's; `exitTimeout: 0` and an empty queue
 * start no child (told by `NODE_DEBUG=ziptrace`, and by the stats); a hung
 * collector holds the exit only for `exitTimeout`; a request already on the
 * wire is not sent twice. The specs' own waits carry at least 5x slack.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { answer, sleep, startCollector, takeInvalidBodies, type Collector } from '../helpers/collector.js';
import { run } from '../helpers/child-processes.js';
import { expectWellFormed, startOtlpCollector, type OtlpCollector } from '../helpers/otlp-collector.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixture = join(root, 'spec', 'fixtures', 'exit-send', 'child.mjs');
const dist = join(root, 'dist', 'cjs') + '/';
/** What `NODE_DEBUG=ziptrace` prints when the exit send starts its child (lib/reporting/exit-send.ts). */
const EXIT_SEND_LINE = /ZIPTRACE \d+: exit send: /;

let collector: Collector;
let otlp: OtlpCollector;

beforeAll(async () => {
  const build = await run(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-stale'], { cwd: root, timeout: 170_000 });
  expect(build.code, `node scripts/build.mjs --if-stale failed, so dist/ cannot be tested:\n${build.output}`).toBe(0);
  collector = await startCollector();
  otlp = await startOtlpCollector();
}, 180_000);

afterEach(() => {
  collector.reset();
  otlp.reset();
  expect(takeInvalidBodies()).toEqual([]);
});

afterAll(async () => {
  await collector?.close();
  await otlp?.close();
});

interface Step {
  step: string;
  at: number;
  code?: number;
  stats?: { sent: number; queued: number; requests: number; dropped: { closed: number } };
}

interface ChildEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  steps: Step[];
  stderr: string;
  /** Date.now() when the child's exit was seen. */
  endedAt: number;
}

/**
 * Runs the fixture in `mode` to its end (killed after 20 s). `onStep` is told
 * of each step as it comes, with the child, to signal it.
 */
function runChild(mode: string, env: NodeJS.ProcessEnv = {}, onStep?: (step: Step, kill: (signal: NodeJS.Signals) => void) => void): Promise<ChildEnd> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture], {
      env: { ...process.env, NODE_OPTIONS: '', NODE_DEBUG: '', DIST: dist, COLLECTOR: collector.url, MODE: mode, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const steps: Step[] = [];
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      let newline: number;
      while ((newline = stdout.indexOf('\n')) >= 0) {
        const line = stdout.slice(0, newline);
        stdout = stdout.slice(newline + 1);
        const step = JSON.parse(line) as Step;
        steps.push(step);
        onStep?.(step, (signal) => child.kill(signal));
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, steps, stderr, endedAt: Date.now() });
    });
  });
}

function exitStep(end: ChildEnd): Step {
  const step = end.steps.find((s) => s.step === 'exit');
  expect(step, `the child told no exit step:\n${end.stderr}`).toBeDefined();
  return step!;
}

describe('the exit send', () => {
  it('delivers the spans queued at process.exit(3), and the exit code stays 3', async () => {
    const end = await runChild('exit', { NODE_DEBUG: 'ziptrace' });
    expect(end.code).toBe(3);
    expect(collector.spans.map((s) => s.name).sort()).toEqual(['job 0', 'job 1', 'job 2']);
    expect(collector.requests).toHaveLength(1);
    // The reporter's own headers: b3: 0 keeps the collector's tracing off the request.
    expect(collector.requests[0]!.headers.b3).toBe('0');
    expect(end.stderr).toMatch(EXIT_SEND_LINE);
    expect(exitStep(end).stats).toMatchObject({ sent: 3, queued: 0, requests: 1 });
  });

  it('delivers them on an uncaught exception; the exit code is 1 and the error is printed as Node prints it', async () => {
    const end = await runChild('throw');
    expect(end.code).toBe(1);
    expect(collector.spans).toHaveLength(3);
    expect(end.stderr).toMatch(/child\.mjs:\d+\n.*throw new Error\('the app failed'\);\n\s*\^\n\nError: the app failed\n\s+at /);
    expect(end.stderr).toMatch(/\nNode\.js v\d+\.\d+\.\d+\n$/);
    expect(end.stderr).not.toMatch(/ziptrace/i);
  });

  it("delivers them when the app's own SIGTERM handler calls process.exit(0) at once", async () => {
    const end = await runChild('sigterm', {}, (step, kill) => step.step === 'ready' && kill('SIGTERM'));
    expect(end.code).toBe(0);
    expect(collector.spans).toHaveLength(3);
  });

  it("delivers them once when the zero-code signal flush had begun, its request not yet on the wire, and the app's handler exits at once", async () => {
    const end = await runChild('signal-flush', {}, (step, kill) => step.step === 'ready' && kill('SIGTERM'));
    expect(end.code).toBe(0);
    expect(collector.spans).toHaveLength(3);
    expect(collector.requests).toHaveLength(1);
  });

  it('does not send again a request already on the wire (it may have arrived): no duplicate, no child', async () => {
    collector.always(answer.hang());
    const end = await runChild('on-wire', { NODE_DEBUG: 'ziptrace' }, (step, kill) => {
      if (step.step !== 'ready') return;
      void collector.waitFor(() => collector.active >= 1, 'the flush to reach the collector').then(() => kill('SIGTERM'));
    });
    expect(end.code).toBe(0);
    await sleep(200);
    expect(collector.requests).toHaveLength(1);
    expect(end.stderr).not.toMatch(EXIT_SEND_LINE);
    expect(exitStep(end).stats).toMatchObject({ sent: 0, queued: 3, requests: 1 });
  });

  it('delivers OtlpReporter spans as protobuf to an OTLP receiver', async () => {
    const end = await runChild('exit', { REPORTER: 'otlp', COLLECTOR: otlp.url });
    expect(end.code).toBe(3);
    expect(otlp.spans.map((s) => s.name).sort()).toEqual(['job 0', 'job 1', 'job 2']);
    expect(otlp.requests[0]!.headers['content-type']).toBe('application/x-protobuf');
    expectWellFormed(otlp);
  });

  it('sends nothing and starts no child with exitTimeout: 0', async () => {
    const end = await runChild('exit', { EXIT_TIMEOUT: '0', NODE_DEBUG: 'ziptrace' });
    expect(end.code).toBe(3);
    expect(collector.requests).toHaveLength(0);
    expect(end.stderr).not.toMatch(EXIT_SEND_LINE);
    expect(exitStep(end).stats).toMatchObject({ sent: 0, queued: 3, requests: 0 });
  });

  it('holds the exit at most exitTimeout when the collector accepts and never answers', async () => {
    collector.always(answer.hang());
    const exitTimeout = 500;
    const end = await runChild('exit', { EXIT_TIMEOUT: String(exitTimeout) });
    expect(end.code).toBe(3);
    const exiting = end.steps.find((s) => s.step === 'exiting')!;
    const held = end.endedAt - exiting.at;
    console.log(`hung collector, exitTimeout ${exitTimeout} ms: the exit took ${held} ms`);
    expect(held).toBeLessThan(exitTimeout * 5);
    // It did wait for the collector, and counts what it could not deliver as closed.
    expect(collector.requests).toHaveLength(1);
    expect(exitStep(end).stats).toMatchObject({ sent: 0, queued: 0, dropped: { closed: 3 } });
  });

  it('starts no child when nothing is queued at exit', async () => {
    const end = await runChild('idle', { NODE_DEBUG: 'ziptrace' });
    expect(end.code).toBe(0);
    expect(collector.spans).toHaveLength(3);
    expect(end.stderr).not.toMatch(EXIT_SEND_LINE);
    // The one request is the flush's: the exit made none.
    expect(exitStep(end).stats).toMatchObject({ sent: 3, queued: 0, requests: 1 });
  });
});
