// Builds dist/: one CommonJS implementation (dist/cjs) and a thin ESM wrapper
// (dist/esm) that re-exports it, so `import` and `require` in one process share
// one module instance, hence one context and one tracer registry.
//
//   node scripts/build.mjs              build
//   node scripts/build.mjs --if-stale   only when dist/ is missing or older than lib/, the build config or package.json (its exports)
//
// The build goes to a temporary folder that then replaces dist/ in two renames,
// so a process loading dist/ meanwhile never finds it half-written or gone.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const entry = join(dist, 'esm', 'index.mjs');

function newestInput(dir) {
  let newest = 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, name.name);
    newest = Math.max(newest, name.isDirectory() ? newestInput(path) : statSync(path).mtimeMs);
  }
  return newest;
}

if (process.argv.includes('--if-stale') && existsSync(entry)) {
  const inputs = Math.max(newestInput(join(root, 'lib')), ...['tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs', 'package.json'].map((f) => statSync(join(root, f)).mtimeMs));
  if (statSync(entry).mtimeMs >= inputs) process.exit(0);
}

const out = join(root, `.dist-${process.pid}`);
rmSync(out, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(out, 'cjs')], { stdio: 'inherit' });
writeFileSync(join(out, 'cjs', 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');

// The viewer's page is plain files (HTML, browser JavaScript, CSS) that tsc does not see: copied beside
// the module that serves them (lib/viewer/page-files.ts reads them from its own folder). The command
// line is the package's bin: executable, with the shebang tsc kept.
cpSync(join(root, 'lib', 'viewer', 'page'), join(out, 'cjs', 'viewer', 'page'), { recursive: true });
const cli = join(out, 'cjs', 'cli.js');
if (!readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node')) throw new Error('build: dist/cjs/cli.js lost its #! line');
chmodSync(cli, 0o755);

// The declarations must compile without @types/node and the esnext.disposable lib (see README, TypeScript):
// each one that uses `Symbol.dispose` references globals.d.ts, which declares it as those do.
const globals = join(out, 'cjs', 'globals.d.ts');
if (!existsSync(globals)) throw new Error('build: lib/globals.ts made no dist/cjs/globals.d.ts');
for (const file of readdirSync(join(out, 'cjs'), { recursive: true, encoding: 'utf8' }).map((name) => join(out, 'cjs', name))) {
  if (!file.endsWith('.d.ts') || file === globals) continue;
  const text = readFileSync(file, 'utf8');
  if (!text.includes('Symbol.dispose')) continue;
  const path = relative(dirname(file), globals).replaceAll('\\', '/');
  writeFileSync(file, `/// <reference path="${path.startsWith('.') ? path : `./${path}`}" />\n${text}`);
}

// One ESM wrapper per entry point: "." (index) and each subpath export ("./http" is lib/http.ts), read
// from package.json so that an entry added there gets its wrapper. Each names every export of its
// CommonJS module, read from the build itself so they cannot drift, and re-exports that module: an
// `import` and a `require` of ziptrace/http share its one instance, as they share the core's.
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const entries = Object.keys(manifest.exports)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? 'index' : key.slice(2)));
// Entries package.json lists under sideEffects (ziptrace/register) run when loaded and export nothing: they
// are never loaded here (that would start tracing in the build), and their wrapper imports the CommonJS
// module for its effect, so an `import` and a `require` of one in a process still run it once.
const sideEffects = new Set(Array.isArray(manifest.sideEffects) ? manifest.sideEffects : []);
mkdirSync(join(out, 'esm'), { recursive: true });
const counts = [];
for (const name of entries) {
  const module = join(out, 'cjs', `${name}.js`);
  if (!existsSync(module)) throw new Error(`build: package.json exports ./${name}, but lib/${name}.ts made no dist/cjs/${name}.js`);
  if (sideEffects.has(`./dist/cjs/${name}.js`)) {
    if (!sideEffects.has(`./dist/esm/${name}.mjs`)) throw new Error(`build: package.json sideEffects lists ./dist/cjs/${name}.js but not ./dist/esm/${name}.mjs`);
    writeFileSync(join(out, 'esm', `${name}.d.mts`), `export {};\n`);
    writeFileSync(join(out, 'esm', `${name}.mjs`), `// Generated by scripts/build.mjs: a side-effect entry point, run by loading the CommonJS build.\nimport '../cjs/${name}.js';\n`);
    counts.push(`${name}: side effect`);
    continue;
  }
  const cjs = createRequire(import.meta.url)(module);
  const names = Object.keys(cjs).filter((n) => n !== 'default' && n !== '__esModule').sort();
  writeFileSync(join(out, 'esm', `${name}.d.mts`), `export * from '../cjs/${name}.js';\n`);
  writeFileSync(
    join(out, 'esm', `${name}.mjs`),
    `// Generated by scripts/build.mjs: ESM entry point re-exporting the CommonJS build.\n` +
      `import ziptrace from '../cjs/${name}.js';\n\n` +
      `export const {\n${names.map((n) => `  ${n},`).join('\n')}\n} = ziptrace;\n`,
  );
  counts.push(`${name}: ${names.length}`);
}

const old = join(root, `.dist-old-${process.pid}`);
if (existsSync(dist)) renameSync(dist, old);
renameSync(out, dist);
rmSync(old, { recursive: true, force: true });
console.log(`built dist/ (exports of ${counts.join(', ')})`);
