/**
 * Text safety, the one module every printed line goes through: secrets are masked and scrubbed (whole, in every
 * form, before any cut), then outside text is neutralised (no runner command, no line break) and capped.
 */

// ---- Secrets ----
/**
 * Secret handling: every value that must never be printed goes through `maskSecret` first.
 * The runner masks per line, so a multi-line value is registered line by line as well as whole; and a secret that
 * a server echoes encoded (base64, URL-encoded) is registered in those forms too.
 */
export type MaskFn = (value: string) => void;

/** The plain forms of a secret: the whole value and each line that could stand alone in a log line. */
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

/** Encoded forms a secret may be echoed in: base64 (standard and URL-safe, also mid-stream) and URL-encoding. */
function encodedForms(part: string): string[] {
  const forms = new Set<string>();
  const bytes = Buffer.from(part);
  if (encodeURIComponent(part) !== part) forms.add(encodeURIComponent(part));
  // Base64 of the secret as it appears inside a longer base64 text: at each of the three byte alignments, the
  // characters that depend on the secret's bytes alone.
  for (let shift = 0; shift < 3; shift++) {
    const b64 = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const start = shift === 0 ? 0 : Math.ceil((shift * 4) / 3);
    const whole = Math.floor((shift + bytes.length) / 3) * 4;
    // Alone (shift 0), the whole value without padding; inside a longer text, only its complete groups.
    const candidates = shift === 0 ? [b64.replace(/=+$/, ''), b64.slice(0, whole)] : [b64.slice(start, whole)];
    for (const stable of candidates) {
      if (stable.length < 8) continue;
      forms.add(stable);
      forms.add(stable.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return [...forms];
}

/** Every form of the secrets to register with the runner and to scrub from text, longest first. */
export function secretForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const s of secrets) {
    // Encoded echoes are a risk for a token or password (one line); a certificate's many lines are masked as lines.
    const oneLine = !/[\r\n]/.test(s.trim());
    for (const part of secretParts(s)) {
      forms.add(part);
      if (oneLine && part.length >= 6 && part.length <= 1024) for (const f of encodedForms(part)) forms.add(f);
    }
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

export function maskSecret(value: string, mask: MaskFn): void {
  for (const form of secretForms([value])) mask(form);
}

/**
 * Removes known secrets (in every form) from text that came from elsewhere (a server's error message, an
 * exception). Call it on the whole text, before any cut: a cut first could leave a secret minus its last characters.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const form of secretForms(secrets)) out = out.split(form).join('***');
  return out;
}

// ---- Outside text made safe to print ----
/**
 * Text from outside (DigiCert ONE's answers, headers, state, the environment) made safe to print.
 *
 * The runner treats a stdout line as a workflow command when it starts, after white space, with `::`, and the
 * legacy form `##[name]` anywhere in a line (actions/runner src/Runner.Common/ActionCommand.cs, TryParseV2 and
 * TryParse, tried in that order by src/Runner.Worker/ActionCommandManager.cs). A line break in a value would start
 * a new line. So: control characters (CR/LF among them) become spaces, `##[` is broken up, a leading `::` is broken
 * up, and the result is capped, so that nothing a server says can issue a command or flood the log.
 */
export const LOG_TEXT_MAX = 300;

// C0 and C1 controls (CR, LF, ESC for terminal colours, ...), DEL, and the Unicode line and paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

export function logSafe(text: string, max: number = LOG_TEXT_MAX): string {
  let out = String(text).replace(CONTROL, ' ');
  if (out.length > max) out = `${out.slice(0, Math.max(0, max - 1))}…`;
  // After the cut, so that the cut cannot rebuild what was broken up.
  out = out.replace(/##\[/g, '## [');
  return out.replace(/^(\s*):(?=:)/, '$1: ');
}
