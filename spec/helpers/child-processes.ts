/**
 * For the specs that run other processes (spec/interop/aiozipkin,
 * spec/propagation/w3c-suite): a command run to its end, and the port a
 * service it started says it listens on.
 */
import { execFile, type ChildProcess } from 'node:child_process';

/** How a command run by {@link run} ended. */
export interface Run {
  /** Its exit code; null when it did not exit by itself (killed at the timeout, or not started). */
  code: number | null;
  /** Its stdout then its stderr, and the error when there is no exit code. */
  output: string;
}

/** Runs `file` with `args` to its end (or the timeout), with up to 16 MiB of output; never rejects. */
export function run(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeout: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { ...options, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, output: `${stdout}${stderr}${error !== null && code === null ? `\n${String(error)}` : ''}` });
    });
  });
}

/**
 * Resolves with the port of the first line `child` prints on its stdout that
 * starts with `{`, read as `{"port": N}` (`child` spawned with piped stdout
 * and stderr). Rejects, with all it printed, when it exits first or has
 * printed no such line within 30 s; `what` names it in those messages
 * (`the service`).
 */
export function announcedPort(child: ChildProcess, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 30 s:\n${stdout}${stderr}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (code ${code}) before listening:\n${stdout}${stderr}`));
    });
  });
}
