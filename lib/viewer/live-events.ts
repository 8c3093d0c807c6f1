/**
 * Server-Sent Events for the page: "spans arrived for these traces", so the
 * list refreshes without a reload. Arrivals are gathered and sent at most once
 * per interval, since a busy reporter posts many batches a second and the page
 * only needs to know that something changed. Listeners are capped, so a tab
 * left open in a loop of reloads cannot hold unbounded sockets.
 */
import type { ServerResponse } from 'node:http';

/** Bytes left unread by one stream past which it is dropped (the page reconnects and refreshes). */
const MAX_UNREAD_BYTES = 256 * 1024;

/** The open event streams and what they are about to be told. */
export class LiveEvents {
  readonly #clients = new Set<ServerResponse>();
  readonly #pending = new Set<string>();
  readonly #intervalMs: number;
  readonly #maxClients: number;
  #timer: NodeJS.Timeout | undefined;
  #keepAlive: NodeJS.Timeout | undefined;

  /**
   * @param intervalMs the least time between two events to one stream.
   * @param maxClients streams held open at once; one more is answered 503.
   */
  constructor(intervalMs = 250, maxClients = 64) {
    this.#intervalMs = intervalMs;
    this.#maxClients = maxClients;
  }

  /** Answers `GET /ziptrace/api/events`: keeps the response open as an event stream. */
  open(res: ServerResponse): void {
    if (this.#clients.size >= this.#maxClients) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' }).end(`at most ${this.#maxClients} event streams at once\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    this.#clients.add(res);
    res.once('close', () => this.#clients.delete(res));
    // A comment now and then keeps proxies and idle timeouts from closing a quiet stream.
    this.#keepAlive ??= setInterval(() => {
      for (const client of this.#clients) this.#write(client, ': keep-alive\n\n');
    }, 15_000).unref();
  }

  /** Notes that spans arrived for these traces; the streams hear of it within the interval. */
  spansArrived(traceIds: readonly string[]): void {
    if (this.#clients.size === 0) return;
    // Bounded: past a few hundred ids the page refreshes its list anyway.
    for (const id of traceIds) if (this.#pending.size < 500) this.#pending.add(id);
    this.#timer ??= setTimeout(() => this.#send(), this.#intervalMs).unref();
  }

  #send(): void {
    this.#timer = undefined;
    const data = JSON.stringify({ traceIds: [...this.#pending] });
    this.#pending.clear();
    for (const client of this.#clients) this.#write(client, `event: spans\ndata: ${data}\n\n`);
  }

  /** A stream whose reader stopped reading (a frozen tab) is dropped, not buffered for without end. */
  #write(client: ServerResponse, text: string): void {
    if (client.writableLength > MAX_UNREAD_BYTES) {
      this.#clients.delete(client);
      client.destroy();
      return;
    }
    client.write(text);
  }

  /** Ends every stream and stops the timers. */
  close(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#keepAlive);
    this.#timer = this.#keepAlive = undefined;
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }
}
