/**
 * The exit-flush registry in this process: one beforeExit listener however
 * many reporters register, removed after the last leaves; each live one
 * flushed when it runs; dropped ones forgotten once collected (in-process
 * gc, as in http.spec.ts). The listener is called directly rather than by
 * emitting beforeExit, which would run the test runner's own listeners too.
 * A real process exiting is in process.spec.ts.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { runtime } from '../../lib/context.js';
import { registerExitFlush, unregisterExitFlush, type ExitFlushable, type ExitFlushEntry } from '../../lib/reporting/exit-flush.js';
import { sleep } from '../helpers/collector.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

interface Registry {
  entries: Set<ExitFlushEntry>;
  listener: (() => void) | undefined;
}
const registry = (runtime as unknown as Record<symbol, Registry>)[Symbol.for('ziptrace.exit-flush.v2')]!;

const registered: ExitFlushEntry[] = [];
afterEach(() => {
  for (const entry of registered.splice(0)) unregisterExitFlush(entry);
});

function flushable(): ExitFlushable & { flushes: number } {
  const target = {
    flushes: 0,
    exitFlush() {
      target.flushes++;
    },
  };
  return target;
}

function register(target: ExitFlushable): ExitFlushEntry {
  const entry = registerExitFlush(target);
  registered.push(entry);
  return entry;
}

/** Collects until `done()`, letting finalization callbacks run between rounds. */
async function collectUntil(done: () => boolean): Promise<boolean> {
  for (let round = 0; round < 50; round++) {
    gc();
    await sleep(10);
    if (done()) return true;
  }
  return false;
}

describe('exit-flush registry', () => {
  it('is on the shared runtime, so that copies of ziptrace share it', () => {
    expect(registry).toBeDefined();
    expect(registry.entries).toBeInstanceOf(Set);
  });

  it('adds one beforeExit listener for any number of reporters and removes it after the last leaves', () => {
    const before = process.listenerCount('beforeExit');
    const a = register(flushable());
    expect(process.listenerCount('beforeExit')).toBe(before + 1);
    const b = register(flushable());
    expect(process.listenerCount('beforeExit')).toBe(before + 1);
    unregisterExitFlush(a);
    expect(process.listenerCount('beforeExit')).toBe(before + 1);
    unregisterExitFlush(b);
    expect(process.listenerCount('beforeExit')).toBe(before);
    expect(registry.listener).toBeUndefined();
    // Leaving twice is harmless.
    unregisterExitFlush(b);
    expect(process.listenerCount('beforeExit')).toBe(before);
  });

  it('asks every registered reporter to flush each time the listener runs; not one that left', () => {
    const [a, b, c] = [flushable(), flushable(), flushable()];
    register(a);
    const entry = register(b);
    register(c);
    unregisterExitFlush(entry);
    registry.listener!();
    registry.listener!();
    expect([a.flushes, b.flushes, c.flushes]).toEqual([2, 0, 2]);
  });

  it('holds reporters weakly: a dropped one is collected and its entry forgotten; a referenced one stays and is flushed', async () => {
    const before = process.listenerCount('beforeExit');
    const kept = flushable();
    register(kept);
    let collected = false;
    const finalized = new FinalizationRegistry(() => (collected = true));
    let dropped: WeakRef<object> | undefined;
    (() => {
      const target = flushable();
      finalized.register(target, 'dropped');
      dropped = new WeakRef(target);
      register(target);
    })();
    expect(registry.entries.size).toBe(2);

    expect(await collectUntil(() => collected && registry.entries.size === 1)).toBe(true);
    expect(dropped!.deref()).toBeUndefined();
    registry.listener!();
    expect(kept.flushes).toBe(1);
    expect(process.listenerCount('beforeExit')).toBe(before + 1);
  });

  it('removes the listener once its only reporter is collected', async () => {
    const before = process.listenerCount('beforeExit');
    (() => {
      registerExitFlush(flushable());
    })();
    expect(process.listenerCount('beforeExit')).toBe(before + 1);
    expect(await collectUntil(() => registry.entries.size === 0)).toBe(true);
    expect(process.listenerCount('beforeExit')).toBe(before);
    expect(registry.listener).toBeUndefined();
  });

  it('forgets, when it runs, an entry whose reporter is gone though its finalization has not run yet', () => {
    const kept = flushable();
    register(kept);
    // A dead entry as the listener could meet it between a collection and its finalization callback.
    const dead = { deref: () => undefined } as unknown as ExitFlushEntry;
    registry.entries.add(dead);
    registry.listener!();
    expect(registry.entries.has(dead)).toBe(false);
    expect(kept.flushes).toBe(1);
  });
});
