/**
 * Where the W3C Trace Context test suite is looked for, and whether it is
 * there: `../shared/w3c-trace-context`, beside the repository root, as CI lays
 * it out (reference material, see its SOURCE.txt). A plain clone has no
 * `../shared`; then spec/propagation/w3c-suite.spec.ts is skipped, and the
 * run says so once: this file is also a vitest global setup, whose default
 * export prints that notice (as `spec/helpers/zipkin-api-notice.ts` does for
 * Zipkin's API definition). scripts/test.mjs says it again in its summary.
 *
 * Only the suite's absence skips the spec: where it is present the spec runs,
 * and fails when it cannot (no python3 with aiohttp, no test/test.py).
 */
import { existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file is `spec/setup/w3c-suite-notice.ts`. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the suite is read from: beside the clone, as in CI. */
export const W3C_SUITE_DIR = resolve(REPO_ROOT, '..', 'shared', 'w3c-trace-context');

/** Whether the suite is there, so that spec/propagation/w3c-suite.spec.ts runs it. */
export const W3C_SUITE_PRESENT = existsSync(W3C_SUITE_DIR);

/** Why the suite is not run, or undefined when it is. */
export const W3C_SUITE_SKIPPED: string | undefined = W3C_SUITE_PRESENT
  ? undefined
  : `${relative(REPO_ROOT, W3C_SUITE_DIR)} is not beside the repository (looked at ${W3C_SUITE_DIR})`;

export default function notice(): void {
  if (W3C_SUITE_PRESENT) return;
  console.warn(
    `\nw3c suite: ${relative(REPO_ROOT, W3C_SUITE_DIR)} is not beside the repository (looked at ${W3C_SUITE_DIR});\n` +
      '  the W3C Trace Context suite (spec/propagation/w3c-suite.spec.ts) is skipped.\n' +
      '  spec/propagation/w3c.spec.ts restates its cases in-process. CI, with shared/ beside the clone, runs it.\n',
  );
}
