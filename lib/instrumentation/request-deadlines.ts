/**
 * The timeouts of in-flight server requests, with one timer for all of them.
 *
 * A timer per request (setTimeout when it starts, clearTimeout when it ends)
 * was a Timeout object, a timer-list insert and removal and, on Node 20 and
 * 22, an async-hooks init for every request, to end the few spans whose
 * response never comes. Requests of one `timeout` expire in the order they
 * started, so they are kept in a list in that order: starting one appends to
 * it, ending one unlinks it, both O(1) and without allocating, and a single
 * timer waits for the oldest one's deadline. That timer is not moved when the
 * oldest request ends (it almost always does, long before its deadline): it
 * fires at the old deadline, finds the new oldest not yet due, and waits again,
 * so a busy server's timer wakes about once per `timeout`.
 */
import { AsyncResource } from 'node:async_hooks';
import { monotonicMillis } from '../clock.js';
import { runOutside } from '../context.js';

/**
 * Where the timers are set from: a scope made when this module loads, outside
 * ziptrace's span (and, at start-up, any other AsyncLocalStorage's store). A
 * timer keeps the async context it was set in, and a list's timer is set
 * again from its own callback: set inside a request, the chain would keep
 * that request's context (the app's stores too, which often hold req and res)
 * for as long as the server stays busy, and run every expiry in it.
 */
const SCOPE = runOutside(() => new AsyncResource('ziptrace.request-deadlines', { requireManualDestroy: true }));

/** What a list holds: the links and the deadline are its own, set by `add`. */
export interface DeadlineEntry {
  /** @internal */ _deadline: number;
  /** @internal */ _older: DeadlineEntry | undefined;
  /** @internal */ _newer: DeadlineEntry | undefined;
  /** @internal Whether the entry is in a list. */
  _listed: boolean;
}

/** In-flight entries of one timeout, oldest first, and the one timer that expires them. */
export class Deadlines<T extends DeadlineEntry> {
  private oldest: T | undefined;
  private newest: T | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly fire = (): void => this.expireDue();

  /**
   * @param timeout milliseconds from `add` to `expire`.
   * @param expire called once for each entry still listed at its deadline, after it is unlinked; what it throws is dropped.
   * @param clearWhenEmpty clear the timer when the last entry is removed: for a list that may be dropped while
   *   its timer is pending (one made per call), which would otherwise keep it for a whole `timeout`.
   */
  constructor(
    readonly timeout: number,
    private readonly expire: (entry: T) => void,
    private readonly clearWhenEmpty = false,
  ) {}

  /** Lists `entry`, due `timeout` ms from now (listed already, it is moved to the end). */
  add(entry: T): void {
    if (entry._listed) this.remove(entry);
    entry._deadline = monotonicMillis() + this.timeout;
    entry._older = this.newest;
    entry._newer = undefined;
    entry._listed = true;
    if (this.newest === undefined) this.oldest = entry;
    else this.newest._newer = entry;
    this.newest = entry;
    if (this.timer === undefined) this.arm(this.timeout);
  }

  /** Unlinks `entry` (ended before its deadline); nothing if it is not listed. */
  remove(entry: T): void {
    if (!entry._listed) return;
    entry._listed = false;
    const older = entry._older as T | undefined;
    const newer = entry._newer as T | undefined;
    if (older === undefined) this.oldest = newer;
    else older._newer = newer;
    if (newer === undefined) this.newest = older;
    else newer._older = older;
    // Unlinked entries point at nothing: a finished request keeps no other alive.
    entry._older = undefined;
    entry._newer = undefined;
    if (this.clearWhenEmpty && this.oldest === undefined && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** How many entries are listed (walks the list: for specs and debugging). */
  get size(): number {
    let count = 0;
    for (let entry = this.oldest; entry !== undefined; entry = entry._newer as T | undefined) count++;
    return count;
  }

  /** Whether the timer is set (for specs). */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  private arm(ms: number): void {
    // In SCOPE: see there. Unref'd: it only ends spans, and must not keep a process whose server closed alive.
    const timer = SCOPE.runInAsyncScope(setTimeout, undefined, this.fire, Math.max(1, Math.ceil(ms))) as NodeJS.Timeout;
    timer.unref();
    this.timer = timer;
  }

  private expireDue(): void {
    this.timer = undefined;
    const now = monotonicMillis();
    let entry = this.oldest;
    while (entry !== undefined && entry._deadline <= now) {
      this.remove(entry);
      try {
        this.expire(entry);
      } catch {
        // The expire callback guards itself; nothing it could throw may stop the others from expiring.
      }
      entry = this.oldest;
    }
    // An expire callback may have listed a request, and so set the timer already.
    if (entry !== undefined && this.timer === undefined) this.arm(entry._deadline - now);
  }
}
