/**
 * The shared binding methods on http.IncomingMessage.prototype and
 * http.ServerResponse.prototype (lib/context.ts shareBindingMethods, put there
 * at the first traced server request by lib/instrumentation/server.ts): real
 * node:http servers and clients on loopback. A request the server traces is
 * bound by its binding alone; every other IncomingMessage (a client's
 * response, an untraced server's request) must behave exactly as Node's own.
 */
import { EventEmitter } from 'node:events';
import http, { IncomingMessage, ServerResponse, type RequestListener } from 'node:http';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { currentSpan, type Tracer } from '../lib/index.js';
import { tracedHandler } from '../lib/http.js';
import { loopbackServers, slowBody, spansOf } from './helpers/http-servers.js';
import { transpileLib } from './helpers/transpiled-lib.js';
import { clearGlobalTracerAfterEach, memoryTracer, sleep } from './helpers/tracing.js';

clearGlobalTracerAfterEach();

const { listen } = loopbackServers();
const SHARED = Symbol.for('ziptrace.prototype-originals.v2');
/** Whether nothing in this process had shared the methods when this file started (vitest runs each file alone). */
const freshProcess = (IncomingMessage.prototype.on as unknown as Record<symbol, unknown>)[SHARED] === undefined;

let libDir: string | undefined;
afterAll(() => {
  if (libDir !== undefined) rmSync(libDir, { recursive: true, force: true });
});

const activeId = (): string | undefined => currentSpan()?.context.spanId;
/** Runs `fn` in a span of a tracer of its own (which reports nowhere the specs count). */
const other = memoryTracer('elsewhere', { global: false }).tracer;
const elsewhere = (fn: () => void): void => other.withSpan('elsewhere', fn);
type Listener = (...args: unknown[]) => void;

/** What an emitter does with on/once/prepend/off, each case on an event of its own; `emitIn` runs each emit (inside another span). */
interface EventReport {
  order: string[];
  prependOnce: string[];
  prependOnceRemovedLeft: number;
  onThenOnceRemoved: number;
  onceThenOnRemoved: number;
  offLeft: number;
  afterOnceFiredLeft: number;
  count: number;
  listeners: boolean;
  raw: boolean;
  contexts: (string | undefined)[];
}
function events(emitter: EventEmitter, emitIn: (fn: () => void) => void): EventReport {
  const order: string[] = [];
  const contexts: (string | undefined)[] = [];
  emitter.on('x', () => void order.push('a'));
  emitter.prependListener('x', () => void order.push('b'));
  emitter.on('x', () => void contexts.push(activeId()));
  emitIn(() => emitter.emit('x'));
  const prependOnce: string[] = [];
  emitter.on('u', () => void prependOnce.push('a'));
  emitter.prependOnceListener('u', () => void prependOnce.push('b'));
  emitIn(() => emitter.emit('u'));
  emitIn(() => emitter.emit('u'));
  const c: Listener = () => {};
  emitter.prependOnceListener('t', c);
  emitter.removeListener('t', c);
  let y = 0;
  const l: Listener = () => void y++;
  emitter.on('y', l);
  emitter.once('y', l);
  emitter.removeListener('y', l);
  emitIn(() => emitter.emit('y'));
  emitIn(() => emitter.emit('y'));
  let z = 0;
  const m: Listener = () => void z++;
  emitter.once('z', m);
  emitter.on('z', m);
  emitter.removeListener('z', m);
  emitIn(() => emitter.emit('z'));
  emitIn(() => emitter.emit('z'));
  const n: Listener = () => {};
  emitter.on('w', n);
  emitter.off('w', n);
  const p: Listener = () => {};
  emitter.once('v', p);
  emitIn(() => emitter.emit('v'));
  emitter.on('v', p);
  emitter.removeListener('v', p);
  const f: Listener = () => {};
  emitter.on('q', f);
  emitter.addListener('q', f);
  return {
    order,
    prependOnce,
    prependOnceRemovedLeft: emitter.listenerCount('t'),
    onThenOnceRemoved: y,
    onceThenOnRemoved: z,
    offLeft: emitter.listenerCount('w'),
    afterOnceFiredLeft: emitter.listenerCount('v'),
    count: emitter.listenerCount('q'),
    listeners: emitter.listeners('q').every((g) => g === f),
    raw: emitter.rawListeners('q').every((g) => g === f),
    contexts,
  };
}

/** Node's own answer, from a plain EventEmitter, for everything but the contexts. */
const baseline = (): Omit<EventReport, 'contexts' | 'raw'> => {
  const { contexts: _c, raw: _r, ...rest } = events(new EventEmitter(), (fn) => fn());
  return rest;
};

/** The body of `req` read with on('data')/on('end'): the chunks, the span active in each listener, and whether on('data') made it flow. */
function readByEvents(req: IncomingMessage): Promise<{ body: string; flowingBefore: boolean | null; flowingAfter: boolean | null; contexts: (string | undefined)[] }> {
  return new Promise((resolve, reject) => {
    const chunks: string[] = [];
    const contexts: (string | undefined)[] = [];
    const flowingBefore = req.readableFlowing;
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk.toString());
      contexts.push(activeId());
    });
    const flowingAfter = req.readableFlowing;
    req.on('end', () => {
      contexts.push(activeId());
      resolve({ body: chunks.join(''), flowingBefore, flowingAfter, contexts });
    });
    req.on('error', reject);
  });
}

const post = async (url: string, body: ReadableStream<Uint8Array> | string = slowBody('first,', 'second')): Promise<string> =>
  (await fetch(url, { method: 'POST', body, duplex: 'half' } as RequestInit)).text();

describe('two copies of ziptrace (lib/ transpiled, imported beside this one)', () => {
  it('the copy that shared the methods first and the other bind requests alike; the prototype is wrapped once', async () => {
    libDir = transpileLib('ziptrace-shared-binding-');
    const copy = (await import(pathToFileURL(join(libDir, 'index.js')).href)) as typeof import('../lib/index.js');
    const copyHttp = (await import(pathToFileURL(join(libDir, 'http.js')).href)) as typeof import('../lib/http.js');
    const reporterB = new copy.MemoryReporter();
    const tracerB = copy.createTracer({ serviceName: 'b', reporter: reporterB, global: false });
    const { tracer, reporter } = memoryTracer('a');
    const results: unknown[] = [];
    const handler: RequestListener = (req, res) => {
      const id = activeId();
      const report = events(req, elsewhere);
      void readByEvents(req).then((read) => {
        results.push({ report, read, id });
        res.end('ok');
      });
    };
    // The copy traces first: when this file runs alone, it is the copy that shares the methods.
    expect(await post(await listen(copyHttp.tracedHandler(tracerB, handler)))).toBe('ok');
    expect(await post(await listen(tracedHandler(tracer, handler)))).toBe('ok');
    const [b] = await spansOf(reporterB, 1);
    const [a] = await spansOf(reporter, 1);
    for (const [result, span] of [
      [results[0], b],
      [results[1], a],
    ] as const) {
      const { report, read, id } = result as { report: EventReport; read: Awaited<ReturnType<typeof readByEvents>>; id: string };
      expect(id).toBe(span!.id);
      expect(report).toMatchObject({ ...baseline(), contexts: [id] });
      expect(read).toMatchObject({ body: 'first,second', flowingBefore: null, flowingAfter: true });
      expect(read.contexts.every((c) => c === id)).toBe(true);
    }
    expect(freshProcess, "this file ran first in its process").toBe(true);
    if (freshProcess) {
      const originals = (IncomingMessage.prototype.on as unknown as Record<symbol, Record<string, unknown>>)[SHARED]!;
      expect(originals.on).toBe(Readable.prototype.on);
      expect(originals.removeListener).toBe(Readable.prototype.removeListener);
      expect((ServerResponse.prototype.on as unknown as Record<symbol, Record<string, unknown>>)[SHARED]!.on).toBe(EventEmitter.prototype.on);
    }
  });
});

describe('a request the server traces (bound through the prototype)', () => {
  it('reads its body with on(data)/on(end), the server span active in the listeners, and flows as Node makes it', async () => {
    const { tracer, reporter } = memoryTracer('api');
    let seen: { id: string | undefined; read: Awaited<ReturnType<typeof readByEvents>> } | undefined;
    const url = await listen(
      tracedHandler(tracer, (req, res) => {
        const id = activeId();
        void readByEvents(req).then((read) => {
          seen = { id, read };
          res.end('ok');
        });
      }),
    );
    expect(await post(url)).toBe('ok');
    const [span] = await spansOf(reporter, 1);
    expect(seen!.id).toBe(span!.id);
    expect(seen!.read).toEqual({ body: 'first,second', flowingBefore: null, flowingAfter: true, contexts: [span!.id, span!.id, span!.id] });
  });

  it('on/once/prepend/off and removeListener(original) as Node does them, latest first; listeners bound to the span', async () => {
    const { tracer, reporter } = memoryTracer('api');
    let seen: { id: string | undefined; report: EventReport; res: EventReport } | undefined;
    const url = await listen(
      tracedHandler(tracer, (req, res) => {
        seen = { id: activeId(), report: events(req, elsewhere), res: events(res as unknown as EventEmitter, elsewhere) };
        req.resume();
        res.end('ok');
      }),
    );
    expect(await (await fetch(url)).text()).toBe('ok');
    const [span] = await spansOf(reporter, 1);
    expect(seen!.report).toMatchObject({ ...baseline(), contexts: [span!.id] });
    expect(seen!.res).toMatchObject({ ...baseline(), contexts: [span!.id] });
  });

  it('reads its body with for await, leaving the listeners an untraced request leaves', async () => {
    const { tracer } = memoryTracer('api');
    const counts = (req: IncomingMessage) => ['data', 'readable', 'end', 'error', 'close'].map((e) => req.listenerCount(e));
    const readAll = async (req: IncomingMessage, res: ServerResponse, into: unknown[]) => {
      const chunks: string[] = [];
      for await (const chunk of req) chunks.push((chunk as Buffer).toString());
      into.push({ body: chunks.join(''), counts: counts(req) });
      res.end('ok');
    };
    const traced: unknown[] = [];
    const plain: unknown[] = [];
    const tracedUrl = await listen(tracedHandler(tracer, (req, res) => void readAll(req, res, traced)));
    const plainUrl = await listen((req, res) => void readAll(req, res, plain));
    expect(await post(tracedUrl)).toBe('ok');
    expect(await post(plainUrl)).toBe('ok');
    expect(traced).toEqual(plain);
    expect((traced[0] as { body: string }).body).toBe('first,second');
  });

  it('pipe, then unpipe: the destination gets nothing more, and pipe’s data listener is gone', async () => {
    const { tracer } = memoryTracer('api');
    const pipeThenUnpipe = (req: IncomingMessage, res: ServerResponse, into: unknown[]) => {
      const piped: string[] = [];
      const destination = new Writable({
        write(chunk: Buffer, _encoding, done) {
          piped.push(chunk.toString());
          done();
          req.unpipe(destination);
          const dataListeners = req.listenerCount('data');
          const rest: string[] = [];
          req.on('data', (more: Buffer) => void rest.push(more.toString()));
          req.on('end', () => {
            into.push({ piped, rest, dataListeners });
            res.end('ok');
          });
          // unpipe paused it: on('data') alone does not resume a stream paused by hand.
          req.resume();
        },
      });
      req.pipe(destination);
    };
    const traced: unknown[] = [];
    const plain: unknown[] = [];
    expect(await post(await listen(tracedHandler(tracer, (req, res) => pipeThenUnpipe(req, res, traced))))).toBe('ok');
    expect(await post(await listen((req, res) => pipeThenUnpipe(req, res, plain)))).toBe('ok');
    expect(plain).toEqual([{ piped: ['first,'], rest: ['second'], dataListeners: 0 }]);
    expect(traced).toEqual(plain);
  });

  describe('with OpenTelemetry’s AsyncLocalStorageContextManager binding it too', () => {
    const check = async (order: 'after' | 'before') => {
      const { tracer, reporter } = memoryTracer('api');
      const manager = new AsyncLocalStorageContextManager();
      let seen: { id: string | undefined; report: EventReport; read: Awaited<ReturnType<typeof readByEvents>> } | undefined;
      const inner: RequestListener = (req, res) => {
        if (order === 'after') {
          manager.bind(ROOT_CONTEXT, req);
          manager.bind(ROOT_CONTEXT, res);
        }
        const id = activeId();
        const report = events(req, elsewhere);
        void readByEvents(req).then((read) => {
          seen = { id, report, read };
          res.end('ok');
        });
      };
      const traced = tracedHandler(tracer, inner);
      const url = await listen((req, res) => {
        if (order === 'before') {
          manager.bind(ROOT_CONTEXT, req);
          manager.bind(ROOT_CONTEXT, res);
        }
        traced(req, res);
      });
      expect(await post(url)).toBe('ok');
      const [span] = await spansOf(reporter, 1);
      expect(seen!.id).toBe(span!.id);
      const { listeners: _l, ...expected } = baseline();
      expect(seen!.report).toMatchObject({ ...expected, contexts: [span!.id] });
      expect(seen!.read).toEqual({ body: 'first,second', flowingBefore: null, flowingAfter: true, contexts: [span!.id, span!.id, span!.id] });
    };
    it('bound by OpenTelemetry after ziptrace', () => check('after'));
    it('bound by OpenTelemetry before ziptrace', () => check('before'));
  });

  it('a server’s own IncomingMessage subclass that overrides on() is bound and unbinds right', async () => {
    const { tracer, reporter } = memoryTracer('api');
    // A subclass's own on() that calls Node's, as a framework's request class may have.
    class Req extends IncomingMessage {}
    Object.defineProperty(Req.prototype, 'on', {
      configurable: true,
      writable: true,
      value(this: IncomingMessage, event: string | symbol, listener: Listener) {
        return IncomingMessage.prototype.on.call(this, event, listener);
      },
    });
    let seen: { id: string | undefined; report: EventReport; read: Awaited<ReturnType<typeof readByEvents>> } | undefined;
    const server = http.createServer(
      { IncomingMessage: Req },
      tracedHandler(tracer, (req, res) => {
        const id = activeId();
        const report = events(req, elsewhere);
        void readByEvents(req).then((read) => {
          seen = { id, report, read };
          res.end('ok');
        });
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      expect(await post(`http://127.0.0.1:${(server.address() as { port: number }).port}`)).toBe('ok');
      const [span] = await spansOf(reporter, 1);
      const { listeners: _l, ...expected } = baseline();
      expect(seen!.report).toMatchObject({ ...expected, contexts: [span!.id] });
      expect(seen!.read).toEqual({ body: 'first,second', flowingBefore: null, flowingAfter: true, contexts: [span!.id, span!.id, span!.id] });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('IncomingMessages nobody binds, once the methods are shared', () => {
  /** A traced request first, so that the prototypes have the shared methods. */
  async function shared(tracer: Tracer): Promise<void> {
    await (await fetch(await listen(tracedHandler(tracer, (_req, res) => res.end('ok'))))).text();
    expect((IncomingMessage.prototype.on as unknown as Record<symbol, unknown>)[SHARED]).toBeDefined();
  }

  it('an untraced server’s request: Node’s own behaviour, listeners in the context they are emitted in', async () => {
    const { tracer } = memoryTracer('api');
    await shared(tracer);
    let seen: { report: EventReport; read: Awaited<ReturnType<typeof readByEvents>>; elsewhere: string[] } | undefined;
    const url = await listen((req, res) => {
      const elsewhere: string[] = [];
      const report = events(req, (fn) =>
        other.withSpan('elsewhere', (span) => {
          elsewhere.push(span.context.spanId);
          fn();
        }),
      );
      void readByEvents(req).then((read) => {
        seen = { report, read, elsewhere };
        res.end('ok');
      });
    });
    expect(await post(url)).toBe('ok');
    expect(seen!.report).toEqual({ ...baseline(), raw: true, contexts: [seen!.elsewhere[0]] });
    expect(seen!.read).toEqual({ body: 'first,second', flowingBefore: null, flowingAfter: true, contexts: [undefined, undefined, undefined] });
  });

  it('an http.get response: Node’s own behaviour, its body read as ever', async () => {
    const { tracer } = memoryTracer('api');
    await shared(tracer);
    const url = await listen((_req, res) => {
      res.write('first,');
      setTimeout(() => res.end('second'), 20);
    });
    const seen = await new Promise<{ report: EventReport; read: Awaited<ReturnType<typeof readByEvents>>; elsewhere: string[] }>((resolve, reject) => {
      http
        .get(url, (response) => {
          const elsewhere: string[] = [];
          const report = events(response, (fn) =>
            other.withSpan('elsewhere', (span) => {
              elsewhere.push(span.context.spanId);
              fn();
            }),
          );
          void readByEvents(response).then((read) => resolve({ report, read, elsewhere }), reject);
        })
        .on('error', reject);
    });
    expect(seen.report).toEqual({ ...baseline(), raw: true, contexts: [seen.elsewhere[0]] });
    expect(seen.read).toEqual({ body: 'first,second', flowingBefore: null, flowingAfter: true, contexts: [undefined, undefined, undefined] });
  });

  it('a response read with on(readable) and read(): not flowing, as Node has it', async () => {
    const { tracer } = memoryTracer('api');
    await shared(tracer);
    const url = await listen((_req, res) => res.end('all of it'));
    const seen = await new Promise<{ flowing: boolean | null; body: string; readableLeft: number }>((resolve, reject) => {
      http
        .get(url, (response) => {
          const chunks: string[] = [];
          const onReadable = (): void => {
            let chunk: Buffer | null;
            while ((chunk = response.read() as Buffer | null) !== null) chunks.push(chunk.toString());
          };
          response.on('readable', onReadable);
          const flowing = response.readableFlowing;
          response.on('end', () => {
            response.removeListener('readable', onReadable);
            resolve({ flowing, body: chunks.join(''), readableLeft: response.listenerCount('readable') });
          });
        })
        .on('error', reject);
    });
    expect(seen).toEqual({ flowing: false, body: 'all of it', readableLeft: 0 });
    await sleep(1);
  });
});

describe('the per-instance binding (any emitter that is not a request or response)', () => {
  /*
   * A bound pooled emitter (what bindEmitter is for) that a client library clears with removeAllListeners and
   * fills again with the same module-level listener, as protocol clients do on each reconnect or command: in a
   * child process with --expose-gc, on lib/ transpiled. At e981918~1 (on() wrappers found by `.listener`, no map)
   * it held nothing; now every on() adds a map entry that removeAllListeners never clears (as at 2926f64).
   */
  it('holds nothing for listeners removeAllListeners took off a plain EventEmitter', async () => {
    libDir ??= transpileLib('ziptrace-shared-binding-');
    const file = join(libDir, 'churn-child.mjs');
    writeFileSync(
      file,
      `import { EventEmitter } from 'node:events';
const { createTracer, MemoryReporter } = await import(${JSON.stringify(pathToFileURL(join(libDir, 'index.js')).href)});
const tracer = createTracer({ serviceName: 'pool', reporter: new MemoryReporter(), global: false });
const emitter = new EventEmitter();
tracer.withSpan('pool', () => tracer.bindEmitter(emitter));
// Kept reachable, as a library's module-level listener is.
const onData = (globalThis.onData = () => {});
const heap = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage().heapUsed; };
const before = heap();
for (let i = 0; i < 200000; i++) { emitter.on('data', onData); emitter.removeAllListeners('data'); }
const grown = heap() - before;
console.log(JSON.stringify({ grown, left: emitter.listenerCount('data') }));
`,
    );
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--expose-gc', file], { timeout: 30_000 }, (error, stdout, stderr) => (error === null ? resolve(stdout) : reject(new Error(`${String(error)}\n${stderr}`)))),
    );
    const { grown, left } = JSON.parse(out.trim()) as { grown: number; left: number };
    expect(left).toBe(0);
    // Now about 32 MB: 200 000 wrappers kept in the binding's map for a listener the emitter no longer has.
    expect(grown).toBeLessThan(4 << 20);
  }, 30_000);
});
