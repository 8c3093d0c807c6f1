/**
 * Tells the zero-code start about each CommonJS module the app loads, by
 * what the module exports, so that Express and Koa can be patched before the
 * app has a chance to make an app with them.
 *
 * The hook is `Module._load`, because it sees both ways an app gets a
 * CommonJS package: `require('express')`, and `import express from 'express'`
 * in an ES module (Node's ESM loader hands a CommonJS file to `Module._load`,
 * measured on Node 20.20, 22.23 and 24.22), with no `--experimental-loader`
 * and no `module.register()` worker. `Module.prototype.require` would miss
 * the imports. Both Express and Koa are CommonJS (Koa 3's ESM entry is a
 * wrapper that imports its CommonJS one), so the object an import gets is
 * the one patched here.
 *
 * Known gap: an app that registers its own loader hooks that hand Node the
 * source of CommonJS files (so Node does not load them itself) may bypass
 * `Module._load` for its imports.
 */
import Module from 'node:module';
import { debug } from '../debug.js';
import { errorMessage } from '../values.js';

/** Called with what each `require` or import of a CommonJS module gives; must be quick, it runs on every load. */
export type ModuleWatcher = (exports: unknown) => void;

type Load = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Calls `watch` with the exports of every CommonJS module loaded from now on
 * (each `require`, cached or not, and each import of one), after it loaded.
 * What `watch` throws is swallowed: it must never fail a load.
 */
export function watchModuleLoads(watch: ModuleWatcher): void {
  const loader = Module as unknown as { _load: Load };
  const load = loader._load;
  // Every argument passed on as given: (request, parent, isMain), and whatever a later Node adds.
  loader._load = function (this: unknown, ...args) {
    const exports = load.apply(this, args);
    try {
      watch(exports);
    } catch (error) {
      if (debug.enabled) debug('zero-code: watching a module load failed: %s', errorMessage(error));
    }
    return exports;
  };
}
