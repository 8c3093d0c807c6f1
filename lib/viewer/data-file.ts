/**
 * The `--data FILE` of `ziptrace serve`: the store's spans kept on disk
 * between runs.
 *
 * The format is NDJSON: a header line `{"ziptrace":"spans","version":1}`,
 * then one Zipkin v2 span (JSON) per line. Line by line, because the store
 * may hold half a million spans: one JSON document that big would come near
 * V8's longest string, while lines are written in chunks and read one at a
 * time. The header tells our file from any other, so `--data` pointed at the
 * wrong file fails loudly instead of being overwritten with an empty store.
 *
 * Writing is atomic: into `FILE.tmp-<pid>`, flushed, then renamed over FILE,
 * so a crash leaves the old file or the new one, never half of one.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { InvalidOptionError } from '../errors.js';
import { normalizeSpan } from './span-json.js';
import type { StoredSpan } from './types.js';

/** The first line of every data file. */
const HEADER = { ziptrace: 'spans', version: 1 } as const;
const HEADER_LINE = JSON.stringify(HEADER);
/** Lines are joined into writes of about this many characters. */
const CHUNK_CHARS = 1 << 20;

/**
 * Reads the spans of a data file.
 *
 * @param path the file of `--data`.
 * @returns its spans, normalized as {@link parseSpans} does; `[]` when the
 *   file does not exist or is empty (a new data file).
 * @throws InvalidOptionError (a ZiptraceError) naming the file when it is not
 *   a ziptrace data file, is of a newer version, or has a line that is not a
 *   valid span; the message says which line and why.
 * @throws the file system's error when the file exists but cannot be read.
 */
export function readDataFile(path: string): StoredSpan[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  if (bytes.length === 0) return [];

  const spans: StoredSpan[] = [];
  let start = 0;
  let line = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    const text = bytes.toString('utf8', start, end).replace(/\r$/, '');
    start = end + 1;
    line++;
    if (line === 1) {
      checkHeader(path, text);
      continue;
    }
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw corrupt(path, `line ${line} is not JSON (${(error as Error).message})`);
    }
    const span = normalizeSpan(value, spans.length);
    if (typeof span === 'string') throw corrupt(path, `line ${line}: ${span.replace(/^span \d+: /, '')}`);
    spans.push(span);
  }
  return spans;
}

/**
 * Writes spans to a data file, replacing it atomically (temporary file, then
 * rename). The temporary file is removed if writing fails.
 *
 * @param path the file of `--data`.
 * @param spans what to keep: the store's {@link SpanStore.allSpans}.
 * @throws the file system's error when the directory cannot be written.
 */
export function writeDataFile(path: string, spans: readonly StoredSpan[]): void {
  const tmp = `${path}.tmp-${process.pid}`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w', 0o600);
    let chunk = `${HEADER_LINE}\n`;
    for (const span of spans) {
      chunk += `${JSON.stringify(span)}\n`;
      if (chunk.length >= CHUNK_CHARS) {
        writeAll(fd, chunk);
        chunk = '';
      }
    }
    writeAll(fd, chunk);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw error;
  }
}

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
}

function checkHeader(path: string, text: string): void {
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    header = undefined;
  }
  const h = header as { ziptrace?: unknown; version?: unknown } | undefined;
  if (typeof h !== 'object' || h === null || h.ziptrace !== HEADER.ziptrace) {
    throw corrupt(path, `it does not start with ${HEADER_LINE}, so it is not a ziptrace data file; give --data a new file or one ziptrace wrote`);
  }
  if (h.version !== HEADER.version) {
    throw corrupt(path, `its version is ${JSON.stringify(h.version)}; this ziptrace reads version ${HEADER.version}`);
  }
}

function corrupt(path: string, why: string): InvalidOptionError {
  return new InvalidOptionError(`ziptrace: --data ${JSON.stringify(path)} cannot be read: ${why}.`);
}
