/**
 * lib/**.ts transpiled as-is to plain ESM in a temporary folder, for specs
 * whose bare `node` child processes must run the current source rather than
 * dist/ (which may be stale under a quick vitest run).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const libDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'lib');

/** Writes the transpiled lib/ into a new temporary folder (its own package.json says ESM) and returns the folder; the caller removes it. */
export function transpileLib(prefix = 'ziptrace-lib-'): string {
  const outDir = mkdtempSync(join(tmpdir(), prefix));
  for (const file of readdirSync(libDir, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts')) continue;
    const { outputText } = ts.transpileModule(readFileSync(join(libDir, file), 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    });
    const target = join(outDir, file.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  // A wrong libDir would give an empty folder and children failing far from the cause.
  if (!existsSync(join(outDir, 'index.js'))) throw new Error(`transpileLib: no lib/index.ts under ${libDir}`);
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}\n');
  return outDir;
}
