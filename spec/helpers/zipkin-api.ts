/**
 * Where Zipkin's official API definition is looked for, and whether it is
 * there: `../shared/zipkin-api/zipkin2-api.yaml`, beside the repository root,
 * as CI lays it out. A plain clone has no `../shared`; then spans are checked
 * against ziptrace's own schema only (`zipkin-v2-span.schema.ts`), the checks
 * against the official definition are skipped, and the run says so once
 * (`zipkin-api-notice.ts`, a vitest global setup).
 */
import { existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file is `spec/helpers/zipkin-api.ts`. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the official API definition is read from: beside the clone, as in CI. */
export const ZIPKIN_API_YAML = resolve(REPO_ROOT, '..', 'shared', 'zipkin-api', 'zipkin2-api.yaml');

/** Whether the official definition is there, so spans are checked against it too. */
export const OFFICIAL_DEFINITION_PRESENT = existsSync(ZIPKIN_API_YAML);

/** Why the checks against the official definition do not run, or undefined when they do. */
export const OFFICIAL_DEFINITION_SKIPPED: string | undefined = OFFICIAL_DEFINITION_PRESENT
  ? undefined
  : `no ${relative(REPO_ROOT, ZIPKIN_API_YAML)} beside the repository`;

/**
 * A test title for a check against the official definition: as given when the
 * definition is there, else with the reason it is skipped. Use with
 * `it.skipIf(!OFFICIAL_DEFINITION_PRESENT)(officialTitle('…'), …)`.
 */
export function officialTitle(title: string): string {
  return OFFICIAL_DEFINITION_SKIPPED === undefined ? title : `${title} [skipped: ${OFFICIAL_DEFINITION_SKIPPED}]`;
}
