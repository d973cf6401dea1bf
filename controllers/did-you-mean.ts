/**
 * "Did you mean X?" for a mistyped name (a field, a kind, a flag, an environment): the known name closest to the
 * input by edit distance (optimal string alignment: insertions, deletions, substitutions and swaps of two adjacent
 * characters, case ignored), or the only one the input begins. Undefined when nothing is close enough to be a
 * typo of it: at most one edit per four characters, and never a replacement of the whole word.
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const known = [...candidates].filter((c) => c !== input);
  const typed = input.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const d = editDistance(typed, name.toLowerCase());
    const limit = Math.max(1, Math.floor(Math.max(input.length, name.length) / 4));
    if (d <= limit && d < Math.min(input.length, name.length) && (best === undefined || d < best.distance)) {
      best = { name, distance: d };
    }
  }
  if (best !== undefined) return best.name;
  const extending = known.filter((c) => typed.length >= 3 && c.toLowerCase().startsWith(typed));
  return extending.length === 1 ? extending[0] : undefined;
}

/** ` (did you mean X?)`, or nothing: to append to a message. */
export function didYouMean(input: string, candidates: Iterable<string>, quote = false): string {
  const c = closest(input, candidates);
  if (c === undefined) return "";
  return ` (did you mean ${quote ? JSON.stringify(c) : c}?)`;
}

/** Optimal string alignment distance. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
