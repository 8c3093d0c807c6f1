/**
 * Flushing on SIGTERM and SIGINT, for the zero-code start only (the library
 * itself installs no signal handlers), without changing how the process ends.
 *
 * Node ends a process that has no listener for SIGTERM or SIGINT by the
 * signal itself; a listener takes that away. So what happens depends on the
 * app, looked at when the signal is emitted, before any listener runs (a
 * `once` listener is gone by the time the next one runs, so a later look
 * would miss it and end an app in the middle of its own shutdown):
 * - the app listens for the signal: ziptrace flushes beside its listeners and
 *   does nothing else. The app decides when and how to exit. ziptrace's own
 *   listener is off the signal for that dispatch (it is back on the next
 *   turn of the event loop), so a library that ends the process only when
 *   its listener is the last one (signal-exit, used by execa,
 *   write-file-atomic, proper-lockfile, ora, nyc) sees itself alone, and
 *   raises the signal again as it would without ziptrace.
 * - it does not: ziptrace flushes, waiting at most `timeoutMs`, then removes
 *   its listeners and raises the signal again, so the process ends by the
 *   signal as Node would have ended it (the parent sees the signal; a shell,
 *   128 + its number). A second signal while flushing ends it at once.
 *
 * When, during that dispatch, a listener raises the signal again itself with
 * no listener left for it (signal-exit does), which would end the process
 * there and then, ziptrace takes that as the process ending by the signal:
 * it flushes within `timeoutMs` as above, and then raises it. A death by a
 * signal runs no `exit` listener, so without this the reporters' last send
 * would never happen.
 *
 * To look at the listeners before they run, ziptrace wraps `process.emit`
 * while installed (for SIGTERM and SIGINT only; other events pass straight
 * through), and puts it back on uninstall when nothing wrapped it since.
 * Node's signal handling calls the `process.emit` there was when the first
 * listener of a signal was added, so when the app already listens at
 * install, its listeners are taken off and put back, in order, to have Node
 * call the wrapper.
 *
 * When the app's own listener calls `process.exit()`, the flush begun here
 * is cut off (nothing asynchronous runs after `process.exit()`); the
 * reporters' synchronous exit send (reporting/exit-send.ts) then sends what
 * had not yet gone out. When ziptrace ends the process itself, it turns that
 * send off first: its own flush already had its time.
 */
import { constants } from 'node:os';
import { InvalidArgumentError } from './errors.js';
import { skipExitSend } from './reporting/exit-flush.js';

/** Options of {@link installSignalFlush}. */
export interface SignalFlushOptions {
  /** The longest a flush may hold a process that the signal is to end, in milliseconds. */
  timeoutMs: number;
}

/** The signals flushed on: the two a process manager or a terminal sends to stop a process. */
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
type FlushSignal = (typeof SIGNALS)[number];

/**
 * Marks ziptrace's listeners, so that listeners of another copy of ziptrace
 * (an `import` and a `require` of the dual package) are not taken for the
 * app's: two copies that each saw the other as the app would both wait for
 * an exit that neither makes.
 */
const OURS = Symbol.for('ziptrace.signal-flush.v1');

type Emit = (this: NodeJS.Process, event: string | symbol, ...args: unknown[]) => boolean;
type Kill = (pid: number, signal?: string | number) => true;

/**
 * Flushes on SIGTERM and SIGINT as this module's summary says. `flush` may
 * reject or throw; that is caught, and the process ends as it would have.
 * Returns a function that removes the listeners (a signal already being
 * handled still ends the process).
 *
 * @throws InvalidArgumentError when `flush` is not a function or `timeoutMs` not a positive number.
 */
export function installSignalFlush(flush: () => Promise<unknown>, options: SignalFlushOptions): () => void {
  if (typeof flush !== 'function') throw new InvalidArgumentError('ziptrace: installSignalFlush(flush, options): flush must be a function returning a promise');
  const timeoutMs = options?.timeoutMs;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new InvalidArgumentError(`ziptrace: installSignalFlush(flush, options): timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`);
  }

  let running: Promise<void> | undefined;
  let ending = false;
  const listeners = new Map<FlushSignal, () => void>();
  /** Whether the app listened, as seen by the `process.emit` wrapper for the dispatch under way. */
  const decided = new Map<FlushSignal, boolean>();

  const flushOnce = (): Promise<void> => {
    running ??= settled(flush).finally(() => {
      running = undefined;
    });
    return running;
  };

  const previousEmit = process.emit as Emit;
  const emit: Emit = function (this: NodeJS.Process, event, ...args) {
    const signal = event as FlushSignal;
    const listener = listeners.get(signal);
    // Not a signal of ours, or uninstalled (a wrapper added since keeps this one in its chain).
    if (listener === undefined) return previousEmit.call(this, event, ...args);
    if (!appListens(signal)) {
      decided.set(signal, false);
      try {
        return previousEmit.call(this, event, ...args);
      } finally {
        decided.delete(signal);
      }
    }
    onSignal(signal, true);
    // Off for this dispatch, so that a listener counting the signal's listeners sees none of ours.
    process.off(signal, listener);
    const previousKill = process.kill as Kill;
    const kill: Kill = (pid, raised) => {
      if (process.kill === kill) process.kill = previousKill;
      // Raised again with nothing left to catch it: the process is to end by the signal now.
      if (pid === process.pid && isSignal(raised ?? 'SIGTERM', signal) && process.listenerCount(signal) === 0) {
        if (ending) end(signal);
        else startEnding(signal);
        return true;
      }
      return previousKill.call(process, pid, raised);
    };
    process.kill = kill;
    try {
      return previousEmit.call(this, event, ...args);
    } finally {
      if (process.kill === kill) process.kill = previousKill;
      setImmediate(() => {
        if (!ending && listeners.get(signal) === listener && !process.listeners(signal).includes(listener)) process.prependListener(signal, listener);
      });
    }
  };

  const uninstall = (): void => {
    for (const [signal, listener] of listeners) process.off(signal, listener);
    listeners.clear();
    if (process.emit === emit) process.emit = previousEmit as typeof process.emit;
  };

  const end = (signal: FlushSignal): void => {
    uninstall();
    // A death by the signal runs no exit listener anyway; the fallback exit below would, and must not wait a second time.
    skipExitSend();
    try {
      // With no listener left, Node's own handling of the signal is back: it ends the process by it.
      process.kill(process.pid, signal);
    } catch {
      // No way to raise it (a platform without signals): exit as a shell reports a death by it.
      process.exit(128 + constants.signals[signal]);
    }
  };

  const startEnding = (signal: FlushSignal): void => {
    ending = true;
    let timer: NodeJS.Timeout | undefined;
    // Not unref()'d: a flush waiting on nothing the event loop holds must not let the process end
    // quietly (code 0) before the signal ends it.
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    void Promise.race([flushOnce(), deadline]).then(() => {
      clearTimeout(timer);
      end(signal);
    });
  };

  const onSignal = (signal: FlushSignal, appListening: boolean): void => {
    if (appListening) void flushOnce();
    else if (ending) end(signal);
    else startEnding(signal);
  };

  process.emit = emit as typeof process.emit;
  for (const signal of SIGNALS) {
    // Node calls the process.emit there was when the signal got its first listener: have it call ours.
    const existing = process.rawListeners(signal) as ((...args: unknown[]) => void)[];
    if (existing.length > 0) {
      process.removeAllListeners(signal);
      for (const each of existing) process.on(signal, each);
    }
    // The wrapper decides; were it bypassed (a process.emit bound before it), this listener looks itself.
    const listener = Object.assign(() => onSignal(signal, decided.get(signal) ?? appListens(signal)), { [OURS]: true });
    listeners.set(signal, listener);
    // First, so that an app's `once` listener is still counted when this one runs.
    process.prependListener(signal, listener);
  }
  return uninstall;
}

/** Whether a listener that is not ziptrace's (any copy's) waits for `signal`. */
function appListens(signal: FlushSignal): boolean {
  return process.listeners(signal).some((listener) => !(OURS in listener));
}

/** Whether `raised` (a name or a number, as `process.kill` takes it) is `signal`. */
function isSignal(raised: string | number, signal: FlushSignal): boolean {
  return raised === signal || raised === constants.signals[signal];
}

/** `flush()`'s end, whatever it does: resolve, reject, throw, or return something that is not a promise. */
function settled(flush: () => Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      Promise.resolve(flush()).then(() => resolve(), () => resolve());
    } catch {
      resolve();
    }
  });
}
