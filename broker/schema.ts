/**
 * Strict keys for the broker's files: a key the broker does not know is an error naming it and the nearest known one
 * (`maxAgeMinute` → `maxAgeMinutes`), so a typo stops start-up instead of being ignored (octo-sts checks its trust
 * policies against a schema the same way; Vault refuses unknown role fields).
 */

/** Edit distance (Levenshtein), case-insensitive: small names only. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[y.length]!;
}

/** The known name nearest to `key`, when it is near enough to be what was meant. */
export function nearest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = distance(key, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.ceil(best.length / 3)) ? best : undefined;
}

/** The first key of `o` not in `known`, described for an error message; undefined when all are known. */
export function unknownKey(o: object, known: readonly string[], where: string): string | undefined {
  for (const key of Object.keys(o)) {
    if (known.includes(key)) continue;
    const near = nearest(key, known);
    const shown = JSON.stringify(key.slice(0, 60));
    return `${where}${where ? '.' : ''}${shown} is not a known key${near ? ` (did you mean "${near}"?)` : ''}; known: ${known.join(', ')}`;
  }
  return undefined;
}
