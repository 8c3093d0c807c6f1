/**
 * The process-wide exit flush: one `beforeExit` listener for every open
 * reporter in the process, which asks each to flush once when the event loop
 * runs dry, so a program that never closes its tracer still delivers its
 * last spans. ziptrace installs no signal handlers.
 *
 * The same registry has one `exit` listener too, for the exits that never
 * see `beforeExit`: `process.exit()` (the app's, a signal handler's) and an
 * uncaught exception. Nothing asynchronous runs then, so it asks each
 * reporter for its synchronous last-chance send (exit-send.ts), one reporter
 * after another: each bounded by its own deadline, so several reporters that
 * all hold spans may hold the exit up to the sum of theirs. A reporter
 * holding nothing costs nothing.
 *
 * The registry is kept on the shared runtime under a registered symbol, so
 * two copies of ziptrace (an `import` and a `require` of the dual package)
 * add one listener between them; it is removed when the last reporter leaves.
 *
 * Reporters are held weakly. A reporter its program dropped without
 * `close()` is garbage like any other object (its agent and sockets with it);
 * its entry goes when the collector reclaims it, or when the listener finds
 * it gone. Nothing is lost by this: while a reporter holds spans, its batch
 * timer, retry timer or request in flight refers to it, so it cannot be
 * collected before they are delivered or dropped.
 */
import { runtime } from '../context.js';

/**
 * What the registry flushes: any object with this method, from this copy of
 * ziptrace or another. It must start a flush (bounded by its own deadline)
 * and return; a flush already running or nothing to flush is the object's to ignore.
 */
export interface ExitFlushable {
  /** Starts a flush bounded by the object's own deadline, and returns at once. */
  exitFlush(): void;
  /**
   * On `exit`: sends what the object still holds, synchronously, within its
   * own deadline, and returns; with nothing to send, at once. Optional: a
   * copy of ziptrace from before it had this method registers objects without it.
   */
  exitSendSync?(): void;
}

/** A registration, for {@link unregisterExitFlush}. Holds its reporter weakly. */
export type ExitFlushEntry = WeakRef<ExitFlushable>;

/**
 * The shared state. `v2`: v1 held the reporters themselves in a Set; a copy
 * of ziptrace that still uses v1 keeps its own listener under its own key.
 * `exitListener` and `skipExitSend` came later within v2, optional so that a
 * registry made by an earlier v2 copy is still this shape: a later copy adds
 * the `exit` listener to it when it registers.
 */
interface ExitRegistry {
  readonly entries: Set<ExitFlushEntry>;
  /** Forgets the entry of a reporter that was collected without leaving. */
  readonly finalizer: FinalizationRegistry<ExitFlushEntry>;
  listener: (() => void) | undefined;
  /** The `exit` listener, while there are entries. */
  exitListener?: (() => void) | undefined;
  /** Set by {@link skipExitSend}: the process is ending after a flush that already waited. */
  skipExitSend?: boolean;
}

const EXIT_KEY = Symbol.for('ziptrace.exit-flush.v2');
const holder = runtime as unknown as Record<symbol, ExitRegistry | undefined>;
const registry: ExitRegistry = (holder[EXIT_KEY] ??= createRegistry());

function createRegistry(): ExitRegistry {
  const state: ExitRegistry = {
    entries: new Set(),
    finalizer: new FinalizationRegistry((entry) => forget(state, entry)),
    listener: undefined,
  };
  return state;
}

/**
 * Flushes `target` on `beforeExit` for as long as it is registered and
 * alive. Adds the process listener if it is the first.
 */
export function registerExitFlush(target: ExitFlushable): ExitFlushEntry {
  const entry = new WeakRef(target);
  registry.entries.add(entry);
  // The entry is both what the callback gets and the token to unregister with.
  registry.finalizer.register(target, entry, entry);
  if (registry.listener === undefined) {
    const state = registry;
    state.listener = () => {
      for (const each of state.entries) {
        const target = each.deref();
        if (target === undefined) forget(state, each);
        else target.exitFlush();
      }
    };
    process.on('beforeExit', state.listener);
  }
  if (registry.exitListener === undefined) {
    const state = registry;
    state.exitListener = () => {
      if (state.skipExitSend === true) return;
      for (const each of state.entries) {
        try {
          each.deref()?.exitSendSync?.();
        } catch {
          // Nothing is thrown out of an exit listener: it would replace the exit's own code and error.
        }
      }
    };
    process.on('exit', state.exitListener);
  }
  return entry;
}

/**
 * Turns the `exit` send off for the rest of the process: called by the
 * signal flush (signal-flush.ts) just before it ends the process by the
 * signal, after a flush it already waited for.
 */
export function skipExitSend(): void {
  registry.skipExitSend = true;
}

/** Stops flushing the entry's reporter on exit (it closed). Removes the process listener after the last. */
export function unregisterExitFlush(entry: ExitFlushEntry): void {
  registry.finalizer.unregister(entry);
  forget(registry, entry);
}

function forget(state: ExitRegistry, entry: ExitFlushEntry): void {
  state.entries.delete(entry);
  if (state.entries.size === 0 && state.listener !== undefined) {
    process.off('beforeExit', state.listener);
    state.listener = undefined;
  }
  if (state.entries.size === 0 && state.exitListener !== undefined) {
    process.off('exit', state.exitListener);
    state.exitListener = undefined;
  }
}
