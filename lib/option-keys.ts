/**
 * Unknown option keys: `createTracer({ zipkinURL })` is a typo, not a choice,
 * and a tracer that silently ignores it sends traces nowhere. Every options
 * object ziptrace takes is checked here, and a key it does not know gets a
 * problem that names the closest known one.
 */

/**
 * The problems with the keys of `given` that `known` does not list, one per
 * key, each naming the closest known key when one is close:
 * `zipkinURL is not an option of createTracer; did you mean zipkinUrl?`.
 */
export function unknownKeys(given: object, known: readonly string[], where: string): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) problems.push(unknownKeyProblem(key, known, `an option of ${where}`));
  }
  return problems;
}

/**
 * What to say of one key that `known` does not list: `tag is not a span
 * option; did you mean tags?`. `what` is what the key is not (`a span
 * option`, `an option of createTracer`).
 */
export function unknownKeyProblem(key: string, known: readonly string[], what: string): string {
  const closest = closestKey(key, known);
  return `${key} is not ${what}${closest === undefined ? `; known: ${known.join(', ')}` : `; did you mean ${closest}?`}`;
}

/** The known key most like `key` (the same but for case, or a few edits away), or undefined when none is close. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameButCase = known.find((k) => k.toLowerCase() === lower);
  if (sameButCase !== undefined) return sameButCase;
  // A typo is a few edits; more than a third of the word is another word.
  const allowed = Math.max(2, Math.floor(key.length / 3));
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance (insertions, deletions, substitutions), with adjacent swaps counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1]!;
}

/**
 * A compile-time check that a list of option keys names every key of an
 * options type: `type _ = ListsEvery<(typeof KEYS)[number], keyof Options>`
 * fails to compile when `Options` gains a key the list lacks. With
 * `satisfies readonly (keyof Options)[]` on the list, the two agree both ways,
 * so a new option cannot be refused as "not an option".
 */
export type ListsEvery<Listed, All extends Listed> = All;
