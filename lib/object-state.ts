/**
 * What ziptrace keeps on an object of someone else's (a request, a response,
 * an emitter it binds), in one record under one property.
 *
 * On Node 20 and 22 Express gives each request a hidden class of its own
 * (its prototype is swapped per request), so every property added to one
 * copies the whole list of its properties: measured, about 1.3 kB each on
 * Node 22 (lib/instrumentation/early-records.ts adds the record before the
 * swap). The emitter
 * binding, the server's handle, Express's route watching and the route and
 * base URL values were seven such properties on an Express request; in one
 * record they are one, made the first time any of them is needed, or, in a
 * process that calls expressTracing(), when Node parses the request.
 *
 * Registered, so that every copy of ziptrace in the process (an `import` and
 * a `require`, or the copy `ziptrace/register` loaded beside the app's own)
 * finds the same record: one request, one binding and one server span,
 * whichever copy made them. Each field belongs to one module, which alone
 * knows its type.
 */

const STATE = Symbol.for('ziptrace.object-state.v1');

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** One object's record. A class, so that every field is there from the start and all records share one shape. */
export class ObjectState {
  /** The emitter's binding (lib/context.ts). */
  binding: unknown = undefined;
  /** A request's server span handle, skipped ones included (lib/instrumentation/server.ts). */
  server: unknown = undefined;
  /** A request's Express integration state (lib/instrumentation/express.ts). */
  express: unknown = undefined;
  /** What Express assigned to `req.route`, behind ziptrace's accessor (lib/instrumentation/express.ts). */
  route: unknown = undefined;
  /** What Express assigned to `req.baseUrl`, behind ziptrace's accessor. */
  baseUrl: unknown = undefined;
  /** Those told of the two assignments, or undefined while nothing watches. */
  watchers: unknown = undefined;

  /** How util.inspect shows it on a logged request: what it holds in a word each, not the span, tracer and routes. */
  [INSPECT](): string {
    const held: string[] = [];
    if (this.binding !== undefined) held.push('binding');
    if (this.server !== undefined) held.push('server request');
    if (this.express !== undefined || this.watchers !== undefined) held.push('express route');
    return held.length === 0 ? '[ziptrace]' : `[ziptrace ${held.join(', ')}]`;
  }
}

/**
 * The object's record, or undefined when it has none yet (or takes none).
 * Never throws: a Proxy's trap that does is an object without a record.
 */
export function stateOf(target: object): ObjectState | undefined {
  try {
    return (target as Record<symbol, ObjectState | undefined>)[STATE];
  } catch {
    return undefined;
  }
}

/**
 * The object's record, made now if it has none; undefined for an object that
 * takes no new property (a frozen one, a Proxy that refuses it, one whose
 * store keeps nothing), and never a throw: the callers fall back on a WeakMap.
 */
export function stateFor(target: object): ObjectState | undefined {
  const record = target as Record<symbol, ObjectState | undefined>;
  try {
    const existing = record[STATE];
    if (existing !== undefined) return existing;
    const state = new ObjectState();
    // An assignment (which throws in strict code where Reflect.set would return false), not Reflect.set: V8
    // compiles Reflect.set to a generic call with no inline cache. Adding the record to a fresh IncomingMessage
    // measured 220–415 ns through Reflect.set, 33–205 ns so (Node 24 gains most); twice per request. The store
    // is written here, not in a helper shared with the other per-request stores (Fastify's, undici's): this site
    // sees a few kinds of object (requests, responses, the emitters an app binds), a shared one would see them
    // all and turn megamorphic, which measured as dear as Reflect.set.
    record[STATE] = state;
    // A store that said yes and kept nothing (a Proxy's trap, an inherited setter) leaves no record either.
    return record[STATE] === state ? state : undefined;
  } catch {
    return undefined;
  }
}
