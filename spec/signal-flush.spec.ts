/**
 * Flushing on SIGTERM and SIGINT (lib/signal-flush.ts). In real child
 * processes (spec/fixtures/signals/child.mjs, running lib/ as it is now,
 * transpiled): queued spans reach a real loopback collector, and the process
 * ends as it would have without ziptrace, by the signal when the app does not
 * listen for it, by the app's own exit when it does (also when it listens
 * with prependOnceListener, or with a signal-exit-like listener that ends
 * the process only when it is the last listener). Then, in this process
 * with `process.kill` stubbed, the cases a child cannot show cheaply. The
 * specs' own waits carry at least 5x slack over the deadlines they test.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { installSignalFlush } from '../lib/signal-flush.js';
import { InvalidArgumentError } from '../lib/index.js';
import { startCollector, sleep, type Collector } from './helpers/collector.js';
import { transpileLib } from './helpers/transpiled-lib.js';

const specDir = dirname(fileURLToPath(import.meta.url));
const fixture = join(specDir, 'fixtures', 'signals', 'child.mjs');

let libUrl: string;
let outDir: string;
let collector: Collector;

/** lib/**.ts as plain ESM in a temporary folder, so a bare `node` child runs the current source. Returns the folder's file: URL. */
function transpiledLib(): string {
  outDir = transpileLib('ziptrace-signals-');
  return pathToFileURL(outDir).href + '/';
}

beforeAll(async () => {
  libUrl = transpiledLib();
  collector = await startCollector();
});

afterAll(async () => {
  await collector?.close();
  if (outDir !== undefined) rmSync(outDir, { recursive: true, force: true });
});

/** How a child ended, and what it said on the way. */
interface Ending {
  code: number | null;
  signal: NodeJS.Signals | null;
  steps: string[];
  /** Milliseconds from the first signal sent to the end. */
  afterSignal: number;
  stderr: string;
}

/**
 * Starts the child with `env`, waits until it is ready, sends it `signals`
 * in turn (each after the step named beside it, when one is, else at once),
 * and resolves with how it ended. A child still running after 20 s is killed
 * and fails the test.
 */
async function stopChild(env: Record<string, string>, signals: [NodeJS.Signals, string?][]): Promise<Ending> {
  const child = spawn(process.execPath, [fixture, libUrl], {
    env: { PATH: process.env.PATH, COLLECTOR: collector.url, TIMEOUT_MS: '2000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const steps: string[] = [];
  let stderr = '';
  const waiters: { step: string; resolve: () => void }[] = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const { step } = JSON.parse(line) as { step: string };
      steps.push(step);
      for (const w of waiters.filter((w) => w.step === step)) w.resolve();
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stepped = (step: string): Promise<void> => (steps.includes(step) ? Promise.resolve() : new Promise((resolve) => waiters.push({ step, resolve })));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  try {
    await Promise.race([stepped('ready'), ended.then(() => Promise.reject(new Error(`the child ended before it was ready:\n${stderr}`)))]);
    let sentAt = 0;
    for (const [signal, after] of signals) {
      if (after !== undefined) await stepped(after);
      sentAt ||= performance.now();
      child.kill(signal);
    }
    const { code, signal } = await ended;
    expect(signal, `the child was still running after 20 s: ${steps.join(', ')}\n${stderr}`).not.toBe('SIGKILL');
    return { code, signal, steps, afterSignal: performance.now() - sentAt, stderr };
  } finally {
    clearTimeout(killer);
  }
}

const spanNames = (): (string | undefined)[] => collector.spans.map((s) => s.name);

describe('in a child process', () => {
  beforeEach(() => collector.reset());

  it.each<NodeJS.Signals>(['SIGTERM', 'SIGINT'])('%s, no listener of the app: the queued span is sent, then the process ends by the signal', async (signal) => {
    const ending = await stopChild({}, [[signal]]);
    expect(ending).toMatchObject({ code: null, signal, stderr: '' });
    expect(ending.steps).toEqual(['ready', 'flushing', 'flushed']);
    expect(spanNames()).toEqual(['before-signal']);
  });

  it.each<[NodeJS.Signals, number]>([
    ['SIGTERM', 0],
    ['SIGINT', 7],
  ])('%s with the app listening: ziptrace flushes beside it, and the app exits, with its own code (%i)', async (signal, code) => {
    const ending = await stopChild({ APP_SIGNAL: signal, APP_EXIT_CODE: String(code) }, [[signal]]);
    expect(ending).toMatchObject({ code, signal: null, stderr: '' });
    // ziptrace's listener is first, so the flush starts before the app's listener runs.
    expect(ending.steps).toEqual(['ready', 'flushing', 'app-listener', 'flushed']);
    expect(spanNames()).toEqual(['before-signal']);
  });

  it.each<[NodeJS.Signals, string]>([
    ['SIGTERM', '0'],
    ['SIGINT', '0'],
    ['SIGTERM', '1'],
  ])('%s with a signal-exit-like listener (APP_FIRST=%s): it sees itself alone and raises the signal; ziptrace flushes, then the process ends by it', async (signal, first) => {
    const ending = await stopChild({ APP_SIGNAL: signal, APP_STYLE: 'signal-exit', APP_FIRST: first }, [[signal]]);
    expect(ending).toMatchObject({ code: null, signal, stderr: '' });
    expect(ending.steps).toEqual(['ready', 'flushing', 'signal-exit-raises', 'flushed']);
    expect(spanNames()).toEqual(['before-signal']);
  });

  it.each(['0', '1'])('an app listening with prependOnceListener (APP_FIRST=%s) finishes its shutdown and ends by itself; ziptrace flushes beside it', async (first) => {
    const ending = await stopChild({ APP_SIGNAL: 'SIGTERM', APP_STYLE: 'prepend-once', APP_FIRST: first }, [['SIGTERM']]);
    expect(ending).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(ending.steps).toEqual(expect.arrayContaining(['ready', 'flushing', 'app-listener', 'flushed', 'app-cleanup-done']));
    expect(ending.steps.at(-1)).toBe('app-cleanup-done');
    expect(spanNames()).toEqual(['before-signal']);
  });

  it('an app that listened before ziptrace was installed still decides the exit', async () => {
    const ending = await stopChild({ APP_SIGNAL: 'SIGINT', APP_EXIT_CODE: '3', APP_FIRST: '1' }, [['SIGINT']]);
    expect(ending).toMatchObject({ code: 3, signal: null, stderr: '' });
    expect(ending.steps).toEqual(['ready', 'flushing', 'app-listener', 'flushed']);
    expect(spanNames()).toEqual(['before-signal']);
  });

  it('listens only where the app does not: an app listening for SIGINT is stopped by SIGTERM as usual', async () => {
    const ending = await stopChild({ APP_SIGNAL: 'SIGINT', APP_EXIT_CODE: '0' }, [['SIGTERM']]);
    expect(ending).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(ending.steps).not.toContain('app-listener');
    expect(spanNames()).toEqual(['before-signal']);
  });

  it('a flush that never ends: the process still ends by the signal, at the deadline', async () => {
    const timeoutMs = 400;
    const ending = await stopChild({ FLUSH: 'hang', TIMEOUT_MS: String(timeoutMs) }, [['SIGTERM']]);
    expect(ending).toMatchObject({ code: null, signal: 'SIGTERM', steps: ['ready', 'flushing'] });
    // Not before the deadline (less a little for the clocks of two processes); well within 5x it.
    expect(ending.afterSignal).toBeGreaterThanOrEqual(timeoutMs - 50);
    expect(ending.afterSignal).toBeLessThan(timeoutMs * 5 + 1000);
  });

  it.each(['reject', 'throw'])('a flush that fails (%s): the process still ends by the signal, at once', async (flush) => {
    const ending = await stopChild({ FLUSH: flush, TIMEOUT_MS: '10000' }, [['SIGINT']]);
    expect(ending).toMatchObject({ code: null, signal: 'SIGINT', steps: ['ready', 'flushing'] });
    expect(ending.afterSignal).toBeLessThan(2000);
  });

  it('a second signal while flushing ends the process at once, by that signal', async () => {
    const ending = await stopChild({ FLUSH: 'hang', TIMEOUT_MS: '15000' }, [['SIGTERM'], ['SIGINT', 'flushing']]);
    expect(ending).toMatchObject({ code: null, signal: 'SIGINT' });
    // Far from the 15 s deadline.
    expect(ending.afterSignal).toBeLessThan(3000);
  });

  it('uninstalled: the signal ends the process at once, as without ziptrace, and nothing is flushed', async () => {
    const ending = await stopChild({ UNINSTALL: '1' }, [['SIGTERM']]);
    expect(ending).toMatchObject({ code: null, signal: 'SIGTERM', steps: ['ready'] });
    await sleep(100);
    expect(spanNames()).toEqual([]);
  });
});

describe('in this process (process.kill stubbed)', () => {
  const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
  let saved: Map<string, ((...args: unknown[]) => void)[]>;
  let kill: ReturnType<typeof vi.spyOn>;
  let uninstalls: (() => void)[];

  beforeEach(() => {
    // The test runner's own listeners would count as the app's: set aside, and put back after.
    saved = new Map(SIGNALS.map((s) => [s, process.rawListeners(s) as ((...args: unknown[]) => void)[]]));
    for (const s of SIGNALS) process.removeAllListeners(s);
    kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    uninstalls = [];
  });

  afterEach(() => {
    for (const u of uninstalls) u();
    vi.restoreAllMocks();
    vi.useRealTimers();
    for (const s of SIGNALS) {
      process.removeAllListeners(s);
      for (const l of saved.get(s)!) process.on(s, l);
    }
  });

  function install(flush: () => Promise<unknown>, timeoutMs = 1000): () => void {
    const uninstall = installSignalFlush(flush, { timeoutMs });
    uninstalls.push(uninstall);
    return uninstall;
  }

  it('adds one listener per signal, first in line, and takes them away again', () => {
    const app = (): void => {};
    process.on('SIGTERM', app);
    const uninstall = install(async () => {});
    expect(process.listenerCount('SIGTERM')).toBe(2);
    expect(process.listeners('SIGTERM')[1]).toBe(app);
    expect(process.listenerCount('SIGINT')).toBe(1);
    uninstall();
    expect(process.listeners('SIGTERM')).toEqual([app]);
    expect(process.listenerCount('SIGINT')).toBe(0);
    process.off('SIGTERM', app);
  });

  it('no listener of the app: flushes, then raises the signal again with its listeners gone', async () => {
    let done!: () => void;
    const flush = vi.fn(() => new Promise<void>((resolve) => (done = resolve)));
    install(flush);
    process.emit('SIGTERM');
    expect(flush).toHaveBeenCalledTimes(1);
    await sleep(10);
    expect(kill).not.toHaveBeenCalled();
    done();
    await vi.waitFor(() => expect(kill).toHaveBeenCalledWith(process.pid, 'SIGTERM'));
    expect(process.listenerCount('SIGTERM')).toBe(0);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('the app listening (even once): flushes beside it and raises nothing; a signal more flushes no second time while one runs', async () => {
    let done!: () => void;
    const flush = vi.fn(() => new Promise<void>((resolve) => (done = resolve)));
    install(flush);
    const app = vi.fn();
    process.once('SIGINT', app);
    process.emit('SIGINT');
    expect(app).toHaveBeenCalledTimes(1);
    process.on('SIGINT', app);
    process.emit('SIGINT');
    expect(flush).toHaveBeenCalledTimes(1);
    done();
    await sleep(10);
    process.emit('SIGINT');
    expect(flush).toHaveBeenCalledTimes(2);
    await sleep(10);
    expect(kill).not.toHaveBeenCalled();
    expect(process.listenerCount('SIGINT')).toBe(2);
    process.off('SIGINT', app);
  });

  it('an app once-listener prepended after ziptrace still counts as the app: flushes, raises nothing', async () => {
    const flush = vi.fn(async () => {});
    install(flush);
    const app = vi.fn();
    process.prependOnceListener('SIGTERM', app);
    process.emit('SIGTERM');
    expect(app).toHaveBeenCalledTimes(1);
    expect(flush).toHaveBeenCalledTimes(1);
    await sleep(20);
    expect(kill).not.toHaveBeenCalled();
  });

  it('steps off the signal while the app\'s listeners run, and is back first on the next turn', async () => {
    install(async () => {});
    const seen: number[] = [];
    const app = (): void => {
      seen.push(process.listenerCount('SIGTERM'));
    };
    process.on('SIGTERM', app);
    process.emit('SIGTERM');
    expect(seen).toEqual([1]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(process.listenerCount('SIGTERM')).toBe(2);
    expect(process.listeners('SIGTERM')[1]).toBe(app);
    expect(kill).not.toHaveBeenCalled();
    process.off('SIGTERM', app);
  });

  it('a listener that sees itself alone and raises the signal again: ziptrace flushes first, then raises it', async () => {
    let done!: () => void;
    const flush = vi.fn(() => new Promise<void>((resolve) => (done = resolve)));
    install(flush);
    const alone = (): void => {
      if (process.listenerCount('SIGTERM') !== 1) return;
      process.off('SIGTERM', alone);
      process.kill(process.pid, 15);
    };
    process.on('SIGTERM', alone);
    process.emit('SIGTERM');
    expect(flush).toHaveBeenCalledTimes(1);
    await sleep(10);
    expect(kill).not.toHaveBeenCalled();
    expect(process.kill).toBe(kill);
    done();
    await vi.waitFor(() => expect(kill).toHaveBeenCalledWith(process.pid, 'SIGTERM'));
    expect(kill).toHaveBeenCalledTimes(1);
    expect(process.listenerCount('SIGTERM') + process.listenerCount('SIGINT')).toBe(0);
  });

  it('while ending, a listener raising the signal again with nothing left to catch it ends the process at once', () => {
    install(() => new Promise(() => {}), 60_000);
    process.emit('SIGTERM');
    const alone = (): void => {
      process.off('SIGINT', alone);
      process.kill(process.pid);
      process.kill(process.pid, 'SIGINT');
    };
    process.on('SIGINT', alone);
    process.emit('SIGINT');
    // The first (SIGTERM, not the signal dispatched) passes through; the second is raised by ziptrace's end.
    expect(kill.mock.calls).toEqual([[process.pid, undefined], [process.pid, 'SIGINT']]);
  });

  it('passes kills it does not handle through, and leaves process.kill as it was', () => {
    install(async () => {});
    const app = (): void => {
      process.kill(12345, 'SIGTERM');
    };
    process.on('SIGTERM', app);
    process.emit('SIGTERM');
    expect(kill).toHaveBeenCalledWith(12345, 'SIGTERM');
    expect(process.kill).toBe(kill);
    process.off('SIGTERM', app);
  });

  it('wraps process.emit while installed, for its signals only, and puts it back', () => {
    const before = process.emit;
    const uninstall = install(async () => {});
    expect(process.emit).not.toBe(before);
    const other = vi.fn();
    process.on('ziptrace-spec-event', other);
    expect((process.emit as (event: string, ...args: unknown[]) => boolean)('ziptrace-spec-event', 'x')).toBe(true);
    expect(other).toHaveBeenCalledWith('x');
    process.off('ziptrace-spec-event', other);
    uninstall();
    expect(process.emit).toBe(before);
  });

  it('uninstalled under a wrapper of process.emit added since: leaves it, and passes through', () => {
    const before = process.emit;
    const uninstall = install(async () => {});
    const ours = process.emit;
    const wrapper = function (this: NodeJS.Process, ...args: unknown[]): boolean {
      return (ours as (...a: unknown[]) => boolean).apply(this, args);
    };
    process.emit = wrapper as typeof process.emit;
    try {
      uninstall();
      expect(process.emit).toBe(wrapper);
      const app = vi.fn();
      process.on('SIGTERM', app);
      process.emit('SIGTERM');
      expect(app).toHaveBeenCalledTimes(1);
      expect(kill).not.toHaveBeenCalled();
      process.off('SIGTERM', app);
    } finally {
      process.emit = before;
    }
  });

  it('keeps the app\'s listeners, in order and once as they were, when it listened before install', () => {
    const first = vi.fn();
    const second = vi.fn();
    process.on('SIGTERM', first);
    process.once('SIGTERM', second);
    install(async () => {});
    expect(process.listeners('SIGTERM').slice(1)).toEqual([first, second]);
    process.emit('SIGTERM');
    process.emit('SIGTERM');
    expect(first).toHaveBeenCalledTimes(2);
    expect(second).toHaveBeenCalledTimes(1);
    expect(kill).not.toHaveBeenCalled();
    process.off('SIGTERM', first);
  });

  it('decides by itself when process.emit was bypassed', async () => {
    install(async () => {});
    (process.listeners('SIGTERM')[0] as () => void)();
    await vi.waitFor(() => expect(kill).toHaveBeenCalledWith(process.pid, 'SIGTERM'));
  });

  it('takes the listeners of another copy of ziptrace for its own kind, not for the app', async () => {
    install(async () => {});
    install(async () => {});
    process.emit('SIGTERM');
    await vi.waitFor(() => expect(kill).toHaveBeenCalledTimes(2));
  });

  it('waits at most timeoutMs for the flush', async () => {
    vi.useFakeTimers();
    install(() => new Promise(() => {}), 500);
    process.emit('SIGTERM');
    await vi.advanceTimersByTimeAsync(499);
    expect(kill).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(kill).toHaveBeenCalledWith(process.pid, 'SIGTERM');
  });

  it('a second signal while flushing raises that signal at once', () => {
    install(() => new Promise(() => {}), 60_000);
    process.emit('SIGTERM');
    expect(kill).not.toHaveBeenCalled();
    process.emit('SIGINT');
    expect(kill).toHaveBeenCalledWith(process.pid, 'SIGINT');
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });

  it('exits as a shell reports a death by the signal (128 + its number) when the signal cannot be raised', async () => {
    kill.mockImplementation(() => {
      throw new Error('ENOSYS');
    });
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    install(async () => {});
    process.emit('SIGINT');
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(130));
  });

  it.each<[string, () => Promise<unknown>]>([
    ['rejects', () => Promise.reject(new Error('down'))],
    ['throws', () => {
      throw new Error('broken');
    }],
    ['returns no promise', (() => 42) as unknown as () => Promise<unknown>],
  ])('never throws out when the flush %s', async (_, flush) => {
    install(flush);
    expect(() => process.emit('SIGTERM')).not.toThrow();
    await vi.waitFor(() => expect(kill).toHaveBeenCalledWith(process.pid, 'SIGTERM'));
  });

  it.each<[unknown, unknown]>([
    ['not a function', { timeoutMs: 1000 }],
    [async () => {}, { timeoutMs: 0 }],
    [async () => {}, { timeoutMs: Infinity }],
    [async () => {}, { timeoutMs: '2000' }],
    [async () => {}, undefined],
  ])('refuses flush %j with options %j', (flush, options) => {
    expect(() => installSignalFlush(flush as () => Promise<unknown>, options as { timeoutMs: number })).toThrow(InvalidArgumentError);
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });
});
