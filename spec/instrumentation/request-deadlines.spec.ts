/**
 * lib/instrumentation/request-deadlines.ts: the in-flight requests of one
 * timeout in start order, with one timer for all. Real timers, short timeouts.
 */
import { describe, expect, it, vi } from 'vitest';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Deadlines, type DeadlineEntry } from '../../lib/instrumentation/request-deadlines.js';
import { storage } from '../../lib/context.js';
import { sleep } from '../helpers/tracing.js';

interface Entry extends DeadlineEntry {
  id: number;
}

const entry = (id: number): Entry => ({ id, _deadline: 0, _older: undefined, _newer: undefined, _listed: false });

describe('Deadlines', () => {
  it('expires only what is still listed at its deadline, oldest first, each once', async () => {
    const expired: number[] = [];
    const list = new Deadlines<Entry>(60, (e) => expired.push(e.id));
    const entries = [1, 2, 3, 4, 5].map(entry);
    for (const e of entries) list.add(e);
    list.remove(entries[1]!);
    list.remove(entries[3]!);
    list.remove(entries[3]!); // twice: nothing
    expect(list.size).toBe(3);
    await sleep(30);
    expect(expired).toEqual([]);
    await sleep(150);
    expect(expired).toEqual([1, 3, 5]);
    expect(list.size).toBe(0);
    expect(list.armed).toBe(false);
    for (const e of entries) expect(e._older === undefined && e._newer === undefined && !e._listed).toBe(true);
  });

  it('keeps one timer for any number of entries, and none once the list is empty and due', async () => {
    // The real setTimeout, counted.
    const set = vi.spyOn(globalThis, 'setTimeout');
    try {
      const list = new Deadlines<Entry>(40, () => {});
      const entries = Array.from({ length: 500 }, (_, i) => entry(i));
      for (const e of entries) list.add(e);
      expect(set).toHaveBeenCalledTimes(1);
      expect(list.armed).toBe(true);
      for (const e of entries) list.remove(e);
      expect(list.size).toBe(0);
      // The timer is left to fire at the old deadline (removing does not move it); it then finds nothing and stops.
      await sleep(120);
      expect(list.armed).toBe(false);
      expect(set.mock.calls.filter(([, ms]) => ms === 40)).toHaveLength(1);
    } finally {
      set.mockRestore();
    }
  });

  it('waits again for a newer entry when the oldest ended early, and expires it on time, not before', async () => {
    const expiredAt = new Map<number, number>();
    const list = new Deadlines<Entry>(80, (e) => expiredAt.set(e.id, performance.now()));
    const first = entry(1);
    list.add(first);
    await sleep(40);
    const second = entry(2);
    const addedAt = performance.now();
    list.add(second);
    list.remove(first);
    await sleep(250);
    expect([...expiredAt.keys()]).toEqual([2]);
    expect(expiredAt.get(2)! - addedAt).toBeGreaterThanOrEqual(79);
  });

  it('expires the rest when one expire callback throws', async () => {
    const expired: number[] = [];
    const list = new Deadlines<Entry>(20, (e) => {
      expired.push(e.id);
      if (e.id === 1) throw new Error('boom');
    });
    for (const id of [1, 2, 3]) list.add(entry(id));
    await sleep(120);
    expect(expired).toEqual([1, 2, 3]);
  });

  it('expires in no request’s context: neither ziptrace’s span nor an app’s store of the request that set the timer', async () => {
    const app = new AsyncLocalStorage<{ tenant: string }>();
    const seen: unknown[] = [];
    const list = new Deadlines<Entry>(30, () => seen.push({ app: app.getStore(), span: storage.getStore() }));
    const span = { context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) } } as never;
    app.run({ tenant: 'a' }, () => storage.run(span, () => list.add(entry(1))));
    await sleep(15);
    // Set again from the first expiry's callback, for this one: still in no request's context.
    app.run({ tenant: 'b' }, () => list.add(entry(2)));
    await sleep(150);
    expect(seen).toEqual([
      { app: undefined, span: undefined },
      { app: undefined, span: undefined },
    ]);
  });

  it('moves an entry added again to the end, and keeps the timer an expiry’s own add() set, with no second beside it', async () => {
    const timerOf = (list: Deadlines<Entry>): unknown => (list as unknown as { timer: unknown }).timer;
    const expired: number[] = [];
    const third = entry(3);
    let setInCallback: unknown;
    const list = new Deadlines<Entry>(25, (e) => {
      expired.push(e.id);
      if (e.id === 1) {
        list.add(third);
        setInCallback = timerOf(list);
      }
    });
    const first = entry(1);
    const second = entry(2);
    list.add(first);
    list.add(second);
    list.add(first);
    expect(list.size).toBe(2);
    while (!expired.includes(1)) await sleep(2);
    expect(setInCallback).toBeDefined();
    expect(timerOf(list)).toBe(setInCallback);
    while (!expired.includes(3)) await sleep(2);
    expect(expired).toEqual([2, 1, 3]);
    expect(list.armed).toBe(false);
  });

  it('with clearWhenEmpty, clears its timer when its last entry is removed', () => {
    const list = new Deadlines<Entry>(60_000, () => {}, true);
    const e = entry(1);
    list.add(e);
    expect(list.armed).toBe(true);
    list.remove(e);
    expect(list.armed).toBe(false);
  });

  it('does not keep the process alive: its timer is unref’d', () => {
    const list = new Deadlines<Entry>(60_000, () => {});
    const e = entry(1);
    list.add(e);
    const timer = (list as unknown as { timer: NodeJS.Timeout }).timer;
    expect(timer.hasRef()).toBe(false);
    list.remove(e);
  });
});
