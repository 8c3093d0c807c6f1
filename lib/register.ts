/**
 * `ziptrace/register`: zero-code tracing, `node --import ziptrace/register
 * app.mjs` (or `--require ziptrace/register` for CommonJS). A side-effect
 * entry: loading it starts tracing (lib/zero-code/start.ts); it exports
 * nothing.
 */
import { start } from './zero-code/start.js';
start();
