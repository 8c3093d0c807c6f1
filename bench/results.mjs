// What every benchmark's results file records (the machine, the libraries'
// versions) and where it is written: bench/results/<name>.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

/** The installed version of a package, or undefined. */
export function versionOf(pkg) {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** The CPU model and count, and the platform. */
export function machine() {
  return { cpu: cpus()[0]?.model, cpus: cpus().length, platform: `${platform()}-${arch()}` };
}

/** ziptrace's version and the dist/ measured, then each peer package's version. */
export function versions(dist, peers) {
  return {
    ziptrace: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version,
    'ziptrace dist': dist === undefined ? 'dist' : resolve(dist),
    ...Object.fromEntries(peers.map((pkg) => [pkg, versionOf(pkg)])),
  };
}

/** Writes `report` to `out`, or to bench/results/<name>.json. */
export function writeResults(report, name, out) {
  const file = out ?? join(here, 'results', `${name}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  return file;
}
