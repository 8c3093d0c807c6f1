import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The README's examples are files in examples/, quoted whole; this spec checks
// the quotes are exact and runs each file as a user would.
const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

function quotedExamples(): Map<string, string> {
  const quoted = new Map<string, string>();
  for (const match of readme.matchAll(/```(?:js|ts|javascript|typescript)\n(\/\/ (examples\/[\w.-]+)\n[\s\S]*?)```/g)) {
    quoted.set(match[2]!, match[1]!);
  }
  return quoted;
}

describe('README', () => {
  it('starts with the two commands: the demo and the tests', () => {
    const firstBlock = /```(?:sh|bash)\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstBlock).toContain('npm install && npm run demo');
    expect(firstBlock).toContain('npm test');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.demo).toBe('node examples/quickstart.mjs');
  });

  it('quotes every example file exactly', () => {
    const quoted = quotedExamples();
    expect([...quoted.keys()].sort()).toEqual(['examples/quickstart.mjs', 'examples/traced.ts']);
    for (const [file, text] of quoted) expect(text, file).toBe(readFileSync(join(root, file), 'utf8'));
  });

  it('runs the quick start: three nested spans, printed', async () => {
    const { stdout } = await run(process.execPath, ['examples/quickstart.mjs'], { cwd: root });
    const json = stdout.slice(stdout.indexOf('['));
    const spans = JSON.parse(json) as { name: string; id: string; parentId?: string; traceId: string; tags?: Record<string, string> }[];
    const byName = new Map(spans.map((s) => [s.name, s]));
    const server = byName.get('GET /users/:id')!;
    const sql = byName.get('Slow SQL')!;
    const parse = byName.get('parse rows')!;
    expect(spans).toHaveLength(3);
    expect(server.parentId).toBeUndefined();
    expect(sql.parentId).toBe(server.id);
    expect(parse.parentId).toBe(sql.id);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    expect(server.tags).toEqual({ 'http.method': 'GET', 'user.id': '42' });
    expect(stdout).toMatch(/^parse rows\s+\d+ µs {2}id [0-9a-f]{16} {2}child of [0-9a-f]{16}$/m);
  });

  it('compiles the decorator example with tsc and runs it', async () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    await run(process.execPath, [tsc, '-p', 'examples/tsconfig.json'], { cwd: root });
    const { stdout } = await run(process.execPath, ['.cache/examples/traced.js'], { cwd: root });
    const lines = stdout.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual(['user ada', 'user grace']);
    const spans = new Map(lines.slice(2).map((line) => {
      const [name, rest] = line.split(/ (?=root|child of)/) as [string, string];
      const id = rest.split(' ').pop()!;
      const parent = rest.startsWith('child of ') ? rest.split(' ')[2] : undefined;
      return [name, { id, parent }];
    }));
    expect([...spans.keys()].sort()).toEqual(['GET /users', 'UserRepo.find', 'cache lookup', 'load all users']);
    expect(spans.get('UserRepo.find')!.parent).toBe(spans.get('GET /users')!.id);
    expect(spans.get('cache lookup')!.parent).toBe(spans.get('UserRepo.find')!.id);
    expect(spans.get('load all users')!.parent).toBe(spans.get('GET /users')!.id);
    expect(spans.get('GET /users')!.parent).toBeUndefined();
  }, 120_000);
});
