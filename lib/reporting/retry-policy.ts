/**
 * The retry policy of a span reporter: which outcomes of an attempt are worth
 * another one, how long to wait before it (exponential backoff with equal
 * jitter), and how far a collector's `Retry-After` may stretch that wait.
 *
 * It decides and computes; it sends nothing and sets no timer, so any
 * transport that gets HTTP-like answers (a status, or none at all) can use it.
 */

/** What to do with a batch after one attempt at sending it. */
export type Verdict =
  /** The collector took it (2xx). */
  | 'delivered'
  /** Worth another attempt, after {@link RetryPolicy.delay}. */
  | 'retry'
  /** Too large (413) and never split: send it again as two halves. */
  | 'split'
  /** Too large (413), and one span or already a half: drop it as too large. */
  | 'tooLarge'
  /** Refused for good (a 4xx other than 408, 413 and 429): drop it. */
  | 'rejected';

/**
 * The verdict on one attempt. `status` is the answer's status code, or
 * `undefined` when no answer came (connection refused or reset, timeout),
 * which is always worth a retry: the batch may never have arrived.
 * `spans` and `split` describe the batch, for the 413 case.
 */
export function verdictOf(status: number | undefined, spans: number, split: boolean): Verdict {
  if (status === undefined) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 413) return spans > 1 && !split ? 'split' : 'tooLarge';
  return retriesStatus(status) ? 'retry' : 'rejected';
}

/** Whether an answer with this status says "try again later": any 5xx, 408 (request timeout) and 429 (too many requests). */
export function retriesStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Options of {@link RetryPolicy}. Times are milliseconds. */
export interface RetryPolicyOptions {
  /** Retries after the first attempt; 0 for none. */
  readonly maxRetries: number;
  /** The first backoff's ceiling; each later one doubles it. */
  readonly initialDelay: number;
  /** The cap on a backoff's ceiling. */
  readonly maxDelay: number;
  /** The most a `Retry-After` may ask for; longer asks are cut to it. Default 300,000 (five minutes). */
  readonly maxRetryAfter?: number;
  /** A number in [0, 1): the jitter's source. Default `Math.random`; specs pass a seeded one. */
  readonly random?: () => number;
  /** Epoch milliseconds, for `Retry-After` dates. Default `Date.now`. */
  readonly now?: () => number;
}

/** Past five minutes a `Retry-After` is more likely a misconfiguration than a plan; the batch should not sit that long. */
const MAX_RETRY_AFTER_MS = 300_000;

/** How many retries a batch gets and how long each waits. */
export class RetryPolicy {
  private readonly maxRetries: number;
  private readonly initialDelay: number;
  private readonly maxDelay: number;
  private readonly maxRetryAfter: number;
  private readonly random: () => number;
  private readonly now: () => number;

  /** @param options checked by the caller: positive delays, a whole `maxRetries`. */
  constructor(options: RetryPolicyOptions) {
    this.maxRetries = options.maxRetries;
    this.initialDelay = options.initialDelay;
    this.maxDelay = options.maxDelay;
    this.maxRetryAfter = options.maxRetryAfter ?? MAX_RETRY_AFTER_MS;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /**
   * The wait before retry number `retry` (1 for the first), or `undefined`
   * when that is past `maxRetries` and the batch should be given up.
   * `retryAfter` is the answer's `Retry-After` header, if any: the wait is
   * at least what it asks (up to `maxRetryAfter`), never less than the backoff.
   */
  delay(retry: number, retryAfter?: string): number | undefined {
    if (retry > this.maxRetries) return undefined;
    const backoff = this.backoff(retry);
    const asked = retryAfter === undefined ? undefined : parseRetryAfter(retryAfter, this.now());
    return asked === undefined ? backoff : Math.max(backoff, Math.min(asked, this.maxRetryAfter));
  }

  /**
   * The backoff before retry number `retry`: its ceiling doubles from
   * `initialDelay` up to `maxDelay`, and the wait is half the ceiling fixed
   * plus up to half at random ("equal jitter"), so a fleet of services that
   * failed together does not retry in step, yet none retries at once.
   */
  backoff(retry: number): number {
    const ceiling = Math.min(this.maxDelay, this.initialDelay * 2 ** (retry - 1));
    return ceiling / 2 + this.random() * (ceiling / 2);
  }
}

/**
 * A `Retry-After` header in milliseconds from `now`: whole seconds (`120`)
 * or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`, 0 when already past).
 * `undefined` when absent or unreadable, so the backoff alone applies.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Every HTTP date names its day and month in letters; Date.parse alone would take '1.5' for a day in 2001.
  if (!/[A-Za-z]/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
