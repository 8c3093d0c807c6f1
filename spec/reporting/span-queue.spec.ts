/**
 * SpanQueue on its own: its bounds (spans and bytes, in flight counted), how
 * it cuts batches by maxBatchSpans and maxBatchBytes (bodies are `[a,b,c]`),
 * and its books (reported = sent + held + dropped) through any sequence of
 * adds, takes, deliveries, drops and splits (a property, seeded by the run).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTracer } from '../../lib/index.js';
import { HEAD_ROOM, REPORT_FINISHED } from '../../lib/encoding/zipkin-bytes.js';
import { encodeFinishedSpan, type FinishedSpan } from '../../lib/encoding/zipkin-json.js';
import { batchJson, batchJsonBytes, SpanQueue, type Batch, type DroppedSpans, type SpanQueueLimits } from '../../lib/reporting/span-queue.js';

const roomy: SpanQueueLimits = { maxQueueSpans: 1_000, maxQueueBytes: 1 << 20, maxBatchSpans: 100, maxBatchBytes: 1 << 16 };

/** A span's JSON of exactly `bytes` bytes (at least 20 for n < 1000), numbered for order checks. */
function json(n: number, bytes = 20): string {
  const head = `{"n":${n},"p":"`;
  const text = head + 'x'.repeat(bytes - head.length - 2) + '"}';
  expect(Buffer.byteLength(text)).toBe(bytes);
  return text;
}

function expectBooks(queue: SpanQueue): void {
  expect(queue.reported).toBe(queue.sent + queue.spans + queue.droppedTotal());
  const d = queue.dropped;
  expect(queue.droppedTotal()).toBe(d.queueFull + d.tooLarge + d.rejected + d.retriesExhausted + d.closed + d.unencodable);
}

describe('SpanQueue bounds', () => {
  it('refuses the span past maxQueueSpans as queueFull, counting batches in flight', () => {
    const queue = new SpanQueue({ ...roomy, maxQueueSpans: 3, maxBatchSpans: 2 });
    expect([0, 1, 2].map((n) => queue.add(json(n)))).toEqual([undefined, undefined, undefined]);
    const batch = queue.take()!;
    expect(batch.spans).toHaveLength(2);
    // Two in flight and one waiting still fill the queue.
    expect(queue.add(json(3))).toBe('queueFull');
    expect(queue).toMatchObject({ reported: 4, spans: 3, waitingSpans: 1, inFlightBatches: 1 });
    expect(queue.dropped.queueFull).toBe(1);
    // Once the batch is delivered there is room again.
    expect(queue.delivered(batch)).toBe(true);
    expect(queue.add(json(4))).toBeUndefined();
    expect(queue).toMatchObject({ reported: 5, sent: 2, spans: 2 });
    expectBooks(queue);
  });

  it('refuses a span that would take the queue past maxQueueBytes; one that just fits is taken', () => {
    const queue = new SpanQueue({ ...roomy, maxQueueBytes: 100 });
    expect(queue.add(json(0, 60))).toBeUndefined();
    expect(queue.add(json(1, 41))).toBe('queueFull');
    expect(queue.add(json(2, 40))).toBeUndefined();
    expect(queue.bytes).toBe(100);
    // Bytes in flight count the same.
    queue.take();
    expect(queue.add(json(3, 20))).toBe('queueFull');
    expect(queue).toMatchObject({ spans: 2, bytes: 100, waitingSpans: 0 });
    expect(queue.dropped.queueFull).toBe(2);
    expectBooks(queue);
  });

  it('refuses as tooLarge a span whose body alone ([span]) would pass maxBatchBytes', () => {
    const queue = new SpanQueue({ ...roomy, maxBatchBytes: 52 });
    expect(queue.add(json(0, 50))).toBeUndefined();
    expect(queue.add(json(1, 51))).toBe('tooLarge');
    expect(queue.dropped).toMatchObject({ tooLarge: 1, queueFull: 0 });
    expect(batchJsonBytes(queue.take()!)).toBe(52);
    expectBooks(queue);
  });

  it('measures bytes as UTF-8, not characters', () => {
    const queue = new SpanQueue(roomy);
    queue.add('"ü€😀"');
    expect(queue.bytes).toBe(Buffer.byteLength('"ü€😀"'));
    expect(queue.bytes).toBe(11);
  });

  it('counts refusals of spans that never enter (closed, unencodable) as reported and dropped', () => {
    const queue = new SpanQueue(roomy);
    queue.refuse('closed');
    queue.refuse('unencodable');
    queue.refuse('unencodable');
    expect(queue).toMatchObject({ reported: 3, spans: 0, dropped: { closed: 1, unencodable: 2 } });
    expect(queue.droppedTotal()).toBe(3);
  });
});

describe('SpanQueue batching', () => {
  it('takes the oldest spans first, at most maxBatchSpans a batch', () => {
    const queue = new SpanQueue({ ...roomy, maxBatchSpans: 4 });
    for (let n = 0; n < 10; n++) queue.add(json(n));
    const batches: Batch[] = [];
    for (let batch = queue.take(); batch !== undefined; batch = queue.take()) batches.push(batch);
    expect(batches.map((b) => b.spans.map((s) => (JSON.parse(s) as { n: number }).n))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(batches.every((b) => b.attempt === 0 && !b.split)).toBe(true);
    expect(queue).toMatchObject({ waitingSpans: 0, inFlightBatches: 3, spans: 10 });
  });

  for (const [fit, slack] of [
    [3, 0],
    [2, -1],
  ] as const) {
    it(`fills a batch to maxBatchBytes exactly: ${fit} spans when the limit is ${slack === 0 ? 'exactly' : 'a byte short of'} a body of three`, () => {
      // [a,b,c]: three spans of 30 bytes, two commas, two brackets.
      const maxBatchBytes = 3 * 30 + 2 + 2 + slack;
      const queue = new SpanQueue({ ...roomy, maxBatchBytes });
      for (let n = 0; n < 6; n++) queue.add(json(n, 30));
      const batch = queue.take()!;
      expect(batch.spans).toHaveLength(fit);
      expect(batch.bytes).toBe(fit * 30);
      expect(batchJsonBytes(batch)).toBe(batchJson(batch).length);
      expect(batchJsonBytes(batch)).toBeLessThanOrEqual(maxBatchBytes);
    });
  }

  it('is full once maxBatchSpans spans or maxBatchBytes bytes wait', () => {
    const bySpans = new SpanQueue({ ...roomy, maxBatchSpans: 3 });
    bySpans.add(json(0));
    bySpans.add(json(1));
    expect(bySpans.full()).toBe(false);
    bySpans.add(json(2));
    expect(bySpans.full()).toBe(true);
    bySpans.take();
    expect(bySpans.full()).toBe(false);

    const byBytes = new SpanQueue({ ...roomy, maxBatchBytes: 64 });
    byBytes.add(json(0, 32));
    expect(byBytes.full()).toBe(false);
    byBytes.add(json(1, 32));
    expect(byBytes.full()).toBe(true);
  });

  it('writes a batch as a JSON list whose length it knows without measuring', () => {
    const queue = new SpanQueue(roomy);
    for (const text of ['{"a":1}', '{"b":"é"}', '{}']) queue.add(text);
    const batch = queue.take()!;
    expect(Buffer.from(batchJson(batch)).toString('utf8')).toBe('[{"a":1},{"b":"é"},{}]');
    expect(JSON.parse(Buffer.from(batchJson(batch)).toString('utf8'))).toEqual([{ a: 1 }, { b: 'é' }, {}]);
    expect(batchJsonBytes(batch)).toBe(batchJson(batch).length);
  });

  it('take() gives undefined when nothing waits', () => {
    expect(new SpanQueue(roomy).take()).toBeUndefined();
  });
});

describe('SpanQueue settling', () => {
  it('settles a batch once: delivered, dropped or split, a second settlement counts nothing', () => {
    const queue = new SpanQueue(roomy);
    for (let n = 0; n < 3; n++) queue.add(json(n));
    const batch = queue.take()!;
    expect(queue.holds(batch)).toBe(true);
    expect(queue.delivered(batch)).toBe(true);
    expect(queue.holds(batch)).toBe(false);
    expect(queue.delivered(batch)).toBe(false);
    expect(queue.drop(batch, 'rejected')).toBe(false);
    expect(queue).toMatchObject({ reported: 3, sent: 3, spans: 0, bytes: 0 });
    expect(queue.droppedTotal()).toBe(0);
    expect(queue.idle()).toBe(true);
  });

  it('splits a batch into two halves in flight (the first the larger), each marked split, bytes re-measured', () => {
    const queue = new SpanQueue(roomy);
    const sizes = [20, 30, 40, 50, 60];
    sizes.forEach((bytes, n) => queue.add(json(n, bytes)));
    const batch = queue.take()!;
    const [first, second] = queue.split(batch);
    expect(queue.holds(batch)).toBe(false);
    expect([first.spans.length, second.spans.length]).toEqual([3, 2]);
    expect([first.bytes, second.bytes]).toEqual([90, 110]);
    expect([first.split, second.split, first.attempt, second.attempt]).toEqual([true, true, 0, 0]);
    expect([...first.spans, ...second.spans]).toEqual(batch.spans);
    // The same spans, still held: nothing counted yet.
    expect(queue).toMatchObject({ spans: 5, bytes: 200, inFlightBatches: 2, sent: 0 });
    queue.delivered(first);
    queue.drop(second, 'tooLarge');
    expect(queue).toMatchObject({ sent: 3, spans: 0, dropped: { tooLarge: 2 } });
    expectBooks(queue);
  });

  it('dropAll drops what waits and what is in flight, for one reason; later outcomes of those batches count nothing', () => {
    const queue = new SpanQueue({ ...roomy, maxBatchSpans: 2 });
    for (let n = 0; n < 5; n++) queue.add(json(n));
    const inFlight = [queue.take()!, queue.take()!];
    queue.dropAll('closed');
    expect(queue).toMatchObject({ spans: 0, bytes: 0, waitingSpans: 0, inFlightBatches: 0, dropped: { closed: 5 } });
    expect(queue.idle()).toBe(true);
    expect(inFlight.map((b) => queue.delivered(b))).toEqual([false, false]);
    expect(queue.sent).toBe(0);
    expectBooks(queue);
  });
});

describe('SpanQueue books', () => {
  type Op = { op: 'add'; bytes: number } | { op: 'take' } | { op: 'deliver'; which: number } | { op: 'drop'; which: number; reason: keyof DroppedSpans } | { op: 'split'; which: number } | { op: 'dropAll' };
  const reasons: (keyof DroppedSpans)[] = ['rejected', 'retriesExhausted', 'closed', 'tooLarge'];
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 20, max: 120 }).map((bytes): Op => ({ op: 'add', bytes })) },
    // Now and then a span larger than the smallest chunks below, which gets a chunk of its own.
    { weight: 1, arbitrary: fc.integer({ min: 121, max: 500 }).map((bytes): Op => ({ op: 'add', bytes })) },
    { weight: 3, arbitrary: fc.constant<Op>({ op: 'take' }) },
    { weight: 2, arbitrary: fc.nat(10).map((which): Op => ({ op: 'deliver', which })) },
    { weight: 2, arbitrary: fc.tuple(fc.nat(10), fc.constantFrom(...reasons)).map(([which, reason]): Op => ({ op: 'drop', which, reason })) },
    { weight: 1, arbitrary: fc.nat(10).map((which): Op => ({ op: 'split', which })) },
    { weight: 1, arbitrary: fc.constant<Op>({ op: 'dropAll' }) },
  );
  const limits = fc.record({
    maxQueueSpans: fc.integer({ min: 1, max: 30 }),
    maxQueueBytes: fc.integer({ min: 130, max: 2000 }),
    maxBatchSpans: fc.integer({ min: 1, max: 8 }),
    maxBatchBytes: fc.integer({ min: 20, max: 600 }),
  });

  it('always: reported = sent + held + dropped, within the bounds, every batch within its limits and its spans the oldest waiting, in order (seeded)', () => {
    fc.assert(
      // Chunks of 100 to 400 bytes: a few spans fill one, so batches cross chunks, and chunks are let go and written over.
      fc.property(limits, fc.integer({ min: 100, max: 400 }), fc.array(op, { maxLength: 200 }), (lim, chunkBytes, ops) => {
        const queue = new SpanQueue(lim, chunkBytes);
        const flying: Batch[] = [];
        /** What the queue should hold waiting, oldest first. */
        let waiting: string[] = [];
        const bodies = new Map<Batch, string>();
        let n = 0;
        for (const step of ops) {
          switch (step.op) {
            case 'add': {
              const text = json(n++, step.bytes);
              if (queue.add(text) === undefined) waiting.push(text);
              break;
            }
            case 'take': {
              const batch = queue.take();
              if (batch !== undefined) {
                expect(batch.spans).toEqual(waiting.splice(0, batch.count));
                expect(Buffer.from(batchJson(batch)).toString('utf8')).toBe(`[${batch.spans.join(',')}]`);
                bodies.set(batch, Buffer.from(batchJson(batch)).toString('utf8'));
                expect(batch.spans.length).toBeGreaterThan(0);
                expect(batch.spans.length).toBeLessThanOrEqual(lim.maxBatchSpans);
                expect(batchJsonBytes(batch)).toBeLessThanOrEqual(lim.maxBatchBytes);
                flying.push(batch);
              }
              break;
            }
            case 'deliver':
              if (flying.length > 0) {
                const batch = flying.splice(step.which % flying.length, 1)[0]!;
                // Its body is its own: chunks written over since it was taken leave it as it was.
                if (bodies.has(batch)) expect(Buffer.from(batchJson(batch)).toString('utf8')).toBe(bodies.get(batch));
                queue.delivered(batch);
              }
              break;
            case 'drop':
              if (flying.length > 0) queue.drop(flying.splice(step.which % flying.length, 1)[0]!, step.reason);
              break;
            case 'split': {
              const at = step.which % Math.max(1, flying.length);
              if (flying[at] !== undefined && flying[at].spans.length > 1) {
                const whole = flying.splice(at, 1)[0]!;
                const halves = queue.split(whole);
                expect([...halves[0].spans, ...halves[1].spans]).toEqual(whole.spans);
                for (const half of halves) expect(Buffer.from(batchJson(half)).toString('utf8')).toBe(`[${half.spans.join(',')}]`);
                flying.push(...halves);
              }
              break;
            }
            case 'dropAll':
              queue.dropAll('closed');
              flying.length = 0;
              waiting = [];
              break;
          }
          expect(queue.spans).toBeLessThanOrEqual(lim.maxQueueSpans);
          expect(queue.bytes).toBeLessThanOrEqual(lim.maxQueueBytes);
          expect(queue.bytes).toBeGreaterThanOrEqual(0);
          expectBooks(queue);
        }
        expect(queue.reported).toBe(n);
      }),
      // Seeded by the run (spec/setup/seed.ts, ZIPTRACE_SEED).
      { numRuns: 300 },
    );
  });
});

describe('SpanQueue bodies', () => {
  // Bodies of 8 to 256 KB may be reused: spans of 1,000 bytes, 20 a batch, make bodies of about 20 KB.
  const large: SpanQueueLimits = { maxQueueSpans: 10_000, maxQueueBytes: 1 << 24, maxBatchSpans: 20, maxBatchBytes: 1 << 22 };
  let n = 0;
  function fill(queue: SpanQueue, count = 20, bytes = 1_000): string[] {
    const texts = Array.from({ length: count }, () => json(n++ % 1000, bytes));
    for (const text of texts) expect(queue.add(text)).toBeUndefined();
    return texts;
  }
  const store = (batch: Batch): ArrayBufferLike => batchJson(batch).buffer;
  const text = (batch: Batch): string => Buffer.from(batchJson(batch)).toString('utf8');

  it("writes a later body over a delivered batch's body only when told nothing reads it any more", () => {
    const queue = new SpanQueue(large);
    fill(queue);
    const a = queue.take()!;
    expect(batchJsonBytes(a)).toBeGreaterThan(8192);
    queue.delivered(a, true);
    const texts = fill(queue);
    const b = queue.take()!;
    expect(store(b)).toBe(store(a));
    expect(text(b)).toBe(`[${texts.join(',')}]`);
    // Delivered without the word: its body is the caller's still, and the next is written elsewhere.
    queue.delivered(b);
    const kept = text(b);
    fill(queue);
    const c = queue.take()!;
    expect(store(c)).not.toBe(store(b));
    expect(text(b)).toBe(kept);
    // Dropped or split batches' bodies are never reused.
    queue.drop(c, 'closed');
    fill(queue);
    expect(store(queue.take()!)).not.toBe(store(c));
  });

  it('never gives one store to two batches in flight, keeps at most two, none after dropAll', () => {
    const queue = new SpanQueue(large);
    const first = [1, 2, 3].map(() => (fill(queue), queue.take()!));
    expect(new Set(first.map(store)).size).toBe(3);
    for (const batch of first) queue.delivered(batch, true);
    // Telling twice does not keep a store twice.
    queue.delivered(first[0]!, true);
    const texts = [1, 2, 3].map(() => fill(queue));
    const second = texts.map(() => queue.take()!);
    second.forEach((batch, i) => expect(text(batch)).toBe(`[${texts[i]!.join(',')}]`));
    expect(new Set(second.map(store)).size).toBe(3);
    expect(second.filter((batch) => first.some((old) => store(old) === store(batch)))).toHaveLength(2);
    for (const batch of second) queue.delivered(batch, true);
    queue.dropAll('closed');
    fill(queue);
    const after = queue.take()!;
    expect([...first, ...second].some((old) => store(old) === store(after))).toBe(false);
  });

  it('keeps no body smaller than 8 KB nor larger than 256 KB', () => {
    const queue = new SpanQueue({ ...large, maxBatchSpans: 300 });
    // 300 spans of 1,000 bytes: a body of about 300 KB.
    fill(queue, 300);
    const big = queue.take()!;
    expect(batchJsonBytes(big)).toBeGreaterThan(256 * 1024);
    queue.delivered(big, true);
    fill(queue, 300);
    expect(store(queue.take()!)).not.toBe(store(big));
    // A small body is a slice of Node's shared pool: the batch carries no store to keep.
    fill(queue, 2, 100);
    const small = queue.take()!;
    expect(small.store).toBeUndefined();
  });
});

describe('SpanQueue.addFinished', () => {
  // Finished spans as the tracer hands them over, some with non-ASCII text, some larger than the chunks below.
  const finished: { span: FinishedSpan; endpointPart: string; text: string }[] = [];
  const collecting = {
    report(): void {},
    [REPORT_FINISHED](span: FinishedSpan, endpointPart: string): void {
      finished.push({ span, endpointPart, text: encodeFinishedSpan(span, endpointPart) });
    },
  };
  const tracer = createTracer({ serviceName: 'queue-spec', reporter: collecting, global: false });
  for (let i = 0; i < 40; i++) {
    tracer.withSpan(i % 3 === 0 ? `naïve ${i} 😀` : `op ${i}`, { kind: 'CLIENT', tags: { i, pad: (i % 2 ? 'é' : 'x').repeat((i * 97) % 2500) } }, (span) => {
      if (i % 4 === 0) span.annotate('ws');
    });
  }

  it('queues each span as the bytes of its text, across chunks and in chunks of its own, in order (seeded)', () => {
    type Op = { op: 'finished'; which: number } | { op: 'text'; bytes: number } | { op: 'take' } | { op: 'deliver' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.nat(finished.length - 1).map((which): Op => ({ op: 'finished', which })) },
      { weight: 2, arbitrary: fc.integer({ min: 20, max: 300 }).map((bytes): Op => ({ op: 'text', bytes })) },
      { weight: 3, arbitrary: fc.constant<Op>({ op: 'take' }) },
      { weight: 2, arbitrary: fc.constant<Op>({ op: 'deliver' }) },
    );
    fc.assert(
      // Chunks from a little over one head's room to a few spans: spans cross chunks, the large ones get their own.
      fc.property(fc.integer({ min: HEAD_ROOM + 200, max: 4096 }), fc.array(op, { maxLength: 120 }), (chunkBytes, ops) => {
        const queue = new SpanQueue({ maxQueueSpans: 1000, maxQueueBytes: 1 << 20, maxBatchSpans: 5, maxBatchBytes: 1 << 20 }, chunkBytes);
        let waiting: string[] = [];
        const flying: { batch: Batch; body: string }[] = [];
        let n = 0;
        for (const step of ops) {
          if (step.op === 'finished') {
            const { span, endpointPart, text } = finished[step.which]!;
            expect(queue.addFinished(span, endpointPart)).toBeUndefined();
            waiting.push(text);
          } else if (step.op === 'text') {
            const text = `{"n":${n++},"s":"${'ü€'.repeat(step.bytes % 40)}${'x'.repeat(step.bytes)}"}`;
            expect(queue.add(text)).toBeUndefined();
            waiting.push(text);
          } else if (step.op === 'take') {
            const batch = queue.take();
            if (batch === undefined) continue;
            const expected = waiting.splice(0, batch.count);
            const body = Buffer.from(batchJson(batch));
            expect(body.equals(Buffer.from(`[${expected.join(',')}]`))).toBe(true);
            expect(batch.bytes).toBe(expected.reduce((sum, t) => sum + Buffer.byteLength(t), 0));
            flying.push({ batch, body: body.toString('latin1') });
          } else if (flying.length > 0) {
            const { batch, body } = flying.shift()!;
            // Its own bytes, whatever was written into the chunks since.
            expect(Buffer.from(batchJson(batch)).toString('latin1')).toBe(body);
            queue.delivered(batch);
          }
          expect(queue.bytes).toBe(waiting.reduce((sum, t) => sum + Buffer.byteLength(t), 0) + flying.reduce((sum, f) => sum + f.batch.bytes, 0));
        }
        waiting = [];
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a span when the queue is full by spans without writing it, and counts it', () => {
    const queue = new SpanQueue({ maxQueueSpans: 2, maxQueueBytes: 1 << 20, maxBatchSpans: 10, maxBatchBytes: 1 << 20 });
    const [a, b, c] = finished;
    expect(queue.addFinished(a!.span, a!.endpointPart)).toBeUndefined();
    expect(queue.addFinished(b!.span, b!.endpointPart)).toBeUndefined();
    expect(queue.addFinished(c!.span, c!.endpointPart)).toBe('queueFull');
    expect(queue).toMatchObject({ reported: 3, spans: 2, dropped: { queueFull: 1 } });
    expect(queue.take()!.spans).toEqual([a!.text, b!.text]);
  });
});
