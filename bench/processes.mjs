// What the drivers that take turns between benchmark processes share (run.mjs,
// propagation.mjs, reporting.mjs, http.mjs): building dist/, finding the Node
// binaries, a child process spoken to over IPC one message at a time (runChild
// in harness.mjs and runPropagationChild in propagation-harness.mjs answer
// it), and one spoken to by message type (the reporting and HTTP benchmarks').
import { execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBinaries, SUPPORTED_MAJORS } from '../scripts/nodes.mjs';
import { ALLOCATION_FLAGS } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

/**
 * The command-line options one at a time, for the drivers' parseArgs:
 * `each(option, value)`, where `value()` takes the next argument as the
 * option's value, or throws naming the option when there is none.
 */
export function eachOption(argv, each) {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    each(arg, () => {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      return value;
    });
  }
}

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

/**
 * A child process spoken to over IPC by message type (http.mjs, reporting.mjs):
 * `send(message)`, `next(type)` for its next message of that type (kept if it
 * came early), `ask(message, replyType)` for both.
 */
export class MessageChild {
  constructor(label, node, argv, { env = process.env, flags = [] } = {}) {
    this.label = label;
    this.process = spawn(node, [...flags, ...argv], { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.inbox = [];
    this.waiters = [];
    this.process.on('message', (message) => {
      const at = this.waiters.findIndex((w) => w.type === message.type);
      if (at < 0) this.inbox.push(message);
      else this.waiters.splice(at, 1)[0].resolve(message);
    });
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve(signal ?? code)));
    this.exited.then((how) => {
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${this.label} exited (${how}) while we waited for "${w.type}"`));
    });
  }

  next(type, ms = 120_000) {
    const at = this.inbox.findIndex((m) => m.type === type);
    if (at >= 0) return Promise.resolve(this.inbox.splice(at, 1)[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.label}: no "${type}" within ${ms / 1000} s`));
      }, ms);
      const waiter = { type, resolve: (m) => (clearTimeout(timer), resolve(m)), reject: (e) => (clearTimeout(timer), reject(e)) };
      this.waiters.push(waiter);
    });
  }

  send(message) {
    this.process.send(message);
  }

  ask(message, type) {
    const reply = this.next(type);
    this.process.send(message);
    return reply;
  }

  /** Asks it to exit, and kills it if it has not within 5 s. */
  async exit() {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.send({ type: 'exit' });
    const timer = setTimeout(() => this.kill(), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  kill() {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill();
  }
}

/**
 * The bytes each library allocates per operation of each workload (run.mjs,
 * propagation.mjs): each once more, in a process of its own started with
 * ALLOCATION_FLAGS (which change how often the collector runs, so the timed
 * processes go without them), warmed up as for the rounds, then asked for its
 * allocation (harness.mjs bytesPerOp). Bytes do not depend on what else the
 * machine runs, so the processes run at once rather than in turns. Each
 * library's `{ bytes, problems }`, in the order of `libs`.
 */
export async function allocation(node, libs, childArgs) {
  process.stderr.write(`Node ${node.version}: allocation\n`);
  const children = libs.map((lib) => new Child(node, lib, childArgs, ALLOCATION_FLAGS));
  try {
    return await Promise.all(
      children.map(async (child) => {
        await child.ready;
        await child.ask('warmup');
        const bytes = await child.ask('allocation');
        const { problems } = await child.ask('summary');
        await child.exited;
        return { bytes, problems };
      }),
    );
  } finally {
    for (const child of children) child.kill();
  }
}
