/**
 * When a trace is "complete", for printing it in the terminal. Zipkin never
 * knows (a late span can always arrive), so a trace counts as complete once it
 * has had no new span for a while; if more arrive later it is reported again.
 * One sweep timer serves every trace, and the set waiting is capped, so a
 * flood of traces costs bounded memory (past the cap the oldest waiting one is
 * reported early).
 */

/** Calls back with each trace id once it has been quiet for `settleMs`. */
export class SettledTraces {
  readonly #lastSeen = new Map<string, number>();
  readonly #settleMs: number;
  readonly #onSettled: (traceId: string) => void;
  readonly #max: number;
  #timer: NodeJS.Timeout | undefined;

  /**
   * @param settleMs how long a trace must be quiet to count as complete.
   * @param onSettled called with its id; what it throws is not this module's to handle (the caller guards).
   * @param max traces waiting at once.
   */
  constructor(settleMs: number, onSettled: (traceId: string) => void, max = 10_000) {
    this.#settleMs = settleMs;
    this.#onSettled = onSettled;
    this.#max = max;
  }

  /** Spans arrived for these traces: each waits `settleMs` from now. */
  touched(traceIds: readonly string[], now = Date.now()): void {
    for (const id of traceIds) {
      this.#lastSeen.delete(id); // re-inserted last, so the map stays in order of last arrival
      this.#lastSeen.set(id, now);
      if (this.#lastSeen.size > this.#max) {
        const oldest = this.#lastSeen.keys().next().value as string;
        this.#lastSeen.delete(oldest);
        this.#onSettled(oldest);
      }
    }
    this.#timer ??= setInterval(() => this.sweep(), Math.max(10, this.#settleMs / 4)).unref();
  }

  /** Reports every trace quiet for `settleMs` by `now`. */
  sweep(now = Date.now()): void {
    for (const [id, seen] of this.#lastSeen) {
      if (now - seen < this.#settleMs) break; // in order of last arrival: the rest are newer
      this.#lastSeen.delete(id);
      this.#onSettled(id);
    }
    if (this.#lastSeen.size === 0) this.stop();
  }

  /** Reports every waiting trace now (at shutdown). */
  flush(): void {
    for (const id of [...this.#lastSeen.keys()]) {
      this.#lastSeen.delete(id);
      this.#onSettled(id);
    }
    this.stop();
  }

  /** Stops the timer; waiting traces stay waiting. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
