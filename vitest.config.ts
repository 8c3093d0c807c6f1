import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['spec/**/*.spec.ts'],
    // Packs ziptrace once per run for the specs that install it (spec/package.spec.ts).
    globalSetup: ['spec/setup/pack.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
