/**
 * The span and context kept for their classes' sake (SHAPE_SPANS in
 * lib/span.ts, SHAPE_CONTEXT in lib/trace-context.ts): a full collection that
 * finds no span alive must not throw away the optimized code that makes,
 * tags and finishes spans.
 *
 * V8 reaches an object's final map through transitions it holds weakly, and
 * optimized code holds its maps weakly; when the maps die, the code is
 * deoptimized with the reason "weak objects" (--trace-deopt). In a child
 * process on lib/ transpiled: spans made until their code is optimized, two
 * full collections with none alive, then more spans; every deoptimization
 * of the run is read (V8 prints them through a buffer of its own, so marks
 * printed by the child would not say which came when). A class of the child's own, made and dropped the same way, is the
 * control: its code must be thrown away, or this Node's V8 no longer says
 * so and the check would prove nothing.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from './helpers/child-processes.js';
import { transpileLib } from './helpers/transpiled-lib.js';

let libDir: string | undefined;
afterAll(() => {
  if (libDir !== undefined) rmSync(libDir, { recursive: true, force: true });
});

/** The functions whose code V8 threw away for "weak objects", by name, in `trace`. */
function weakObjectDeopts(trace: string): string[] {
  const names = new Set<string>();
  for (const line of trace.split('\n')) {
    if (!line.includes('weak objects')) continue;
    const name = /<SharedFunctionInfo ([^>]*)>/.exec(line)?.[1];
    if (name !== undefined) names.add(name);
  }
  return [...names].sort();
}

describe('a full collection with no span alive', () => {
  it('keeps the code of spans and contexts optimized (a class of the app’s own, the control, loses it)', async () => {
    libDir ??= transpileLib('ziptrace-span-shapes-');
    const file = join(libDir, 'shapes-child.mjs');
    writeFileSync(
      file,
      `const { createTracer } = await import(${JSON.stringify(pathToFileURL(join(libDir, 'index.js')).href)});
const tracer = createTracer({ serviceName: 'shapes', reporter: { report() {} }, global: false });
class ControlShape { constructor(a) { this.a = a; this.b = a + 1; } }
// Kept a moment, as an app keeps its objects (one that never escapes a loop is never made at all), then let go.
let held = [];
function controlLoop() {
  for (let i = 0; i < 20000; i++) held[i & 7] = new ControlShape(i);
}
function work() {
  for (let i = 0; i < 20000; i++) {
    tracer.startSpan('op', { kind: 'SERVER', tags: { 'http.method': 'GET' } }).tag('http.status_code', 200).finish();
    tracer.withSpan('child', (span) => span.annotate('x'));
  }
}
for (let round = 0; round < 10; round++) {
  work();
  controlLoop();
}
held = [];
// From a fresh stack: a stack slot of this module's code may still hold the last object made, and its map with it.
await new Promise((resolve) => setImmediate(resolve));
globalThis.gc();
globalThis.gc();
work();
controlLoop();
`,
    );
    const { code, output } = await run(process.execPath, ['--expose-gc', '--trace-deopt', file], { cwd: libDir, timeout: 60_000 });
    expect(code, output.slice(-2000)).toBe(0);
    const thrownAway = weakObjectDeopts(output);
    // The control's constructor, or the loop it was inlined into, whichever V8 compiled on its own.
    expect(thrownAway.filter((name) => name === 'ControlShape' || name === 'controlLoop'), 'the control class’s code, whose map died').not.toEqual([]);
    // Before SHAPE_SPANS and SHAPE_CONTEXT: RecordingSpan, CheckedContext, makeContext, _cutName, _tag, tag, finish,
    // spanFinished, startSpan and more, on Node 20, 22 and 24 alike.
    expect(thrownAway.filter((name) => name !== 'ControlShape' && name !== 'controlLoop')).toEqual([]);
  }, 60_000);
});
