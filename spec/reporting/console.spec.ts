/**
 * ConsoleReporter and formatTrace: each finished trace as an indented tree
 * with durations, kinds, tags and annotations, errors marked; printed when
 * the local root finishes, after idleTimeout without a new span, or on flush.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConsoleReporter, createEndpoint, createTracer, formatTrace, InvalidOptionError, type ConsoleReporterOptions, type Tracer, type ZipkinSpan } from '../../lib/index.js';
import { sleep } from '../helpers/collector.js';

const tracers: Tracer[] = [];
afterEach(async () => {
  for (const tracer of tracers.splice(0)) await tracer.close();
});

function setup(options: { color?: boolean; idleTimeout?: number; maxTraces?: number } = {}): { tracer: Tracer; out: string[]; reporter: ConsoleReporter } {
  const out: string[] = [];
  const reporter = new ConsoleReporter({ write: (text) => void out.push(text), color: false, ...options });
  const tracer = createTracer({ serviceName: 'orders', reporter, global: false });
  tracers.push(tracer);
  return { tracer, out, reporter };
}

const T = 1_700_000_000_000_000;

/** A trace with fixed times: GET /orders (1.25 s) > db.query (3.5 ms, annotated) and render (250 µs, failed). */
function fixedTrace(tracer: Tracer): { traceId: string; finishRoot: () => void } {
  const root = tracer.startSpan('GET /orders', { kind: 'SERVER', timestamp: T, tags: { 'http.method': 'GET' }, parent: null });
  root.annotate('wire send', T + 6000);
  const db = tracer.startSpan('db.query', { parent: root, kind: 'CLIENT', timestamp: T + 1000, remoteEndpoint: createEndpoint('postgres'), tags: { 'db.statement': 'SELECT 1' } });
  db.annotate('cache miss', T + 1500);
  db.finish(T + 4500);
  const render = tracer.startSpan('render', { parent: root, timestamp: T + 5000 });
  render.setError(new Error('template missing'));
  render.finish(T + 5250);
  return { traceId: root.context.traceId, finishRoot: () => root.finish(T + 1_250_000) };
}

// Names are padded to column 32, durations right-aligned in the 8 columns after.
const FIXED_LINES = [
  '  GET /orders                       1.25s  SERVER  http.method=GET',
  '    • wire send +6.0ms',
  '    db.query                        3.5ms  CLIENT  → postgres  db.statement=SELECT 1',
  '      • cache miss +500µs',
  '    render                          250µs  ✗ template missing',
];

const DURATION = String.raw`(?:\d+µs|\d+\.\dms|\d+\.\d\ds)`;
const lines = (text: string): string[] => text.replace(/\n$/, '').split('\n');

describe('ConsoleReporter', () => {
  it('prints a nested trace as an indented tree with durations, kinds, tags, annotations and the error, when its root finishes', () => {
    const { tracer, out } = setup();
    const { traceId, finishRoot } = fixedTrace(tracer);
    // Children finished first: nothing is printed until the root finishes.
    expect(out).toEqual([]);
    finishRoot();
    expect(out).toHaveLength(1);
    expect(out[0]!.endsWith('\n')).toBe(true);
    expect(lines(out[0]!)).toEqual([`trace ${traceId} (orders)`, ...FIXED_LINES]);
  });

  it('prints real durations (regex) for a trace made with withSpan', async () => {
    const { tracer, out } = setup();
    await expect(
      tracer.withSpan('GET /orders', { kind: 'SERVER', tags: { 'http.method': 'GET' } }, async (root) => {
        await tracer.withSpan('db.query', { kind: 'CLIENT', remoteEndpoint: createEndpoint('postgres') }, async (span) => {
          span.annotate('query sent');
          await sleep(30);
        });
        root.annotate('rendering');
        tracer.withSpan('render', () => {
          throw new Error('template missing');
        });
      }),
    ).rejects.toThrow('template missing');
    expect(out).toHaveLength(1);
    const printed = lines(out[0]!);
    const expected = [
      /^trace [0-9a-f]{32} \(orders\)$/,
      new RegExp(`^  GET /orders {19,} +${DURATION}  SERVER  http\\.method=GET  ✗ template missing$`),
      new RegExp(`^    db\\.query {17,} +${DURATION}  CLIENT  → postgres$`),
      new RegExp(`^      • query sent \\+${DURATION}$`),
      new RegExp(`^    • rendering \\+${DURATION}$`),
      new RegExp(`^    render {20,} +${DURATION}  ✗ template missing$`),
    ];
    // An annotation prints right under its span's line, before the span's children.
    const order = [0, 1, 4, 2, 3, 5];
    expect(printed).toHaveLength(expected.length);
    order.forEach((at, i) => expect(printed[i]).toMatch(expected[at]!));
    // Durations end in the same column at every depth.
    for (const line of [printed[1]!, printed[3]!, printed[5]!]) expect(line.slice(0, 41)).toMatch(new RegExp(`${DURATION}$`));
    // db.query slept 30 ms: its duration says so (a timer may fire a little early against a fresh clock reading).
    const db = /(\d+\.\d)ms/.exec(printed[3]!);
    expect(Number(db![1])).toBeGreaterThanOrEqual(20);
  });

  it('prints a trace whose root never finishes once idleTimeout passes without a new span (fake timers and clock)', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const { tracer, out } = setup({ idleTimeout: 100 });
      const root = tracer.startSpan('job', { parent: null });
      tracer.withActive(root, () => {
        tracer.withSpan('step-1', () => {});
        tracer.withSpan('step-2', () => {});
      });
      expect(out).toEqual([]);
      vi.advanceTimersByTime(99);
      expect(out).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(out).toHaveLength(1);
      // The spans whose parent is not in the trace print at the top level.
      expect(lines(out[0]!)).toEqual([
        `trace ${root.context.traceId} (orders)`,
        expect.stringMatching(new RegExp(`^  step-1 +${DURATION}$`)),
        expect.stringMatching(new RegExp(`^  step-2 +${DURATION}$`)),
      ]);
      // Printed once: the trace is gone from the reporter, and no timer is left.
      vi.advanceTimersByTime(1000);
      expect(out).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('waits for a trace that is still getting spans: idleTimeout counts from its latest span (fake timers and clock)', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const { tracer, out } = setup({ idleTimeout: 100 });
      const root = tracer.startSpan('job', { parent: null });
      tracer.withActive(root, () => tracer.withSpan('step-1', () => {}));
      vi.advanceTimersByTime(60);
      tracer.withActive(root, () => tracer.withSpan('step-2', () => {}));
      // The first check (100 ms after step-1) finds step-2 only 40 ms old; the next one prints.
      vi.advanceTimersByTime(40);
      expect(out).toEqual([]);
      vi.advanceTimersByTime(100);
      expect(out).toHaveLength(1);
      expect(out[0]).toMatch(/step-1[\s\S]*step-2/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('prints waiting traces on flush (tracer.flush) and on close', async () => {
    const { tracer, out, reporter } = setup({ idleTimeout: 60_000 });
    const first = tracer.startSpan('first', { parent: null });
    tracer.newChild(first, 'first-child').finish();
    await tracer.flush();
    expect(out).toHaveLength(1);
    expect(out[0]).toContain(first.context.traceId);
    expect(out[0]).toMatch(/\n {2}first-child +\S+\n$/);
    await tracer.flush();
    expect(out).toHaveLength(1);

    const second = tracer.startSpan('second', { parent: null });
    tracer.newChild(second, 'second-child').finish();
    await reporter.close();
    expect(out).toHaveLength(2);
    expect(out[1]).toContain(second.context.traceId);
  });

  it('prints a joined (shared) server span when it finishes, though it has a parent', () => {
    const { tracer, out } = setup();
    const server = tracer.joinSpan({ traceId: '463ac35c9f6413ad48485a3953bb6124', spanId: 'a2fb4a1d1a96d312', parentId: '0020000000000001', sampled: true, debug: false, shared: false }, 'POST /pay');
    server.kind('SERVER');
    tracer.newChild(server, 'charge').finish();
    expect(out).toEqual([]);
    server.finish();
    expect(out).toHaveLength(1);
    expect(lines(out[0]!)).toEqual([
      'trace 463ac35c9f6413ad48485a3953bb6124 (orders)',
      expect.stringMatching(new RegExp(`^  POST /pay +${DURATION}  SERVER$`)),
      expect.stringMatching(new RegExp(`^    charge +${DURATION}$`)),
    ]);
  });

  it('colours: bold header, dim annotations and tags, red error lines; none with color: false', () => {
    const colored = setup({ color: true });
    const { traceId, finishRoot } = fixedTrace(colored.tracer);
    finishRoot();
    const printed = lines(colored.out[0]!);
    expect(printed[0]).toBe(`\x1b[1mtrace ${traceId}\x1b[0m\x1b[2m (orders)\x1b[0m`);
    expect(printed[1]).toBe('  GET /orders                       1.25s  SERVER  \x1b[2mhttp.method=GET\x1b[0m');
    expect(printed[2]).toBe('\x1b[2m    • wire send +6.0ms\x1b[0m');
    expect(printed[5]).toBe('\x1b[31m    render                          250µs  ✗ template missing\x1b[0m');
    // Without the escapes it is the plain output.
    expect(printed.slice(1).map((line) => line.replace(/\x1b\[\d+m/g, ''))).toEqual(FIXED_LINES);

    const plain = setup({ color: false });
    fixedTrace(plain.tracer).finishRoot();
    expect(plain.out[0]).not.toContain('\x1b');
  });

  it('holds at most maxTraces waiting traces: a new one prints the oldest early', async () => {
    const { tracer, out } = setup({ maxTraces: 2, idleTimeout: 60_000 });
    const roots = ['a', 'b', 'c'].map((name) => tracer.startSpan(`root-${name}`, { parent: null }));
    tracer.newChild(roots[0]!, 'child-a').finish();
    tracer.newChild(roots[1]!, 'child-b').finish();
    expect(out).toEqual([]);
    tracer.newChild(roots[0]!, 'child-a2').finish(); // same trace: no new slot
    expect(out).toEqual([]);
    tracer.newChild(roots[2]!, 'child-c').finish();
    expect(out).toHaveLength(1);
    expect(out[0]).toContain(roots[0]!.context.traceId);
    expect(out[0]).toMatch(/child-a[\s\S]*child-a2/);
    await tracer.flush();
    expect(out.slice(1).map((text) => lines(text)[0])).toEqual([`trace ${roots[1]!.context.traceId} (orders)`, `trace ${roots[2]!.context.traceId} (orders)`]);
  });

  it('a write that throws does not reach the traced code', () => {
    const attempts: string[] = [];
    const reporter = new ConsoleReporter({
      write: (text) => {
        attempts.push(text);
        throw new Error('EPIPE');
      },
    });
    const tracer = createTracer({ serviceName: 'orders', reporter, global: false });
    tracers.push(tracer);
    const result = tracer.withSpan('root', () => 'done');
    // The traced function ran and returned; the trace was written (and the write failed) inside report().
    expect(result).toBe('done');
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatch(/^trace [0-9a-f]{32} \(orders\)\n {2}root /);
    expect(tracer.stats()).toMatchObject({ spansReported: 1, reporterErrors: 0 });
  });

  const invalid: [string, ConsoleReporterOptions, string][] = [
    ['idleTimeout 0', { idleTimeout: 0 }, 'idleTimeout must be a positive number of milliseconds, got 0'],
    ['maxTraces 0', { maxTraces: 0 }, 'maxTraces must be a whole number of at least 1, got 0'],
    ['write not a function', { write: 'stdout' as unknown as (text: string) => void }, 'write must be a function (text) => void'],
    ['color not a boolean', { color: 'auto' as unknown as boolean }, 'color must be true or false, got "auto"'],
    ['an unknown key', { idleTimout: 5 } as ConsoleReporterOptions, 'idleTimout is not an option of ConsoleReporter; did you mean idleTimeout?'],
    ['an unknown key, case', { Color: true } as ConsoleReporterOptions, 'Color is not an option of ConsoleReporter; did you mean color?'],
    ['an unknown key nothing like one', { stream: process.stdout } as ConsoleReporterOptions, 'stream is not an option of ConsoleReporter; known: write, color, idleTimeout, maxTraces'],
  ];
  for (const [what, options, problem] of invalid) {
    it(`rejects ${what} with an InvalidOptionError saying what to fix`, () => {
      let error: (Error & { code?: string }) | undefined;
      try {
        new ConsoleReporter(options);
      } catch (thrown) {
        error = thrown as Error & { code?: string };
      }
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error).toBeInstanceOf(TypeError);
      expect(error?.code).toBe('ZIPTRACE_INVALID_OPTION');
      expect(error?.message).toBe(`ziptrace: ConsoleReporter: ${problem}`);
    });
  }

  it('names every problem at once', () => {
    expect(() => new ConsoleReporter({ idleTimeout: -1, maxTraces: 0, colour: true } as ConsoleReporterOptions)).toThrow(
      'ziptrace: ConsoleReporter: colour is not an option of ConsoleReporter; did you mean color?; idleTimeout must be a positive number of milliseconds, got -1; maxTraces must be a whole number of at least 1, got 0',
    );
  });

  it('rejects options that are not an object', () => {
    expect(() => new ConsoleReporter(null as unknown as ConsoleReporterOptions)).toThrow(InvalidOptionError);
    expect(() => new ConsoleReporter(null as unknown as ConsoleReporterOptions)).toThrow(/^ziptrace: ConsoleReporter: options must be an object/);
  });
});

describe('formatTrace', () => {
  it('formats spans given directly, in start order, with unknown durations and names shown', () => {
    const traceId = '463ac35c9f6413ad48485a3953bb6124';
    const spans: ZipkinSpan[] = [
      { traceId, id: '0000000000000003', parentId: '0000000000000001', timestamp: T + 2_000, duration: 999, localEndpoint: { serviceName: 'api' } },
      { traceId, id: '0000000000000001', name: 'root', timestamp: T, duration: 2_500_000, localEndpoint: { serviceName: 'api' } },
      { traceId, id: '0000000000000002', parentId: '0000000000000001', name: 'first', timestamp: T + 1_000, localEndpoint: { serviceName: 'api' }, tags: { note: 'x'.repeat(50) } },
    ];
    expect(formatTrace(spans)).toBe(
      [
        `trace ${traceId} (api)`,
        '  root                              2.50s',
        `    first                               ?  note=${'x'.repeat(39)}…`,
        '    (unnamed)                       999µs',
        '',
      ].join('\n'),
    );
  });

  it('is what ConsoleReporter prints', () => {
    const out: string[] = [];
    const captured: ZipkinSpan[] = [];
    const capture = { report: (span: ZipkinSpan) => void captured.push(span) };
    const both = createTracer({ serviceName: 'orders', reporter: [capture, new ConsoleReporter({ write: (t) => void out.push(t), color: false })], global: false });
    tracers.push(both);
    fixedTrace(both).finishRoot();
    expect(out).toEqual([formatTrace(captured)]);
    expect(formatTrace(captured, true)).not.toBe(formatTrace(captured, false));
  });
});
