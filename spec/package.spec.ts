/**
 * The published package, used as users use it: the tarball from `npm pack`
 * (spec/setup/pack.ts) is installed into throwaway ESM and CommonJS projects
 * (spec/fixtures/package/), whose scripts run in real child processes under
 * the Node that runs this spec.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ZipkinSpan } from '../lib/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'spec', 'fixtures', 'package');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const INSTALL_TIMEOUT = 120_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws on a non-zero exit. */
function run(file: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, maxBuffer: 16 << 20, timeout: INSTALL_TIMEOUT }, (error, stdout, stderr) => {
      const code = error === null ? 0 : (error as { code?: unknown }).code;
      if (typeof code !== 'number') reject(error ?? new Error(`${file} ${args.join(' ')}: no exit code`));
      else resolve({ code, stdout, stderr });
    });
  });
}

function described(what: string, result: Run): string {
  return `${what} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

async function npmInstall(project: string, tarball: string): Promise<void> {
  const result = await run('npm', ['install', '--no-audit', '--no-fund', '--offline', '--loglevel=error', tarball], project);
  if (result.code !== 0) throw new Error(described(`npm install in ${project}`, result));
}

/** Runs a consumer script with this spec's node and returns the JSON it printed. */
async function runScript<T>(project: string, script: string): Promise<T> {
  const result = await run(process.execPath, [script], project);
  if (result.code !== 0) throw new Error(described(`node ${script}`, result));
  return JSON.parse(result.stdout) as T;
}

/** Type-checks files as a consumer's `--module nodenext --strict` project would, listing the files it read. */
function typecheck(cwd: string, files: string[]): Promise<Run> {
  const args = ['--module', 'nodenext', '--moduleResolution', 'nodenext', '--strict', '--noEmit', '--listFiles', ...files];
  return run(process.execPath, [tsc, ...args], cwd);
}

function byName(spans: ZipkinSpan[]): Record<string, ZipkinSpan> {
  const named: Record<string, ZipkinSpan> = {};
  for (const span of spans) named[span.name!] = span;
  expect(Object.keys(named)).toHaveLength(spans.length);
  return named;
}

/** All spans are in one trace, and each named child's parent is the named span. */
function expectTree(spans: ZipkinSpan[], parents: Record<string, string | undefined>): void {
  const named = byName(spans);
  expect(Object.keys(named).sort()).toEqual(Object.keys(parents).sort());
  expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
  for (const [name, parent] of Object.entries(parents)) {
    expect({ name, parentId: named[name]!.parentId }).toEqual({ name, parentId: parent === undefined ? undefined : named[parent]!.id });
  }
}

const tarball = inject('ziptraceTarball');
let work: string;
let esm: string;
let cjs: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ziptrace-consumers-'));
  esm = join(work, 'esm');
  cjs = join(work, 'cjs');
  await Promise.all([cp(join(fixtures, 'esm'), esm, { recursive: true }), cp(join(fixtures, 'cjs'), cjs, { recursive: true })]);
  await Promise.all([npmInstall(esm, tarball), npmInstall(cjs, tarball)]);
  // A dependency with its own copy of ziptrace: node_modules/dep/node_modules/ziptrace.
  const dep = join(cjs, 'node_modules', 'dep');
  await cp(join(fixtures, 'dep'), dep, { recursive: true });
  await npmInstall(dep, tarball);
}, INSTALL_TIMEOUT * 2);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('the packed ziptrace, installed', { timeout: INSTALL_TIMEOUT }, () => {
  const nested = { request: undefined, query: 'request', 'fetch-row': 'query', respond: 'request' };

  it('nests spans across awaits in an ESM project', async () => {
    const out = await runScript<{ resolved: string; spans: ZipkinSpan[] }>(esm, 'trace.js');
    expect(fileURLToPath(out.resolved)).toBe(join(esm, 'node_modules', 'ziptrace', 'dist', 'esm', 'index.mjs'));
    expectTree(out.spans, nested);
    expect(out.spans.map((s) => s.localEndpoint)).toEqual(out.spans.map(() => ({ serviceName: 'esm-consumer' })));
  });

  it('nests spans across awaits in a CommonJS project', async () => {
    const out = await runScript<{ resolved: string; spans: ZipkinSpan[] }>(cjs, 'trace.js');
    expect(out.resolved).toBe(join(cjs, 'node_modules', 'ziptrace', 'dist', 'cjs', 'index.js'));
    expectTree(out.spans, nested);
    expect(out.spans.map((s) => s.localEndpoint)).toEqual(out.spans.map(() => ({ serviceName: 'cjs-consumer' })));
  });

  it('makes one trace and one global tracer when a process both imports and requires it', async () => {
    const out = await runScript<{
      resolved: { import: string; require: string };
      importSeesRequireTracer: boolean;
      requireSeesImportTracer: boolean;
      spans: ZipkinSpan[];
    }>(esm, 'dual.js');
    expect(fileURLToPath(out.resolved.import)).toBe(join(esm, 'node_modules', 'ziptrace', 'dist', 'esm', 'index.mjs'));
    expect(out.resolved.require).toBe(join(esm, 'node_modules', 'ziptrace', 'dist', 'cjs', 'index.js'));
    expect(out.importSeesRequireTracer).toBe(true);
    expect(out.requireSeesImportTracer).toBe(true);
    expectTree(out.spans, {
      'import-root': undefined,
      'require-child': 'import-root',
      'require-with': 'import-root',
      'import-grandchild': 'require-with',
    });
  });

  it('makes one trace when two installed copies are loaded in one process', async () => {
    const out = await runScript<{
      resolved: { app: string; dep: string };
      distinctCopies: boolean;
      depSeesGlobalTracer: boolean;
      spans: ZipkinSpan[];
    }>(cjs, 'two-copies.js');
    // Really two copies: different files, different classes.
    expect(out.resolved.app).toBe(join(cjs, 'node_modules', 'ziptrace', 'dist', 'cjs', 'index.js'));
    expect(out.resolved.dep).toBe(join(cjs, 'node_modules', 'dep', 'node_modules', 'ziptrace', 'dist', 'cjs', 'index.js'));
    expect(out.distinctCopies).toBe(true);
    expect(out.depSeesGlobalTracer).toBe(true);
    expectTree(out.spans, { request: undefined, 'dep.query': 'request', 'dep.decode': 'dep.query' });
  });

  it('has types that work for ESM and CommonJS consumers, and report type errors', async () => {
    // One tsc run over both projects (each file is ESM or CommonJS by its package.json):
    // typed.ts must have no error, each type-error.ts its one.
    const files = ['esm/typed.ts', 'esm/type-error.ts', 'cjs/typed.ts', 'cjs/type-error.ts'];
    const result = await typecheck(work, files);
    const errors = result.stdout.split('\n').filter((line) => /: error TS\d+:/.test(line)).sort();
    expect(errors, described('tsc', result)).toEqual([
      expect.stringMatching(/^cjs\/type-error\.ts\(4,\d+\): error TS2322: /),
      expect.stringMatching(/^esm\/type-error\.ts\(4,\d+\): error TS2322: /),
    ]);
    expect(result.code).not.toBe(0);
    // The types came from the installed packages, through the entry for each module kind.
    expect(result.stdout.split('\n')).toEqual(expect.arrayContaining([
      join(esm, 'node_modules', 'ziptrace', 'dist', 'esm', 'index.d.mts'),
      join(cjs, 'node_modules', 'ziptrace', 'dist', 'cjs', 'index.d.ts'),
    ]));
  });

  it('installs nothing but ziptrace itself', async () => {
    const installed = (await readdir(join(esm, 'node_modules'))).filter((name) => !name.startsWith('.'));
    expect(installed).toEqual(['ziptrace']);
  });
});

describe('the tarball', () => {
  it('holds dist/, README.md and package.json, and no sources, specs or benchmarks', async () => {
    const listing = await run('tar', ['-tzf', tarball], root);
    expect(listing.code, described('tar -tzf', listing)).toBe(0);
    const files = listing.stdout.split('\n').filter(Boolean);
    expect(files).toEqual(expect.arrayContaining([
      'package/package.json',
      'package/README.md',
      'package/dist/cjs/index.js',
      'package/dist/cjs/index.d.ts',
      'package/dist/cjs/package.json',
      'package/dist/esm/index.mjs',
      'package/dist/esm/index.d.mts',
    ]));
    const unwanted = files.filter((file) => /^package\/(lib|spec|bench|scripts|node_modules|\.cache|\.ci)\//.test(file));
    expect(unwanted).toEqual([]);
  });

  it('declares no runtime dependencies', async () => {
    const result = await run('tar', ['-xzOf', tarball, 'package/package.json'], root);
    expect(result.code, described('tar -xzOf package/package.json', result)).toBe(0);
    const manifest = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(manifest.name).toBe('ziptrace');
    const fields = ['dependencies', 'optionalDependencies', 'peerDependencies', 'bundleDependencies', 'bundledDependencies'];
    const empty = (value: unknown) => value === undefined || value === false || (typeof value === 'object' && value !== null && Object.keys(value).length === 0);
    const declared = fields.filter((field) => !empty(manifest[field]));
    expect(Object.fromEntries(declared.map((field) => [field, manifest[field]]))).toEqual({});
  });
});
