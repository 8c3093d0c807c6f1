/**
 * @traced() and `using span = startSpan()` as users compile them: the fixtures
 * in spec/fixtures/decorators/ are compiled here by the real TypeScript
 * compiler (never Vitest's transformer), once with standard decorators and once
 * with `experimentalDecorators` + `emitDecoratorMetadata`, for target ES2022 so
 * that tsc downlevels decorators and `using`. They import ziptrace as a package
 * (a snapshot of the repo's built dist/) and run in real Node processes, each
 * printing what it saw as JSON, under the Node running the suite (`npm test`
 * runs the suite under each supported Node).
 *
 * Fixture layout: services.ts holds the decorated classes and scenarios.ts what
 * each process does with them; both are compiled in both modes. standard.ts and
 * experimental.ts are the two entry points (plus their mode-only cases), and
 * using.ts covers `using`.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixtureSources = join(root, 'spec', 'fixtures', 'decorators');

// ---------------------------------------------------------------------------
// What the fixtures print

interface SpanView {
  name?: string;
  id: string;
  parentId?: string;
  traceId: string;
  kind?: string;
  service?: string;
  tags: Record<string, string>;
}

interface Outcome {
  ok: boolean;
  value?: any;
  error?: unknown;
  spans: SpanView[];
}

type Results = Record<string, Outcome>;

// ---------------------------------------------------------------------------
// The Node versions to run under: the supported ones already on this machine.

interface NodeBinary {
  major: number;
  version: string;
  path: string;
}

// The Node running this suite: `npm test` runs the whole suite once per supported Node version.
const nodes: NodeBinary[] = [{ major: Number(process.versions.node.split('.')[0]), version: process.version, path: process.execPath }];

const MODES = ['standard', 'experimental'] as const;
type Mode = (typeof MODES)[number];

// ---------------------------------------------------------------------------
// dist/: fresh, then copied, so builds started by other specs or runs meanwhile cannot pull it from under the fixtures

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((name) => join(dir, name)).filter((file) => statSync(file).isFile());
}

const libSources = () => filesUnder(join(root, 'lib')).filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'));

/** The files a complete build of the current lib/ has, relative to dist/. */
function expectedDistFiles(): string[] {
  const expected = ['cjs/package.json', 'esm/index.mjs', 'esm/index.d.mts'];
  for (const source of libSources()) {
    const stem = relative(join(root, 'lib'), source).replace(/\.ts$/, '');
    expected.push(`cjs/${stem}.js`, `cjs/${stem}.d.ts`);
  }
  return expected;
}

/** 'fresh', 'stale' (a build input is newer, or an output is missing) or 'missing'. */
function distState(): 'fresh' | 'stale' | 'missing' {
  const dist = join(root, 'dist');
  // build.mjs writes dist/esm/index.mjs last.
  const marker = join(dist, 'esm', 'index.mjs');
  if (!existsSync(marker)) return 'missing';
  const builtAt = statSync(marker).mtimeMs;
  const inputs = [...libSources(), join(root, 'scripts', 'build.mjs'), join(root, 'tsconfig.json'), join(root, 'tsconfig.build.json')];
  if (inputs.some((file) => statSync(file).mtimeMs > builtAt)) return 'stale';
  if (expectedDistFiles().some((file) => !existsSync(join(dist, file)))) return 'stale';
  return 'fresh';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Copies a fresh, complete dist/ into `packageDir` as an installed ziptrace, building it first if needed. */
async function installZiptrace(packageDir: string): Promise<void> {
  let lastProblem = '';
  for (let attempt = 0; attempt < 6; attempt++) {
    const state = distState();
    if (state === 'missing' && attempt === 0) {
      // Most likely another build (`npm pack` runs `prepare`) is between its rm and its writes: give it a moment.
      await sleep(3000);
      continue;
    }
    if (state !== 'fresh') {
      try {
        await run(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, maxBuffer: 16 << 20 });
      } catch (error) {
        lastProblem = `node scripts/build.mjs failed: ${String((error as { stderr?: string }).stderr ?? error)}`;
        await sleep(1000);
        continue;
      }
    }
    rmSync(packageDir, { recursive: true, force: true });
    mkdirSync(packageDir, { recursive: true });
    try {
      cpSync(join(root, 'dist'), join(packageDir, 'dist'), { recursive: true });
      cpSync(join(root, 'package.json'), join(packageDir, 'package.json'));
    } catch (error) {
      lastProblem = `copying dist/ failed: ${String(error)}`;
      await sleep(1000);
      continue;
    }
    const missing = expectedDistFiles().filter((file) => !existsSync(join(packageDir, 'dist', file)));
    if (missing.length === 0) return;
    lastProblem = `the copy of dist/ lacks ${missing.join(', ')}`;
    await sleep(1000);
  }
  throw new Error(`could not get a complete, fresh build of ziptrace: ${lastProblem}`);
}

// ---------------------------------------------------------------------------
// Compiling the fixtures with tsc

const BASE_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts', 'lib.esnext.decorators.d.ts'],
  strict: true,
  noImplicitOverride: true,
  skipLibCheck: true,
  types: ['node'],
  typeRoots: [join(root, 'node_modules', '@types')],
  noEmitOnError: false,
};

const PROGRAMS = {
  standard: { roots: ['standard.ts'], options: {} },
  experimental: { roots: ['experimental.ts'], options: { experimentalDecorators: true, emitDecoratorMetadata: true } },
  using: { roots: ['using.ts'], options: {} },
} satisfies Record<string, { roots: string[]; options: ts.CompilerOptions }>;
type ProgramName = keyof typeof PROGRAMS;

interface Compiled {
  diagnostics: string[];
  /** Emitted JavaScript by file name. */
  js: Record<string, string>;
}

function compile(work: string, name: ProgramName): Compiled {
  const src = join(work, 'src');
  const outDir = join(work, name);
  const { roots, options } = PROGRAMS[name];
  const program = ts.createProgram(
    roots.map((file) => join(src, file)),
    { ...BASE_OPTIONS, ...options, rootDir: src, outDir },
  );
  const emitted = program.emit();
  const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => src, getNewLine: () => '\n' };
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics].map((d) => ts.formatDiagnostic(d, host).trim());
  const js: Record<string, string> = {};
  for (const file of readdirSync(outDir)) if (file.endsWith('.js')) js[file] = readFileSync(join(outDir, file), 'utf8');
  return { diagnostics, js };
}

// ---------------------------------------------------------------------------
// Running the compiled fixtures

async function runFixture(node: NodeBinary, work: string, script: string, args: string[]): Promise<any> {
  try {
    const { stdout } = await run(node.path, [join(work, script), ...args], { cwd: work, timeout: 60_000, maxBuffer: 16 << 20 });
    return JSON.parse(stdout);
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`node ${node.version} ${script} ${args.join(' ')} failed:\n${stderr ?? ''}\n${stdout ?? ''}`, { cause: error });
  }
}

let work = '';
const compiled = new Map<ProgramName, Compiled>();
const results = new Map<string, Results>();
const usingResults = new Map<string, any>();
const key = (node: NodeBinary, mode: Mode, tracing: boolean) => `${node.version}/${mode}/${tracing ? 'traced' : 'no-tracer'}`;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ziptrace-decorators-'));
  await installZiptrace(join(work, 'node_modules', 'ziptrace'));
  symlinkSync(join(root, 'node_modules', 'reflect-metadata'), join(work, 'node_modules', 'reflect-metadata'), 'dir');
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'decorator-fixtures', private: true, type: 'module' }));
  cpSync(fixtureSources, join(work, 'src'), { recursive: true });
  for (const name of Object.keys(PROGRAMS) as ProgramName[]) compiled.set(name, compile(work, name));

  const jobs: Promise<void>[] = [];
  for (const node of nodes) {
    for (const mode of MODES) {
      for (const tracing of [true, false]) {
        jobs.push(runFixture(node, work, `${mode}/${mode}.js`, [tracing ? 'traced' : 'no-tracer']).then((out: Results) => void results.set(key(node, mode, tracing), out)));
      }
    }
    jobs.push(runFixture(node, work, 'using/using.js', []).then((out) => void usingResults.set(node.version, out)));
  }
  await Promise.all(jobs);
}, 300_000);

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------
// Reading the results

function outcome(node: NodeBinary, mode: Mode, tracing: boolean, scenario: string): Outcome {
  const all = results.get(key(node, mode, tracing));
  expect(all, `results of ${key(node, mode, tracing)}`).toBeDefined();
  const out = all![scenario];
  expect(out, `scenario ${scenario}`).toBeDefined();
  expect(out!.error, `scenario ${scenario} threw`).toBeUndefined();
  expect(out!.ok).toBe(true);
  return out!;
}

function named(spans: SpanView[], name: string): SpanView[] {
  return spans.filter((span) => span.name === name);
}

/** The only span with this name. */
function only(spans: SpanView[], name: string): SpanView {
  const found = named(spans, name);
  expect(found.map((span) => span.name), `spans named ${name} among ${JSON.stringify(spans.map((s) => s.name))}`).toEqual([name]);
  return found[0]!;
}

const names = (spans: SpanView[]) => spans.map((span) => span.name);

function expectChildOf(child: SpanView, parent: SpanView): void {
  expect(child.parentId, `${child.name} should be a child of ${parent.name}`).toBe(parent.id);
  expect(child.traceId).toBe(parent.traceId);
}

// ---------------------------------------------------------------------------

describe('decorator fixtures compiled by tsc', () => {
  it('found at least the running Node to run them under', () => {
    expect(nodes.map((node) => node.major)).toContain(Number(process.versions.node.split('.')[0]));
  });

  it.each(Object.keys(PROGRAMS) as ProgramName[])('%s: type-checks with no diagnostics (misuse is a type error too: its @ts-expect-error lines are used)', (name) => {
    expect(compiled.get(name)!.diagnostics).toEqual([]);
  });

  it('downlevels standard decorators (__esDecorate), not experimental ones, and leaves no decorator syntax for Node', () => {
    const { js } = compiled.get('standard')!;
    expect(js['services.js']).toContain('__esDecorate(');
    expect(js['services.js']).not.toContain('__decorate(');
    for (const [file, text] of Object.entries(js)) expect(text, file).not.toMatch(/^\s*@\w/m);
  });

  it('downlevels experimental decorators (__decorate) with design-time metadata', () => {
    const { js } = compiled.get('experimental')!;
    expect(js['services.js']).toContain('__decorate(');
    expect(js['services.js']).toContain('__metadata("design:paramtypes"');
    expect(js['services.js']).not.toContain('__esDecorate(');
    for (const [file, text] of Object.entries(js)) expect(text, file).not.toMatch(/^\s*@\w/m);
  });

  it('downlevels `using` (__addDisposableResource)', () => {
    const { js } = compiled.get('using')!;
    expect(js['using.js']).toContain('__addDisposableResource(');
    expect(js['using.js']).not.toMatch(/^\s*using /m);
  });
});

describe.each(nodes.flatMap((node) => MODES.map((mode) => ({ node, mode, label: `${mode} decorators, Node ${node.version}` }))))('@traced() with $label', ({ node, mode }) => {
  const get = (scenario: string) => outcome(node, mode, true, scenario);

  describe('method kinds', () => {
    it('sync: one span named Class.method; `this`, arguments and return value kept; the span is active inside only', () => {
      const { value, spans } = get('sync');
      const echo = only(spans, 'Inventory.echo');
      expect(spans).toHaveLength(1);
      expect(echo.parentId).toBeUndefined();
      expect(echo.tags).toEqual({});
      expect(echo.service).toBe('inventory');
      expect(value).toEqual({ sameThis: true, args: [1, 2], active: echo.id, activeAfter: null });
      expect(get('returnValue').value).toEqual({ same: true, undefinedStays: true });
    });

    it('async: the span ends when the promise settles, and spans started after awaits nest under it', () => {
      const { value, spans } = get('async');
      expect(value).toEqual({ isPromise: true, reportedBeforeSettled: 0, value: 'shop:7', activeAfter: null });
      const load = only(spans, 'Inventory.load');
      expect(load.tags).toEqual({ item: '7' });
      expectChildOf(only(spans, 'load.query'), load);
      expect(names(spans)).toEqual(['load.query', 'Inventory.load']);
    });

    it('generator: the span stays open across iterations and ends when iteration is done; body spans nest under it, consumer spans do not', () => {
      const { value, spans } = get('generator');
      expect(value.steps).toEqual([
        { value: 0, done: false },
        { value: 1, done: false },
        { value: 2, done: false },
        { value: 'ids done', done: true },
      ]);
      // How many Inventory.ids spans were reported after each next().
      expect(value.reported).toEqual([0, 0, 0, 1]);
      expect(value.log).toEqual(['ids finally']);
      const request = only(spans, 'request');
      expect(value.activeAfter).toBe(request.id);
      const ids = only(spans, 'Inventory.ids');
      expectChildOf(ids, request);
      expect(ids.tags).toEqual({});
      const steps = named(spans, 'ids.step');
      expect(steps.map((step) => step.tags.i)).toEqual(['0', '1', '2']);
      for (const step of steps) expectChildOf(step, ids);
      const consumer = named(spans, 'consumer.step');
      expect(consumer).toHaveLength(3);
      for (const step of consumer) expectChildOf(step, request);
    });

    it('async generator: the span stays open across iterations (and awaits) and ends when iteration is done; body spans nest under it, consumer spans do not', () => {
      const { value, spans } = get('asyncGenerator');
      expect(value.steps).toEqual([
        { value: 0, done: false },
        { value: 1, done: false },
        { value: 2, done: false },
        { value: 'stream done', done: true },
      ]);
      expect(value.reported).toEqual([0, 0, 0, 1]);
      expect(value.log).toEqual(['stream s finally']);
      const request = only(spans, 'request');
      expect(value.activeAfter).toBe(request.id);
      const stream = only(spans, 'Inventory.stream');
      expectChildOf(stream, request);
      expect(stream.tags).toEqual({ stream: 's' });
      const steps = named(spans, 'stream.step');
      expect(steps.map((step) => step.tags.i)).toEqual(['0', '1', '2']);
      for (const step of steps) expectChildOf(step, stream);
      for (const step of named(spans, 'consumer.step')) expectChildOf(step, request);
    });

    it('static: named after the declaring class even when called on a subclass, with `this` the class called on', () => {
      const { value, spans } = get('static');
      expect(value).toEqual({ plain: { label: 'x', class: 'Inventory' }, sub: { label: 'y', class: 'SpecialInventory' }, format: '#3' });
      expect(names(spans)).toEqual(['Inventory.create', 'Inventory.create', 'Inventory.format']);
      for (const span of spans) expect(span.parentId).toBeUndefined();
    });
  });

  describe('span names', () => {
    it('called on a subclass instance, the default name stays the declaring class (even on the very first call)', () => {
      const { value, spans } = get('subclass');
      expect(value).toEqual({ first: 'sp', echo: true, load: 'special sp:z' });
      expect(names(spans)).toEqual(['Inventory.firstCalledOnSubclass', 'Inventory.echo', 'load.query', 'Inventory.load']);
    });

    it('a decorated override calling its decorated base method: SubClass.method around BaseClass.method', () => {
      const { value, spans } = get('subclassOverride');
      expect(value).toBe('audited au:q');
      const audited = only(spans, 'AuditedInventory.load');
      const base = only(spans, 'Inventory.load');
      expectChildOf(base, audited);
      expectChildOf(only(spans, 'load.query'), base);
    });

    it("@traced('custom') and @traced({ name, kind, tags })", () => {
      const { spans } = get('names');
      expect(only(spans, 'inventory.custom').tags).toEqual({});
      const options = only(spans, 'inventory.options');
      expect(options.kind).toBe('CLIENT');
      expect(options.tags).toEqual({ 'db.system': 'memory', 'db.shard': '3' });
    });

    it('a computed (string constant) method name is the name', () => {
      const { value, spans } = get('names');
      expect(value.computed).toBe('dynamic');
      only(spans, 'Inventory.dynamicName');
    });

    it('a symbol-named method is named after its class, like any other', () => {
      const { value, spans } = get('names');
      expect(value.symbol).toBe('lookup k');
      const symbolSpan = spans.find((span) => span.name?.includes('lookup'));
      expect(symbolSpan?.name).toMatch(/^Inventory\..*lookup/);
    });

    it('a method first called detached (no `this`, as a callback) is still named Class.method, then and afterwards', () => {
      const { value, spans } = get('detached');
      expect(value).toEqual(['detached', 'detached', 1, 2]);
      expect(names(spans)).toEqual(['Inventory.detachedFirst', 'Inventory.detachedFirst', 'Inventory.parse', 'Inventory.parse']);
    });

    it('another decorator that wraps the method (above or below @traced) does not change the default name', () => {
      const { value, spans } = get('stackedWrappers');
      expect(value).toEqual(['wrapped above', 'wrapped below']);
      expect(names(spans)).toEqual(['Inventory.wrappedAbove', 'Inventory.wrappedBelow']);
    });

    it('@traced({ tracer }) uses that tracer, still under the active span', () => {
      const { value, spans } = get('pinnedTracer');
      expect(value).toEqual(['pinned', 'pinned']);
      const [outside, inside] = named(spans, 'Pinned.run');
      expect(outside!.service).toBe('pinned');
      expect(outside!.parentId).toBeUndefined();
      expect(inside!.service).toBe('pinned');
      expectChildOf(inside!, only(spans, 'request'));
    });

    it('bad arguments to traced() throw an InvalidArgumentError (a TypeError) that says what to pass', () => {
      const { value } = get('badArguments');
      expect(value.empty).toEqual({ class: 'InvalidArgumentError', message: expect.stringMatching(/@traced\(name\).*non-empty string/) });
      expect(value.number).toEqual({ class: 'InvalidArgumentError', message: expect.stringMatching(/@traced\(nameOrOptions\).*got 42/) });
    });
  });

  describe('nesting', () => {
    it('a traced method called inside withSpan is its child, and the span is active in the method only', () => {
      const { value, spans } = get('nestedUnderWithSpan');
      const request = only(spans, 'request');
      const echo = only(spans, 'Inventory.echo');
      expectChildOf(echo, request);
      expect(value).toEqual({ requestId: request.id, active: echo.id, activeAfter: request.id });
    });

    it('traced methods calling traced methods nest (sync)', () => {
      const { value, spans } = get('nestedSync');
      expect(value).toBe('outer(inner)');
      const outer = only(spans, 'Inventory.outer');
      expect(outer.parentId).toBeUndefined();
      expectChildOf(only(spans, 'Inventory.inner'), outer);
    });

    it('traced methods calling traced methods nest (async, across awaits)', () => {
      const { value, spans } = get('nestedAsync');
      expect(value).toEqual(['main:nested', 'innerAsync']);
      const request = only(spans, 'request');
      const outer = only(spans, 'Inventory.outerAsync');
      const load = only(spans, 'Inventory.load');
      expectChildOf(outer, request);
      expectChildOf(load, outer);
      expectChildOf(only(spans, 'load.query'), load);
      expectChildOf(only(spans, 'Inventory.innerAsync'), outer);
    });

    it('traced generators delegating (yield*) to traced generators nest, and so does a traced call in a generator body', () => {
      const { value, spans } = get('nestedGenerators');
      expect(value).toEqual({ pipeline: ['main:pipeline', 0, 1], pairs: [0, 1] });
      const request = only(spans, 'request');
      const pipeline = only(spans, 'Inventory.pipeline');
      expectChildOf(pipeline, request);
      expectChildOf(only(spans, 'Inventory.load'), pipeline);
      const stream = only(spans, 'Inventory.stream');
      expectChildOf(stream, pipeline);
      for (const step of named(spans, 'stream.step')) expectChildOf(step, stream);
      const pairs = only(spans, 'Inventory.pairs');
      expectChildOf(pairs, request);
      const ids = only(spans, 'Inventory.ids');
      expectChildOf(ids, pairs);
      for (const step of named(spans, 'ids.step')) expectChildOf(step, ids);
    });

    it('an async generator made in one span and consumed in another: its span is a child of the first, its body stays under it', () => {
      const { value, spans } = get('asyncGeneratorLaterConsumer');
      expect(value).toEqual([0, 1]);
      const producer = only(spans, 'producer.request');
      const consumer = only(spans, 'consumer.request');
      const stream = only(spans, 'Inventory.stream');
      expectChildOf(stream, producer);
      for (const step of named(spans, 'stream.step')) expectChildOf(step, stream);
      expectChildOf(only(spans, 'consumer.after'), consumer);
    });

    it('two async generators iterated at once each keep their own span', () => {
      const { value, spans } = get('asyncGeneratorsInterleaved');
      expect(value).toEqual({ a: [0, 1, 2], b: [0, 1, 2] });
      const request = only(spans, 'request');
      const streams = named(spans, 'Inventory.stream');
      expect(streams.map((s) => s.tags.stream).sort()).toEqual(['a', 'b']);
      for (const stream of streams) {
        expectChildOf(stream, request);
        const steps = named(spans, 'stream.step').filter((step) => step.tags.stream === stream.tags.stream);
        expect(steps).toHaveLength(3);
        for (const step of steps) expectChildOf(step, stream);
      }
    });

    it('concurrent calls of an async method each keep their own span', () => {
      const { value, spans } = get('concurrentAsync');
      expect(value).toEqual(['main:a', 'main:b', 'main:c']);
      const request = only(spans, 'request');
      const loads = named(spans, 'Inventory.load');
      expect(loads).toHaveLength(3);
      for (const load of loads) {
        expectChildOf(load, request);
        const queries = named(spans, 'load.query').filter((query) => query.tags.item === load.tags.item);
        expect(queries).toHaveLength(1);
        expectChildOf(queries[0]!, load);
      }
    });

    it('no span leaks into the caller after a sync call, an await, or a generator step', () => {
      const { value } = get('noLeak');
      expect(value).toEqual({
        before: null,
        afterAsync: null,
        afterSync: null,
        afterGeneratorStep: null,
        afterAsyncGeneratorStep: null,
        insideRequestIsRequest: 'yes',
      });
    });
  });

  describe('ending generator spans', () => {
    it('break and early return() end a generator span, without an error', () => {
      const { value, spans } = get('generatorBreak');
      expect(value).toEqual({ values: [0, 1], reportedAfterBreak: 1, early: { value: 'early', done: true }, log: ['ids finally'] });
      const ids = named(spans, 'Inventory.ids');
      expect(ids).toHaveLength(2);
      for (const span of ids) expect(span.tags.error).toBeUndefined();
    });

    it('break and early return() end an async generator span, without an error', () => {
      const { value, spans } = get('asyncGeneratorBreak');
      expect(value).toEqual({ values: [0, 1], reportedAfterBreak: 1, early: { value: 'early', done: true }, log: ['stream s finally'] });
      const streams = named(spans, 'Inventory.stream');
      expect(streams).toHaveLength(2);
      for (const span of streams) expect(span.tags.error).toBeUndefined();
    });

    it('a throw in the consumer loop ends the generator span (not the generator failing: no error tag) and propagates unchanged', () => {
      for (const [scenario, name, log] of [
        ['generatorConsumerThrows', 'Inventory.ids', 'ids finally'],
        ['asyncGeneratorConsumerThrows', 'Inventory.stream', 'stream s finally'],
      ] as const) {
        const { value, spans } = get(scenario);
        expect(value, scenario).toEqual({ same: true, threw: true, reported: 1, log: [log] });
        expect(only(spans, name).tags.error).toBeUndefined();
      }
    });

    it('a generator body that throws, or iterator.throw(), ends the span with the error tag; the error propagates unchanged', () => {
      const { value, spans } = get('generatorThrows');
      expect(value).toEqual({ body: { same: true, threw: true }, viaThrow: { same: true, threw: true }, log: ['ids finally'] });
      expect(only(spans, 'Inventory.failingIds').tags).toEqual({ error: 'ids failed' });
      expect(only(spans, 'Inventory.ids').tags).toEqual({ error: 'thrown in' });
    });

    it('an async generator body that throws, or iterator.throw(), ends the span with the error tag; the error propagates unchanged', () => {
      const { value, spans } = get('asyncGeneratorThrows');
      expect(value).toEqual({ body: { same: true, threw: true }, viaThrow: { same: true, threw: true }, log: ['stream s finally'] });
      expect(only(spans, 'Inventory.failingStream').tags).toEqual({ error: 'stream failed' });
      expect(only(spans, 'Inventory.stream').tags).toEqual({ error: 'thrown in', stream: 's' });
    });

    it('`using` / `await using` a traced generator ends its span at the end of the block', () => {
      const { value, spans } = get('usingGenerator');
      expect(value).toEqual({
        first: { value: 0, done: false },
        reportedInside: 0,
        reportedAfter: 1,
        firstAsync: { value: 0, done: false },
        reportedInsideAsync: 0,
        reportedAfterAsync: 1,
        log: ['ids finally', 'stream s finally'],
      });
      expect(names(spans)).toEqual(['ids.step', 'Inventory.ids', 'stream.step', 'Inventory.stream']);
    });
  });

  describe('errors', () => {
    it('thrown and rejected errors set the error tag and propagate unchanged (same object, class and fields)', () => {
      const { value, spans } = get('errors');
      expect(value).toEqual({
        sync: { same: true, threw: true },
        async: { same: true, threw: true },
        rejectsAsPromise: true,
        string: { same: true, threw: true },
        coded: { same: true, instance: true, code: 'E42' },
      });
      expect(spans.map((span) => [span.name, span.tags])).toEqual([
        ['Inventory.fail', { error: 'coded failed' }],
        ['Inventory.fail', { error: 'sync failed' }],
        ['Inventory.reject', { error: 'async failed' }],
        ['Inventory.fail', { error: 'plain string' }],
      ]);
    });

    it('ignoredErrors classes (and their subclasses) leave the error tag off, in every method kind; the errors still propagate', () => {
      const { value, spans } = get('ignoredClasses');
      expect(value).toEqual(Array(5).fill({ same: true, threw: true }));
      expect(names(spans)).toEqual(['Inventory.fail', 'Inventory.reject', 'Inventory.fail', 'Inventory.failingIds', 'Inventory.failingStream']);
      for (const span of spans) expect(span.tags, span.name).toEqual({});
    });

    it("an ignoredErrors predicate leaves the tag off what it matches, on the active span's tracer", () => {
      const { value, spans } = get('ignoredPredicate');
      expect(value).toEqual(Array(4).fill({ same: true, threw: true }));
      const request = only(spans, 'predicate.request');
      const traced = spans.filter((span) => span !== request);
      expect(traced.map((span) => [span.name, span.service, span.tags.error])).toEqual([
        ['Inventory.fail', 'predicate', undefined],
        ['Inventory.reject', 'predicate', undefined],
        ['Inventory.fail', 'predicate', 'counted'],
        // IgnoredError is only ignored by the global tracer, not by this one.
        ['Inventory.reject', 'predicate', 'class not listed here'],
      ]);
      for (const span of traced) expectChildOf(span, request);
    });
  });

  describe('the decorated method', () => {
    it('keeps its name, length and property attributes', () => {
      const { value } = get('functionShape');
      expect(value).toEqual({
        echo: { name: 'echo', length: 2 },
        identity: { name: 'identity', length: 1 },
        load: { name: 'load', length: 1 },
        ids: { name: 'ids', length: 1 },
        stream: { name: 'stream', length: 1 },
        withParams: { name: 'withParams', length: 2 },
        lookup: { name: '[lookup]', length: 1 },
        dynamic: { name: 'dynamicName', length: 0 },
        create: { name: 'create', length: 1 },
        descriptor: { enumerable: false, writable: true, configurable: true },
        withParamsResult: 'id/2/false',
      });
    });

    it('keeps reflect-metadata set on the method by a Nest-style decorator placed above or below @traced', () => {
      const { value, spans } = get('metadata');
      expect(value).toEqual({ above: '/above', below: '/below', aboveOwn: '/above', belowOwn: '/below', routes: ['above', 'below'], calls: ['above', 'below'] });
      // The method carrying the metadata is the traced one.
      expect(names(spans)).toEqual(['Inventory.above', 'Inventory.below']);
    });

    it('returns a thenable that is not a promise as it is, without calling its then()', () => {
      // Query builders (knex, mongoose) are thenables whose then() runs the query.
      const { value } = get('thenableReturn');
      expect(value).toEqual({ same: true, chainable: true, executedWithoutAwait: 0 });
    });
  });

  describe('misuse', () => {
    if (mode === 'standard') {
      it('on a field, getter, setter or auto-accessor throws an InvalidArgumentError naming the member and what it is', () => {
        const { value } = get('misuse');
        expect(value).toEqual({
          field: { class: 'InvalidArgumentError', message: expect.stringMatching(/@traced\(\) decorates methods, not a field \(amount\)/) },
          getter: { class: 'InvalidArgumentError', message: expect.stringMatching(/@traced\(\) decorates methods, not a getter \(total\)/) },
          setter: { class: 'InvalidArgumentError', message: expect.stringMatching(/@traced\(\) decorates methods, not a setter \(total\)/) },
          accessor: { class: 'InvalidArgumentError', message: expect.stringMatching(/@traced\(\) decorates methods, not an? accessor \(amount\)/) },
        });
      });
    } else {
      it('on a getter or field throws an InvalidArgumentError naming the member', () => {
        const { value } = get('misuse');
        expect(value).toEqual({
          getter: { class: 'InvalidArgumentError', message: expect.stringMatching(/@traced\(\) decorates methods, not total: it has no function value/) },
          field: { class: 'InvalidArgumentError', message: expect.stringMatching(/@traced\(\) decorates methods, not amount: it has no function value/) },
        });
      });

      it('leaves emitDecoratorMetadata design types readable on prototype + key', () => {
        const { value } = get('designMetadata');
        expect(value).toEqual({
          paramtypes: ['String', 'Number', 'Boolean'],
          returntype: 'String',
          type: 'Function',
          loadParamtypes: ['String'],
          staticParamtypes: ['String'],
        });
      });
    }
  });

  describe('with no tracer at all (createTracer never called)', () => {
    const bare = (scenario: string) => outcome(node, mode, false, scenario);

    it('decorated methods of every kind just run and return their values; nothing is recorded', () => {
      expect(bare('sync').value).toEqual({ sameThis: true, args: [1, 2], active: null, activeAfter: null });
      expect(bare('returnValue').value).toEqual({ same: true, undefinedStays: true });
      expect(bare('async').value).toEqual({ isPromise: true, reportedBeforeSettled: null, value: 'shop:7', activeAfter: null });
      expect(bare('generator').value.steps).toEqual([
        { value: 0, done: false },
        { value: 1, done: false },
        { value: 2, done: false },
        { value: 'ids done', done: true },
      ]);
      expect(bare('asyncGenerator').value.steps).toEqual([
        { value: 0, done: false },
        { value: 1, done: false },
        { value: 2, done: false },
        { value: 'stream done', done: true },
      ]);
      expect(bare('generatorBreak').value).toEqual({ values: [0, 1], reportedAfterBreak: null, early: { value: 'early', done: true }, log: ['ids finally'] });
      expect(bare('asyncGeneratorBreak').value).toEqual({ values: [0, 1], reportedAfterBreak: null, early: { value: 'early', done: true }, log: ['stream s finally'] });
      expect(bare('static').value).toEqual({ plain: { label: 'x', class: 'Inventory' }, sub: { label: 'y', class: 'SpecialInventory' }, format: '#3' });
      expect(bare('subclass').value).toEqual({ first: 'sp', echo: true, load: 'special sp:z' });
      expect(bare('subclassOverride').value).toBe('audited au:q');
      expect(bare('names').value).toEqual({ custom: 'custom', options: 'options', symbol: 'lookup k', computed: 'dynamic' });
      expect(bare('detached').value).toEqual(['detached', 'detached', 1, 2]);
      expect(bare('nestedSync').value).toBe('outer(inner)');
      expect(bare('nestedAsync').value).toEqual(['main:nested', 'innerAsync']);
      expect(bare('nestedGenerators').value).toEqual({ pipeline: ['main:pipeline', 0, 1], pairs: [0, 1] });
      expect(bare('concurrentAsync').value).toEqual(['main:a', 'main:b', 'main:c']);
      expect(bare('thenableReturn').value).toEqual({ same: true, chainable: true, executedWithoutAwait: 0 });
      const all = results.get(key(node, mode, false))!;
      for (const [scenario, out] of Object.entries(all)) expect(out.spans, scenario).toEqual([]);
    });

    it('errors propagate unchanged, from every method kind', () => {
      expect(bare('errors').value).toEqual({
        sync: { same: true, threw: true },
        async: { same: true, threw: true },
        rejectsAsPromise: true,
        string: { same: true, threw: true },
        coded: { same: true, instance: true, code: 'E42' },
      });
      expect(bare('ignoredClasses').value).toEqual(Array(5).fill({ same: true, threw: true }));
      expect(bare('generatorThrows').value).toEqual({ body: { same: true, threw: true }, viaThrow: { same: true, threw: true }, log: ['ids finally'] });
      expect(bare('asyncGeneratorThrows').value).toEqual({ body: { same: true, threw: true }, viaThrow: { same: true, threw: true }, log: ['stream s finally'] });
    });

    it('the method keeps its name, length and metadata', () => {
      expect(bare('functionShape').value).toEqual(get('functionShape').value);
      expect(bare('metadata').value).toEqual(get('metadata').value);
      if (mode === 'experimental') expect(bare('designMetadata').value).toEqual(get('designMetadata').value);
      expect(bare('misuse').value).toEqual(get('misuse').value);
    });
  });
});

describe.each(nodes.map((node) => ({ node, label: `Node ${node.version}` })))('both decorator modes agree, $label', ({ node }) => {
  it('on the span names of every scenario', () => {
    const standard = results.get(key(node, 'standard', true))!;
    const experimental = results.get(key(node, 'experimental', true))!;
    const shared = Object.keys(standard).filter((scenario) => scenario in experimental && scenario !== 'misuse');
    expect(shared.length).toBeGreaterThan(20);
    const spanNames = (all: Results) => Object.fromEntries(shared.map((scenario) => [scenario, names(all[scenario]!.spans)]));
    expect(spanNames(standard)).toEqual(spanNames(experimental));
  });

  it('on what every scenario returned', () => {
    const standard = results.get(key(node, 'standard', true))!;
    const experimental = results.get(key(node, 'experimental', true))!;
    // Span ids differ from run to run; everything else must not.
    const volatile = new Set(['sync', 'nestedUnderWithSpan', 'generator', 'asyncGenerator']);
    for (const scenario of Object.keys(standard)) {
      if (!(scenario in experimental) || scenario === 'misuse' || volatile.has(scenario)) continue;
      expect(standard[scenario]!.value, scenario).toEqual(experimental[scenario]!.value);
    }
  });
});

describe.each(nodes.map((node) => ({ node, label: `Node ${node.version}` })))('using span = startSpan(), $label', ({ node }) => {
  const got = () => usingResults.get(node.version)!;
  const span = (name: string) => {
    const found = (got().spans as { name: string; id: string; parentId?: string; tags: Record<string, string> }[]).filter((s) => s.name === name);
    expect(found, name).toHaveLength(1);
    return found[0]!;
  };

  it('finishes the span at the end of the block, and does not make it active', () => {
    const block = got().block;
    expect(block.xParent).toBe(block.outerId);
    expect(block.activeInside).toBe(block.outerId);
    expect(block.recordingInside).toBe(true);
    expect(block.reportedInside).toBe(0);
    expect(block.reportedAfter).toBe(1);
    expect(block.activeAfter).toBe(block.outerId);
    const x = span('x');
    expect(x.id).toBe(block.xId);
    expect(x.parentId).toBe(block.outerId);
    // Started inside the block, but a child of the active span (outer), not of x.
    expect(span('started inside').parentId).toBe(block.outerId);
  });

  it('finishes the span when the block throws, and the error propagates unchanged', () => {
    expect(got().throwing).toEqual({ same: true, reported: 1 });
    expect(span('throwing').tags).toEqual({ step: 'before' });
  });

  it('across an await in the block: still not active, finished at the end of the block', () => {
    const asyncBlock = got().asyncBlock;
    expect(asyncBlock.activeAfterAwait).toBe(asyncBlock.outerId);
    expect(asyncBlock).toMatchObject({ reportedInside: 0, recordingInside: true, reportedAfter: 1 });
    expect(span('async x').parentId).toBe(asyncBlock.outerId);
  });

  it('with no tracer, startSpan() hands out a span that records nothing and can be disposed', () => {
    expect(got().noTracer).toEqual({ recording: false, active: null });
  });
});
