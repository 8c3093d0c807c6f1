/**
 * BatchSender on its own, with a fake send function in place of a transport
 * (each attempt is a promise the spec settles as it likes) and fake timers
 * (setTimeout and clearTimeout), so every interval, backoff and deadline is
 * stepped to the millisecond. Backoff jitter comes from the run's seed: a twin
 * RetryPolicy on the same seed says what each wait must be.
 *
 * The HTTP path (the real transport against a real collector) is in
 * http.spec.ts; this is the scheduling any transport gets.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BatchSender, closeDeadline, DEFAULT_CLOSE_TIMEOUT, type AfterFailure, type BatchSenderOptions, type BatchSenderStats, type SendOutcome } from '../../lib/reporting/batch-sender.js';
import { RetryPolicy } from '../../lib/reporting/retry-policy.js';
import type { Batch } from '../../lib/reporting/span-queue.js';
import { SEED, seededRandom } from '../helpers/tracing.js';

/** One call of the fake send function: its batch, and the means to start and end the attempt. */
interface Attempt {
  readonly batch: Batch;
  /** The spans as they were when sent (a batch's fields may change with later attempts). */
  readonly spans: readonly string[];
  readonly start: () => boolean;
  readonly end: (outcome: SendOutcome) => void;
}

/** A send function that records every attempt and leaves it to the spec; it starts each at once unless told not to. */
function fakeSend(startAtOnce = true): { attempts: Attempt[]; send: BatchSenderOptions['send'] } {
  const attempts: Attempt[] = [];
  const send: BatchSenderOptions['send'] = (batch, start) =>
    new Promise<SendOutcome>((end) => {
      if (startAtOnce) start();
      attempts.push({ batch, spans: [...batch.spans], start, end });
    });
  return { attempts, send };
}

const accepted = (bodyBytes = 10): SendOutcome => ({ kind: 'answer', status: 202, text: '', retryAfter: undefined, bodyBytes });
const status = (code: number, text = '', retryAfter?: string): SendOutcome => ({ kind: 'answer', status: code, text, retryAfter, bodyBytes: 10 });
const noAnswer = (message = 'ECONNRESET'): SendOutcome => ({ kind: 'no-answer', error: new Error(message) });

/** What the listener heard, with the books as they stood at that moment. */
interface Heard {
  event: string;
  stats: BatchSenderStats;
}

/** The run's seeded source, offset per use; a twin policy on the same offset draws the same waits. */
const policy = (offset: number, options: Partial<ConstructorParameters<typeof RetryPolicy>[0]> = {}): RetryPolicy =>
  new RetryPolicy({ maxRetries: 3, initialDelay: 100, maxDelay: 1000, random: seededRandom(SEED + offset), ...options });

const senders: BatchSender[] = [];
/** A BatchSender on a fake send, its listener recorded; closed (with a short deadline) after the spec. */
function makeSender({ startAtOnce = true, ...options }: Partial<BatchSenderOptions> & { startAtOnce?: boolean } = {}): {
  sender: BatchSender;
  attempts: Attempt[];
  heard: Heard[];
  aborts: () => number;
} {
  const { attempts, send } = fakeSend(startAtOnce);
  const heard: Heard[] = [];
  let aborts = 0;
  const sender: BatchSender = new BatchSender({
    maxQueueSpans: 1000,
    maxQueueBytes: 1 << 20,
    maxBatchSpans: 10,
    maxBatchBytes: 1 << 16,
    batchInterval: 100,
    maxInFlight: 2,
    retryPolicy: policy(0),
    send,
    abort: () => void aborts++,
    listener: {
      failed: (batch, outcome, then: AfterFailure) =>
        heard.push({ event: `failed ${outcome.kind === 'answer' ? outcome.status : outcome.kind} → ${then} (${batch.spans.length} spans)`, stats: sender.stats() }),
      gaveUp: (batch, attempts) => heard.push({ event: `gaveUp after ${attempts} (${batch.spans.length} spans)`, stats: sender.stats() }),
    },
    ...options,
  });
  senders.push(sender);
  return { sender, attempts, heard, aborts: () => aborts };
}

/** A span's JSON, numbered. */
const json = (n: number): string => `{"n":${n}}`;
const add = (sender: BatchSender, from: number, count: number): void => {
  for (let n = from; n < from + count; n++) expect(sender.add(json(n))).toBeUndefined();
};

/** Lets the attempts' promises settle (setImmediate is not faked). */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function expectBalanced(stats: BatchSenderStats): void {
  const d = stats.dropped;
  expect(stats.droppedTotal).toBe(d.queueFull + d.tooLarge + d.rejected + d.retriesExhausted + d.closed + d.unencodable);
  expect(stats.sent + stats.queued + stats.droppedTotal).toBe(stats.reported);
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(async () => {
  for (const sender of senders.splice(0)) {
    const closing = sender.close(10);
    await vi.advanceTimersByTimeAsync(10);
    await closing;
    expectBalanced(sender.stats());
    expect(sender.stats().queued).toBe(0);
  }
  vi.useRealTimers();
});

describe('when batches go out', () => {
  it('a span waits batchInterval, to the millisecond, then goes with the others that came meanwhile', async () => {
    const { sender, attempts } = makeSender({ batchInterval: 150 });
    add(sender, 0, 2);
    await vi.advanceTimersByTimeAsync(100);
    add(sender, 2, 1);
    await vi.advanceTimersByTimeAsync(49);
    expect(attempts).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts.map((a) => a.spans)).toEqual([[json(0), json(1), json(2)]]);
    expect(sender.stats()).toMatchObject({ requests: 1, queued: 3 });
    attempts[0]!.end(accepted(42));
    await settled();
    expect(sender.stats()).toMatchObject({ reported: 3, sent: 3, queued: 0, requests: 1, bytesSent: 42, failedRequests: 0 });

    // The next span waits a fresh interval.
    add(sender, 3, 1);
    await vi.advanceTimersByTimeAsync(149);
    expect(attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts.map((a) => a.spans.length)).toEqual([3, 1]);
  });

  it('a full batch goes at once, within add(), without waiting for the interval; the rest waits for it', async () => {
    const { sender, attempts } = makeSender({ maxBatchSpans: 4, batchInterval: 1000 });
    add(sender, 0, 3);
    expect(attempts).toHaveLength(0);
    add(sender, 3, 1);
    expect(attempts.map((a) => a.spans.length)).toEqual([4]);
    add(sender, 4, 2);
    await vi.advanceTimersByTimeAsync(999);
    expect(attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts.map((a) => a.spans.length)).toEqual([4, 2]);
  });

  it('has at most maxInFlight attempts out at once; each one that ends lets the next go', async () => {
    const { sender, attempts } = makeSender({ maxBatchSpans: 2, maxInFlight: 3 });
    add(sender, 0, 20);
    expect(attempts).toHaveLength(3);
    const flushed = sender.flush();
    expect(attempts).toHaveLength(3);
    for (let done = 0; done < 7; done++) {
      attempts[done]!.end(accepted());
      await settled();
      expect(attempts.length - (done + 1)).toBeLessThanOrEqual(3);
    }
    expect(attempts).toHaveLength(10);
    for (const attempt of attempts.slice(7)) attempt.end(accepted());
    await flushed;
    expect(sender.stats()).toMatchObject({ reported: 20, sent: 20, queued: 0, requests: 10 });
  });

  it('counts an attempt when the send starts it, not when it is handed over; one started after the batch was given up is not made', async () => {
    const { sender, attempts, aborts } = makeSender({ startAtOnce: false });
    add(sender, 0, 3);
    void sender.flush();
    expect(attempts).toHaveLength(1);
    expect(sender.stats().requests).toBe(0);
    // Given up before it starts (the body was still being prepared): start() says no, and nothing is counted twice.
    const flushing = sender.flushWithin(50);
    await vi.advanceTimersByTimeAsync(50);
    await flushing;
    expect(aborts()).toBe(1);
    expect(attempts[0]!.start()).toBe(false);
    attempts[0]!.end(accepted());
    await settled();
    expect(sender.stats()).toMatchObject({ reported: 3, sent: 0, requests: 0, queued: 0, droppedTotal: 3, dropped: { closed: 3 } });
  });
});

describe('what an outcome means', () => {
  it('retries an attempt with no answer after the seeded backoff, to the millisecond, and counts the retry', async () => {
    const twin = policy(1);
    const { sender, attempts, heard } = makeSender({ retryPolicy: policy(1) });
    add(sender, 0, 2);
    const flushed = sender.flush();
    attempts[0]!.end(noAnswer());
    await settled();
    expect(heard.map((h) => h.event)).toEqual(['failed no-answer → retry (2 spans)']);
    // Told before the retry is scheduled: the batch is still held, nothing dropped.
    expect(heard[0]!.stats).toMatchObject({ queued: 2, droppedTotal: 0, failedRequests: 1, retries: 0 });
    const wait = twin.delay(1)!;
    expect(wait).toBeGreaterThanOrEqual(50);
    expect(wait).toBeLessThanOrEqual(100);
    await vi.advanceTimersByTimeAsync(Math.floor(wait) - 1);
    expect(attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(Math.ceil(wait) - (Math.floor(wait) - 1));
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.batch).toBe(attempts[0]!.batch);
    expect(attempts[1]!.spans).toEqual(attempts[0]!.spans);
    expect(sender.stats()).toMatchObject({ requests: 2, retries: 1, failedRequests: 1 });
    attempts[1]!.end(accepted());
    await flushed;
    expect(sender.stats()).toMatchObject({ sent: 2, queued: 0, droppedTotal: 0 });
  });

  it('backs off as the policy says for each retry, then gives up after maxRetries: told once, dropped as retriesExhausted', async () => {
    const twin = policy(2);
    const { sender, attempts, heard } = makeSender({ retryPolicy: policy(2) });
    add(sender, 0, 3);
    const flushed = sender.flush();
    for (let retry = 1; retry <= 3; retry++) {
      attempts[retry - 1]!.end(status(503));
      await settled();
      const wait = twin.delay(retry)!;
      await vi.advanceTimersByTimeAsync(Math.floor(wait) - 1);
      expect(attempts, `no retry ${Math.floor(wait) - 1} ms into wait ${retry}`).toHaveLength(retry);
      await vi.advanceTimersByTimeAsync(Math.ceil(wait) - (Math.floor(wait) - 1));
      expect(attempts, `retry ${retry} after ${wait} ms`).toHaveLength(retry + 1);
    }
    attempts[3]!.end(status(503));
    await flushed;
    expect(heard.map((h) => h.event)).toEqual([...Array(4).fill('failed 503 → retry (3 spans)'), 'gaveUp after 4 (3 spans)']);
    // Told after the drop is counted.
    expect(heard[4]!.stats).toMatchObject({ queued: 0, dropped: { retriesExhausted: 3 } });
    expect(sender.stats()).toMatchObject({ reported: 3, sent: 0, requests: 4, retries: 3, failedRequests: 4, droppedTotal: 3 });
  });

  it('waits as long as a Retry-After asks when that is longer than the backoff', async () => {
    const { sender, attempts } = makeSender({ retryPolicy: policy(3, { initialDelay: 10, maxDelay: 10 }) });
    add(sender, 0, 1);
    void sender.flush();
    attempts[0]!.end(status(429, 'slow down', '2'));
    await settled();
    await vi.advanceTimersByTimeAsync(1999);
    expect(attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts).toHaveLength(2);
  });

  it('makes one attempt with maxRetries 0', async () => {
    const { sender, attempts, heard } = makeSender({ retryPolicy: policy(4, { maxRetries: 0 }) });
    add(sender, 0, 1);
    const flushed = sender.flush();
    attempts[0]!.end(noAnswer());
    await flushed;
    expect(attempts).toHaveLength(1);
    expect(heard.map((h) => h.event)).toEqual(['failed no-answer → retry (1 spans)', 'gaveUp after 1 (1 spans)']);
    expect(sender.stats()).toMatchObject({ requests: 1, retries: 0, dropped: { retriesExhausted: 1 } });
  });

  for (const code of [400, 404, 422]) {
    it(`drops a batch answered ${code} as rejected, not retried, told after the drop is counted`, async () => {
      const { sender, attempts, heard } = makeSender();
      add(sender, 0, 4);
      const flushed = sender.flush();
      attempts[0]!.end(status(code, 'bad span'));
      await flushed;
      await vi.advanceTimersByTimeAsync(60_000);
      expect(attempts).toHaveLength(1);
      expect(heard.map((h) => h.event)).toEqual([`failed ${code} → rejected (4 spans)`]);
      expect(heard[0]!.stats).toMatchObject({ queued: 0, dropped: { rejected: 4 }, failedRequests: 1 });
    });
  }

  it('drops a batch whose attempt could not be made (refused) as rejected, not retried', async () => {
    const { sender, attempts, heard } = makeSender();
    add(sender, 0, 2);
    const flushed = sender.flush();
    attempts[0]!.end({ kind: 'refused', error: new TypeError('invalid header') });
    await flushed;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(attempts).toHaveLength(1);
    expect(heard.map((h) => h.event)).toEqual(['failed refused → rejected (2 spans)']);
    expect(sender.stats()).toMatchObject({ requests: 1, failedRequests: 1, retries: 0, dropped: { rejected: 2 } });
  });

  it('splits a batch answered 413 once: the halves go at once, and a half answered 413 again is dropped as tooLarge', async () => {
    const { sender, attempts, heard } = makeSender();
    add(sender, 0, 5);
    const flushed = sender.flush();
    attempts[0]!.end(status(413));
    await settled();
    // A split is not a failure anyone need hear of; both halves went out at once, marked so as not to be split again.
    expect(heard).toEqual([]);
    expect(attempts.slice(1).map((a) => [a.spans, a.batch.split])).toEqual([
      [[json(0), json(1), json(2)], true],
      [[json(3), json(4)], true],
    ]);
    attempts[1]!.end(accepted());
    attempts[2]!.end(status(413));
    await flushed;
    expect(heard.map((h) => h.event)).toEqual(['failed 413 → tooLarge (2 spans)']);
    expect(sender.stats()).toMatchObject({ reported: 5, sent: 3, requests: 3, retries: 0, failedRequests: 2, dropped: { tooLarge: 2 } });
  });

  it('drops a one-span batch answered 413 as tooLarge at once', async () => {
    const { sender, attempts } = makeSender();
    add(sender, 0, 1);
    const flushed = sender.flush();
    attempts[0]!.end(status(413));
    await flushed;
    expect(attempts).toHaveLength(1);
    expect(sender.stats().dropped.tooLarge).toBe(1);
  });

  it('takes a send that rejects or throws for an attempt with no answer: retried', async () => {
    let calls = 0;
    const { sender, heard } = makeSender({
      retryPolicy: policy(5, { initialDelay: 10, maxDelay: 10 }),
      send: (batch, start) => {
        calls++;
        if (calls === 1) throw new Error('thrown');
        start();
        return calls === 2 ? Promise.reject('rejected') : Promise.resolve(accepted());
      },
    });
    add(sender, 0, 1);
    const flushed = sender.flush();
    await vi.advanceTimersByTimeAsync(10);
    await vi.advanceTimersByTimeAsync(10);
    await flushed;
    expect(heard.map((h) => h.event)).toEqual(['failed no-answer → retry (1 spans)', 'failed no-answer → retry (1 spans)']);
    // The send that threw before it started its attempt still counts as one made, and failed.
    expect(calls).toBe(3);
    expect(sender.stats()).toMatchObject({ sent: 1, requests: 3, failedRequests: 2, retries: 2 });
  });
});

describe('flush, deadlines and close', () => {
  it('flush() resolves at once with nothing held, else once everything is out, retries included', async () => {
    const { sender, attempts } = makeSender({ retryPolicy: policy(6, { initialDelay: 10, maxDelay: 10 }) });
    let flushedIdle = false;
    void sender.flush().then(() => (flushedIdle = true));
    await settled();
    expect(flushedIdle).toBe(true);

    add(sender, 0, 3);
    let flushed = false;
    const flushing = sender.flush().then(() => (flushed = true));
    attempts[0]!.end(status(500));
    await settled();
    expect(flushed).toBe(false);
    await vi.advanceTimersByTimeAsync(10);
    attempts[1]!.end(accepted());
    await flushing;
    expect(sender.stats()).toMatchObject({ sent: 3, queued: 0 });
  });

  it('flushWithin keeps its deadline to the millisecond, then drops what is left as closed and aborts the attempts; their outcomes are then ignored', async () => {
    const { sender, attempts, aborts, heard } = makeSender({ maxBatchSpans: 2, maxInFlight: 1 });
    add(sender, 0, 5);
    let done = false;
    const flushing = sender.flushWithin(300).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(299);
    expect(done).toBe(false);
    expect(aborts()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    await flushing;
    expect(aborts()).toBe(1);
    expect(sender.stats()).toMatchObject({ reported: 5, queued: 0, queuedBytes: 0, sent: 0, droppedTotal: 5, dropped: { closed: 5 } });
    // The aborted attempt's outcome (delivered, even) comes too late to count.
    attempts[0]!.end(accepted());
    await settled();
    expect(sender.stats()).toMatchObject({ sent: 0, dropped: { closed: 5 } });
    expect(heard).toEqual([]);
    // Not closed by it: later spans are taken and sent.
    add(sender, 5, 1);
    const flushed = sender.flush();
    attempts[1]!.end(accepted());
    await flushed;
    expect(sender.stats()).toMatchObject({ reported: 6, sent: 1 });
  });

  it('flushWithin does not wait out a retry scheduled past its deadline', async () => {
    const { sender, attempts } = makeSender({ retryPolicy: policy(7, { initialDelay: 60_000, maxDelay: 60_000 }) });
    add(sender, 0, 2);
    const flushing = sender.flushWithin(200);
    attempts[0]!.end(status(503));
    await vi.advanceTimersByTimeAsync(200);
    await flushing;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(attempts).toHaveLength(1);
    expect(sender.stats()).toMatchObject({ queued: 0, requests: 1, dropped: { closed: 2 } });
  });

  it(`close() waits DEFAULT_CLOSE_TIMEOUT (${DEFAULT_CLOSE_TIMEOUT} ms) by default, to the millisecond, then refuses every span as closed`, async () => {
    expect(DEFAULT_CLOSE_TIMEOUT).toBe(5000);
    const { sender, attempts } = makeSender();
    add(sender, 0, 2);
    let closed = false;
    const closing = sender.close().then(() => (closed = true));
    expect(attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(DEFAULT_CLOSE_TIMEOUT - 1);
    expect(closed).toBe(false);
    expect(sender.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await closing;
    expect(sender.closed).toBe(true);
    expect(sender.add(json(2))).toBe('closed');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(attempts).toHaveLength(1);
    expect(sender.stats()).toMatchObject({ reported: 3, sent: 0, queued: 0, dropped: { closed: 3 } });
    // Flushing a closed sender resolves at once.
    await sender.flush();
  });

  it('close() resolves as soon as everything is delivered', async () => {
    const { sender, attempts } = makeSender();
    add(sender, 0, 2);
    const closing = sender.close(60_000);
    attempts[0]!.end(accepted());
    await closing;
    expect(sender.stats()).toMatchObject({ sent: 2, droppedTotal: 0 });
  });

  it('the exit flush runs one at a time, none with nothing held or once closed, and keeps its deadline', async () => {
    const { sender, attempts } = makeSender({ batchInterval: 60_000 });
    sender.exitFlush(100);
    expect(attempts).toHaveLength(0);
    add(sender, 0, 2);
    sender.exitFlush(100);
    sender.exitFlush(100);
    expect(attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(sender.stats()).toMatchObject({ queued: 2, droppedTotal: 0 });
    await vi.advanceTimersByTimeAsync(1);
    expect(sender.stats()).toMatchObject({ queued: 0, dropped: { closed: 2 } });

    // Done: another may start.
    add(sender, 2, 1);
    sender.exitFlush(100);
    expect(attempts).toHaveLength(2);
    attempts[1]!.end(accepted());
    await settled();
    expect(sender.stats()).toMatchObject({ sent: 1 });

    const closing = sender.close(10);
    await vi.advanceTimersByTimeAsync(10);
    await closing;
    sender.add(json(3));
    sender.exitFlush(100);
    expect(attempts).toHaveLength(2);
  });
});

describe('closeDeadline', () => {
  it('takes milliseconds, gives the default for what is not a number of them, and caps at what a Node timer takes', () => {
    expect(closeDeadline(10)).toBe(10);
    expect(closeDeadline(0)).toBe(0);
    for (const wrong of [undefined, Number.NaN, -1, '1000', null]) expect(closeDeadline(wrong), String(wrong)).toBe(DEFAULT_CLOSE_TIMEOUT);
    // Node fires a timer of Infinity, or of 2^31 ms and more, after 1 ms: "as long as it takes" would drop everything at once.
    expect(closeDeadline(Number.POSITIVE_INFINITY)).toBe(2 ** 31 - 1);
    expect(closeDeadline(2 ** 40)).toBe(2 ** 31 - 1);
  });
});

describe('the books', () => {
  it('refuses spans past the queue bounds, in flight counted, and counts refusals and spans that never enter', () => {
    const { sender } = makeSender({ maxQueueSpans: 3, maxBatchSpans: 2 });
    add(sender, 0, 3);
    expect(sender.add(json(3))).toBe('queueFull');
    sender.refuse('unencodable');
    expect(sender.stats()).toMatchObject({ reported: 5, queued: 3, droppedTotal: 2, dropped: { queueFull: 1, unencodable: 1 } });
    expectBalanced(sender.stats());
  });

  it('stats() hands out a copy of the drop counts', () => {
    const { sender } = makeSender();
    sender.refuse('unencodable');
    const stats = sender.stats();
    stats.dropped.unencodable = 99;
    expect(sender.stats().dropped.unencodable).toBe(1);
  });

  it('keeps reported = sent + queued + dropped, and the attempts out within maxInFlight, through seeded random outcomes; every span is accounted for at close', async () => {
    const random = seededRandom(SEED + 100);
    const maxInFlight = 3;
    const { sender, attempts } = makeSender({
      maxInFlight,
      maxBatchSpans: 4,
      maxQueueSpans: 16,
      batchInterval: 20,
      retryPolicy: policy(101, { initialDelay: 5, maxDelay: 40, maxRetries: 2 }),
    });
    const outcomes: (() => SendOutcome)[] = [
      () => accepted(),
      () => accepted(),
      () => status(503),
      () => status(429, '', '0'),
      () => status(400),
      () => status(413),
      () => noAnswer(),
      () => ({ kind: 'refused', error: new Error('no') }),
    ];
    /** Attempts made and not yet ended by the spec. */
    const open: Attempt[] = [];
    let seen = 0;
    const collect = (): void => {
      open.push(...attempts.slice(seen));
      seen = attempts.length;
    };
    let next = 0;
    for (let step = 0; step < 2000; step++) {
      const roll = random();
      if (roll < 0.6) sender.add(json(next++));
      else if (roll < 0.85) {
        collect();
        if (open.length > 0) {
          const [attempt] = open.splice(Math.floor(random() * open.length), 1);
          attempt!.end(outcomes[Math.floor(random() * outcomes.length)]!());
          await settled();
        }
      } else await vi.advanceTimersByTimeAsync(Math.floor(random() * 30));
      collect();
      const stats = sender.stats();
      expectBalanced(stats);
      expect(stats.queued).toBeLessThanOrEqual(16);
      // A batch goes out only while fewer than maxInFlight are out; the two halves of a split go together, as one may.
      expect(open.filter((attempt) => !attempt.batch.split).length).toBeLessThanOrEqual(maxInFlight);
      expect(open.length).toBeLessThanOrEqual(2 * maxInFlight);
    }
    const closing = sender.close(1000);
    // Whatever is out now, or goes out, is delivered.
    for (let round = 0; round < 100 && sender.stats().queued > 0; round++) {
      collect();
      for (const attempt of open.splice(0)) attempt.end(accepted());
      await vi.advanceTimersByTimeAsync(20);
    }
    await closing;
    const stats = sender.stats();
    expectBalanced(stats);
    expect(stats).toMatchObject({ reported: next, queued: 0, dropped: { closed: 0 } });
    expect(stats.sent).toBeGreaterThan(0);
    expect(stats.retries).toBeGreaterThan(0);
    expect(stats.dropped.queueFull).toBeGreaterThan(0);
    expect(stats.dropped.rejected + stats.dropped.tooLarge + stats.dropped.retriesExhausted).toBeGreaterThan(0);
  });
});
