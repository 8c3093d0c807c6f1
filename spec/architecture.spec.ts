/**
 * The map of the house, checked: data flows one way (user code → tracer →
 * span → encoding → reporting), so the modules that encode, report and
 * propagate never import the tracer side; there is no import cycle, not even
 * of types; the small shared modules import only each other; the core imports
 * only `node:` built-ins; lib/index.ts and lib/http.ts only re-export (the
 * side-effect entry lib/register.ts only calls the zero-code start); and
 * only lib/http.ts reaches lib/instrumentation/, so `ziptrace` alone loads none of it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const lib = join(dirname(fileURLToPath(import.meta.url)), '..', 'lib');

/** Every lib/ module (a path relative to lib/, with .ts) and what it imports: lib/ modules and bare specifiers. */
function importGraph(): Map<string, { local: string[]; external: string[] }> {
  const graph = new Map<string, { local: string[]; external: string[] }>();
  const files = readdirSync(lib, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  for (const file of files) {
    const source = readFileSync(join(lib, file), 'utf8');
    const local: string[] = [];
    const external: string[] = [];
    // Static imports and re-exports, type-only ones included: a type cycle is still a cycle to read.
    for (const match of source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|\bimport\('([^']+)'\)/gm)) {
      const spec = match[1] ?? match[2] ?? match[3]!;
      if (spec.startsWith('.')) local.push(normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts'));
      else external.push(spec);
    }
    graph.set(normalize(file), { local: [...new Set(local)], external: [...new Set(external)] });
  }
  return graph;
}

const graph = importGraph();

/** The package's subpath entry points (`./http` → http.ts), read from package.json's exports. */
const SUBPATH_ENTRIES: string[] = Object.keys((JSON.parse(readFileSync(join(lib, '..', 'package.json'), 'utf8')) as { exports: Record<string, unknown> }).exports)
  .filter((key) => key !== '.' && key !== './package.json')
  .map((key) => `${key.slice(2)}.ts`);

/**
 * The side-effect entries (`./register` → register.ts): those package.json's
 * `sideEffects` lists. They run when loaded and export nothing, so the
 * "only re-exports" rule cannot hold for them; a narrower one does.
 */
const SIDE_EFFECT_ENTRIES: string[] = ((JSON.parse(readFileSync(join(lib, '..', 'package.json'), 'utf8')) as { sideEffects?: unknown }).sideEffects as string[] | undefined ?? [])
  .map((file) => /^\.\/dist\/cjs\/(.+)\.js$/.exec(file)?.[1])
  .filter((name): name is string => name !== undefined)
  .map((name) => `${name}.ts`);

/** Modules every layer may use: shapes, errors, small pure helpers. They import only each other. */
const SHARED = new Set([
  'types.ts',
  'errors.ts',
  'describe.ts',
  'ids.ts',
  'clock.ts',
  'values.ts',
  'debug.ts',
  'option-keys.ts',
  'trace-context.ts',
  'endpoint.ts',
  'globals.ts',
]);
/** The one module that loads `@opentelemetry/api`, the bridge's optional peer. */
const OTEL_DOOR = normalize('opentelemetry/api.ts');
/** The tracer side: what user code calls. Nothing that encodes, reports or propagates imports these. */
const TRACER_SIDE = new Set(['index.ts', 'global.ts', 'tracer.ts', 'options.ts', 'run.ts', 'decorators.ts', 'span.ts', 'span-options.ts', 'sampling.ts', 'log-fields.ts', 'env-config.ts', 'signal-flush.ts']);

describe('lib/ imports', () => {
  it('finds the modules it checks', () => {
    expect(graph.size).toBeGreaterThan(30);
    expect(graph.get('tracer.ts')!.local).toContain('span.ts');
    for (const [file, { local }] of graph) for (const target of local) expect(graph.has(target), `${file} imports ${target}, which does not exist`).toBe(true);
  });

  it('has no import cycle, type imports included', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (file: string): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' → '));
        return;
      }
      state.set(file, 'open');
      path.push(file);
      for (const next of graph.get(file)?.local ?? []) visit(next);
      path.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file);
    expect(cycles).toEqual([]);
  });

  it('encoding, reporting and propagation never import the tracer side', () => {
    const wrong: string[] = [];
    for (const [file, { local }] of graph) {
      if (!/^(encoding|reporting|propagation)\//.test(file)) continue;
      for (const target of local) if (TRACER_SIDE.has(target)) wrong.push(`${file} → ${target}`);
    }
    expect(wrong).toEqual([]);
  });

  it('encoding imports only the shared modules; propagation and encoding never import reporting', () => {
    const wrong: string[] = [];
    for (const [file, { local }] of graph) {
      if (file.startsWith('encoding/')) for (const target of local) if (!SHARED.has(target) && !target.startsWith('encoding/')) wrong.push(`${file} → ${target}`);
      if (/^(encoding|propagation)\//.test(file)) for (const target of local) if (target.startsWith('reporting/')) wrong.push(`${file} → ${target}`);
    }
    expect(wrong).toEqual([]);
  });

  it('the shared modules import only each other', () => {
    const wrong: string[] = [];
    for (const file of SHARED) for (const target of graph.get(file)?.local ?? []) if (!SHARED.has(target)) wrong.push(`${file} → ${target}`);
    expect(wrong).toEqual([]);
  });

  it('the core has no runtime dependency: only node: built-ins (and @opentelemetry/api, an optional peer, in lib/opentelemetry/api.ts alone)', () => {
    const wrong: string[] = [];
    for (const [file, { external }] of graph) {
      for (const spec of external) if (!spec.startsWith('node:') && !(file === OTEL_DOOR && spec === '@opentelemetry/api')) wrong.push(`${file} → ${spec}`);
    }
    expect(wrong).toEqual([]);
  });

  it('@opentelemetry/api is reached through lib/opentelemetry/api.ts only, which only lib/opentelemetry/ imports, which only ziptrace/opentelemetry loads', () => {
    expect(SUBPATH_ENTRIES).toContain('opentelemetry.ts');
    expect(graph.get(OTEL_DOOR)?.external).toEqual(['@opentelemetry/api']);
    // The door loads it with require() (to say what to install when it is missing): that call is checked here.
    expect(readFileSync(join(lib, OTEL_DOOR), 'utf8')).toMatch(/loadApi\(require\)/);
    const wrong: string[] = [];
    for (const [file, { local }] of graph) {
      const bridgeSide = file.startsWith('opentelemetry/') || file === 'opentelemetry.ts';
      for (const target of local) if (!bridgeSide && target.startsWith('opentelemetry/')) wrong.push(`${file} → ${target}`);
    }
    for (const [file] of graph) {
      if (file === OTEL_DOOR) continue;
      if (/\brequire\(\s*['"]@opentelemetry\//.test(readFileSync(join(lib, file), 'utf8'))) wrong.push(`${file} requires @opentelemetry/*`);
    }
    expect(wrong).toEqual([]);
  });

  it('nothing but the subpath entries (ziptrace/http, /express, …), lib/instrumentation/ and lib/zero-code/ imports lib/instrumentation/: the core never loads a framework\'s tracing', () => {
    expect([...graph.keys()].some((file) => file.startsWith('instrumentation/'))).toBe(true);
    expect(SUBPATH_ENTRIES).toEqual(expect.arrayContaining(['http.ts', 'express.ts', 'koa.ts', 'fastify.ts']));
    const wrong: string[] = [];
    for (const [file, { local }] of graph) {
      if (SUBPATH_ENTRIES.includes(file) || file.startsWith('instrumentation/') || file.startsWith('zero-code/')) continue;
      for (const target of local) if (target.startsWith('instrumentation/')) wrong.push(`${file} → ${target}`);
    }
    expect(wrong).toEqual([]);
  });

  it('the viewer (lib/viewer/, ziptrace/viewer, the ziptrace command) is a layer of its own: it reads spans, never traces, and the tracer never loads it', () => {
    expect(SUBPATH_ENTRIES).toContain('viewer.ts');
    const wrong: string[] = [];
    for (const [file, { local }] of graph) {
      const viewerSide = file.startsWith('viewer/') || file === 'viewer.ts' || file === 'cli.ts';
      for (const target of local) {
        const toViewer = target.startsWith('viewer/') || target === 'viewer.ts';
        if (!viewerSide && toViewer) wrong.push(`${file} → ${target}`);
        if (viewerSide && !toViewer && !SHARED.has(target)) wrong.push(`${file} → ${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('only lib/register.ts (ziptrace/register) and lib/zero-code/ import lib/zero-code/: nothing else patches or starts anything', () => {
    expect(SIDE_EFFECT_ENTRIES).toEqual(['register.ts']);
    const wrong: string[] = [];
    for (const [file, { local }] of graph) {
      if (SIDE_EFFECT_ENTRIES.includes(file) || file.startsWith('zero-code/')) continue;
      for (const target of local) if (target.startsWith('zero-code/')) wrong.push(`${file} → ${target}`);
    }
    expect(wrong).toEqual([]);
  });

  // The one exception to "entries only re-export": a side-effect entry only imports one function and calls it.
  it.each(SIDE_EFFECT_ENTRIES)('lib/%s, a side-effect entry of the package, only imports one function and calls it', (entry) => {
    const source = readFileSync(join(lib, entry), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    const statements = source.split(';').map((s) => s.trim()).filter(Boolean);
    expect(statements).toHaveLength(2);
    const imported = /^import \{ (\w+) \} from '\.\/[^']+'$/.exec(statements[0]!)?.[1];
    expect(imported, statements[0]).toBeDefined();
    expect(statements[1]).toBe(`${imported}()`);
  });

  it.each(['index.ts', ...SUBPATH_ENTRIES.filter((entry) => !SIDE_EFFECT_ENTRIES.includes(entry))])('lib/%s, an entry point of the package, only re-exports', (entry) => {
    const source = readFileSync(join(lib, entry), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    const statements = source.split(';').map((s) => s.trim()).filter(Boolean);
    expect(statements.filter((s) => !/^export (type )?(\{[\s\S]*\}|\*) from '\.[^']+'$/.test(s))).toEqual([]);
  });
});
