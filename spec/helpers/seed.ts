/**
 * The seed of a test run's randomness: `ZIPTRACE_SEED` when set (to replay a
 * failure), else the day's date as a number (20261201), so that the fuzzing
 * explores new cases every day while a red run repeated the same day is red
 * again. No vitest import here: the global setup that prints it runs outside
 * the test workers.
 */
const given = Number.parseInt(process.env.ZIPTRACE_SEED ?? '', 10);

/** This run's seed. npm test prints it, and so does every vitest run (spec/setup/seed-notice.ts). */
export const SEED: number = Number.isInteger(given) ? given : Number(new Date().toISOString().slice(0, 10).replaceAll('-', ''));
