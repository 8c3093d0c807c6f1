/**
 * The page's files (lib/viewer/page/, copied beside the build by
 * scripts/build.mjs), read once at start and served from memory: a handful of
 * small files, and no path from the request ever reaches the file system.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

/** One file of the page, ready to send. */
export interface PageFile {
  body: Buffer;
  contentType: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The folder with the page: beside this module, in lib/ when run from source and in dist/cjs/ when built. */
export function pageDirectory(): string {
  return join(__dirname, 'page');
}

/** Every servable file of the folder, by URL path (`/` for index.html). */
export function loadPageFiles(dir: string = pageDirectory()): Map<string, PageFile> {
  const files = new Map<string, PageFile>();
  for (const name of readdirSync(dir)) {
    const contentType = TYPES[extname(name)];
    if (contentType === undefined || !/^[a-z0-9][a-z0-9._-]*$/i.test(name)) continue;
    const file = { body: readFileSync(join(dir, name)), contentType };
    files.set(name === 'index.html' ? '/' : `/${name}`, file);
  }
  return files;
}
