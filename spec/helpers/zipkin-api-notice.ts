/**
 * Vitest global setup: says once per run when Zipkin's official API
 * definition is not beside the repository, so that only ziptrace's own span
 * schema is checked (see `zipkin-api.ts`).
 */
import { relative } from 'node:path';
import { OFFICIAL_DEFINITION_PRESENT, REPO_ROOT, ZIPKIN_API_YAML } from './zipkin-api.js';

export default function notice(): void {
  if (OFFICIAL_DEFINITION_PRESENT) return;
  console.warn(
    `\nzipkin schema: ${relative(REPO_ROOT, ZIPKIN_API_YAML)} is not beside the repository (looked at ${ZIPKIN_API_YAML}).\n` +
      '  Spans are checked against ziptrace\'s own schema (spec/helpers/zipkin-v2-span.schema.ts) only;\n' +
      '  the checks against Zipkin\'s official definition are skipped. CI, with shared/ beside the clone, runs them.\n',
  );
}
