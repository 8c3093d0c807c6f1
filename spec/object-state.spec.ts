/**
 * lib/object-state.ts: the one record ziptrace keeps on someone else's
 * object. Made once and found again; shared with every copy of ziptrace
 * through the registered symbol; and for an object that takes no new
 * property, none at all, without a throw (the caller falls back on a WeakMap,
 * and a throw here would reach the app's request path).
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ObjectState, stateFor, stateOf } from '../lib/object-state.js';

const STATE = Symbol.for('ziptrace.object-state.v1');

describe('stateFor and stateOf', () => {
  it("makes one record for Node's request and response and finds it again", () => {
    const request = new IncomingMessage(new Socket());
    const response = new ServerResponse(request);
    expect(stateOf(request)).toBeUndefined();
    const made = stateFor(request);
    expect(made).toBeInstanceOf(ObjectState);
    expect(stateFor(request)).toBe(made);
    expect(stateOf(request)).toBe(made);
    expect(stateFor(response)).not.toBe(made);
    // Under the registered symbol, where another copy of ziptrace looks.
    expect((request as unknown as Record<symbol, unknown>)[STATE]).toBe(made);
  });

  it('gives no record, and throws nothing, for an object that takes no new property', () => {
    const refusing = [
      Object.freeze({}),
      Object.seal({}),
      Object.preventExtensions(new IncomingMessage(new Socket())),
      // A framework's read-only view: the trap says no.
      new Proxy({}, { set: () => false, defineProperty: () => false }),
      // A trap that throws: what it throws must not reach the caller (the request path).
      new Proxy(
        {},
        {
          set() {
            throw new Error('no new properties here');
          },
          defineProperty() {
            throw new Error('no new properties here');
          },
        },
      ),
      // A read-only inherited property of the same key: an assignment cannot shadow it.
      Object.create(Object.defineProperty({}, STATE, { value: undefined, writable: false })) as object,
      // A trap that says yes and keeps nothing.
      new Proxy({}, { set: () => true }),
      // An inherited setter that keeps the value somewhere else.
      Object.create(
        Object.defineProperty({}, STATE, {
          set(_value: unknown) {
            // kept nowhere the record is looked for
          },
        }),
      ) as object,
      // A trap that throws on reading: stateOf and stateFor alone must not.
      new Proxy(
        {},
        {
          get() {
            throw new Error('nothing may be read here');
          },
        },
      ),
    ];
    for (const target of refusing) {
      expect(() => stateFor(target)).not.toThrow();
      expect(stateFor(target)).toBeUndefined();
      expect(() => stateOf(target)).not.toThrow();
      expect(stateOf(target)).toBeUndefined();
    }
  });
});
