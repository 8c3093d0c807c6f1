// `npm run demo`: builds ziptrace, compiles the TypeScript demo (it uses decorators) with tsc, and runs it.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-stale'], { stdio: ['ignore', 'ignore', 'inherit'] });
execFileSync(process.execPath, [tsc, '-p', join(root, 'examples', 'tsconfig.json')], { stdio: 'inherit' });
execFileSync(process.execPath, [join(root, '.cache', 'examples', 'demo.js')], { stdio: 'inherit', cwd: root });
