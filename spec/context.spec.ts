/**
 * Context propagation (lib/context.ts, through the tracer and free functions):
 * the active span follows the async flow that started it — across await,
 * Promise.all, timers, setImmediate, nextTick, async generators and bound
 * event emitters — and never leaks into the caller or into another flow.
 */
import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createTracer,
  currentSpan,
  MemoryReporter,
  setGlobalTracer,
  startSpan,
  withSpan,
  type Span,
  type TraceContext,
  type Tracer,
  type ZipkinSpan,
} from '../lib/index.js';
import { clearGlobalTracerAfterEach, memoryTracer, only, seededRandom, sleep } from './helpers/tracing.js';

clearGlobalTracerAfterEach();

const setup = (): { tracer: Tracer; reporter: MemoryReporter } => memoryTracer('context-spec');

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const tick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));


function activeId(): string | undefined {
  return currentSpan()?.context.spanId;
}

/** The name of the active span (a recording span keeps it as `_name`), or undefined when none is active. */
function activeName(): string | undefined {
  return (currentSpan() as { _name?: string } | undefined)?._name;
}

describe('withSpan activation', () => {
  it('makes the span active inside fn only, and passes that span to fn', () => {
    const { tracer } = setup();
    expect(currentSpan()).toBeUndefined();
    let inside: Span | undefined;
    let given: Span | undefined;
    tracer.withSpan('a', (span) => {
      given = span;
      inside = currentSpan();
    });
    expect(inside).toBe(given);
    expect(inside!.context.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(currentSpan()).toBeUndefined();
  });

  it('nests withSpan inside withSpan and restores the outer span afterwards (sync)', () => {
    const { tracer, reporter } = setup();
    tracer.withSpan('outer', (outer) => {
      tracer.withSpan('inner', (inner) => {
        expect(currentSpan()).toBe(inner);
        expect(inner.context.parentId).toBe(outer.context.spanId);
        expect(inner.context.traceId).toBe(outer.context.traceId);
      });
      expect(currentSpan()).toBe(outer);
    });
    expect(currentSpan()).toBeUndefined();
    expect(only(reporter, 'inner').parentId).toBe(only(reporter, 'outer').id);
  });

  it('never leaks into the caller: not after a sync return, nor while an un-awaited async withSpan runs (no enterWith)', async () => {
    const { tracer } = setup();
    tracer.withSpan('sync', () => 1);
    expect(currentSpan()).toBeUndefined();

    const pending = tracer.withSpan('async', async () => {
      await sleep(5);
      return 2;
    });
    expect(currentSpan()).toBeUndefined();
    await expect(pending).resolves.toBe(2);
    expect(currentSpan()).toBeUndefined();

    await tracer.withSpan('outer', async (outer) => {
      const inner = tracer.withSpan('inner', async (span) => {
        await tick();
        expect(currentSpan()).toBe(span);
        await sleep(2);
        expect(currentSpan()).toBe(span);
      });
      expect(currentSpan()).toBe(outer);
      await inner;
      expect(currentSpan()).toBe(outer);
      try {
        tracer.withSpan('throws', () => {
          throw new Error('x');
        });
      } catch {
        // expected
      }
      expect(currentSpan()).toBe(outer);
    });
    expect(currentSpan()).toBeUndefined();
  });
});

describe('propagation across async boundaries', () => {
  it('keeps the span across await and parents children started after it', async () => {
    const { tracer, reporter } = setup();
    await tracer.withSpan('root', async (root) => {
      await null;
      expect(currentSpan()).toBe(root);
      await sleep(1);
      expect(currentSpan()).toBe(root);
      await immediate();
      startSpan('after-await').finish();
    });
    const root = only(reporter, 'root');
    const child = only(reporter, 'after-await');
    expect(child.parentId).toBe(root.id);
    expect(child.traceId).toBe(root.traceId);
  });

  it('keeps each Promise.all branch in its own span', async () => {
    const { tracer, reporter } = setup();
    await tracer.withSpan('root', async () => {
      await Promise.all(
        [3, 1, 2, 0].map((delay, i) =>
          tracer.withSpan(`branch-${i}`, async (branch) => {
            await sleep(delay);
            expect(currentSpan()).toBe(branch);
            startSpan(`leaf-${i}`).finish();
            await immediate();
            expect(currentSpan()).toBe(branch);
          }),
        ),
      );
    });
    const root = only(reporter, 'root');
    for (let i = 0; i < 4; i++) {
      const branch = only(reporter, `branch-${i}`);
      expect(branch.parentId).toBe(root.id);
      expect(only(reporter, `leaf-${i}`).parentId).toBe(branch.id);
      expect(only(reporter, `leaf-${i}`).traceId).toBe(root.traceId);
    }
  });

  it('carries the span into setTimeout, setInterval, setImmediate, process.nextTick and queueMicrotask callbacks', async () => {
    const { tracer } = setup();
    const seen: Record<string, string | undefined> = {};
    let expected = '';
    const done = new Promise<void>((resolve) => {
      let left = 5;
      const mark = (key: string) => () => {
        seen[key] = activeId();
        if (--left === 0) resolve();
      };
      tracer.withSpan('scheduler', (span) => {
        expected = span.context.spanId;
        setTimeout(mark('setTimeout'), 2);
        const interval = setInterval(() => {
          clearInterval(interval);
          mark('setInterval')();
        }, 1);
        setImmediate(mark('setImmediate'));
        process.nextTick(mark('nextTick'));
        queueMicrotask(mark('queueMicrotask'));
      });
    });
    // The span finished when withSpan returned; the callbacks still belong to it.
    expect(currentSpan()).toBeUndefined();
    await done;
    expect(seen).toEqual({
      setTimeout: expected,
      setInterval: expected,
      setImmediate: expected,
      nextTick: expected,
      queueMicrotask: expected,
    });
  });

  it('does not give a span to callbacks scheduled outside any span', async () => {
    const { tracer } = setup();
    let seen: string | undefined = 'unset';
    const fired = new Promise<void>((resolve) =>
      setTimeout(() => {
        seen = activeId();
        resolve();
      }, 5),
    );
    // A span is active (and running) when the timer fires, but the timer was scheduled outside it.
    await tracer.withSpan('busy', async () => {
      await sleep(15);
    });
    await fired;
    expect(seen).toBeUndefined();
  });

  it('keeps the span inside async generators iterated within it', async () => {
    const { tracer, reporter } = setup();
    async function* numbers(): AsyncGenerator<string | undefined> {
      for (let i = 0; i < 3; i++) {
        await sleep(1);
        startSpan(`gen-${i}`).finish();
        yield activeId();
        await immediate();
      }
    }
    const seen: (string | undefined)[] = [];
    let rootId = '';
    await tracer.withSpan('consumer', async (span) => {
      rootId = span.context.spanId;
      for await (const id of numbers()) {
        seen.push(id);
        await tick();
        expect(currentSpan()).toBe(span);
      }
    });
    expect(seen).toEqual([rootId, rootId, rootId]);
    for (let i = 0; i < 3; i++) expect(only(reporter, `gen-${i}`).parentId).toBe(rootId);
  });

  it('an async generator that opens a span per item parents the items under it', async () => {
    const { tracer, reporter } = setup();
    async function* pages(): AsyncGenerator<number> {
      for (let i = 0; i < 2; i++) {
        yield await tracer.withSpan(`page-${i}`, async () => {
          await sleep(1);
          startSpan(`fetch-${i}`).finish();
          return i;
        });
      }
    }
    await tracer.withSpan('walk', async () => {
      const got: number[] = [];
      for await (const n of pages()) got.push(n);
      expect(got).toEqual([0, 1]);
    });
    const walk = only(reporter, 'walk');
    for (let i = 0; i < 2; i++) {
      const page = only(reporter, `page-${i}`);
      expect(page.parentId).toBe(walk.id);
      expect(only(reporter, `fetch-${i}`).parentId).toBe(page.id);
    }
  });
});

describe('bind', () => {
  it('binds a function to the active span, keeping this, arguments and return value', () => {
    const { tracer } = setup();
    let bound: ((this: { k: number }, a: number, b: number) => string) | undefined;
    let spanId = '';
    tracer.withSpan('binder', (span) => {
      spanId = span.context.spanId;
      bound = tracer.bind(function (this: { k: number }, a: number, b: number) {
        return `${this.k}:${a + b}:${activeId()}`;
      });
    });
    expect(currentSpan()).toBeUndefined();
    const holder = { k: 7, bound: bound! };
    expect(holder.bound(1, 2)).toBe(`7:3:${spanId}`);
    expect(bound!.length).toBe(2);
    // Called from inside another span, the bound function still sees its own.
    tracer.withSpan('other', () => {
      expect(holder.bound(0, 0)).toBe(`7:0:${spanId}`);
    });
  });

  it('binds to an explicit span, a context, or to no span at all (null)', () => {
    const { tracer } = setup();
    const span = tracer.startSpan('explicit');
    const context: TraceContext = {
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
      sampled: true,
      debug: false,
      shared: false,
    };
    const toSpan = tracer.bind(() => currentSpan(), span);
    const toContext = tracer.bind(() => currentSpan()?.context, context);
    const toNone = tracer.bind(() => currentSpan(), null);
    tracer.withSpan('caller', () => {
      expect(toSpan()).toBe(span);
      expect(toContext()).toEqual(context);
      expect(toNone()).toBeUndefined();
    });
    expect(() => tracer.bind(42 as unknown as () => void)).toThrow(TypeError);
  });
});

describe('withActive', () => {
  it('runs fn with a span, a context, or nothing active, returning its value', async () => {
    const { tracer, reporter } = setup();
    const span = tracer.startSpan('made');
    expect(tracer.withActive(span, () => currentSpan())).toBe(span);
    expect(currentSpan()).toBeUndefined();

    const remote: TraceContext = { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), sampled: true, debug: false, shared: false };
    await tracer.withActive(remote, async () => {
      expect(currentSpan()!.context.traceId).toBe(remote.traceId);
      await sleep(1);
      tracer.startSpan('under-remote').finish();
    });
    const child = only(reporter, 'under-remote');
    expect(child.traceId).toBe('c'.repeat(32));
    expect(child.parentId).toBe('d'.repeat(16));

    tracer.withSpan('active', () => {
      expect(tracer.withActive(null, () => currentSpan())).toBeUndefined();
      tracer.withActive(null, () => tracer.startSpan('fresh-root').finish());
    });
    expect(only(reporter, 'fresh-root').parentId).toBeUndefined();
    expect(() => tracer.withActive(span, undefined as unknown as () => void)).toThrow(TypeError);
  });
});

describe('bindEmitter', () => {
  it('runs listeners added after binding in the bound span, whoever emits', () => {
    const { tracer, reporter } = setup();
    const emitter = new EventEmitter();
    const seen: Record<string, (string | undefined)[]> = { before: [], after: [], once: [], prepend: [], prependOnce: [], addListener: [] };
    emitter.on('data', () => seen.before!.push(activeId()));
    let bindId = '';
    tracer.withSpan('binder', (span) => {
      bindId = span.context.spanId;
      expect(tracer.bindEmitter(emitter)).toBe(emitter);
    });
    const self: unknown[] = [];
    emitter.on('data', function (this: unknown, value: unknown) {
      self.push(this, value);
      seen.after!.push(activeId());
      startSpan('from-listener').finish();
    });
    emitter.addListener('data', () => seen.addListener!.push(activeId()));
    emitter.once('data', () => seen.once!.push(activeId()));
    emitter.prependListener('data', () => seen.prepend!.push(activeId()));
    emitter.prependOnceListener('data', () => seen.prependOnce!.push(activeId()));

    let emitterId = '';
    tracer.withSpan('emitter', (span) => {
      emitterId = span.context.spanId;
      emitter.emit('data', 'v1');
    });
    emitter.emit('data', 'v2');
    expect(seen).toEqual({
      before: [emitterId, undefined],
      after: [bindId, bindId],
      addListener: [bindId, bindId],
      once: [bindId],
      prepend: [bindId, bindId],
      prependOnce: [bindId],
    });
    expect(self).toEqual([emitter, 'v1', emitter, 'v2']);
    const fromListener = reporter.byName('from-listener');
    expect(fromListener.map((s) => s.parentId)).toEqual([bindId, bindId]);
  });

  it('an emitter bound outside any span runs later listeners outside any span, even when emitted inside one', () => {
    const { tracer } = setup();
    const emitter = tracer.bindEmitter(new EventEmitter());
    const seen: (string | undefined)[] = [];
    emitter.on('e', () => seen.push(activeId()));
    tracer.withSpan('emitting', () => emitter.emit('e'));
    expect(seen).toEqual([undefined]);
  });

  it('binds to an explicit target, and re-binding changes the span for listeners added afterwards', () => {
    const { tracer } = setup();
    const emitter = new EventEmitter();
    const first = tracer.startSpan('first');
    const second = tracer.startSpan('second');
    tracer.bindEmitter(emitter, first);
    const seen: string[] = [];
    emitter.on('e', () => seen.push(`a:${activeId()}`));
    tracer.bindEmitter(emitter, second);
    emitter.on('e', () => seen.push(`b:${activeId()}`));
    emitter.emit('e');
    expect(seen).toEqual([`a:${first.context.spanId}`, `b:${second.context.spanId}`]);
    expect(() => tracer.bindEmitter({} as EventEmitter)).toThrow(TypeError);
  });

  it('off/removeListener take the original function for on, addListener and prependListener listeners', () => {
    const { tracer } = setup();
    const emitter = new EventEmitter();
    tracer.withSpan('binder', () => tracer.bindEmitter(emitter));
    const calls: string[] = [];
    const a = () => calls.push('a');
    const b = () => calls.push('b');
    const c = () => calls.push('c');
    emitter.on('x', a);
    emitter.addListener('x', b);
    emitter.prependListener('x', c);
    expect(emitter.listenerCount('x')).toBe(3);
    emitter.off('x', a);
    emitter.removeListener('x', b);
    emitter.off('x', c);
    expect(emitter.listenerCount('x')).toBe(0);
    emitter.emit('x');
    expect(calls).toEqual([]);

    // The same function added twice: each removal takes away one.
    emitter.on('y', a);
    emitter.on('y', a);
    emitter.off('y', a);
    expect(emitter.listenerCount('y')).toBe(1);
    emitter.emit('y');
    expect(calls).toEqual(['a']);
    emitter.off('y', a);
    expect(emitter.listenerCount('y')).toBe(0);

    // Listeners added before binding can still be removed.
    const plain = new EventEmitter();
    plain.on('z', a);
    tracer.bindEmitter(plain);
    plain.off('z', a);
    expect(plain.listenerCount('z')).toBe(0);
  });

  it('a once listener fires once, in the bound span, and is then gone', () => {
    const { tracer } = setup();
    const emitter = new EventEmitter();
    let bindId = '';
    tracer.withSpan('binder', (span) => {
      bindId = span.context.spanId;
      tracer.bindEmitter(emitter);
    });
    const seen: (string | undefined)[] = [];
    emitter.once('x', () => seen.push(activeId()));
    emitter.emit('x');
    emitter.emit('x');
    expect(seen).toEqual([bindId]);
    expect(emitter.listenerCount('x')).toBe(0);
  });

  // Regression: Node's once()/prependOnceListener() add their onceWrapper through
  // this.on()/this.prependListener(), which are patched too; wrapping it again lost the
  // `.listener` back-reference, so removeListener(event, original) matched nothing.
  it('off/removeListener take the original function for once and prependOnceListener listeners', () => {
    const { tracer } = setup();
    const emitter = new EventEmitter();
    tracer.withSpan('binder', () => tracer.bindEmitter(emitter));
    const calls: string[] = [];
    const a = () => calls.push('a');
    const b = () => calls.push('b');
    emitter.once('x', a);
    emitter.prependOnceListener('x', b);
    expect(emitter.listenerCount('x')).toBe(2);
    emitter.off('x', a);
    emitter.removeListener('x', b);
    expect(emitter.listenerCount('x')).toBe(0);
    emitter.emit('x');
    expect(calls).toEqual([]);
  });
});

  it('listeners() and rawListeners() still show the app its own listeners: each bound one says which it wraps', () => {
    const { tracer } = setup();
    const emitter = new EventEmitter();
    tracer.withSpan('binder', () => tracer.bindEmitter(emitter));
    const a = (): void => {};
    const b = (): void => {};
    emitter.on('x', a);
    emitter.once('x', b);
    expect(emitter.listeners('x')).toHaveLength(2);
    expect(emitter.listeners('x')[0]).toBe(a);
    // The once listener's wrappers are Node's and ours: what the app added is not among them as it is.
    expect(emitter.rawListeners('x')[0]).not.toBe(a);
    expect((emitter.rawListeners('x')[0] as { listener?: unknown }).listener).toBe(a);
    emitter.removeListener('x', a);
    emitter.removeListener('x', b);
    expect(emitter.listenerCount('x')).toBe(0);
  });

  it('removeListener takes the most recently added of a listener added twice, once by on() and once by once()', () => {
    const { tracer } = setup();
    const emitter = new EventEmitter();
    const seen: (string | undefined)[] = [];
    const listener = (): void => void seen.push(activeName());
    tracer.withSpan('binder', () => tracer.bindEmitter(emitter));
    emitter.once('x', listener);
    emitter.on('x', listener);
    emitter.removeListener('x', listener);
    expect(emitter.listenerCount('x')).toBe(1);
    emitter.emit('x');
    emitter.emit('x');
    // Node removes the on() one (added last); the once() one fires once, in the bound span.
    expect(seen).toEqual(['binder']);
    expect(emitter.listenerCount('x')).toBe(0);
  });

  it('a bound emitter method called on another emitter adds the listener there, bound to the first one’s span', () => {
    const { tracer } = setup();
    const bound = new EventEmitter();
    tracer.withSpan('binder', () => tracer.bindEmitter(bound));
    const other = new EventEmitter();
    const seen: (string | undefined)[] = [];
    const listener = (): void => void seen.push(activeName());
    bound.on.call(other, 'x', listener);
    tracer.withSpan('emitter', () => other.emit('x'));
    bound.removeListener.call(other, 'x', listener);
    other.emit('x');
    expect(seen).toEqual(['binder']);
    expect(other.listenerCount('x')).toBe(0);
  });

  it('util.inspect of a bound emitter shows its binding as one word, not the span and tracer it holds', () => {
    const { tracer } = setup();
    const emitter = new EventEmitter();
    tracer.withSpan('a-span-name-to-look-for', () => tracer.bindEmitter(emitter));
    const text = inspect(emitter, { depth: 4 });
    expect(text).toContain('[ziptrace binding]');
    expect(text).not.toContain('a-span-name-to-look-for');
    expect(JSON.stringify(Object.keys(emitter))).not.toContain('binding');
  });

  it('two bound emitters keep their own spans and listeners', () => {
    const { tracer } = setup();
    const first = new EventEmitter();
    const second = new EventEmitter();
    tracer.withSpan('first', () => tracer.bindEmitter(first));
    tracer.withSpan('second', () => tracer.bindEmitter(second));
    const seen: (string | undefined)[] = [];
    const listener = (): void => void seen.push(activeName());
    first.on('x', listener);
    second.on('x', listener);
    first.emit('x');
    second.emit('x');
    first.off('x', listener);
    first.emit('x');
    second.emit('x');
    expect(seen).toEqual(['first', 'second', 'second']);
  });

describe('isolation between concurrent flows', () => {
  it('1,000 concurrent flows with random awaits and timers never see each other’s spans', async () => {
    const { tracer, reporter } = setup();
    const FLOWS = 1000;
    let mismatches = 0;
    const check = (expected: Span): void => {
      if (currentSpan() !== expected) mismatches++;
    };
    const random = seededRandom();
    const randomPause = (): Promise<void> => {
      const r = random();
      if (r < 0.2) return Promise.resolve();
      if (r < 0.4) return tick();
      if (r < 0.6) return immediate();
      return sleep(Math.floor(random() * 4));
    };
    // name -> name of its expected parent (undefined for roots); every flow's spans are suffixed with -i.
    const shape: Record<string, string | undefined> = {
      root: undefined,
      a: 'root',
      a1: 'a',
      p0: 'a',
      p1: 'a',
      p2: 'a',
      pc0: 'p0',
      pc1: 'p1',
      pc2: 'p2',
      timer: 'a',
      immediate: 'a',
      nexttick: 'a',
      emitted: 'root',
      gen: 'root',
    };

    async function flow(i: number): Promise<void> {
      const emitter = new EventEmitter();
      await withSpan(`root-${i}`, async (root) => {
        tracer.bindEmitter(emitter);
        emitter.on('go', () => {
          check(root);
          startSpan(`emitted-${i}`).finish();
        });
        await randomPause();
        check(root);
        await withSpan(`a-${i}`, { kind: 'CLIENT' }, async (a) => {
          await randomPause();
          check(a);
          startSpan(`a1-${i}`).finish();
          await Promise.all(
            [0, 1, 2].map((k) =>
              withSpan(`p${k}-${i}`, async (p) => {
                await randomPause();
                check(p);
                await randomPause();
                startSpan(`pc${k}-${i}`).finish();
                check(p);
              }),
            ),
          );
          check(a);
          await new Promise<void>((resolve) =>
            setTimeout(() => {
              check(a);
              startSpan(`timer-${i}`).finish();
              resolve();
            }, Math.floor(random() * 5)),
          );
          await new Promise<void>((resolve) =>
            setImmediate(() => {
              check(a);
              startSpan(`immediate-${i}`).finish();
              resolve();
            }),
          );
          await new Promise<void>((resolve) =>
            process.nextTick(() => {
              check(a);
              startSpan(`nexttick-${i}`).finish();
              resolve();
            }),
          );
        });
        check(root);
        async function* gen(): AsyncGenerator<void> {
          await randomPause();
          check(root);
          startSpan(`gen-${i}`).finish();
          yield;
        }
        for await (const _ of gen()) await randomPause();
        check(root);
      });
      // The emitter fires later, from some other flow's turn: the bound span still wins.
      await randomPause();
      emitter.emit('go');
    }

    await Promise.all(Array.from({ length: FLOWS }, (_, i) => flow(i)));
    expect(mismatches).toBe(0);
    expect(reporter.spans).toHaveLength(FLOWS * Object.keys(shape).length);

    const byName = new Map<string, ZipkinSpan>();
    for (const span of reporter.spans) {
      expect(byName.has(span.name!), `duplicate span ${span.name}`).toBe(false);
      byName.set(span.name!, span);
    }
    const traceIds = new Set<string>();
    let verified = 0;
    for (let i = 0; i < FLOWS; i++) {
      const root = byName.get(`root-${i}`)!;
      expect(root.parentId).toBeUndefined();
      traceIds.add(root.traceId);
      for (const [name, parent] of Object.entries(shape)) {
        if (parent === undefined) continue;
        const span = byName.get(`${name}-${i}`);
        const parentSpan = byName.get(`${parent}-${i}`);
        expect(span, `${name}-${i}`).toBeDefined();
        expect(span!.traceId, `${name}-${i} traceId`).toBe(root.traceId);
        expect(span!.parentId, `${name}-${i} parentId`).toBe(parentSpan!.id);
        verified++;
      }
    }
    expect(traceIds.size).toBe(FLOWS);
    expect(verified).toBe(FLOWS * (Object.keys(shape).length - 1));
    expect(currentSpan()).toBeUndefined();
  });
});
