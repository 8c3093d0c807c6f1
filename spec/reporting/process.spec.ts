/**
 * HttpReporter in real child processes, running the built package (the
 * `npm pack` tarball of spec/setup/pack.ts, unpacked privately so a rebuild
 * of dist/ by another run cannot pull it away mid-spec; dist/ itself when no
 * tarball is provided, built first if missing). Children report to this
 * spec's loopback collector, or to a closed port. Deadlines carry >= 5x slack.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { HttpReporterStats } from '../../lib/index.js';
import { answer, closedPort, startCollector, type Collector } from '../helpers/collector.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);
// Below the 30 s test timeout, so a child that does not exit is killed and reported as such.
const CHILD_DEADLINE = 25_000;

let work: string;
/** file: URLs of two separately unpacked copies of the package's ESM entry. */
let entries: [string, string];
let collector: Collector;

function providedTarball(): string | undefined {
  try {
    return inject('ziptraceTarball');
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ziptrace-process-'));
  const tarball = providedTarball();
  const copies: string[] = [];
  for (const name of ['a', 'b']) {
    const dir = join(work, name);
    await mkdir(dir);
    if (tarball !== undefined) {
      await run('tar', ['-xzf', tarball, '-C', dir]);
      copies.push(join(dir, 'package', 'dist', 'esm', 'index.mjs'));
    } else {
      if (!existsSync(join(root, 'dist', 'esm', 'index.mjs'))) await run('npm', ['run', 'build'], { cwd: root, maxBuffer: 16 << 20 });
      await cp(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
      copies.push(join(dir, 'dist', 'esm', 'index.mjs'));
    }
  }
  for (const entry of copies) expect(existsSync(entry), entry).toBe(true);
  entries = [pathToFileURL(copies[0]!).href, pathToFileURL(copies[1]!).href];
  await writeFile(join(work, 'exit.mjs'), EXIT_CHILD);
  await writeFile(join(work, 'memory.mjs'), MEMORY_CHILD);
  await writeFile(join(work, 'listeners.mjs'), LISTENERS_CHILD);
  await writeFile(join(work, 'close.mjs'), CLOSE_CHILD);
  collector = await startCollector();
});

afterAll(async () => {
  await collector?.close();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

beforeEach(() => {
  collector.reset();
});

/**
 * Traces SPANS spans and returns without closing anything. On 'exit' it
 * prints when it finished producing and exited (its own clock), the
 * reporter's stats, and the process listeners ziptrace may have added.
 * OPTS (JSON) builds an HttpReporter with those options; without it the
 * tracer gets `zipkinUrl`.
 */
const EXIT_CHILD = `
const zt = await import(process.env.ZT);
const opts = process.env.OPTS ? JSON.parse(process.env.OPTS) : undefined;
const tracer = opts
  ? zt.createTracer({ serviceName: 'exit-child', reporter: new zt.HttpReporter({ url: process.env.ZIPKIN, ...opts }) })
  : zt.createTracer({ serviceName: 'exit-child', zipkinUrl: process.env.ZIPKIN });
const reporter = tracer.reporter;
const signals = Object.fromEntries(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'].map((s) => [s, process.listenerCount(s)]));
for (let i = 0; i < Number(process.env.SPANS); i++) {
  await tracer.withSpan('job', { tags: { i } }, async (span) => {
    tracer.withSpan('step', () => {});
  });
}
const producedAt = Date.now();
const beforeExit = process.listenerCount('beforeExit');
process.on('exit', (code) => {
  console.log(JSON.stringify({ producedAt, exitAt: Date.now(), code, stats: reporter.stats(), signals, beforeExit }));
});
`;

/**
 * Under --expose-gc: reports to a closed port with a small maxQueueBytes and
 * produces SPANS spans, yielding now and then so requests fail and retry;
 * prints heap used (after gc) before and after, and the stats.
 */
const MEMORY_CHILD = `
const zt = await import(process.env.ZT);
const cap = Number(process.env.CAP);
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
// V8's heap and the array buffers outside it: queued spans wait as bytes in the queue's chunks, off the heap.
async function heap() {
  for (let i = 0; i < 4; i++) { globalThis.gc(); await settle(); }
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}
const reporter = new zt.HttpReporter({
  url: process.env.ZIPKIN,
  maxQueueBytes: cap,
  maxQueueSpans: 10_000_000,
  batchInterval: 10,
  maxRetries: 1,
  retryBackoff: { initial: 10, max: 50 },
  timeout: 2000,
  logger: false,
  // As for a remote collector (the default there): each failed attempt also waits on gzip, so the queue stays at its cap.
  gzip: true,
});
const tracer = zt.createTracer({ serviceName: 'memory-child', reporter });
// Warm up the same code paths, then measure from there.
for (let i = 0; i < 2000; i++) tracer.withSpan('warm-up', (span) => span.tag('i', i));
await reporter.flush();
const before = await heap();
let maxQueuedBytes = 0;
const n = Number(process.env.SPANS);
for (let i = 0; i < n; i++) {
  tracer.withSpan('GET /orders/:id', { kind: 'SERVER', tags: { 'http.path': '/orders/' + i, 'http.method': 'GET' } }, (span) => {
    span.annotate('handled');
  });
  if (i % 1000 === 999) {
    maxQueuedBytes = Math.max(maxQueuedBytes, reporter.stats().queuedBytes);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
const during = reporter.stats();
const after = await heap();
await tracer.close({ timeout: 500 });
console.log(JSON.stringify({ before, after, growth: after - before, maxQueuedBytes, during, stats: reporter.stats() }));
`;

/** Awaits tracer.close() at the top level while the collector is down and retries wait on (unref'd) timers. */
const CLOSE_CHILD = `
const zt = await import(process.env.ZT);
const reporter = new zt.HttpReporter({ url: process.env.ZIPKIN, retryBackoff: { initial: 50, max: 50 }, maxRetries: 1000, logger: false });
const tracer = zt.createTracer({ serviceName: 'close-child', reporter });
for (let i = 0; i < 10; i++) tracer.withSpan('job', () => {});
const started = Date.now();
await tracer.close({ timeout: Number(process.env.TIMEOUT) });
console.log(JSON.stringify({ elapsed: Date.now() - started, stats: reporter.stats() }));
`;

/** Two tracers with zipkinUrl, then one from a second copy of the package; closes them one by one. */
const LISTENERS_CHILD = `
const a = await import(process.env.ZT);
const b = await import(process.env.ZT2);
const count = () => process.listenerCount('beforeExit');
const counts = [count()];
const t1 = a.createTracer({ serviceName: 'one', zipkinUrl: process.env.ZIPKIN, global: false });
counts.push(count());
const t2 = a.createTracer({ serviceName: 'two', zipkinUrl: process.env.ZIPKIN, global: false });
counts.push(count());
const t3 = b.createTracer({ serviceName: 'three', zipkinUrl: process.env.ZIPKIN, global: false });
counts.push(count());
const copies = a.HttpReporter !== b.HttpReporter;
await t1.close({ timeout: 1000 });
counts.push(count());
await t2.close({ timeout: 1000 });
counts.push(count());
await t3.close({ timeout: 1000 });
counts.push(count());
console.log(JSON.stringify({ counts, copies }));
`;

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, ms. */
  wall: number;
}

function runChild(script: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const { NODE_OPTIONS: _ignored, ...inherited } = process.env;
    // A script of this spec's (written into work) or a fixture file (an absolute path).
    const child = spawn(process.execPath, [...nodeArgs, resolvePath(work, script)], {
      env: { ...inherited, ZT: entries[0], ZT2: entries[1], ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), CHILD_DEADLINE);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, wall: Date.now() - started });
    });
  });
}

function lastJson<T>(result: ChildResult): T {
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`child printed no JSON (code ${result.code}, signal ${result.signal}, ${result.wall} ms)\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
}

interface ExitReport {
  producedAt: number;
  exitAt: number;
  code: number;
  stats: HttpReporterStats;
  signals: Record<string, number>;
  beforeExit: number;
}

function expectBalanced(stats: HttpReporterStats): void {
  expect(stats.sent + stats.queued + stats.droppedTotal).toBe(stats.reported);
}

describe('a traced process that never closes its tracer', () => {
  it('exits on its own, its spans delivered by the beforeExit flush (zipkinUrl)', async () => {
    const result = await runChild('exit.mjs', { ZIPKIN: collector.url, SPANS: '50' });
    const report = lastJson<ExitReport>(result);
    expect(result.code, result.stderr).toBe(0);
    expect(report.exitAt - report.producedAt).toBeLessThan(10_000);
    expect(collector.spans).toHaveLength(100);
    expect(new Set(collector.spans.map((s) => s.localEndpoint?.serviceName))).toEqual(new Set(['exit-child']));
    expect(report.stats).toMatchObject({ reported: 100, sent: 100, queued: 0, droppedTotal: 0 });
    expect(report.beforeExit).toBe(1);
    expect(report.signals).toEqual({ SIGINT: 0, SIGTERM: 0, SIGHUP: 0, SIGQUIT: 0 });
  });

  it('does not wait for its batch timer: with a minute-long batchInterval it still exits at once, spans delivered', async () => {
    const result = await runChild('exit.mjs', { ZIPKIN: collector.url, SPANS: '20', OPTS: JSON.stringify({ batchInterval: 60_000 }) });
    const report = lastJson<ExitReport>(result);
    expect(result.code, result.stderr).toBe(0);
    // A referenced timer would hold the process for the whole minute.
    expect(report.exitAt - report.producedAt).toBeLessThan(10_000);
    expect(collector.requests).toHaveLength(1);
    expect(collector.spans).toHaveLength(40);
    expect(report.stats).toMatchObject({ reported: 40, sent: 40, queued: 0 });
  });

  it('exits within exitTimeout (default 2 s) plus slack when the collector accepts and never answers (zipkinUrl)', async () => {
    collector.always(answer.hang());
    const result = await runChild('exit.mjs', { ZIPKIN: collector.url, SPANS: '10' });
    const report = lastJson<ExitReport>(result);
    expect(result.code, result.stderr).toBe(0);
    const elapsed = report.exitAt - report.producedAt;
    console.log(`hung collector, default exitTimeout: exited ${elapsed} ms after producing (wall ${result.wall} ms)`);
    // It did try: the flush held the process for its deadline...
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    // ...and no longer than that plus slack.
    expect(elapsed).toBeLessThan(2000 * 5);
    expect(collector.requests).toHaveLength(1);
    expect(report.stats).toMatchObject({ reported: 20, sent: 0, queued: 0, droppedTotal: 20 });
    expect(report.stats.dropped.closed).toBe(20);
  });

  it('exits within a custom exitTimeout plus slack when the collector hangs', async () => {
    collector.always(answer.hang());
    const result = await runChild('exit.mjs', { ZIPKIN: collector.url, SPANS: '10', OPTS: JSON.stringify({ exitTimeout: 400 }) });
    const report = lastJson<ExitReport>(result);
    expect(result.code, result.stderr).toBe(0);
    const elapsed = report.exitAt - report.producedAt;
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(400 * 5);
    expect(report.stats.dropped.closed).toBe(20);
    expectBalanced(report.stats);
  });

  it('exits within exitTimeout plus slack when the collector is down, spans counted', async () => {
    const port = await closedPort();
    const result = await runChild('exit.mjs', {
      ZIPKIN: `http://127.0.0.1:${port}`,
      SPANS: '10',
      OPTS: JSON.stringify({ exitTimeout: 500, retryBackoff: { initial: 20, max: 100 }, maxRetries: 100, logger: false }),
    });
    const report = lastJson<ExitReport>(result);
    expect(result.code, result.stderr).toBe(0);
    expect(report.exitAt - report.producedAt).toBeLessThan(500 * 5);
    expect(report.stats.failedRequests).toBeGreaterThan(1);
    expect(report.stats).toMatchObject({ reported: 20, sent: 0, queued: 0 });
    expect(report.stats.dropped.closed).toBe(20);
  });
});

describe('close() in a process', () => {
  it('an awaited tracer.close() against a down collector completes within its timeout; the process does not exit under it', async () => {
    const port = await closedPort();
    const result = await runChild('close.mjs', { ZIPKIN: `http://127.0.0.1:${port}`, TIMEOUT: '800' });
    // Exit code 13 would be Node's "unsettled top-level await": the process ran out of work inside close().
    expect(result.code, result.stderr).toBe(0);
    const out = lastJson<{ elapsed: number; stats: HttpReporterStats }>(result);
    expect(out.elapsed).toBeGreaterThanOrEqual(750);
    expect(out.elapsed).toBeLessThan(800 * 5);
    expect(out.stats).toMatchObject({ reported: 10, sent: 0, queued: 0 });
    expect(out.stats.dropped.closed).toBe(10);
    expect(out.stats.failedRequests).toBeGreaterThan(1);
  });
});

describe('memory with the collector down', () => {
  it('stays near maxQueueBytes while 200,000 spans are produced (heap and array buffers after gc, --expose-gc child)', async () => {
    const port = await closedPort();
    const cap = 2 * 1024 * 1024;
    const result = await runChild('memory.mjs', { ZIPKIN: `http://127.0.0.1:${port}`, SPANS: '200000', CAP: String(cap) }, ['--expose-gc']);
    expect(result.code, result.stderr).toBe(0);
    const out = lastJson<{ before: number; after: number; growth: number; maxQueuedBytes: number; during: HttpReporterStats; stats: HttpReporterStats }>(result);
    const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(2)} MB`;
    console.log(
      `200,000 spans, collector down, maxQueueBytes ${mb(cap)}: heap + array buffers ${mb(out.before)} -> ${mb(out.after)} (growth ${mb(out.growth)}), ` +
        `queued ${out.during.queued} spans / ${mb(out.during.queuedBytes)}, most queued ${mb(out.maxQueuedBytes)}, dropped queueFull ${out.during.dropped.queueFull}`,
    );
    expect(out.during.reported).toBe(202_000); // with the warm-up
    expect(out.during.dropped.queueFull).toBeGreaterThan(100_000);
    expect(out.maxQueuedBytes).toBeLessThanOrEqual(cap);
    expect(out.during.queuedBytes).toBeLessThanOrEqual(cap);
    // Everything produced, unbounded, would be ~80 MB of JSON; the queue may hold the cap plus bookkeeping.
    expect(out.growth).toBeLessThan(cap + 4 * 1024 * 1024);
    expectBalanced(out.during);
    expectBalanced(out.stats);
    expect(out.stats.queued).toBe(0);
  });
});

describe('the exit flush holds reporters weakly (--expose-gc child)', () => {
  interface GcReport {
    code: number;
    beforeGc: { listeners: number; entries: number; openConnections: number; receivedLocally: number };
    afterGc: { collected: string[]; alive: string[]; listeners: number; entries: number; openConnections: number };
    whileKept: { alive: string[]; listeners: number; entries: number; stats: HttpReporterStats };
    atExit: HttpReporterStats;
  }

  it('a reporter dropped without close() is collected, its entry, listener and socket gone; one still referenced, or dropped with spans queued, is kept and flushed on exit', async () => {
    const result = await runChild(join(root, 'spec', 'fixtures', 'reporter-gc-child.mjs'), { ZIPKIN: collector.url }, ['--expose-gc']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const out = lastJson<GcReport>(result);
    // Two registered, one listener; the used one delivered and holds a kept-alive connection.
    expect(out.beforeGc).toEqual({ listeners: 1, entries: 2, openConnections: 1, receivedLocally: 1 });
    // Both reclaimed (the FinalizationRegistry in the child saw them go), the registry empty, the listener
    // removed, and the used one's idle socket closed rather than left to the collector's keep-alive timeout.
    expect(out.afterGc).toEqual({ collected: ['unused', 'used'], alive: [], listeners: 0, entries: 0, openConnections: 0 });
    // The one the program still refers to survives collection, registered, its spans waiting on a minute-long interval...
    // So does one dropped with spans queued: its timer holds it while it holds spans.
    expect(out.whileKept).toMatchObject({ alive: ['kept', 'orphan'], listeners: 1, entries: 2, stats: { reported: 5, queued: 5, sent: 0, requests: 0 } });
    // ...and the beforeExit flush delivered them all.
    expect(out.atExit).toMatchObject({ reported: 5, sent: 5, queued: 0, droppedTotal: 0, requests: 1 });
    expect(collector.spans.map((s) => s.name).sort()).toEqual([...Array(5).fill('kept'), ...Array(3).fill('orphan')]);
    expect(new Set(collector.spans.map((s) => s.localEndpoint?.serviceName))).toEqual(new Set(['reporter-gc-child']));
  });
});

describe('process listeners', () => {
  it('adds exactly one beforeExit listener for every open reporter (two copies of the package included), removed when the last closes', async () => {
    const result = await runChild('listeners.mjs', { ZIPKIN: collector.url });
    expect(result.code, result.stderr).toBe(0);
    const out = lastJson<{ counts: number[]; copies: boolean }>(result);
    expect(out.copies).toBe(true);
    expect(out.counts).toEqual([0, 1, 1, 1, 1, 1, 0]);
  });
});
