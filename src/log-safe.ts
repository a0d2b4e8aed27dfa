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
