// A vitest global setup: says the run's seed once, so that a failure of a
// seeded spec (fast-check, or seededRandom in spec/helpers/tracing.ts) can be
// replayed with ZIPTRACE_SEED, even from a plain `npx vitest` run.
import { SEED } from '../helpers/seed.js';

export default function seedNotice(): void {
  console.log(`seed: ${SEED} (ZIPTRACE_SEED=${SEED} repeats this run's random cases)`);
}
