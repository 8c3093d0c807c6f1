import { activeSpan, runtime, runWithActive } from './context.js';
import { describe } from './describe.js';
import { InvalidArgumentError } from './errors.js';
import { checkSpanOptions } from './span-options.js';
import type { Span } from './span.js';
import { failSpan, finishWhenSettled } from './run.js';
import type { Tracer } from './tracer.js';
import type { SpanOptions } from './types.js';

/** Options of {@link traced}. */
export interface TracedOptions extends Omit<SpanOptions, 'parent' | 'timestamp'> {
  /** The span name. Default `Class.method`. */
  name?: string;
  /** The tracer to use. Default: the active span's, else the global one; none means the method just runs. */
  tracer?: Tracer;
}

/** What `@traced` takes beyond the span options. */
const TRACED_KEYS = ['name', 'tracer'] as const;

type Method = (this: unknown, ...args: unknown[]) => unknown;

const AsyncGeneratorFunction = Object.getPrototypeOf(async function* () {}) as object;
const GeneratorFunction = Object.getPrototypeOf(function* () {}) as object;

/**
 * Wraps a method in a span, nested under the caller's span: sync, async,
 * generator and async-generator methods (the span of a generator lasts until
 * iteration ends). Works with TypeScript's standard decorators and with
 * `experimentalDecorators` (NestJS); the default name, `Class.method`, is the
 * same in both. The method keeps its `name`, `length` and reflect-metadata.
 *
 * ```ts
 * class Repo { @traced() async find(id: string) {} }
 * ```
 */
export function traced(nameOrOptions?: string | TracedOptions): MethodDecoratorBoth {
  const options = normalise(nameOrOptions);
  return function decorate(target: unknown, contextOrKey: unknown, descriptor?: PropertyDescriptor): any {
    // Standard decorators: (method, context). Experimental: (prototype or class, key, descriptor).
    if (typeof contextOrKey === 'object' && contextOrKey !== null && 'kind' in contextOrKey) {
      const context = contextOrKey as ClassMethodDecoratorContext;
      if (context.kind !== 'method' || typeof target !== 'function') {
        const kind = String(context.kind);
        throw new InvalidArgumentError(`ziptrace: @traced() decorates methods, not a${/^[aeiou]/.test(kind) ? 'n' : ''} ${kind} (${String(context.name)})`);
      }
      const naming: Naming = { key: context.name, owner: undefined };
      const wrapper = wrapMethod(target as Method, naming, options);
      // Learn the class as soon as one exists: the class itself for a static method, the first instance's otherwise.
      context.addInitializer(function (this: unknown) {
        if (naming.owner !== undefined) return;
        naming.owner = context.static ? (this as { name?: string }).name || 'anonymous' : declaringClassName(this, naming.key, wrapper);
      });
      return wrapper;
    }
    if (descriptor === undefined || typeof descriptor.value !== 'function') {
      throw new InvalidArgumentError(`ziptrace: @traced() decorates methods, not ${String(contextOrKey)}: it has no function value`);
    }
    const owner = typeof target === 'function' ? (target as { name: string }).name : (target as { constructor: { name: string } }).constructor.name;
    descriptor.value = wrapMethod(descriptor.value as Method, { key: contextOrKey as string | symbol, owner }, options);
    return descriptor;
  } as MethodDecoratorBoth;
}

/** A decorator usable in both of TypeScript's decorator modes. */
export type MethodDecoratorBoth = {
  <T extends (...args: any[]) => any>(method: T, context: ClassMethodDecoratorContext): T;
  <T extends (...args: any[]) => any>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<T>): TypedPropertyDescriptor<T>;
};

/** The method's key, and its declaring class's name once known. */
interface Naming {
  readonly key: string | symbol;
  owner: string | undefined;
}

function normalise(nameOrOptions: string | TracedOptions | undefined): TracedOptions {
  if (nameOrOptions === undefined) return {};
  if (typeof nameOrOptions === 'string') {
    if (nameOrOptions.length === 0) throw new InvalidArgumentError('ziptrace: @traced(name): name must be a non-empty string');
    return { name: nameOrOptions };
  }
  if (typeof nameOrOptions !== 'object' || nameOrOptions === null) {
    throw new InvalidArgumentError(`ziptrace: @traced(nameOrOptions): expected a span name or { name, kind, tags, tracer }, got ${describe(nameOrOptions)}`);
  }
  const { name } = nameOrOptions;
  // Checked once, when the class is defined: a wrong kind or an unknown key fails there, not on some later call.
  checkSpanOptions(nameOrOptions, '@traced', false, TRACED_KEYS);
  if (name !== undefined && (typeof name !== 'string' || name.length === 0)) throw new InvalidArgumentError(`ziptrace: @traced({ name }): name must be a non-empty string, got ${describe(name)}`);
  return nameOrOptions;
}

/** The span options of `@traced`'s options (kind, tags, remoteEndpoint), or undefined when there are none. */
function spanOptionsOf(options: TracedOptions): SpanOptions | undefined {
  const { kind, tags, remoteEndpoint } = options;
  if (kind === undefined && tags === undefined && remoteEndpoint === undefined) return undefined;
  return { kind, tags, remoteEndpoint };
}

function wrapMethod(method: Method, naming: Naming, options: TracedOptions): Method {
  const methodName = String(naming.key);
  let spanName = options.name;
  const spanOptions = spanOptionsOf(options);
  const proto = Object.getPrototypeOf(method) as object;
  const mode = proto === AsyncGeneratorFunction ? 'async-generator' : proto === GeneratorFunction ? 'generator' : 'plain';

  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    const tracer = (options.tracer ?? activeSpan()?.tracer ?? runtime.globalTracer) as Tracer | undefined;
    if (tracer === undefined) return method.apply(this, args);
    if (spanName === undefined) {
      naming.owner ??= declaringClassName(this, naming.key, wrapper);
      // Cache the name only once the class is known; a detached first call must not fix "anonymous" for good.
      if (naming.owner !== undefined) spanName = `${naming.owner}.${methodName}`;
    }
    const name = spanName ?? `anonymous.${methodName}`;
    // The options were checked when the method was decorated; a tracer from an older copy of ziptrace may lack _startSpan.
    const span = typeof tracer._startSpan === 'function' ? tracer._startSpan(name, spanOptions, undefined) : tracer.startSpan(name, spanOptions);
    const ignored = tracer._ignored;
    if (mode === 'plain') return runWithActive(span, callMethod, span, method, this, args, ignored);
    const iterator = runWithActive(span, () => method.apply(this, args)) as Iterator<unknown> | AsyncIterator<unknown>;
    return mode === 'async-generator'
      ? traceAsyncIterator(span, iterator as AsyncGenerator<unknown>, ignored)
      : traceIterator(span, iterator as Generator<unknown>, ignored);
  };
  Object.defineProperty(wrapper, 'name', { value: method.name, configurable: true });
  Object.defineProperty(wrapper, 'length', { value: method.length, configurable: true });
  copyMetadata(method, wrapper);
  return wrapper;
}

function callMethod(span: Span, method: Method, self: unknown, args: unknown[], ignored: ((e: unknown) => boolean) | undefined): unknown {
  let result: unknown;
  try {
    result = method.apply(self, args);
  } catch (error) {
    failSpan(span, error, ignored);
    throw error;
  }
  return finishWhenSettled(span, result, ignored);
}

/*
 * Standard decorators do not say which class a method belongs to. Find it on
 * the first call: the class whose prototype (or, for a static method, the
 * class itself) owns the wrapper. That is the declaring class, as
 * `experimentalDecorators` reports it, not a subclass the method was called on.
 */
function declaringClassName(self: unknown, key: string | symbol, wrapper: Method): string | undefined {
  let holder: unknown = self;
  // When another decorator wrapped ours, the wrapper is nowhere: take the top-most class defining the key.
  let topmost: string | undefined;
  while (holder !== null && (typeof holder === 'object' || typeof holder === 'function')) {
    const own = Object.getOwnPropertyDescriptor(holder, key);
    if (own !== undefined) {
      const name =
        typeof holder === 'function'
          ? (holder as { name?: string }).name || 'anonymous'
          : (holder as { constructor?: { name?: string } }).constructor?.name || 'anonymous';
      if (own.value === wrapper) return name;
      topmost = name;
    }
    holder = Object.getPrototypeOf(holder);
  }
  return topmost;
}

/** NestJS and friends keep route and guard metadata on the method function itself: carry it to the wrapper. */
function copyMetadata(from: Method, to: Method): void {
  const reflect = Reflect as unknown as {
    getOwnMetadataKeys?: (target: object) => unknown[];
    getOwnMetadata?: (key: unknown, target: object) => unknown;
    defineMetadata?: (key: unknown, value: unknown, target: object) => void;
  };
  if (typeof reflect.getOwnMetadataKeys !== 'function' || typeof reflect.getOwnMetadata !== 'function' || typeof reflect.defineMetadata !== 'function') return;
  for (const key of reflect.getOwnMetadataKeys(from)) reflect.defineMetadata(key, reflect.getOwnMetadata(key, from), to);
}

function traceIterator(span: Span, inner: Generator<unknown>, ignored: ((e: unknown) => boolean) | undefined): Generator<unknown> {
  const step = (fn: () => IteratorResult<unknown>): IteratorResult<unknown> => {
    let result: IteratorResult<unknown>;
    try {
      result = runWithActive(span, fn);
    } catch (error) {
      failSpan(span, error, ignored);
      throw error;
    }
    if (result.done === true) span.finish();
    return result;
  };
  const outer: Generator<unknown> = {
    next: (...args: [] | [unknown]) => step(() => inner.next(...args)),
    return: (value: unknown) => step(() => inner.return(value)),
    throw: (error: unknown) => step(() => inner.throw(error)),
    [Symbol.iterator]() {
      return outer;
    },
    [Symbol.dispose]() {
      outer.return(undefined);
    },
  } as Generator<unknown>;
  return outer;
}

function traceAsyncIterator(span: Span, inner: AsyncGenerator<unknown>, ignored: ((e: unknown) => boolean) | undefined): AsyncGenerator<unknown> {
  const step = async (fn: () => Promise<IteratorResult<unknown>>): Promise<IteratorResult<unknown>> => {
    let result: IteratorResult<unknown>;
    try {
      result = await runWithActive(span, fn);
    } catch (error) {
      failSpan(span, error, ignored);
      throw error;
    }
    if (result.done === true) span.finish();
    return result;
  };
  const outer: AsyncGenerator<unknown> = {
    next: (...args: [] | [unknown]) => step(() => inner.next(...args)),
    return: (value: unknown) => step(() => inner.return(value)),
    throw: (error: unknown) => step(() => inner.throw(error)),
    [Symbol.asyncIterator]() {
      return outer;
    },
    async [Symbol.asyncDispose]() {
      await outer.return(undefined);
    },
  } as AsyncGenerator<unknown>;
  return outer;
}
