// The loopback collector of the reporting and HTTP benchmarks
// (bench/reporting.mjs, bench/http.mjs): a plain node:http server on
// 127.0.0.1 (port 0) that takes POST /api/v2/spans, gunzips the body when it
// says gzip, parses the JSON array, counts its spans and bytes, and answers
// 202. Nothing else.
//
// Driven over IPC by reporting.mjs and http.mjs:
//   → { type: 'expect', n }   reset the counts; tell me when n spans have arrived (no n: only reset)
//   → { type: 'adjust', n }   the library dropped some: n is the new target
//   → { type: 'count' }       the counts so far, since the last 'expect'
//   ← { type: 'listening', port }
//   ← { type: 'expecting' }
//   ← { type: 'reached', spans, requests, gzipped, wireBytes, jsonBytes, cpuMs, bad, sample }
//   ← { type: 'counted', ...the same fields as 'reached' }
// Each span is counted before the 202 is written, so a library whose last
// request was answered has had every span counted.
import http from 'node:http';
import { gunzipSync } from 'node:zlib';

const SPANS_PATH = '/api/v2/spans';

let round = fresh(undefined);

function fresh(target) {
  return { target, spans: 0, requests: 0, gzipped: 0, wireBytes: 0, jsonBytes: 0, bad: 0, sample: undefined, cpu: process.cpuUsage(), reached: false };
}

function counts() {
  const cpu = process.cpuUsage(round.cpu);
  const { spans, requests, gzipped, wireBytes, jsonBytes, bad, sample } = round;
  return { spans, requests, gzipped, wireBytes, jsonBytes, bad, sample, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function check() {
  if (round.reached || round.target === undefined || round.spans < round.target) return;
  round.reached = true;
  process.send({ type: 'reached', ...counts() });
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== SPANS_PATH) {
    res.writeHead(404).end();
    req.resume();
    return;
  }
  const chunks = [];
  let wire = 0;
  req.on('data', (chunk) => {
    chunks.push(chunk);
    wire += chunk.length;
  });
  req.on('end', () => {
    let spans;
    let json;
    try {
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, wire);
      json = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
      spans = JSON.parse(json.toString('utf8'));
    } catch {
      spans = undefined;
    }
    if (!Array.isArray(spans)) {
      round.bad++;
      res.writeHead(400).end();
      return;
    }
    round.spans += spans.length;
    round.requests++;
    if (req.headers['content-encoding'] === 'gzip') round.gzipped++;
    round.wireBytes += wire;
    round.jsonBytes += json.length;
    round.sample ??= spans[0];
    res.writeHead(202).end();
    check();
  });
});
// Both libraries keep their sockets alive; so does the server, for the whole run.
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;

process.on('message', (message) => {
  if (message.type === 'expect') {
    round = fresh(message.n);
    process.send({ type: 'expecting' });
  } else if (message.type === 'adjust') {
    round.target = message.n;
    check();
  } else if (message.type === 'count') {
    process.send({ type: 'counted', ...counts() });
  } else if (message.type === 'exit') {
    server.close();
    server.closeAllConnections?.();
    process.disconnect();
  }
});

server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));
