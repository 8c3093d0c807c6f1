/**
 * The --data file: NDJSON with a version header, written atomically, read
 * back span for span; a file that is not ours fails loudly, naming the file.
 * Real files in a temporary directory.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidOptionError, ZiptraceError } from '../../lib/errors.js';
import { readDataFile, writeDataFile } from '../../lib/viewer/data-file.js';
import type { StoredSpan } from '../../lib/viewer/types.js';

const dir = mkdtempSync(join(tmpdir(), 'ziptrace-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (): string => join(dir, `data-${++n}.ndjson`);

const HEADER = '{"ziptrace":"spans","version":1}';
const spans: StoredSpan[] = [
  { traceId: '463ac35c9f6413ad48485a3953bb6124', id: '0000000000000001', kind: 'SERVER', name: 'get /', timestamp: 1_700_000_000_000_000, duration: 10, localEndpoint: { serviceName: 'web', ipv4: '10.0.0.1', port: 80 }, tags: { 'http.method': 'GET' } },
  { traceId: '463ac35c9f6413ad48485a3953bb6124', parentId: '0000000000000001', id: '0000000000000002', annotations: [{ timestamp: 1_700_000_000_000_001, value: 'line\nbreak "quoted" ünïcode' }], debug: true },
];

describe('writeDataFile and readDataFile', () => {
  it('round-trips spans, a header line then one span a line', () => {
    const path = file();
    writeDataFile(path, spans);
    expect(readDataFile(path)).toEqual(spans);
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines[0]).toBe(HEADER);
    expect(lines).toHaveLength(spans.length + 2); // header, spans, and the final newline
    expect(lines.at(-1)).toBe('');
  });

  it('round-trips an empty store', () => {
    const path = file();
    writeDataFile(path, []);
    expect(readFileSync(path, 'utf8')).toBe(`${HEADER}\n`);
    expect(readDataFile(path)).toEqual([]);
  });

  it('replaces the file atomically and leaves no temporary file', () => {
    const sub = join(dir, 'atomic');
    mkdirSync(sub);
    const path = join(sub, 'data.ndjson');
    writeDataFile(path, spans);
    writeDataFile(path, spans.slice(0, 1));
    expect(readDataFile(path)).toEqual(spans.slice(0, 1));
    expect(readdirSync(sub)).toEqual(['data.ndjson']);
  });

  it('writes many spans in chunks and reads them all back', () => {
    const path = file();
    const many: StoredSpan[] = Array.from({ length: 20_000 }, (_, i) => ({ traceId: (i + 1).toString(16).padStart(16, '0'), id: '0000000000000001', name: 'x'.repeat(100), timestamp: 1_700_000_000_000_000 + i }));
    writeDataFile(path, many);
    expect(readFileSync(path).length).toBeGreaterThan(2 ** 21);
    expect(readDataFile(path)).toEqual(many);
  });

  it('removes the temporary file and throws when the rename fails', () => {
    const path = join(dir, 'is-a-directory');
    mkdirSync(join(path, 'inside'), { recursive: true });
    expect(() => writeDataFile(path, spans)).toThrow();
    expect(readdirSync(dir).filter((f) => f.startsWith('is-a-directory.tmp-'))).toEqual([]);
  });

  it('throws the file system error when the directory does not exist', () => {
    expect(() => writeDataFile(join(dir, 'missing', 'data.ndjson'), spans)).toThrow(/ENOENT/);
  });

  it('throws the file system error when the path cannot be read as a file', () => {
    expect(() => readDataFile(dir)).toThrow(/EISDIR/);
  });
});

describe('readDataFile', () => {
  it('gives no spans for a missing file or an empty one', () => {
    expect(readDataFile(join(dir, 'never-written.ndjson'))).toEqual([]);
    const path = file();
    writeFileSync(path, '');
    expect(readDataFile(path)).toEqual([]);
  });

  it('normalizes what it reads, as POST /api/v2/spans does', () => {
    const path = file();
    writeFileSync(path, `${HEADER}\r\n{"traceId":"a","id":"b","name":"GET","localEndpoint":{"serviceName":"Web"}}\r\n\n`);
    expect(readDataFile(path)).toEqual([{ traceId: '000000000000000a', id: '000000000000000b', name: 'GET', localEndpoint: { serviceName: 'web' } }]);
  });

  it.each([
    ['a foreign JSON file', '{"spans":[]}\n', /it does not start with \{"ziptrace":"spans","version":1\}, so it is not a ziptrace data file/],
    ['a Zipkin JSON list', '[{"traceId":"a","id":"b"}]', /not a ziptrace data file/],
    ['a text file', 'hello\nworld\n', /not a ziptrace data file/],
    ['a newer version', '{"ziptrace":"spans","version":2}\n', /its version is 2; this ziptrace reads version 1/],
    ['a line that is not JSON', `${HEADER}\n{"traceId":"a","id":"b"}\n{oops\n`, /line 3 is not JSON/],
    ['a line that is not a span', `${HEADER}\n{"traceId":"XYZ","id":"b"}\n`, /line 2: traceId "XYZ" is not 1 to 32 hex digits/],
  ])('refuses %s, naming the file', (_name, content, message) => {
    const path = file();
    writeFileSync(path, content);
    let caught: unknown;
    try {
      readDataFile(path);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidOptionError);
    expect(caught).toBeInstanceOf(ZiptraceError);
    expect((caught as Error).message).toContain(`ziptrace: --data ${JSON.stringify(path)} cannot be read: `);
    expect((caught as Error).message).toMatch(message);
  });
});
