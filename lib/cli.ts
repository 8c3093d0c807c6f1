#!/usr/bin/env node
/**
 * The `ziptrace` command:
 *
 *   ziptrace serve [--port 9411] [--host 127.0.0.1] [--data FILE] [--max-spans N] [--allow-host NAME]… [--quiet] [--no-color]
 *   ziptrace view FILE.json [--width N] [--no-color]
 *
 * `serve` runs the local Zipkin-compatible viewer and prints each trace as a
 * waterfall once it is complete; `view` prints a saved trace the same way.
 * A mistake on the command line is said in one line, with the closest flag,
 * and exits 2; a port in use or an unreadable file exits 1.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { closestKey } from './option-keys.js';
import { analyzeTrace } from './viewer/analysis.js';
import { mergeTrace } from './viewer/merge.js';
import { startViewer } from './viewer/server.js';
import { renderTrace } from './viewer/terminal.js';
import { readTraceFile } from './viewer/trace-file.js';

const USAGE = `usage:
  ziptrace serve [options]      a local Zipkin-compatible server and trace viewer
      --port N                  port (default 9411, Zipkin's)
      --host ADDRESS            address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
      --data FILE               keep the spans in FILE across restarts
      --max-spans N             spans kept; the oldest traces go first (default 500000)
      --allow-host NAME         also answer requests for this host name (repeatable)
      --quiet                   do not print traces as they complete
      --no-color                no colours (also when NO_COLOR is set or output is not a terminal)
  ziptrace view FILE.json       print a saved trace (Zipkin JSON) as a waterfall
      --width N                 columns (default: the terminal's, else 100)
  ziptrace --help | --version`;

/** A command-line mistake: said in one line, exit status 2. */
class UsageError extends Error {}

const SERVE_FLAGS = { port: { type: 'string' }, host: { type: 'string' }, data: { type: 'string' }, 'max-spans': { type: 'string' }, 'allow-host': { type: 'string', multiple: true }, quiet: { type: 'boolean' }, 'no-color': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
const VIEW_FLAGS = { width: { type: 'string' }, 'no-color': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

function parse<T extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>>(args: string[], flags: T, command: string) {
  try {
    return parseArgs({ args, options: flags, allowPositionals: true, strict: true });
  } catch (error) {
    const flag = /'(-{1,2}[^']+)'/.exec((error as Error).message)?.[1];
    const closest = flag === undefined ? undefined : closestKey(flag.replace(/^-+/, '').split('=')[0]!, Object.keys(flags));
    throw new UsageError(`${(error as Error).message.replace(/\. To specify.*$/s, '')}${closest === undefined ? '' : `; did you mean --${closest}?`} (ziptrace ${command} --help)`);
  }
}

function integer(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`--${flag} takes a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`);
  return n;
}

function useColor(noColorFlag: boolean | undefined): boolean {
  return !noColorFlag && process.stdout.isTTY === true && !process.env.NO_COLOR;
}

async function serve(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, SERVE_FLAGS, 'serve');
  if (values.help) return void console.log(USAGE);
  if (positionals.length > 0) throw new UsageError(`serve takes no file or word, only flags: ${positionals.join(' ')} (ziptrace serve --help)`);
  const color = useColor(values['no-color']);
  // Piped into `head` or a closed terminal: the waterfalls are lost, the server keeps serving.
  process.stdout.on('error', () => {});
  const width = (): number => Math.max(60, Math.min(process.stdout.columns || 100, 200));
  let viewer;
  try {
    viewer = await startViewer({
      port: integer(values.port, 'port', 0, 65535) ?? 9411,
      host: values.host ?? '127.0.0.1',
      dataFile: values.data,
      maxSpans: integer(values['max-spans'], 'max-spans', 1, 100_000_000),
      allowedHosts: values['allow-host'],
      onTrace: values.quiet ? undefined : (view) => process.stdout.write(`${renderTrace(view, { width: width(), color })}\n`),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${values.port ?? 9411} is in use: is another ziptrace serve, or Zipkin, running there? Pick another with --port`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new Error(`cannot listen on ${values.host}: not an address of this machine`);
    throw error;
  }
  console.log(`ziptrace serve: ${viewer.url}  (reporters send to ${viewer.url}/api/v2/spans)`);
  if (values.host !== undefined && !['127.0.0.1', 'localhost', '::1'].includes(values.host)) {
    console.log(`ziptrace serve: listening on ${values.host}: anyone who can reach this machine can read and send traces`);
  }
  const stop = (): void => {
    viewer.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`ziptrace serve: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function view(args: string[]): void {
  const { values, positionals } = parse(args, VIEW_FLAGS, 'view');
  if (values.help) return void console.log(USAGE);
  if (positionals.length !== 1) throw new UsageError(`view takes one file, ${positionals.length === 0 ? 'none was given' : `not ${positionals.length}`} (ziptrace view FILE.json)`);
  const file = positionals[0]!;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  const width = integer(values.width, 'width', 40, 1000) ?? Math.max(60, Math.min(process.stdout.columns || 100, 200));
  const color = useColor(values['no-color']);
  const traces = readTraceFile(text, file);
  process.stdout.write(traces.map((spans) => renderTrace(analyzeTrace(mergeTrace(spans)), { width, color })).join('\n') + '\n');
}

/** Runs the command line; resolves when a one-shot command is done (`serve` keeps running). */
export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    if (command === 'serve') return await serve(rest);
    if (command === 'view') return view(rest);
    if (command === '--version' || command === '-v') {
      return void console.log(JSON.parse(readFileSync(`${__dirname}/../../package.json`, 'utf8')).version);
    }
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') return void console.log(USAGE);
    const closest = closestKey(command, ['serve', 'view']);
    throw new UsageError(`unknown command ${JSON.stringify(command)}${closest === undefined ? '' : `; did you mean ${closest}?`}\n${USAGE}`);
  } catch (error) {
    console.error(`ziptrace: ${(error as Error).message}`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  }
}

if (require.main === module) void main(process.argv.slice(2));
