// Message text shared by schema errors and semantic checks: did-you-mean suggestions (an edit
// distance that bounds its own cost) and lists of names kept to one line.


/**
 * Edit distance where swapping two neighbours ("mut" → "mtu") is one typo, not two. Above `max`
 * it only says so (max + 1), and stops early: a lab of a thousand nodes with a typo in every
 * link compares every typo with every node.
 */
function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  // Three rows of the table: two back (for swaps), one back, this one.
  let older = new Int32Array(b.length + 1);
  let prev = new Int32Array(b.length + 1).map((_, j) => j);
  let row = new Int32Array(b.length + 1);
  let prevMin = 0;
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, older[j - 2]! + 1);
      row[j] = best;
      rowMin = Math.min(rowMin, best);
    }
    // Every later cell builds on this row or the one before: neither can get below its minimum.
    if (rowMin > max && prevMin > max) return max + 1;
    prevMin = rowMin;
    [older, prev, row] = [prev, row, older];
  }
  return prev[b.length]!;
}

export function distance(word: string, candidate: string, max = Infinity): number {
  const [w, c] = [word.toLowerCase(), candidate.toLowerCase()];
  if (w === c) return 0;
  // "failure" for "fail", "int" for "interfaces": a prefix is as good as one typo.
  if (w.length >= 3 && c.length >= 3 && (w.startsWith(c) || c.startsWith(w))) return 1;
  return editDistance(w, c, max);
}

/** No name, key or value that a suggestion could fix is longer; a longer word gets none. */
const MAX_SUGGESTED_LENGTH = 64;

/** Above this many candidates (nodes of a big lab), no suggestion: each typo would cost them all. */
const MAX_SUGGESTION_CANDIDATES = 1000;

/** The closest candidate when it is close enough to be a typo. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > MAX_SUGGESTED_LENGTH || candidates.length > MAX_SUGGESTION_CANDIDATES) return undefined;
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(word, candidate, limit);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

/** How many names a message lists: one line even in a lab of a thousand nodes. */
const MAX_LISTED_NAMES = 10;

/** Sorted names, the first MAX_LISTED_NAMES of them and how many more. */
export function nameList(names: Iterable<string>): string {
  const sorted = [...names].sort();
  if (sorted.length <= MAX_LISTED_NAMES) return sorted.join(', ');
  return `${sorted.slice(0, MAX_LISTED_NAMES).join(', ')} and ${sorted.length - MAX_LISTED_NAMES} more`;
}

export function didYouMean(word: string, candidates: readonly string[], quote = false): string {
  const guess = closest(word, candidates);
  if (guess === undefined) return '';
  return ` (did you mean ${quote ? JSON.stringify(guess) : guess}?)`;
}
