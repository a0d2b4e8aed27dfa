/**
 * Secret handling: every value that must never be printed goes through `maskSecret` first.
 * The runner masks per line, so a multi-line value is registered line by line as well as whole.
 */
export type MaskFn = (value: string) => void;

export function secretParts(value: string): string[] {
  const parts = new Set<string>();
  const trimmed = value.trim();
  if (trimmed) parts.add(trimmed);
  for (const line of value.split(/\r?\n/)) {
    const l = line.trim();
    // Very short lines would mask common words in the log, and PEM armour lines (-----BEGIN ...-----) every
    // mention of a key type; neither carries a secret.
    if (l.length >= 4 && !/^-----(BEGIN|END) [A-Z0-9 ]+-----$/.test(l)) parts.add(l);
  }
  return [...parts];
}

export function maskSecret(value: string, mask: MaskFn): void {
  for (const part of secretParts(value)) mask(part);
}

/** Removes known secrets from text that came from elsewhere (a server's error message, an exception). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    for (const part of secretParts(s)) out = out.split(part).join('***');
  }
  return out;
}
