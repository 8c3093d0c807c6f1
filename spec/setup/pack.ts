/**
 * Vitest global setup: packs ziptrace once per run, as `npm publish` would
 * (npm runs the `prepare` build first), into a temp dir removed afterwards.
 * Specs get the tarball's path with `inject('ziptraceTarball')`.
 *
 * It packs a copy of the work tree (sharing its node_modules), so that the
 * build does not replace the work tree's dist/ under anything else using it.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Absolute path of the `npm pack`ed ziptrace tarball. */
    ziptraceTarball: string;
  }
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NOT_COPIED = new Set(['.git', '.cache', 'node_modules', 'dist', 'coverage'].map((name) => join(root, name)));

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'ziptrace-pack-'));
  const tree = join(dir, 'ziptrace');
  try {
    await cp(root, tree, { recursive: true, filter: (path) => !NOT_COPIED.has(path) });
    await symlink(join(root, 'node_modules'), join(tree, 'node_modules'), 'dir');
    await promisify(execFile)('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: tree, maxBuffer: 16 << 20 });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm pack failed:\n${stdout ?? ''}${stderr ?? ''}`, { cause: error });
  }
  const tarballs = (await readdir(dir)).filter((name) => name.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`npm pack made ${tarballs.length} tarballs in ${dir}: ${tarballs.join(', ')}`);
  project.provide('ziptraceTarball', join(dir, tarballs[0]!));
  return () => rm(dir, { recursive: true, force: true });
}
