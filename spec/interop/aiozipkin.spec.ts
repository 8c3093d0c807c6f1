/**
 * aiozipkin (Python, aio-libs) on both sides of a ziptrace service, three
 * processes, one loopback collector:
 *
 *   spec/fixtures/aiozipkin/client.py    an aiohttp ClientSession traced by aiozipkin (az.make_trace_config),
 *        │                               a local root span "checkout" and its CLIENT span
 *        ▼  B3 multi (aiozipkin's make_headers), or B3 single for the debug case
 *   spec/fixtures/aiozipkin/service.mjs  ziptrace from dist/: tracedHandler + instrumentHttpClients, nothing else
 *        │
 *        ▼  B3 multi + traceparent (ziptrace's default)
 *   spec/fixtures/aiozipkin/server.py    an aiohttp server traced by aiozipkin (az.setup)
 *
 * Every one of them reports to the same collector (spec/helpers/collector.ts):
 * aiozipkin's Transport posts v2 JSON to `<url>/api/v2/spans`, ziptrace's
 * HttpReporter (from `zipkinUrl`) too. The spec checks the trace they make
 * together: one trace id; Zipkin's shared spans at both joins; the sampling
 * decision carried through; debug where aiozipkin can carry it.
 *
 * What aiozipkin (1.1.1a1, Debian's python3-aiozipkin) does, read from its
 * source (aiozipkin/helpers.py, tracer.py, aiohttp_helpers.py, record.py) and
 * checked here against what reaches the wire and the collector:
 *
 * - Its client sends B3 multi headers (`make_headers`) with `X-B3-Flags: 0`
 *   always and `X-B3-Sampled: 1|0`: even a debug trace goes out as merely
 *   sampled. Debug leaves an aiozipkin client only in the single header form
 *   (`make_single_header`, `d`), which its client instrumentation never sends
 *   by itself (client.py adds it with a hook, for the debug case).
 * - Its server (`make_context`) lower-cases the header names, then looks up
 *   `X-B3-Flags` with its capitals (`parse_debug_header`), so it never sees
 *   debug in the multi-header form: `X-B3-Flags: 1` from ziptrace is lost, and
 *   only a `b3: …-d-…` single header would make an aiozipkin server debug.
 * - Its server joins the caller's span (same id, the caller's parent) always,
 *   but marks it `shared` only when `X-B3-Sampled` came in (`join_span`: a
 *   context with no sampling decision goes to its sampler and keeps
 *   `shared: False`). B3 says debug implies sampled and is sent without
 *   `X-B3-Sampled`, as ziptrace does, so a debug request makes an aiozipkin
 *   server span with the caller's id that is neither shared nor debug.
 * - An unsampled context is carried on (`X-B3-Sampled: 0`) by NoopSpans,
 *   which report nothing.
 * - Its spans always carry `debug` and `shared` (false as well as true),
 *   `annotations` and `tags` (empty or not), and `parentId` and
 *   `remoteEndpoint` even when there is none, as JSON `null`:
 *   `Record.asdict` drops a None for `kind` only. See AIOZIPKIN_DEVIATIONS
 *   for how the schema check (spec/setup/every-span.ts) takes those bodies.
 *
 * Needs a python3 with aiozipkin (Debian: apt-get install -y python3-aiozipkin,
 * which brings python3-aiohttp, into /usr/bin/python3). Without one the spec
 * is skipped, saying how to install it, except under CI (`CI` set: .ci/run
 * installs it), where it fails instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZipkinSpan } from '../../lib/index.js';
import { announcedPort, run } from '../helpers/child-processes.js';
import { sleep, startCollector, takeInvalidBodies, waitFor, type Collector, type RecordedRequest } from '../helpers/collector.js';
import { findPython } from '../helpers/python.js';
import { OFFICIAL_DEFINITION_PRESENT, zipkinSpanSchemaErrors } from '../helpers/zipkin-schema.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = path.join(repoRoot, 'spec', 'fixtures', 'aiozipkin');

const INSTALL = 'apt-get update && apt-get install -y python3-aiozipkin   (as .ci/run does; it brings python3-aiohttp and installs into /usr/bin/python3)';

const python = findPython(['aiohttp', 'aiozipkin']);
const MISSING = python === undefined ? `no python3 with aiozipkin (tried python3 on PATH and /usr/bin/python3). Install it with: ${INSTALL}` : undefined;
// CI runs .ci/run, which installs python3-aiozipkin: there a missing one is a failure, not a skip.
const IN_CI = process.env.CI !== undefined && process.env.CI !== '';
const SKIP = MISSING !== undefined && !IN_CI;
if (SKIP) console.warn(`spec/interop/aiozipkin.spec.ts skipped: ${MISSING}`);

/* ------------------------------------------------------------------ aiozipkin's bodies and the schema */

/**
 * What aiozipkin's span bodies carry that the schema check rejects, each one
 * exactly: the message pattern (the span's index in the body replaced by N),
 * and what in the span it comes from. Nothing else may fail; and with these
 * taken out, each of aiozipkin's spans must pass the check in full.
 *
 * - `debug: false`, `shared: false`: aiozipkin writes both on every span.
 *   The official definition allows false; ziptrace's schema says "true or
 *   absent", its own promise (ziptrace leaves them out), so only it rejects them.
 * - `parentId: null` (a root span) and `remoteEndpoint: null` (a span with no
 *   remote endpoint: aiozipkin's CLIENT spans and local spans): `Record.asdict`
 *   keeps None values except for `kind`. Not a string and not an object: the
 *   official definition rejects them too, as does ziptrace's JSON check (no null).
 *
 * Empty `tags: {}` and `annotations: []` (on every aiozipkin client span) are
 * valid in both, and not listed.
 */
const AIOZIPKIN_DEVIATIONS: readonly { field: keyof ZipkinSpan; value: null | false; messages: readonly RegExp[] }[] = [
  { field: 'debug', value: false, messages: [/^ziptrace: \/N\/debug must be equal to constant \(true\), got false$/] },
  { field: 'shared', value: false, messages: [/^ziptrace: \/N\/shared must be equal to constant \(true\), got false$/] },
  {
    field: 'parentId',
    value: null,
    messages: [
      /^ziptrace: \/N\/parentId must be string$/,
      /^ziptrace: \/N\/parentId is null: ziptrace leaves absent fields out$/,
      ...(OFFICIAL_DEFINITION_PRESENT ? [/^zipkin2-api\.yaml: \/N\/parentId must be string$/] : []),
    ],
  },
  {
    field: 'remoteEndpoint',
    value: null,
    messages: [
      /^ziptrace: \/N\/remoteEndpoint must be object$/,
      /^ziptrace: \/N\/remoteEndpoint is null: ziptrace leaves absent fields out$/,
      ...(OFFICIAL_DEFINITION_PRESENT ? [/^zipkin2-api\.yaml: \/N\/remoteEndpoint must be object$/] : []),
    ],
  },
];

/** The span without aiozipkin's deviations: the fields holding exactly those values left out. */
function withoutDeviations(span: ZipkinSpan): ZipkinSpan {
  const out = { ...span } as Record<string, unknown>;
  for (const { field, value } of AIOZIPKIN_DEVIATIONS) if (out[field] === value) delete out[field];
  return out as unknown as ZipkinSpan;
}

/** The messages the schema check gives for `spans`, as AIOZIPKIN_DEVIATIONS predicts them from the fields. */
function predictedMessages(spans: ZipkinSpan[]): { index: number; pattern: RegExp }[] {
  const out: { index: number; pattern: RegExp }[] = [];
  spans.forEach((span, index) => {
    for (const { field, value, messages } of AIOZIPKIN_DEVIATIONS) {
      if ((span as unknown as Record<string, unknown>)[field] === value) for (const pattern of messages) out.push({ index, pattern });
    }
  });
  return out;
}

/**
 * Takes the invalid bodies the collector recorded since the last call
 * (takeInvalidBodies, which spec/setup/every-span.ts would otherwise fail the
 * test on), after checking that each is aiozipkin's and fails for exactly
 * AIOZIPKIN_DEVIATIONS, every predicted message and no other; and that every
 * body from ziptrace's service was valid as it is.
 */
let checkedRequests = 0;
function takeAiozipkinDeviations(collector: Collector): void {
  const fresh: RecordedRequest[] = collector.requests.slice(checkedRequests);
  checkedRequests = collector.requests.length;
  const invalid = fresh.filter((request) => request.schemaErrors.length > 0);
  for (const request of invalid) {
    const shown = `body ${request.index}: ${request.text}\nerrors: ${request.schemaErrors.join('\n  ')}`;
    // aiozipkin's Transport is an aiohttp ClientSession: "Python/3.x aiohttp/3.x". ziptrace's HttpReporter sends no User-Agent.
    expect(request.headers['user-agent'], `an invalid body not from aiozipkin\n${shown}`).toMatch(/aiohttp\//);
    const predicted = predictedMessages(request.spans);
    const actual = request.schemaErrors.map((message) => {
      const index = /^[^:]+: \/(\d+)\//.exec(message);
      return { index: index === null ? -1 : Number(index[1]), message: message.replace(/^([^:]+: \/)\d+\//, '$1N/') };
    });
    // Every message is a predicted one, of the span it was predicted for...
    for (const { index, message } of actual) {
      expect(
        predicted.some((p) => p.index === index && p.pattern.test(message)),
        `a schema error that is not one of aiozipkin's known deviations: ${message} (span ${index})\n${shown}`,
      ).toBe(true);
    }
    // ...and every predicted message came.
    for (const { index, pattern } of predicted) {
      expect(
        actual.some((a) => a.index === index && pattern.test(a.message)),
        `the deviation ${pattern} of span ${index} was not reported\n${shown}`,
      ).toBe(true);
    }
    // With those fields taken out, nothing else is wrong with aiozipkin's spans.
    expect(zipkinSpanSchemaErrors(request.spans.map(withoutDeviations)), `aiozipkin's spans without its known deviations\n${shown}`).toEqual([]);
  }
  // Exactly these bodies, and no other, were recorded as invalid.
  expect(takeInvalidBodies().length, 'invalid bodies taken, against those checked as aiozipkin deviations').toBe(invalid.length);
}

/* ------------------------------------------------------------------ processes */

/** Every child this spec started: afterAll ends those still running. */
const children = new Set<ChildProcess>();

/**
 * Starts a child whose stdin is a pipe it watches (it exits when the pipe
 * closes, should this process die), and resolves with the port of its first
 * `{"port": N}` line.
 */
function startListening(file: string, args: string[], env: NodeJS.ProcessEnv, what: string): Promise<number> {
  const child = spawn(file, args, { cwd: fixtures, env: { ...process.env, ...env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return announcedPort(child, what);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  // Each stops within a second here (sending its queued spans first); SIGKILL if one hangs.
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** The headers a hop received, as the fixtures answer them (names as sent: aiohttp keeps their case, Node lower-cases). */
type Headers = Record<string, string>;

/** One call of client.py, as it prints it. */
interface CallResult {
  /** Of aiozipkin's local root span "checkout". */
  traceId: string;
  rootId: string;
  status: number;
  answer: {
    /** What the ziptrace service received from aiozipkin's client. */
    received: Headers;
    downstream: {
      /** What the aiozipkin server received from ziptrace. */
      headers: Headers;
      /** The context of the span aiozipkin's server middleware made (a NoopSpan's when unsampled). */
      span: { traceId: string; spanId: string; parentId: string | null; sampled: boolean | null; debug: boolean; shared: boolean };
    };
  };
}

interface Call {
  sampled: boolean;
  debug?: boolean;
  single?: boolean;
}

/** A header by name, whatever its case. */
function header(headers: Headers, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/* ------------------------------------------------------------------ the spec */

const title = 'aiozipkin client → ziptrace service → aiozipkin server, one collector';
describe.skipIf(SKIP)(SKIP ? `${title} [skipped: ${MISSING}]` : title, () => {
  let collector: Collector;
  let serviceUrl = '';

  beforeAll(async () => {
    // Under CI without aiozipkin: nothing to start; each test fails saying why.
    if (MISSING !== undefined) return;
    // The service loads dist/: build it if lib/ changed since (as `npm test` does first).
    const build = await run(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs'), '--if-stale'], { cwd: repoRoot, timeout: 170_000 });
    expect(build.code, `node scripts/build.mjs --if-stale failed, so dist/ cannot be tested:\n${build.output}`).toBe(0);
    collector = await startCollector();
    const serverPort = await startListening(python!, [path.join(fixtures, 'server.py'), collector.url], {}, 'the aiozipkin server (server.py)');
    const servicePort = await startListening(
      process.execPath,
      [path.join(fixtures, 'service.mjs')],
      { ZIPKIN_URL: collector.url, DOWNSTREAM_URL: `http://127.0.0.1:${serverPort}` },
      'the ziptrace service (service.mjs)',
    );
    serviceUrl = `http://127.0.0.1:${servicePort}/checkout`;
  }, 200_000);

  afterAll(async () => {
    await Promise.all([...children].map(stopChild));
    if (collector === undefined) return;
    // What the servers sent as they stopped is checked too, before spec/setup/every-span.ts's own check at the file's end.
    takeAiozipkinDeviations(collector);
    await collector.close();
  }, 60_000);

  /** Runs client.py with `calls`, one trace each; resolves with what it printed, once it exited (its spans sent). */
  async function callFromAiozipkin(calls: Call[]): Promise<CallResult[]> {
    if (MISSING !== undefined) throw new Error(MISSING);
    const child = spawn(python!, [path.join(fixtures, 'client.py'), collector.url, serviceUrl, JSON.stringify(calls)], {
      cwd: fixtures,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // About a second here; killed after 60 s.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    children.delete(child);
    expect(code, `client.py failed:\n${stdout}${stderr}`).toBe(0);
    const results = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as CallResult);
    expect(results.length, `client.py printed a line per call:\n${stdout}${stderr}`).toBe(calls.length);
    for (const result of results) expect(result.status, JSON.stringify(result)).toBe(200);
    return results;
  }

  const spansOf = (traceId: string): ZipkinSpan[] => collector.spans.filter((span) => span.traceId === traceId);
  const serviceOf = (span: ZipkinSpan): string | undefined => span.localEndpoint?.serviceName;

  /** Waits until `count` spans of the trace arrived, then a little longer, so that one too many would be seen. */
  async function trace(traceId: string, count: number): Promise<ZipkinSpan[]> {
    await waitFor(() => spansOf(traceId).length >= count, `${count} spans of trace ${traceId}`, 30_000);
    await sleep(1_500);
    return spansOf(traceId);
  }

  /** The one span of `service` (of kind `kind`, or local when undefined) in `spans`. */
  function only(spans: ZipkinSpan[], service: string, kind: ZipkinSpan['kind'] | undefined): ZipkinSpan {
    const found = spans.filter((span) => serviceOf(span) === service && span.kind === kind);
    expect(found.length, `spans of ${service} of kind ${kind ?? '(local)'} in ${JSON.stringify(spans, null, 2)}`).toBe(1);
    return found[0]!;
  }

  /** The five spans of one sampled call, by role. */
  function roles(spans: ZipkinSpan[]) {
    return {
      root: only(spans, 'aiozipkin-client', undefined),
      aiozipkinClient: only(spans, 'aiozipkin-client', 'CLIENT'),
      ziptraceServer: only(spans, 'ziptrace-service', 'SERVER'),
      ziptraceClient: only(spans, 'ziptrace-service', 'CLIENT'),
      aiozipkinServer: only(spans, 'aiozipkin-server', 'SERVER'),
    };
  }

  it('one trace: the ziptrace server shares aiozipkin\'s client span, its client span is a child, aiozipkin\'s server joins it', async () => {
    const [call] = await callFromAiozipkin([{ sampled: true }]);
    const { received, downstream } = call!.answer;

    // On the wire from aiozipkin's client: B3 multi, X-B3-Flags always 0, the decision in X-B3-Sampled.
    expect(header(received, 'x-b3-traceid')).toBe(call!.traceId);
    expect(header(received, 'x-b3-parentspanid')).toBe(call!.rootId);
    expect(header(received, 'x-b3-sampled')).toBe('1');
    expect(header(received, 'x-b3-flags')).toBe('0');
    // On the wire from ziptrace: B3 multi (and traceparent), sampled.
    expect(header(downstream.headers, 'x-b3-traceid')).toBe(call!.traceId);
    expect(header(downstream.headers, 'x-b3-sampled')).toBe('1');
    expect(header(downstream.headers, 'traceparent')).toBe(`00-${call!.traceId}-${header(downstream.headers, 'x-b3-spanid')}-01`);

    const spans = await trace(call!.traceId, 5);
    expect(spans.length, JSON.stringify(spans, null, 2)).toBe(5);
    const { root, aiozipkinClient, ziptraceServer, ziptraceClient, aiozipkinServer } = roles(spans);
    // One trace id across all spans (spans are picked by it; and every span of these ids has it).
    const ids = new Set(spans.map((span) => span.id));
    for (const span of collector.spans.filter((s) => ids.has(s.id))) expect(span.traceId).toBe(call!.traceId);

    expect(root.id).toBe(call!.rootId);
    expect(root.parentId).toBeNull(); // aiozipkin writes null for no parent (see AIOZIPKIN_DEVIATIONS)
    expect(aiozipkinClient.parentId).toBe(root.id);
    expect(aiozipkinClient.id).toBe(header(received, 'x-b3-spanid'));

    // Zipkin's shared span: ziptrace's SERVER span has the id of aiozipkin's CLIENT span, and its parent.
    expect(ziptraceServer.id).toBe(aiozipkinClient.id);
    expect(ziptraceServer.parentId).toBe(root.id);
    expect(ziptraceServer.shared).toBe(true);
    expect(ziptraceServer.debug).toBeUndefined();
    expect(aiozipkinClient.shared).toBe(false); // aiozipkin writes false rather than leaving it out

    // ziptrace's CLIENT span is the child of its SERVER span, and its id is what went out.
    expect(ziptraceClient.parentId).toBe(ziptraceServer.id);
    expect(ziptraceClient.id).not.toBe(ziptraceServer.id);
    expect(ziptraceClient.id).toBe(header(downstream.headers, 'x-b3-spanid'));
    expect(ziptraceClient.shared).toBeUndefined();

    // aiozipkin's server joins ziptrace's CLIENT span: the same id, the same parent, and, as
    // X-B3-Sampled came in, marked shared (aiozipkin's join_span marks it only then).
    expect(aiozipkinServer.id).toBe(ziptraceClient.id);
    expect(aiozipkinServer.parentId).toBe(ziptraceServer.id);
    expect(aiozipkinServer.shared).toBe(true);
    expect(aiozipkinServer.debug).toBe(false);
    expect(downstream.span).toEqual({ traceId: call!.traceId, spanId: ziptraceClient.id, parentId: ziptraceServer.id, sampled: true, debug: false, shared: true });

    takeAiozipkinDeviations(collector);
  }, 120_000);

  it('the sampling decision is carried: X-B3-Sampled: 0 from aiozipkin goes on from ziptrace, and no process reports the trace', async () => {
    // The unsampled call, then a sampled one: each process reports in order, so once the
    // sampled trace is complete, anything of the unsampled one would have arrived before it.
    const [unsampled, marker] = await callFromAiozipkin([{ sampled: false }, { sampled: true }]);
    const { received, downstream } = unsampled!.answer;

    expect(header(received, 'x-b3-traceid')).toBe(unsampled!.traceId);
    expect(header(received, 'x-b3-sampled')).toBe('0');
    // ziptrace records nothing and says so onward, in both of the formats it writes.
    expect(header(downstream.headers, 'x-b3-traceid')).toBe(unsampled!.traceId);
    expect(header(downstream.headers, 'x-b3-sampled')).toBe('0');
    expect(header(downstream.headers, 'x-b3-parentspanid')).toBe(header(received, 'x-b3-spanid'));
    expect(header(downstream.headers, 'traceparent')).toMatch(new RegExp(`^00-${unsampled!.traceId}-[0-9a-f]{16}-00$`));
    // aiozipkin's server takes the decision: a NoopSpan (joined: marked shared, as X-B3-Sampled came in).
    expect(downstream.span).toMatchObject({ traceId: unsampled!.traceId, sampled: false, shared: true });

    expect((await trace(marker!.traceId, 5)).length).toBe(5);
    expect(spansOf(unsampled!.traceId), 'spans of the unsampled trace').toEqual([]);

    takeAiozipkinDeviations(collector);
  }, 120_000);

  it('debug in B3 single from aiozipkin: ziptrace keeps it and sends X-B3-Flags: 1, which aiozipkin\'s server does not see', async () => {
    // aiozipkin's client sends debug only in the single header ("-d-"): client.py sends make_single_header().
    const [call] = await callFromAiozipkin([{ sampled: true, debug: true, single: true }]);
    const { received, downstream } = call!.answer;

    const b3 = header(received, 'b3');
    expect(b3).toMatch(new RegExp(`^${call!.traceId}-[0-9a-f]{16}-d-${call!.rootId}$`));
    expect(header(received, 'x-b3-traceid')).toBeUndefined();
    // ziptrace sends debug as B3 says: X-B3-Flags: 1, without X-B3-Sampled (debug implies it).
    expect(header(downstream.headers, 'x-b3-flags')).toBe('1');
    expect(header(downstream.headers, 'x-b3-sampled')).toBeUndefined();

    const spans = await trace(call!.traceId, 5);
    expect(spans.length, JSON.stringify(spans, null, 2)).toBe(5);
    const { root, aiozipkinClient, ziptraceServer, ziptraceClient, aiozipkinServer } = roles(spans);
    expect(root.debug).toBe(true);
    expect(aiozipkinClient.debug).toBe(true);
    expect(aiozipkinClient.id).toBe(b3!.split('-')[1]);

    expect(ziptraceServer.id).toBe(aiozipkinClient.id);
    expect(ziptraceServer.parentId).toBe(root.id);
    expect(ziptraceServer.shared).toBe(true);
    expect(ziptraceServer.debug).toBe(true);
    expect(ziptraceClient.parentId).toBe(ziptraceServer.id);

    // aiozipkin's server: the caller's span id and parent, but it looks X-B3-Flags up with its
    // capitals after lower-casing the names, so it never sees debug; and with no X-B3-Sampled its
    // sampler decides (sample_rate 1 in server.py) and the joined span is not marked shared.
    expect(aiozipkinServer.id).toBe(ziptraceClient.id);
    expect(aiozipkinServer.parentId).toBe(ziptraceServer.id);
    expect(aiozipkinServer.debug).toBe(false);
    expect(aiozipkinServer.shared).toBe(false);
    expect(downstream.span).toEqual({ traceId: call!.traceId, spanId: ziptraceClient.id, parentId: ziptraceServer.id, sampled: true, debug: false, shared: false });

    takeAiozipkinDeviations(collector);
  }, 120_000);

  it('debug in aiozipkin\'s own multi headers does not leave aiozipkin: X-B3-Flags: 0, so ziptrace sees a sampled trace', async () => {
    const [call] = await callFromAiozipkin([{ sampled: true, debug: true }]);
    const { received, downstream } = call!.answer;

    // aiozipkin's make_headers writes X-B3-Flags: 0 whatever the context says.
    expect(header(received, 'x-b3-flags')).toBe('0');
    expect(header(received, 'x-b3-sampled')).toBe('1');
    expect(header(downstream.headers, 'x-b3-flags')).toBeUndefined();
    expect(header(downstream.headers, 'x-b3-sampled')).toBe('1');

    const spans = await trace(call!.traceId, 5);
    const { root, aiozipkinClient, ziptraceServer, ziptraceClient, aiozipkinServer } = roles(spans);
    expect([root.debug, aiozipkinClient.debug]).toEqual([true, true]);
    expect([ziptraceServer.debug, ziptraceClient.debug]).toEqual([undefined, undefined]);
    expect(ziptraceServer.shared).toBe(true);
    expect(aiozipkinServer).toMatchObject({ id: ziptraceClient.id, debug: false, shared: true });

    takeAiozipkinDeviations(collector);
  }, 120_000);
});
