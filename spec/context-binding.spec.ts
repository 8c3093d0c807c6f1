/**
 * Emitter binding (lib/context.ts bindEmitterToStore) on emitters that are not
 * plain Node EventEmitters, or whose methods someone else patched first: what
 * worked before the shared-method binding must still work. Each case was
 * checked against the binding of 2926f64 (per-emitter closures and a map from
 * every original listener to its wrapper).
 */
import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { describe, expect, it } from 'vitest';
import { currentSpan, type Tracer } from '../lib/index.js';
import { clearGlobalTracerAfterEach, memoryTracer } from './helpers/tracing.js';

clearGlobalTracerAfterEach();

const setup = (): { tracer: Tracer } => memoryTracer('context-binding-spec');

function activeName(): string | undefined {
  return (currentSpan() as { _name?: string } | undefined)?._name;
}

type Listener = (...args: unknown[]) => unknown;

/**
 * The smallest emitter the EmitterLike path is for: on() and removeListener()
 * that match listeners by identity, as eventemitter3, mitt-style buses and
 * hand-written emitters do (none of them knows Node's `.listener`).
 */
class IdentityEmitter {
  readonly listeners: Listener[] = [];
  on(_event: string, listener: Listener): this {
    this.listeners.push(listener);
    return this;
  }
  removeListener(_event: string, listener: Listener): this {
    const at = this.listeners.lastIndexOf(listener);
    if (at >= 0) this.listeners.splice(at, 1);
    return this;
  }
  emit(_event: string, ...args: unknown[]): void {
    for (const listener of [...this.listeners]) listener.apply(this, args);
  }
}

describe('an emitter that matches listeners by identity (EmitterLike)', () => {
  it('removeListener(event, original) removes a listener added with on() after binding', () => {
    const { tracer } = setup();
    const emitter = new IdentityEmitter();
    tracer.withSpan('binder', () => tracer.bindEmitter(emitter as unknown as EventEmitter));
    const seen: (string | undefined)[] = [];
    const listener = (): void => void seen.push(activeName());
    emitter.on('x', listener);
    emitter.emit('x');
    emitter.removeListener('x', listener);
    emitter.emit('x');
    // Before: ['binder'] and no listener left. Now the bound wrapper stays, fires on, and is never freed.
    expect(seen).toEqual(['binder']);
    expect(emitter.listeners).toHaveLength(0);
  });

  it('its methods, when they do not use `this` (arrow functions), still work taken off the object', () => {
    const { tracer } = setup();
    const listeners: Listener[] = [];
    const bus = {
      on: (_event: string, listener: Listener) => void listeners.push(listener),
      removeListener: (_event: string, listener: Listener) => void listeners.splice(listeners.indexOf(listener), 1),
    };
    tracer.withSpan('binder', () => tracer.bindEmitter(bus as unknown as EventEmitter));
    const { on } = bus;
    const seen: (string | undefined)[] = [];
    // Before: added, bound. Now: EventEmitter.prototype.on.call(undefined, ...) throws a TypeError into the app.
    expect(() => on('x', () => void seen.push(activeName()))).not.toThrow();
    for (const listener of listeners) listener();
    expect(seen).toEqual(['binder']);
  });
});

describe('an emitter OpenTelemetry’s context manager bound first', () => {
  const otelBound = (): { tracer: Tracer; emitter: EventEmitter } => {
    const { tracer } = setup();
    const manager = new AsyncLocalStorageContextManager();
    const emitter = manager.bind(ROOT_CONTEXT, new EventEmitter());
    tracer.withSpan('binder', () => tracer.bindEmitter(emitter));
    return { tracer, emitter };
  };

  it('removeListener(event, original) removes an on() listener', () => {
    const { emitter } = otelBound();
    const calls: string[] = [];
    const listener = (): void => void calls.push('x');
    emitter.on('x', listener);
    emitter.removeListener('x', listener);
    emitter.emit('x');
    // OpenTelemetry's map is keyed by what reached its on(): ziptrace's wrapper, which the
    // original no longer finds; and OpenTelemetry's own wrapper has no `.listener` for Node to match.
    expect(calls).toEqual([]);
    expect(emitter.listenerCount('x')).toBe(0);
  });

  it('off(event, original) does too', () => {
    const { emitter } = otelBound();
    const listener = (): void => {};
    emitter.on('x', listener);
    emitter.off('x', listener);
    expect(emitter.listenerCount('x')).toBe(0);
  });

  it('a stream piped and unpiped stops writing to the destination', async () => {
    const { tracer } = setup();
    const manager = new AsyncLocalStorageContextManager();
    const source = manager.bind(ROOT_CONTEXT, new PassThrough());
    tracer.withSpan('binder', () => tracer.bindEmitter(source));
    const received: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        received.push(chunk.toString());
        done();
      },
    });
    source.pipe(destination);
    source.write('before');
    await new Promise((resolve) => setImmediate(resolve));
    source.unpipe(destination);
    // The rest is read here instead (unpipe paused the stream: resumed).
    const rest: string[] = [];
    source.on('data', (chunk: Buffer) => void rest.push(chunk.toString()));
    source.resume();
    source.write('after');
    await new Promise((resolve) => setImmediate(resolve));
    // pipe's cleanup is source.removeListener('data', ondata): it removes nothing now.
    expect(received).toEqual(['before']);
    expect(rest).toEqual(['after']);
  });
});

describe('an emitter whose own methods are ziptrace’s shared ones, without the binding', () => {
  it('binding it does not make every later on() recurse until the stack overflows', () => {
    const { tracer } = setup();
    const original = new EventEmitter();
    tracer.withSpan('first', () => tracer.bindEmitter(original));
    // A mixin copy (for...in, as _.assignIn and hand-written extends do) takes the own methods, not symbols.
    const copy = new EventEmitter() as unknown as Record<string, unknown>;
    for (const key in original) if (typeof (original as unknown as Record<string, unknown>)[key] === 'function') copy[key] = (original as unknown as Record<string, unknown>)[key];
    const emitter = copy as unknown as EventEmitter;
    tracer.withSpan('second', () => tracer.bindEmitter(emitter));
    const seen: (string | undefined)[] = [];
    // Before: the copy's closures called the original's methods: added, no throw. Now: RangeError.
    expect(() => emitter.on('x', () => void seen.push(activeName()))).not.toThrow();
    emitter.emit('x');
    expect(seen).toHaveLength(1);
  });
});
