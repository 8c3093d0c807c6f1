/**
 * The last-chance send on the process's `exit` event: the parent's side of
 * it. Once `process.exit()` is called (by the app, by a signal handler of
 * its, by Node for an uncaught exception) no request can be made, no socket
 * written, no timer fire: only the synchronous `exit` listeners run. So the
 * spans still queued are handed to a child process (exit-sender.ts, plain
 * Node with no ziptrace in it) with `spawnSync`, which blocks the exiting
 * process until the child has POSTed them or the deadline has passed.
 *
 * What is sent is decided by the reporter (http-batch-reporter.ts); this
 * module only finds the sender, writes the job, waits, and reads back what
 * each body's request came to.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { debug } from '../debug.js';
import type { HttpReporterTlsOptions } from './http-options.js';
import type { ExitSendJob, ExitSendPem, ExitSendResult } from './exit-sender.js';

/** One exit send: the bodies of one reporter, as its transport would POST them. */
export interface ExitSendRequest {
  /** The collector's full spans URL. */
  readonly url: URL;
  /** The transport's request headers, without content type, length and encoding. */
  readonly headers: Readonly<Record<string, string>>;
  /** The bodies' `Content-Type`. */
  readonly contentType: string;
  /** The bodies, encoded by the reporter and gzipped when its threshold says so. */
  readonly bodies: readonly { readonly data: Uint8Array; readonly gzip: boolean }[];
  /** The longest the exiting process may wait, in milliseconds: the reporter's `exitTimeout`. */
  readonly timeout: number;
  /** The reporter's TLS options. */
  readonly tls: HttpReporterTlsOptions | undefined;
}

/** How one body's request ended: the collector's status, or `undefined` when none came (no answer, not made, or cut off at the deadline). */
export type ExitSendOutcome = number | undefined;

/**
 * The compiled sender beside this module, in dist/cjs/reporting/ (and in an
 * installed package). When ziptrace runs from its TypeScript source (a test
 * runner's transform) there is none: a `.ts` file is no script plain Node
 * runs, so there is no exit send then. Looked up at exit, not at load, so
 * that loading ziptrace touches no file.
 */
function senderPath(): string | undefined {
  // Not `__filename` bare: ziptrace's source transpiled to ESM (a spec's) has none, and must still load.
  if (typeof __dirname !== 'string') return undefined;
  const path = join(__dirname, 'exit-sender.js');
  return existsSync(path) ? path : undefined;
}

/**
 * POSTs the bodies from a child process, blocking until it is done or
 * `timeout` has passed (then it is killed). Returns each body's outcome, in
 * order; all `undefined` when there is no sender or the child could not run.
 * Never throws: it runs inside an `exit` listener.
 */
export function sendAtExit(request: ExitSendRequest): ExitSendOutcome[] {
  const outcomes: ExitSendOutcome[] = request.bodies.map(() => undefined);
  try {
    const sender = senderPath();
    if (sender === undefined || request.bodies.length === 0) return outcomes;
    // The child's own deadline comes a little before the parent's kill, so that it can say what it delivered and leave.
    const job: ExitSendJob = {
      url: request.url.href,
      method: 'POST',
      headers: request.headers,
      contentType: request.contentType,
      bodies: request.bodies.map((body) => ({ data: Buffer.from(body.data.buffer, body.data.byteOffset, body.data.byteLength).toString('base64'), gzip: body.gzip })),
      deadline: Date.now() + Math.max(1, request.timeout - 50),
      ...(request.tls === undefined ? {} : { tls: tlsForJob(request.tls) }),
    };
    if (debug.enabled) debug('exit send: %d request(s) to %s from a child process, within %d ms', job.bodies.length, request.url.origin, request.timeout);
    const result = spawnSync(process.execPath, [sender], {
      input: JSON.stringify(job),
      timeout: request.timeout,
      killSignal: 'SIGKILL',
      stdio: ['pipe', 'pipe', 'ignore'],
      env: childEnvironment(),
      windowsHide: true,
    });
    for (const line of String(result.stdout ?? '').split('\n')) {
      if (line !== '') record(outcomes, line);
    }
  } catch {
    // Nothing may escape an exit listener: what is not known delivered is counted lost by the caller.
  }
  return outcomes;
}

/** One line of the child's: a body's status, into `outcomes`. A line cut off by the kill is skipped. */
function record(outcomes: ExitSendOutcome[], line: string): void {
  let told: ExitSendResult;
  try {
    told = JSON.parse(line) as ExitSendResult;
  } catch {
    return;
  }
  if ('status' in told && Number.isInteger(told.i) && told.i >= 0 && told.i < outcomes.length) outcomes[told.i] = told.status;
}

/**
 * The environment the sender runs in: this process's, without NODE_OPTIONS,
 * whose `--require ziptrace/register` (the zero-code start) or `--import`
 * would load the tracer in the child. NODE_EXTRA_CA_CERTS and the proxies'
 * variables stay.
 */
function childEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

/** The TLS options as JSON carries them: PEM bytes as base64. A passphrase and names are text already. */
function tlsForJob(tls: HttpReporterTlsOptions): NonNullable<ExitSendJob['tls']> {
  return {
    ca: pems(tls.ca),
    cert: pems(tls.cert),
    key: pems(tls.key),
    passphrase: tls.passphrase,
    servername: tls.servername,
    rejectUnauthorized: tls.rejectUnauthorized,
  };
}

function pems(value: HttpReporterTlsOptions['ca']): ExitSendPem | ExitSendPem[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.map((one) => pemOf(one));
  return pemOf(value as string | Uint8Array);
}

function pemOf(value: string | Uint8Array): ExitSendPem {
  return typeof value === 'string' ? value : { base64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
}
