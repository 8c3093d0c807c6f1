/**
 * The exit send's child process: a standalone script, run by exit-send.ts as
 * `node dist/cjs/reporting/exit-sender.js` while the traced process is
 * exiting (on `process.exit()`, where nothing asynchronous can run in the
 * parent any more, so the parent waits for this process instead).
 *
 * It reads one {@link ExitSendJob} as JSON on stdin, POSTs its bodies to the
 * collector, all at once, and writes one {@link ExitSendResult} line on
 * stdout for each as soon as it ends (synchronously: a parent that kills it at
 * its deadline still knows what was delivered before). It exits at the job's
 * deadline whatever is still open.
 *
 * It imports only `node:` built-ins and never ziptrace: it must not trace,
 * nor register an exit send of its own. The parent's types import this module
 * as types only, so loading the parent never runs it.
 */
import { readFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

/** A certificate or key as JSON carries it: PEM text as it was, bytes as base64. */
export type ExitSendPem = string | { readonly base64: string };

/** What the parent asks: the bodies to POST, already encoded and compressed as the reporter would send them. */
export interface ExitSendJob {
  /** The collector's full spans URL. */
  readonly url: string;
  /** Always POST; said, so that the job reads as the request it makes. */
  readonly method: 'POST';
  /** The reporter's request headers (`b3: 0` among them), without content type, length and encoding. */
  readonly headers: Readonly<Record<string, string>>;
  /** The bodies' `Content-Type`. */
  readonly contentType: string;
  /** One request each: the body in base64, and whether it is gzipped. */
  readonly bodies: readonly { readonly data: string; readonly gzip: boolean }[];
  /** The wall-clock time (`Date.now()`) at which everything still open is given up and the process exits. */
  readonly deadline: number;
  /** The TLS options that travel as text (an `https:` url only). */
  readonly tls?: {
    readonly ca?: ExitSendPem | readonly ExitSendPem[];
    readonly cert?: ExitSendPem | readonly ExitSendPem[];
    readonly key?: ExitSendPem | readonly ExitSendPem[];
    readonly passphrase?: string;
    readonly servername?: string;
    readonly rejectUnauthorized?: boolean;
  };
}

/** How one body's request ended, by its index in {@link ExitSendJob.bodies}: the collector's status, or why none came. */
export type ExitSendResult = { readonly i: number; readonly status: number } | { readonly i: number; readonly error: string };

/** PEM text back from the job's form. */
function pem(value: ExitSendPem | readonly ExitSendPem[] | undefined): string | Buffer | (string | Buffer)[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.map((one: ExitSendPem) => pem(one) as string | Buffer);
  const one = value as ExitSendPem;
  return typeof one === 'string' ? one : Buffer.from(one.base64, 'base64');
}

/** Told at once, with a synchronous write, so that a kill right after loses nothing said. */
function tell(result: ExitSendResult): void {
  try {
    writeSync(1, `${JSON.stringify(result)}\n`);
  } catch {
    // The parent is gone: nobody to tell.
  }
}

function post(job: ExitSendJob, index: number, agent: http.Agent): Promise<void> {
  const body = Buffer.from(job.bodies[index]!.data, 'base64');
  const headers: Record<string, string | number> = { ...job.headers, 'content-type': job.contentType, 'content-length': body.length };
  if (job.bodies[index]!.gzip) headers['content-encoding'] = 'gzip';
  const client = job.url.startsWith('https:') ? https : http;
  return new Promise<void>((done) => {
    let told = false;
    const end = (result: ExitSendResult): void => {
      if (told) return;
      told = true;
      tell(result);
      done();
    };
    try {
      const request = client.request(job.url, { method: job.method, headers, agent });
      request.on('error', (error) => end({ i: index, error: error.message }));
      request.on('response', (response) => {
        // The answer's body is not needed, only that it ended: the status says whether the spans were taken.
        response.resume();
        response.on('error', (error) => end({ i: index, error: error.message }));
        response.on('end', () => end({ i: index, status: response.statusCode ?? 0 }));
      });
      request.end(body);
    } catch (error) {
      end({ i: index, error: String(error) });
    }
  });
}

function main(): void {
  let job: ExitSendJob;
  try {
    job = JSON.parse(readFileSync(0, 'utf8')) as ExitSendJob;
  } catch {
    process.exitCode = 2;
    return;
  }
  // Unref'd: when every request has ended the process exits at once, not at the deadline.
  setTimeout(() => process.exit(0), Math.max(0, job.deadline - Date.now())).unref();
  const tls = job.tls;
  const agent = job.url.startsWith('https:')
    ? new https.Agent({
        keepAlive: false,
        ...(tls === undefined
          ? {}
          : { ca: pem(tls.ca), cert: pem(tls.cert), key: pem(tls.key), passphrase: tls.passphrase, servername: tls.servername, rejectUnauthorized: tls.rejectUnauthorized }),
      })
    : new http.Agent({ keepAlive: false });
  void Promise.all(job.bodies.map((_, index) => post(job, index, agent))).then(() => agent.destroy());
}

// Run only as the process's script: a module that loaded it by mistake must not read its stdin and exit.
if (typeof require !== 'undefined' && require.main === module) main();
