/**
 * The `ziptrace` command as a user runs it: the built bin (dist/cjs/cli.js,
 * which `npm test` builds first) in a real child process. `serve` receives
 * spans from a real reporter, prints the trace as a waterfall once it is
 * complete, and on SIGINT saves its data file and exits 0; `view` prints a
 * saved trace; mistakes exit 2 with the closest flag or command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTracer, withSpan, type ZipkinSpan } from '../lib/index.js';
import { run } from './helpers/child-processes.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'dist', 'cjs', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'ziptrace-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ziptrace = (...args: string[]) => run(process.execPath, [bin, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, timeout: 20_000 });

/** `ziptrace serve` started, with its URL once it listens and everything it printed so far. */
async function serve(...args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${output}`)));
    lines.on('line', (line) => {
      output += `${line}\n`;
      const match = /^ziptrace serve: (http:\/\/\S+)/.exec(line);
      if (match) resolve(match[1]!);
    });
  });
  return { child, url, output: () => output };
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('ziptrace serve', () => {
  it('says where reporters send, prints each completed trace as a waterfall, and on SIGINT saves its data and exits 0', async () => {
    const dataFile = join(dir, 'kept.json');
    const server = await serve('--data', dataFile);
    children.push(server.child);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.output()).toContain(`(reporters send to ${server.url}/api/v2/spans)`);

    const tracer = createTracer({ serviceName: 'checkout', global: false, zipkinUrl: server.url });
    let traceId = '';
    const root = tracer.newTrace({ name: 'POST /orders', sampled: true, kind: 'SERVER' });
    await tracer.withActive(root, async () => {
      traceId = root.context.traceId;
      await withSpan('Slow SQL', async () => new Promise((resolve) => setTimeout(resolve, 20)));
      await withSpan('charge card', async () => {
        throw new Error('card declined');
      }).catch(() => undefined);
    });
    root.finish();
    await tracer.close();

    await expect.poll(() => server.output(), { timeout: 10_000 }).toContain(traceId);
    const printed = server.output();
    expect(printed).toMatch(/^checkout: POST \/orders · trace [0-9a-f]{32} · [\d.]+ ms · 3 spans · 1 error$/m);
    expect(printed).toMatch(/Slow SQL/);
    expect(printed).toMatch(/charge card[^\n]*\n[ │]*✗ card declined/);
    expect(printed).not.toMatch(/\x1b\[/); // NO_COLOR

    server.child.kill('SIGINT');
    const [code] = (await once(server.child, 'exit')) as [number | null];
    expect(code).toBe(0);

    // The next start has the trace from the data file.
    const again = await serve('--data', dataFile, '--quiet');
    children.push(again.child);
    const spans = (await (await fetch(`${again.url}/api/v2/trace/${traceId}`)).json()) as ZipkinSpan[];
    expect(spans.map((s) => s.name).sort()).toEqual(['POST /orders', 'Slow SQL', 'charge card']);
  }, 60_000);

  it('says so when the port is taken, and exits 1', async () => {
    const server = await serve('--quiet');
    children.push(server.child);
    const port = new URL(server.url).port;
    const taken = await ziptrace('serve', '--port', port);
    expect(taken.code).toBe(1);
    expect(taken.output).toContain(`ziptrace: port ${port} is in use`);
  }, 30_000);

  it.each([
    [['serve', '--prot', '9411'], /Unknown option '--prot'.*did you mean --port\?/],
    [['serve', '--port', 'http'], /--port takes a whole number from 0 to 65535, not "http"/],
    [['serv'], /unknown command "serv"; did you mean serve\?/],
    [['view'], /view takes one file, none was given/],
    [['serve', 'extra'], /serve takes no file or word/],
  ])('exits 2 for %j, saying what to fix', async (args, message) => {
    const result = await ziptrace(...args);
    expect(result.code).toBe(2);
    expect(result.output).toMatch(message);
  });

  it('prints its usage and its version', async () => {
    const help = await ziptrace('--help');
    expect(help.code).toBe(0);
    expect(help.output).toMatch(/ziptrace serve \[options\]/);
    const version = await ziptrace('--version');
    expect(version.output.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('ziptrace view', () => {
  const now = Date.now() * 1000;
  const trace: ZipkinSpan[] = [
    { traceId: 'a'.repeat(32), id: '0000000000000001', name: 'GET /report', kind: 'SERVER', timestamp: now, duration: 50_000, localEndpoint: { serviceName: 'reports' } },
    { traceId: 'a'.repeat(32), id: '0000000000000002', parentId: '0000000000000001', name: 'render pdf', timestamp: now + 5_000, duration: 30_000, localEndpoint: { serviceName: 'reports' }, tags: { error: 'out of paper' } },
  ];

  it('prints a saved trace as a waterfall: tree, durations, the error marked', async () => {
    const file = join(dir, 'trace.json');
    writeFileSync(file, JSON.stringify(trace));
    const result = await ziptrace('view', file, '--width', '100');
    expect(result.code).toBe(0);
    const lines = result.output.trimEnd().split('\n');
    expect(lines.every((line) => [...line].length <= 100)).toBe(true);
    expect(result.output).toContain('a'.repeat(32));
    expect(result.output).toMatch(/GET \/report/);
    expect(result.output).toMatch(/render pdf[^\n]*\n *✗ out of paper/);
    expect(result.output.indexOf('GET /report')).toBeLessThan(result.output.indexOf('render pdf'));
  });

  it('exits 1 naming the file when it cannot be read or is not Zipkin JSON', async () => {
    const missing = await ziptrace('view', join(dir, 'nope.json'));
    expect(missing.code).toBe(1);
    expect(missing.output).toMatch(/cannot read .*nope\.json/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"not": "spans"}');
    const result = await ziptrace('view', bad);
    expect(result.code).toBe(1);
    expect(result.output).toContain('bad.json');
  });
});
