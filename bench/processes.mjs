// What the drivers that take turns between benchmark processes share (run.mjs,
// propagation.mjs): building dist/, finding the Node binaries, and a child
// process spoken to over IPC, one message at a time (runChild in harness.mjs
// and runPropagationChild in propagation-harness.mjs answer it).
import { execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBinaries, SUPPORTED_MAJORS } from '../scripts/nodes.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

/**
 * Builds dist/ when it is missing or older than lib/ (scripts/build.mjs
 * --if-stale), or always with `force`. The build swaps dist/ in atomically, so
 * other processes using dist/ meanwhile are not disturbed.
 */
export function ensureBuilt(force) {
  const flags = force ? [] : ['--if-stale'];
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), ...flags], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The Node binaries of `majors` (all supported ones when empty), fetching those missing (scripts/nodes.mjs). */
export function nodesFor(majors) {
  let nodes = nodeBinaries({ install: false });
  const wanted = majors.length > 0 ? majors : SUPPORTED_MAJORS;
  if (wanted.some((major) => !nodes.some((n) => n.major === major))) nodes = nodeBinaries({ install: true });
  nodes = nodes.filter((n) => wanted.includes(n.major));
  if (nodes.length === 0) throw new Error(`no supported Node binary for --node ${majors.join(',')} (supported: ${SUPPORTED_MAJORS.join(', ')})`);
  return nodes;
}

/**
 * One benchmark process: `lib.file` (in bench/) on `node`, with `nodeFlags`
 * before it and `childArgs` after it; ZIPTRACE_DIST set when `lib.dist` is.
 * `ask(message)` sends a message and resolves with the process's reply.
 */
export class Child {
  constructor(node, lib, childArgs, nodeFlags = ['--expose-gc']) {
    this.lib = lib;
    this.label = `${lib.file} on Node ${node.version}`;
    const env = lib.dist === undefined ? process.env : { ...process.env, ZIPTRACE_DIST: lib.dist };
    this.process = spawn(node.path, [...nodeFlags, join(here, lib.file), ...childArgs], { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.waiting = undefined;
    this.ready = this.next('ready');
    this.process.on('message', ({ message, reply }) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      if (waiting === undefined || waiting.message !== message) return;
      clearTimeout(waiting.timer);
      waiting.resolve(reply);
    });
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve(signal ?? code)));
    this.exited.then((how) => this.fail(`exited (${how})`));
  }

  next(message) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail('did not answer within 5 minutes'), 300_000);
      timer.unref();
      this.waiting = { message, resolve, reject, timer };
    });
  }

  fail(why) {
    const waiting = this.waiting;
    if (waiting === undefined) return;
    this.waiting = undefined;
    clearTimeout(waiting.timer);
    waiting.reject(new Error(`${this.label} ${why} while busy with "${waiting.message}"`));
  }

  ask(message) {
    const answer = this.next(message);
    this.process.send(message);
    return answer;
  }

  kill() {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill();
  }
}
