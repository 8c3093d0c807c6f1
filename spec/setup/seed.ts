// Runs in every test worker before the specs (vitest setupFiles): fast-check
// draws from the run's seed, so a failing property fails again when the run
// is repeated, and ZIPTRACE_SEED=<n> explores (or replays) another sequence.
import fc from 'fast-check';
import { SEED } from '../helpers/tracing.js';

fc.configureGlobal({ seed: SEED });
