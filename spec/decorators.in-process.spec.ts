/**
 * @traced() called in the specs' own process, without decorator syntax: the
 * decorator is a function, called here the way each of TypeScript's two modes
 * calls it — `(method, context)` for standard decorators, `(target, key,
 * descriptor)` for `experimentalDecorators`. spec/decorators.spec.ts checks
 * the real thing, compiled by tsc and run in child processes; this spec makes
 * the same code run where coverage (and a debugger) can see it.
 */
import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, setGlobalTracer, traced } from '../lib/index.js';
import { clearGlobalTracerAfterEach, memoryTracer, only, thrown } from './helpers/tracing.js';

clearGlobalTracerAfterEach();

type AnyMethod = (this: any, ...args: any[]) => any;

/** A standard-decorator context for a method, keeping the initializers for `init`. */
function methodContext(name: string | symbol, isStatic = false) {
  const initializers: ((this: unknown) => void)[] = [];
  const context = {
    kind: 'method',
    name,
    static: isStatic,
    private: false,
    metadata: {},
    access: { has: () => true, get: () => undefined },
    addInitializer: (fn: (this: unknown) => void) => initializers.push(fn),
  } as unknown as ClassMethodDecoratorContext;
  return { context, init: (self: unknown) => initializers.forEach((fn) => fn.call(self)) };
}

/** Decorates `method` as a standard decorator would on a class made here: `proto.key = wrapper`. */
function standard<T extends object>(cls: { prototype: T }, key: string, method: AnyMethod, options?: Parameters<typeof traced>[0]) {
  const { context, init } = methodContext(key);
  const wrapper = (traced(options) as unknown as (m: AnyMethod, c: ClassMethodDecoratorContext) => AnyMethod)(method, context);
  Object.defineProperty(cls.prototype, key, { value: wrapper, writable: true, configurable: true });
  return { wrapper, init };
}

/** Decorates `key` of `target` as `experimentalDecorators` would. */
function experimental(target: object, key: string, options?: Parameters<typeof traced>[0]) {
  const descriptor = Object.getOwnPropertyDescriptor(target, key)!;
  const result = (traced(options) as unknown as (t: object, k: string, d: PropertyDescriptor) => PropertyDescriptor)(target, key, descriptor);
  Object.defineProperty(target, key, result);
  return result;
}

describe('@traced() as a standard decorator', () => {
  it('names the span Class.method from the first instance, nests it under the caller and keeps name and length', () => {
    const { tracer, reporter } = memoryTracer('repo');
    class Repo {
      find(id: string, _more?: number): string {
        return `found ${id} in ${tracer.currentSpan()?.context.spanId ?? 'none'}`;
      }
    }
    const { wrapper, init } = standard(Repo, 'find', Repo.prototype.find);
    expect(wrapper.name).toBe('find');
    expect(wrapper.length).toBe(2);
    const repo = new Repo();
    init(repo);
    init(new Repo()); // a second instance changes nothing
    const result = tracer.withSpan('request', () => repo.find('7'));
    expect(result).toBe(`found 7 in ${only(reporter, 'Repo.find').id}`);
    expect(only(reporter, 'Repo.find').parentId).toBe(only(reporter, 'request').id);
  });

  it('learns the class on the first call when no initializer ran, and names a subclass call after the declaring class', () => {
    const { reporter } = memoryTracer('repo');
    class Base {
      load(): number {
        return 1;
      }
    }
    class Derived extends Base {}
    standard(Base, 'load', Base.prototype.load);
    expect(new Derived().load()).toBe(1);
    expect(reporter.spans.map((s) => s.name)).toEqual(['Base.load']);
  });

  it('names a static method after its class, from the initializer', () => {
    const { reporter } = memoryTracer('repo');
    class Cache {
      static clear(): string {
        return 'cleared';
      }
    }
    const { context, init } = methodContext('clear', true);
    const wrapper = (traced() as unknown as (m: AnyMethod, c: ClassMethodDecoratorContext) => AnyMethod)(Cache.clear, context);
    Object.defineProperty(Cache, 'clear', { value: wrapper, configurable: true });
    init(Cache);
    expect(Cache.clear()).toBe('cleared');
    expect(reporter.spans[0]!.name).toBe('Cache.clear');
  });

  it('calls a detached method anonymous.method, without fixing that name for later calls', () => {
    const { reporter } = memoryTracer('repo');
    class Svc {
      run(): string {
        return 'ran';
      }
    }
    const { wrapper } = standard(Svc, 'run', Svc.prototype.run);
    expect(wrapper.call(undefined)).toBe('ran');
    expect(new Svc().run()).toBe('ran');
    expect(reporter.spans.map((s) => s.name)).toEqual(['anonymous.run', 'Svc.run']);
  });

  it('takes the top-most class defining the method when another decorator wrapped ours', () => {
    const { reporter } = memoryTracer('repo');
    class Outer {
      go(): number {
        return 2;
      }
    }
    const { wrapper } = standard(Outer, 'go', Outer.prototype.go);
    // Another decorator on top: what the prototype holds is its wrapper, not ours.
    Object.defineProperty(Outer.prototype, 'go', { value: function go(this: unknown) { return wrapper.call(this); }, configurable: true });
    expect(new Outer().go()).toBe(2);
    expect(reporter.spans[0]!.name).toBe('Outer.go');
  });

  it('refuses what is not a method, saying what it was', () => {
    const decorate = traced() as unknown as (m: unknown, c: unknown) => unknown;
    expect(() => decorate(undefined, { kind: 'field', name: 'x' })).toThrow(InvalidArgumentError);
    expect(() => decorate(undefined, { kind: 'field', name: 'x' })).toThrow('@traced() decorates methods, not a field (x)');
    expect(() => decorate(() => 1, { kind: 'accessor', name: 'y' })).toThrow('not an accessor (y)');
    expect(() => decorate({}, { kind: 'method', name: 'z' })).toThrow('not a method (z)');
  });
});

describe('@traced() with experimentalDecorators', () => {
  it('wraps descriptor.value, named after the prototype’s class or the class itself', () => {
    const { reporter } = memoryTracer('repo');
    class Orders {
      list(): string[] {
        return ['a'];
      }
      static count(): number {
        return 1;
      }
    }
    experimental(Orders.prototype, 'list');
    experimental(Orders, 'count');
    expect(new Orders().list()).toEqual(['a']);
    expect(Orders.count()).toBe(1);
    expect(reporter.spans.map((s) => s.name)).toEqual(['Orders.list', 'Orders.count']);
  });

  it('refuses a property without a function value', () => {
    const decorate = traced() as unknown as (t: object, k: string, d?: PropertyDescriptor) => unknown;
    expect(() => decorate({}, 'x', { value: 1 })).toThrow('@traced() decorates methods, not x: it has no function value');
    expect(() => decorate({}, 'y')).toThrow(InvalidArgumentError);
  });

  it('carries reflect-metadata from the method to the wrapper', () => {
    memoryTracer('repo');
    class Ctrl {
      get(): number {
        return 1;
      }
    }
    Reflect.defineMetadata('route', '/items', Ctrl.prototype.get);
    const { value } = experimental(Ctrl.prototype, 'get');
    expect(Reflect.getOwnMetadata('route', value as object)).toBe('/items');
  });
});

describe('@traced() options', () => {
  it('takes a name, or options with name, kind, tags and a tracer of their own', () => {
    const { tracer, reporter } = memoryTracer('repo', { global: false });
    class Api {
      call(): number {
        return 1;
      }
      named(): number {
        return 2;
      }
    }
    experimental(Api.prototype, 'call', { name: 'api call', kind: 'CLIENT', tags: { peer: 'db' }, tracer });
    experimental(Api.prototype, 'named', 'just a name');
    expect(new Api().call()).toBe(1);
    expect(only(reporter, 'api call')).toMatchObject({ kind: 'CLIENT', tags: { peer: 'db' } });
    // No global tracer and no active span: the method just runs.
    expect(new Api().named()).toBe(2);
    expect(reporter.byName('just a name')).toEqual([]);
    tracer.withSpan('outer', () => new Api().named());
    expect(only(reporter, 'just a name').parentId).toBe(only(reporter, 'outer').id);
  });

  it('refuses wrong options when the class is defined', () => {
    expect(() => traced('')).toThrow('@traced(name): name must be a non-empty string');
    expect(() => traced(42 as never)).toThrow(/@traced\(nameOrOptions\): expected a span name or \{ name, kind, tags, tracer \}, got/);
    expect(() => traced(null as never)).toThrow(InvalidArgumentError);
    expect(() => traced({ name: '' })).toThrow('@traced({ name }): name must be a non-empty string');
    expect(() => traced({ name: 5 as never })).toThrow('@traced({ name }): name must be a non-empty string, got');
    expect(() => traced({ kind: 'server' as never })).toThrow();
    expect(() => traced({ nmae: 'x' } as never)).toThrow();
  });
});

describe('@traced() around what a method returns', () => {
  it('marks and rethrows what a sync method throws, and what an async one rejects with', async () => {
    const { reporter } = memoryTracer('repo');
    class Work {
      fail(): never {
        throw new Error('sync boom');
      }
      async reject(): Promise<never> {
        throw new Error('async boom');
      }
      async ok(): Promise<number> {
        return 3;
      }
    }
    for (const key of ['fail', 'reject', 'ok']) experimental(Work.prototype, key);
    const work = new Work();
    expect(thrown(() => work.fail()).message).toBe('sync boom');
    await expect(work.reject()).rejects.toThrow('async boom');
    await expect(work.ok()).resolves.toBe(3);
    expect(only(reporter, 'Work.fail').tags?.error).toBe('sync boom');
    expect(only(reporter, 'Work.reject').tags?.error).toBe('async boom');
    expect(only(reporter, 'Work.ok').tags?.error).toBeUndefined();
  });

  it('keeps ignored errors off the span', () => {
    const { reporter } = memoryTracer('repo', { ignoredErrors: [RangeError] });
    class Work {
      range(): never {
        throw new RangeError('expected');
      }
    }
    experimental(Work.prototype, 'range');
    expect(() => new Work().range()).toThrow(RangeError);
    expect(only(reporter, 'Work.range').tags?.error).toBeUndefined();
  });

  it('spans a generator method until iteration ends, active while it runs', () => {
    const { tracer, reporter } = memoryTracer('repo');
    class Rows {
      *each(n: number): Generator<string, string, unknown> {
        for (let i = 0; i < n; i++) yield `${i} in ${tracer.currentSpan()?.context.spanId ?? 'none'}`;
        return 'done';
      }
      *failing(): Generator<number> {
        yield 1;
        throw new Error('row boom');
      }
    }
    experimental(Rows.prototype, 'each');
    experimental(Rows.prototype, 'failing');
    const rows = new Rows();
    const it1 = rows.each(2);
    expect(it1[Symbol.iterator]()).toBe(it1);
    const first = it1.next();
    expect(reporter.spans).toEqual([]);
    const rest = [...it1];
    const { id } = only(reporter, 'Rows.each');
    expect([first, rest]).toEqual([{ value: `0 in ${id}`, done: false }, [`1 in ${id}`]]);

    const early = rows.each(5);
    early.next();
    expect(early.return('stop')).toEqual({ value: 'stop', done: true });
    expect(reporter.byName('Rows.each')).toHaveLength(2);

    const disposed = rows.each(5);
    disposed.next();
    (disposed as unknown as Disposable)[Symbol.dispose]();
    expect(reporter.byName('Rows.each')).toHaveLength(3);

    const thrownInto = rows.each(5);
    thrownInto.next();
    expect(() => thrownInto.throw(new Error('from outside'))).toThrow('from outside');
    expect(reporter.byName('Rows.each')[3]!.tags?.error).toBe('from outside');

    const failing = rows.failing();
    expect(failing.next().value).toBe(1);
    expect(() => failing.next()).toThrow('row boom');
    expect(only(reporter, 'Rows.failing').tags?.error).toBe('row boom');
  });

  it('spans an async generator method until iteration ends', async () => {
    const { tracer, reporter } = memoryTracer('repo');
    class Feed {
      async *pages(n: number): AsyncGenerator<string> {
        for (let i = 0; i < n; i++) {
          await Promise.resolve();
          yield `${i} in ${tracer.currentSpan()?.context.spanId ?? 'none'}`;
        }
      }
      async *failing(): AsyncGenerator<number> {
        yield 1;
        throw new Error('page boom');
      }
    }
    experimental(Feed.prototype, 'pages');
    experimental(Feed.prototype, 'failing');
    const feed = new Feed();
    const seen: string[] = [];
    const pages = feed.pages(2);
    expect(pages[Symbol.asyncIterator]()).toBe(pages);
    for await (const page of pages) seen.push(page);
    const { id } = only(reporter, 'Feed.pages');
    expect(seen).toEqual([`0 in ${id}`, `1 in ${id}`]);

    const early = feed.pages(5);
    await early.next();
    await expect(early.return('stop')).resolves.toEqual({ value: 'stop', done: true });
    expect(reporter.byName('Feed.pages')).toHaveLength(2);

    const disposed = feed.pages(5);
    await disposed.next();
    await (disposed as unknown as AsyncDisposable)[Symbol.asyncDispose]();
    expect(reporter.byName('Feed.pages')).toHaveLength(3);

    const thrownInto = feed.pages(5);
    await thrownInto.next();
    await expect(thrownInto.throw(new Error('from outside'))).rejects.toThrow('from outside');
    expect(reporter.byName('Feed.pages')[3]!.tags?.error).toBe('from outside');

    const failing = feed.failing();
    await failing.next();
    await expect(failing.next()).rejects.toThrow('page boom');
    expect(only(reporter, 'Feed.failing').tags?.error).toBe('page boom');
  });

  it('runs the method plainly when there is no tracer at all', () => {
    setGlobalTracer(undefined);
    class Plain {
      add(a: number, b: number): number {
        return a + b;
      }
    }
    experimental(Plain.prototype, 'add');
    expect(new Plain().add(1, 2)).toBe(3);
  });
});
