/**
 * The messages the action and the broker can print, collected from their source: every InputError, BrokerError,
 * D1Error, ConfigError, PolicyFileError and HttpRefusal made, and every core.warning / core.setFailed, each reduced to
 * its first words (the first run of at least three words of literal text). docs/troubleshooting.md must hold each.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Message {
  file: string;
  line: number;
  kind: string;
  /** The first words of its literal text, as they appear in the message. */
  words: string;
}

const CALL = /\b(?:new (InputError|BrokerError|D1Error|ConfigError|PolicyFileError|HttpRefusal)|core\.(warning|setFailed))\(/g;

/** The literal text of a call's arguments: string and template literals, `${…}` replaced by a break. */
function literals(args: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g;
  for (const m of args.matchAll(re)) {
    const raw = m[1] ?? m[2] ?? m[3] ?? '';
    // Template expressions (possibly nested one level) are not text the page can quote.
    out.push(...raw.replace(/\$\{(?:[^{}]|\{[^{}]*\})*\}/g, '\u0000').replace(/\\(.)/g, '$1').split('\u0000'));
  }
  return out;
}

export function firstWords(args: string, n = 4): string | undefined {
  for (const segment of literals(args)) {
    // Leading punctuation joins the text to an expression before it (`'${alias}' is not …`): not part of the words.
    const all = segment.replace(/^[^A-Za-z0-9{"]+/, '').trim().split(/\s+/).filter(Boolean);
    // Up to an expression the literal regex could not split (a template nested in a template), and words only.
    const cut = all.findIndex((w) => w.includes('${'));
    const words = (cut < 0 ? all : all.slice(0, cut)).filter((w) => /[A-Za-z0-9]/.test(w));
    if (words.length >= 3 && /[a-z]/i.test(segment)) return words.slice(0, n).join(' ');
  }
  return undefined;
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

export function collectMessages(): Message[] {
  const out: Message[] = [];
  for (const file of [...files('src'), ...files('broker')]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(CALL)) {
      // The arguments: up to the call's closing parenthesis, near enough for literals (they come first).
      let depth = 1;
      let i = m.index! + m[0].length;
      for (; i < text.length && depth > 0; i++) {
        const c = text[i];
        if (c === '(') depth++;
        else if (c === ')') depth--;
      }
      const words = firstWords(text.slice(m.index! + m[0].length, i - 1));
      if (!words) continue;
      out.push({ file: file.replace(/\\/g, '/'), line: text.slice(0, m.index).split('\n').length, kind: m[1] ?? `core.${m[2]}`, words });
    }
  }
  return out;
}

/** A page's text as the check compares it: markdown quoting and escapes dropped, spaces collapsed, lower case. */
export function comparable(text: string): string {
  return text.replace(/[`*]/g, '').replace(/\\\|/g, '|').replace(/\s+/g, ' ').toLowerCase();
}
