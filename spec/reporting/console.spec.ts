/**
 * ConsoleReporter and formatTrace: each finished trace as an indented tree
 * with durations, kinds, tags and annotations, errors marked; printed when
 * the local root finishes, after idleTimeout without a new span, or on flush.
 */
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleReporter, createEndpoint, createTracer, formatTrace, type Tracer, type ZipkinSpan } from '../../lib/index.js';
import { sleep, waitFor } from '../helpers/collector.js';

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

  it('prints a trace whose root never finishes once idleTimeout passes without a new span', async () => {
    const { tracer, out } = setup({ idleTimeout: 100 });
    const root = tracer.startSpan('job', { parent: null });
    const started = performance.now();
    tracer.withActive(root, () => {
      tracer.withSpan('step-1', () => {});
      tracer.withSpan('step-2', () => {});
    });
    expect(out).toEqual([]);
    await waitFor(() => out.length === 1, 'the idle trace to print');
    expect(performance.now() - started).toBeGreaterThanOrEqual(80);
    // The spans whose parent is not in the trace print at the top level.
    expect(lines(out[0]!)).toEqual([
      `trace ${root.context.traceId} (orders)`,
      expect.stringMatching(new RegExp(`^  step-1 +${DURATION}$`)),
      expect.stringMatching(new RegExp(`^  step-2 +${DURATION}$`)),
    ]);
    // Printed once: the trace is gone from the reporter.
    await sleep(250);
    expect(out).toHaveLength(1);
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
    const reporter = new ConsoleReporter({
      write: () => {
        throw new Error('EPIPE');
      },
    });
    const tracer = createTracer({ serviceName: 'orders', reporter, global: false });
    tracers.push(tracer);
    expect(() => tracer.withSpan('root', () => {})).not.toThrow();
    expect(tracer.stats()).toMatchObject({ spansReported: 1, reporterErrors: 0 });
  });

  it('validates its options', () => {
    expect(() => new ConsoleReporter({ idleTimeout: 0 })).toThrow(/idleTimeout must be a positive number/);
    expect(() => new ConsoleReporter({ maxTraces: 0 })).toThrow(/maxTraces must be a whole number of at least 1/);
    expect(() => new ConsoleReporter({ write: 'stdout' as unknown as (text: string) => void })).toThrow(/write must be a function/);
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
