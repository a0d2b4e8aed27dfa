/** Job summary: what was minted and what happened to it. No secret ever reaches this file, nor raw server text. */
import type { Core } from './core.js';
import { logSafe } from '../platform/text-safety.js';

export interface SummaryRow {
  kind: string;
  name: string;
  scope: string;
  id: string;
  user: string;
  host: string;
  /** '' when DigiCert ONE confirmed no end date (shown as such, never the one asked for). */
  endDate: string;
}

/**
 * Text of ours with values in it: one line, and no Markdown or HTML that could render (links, images, emphasis,
 * code, tables, tags): that punctuation is backslash-escaped, so it is shown as written.
 */
export function plain(s: string): string {
  return logSafe(s, 500).replace(/[\\`*[\]()!<>&|~#]/g, (c) => `\\${c}`);
}

/**
 * A value that came from outside (names, ids, role names, the host): shown as inline code, where Markdown and HTML
 * do not render and bare URLs are not turned into links. Backticks and pipes (which would end the span or the cell)
 * are replaced.
 */
export function code(s: string): string {
  const v = logSafe(s, 200).replace(/`/g, "'").replace(/\|/g, '/');
  return v.trim() ? `\`${v}\`` : '';
}

export async function writeMintSummary(core: Core, rows: SummaryRow[]): Promise<void> {
  const lines = rows.map((r) => `| ${[plain(r.kind), ...[r.name, r.id, r.user, r.scope, r.host].map(code), plain(r.endDate ? `${r.endDate} 23:59:59` : 'not confirmed by DigiCert ONE')].join(' | ')} |\n`);
  await core.summary
    .addRaw('### DigiCert ONE credential\n\n', false)
    .addRaw('| credential | name | id | user | scope | host | ends (UTC) |\n|---|---|---|---|---|---|---|\n', false)
    .addRaw(`${lines.join('')}\n`, false)
    .write();
}

export async function writeRevokeSummary(core: Core, line: string): Promise<void> {
  await core.summary.addRaw(`Revoked in post step: ${plain(line)}\n`, false).write();
}
