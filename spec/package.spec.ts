/**
 * The published package, used as users use it: the tarball from `npm pack`
 * (spec/setup/pack.ts) is installed into throwaway ESM and CommonJS projects
 * (spec/fixtures/package/), whose scripts run in real child processes under
 * the Node that runs this spec, and whose TypeScript files are compiled by
 * each supported TypeScript, installed beside them.
 */
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
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

/**
 * The TypeScript versions the published types are checked with (README.md,
 * TypeScript, names the range): 5.0, the oldest that compiles them (the type
 * of `traced` uses its ClassMethodDecoratorContext; 4.9 has none), 5.2, the
 * first with `using`, and the newest 5.x.
 */
const TYPESCRIPTS = ['5.0.4', '5.2.2', '5.9.3'] as const;

/** Whether TypeScript `version` is at least `major.minor`. */
function atLeast(version: string, wanted: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [wantedMajor = 0, wantedMinor = 0] = wanted.split('.').map(Number);
  return major > wantedMajor || (major === wantedMajor && minor >= wantedMinor);
}

/** Installs each of TYPESCRIPTS into `dir`, as `typescript-5.0.4` and so on; gives each version's tsc. */
async function installTypeScripts(dir: string): Promise<Map<string, string>> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), '{ "private": true }\n');
  const packages = TYPESCRIPTS.map((version) => `typescript-${version}@npm:typescript@${version}`);
  const result = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...packages], dir);
  if (result.code !== 0) throw new Error(described(`npm install ${packages.join(' ')}`, result));
  const tscs = new Map<string, string>();
  for (const version of TYPESCRIPTS) {
    const installed = join(dir, 'node_modules', `typescript-${version}`);
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as { version?: unknown };
    if (manifest.version !== version) throw new Error(`${installed} is TypeScript ${String(manifest.version)}, not ${version}`);
    tscs.set(version, join(installed, 'bin', 'tsc'));
  }
  return tscs;
}

/** A consumer's TypeScript project: some of a fixture project's .ts files, compiled with these options. */
interface Consumer {
  name: string;
  project: 'esm' | 'cjs';
  compilerOptions: Record<string, unknown>;
  files: string[];
  /** The global types the program must have: none beyond the ES libs, @types/node, or the DOM lib. */
  globals: 'none' | 'node' | 'dom';
}

/**
 * The projects each TypeScript version compiles: strict, `skipLibCheck: false`,
 * `types: []` and an ES lib only, for `import` (NodeNext, Bundler) and `require`
 * (NodeNext, Node10). From 5.2 on, the NodeNext ones also use `using`, with the
 * esnext.disposable lib (the others still go without it). The newest also
 * compiles with @types/node (this repo's) and with the DOM lib, whose `URL` and
 * `Symbol.dispose` ziptrace's types must agree with.
 */
function consumers(version: string): Consumer[] {
  const strict = { strict: true, noEmit: true, skipLibCheck: false, types: [], target: 'ES2022' };
  const usable = atLeast(version, '5.2');
  const nodeNext = (project: 'esm' | 'cjs'): Consumer => ({
    name: `${project}-nodenext`,
    project,
    compilerOptions: { ...strict, module: 'NodeNext', moduleResolution: 'NodeNext', lib: usable ? ['ES2022', 'ESNext.Disposable'] : ['ES2022'] },
    files: usable ? ['api.ts', 'using.ts', 'type-error.ts'] : ['api.ts', 'type-error.ts'],
    globals: 'none',
  });
  const list: Consumer[] = [
    nodeNext('esm'),
    nodeNext('cjs'),
    {
      name: 'esm-bundler',
      project: 'esm',
      compilerOptions: { ...strict, module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2015'] },
      files: ['api.ts', 'type-error.ts'],
      globals: 'none',
    },
    {
      name: 'cjs-node10',
      project: 'cjs',
      compilerOptions: { ...strict, module: 'CommonJS', moduleResolution: 'Node10', lib: ['ES2022'] },
      files: ['api.ts', 'type-error.ts'],
      globals: 'none',
    },
  ];
  if (version === TYPESCRIPTS.at(-1)) {
    list.push(
      {
        name: 'esm-types-node',
        project: 'esm',
        compilerOptions: { ...strict, module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022'], types: ['node'], typeRoots: [join(root, 'node_modules', '@types')] },
        files: ['api.ts', 'using.ts', 'url.ts', 'type-error.ts'],
        globals: 'node',
      },
      {
        name: 'cjs-dom',
        project: 'cjs',
        // No lib: the target's default, which has the DOM.
        compilerOptions: { ...strict, module: 'NodeNext', moduleResolution: 'NodeNext' },
        files: ['api.ts', 'url.ts', 'type-error.ts'],
        globals: 'dom',
      },
    );
  }
  return list;
}

/** Compiles a consumer with `tsc`, listing the files it read. */
async function compile(tsc: string, version: string, consumer: Consumer): Promise<Run> {
  const cwd = consumer.project === 'esm' ? esm : cjs;
  const config = `tsconfig.${version}.${consumer.name}.json`;
  await writeFile(join(cwd, config), JSON.stringify({ compilerOptions: consumer.compilerOptions, files: consumer.files }, null, 2) + '\n');
  return run(process.execPath, [tsc, '-p', config, '--listFiles'], cwd);
}

const tarball = inject('ziptraceTarball');
let work: string;
let esm: string;
let cjs: string;
/** The installs of TYPESCRIPTS, started with the others but awaited only by the specs that compile with them. */
let typescripts: Promise<Map<string, string>>;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ziptrace-consumers-'));
  esm = join(work, 'esm');
  cjs = join(work, 'cjs');
  typescripts = installTypeScripts(join(work, 'typescript'));
  typescripts.catch(() => {}); // Reported by the specs that await it.
  await Promise.all([cp(join(fixtures, 'esm'), esm, { recursive: true }), cp(join(fixtures, 'cjs'), cjs, { recursive: true })]);
  await Promise.all([npmInstall(esm, tarball), npmInstall(cjs, tarball)]);
  // A dependency with its own copy of ziptrace: node_modules/dep/node_modules/ziptrace.
  const dep = join(cjs, 'node_modules', 'dep');
  await cp(join(fixtures, 'dep'), dep, { recursive: true });
  await npmInstall(dep, tarball);
}, INSTALL_TIMEOUT * 2);

afterAll(async () => {
  await typescripts?.catch(() => {}); // Not removed from under a running npm install.
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

  it('has declarations with no @internal and no _-prefixed member', async () => {
    const dist = join(esm, 'node_modules', 'ziptrace', 'dist');
    const files = (await readdir(dist, { recursive: true, encoding: 'utf8' })).filter((file) => /\.d\.m?ts$/.test(file)).sort();
    expect(files).toEqual(expect.arrayContaining(['cjs/index.d.ts', 'cjs/span.d.ts', 'cjs/tracer.d.ts', 'esm/index.d.mts']));
    const found: string[] = [];
    for (const file of files) {
      const text = await readFile(join(dist, file), 'utf8');
      const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
      const at = (pos: number) => `${file}:${source.getLineAndCharacterOfPosition(pos).line + 1}`;
      for (const match of text.matchAll(/@internal/g)) found.push(`${at(match.index)}: @internal`);
      const visit = (node: ts.Node): void => {
        if ((ts.isClassElement(node) || ts.isTypeElement(node)) && node.name !== undefined) {
          const name = ts.isIdentifier(node.name) || ts.isPrivateIdentifier(node.name) || ts.isStringLiteral(node.name) ? node.name.text : '';
          if (name.startsWith('_')) found.push(`${at(node.getStart(source))}: member ${name}`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(found).toEqual([]);
  });

  it('has declarations that all compile, internal modules too (with @types/node): none refers to a stripped one', async () => {
    const dist = join(esm, 'node_modules', 'ziptrace', 'dist');
    // ziptrace/opentelemetry's declarations name @opentelemetry/api's types: the optional peer its users install.
    const peer = join(esm, 'node_modules', '@opentelemetry', 'api');
    await mkdir(dirname(peer), { recursive: true });
    await symlink(join(root, 'node_modules', '@opentelemetry', 'api'), peer, 'dir').catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    const files = (await readdir(dist, { recursive: true, encoding: 'utf8' })).filter((file) => /\.d\.m?ts$/.test(file));
    const args = ['--noEmit', '--strict', '--types', 'node', '--typeRoots', join(root, 'node_modules', '@types'), '--lib', 'es2022,esnext.disposable'];
    const result = await run(process.execPath, [tsc, ...args, '--module', 'nodenext', '--moduleResolution', 'nodenext', ...files], dist);
    expect(result.code, described('tsc over every .d.ts', result)).toBe(0);
  });
});

/** Consumer scripts for `ziptrace/http`, written into the installed projects (the fixtures stay as they are). */
const HTTP_SCRIPTS: Record<string, string> = {
  // The core alone: nothing under dist/cjs/instrumentation/ is loaded, by import or by require.
  'esm/core-only.js': `import { createRequire } from 'node:module';
import { createTracer } from 'ziptrace';
createTracer({ serviceName: 'core-only' });
const loaded = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify({ loaded, instrumentation: loaded.filter((f) => /[\\\\/]instrumentation[\\\\/]/.test(f)) }));
`,
  'cjs/core-only.js': `const { createTracer } = require('ziptrace');
createTracer({ serviceName: 'core-only' });
const loaded = Object.keys(require.cache);
console.log(JSON.stringify({ loaded, instrumentation: loaded.filter((f) => /[\\\\/]instrumentation[\\\\/]/.test(f)) }));
`,
  // A traced server answering one request; the import and the require of ziptrace/http are one module.
  'esm/http.js': `import http from 'node:http';
import { createRequire } from 'node:module';
import { createTracer, MemoryReporter } from 'ziptrace';
import { tracedHandler } from 'ziptrace/http';
const reporter = new MemoryReporter();
const tracer = createTracer({ serviceName: 'esm-http', reporter });
const server = http.createServer(tracedHandler(tracer, (req, res) => res.end('ok'), { name: () => 'GET /ping' }));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const body = await (await fetch('http://127.0.0.1:' + server.address().port + '/ping')).text();
server.closeAllConnections();
server.close();
while (reporter.spans.length === 0) await new Promise((resolve) => setTimeout(resolve, 2));
const required = createRequire(import.meta.url)('ziptrace/http');
console.log(JSON.stringify({ resolved: import.meta.resolve('ziptrace/http'), body, shared: required.tracedHandler === tracedHandler, spans: reporter.spans }));
`,
  'cjs/http.js': `const http = require('node:http');
const { createTracer, MemoryReporter } = require('ziptrace');
const { tracedHandler } = require('ziptrace/http');
const reporter = new MemoryReporter();
const tracer = createTracer({ serviceName: 'cjs-http', reporter });
const server = http.createServer(tracedHandler(tracer, (req, res) => res.end('ok'), { name: () => 'GET /ping' }));
server.listen(0, '127.0.0.1', async () => {
  const body = await (await fetch('http://127.0.0.1:' + server.address().port + '/ping')).text();
  server.closeAllConnections();
  server.close();
  while (reporter.spans.length === 0) await new Promise((resolve) => setTimeout(resolve, 2));
  console.log(JSON.stringify({ resolved: require.resolve('ziptrace/http'), body, spans: reporter.spans }));
});
`,
  // Each framework integration: its subpath for import and for require, one module, loaded without its framework installed.
  'esm/frameworks.js': `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const out = {};
for (const name of ['express', 'koa', 'fastify']) {
  const imported = await import('ziptrace/' + name);
  const required = require('ziptrace/' + name);
  out[name] = { exports: Object.keys(imported).filter((k) => k !== 'default').sort(), resolved: import.meta.resolve('ziptrace/' + name), same: Object.keys(imported).every((k) => k === 'default' || imported[k] === required[k]) };
}
console.log(JSON.stringify(out));
`,
  'esm/http-typed.ts': `import type { IncomingMessage, ServerResponse } from 'node:http';
import { createTracer } from 'ziptrace';
import { tracedHandler, startServerRequest, type ServerOptions, type ServerRequest, type TracedHandlerOptions, type HttpClientOptions } from 'ziptrace/http';
const tracer = createTracer({ serviceName: 'typed' });
const options: ServerOptions & TracedHandlerOptions = { skip: ['/healthz'], trustProxy: true, timeout: 1000 };
export const handler: (req: IncomingMessage, res: ServerResponse) => void = tracedHandler(tracer, (req, res) => void res.end(req.url), options);
export const start = (req: IncomingMessage, res: ServerResponse): ServerRequest => startServerRequest(tracer, req, res).route('/x');
export const client: HttpClientOptions | undefined = undefined;
`,
  'cjs/http-typed.ts': `import type { IncomingMessage, ServerResponse } from 'node:http';
import { createTracer } from 'ziptrace';
import http = require('ziptrace/http');
const tracer = createTracer({ serviceName: 'typed' });
export const handler: (req: IncomingMessage, res: ServerResponse) => void = http.tracedHandler(tracer, (req, res) => void res.end(req.url), { skip: (req) => req.url === '/healthz' });
export const request: http.ServerRequest | undefined = undefined;
`,
};

describe('ziptrace/http, installed', { timeout: INSTALL_TIMEOUT }, () => {
  beforeAll(async () => {
    await Promise.all(Object.entries(HTTP_SCRIPTS).map(([file, text]) => writeFile(join(work, file), text)));
  });

  it('is not loaded by ziptrace alone, for import or require', async () => {
    for (const project of [esm, cjs]) {
      const out = await runScript<{ loaded: string[]; instrumentation: string[] }>(project, 'core-only.js');
      expect(out.loaded).toContain(join(project, 'node_modules', 'ziptrace', 'dist', 'cjs', 'index.js'));
      expect(out.instrumentation).toEqual([]);
    }
  });

  it('resolves for ESM to the wrapper of the one CommonJS module, and traces a server', async () => {
    const out = await runScript<{ resolved: string; body: string; shared: boolean; spans: ZipkinSpan[] }>(esm, 'http.js');
    expect(fileURLToPath(out.resolved)).toBe(join(esm, 'node_modules', 'ziptrace', 'dist', 'esm', 'http.mjs'));
    expect(out.shared).toBe(true);
    expect(out.body).toBe('ok');
    expect(out.spans).toMatchObject([{ name: 'GET /ping', kind: 'SERVER', localEndpoint: { serviceName: 'esm-http' }, tags: { 'http.path': '/ping', 'http.status_code': '200' } }]);
  });

  it('resolves for CommonJS and traces a server', async () => {
    const out = await runScript<{ resolved: string; body: string; spans: ZipkinSpan[] }>(cjs, 'http.js');
    expect(out.resolved).toBe(join(cjs, 'node_modules', 'ziptrace', 'dist', 'cjs', 'http.js'));
    expect(out.spans).toMatchObject([{ name: 'GET /ping', kind: 'SERVER', localEndpoint: { serviceName: 'cjs-http' } }]);
  });

  it('ziptrace/express, /koa and /fastify resolve for import and require to one module each, with no framework installed', async () => {
    const out = await runScript<Record<string, { exports: string[]; resolved: string; same: boolean }>>(esm, 'frameworks.js');
    expect(Object.fromEntries(Object.entries(out).map(([name, { exports, same }]) => [name, { exports, same }]))).toEqual({
      express: { exports: ['expressErrorTracing', 'expressTracing'], same: true },
      koa: { exports: ['koaTracing'], same: true },
      fastify: { exports: ['fastifyTracing'], same: true },
    });
    for (const name of ['express', 'koa', 'fastify']) expect(fileURLToPath(out[name]!.resolved)).toBe(join(esm, 'node_modules', 'ziptrace', 'dist', 'esm', `${name}.mjs`));
  });

  it('has types for ESM and CommonJS consumers', async () => {
    const result = await run(process.execPath, [tsc, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--strict', '--noEmit', '--listFiles', '--types', 'node', '--typeRoots', join(root, 'node_modules', '@types'), 'esm/http-typed.ts', 'cjs/http-typed.ts'], work);
    expect(result.stdout.split('\n').filter((line) => /error TS\d+/.test(line)), described('tsc', result)).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')).toEqual(expect.arrayContaining([
      join(esm, 'node_modules', 'ziptrace', 'dist', 'esm', 'http.d.mts'),
      join(cjs, 'node_modules', 'ziptrace', 'dist', 'cjs', 'http.d.ts'),
    ]));
  });
});

describe('ziptrace/register, installed', { timeout: INSTALL_TIMEOUT }, () => {
  // An app with no tracing code but a flush at its end (a script that exits, not a server that is stopped).
  const app = `const server = http.createServer((req, res) => res.end('ok'));
server.listen(0, '127.0.0.1', async () => {
  const body = await (await fetch('http://127.0.0.1:' + server.address().port + '/users/42')).text();
  server.close();
  await getGlobalTracer().flush();
  console.log(JSON.stringify({ body }));
});
`;

  it.each([
    ['--import', 'esm', `import http from 'node:http';\nimport { getGlobalTracer } from 'ziptrace';\n${app}`],
    ['--require', 'cjs', `const http = require('node:http');\nconst { getGlobalTracer } = require('ziptrace');\n${app}`],
  ] as const)('node %s ziptrace/register traces an app (%s) configured by the environment', async (flag, project, text) => {
    const dir = project === 'esm' ? esm : cjs;
    await writeFile(join(dir, 'zero-code.js'), text);
    const received: ZipkinSpan[] = [];
    const collector = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push(...(JSON.parse(body) as ZipkinSpan[]));
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    try {
      const env = { PATH: process.env.PATH, OTEL_SERVICE_NAME: `zero-code-${project}`, OTEL_EXPORTER_ZIPKIN_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}/api/v2/spans` };
      const result = await new Promise<Run>((resolve) => execFile(process.execPath, [flag, 'ziptrace/register', 'zero-code.js'], { cwd: dir, env, timeout: 30_000 }, (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code ?? -1), stdout, stderr })));
      expect(result.code, described(`node ${flag} ziptrace/register zero-code.js`, result)).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ body: 'ok' });
      expect(result.stderr).toBe('');
      expect(received).toMatchObject([{ kind: 'SERVER', name: 'GET', localEndpoint: { serviceName: `zero-code-${project}` }, tags: { 'http.path': '/users/42' } }]);
    } finally {
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});

describe('ziptrace serve and ziptrace/viewer, installed', { timeout: INSTALL_TIMEOUT }, () => {
  it('has a ziptrace bin that prints its version', async () => {
    const result = await run(join(esm, 'node_modules', '.bin', 'ziptrace'), ['--version'], esm);
    expect(result.code, described('ziptrace --version', result)).toBe(0);
    expect(result.stdout.trim()).toBe((JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('serves the page and every file it loads from the installed package', async () => {
    const child = spawn(join(cjs, 'node_modules', '.bin', 'ziptrace'), ['serve', '--port', '0', '--quiet'], { cwd: cjs, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const lines = createInterface({ input: child.stdout! });
      const url = await new Promise<string>((resolve) => lines.on('line', (line) => {
        const match = /^ziptrace serve: (http:\/\/\S+)/.exec(line);
        if (match) resolve(match[1]!);
      }));
      const page = await fetch(url);
      expect(page.status).toBe(200);
      const html = await page.text();
      const assets = [...html.matchAll(/(?:src|href)="\.?\/?([\w.-]+\.(?:js|css))"/g)].map((m) => m[1]!);
      expect(assets.length).toBeGreaterThan(0);
      for (const asset of assets) expect((await fetch(`${url}/${asset}`)).status, asset).toBe(200);
    } finally {
      child.kill();
    }
  });

  it('ziptrace/viewer starts the viewer, for import and require', async () => {
    for (const [project, script] of [[esm, 'viewer.mjs'], [cjs, 'viewer.cjs']] as const) {
      await writeFile(join(project, script), `${script.endsWith('.mjs') ? "import { startViewer } from 'ziptrace/viewer';" : "const { startViewer } = require('ziptrace/viewer');"}
(async () => {
  const viewer = await startViewer({ port: 0 });
  const services = await (await fetch(viewer.url + '/api/v2/services')).json();
  await viewer.close();
  console.log(JSON.stringify({ services }));
})();
`);
      const result = await run(process.execPath, [script], project);
      expect(result.code, described(script, result)).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ services: [] });
    }
  });
});

describe('the packed types, in strict projects without @types/node', { timeout: INSTALL_TIMEOUT }, () => {
  let tscs: Map<string, string>;

  beforeAll(async () => {
    tscs = await typescripts;
  }, INSTALL_TIMEOUT);

  it.each(TYPESCRIPTS)('compile with TypeScript %s, for import and require, and report the type error', async (version) => {
    const tsc = tscs.get(version)!;
    const list = consumers(version);
    const results = await Promise.all(list.map((consumer) => compile(tsc, version, consumer)));
    const outcomes = list.map((consumer, i) => {
      const result = results[i]!;
      const lines = result.stdout.split('\n');
      const read = lines.filter((line) => isAbsolute(line));
      const entry = consumer.project === 'esm' ? join(esm, 'node_modules', 'ziptrace', 'dist', 'esm', 'index.d.mts') : join(cjs, 'node_modules', 'ziptrace', 'dist', 'cjs', 'index.d.ts');
      return {
        consumer: consumer.name,
        // Only type-error.ts's one error: none in ziptrace's declarations, none in the code that uses them.
        errors: lines.filter((line) => /: error TS\d+:/.test(line)),
        failed: result.code !== 0,
        readTheInstalledTypes: read.includes(entry),
        globals: read.some((file) => /[\\/]@types[\\/]node[\\/]/.test(file)) ? 'node' : read.some((file) => /[\\/]lib\.dom\.d\.ts$/.test(file)) ? 'dom' : 'none',
      };
    });
    const expected = list.map((consumer) => ({
      consumer: consumer.name,
      errors: [expect.stringMatching(/^type-error\.ts\(4,\d+\): error TS2322: /)],
      failed: true,
      readTheInstalledTypes: true,
      globals: consumer.globals,
    }));
    const output = list.map((consumer, i) => described(`${consumer.name}: tsc ${version}`, results[i]!)).join('\n');
    expect(outcomes, output).toEqual(expected);
  });
});

describe('the tarball', () => {
  it('holds dist/, README.md, LICENSE and package.json, and no sources, specs or benchmarks', async () => {
    const listing = await run('tar', ['-tzf', tarball], root);
    expect(listing.code, described('tar -tzf', listing)).toBe(0);
    const files = listing.stdout.split('\n').filter(Boolean);
    expect(files).toEqual(expect.arrayContaining([
      'package/package.json',
      'package/README.md',
      'package/LICENSE',
      'package/dist/cjs/index.js',
      'package/dist/cjs/index.d.ts',
      'package/dist/cjs/globals.d.ts',
      'package/dist/cjs/package.json',
      'package/dist/esm/index.mjs',
      'package/dist/esm/index.d.mts',
      'package/dist/cjs/http.js',
      'package/dist/cjs/http.d.ts',
      'package/dist/esm/http.mjs',
      'package/dist/esm/http.d.mts',
      'package/dist/cjs/cli.js',
      'package/dist/cjs/viewer.js',
      'package/dist/esm/viewer.mjs',
      'package/dist/cjs/register.js',
      'package/dist/esm/register.mjs',
      'package/dist/cjs/viewer/page/index.html',
      'package/dist/cjs/viewer/page/style.css',
    ]));
    const unwanted = files.filter((file) => /^package\/(lib|spec|bench|scripts|node_modules|\.cache|\.ci)\//.test(file));
    expect(unwanted).toEqual([]);
  });

  it('has the Apache License 2.0 as LICENSE, as package.json says', async () => {
    const license = await run('tar', ['-xzOf', tarball, 'package/LICENSE'], root);
    expect(license.code, described('tar -xzOf package/LICENSE', license)).toBe(0);
    expect(license.stdout).toMatch(/^Copyright \d{4} the ziptrace authors\n\n {33}Apache License\n {27}Version 2\.0, January 2004\n/);
    expect(license.stdout).toContain('END OF TERMS AND CONDITIONS');
    const manifest = await run('tar', ['-xzOf', tarball, 'package/package.json'], root);
    expect((JSON.parse(manifest.stdout) as { license?: unknown }).license).toBe('Apache-2.0');
  });

  it('declares no runtime dependencies; the frameworks are optional peers of their subpaths only', async () => {
    const result = await run('tar', ['-xzOf', tarball, 'package/package.json'], root);
    expect(result.code, described('tar -xzOf package/package.json', result)).toBe(0);
    const manifest = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(manifest.name).toBe('ziptrace');
    const fields = ['dependencies', 'optionalDependencies', 'bundleDependencies', 'bundledDependencies'];
    const empty = (value: unknown) => value === undefined || value === false || (typeof value === 'object' && value !== null && Object.keys(value).length === 0);
    const declared = fields.filter((field) => !empty(manifest[field]));
    expect(Object.fromEntries(declared.map((field) => [field, manifest[field]]))).toEqual({});
    // npm installs a peer that is not marked optional: every one must be, so installing ziptrace brings no framework.
    const peers = Object.keys((manifest.peerDependencies ?? {}) as Record<string, string>).sort();
    expect(peers).toEqual(['@koa/router', '@opentelemetry/api', 'express', 'fastify', 'koa']);
    const meta = (manifest.peerDependenciesMeta ?? {}) as Record<string, { optional?: boolean }>;
    for (const peer of peers) expect(meta[peer]?.optional, `${peer} is an optional peer`).toBe(true);
  });
});
