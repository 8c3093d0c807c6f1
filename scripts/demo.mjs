// `npm run demo`: builds ziptrace, compiles the TypeScript demo (it uses decorators) with tsc, and runs it.
// Arguments go to the demo: `npm run demo -- --port 9412`, `npm run demo -- --exit` (exit when done).
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-stale'], { stdio: ['ignore', 'ignore', 'inherit'] });
execFileSync(process.execPath, [tsc, '-p', join(root, 'examples', 'tsconfig.json')], { stdio: 'inherit' });
// A child, not execFileSync: Ctrl-C reaches the demo, which stops its services and viewer before it exits.
const demo = spawn(process.execPath, [join(root, '.cache', 'examples', 'demo.js'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => demo.kill(signal));
demo.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
