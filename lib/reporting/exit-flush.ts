/**
 * The process-wide exit flush: one `beforeExit` listener for every open
 * reporter in the process, which asks each to flush once when the event loop
 * runs dry, so a program that never closes its tracer still delivers its
 * last spans. ziptrace installs no signal handlers.
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
}

/** A registration, for {@link unregisterExitFlush}. Holds its reporter weakly. */
export type ExitFlushEntry = WeakRef<ExitFlushable>;

/**
 * The shared state. `v2`: v1 held the reporters themselves in a Set; a copy
 * of ziptrace that still uses v1 keeps its own listener under its own key.
 */
interface ExitRegistry {
  readonly entries: Set<ExitFlushEntry>;
  /** Forgets the entry of a reporter that was collected without leaving. */
  readonly finalizer: FinalizationRegistry<ExitFlushEntry>;
  listener: (() => void) | undefined;
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
  return entry;
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
}
