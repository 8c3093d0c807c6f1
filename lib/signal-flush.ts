/**
 * Flushing on SIGTERM and SIGINT, for the zero-code start only (the library
 * itself installs no signal handlers), without changing how the process ends.
 *
 * Node ends a process that has no listener for SIGTERM or SIGINT by the
 * signal itself; a listener takes that away. So what happens depends on the
 * app, looked at when the signal arrives:
 * - the app listens for the signal: ziptrace flushes beside its listeners and
 *   does nothing else. The app decides when and how to exit.
 * - it does not: ziptrace flushes, waiting at most `timeoutMs`, then removes
 *   its listeners and raises the signal again, so the process ends by the
 *   signal as Node would have ended it (the parent sees the signal; a shell,
 *   128 + its number). A second signal while flushing ends it at once.
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

  const flushOnce = (): Promise<void> => {
    running ??= settled(flush).finally(() => {
      running = undefined;
    });
    return running;
  };

  const uninstall = (): void => {
    for (const [signal, listener] of listeners) process.off(signal, listener);
    listeners.clear();
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

  const onSignal = (signal: FlushSignal): void => {
    if (appListens(signal)) {
      void flushOnce();
      return;
    }
    if (ending) {
      end(signal);
      return;
    }
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

  for (const signal of SIGNALS) {
    const listener = Object.assign(() => onSignal(signal), { [OURS]: true });
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
