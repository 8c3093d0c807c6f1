/**
 * Reading a `POST /api/v2/spans` body within bounds. A collector on a laptop
 * must not be made to hold an unbounded body, nor to inflate a small gzip bomb
 * into gigabytes: both sizes are capped, and past either the answer is 413.
 */
import type { IncomingMessage } from 'node:http';
import { gunzip } from 'node:zlib';

/** Why a body could not be read: the HTTP status to answer and the reason to give. */
export interface BodyProblem {
  status: 413 | 415 | 400 | 503;
  reason: string;
}

/** Limits on one request body. */
export interface BodyLimits {
  /** Bytes on the wire (after any Content-Length check). */
  maxBodyBytes: number;
  /** Bytes once unzipped. */
  maxUnzippedBytes: number;
  /**
   * Shared by every request of a server: the bytes all bodies being read hold
   * at once. Many slow uploads at the per-body limit would otherwise add up
   * without bound; past it a request is answered 503, to retry.
   */
  inFlight: { used: number; readonly max: number };
}

/**
 * The body as text, unzipped when `Content-Encoding: gzip`, or the problem.
 * Stops reading at the first byte past the limit (the caller answers and
 * closes the connection, so the rest is never buffered).
 */
export async function readBody(req: IncomingMessage, limits: BodyLimits): Promise<{ text: string } | BodyProblem> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'gzip' && encoding !== 'identity') return { status: 415, reason: `Content-Encoding ${encoding} is not supported: send gzip or no encoding` };
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBodyBytes) return tooLarge('body', limits.maxBodyBytes);

  const chunks: Buffer[] = [];
  let size = 0;
  const budget = limits.inFlight;
  let over: 'body' | 'budget' | undefined;
  try {
    over = await new Promise<'body' | 'budget' | undefined>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        budget.used += chunk.length;
        const problem = size > limits.maxBodyBytes ? 'body' : budget.used > budget.max ? 'budget' : undefined;
        if (problem !== undefined) {
          req.off('data', onData);
          req.pause();
          resolve(problem);
          return;
        }
        chunks.push(chunk);
      };
      req.on('data', onData);
      req.once('end', () => resolve(undefined));
      req.once('error', reject);
      req.once('close', () => resolve(undefined));
    });
  } finally {
    budget.used -= size;
  }
  if (over === 'body') return tooLarge('body', limits.maxBodyBytes);
  if (over === 'budget') return { status: 503, reason: `busy: other requests' bodies already hold ${budget.max} bytes; retry shortly` };
  const body = Buffer.concat(chunks, size);
  if (encoding === 'identity') return { text: body.toString('utf8') };
  try {
    const unzipped = await new Promise<Buffer>((resolve, reject) =>
      gunzip(body, { maxOutputLength: limits.maxUnzippedBytes }, (error, result) => (error ? reject(error) : resolve(result))),
    );
    return { text: unzipped.toString('utf8') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return tooLarge('unzipped body', limits.maxUnzippedBytes);
    return { status: 400, reason: `the body is not valid gzip: ${(error as Error).message}` };
  }
}

function tooLarge(what: string, limit: number): BodyProblem {
  return { status: 413, reason: `the ${what} is larger than ${limit} bytes` };
}
