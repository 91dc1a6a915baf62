/**
 * Edit distance counting insertions, deletions, substitutions and swaps of two neighbours (the
 * optimal-string-alignment form of Damerau-Levenshtein): `gte` is one edit from `get`.
 */
export function editDistance(a: string, b: string): number {
  // rows[i][j]: distance between a's first i characters and b's first j.
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/**
 * How far a typo of `candidate` may stray: two edits, but only one for words of up to four
 * letters, so that `pin` does not turn into `put` nor `ab` into `-a`.
 */
function tolerance(candidate: string): number {
  return Math.min(2, Math.floor((candidate.length - 1) / 2));
}

/** The candidate `word` is most likely a typo of, or undefined when none is close enough. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= tolerance(candidate) && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
