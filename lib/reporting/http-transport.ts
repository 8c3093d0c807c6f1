/**
 * One POST of a span batch to a collector (Zipkin's, or OTLP's): gzip when the body is large
 * enough, the headers, a deadline from sending to the end of the answer, the
 * answer read (a bounded part of its text, for the reason of a refusal), and
 * the outcome told back once.
 *
 * It neither retries nor counts: its owner decides what an outcome means. It
 * owns the connections: a keep-alive agent with at most `maxSockets` of
 * them, made outside any span, so that its own requests are never traced.
 */
import http from 'node:http';
import https from 'node:https';
import { constants as zlibConstants, gzip, gzipSync, type ZlibOptions } from 'node:zlib';
import { runOutside } from '../context.js';
import type { HttpReporterTlsOptions } from './http-options.js';

/** How one POST ended. */
export type PostOutcome =
  /**
   * An answer arrived, whatever its status. `text` is at most 512 characters
   * of its body; `bodyBytes` what was sent; `bodyFree` that the body given to
   * `post` is no longer read (it was gzipped, or all of it was written before
   * the answer ended: a collector may answer before reading all of it).
   */
  | { readonly kind: 'answer'; readonly status: number; readonly text: string; readonly retryAfter: string | undefined; readonly bodyBytes: number; readonly bodyFree: boolean }
  /** No answer: the connection failed or was reset, or the deadline passed. */
  | { readonly kind: 'no-answer'; readonly error: Error }
  /** The HTTP client would not make the request (a header it refuses, say): sending again will not help. */
  | { readonly kind: 'refused'; readonly error: unknown }
  /** {@link HttpTransport.abort} ended it. */
  | { readonly kind: 'closed' };

/**
 * What a transport tells its owner about each post. `C` is whatever the
 * owner passed along with the body (its batch), handed back unchanged.
 */
export interface PostListener<C> {
  /**
   * The body is ready (gzipped if it was to be) and the request is about to
   * be made: the moment a request counts as made. Return false not to make
   * it (the owner gave up on the batch while its body was being compressed);
   * then no outcome follows.
   */
  beforeRequest(context: C): boolean;
  /** How the request ended; once for every request that `beforeRequest` let through. */
  afterRequest(context: C, outcome: PostOutcome): void;
  /**
   * The request may have reached the collector: its socket is connected, so
   * what was written to it may leave the process even if the process ends
   * now. Said early rather than late (a TLS handshake may still be under
   * way): it only keeps the exit send from sending the batch a second time.
   * At most once per request; not for a request that ends before connecting.
   */
  reached?(context: C): void;
}

/** Options of {@link HttpTransport}. */
export interface HttpTransportOptions {
  /** Where to POST: the collector's full `…/api/v2/spans` (or `…/v1/traces`) URL, `http:` or `https:`. */
  readonly url: URL;
  /** Extra request headers; `content-type`, `b3` and the length are set over them. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** The bodies' `Content-Type`. Default `application/json` (Zipkin v2 JSON). */
  readonly contentType?: string;
  /** Milliseconds from sending a request to the end of its answer. */
  readonly timeout: number;
  /** gzip bodies of at least this many bytes; `Infinity` never. */
  readonly gzipThreshold: number;
  /** Connections (and so requests) at once at most. */
  readonly maxSockets: number;
  /** TLS for an `https:` url. */
  readonly tls: HttpReporterTlsOptions | undefined;
}

/** An answer's text beyond this is not needed to say why a batch was refused. */
const MAX_REASON_CHARS = 512;
/**
 * gzip at level 1 (Z_BEST_SPEED): on span JSON it costs about half the CPU of
 * the default level 6 for bodies a few percent larger (bench/README.md, Reporting).
 */
const GZIP_OPTIONS: ZlibOptions = { level: zlibConstants.Z_BEST_SPEED };
const CLOSED: PostOutcome = Object.freeze({ kind: 'closed' });

/*
 * A transport its owner dropped without destroy() is garbage once no request
 * is in flight, but its agent is not while a kept-alive socket is open (the
 * socket refers to the agent). When the transport is collected, its idle
 * sockets are closed rather than left open until the collector times them out.
 */
const agents = new FinalizationRegistry<http.Agent>((agent) => agent.destroy());

/** POSTs bodies to one collector over one agent, and tells a {@link PostListener} how each went. */
export class HttpTransport<C> {
  private readonly url: URL;
  private readonly timeout: number;
  private readonly gzipThreshold: number;
  private readonly client: typeof http | typeof https;
  private readonly agent: http.Agent;
  private readonly listener: PostListener<C>;
  private readonly requests = new Set<http.ClientRequest>();
  /** The headers every request carries (content type and `b3: 0` included), without length and encoding. */
  readonly requestHeaders: Readonly<Record<string, string>>;
  /** The TLS options, as given: for the exit send's child, which makes its own connections. */
  readonly tls: HttpReporterTlsOptions | undefined;

  /** @param options checked by the caller. @param listener told of every request. */
  constructor(options: HttpTransportOptions, listener: PostListener<C>) {
    this.url = options.url;
    this.timeout = options.timeout;
    this.gzipThreshold = options.gzipThreshold;
    this.listener = listener;
    // b3: 0 asks the collector's own tracing not to trace the reporter's requests; neither may override it.
    this.requestHeaders = { ...options.headers, 'content-type': options.contentType ?? 'application/json', b3: '0' };
    this.tls = options.tls;
    this.client = this.url.protocol === 'https:' ? https : http;
    // Sockets belong to no request: made outside any span's context.
    this.agent = runOutside(() =>
      this.client === https
        ? new https.Agent({ keepAlive: true, maxSockets: options.maxSockets, ...(options.tls as https.AgentOptions | undefined) })
        : new http.Agent({ keepAlive: true, maxSockets: options.maxSockets }),
    );
    agents.register(this, this.agent, this);
  }

  /**
   * Sends `body` (text, sent as UTF-8, or bytes; of `bodyBytes` bytes, known
   * to the caller) as one POST, outside any span. The listener hears of it
   * before the request is made and when it ends; nothing is thrown.
   */
  post(body: string | Uint8Array, bodyBytes: number, context: C): void {
    runOutside(() => {
      if (bodyBytes >= this.gzipThreshold) {
        gzip(body, GZIP_OPTIONS, (error, compressed) => {
          if (error !== null) this.request(context, toBuffer(body), undefined);
          else this.request(context, compressed, 'gzip');
        });
      } else {
        this.request(context, toBuffer(body), undefined);
      }
    });
  }

  /**
   * `body` as {@link post} would send it, made synchronously (for the exit
   * send, where no callback will run): gzipped at the same level when it is
   * at least the threshold, else its bytes as they are.
   */
  encodeSync(body: string | Uint8Array, bodyBytes: number): { readonly data: Uint8Array; readonly gzip: boolean } {
    if (bodyBytes >= this.gzipThreshold) {
      try {
        return { data: gzipSync(body, GZIP_OPTIONS), gzip: true };
      } catch {
        // As post() does when gzip fails: sent as it is.
      }
    }
    return { data: toBuffer(body), gzip: false };
  }

  /** Ends every request in flight; each one's outcome is `closed`. */
  abort(): void {
    for (const request of this.requests) request.destroy(new ClosedError());
  }

  /** Closes the connections. Posts after this fail (no answer). */
  destroy(): void {
    agents.unregister(this);
    this.agent.destroy();
  }

  private request(context: C, body: Buffer, encoding: 'gzip' | undefined): void {
    if (!this.listener.beforeRequest(context)) return;
    const headers: Record<string, string | number> = { ...this.requestHeaders, 'content-length': body.length };
    if (encoding !== undefined) headers['content-encoding'] = encoding;
    let done = false;
    let request: http.ClientRequest;
    const finish = (outcome: PostOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      this.requests.delete(request);
      this.listener.afterRequest(context, outcome);
    };
    try {
      request = this.client.request(this.url, { method: 'POST', agent: this.agent, headers });
    } catch (error) {
      this.listener.afterRequest(context, { kind: 'refused', error });
      return;
    }
    this.requests.add(request);
    const deadline = setTimeout(() => request.destroy(new TimeoutError(this.timeout)), this.timeout);
    deadline.unref();
    const listener = this.listener;
    if (listener.reached !== undefined) {
      request.once('socket', (socket) => {
        if (!socket.connecting) listener.reached!(context);
        else socket.once('connect', () => listener.reached!(context));
      });
    }
    request.on('error', (error) => finish(error instanceof ClosedError ? CLOSED : { kind: 'no-answer', error }));
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (text.length < MAX_REASON_CHARS) text += chunk;
      });
      response.on('error', (error) => finish(error instanceof ClosedError ? CLOSED : { kind: 'no-answer', error }));
      response.on('end', () => {
        const retryAfter = response.headers['retry-after'];
        const bodyFree = encoding !== undefined || request.writableFinished;
        finish({ kind: 'answer', status: response.statusCode ?? 0, text: text.slice(0, MAX_REASON_CHARS), retryAfter, bodyBytes: body.length, bodyFree });
      });
    });
    request.end(body);
  }
}

/** A body as the bytes to send: text as UTF-8, bytes as they are (a Buffer over them, not a copy). */
function toBuffer(body: string | Uint8Array): Buffer {
  if (typeof body === 'string') return Buffer.from(body);
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/** The deadline passed: the message is what the operator reads in the warning. */
class TimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/** Marks a request ended by abort(), so its error is not taken for a failure. */
class ClosedError extends Error {
  constructor() {
    super('the reporter closed');
  }
}
