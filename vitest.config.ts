import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['spec/**/*.spec.ts'],
    globalSetup: [
      // Packs ziptrace once per run for the specs that install it (spec/package.spec.ts).
      'spec/setup/pack.ts',
      // Says once per run when Zipkin's official API definition is not beside
      // the repository, so spans are checked against ziptrace's schema only.
      'spec/helpers/zipkin-api-notice.ts',
      // Likewise when the W3C Trace Context suite is not there to run.
      'spec/setup/w3c-suite-notice.ts',
      // And the run's seed, to replay what a seeded spec found.
      'spec/setup/seed-notice.ts',
    ],
    // In every worker before the specs: fast-check draws from the run's seed (ZIPTRACE_SEED), and every span a
    // MemoryReporter receives is checked against the Zipkin v2 schema after each test.
    setupFiles: ['spec/setup/seed.ts', 'spec/setup/every-span.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Off unless asked (`--coverage`): `npm test` (scripts/test.mjs) asks on
    // one Node version's run. Only lib/ as the specs load it counts; child
    // processes load dist/, which V8 coverage of the workers does not see.
    coverage: {
      provider: 'v8',
      include: ['lib/**/*.ts'],
      reportsDirectory: 'coverage',
      // The summary on the console; per file as JSON (numbers, and the counts
      // per statement), from which scripts/test.mjs prints the files under the
      // threshold with their uncovered lines.
      reporter: ['text-summary', 'json-summary', 'json'],
      // Reported even when a test fails, so scripts/test.mjs can show it.
      reportOnFailure: true,
      // Keep equal to LINES_THRESHOLD in scripts/test.mjs.
      thresholds: { lines: 95 },
    },
  },
});
