/**
 * The page's event stream over a real socket: events batched per interval,
 * and a reader that stops reading (a frozen tab) dropped once it leaves too
 * much unread, rather than buffered for without end.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveEvents } from '../../lib/viewer/live-events.js';

const servers: http.Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.closeAllConnections(), server.close();
});

async function serve(events: LiveEvents): Promise<{ port: number; responses: http.ServerResponse[] }> {
  const responses: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    responses.push(res);
    events.open(res);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, responses };
}

describe('LiveEvents', () => {
  it('gathers arrivals and sends them once per interval', async () => {
    const events = new LiveEvents(50);
    const { port } = await serve(events);
    const response = await fetch(`http://127.0.0.1:${port}/`);
    const reader = response.body!.getReader();
    await reader.read(); // the retry line
    events.spansArrived(['a']);
    events.spansArrived(['b', 'a']);
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toBe('event: spans\ndata: {"traceIds":["a","b"]}\n\n');
    events.close();
  });

  it('drops a stream whose reader stopped reading, and keeps the others', async () => {
    const events = new LiveEvents(1);
    const { port, responses } = await serve(events);
    // A client that sends its request and then never reads.
    const frozen = net.connect(port, '127.0.0.1');
    frozen.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    frozen.pause();
    await expect.poll(() => responses.length).toBe(1);
    const ids = Array.from({ length: 400 }, (_, i) => i.toString(16).padStart(32, '0'));
    // Until the server gives up on it: the kernel's buffers fill first, then Node's, then the stream is dropped.
    while (!responses[0]!.destroyed) {
      events.spansArrived(ids);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(responses[0]!.writableLength).toBeLessThan(2 * 1024 * 1024);
    frozen.destroy();
    events.close();
  }, 30_000);
  it('answers 503 past maxClients streams', async () => {
    const events = new LiveEvents(50, 1);
    const { port } = await serve(events);
    const first = await fetch(`http://127.0.0.1:${port}/`);
    const second = await fetch(`http://127.0.0.1:${port}/`);
    expect(first.status).toBe(200);
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('5');
    await first.body!.cancel();
    events.close();
  });
});
