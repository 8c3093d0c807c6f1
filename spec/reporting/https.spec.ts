import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpReporter, type ReporterLogger, type ZipkinSpan } from '../../lib/index.js';
import { validateZipkinSpans } from '../helpers/zipkin-schema.js';

// A real TLS collector on 127.0.0.1 with the self-signed certificate in spec/fixtures/tls.
const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'tls');
const cert = readFileSync(join(fixtures, 'cert.pem'));
const key = readFileSync(join(fixtures, 'key.pem'));

let server: https.Server;
let url: string;
const received: ZipkinSpan[] = [];
const requests: { encoding: string | undefined; b3: string | undefined; port: number }[] = [];

beforeAll(async () => {
  server = https.createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      received.push(...(JSON.parse(body.toString('utf8')) as ZipkinSpan[]));
      requests.push({ encoding: req.headers['content-encoding'], b3: req.headers.b3 as string | undefined, port: req.socket.remotePort! });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function span(n: number): ZipkinSpan {
  return { traceId: 'a'.repeat(31) + (n % 10), id: 'b'.repeat(15) + (n % 10), name: `s${n}`, timestamp: 1_795_000_000_000_000 + n, duration: 5, localEndpoint: { serviceName: 'tls' }, tags: { n: String(n), pad: 'x'.repeat(300) } };
}

describe('HttpReporter over HTTPS', () => {
  it('delivers to a collector whose certificate the tls.ca option vouches for: gzipped, kept alive, b3: 0', async () => {
    received.length = 0;
    requests.length = 0;
    // A plain Uint8Array, as the option's type allows (a Buffer is one too).
    // gzip asked for: by default a collector on this machine gets plain JSON.
    const reporter = new HttpReporter({ url, tls: { ca: new Uint8Array(cert) }, batchInterval: 60_000, maxBatchSpans: 5, logger: false, gzip: true });
    for (let i = 0; i < 15; i++) reporter.report(span(i));
    await reporter.flush();
    await reporter.close();
    // Two requests may be in flight at once, so batches can arrive in either order.
    expect(received.map((s) => s.name).sort()).toEqual(Array.from({ length: 15 }, (_, i) => `s${i}`).sort());
    validateZipkinSpans(received);
    expect(requests).toHaveLength(3);
    expect(requests.every((r) => r.encoding === 'gzip' && r.b3 === '0')).toBe(true);
    expect(new Set(requests.map((r) => r.port)).size).toBeLessThan(requests.length);
    expect(reporter.stats()).toMatchObject({ reported: 15, sent: 15, queued: 0, droppedTotal: 0, failedRequests: 0 });
  });

  it('verifies the certificate by default: an unknown one fails the request, and the spans are dropped, counted', async () => {
    received.length = 0;
    const calls: string[] = [];
    const logger: ReporterLogger = { warn: (message) => calls.push(message) };
    const reporter = new HttpReporter({ url, batchInterval: 60_000, maxRetries: 0, logger });
    reporter.report(span(1));
    await reporter.flush();
    await reporter.close();
    expect(received).toEqual([]);
    expect(reporter.stats()).toMatchObject({ reported: 1, sent: 0, failedRequests: 1, droppedTotal: 1, dropped: { retriesExhausted: 1 } });
    expect(calls[0]).toMatch(/self[- ]signed certificate/i);
  });

  it('tells what to fix when tls options come with an http: url or are unknown, naming the closest known key', () => {
    expect(() => new HttpReporter({ url: 'http://127.0.0.1:9411', tls: { ca: cert } })).toThrow(/tls options need an https: url, got http:/);
    expect(() => new HttpReporter({ url, tls: { cafile: 'x' } as never })).toThrow(
      'ziptrace: HttpReporter: cafile is not an option of HttpReporter({ tls }); known: ca, cert, key, passphrase, servername, rejectUnauthorized',
    );
    expect(() => new HttpReporter({ url, tls: { rejectUnauthorised: false, serverName: 'zipkin' } as never })).toThrow(
      'ziptrace: HttpReporter: rejectUnauthorised is not an option of HttpReporter({ tls }); did you mean rejectUnauthorized?; ' +
        'serverName is not an option of HttpReporter({ tls }); did you mean servername?',
    );
  });
});
