/** Job summary: what was minted and what happened to it. No secret ever reaches this file. */
import type { Core } from './core.js';

export interface SummaryRow {
  kind: string;
  name: string;
  scope: string;
  id: string;
  user: string;
  host: string;
  endDate: string;
}

function cell(s: string): string {
  return s.replace(/[|\r\n]/g, ' ');
}

export async function writeMintSummary(core: Core, r: SummaryRow): Promise<void> {
  await core.summary
    .addRaw('### DigiCert ONE credential\n\n', false)
    .addRaw('| credential | name | id | user | scope | host | ends (UTC) |\n|---|---|---|---|---|---|---|\n', false)
    .addRaw(`| ${[r.kind, r.name, r.id, r.user, r.scope, r.host, `${r.endDate} 23:59:59`].map(cell).join(' | ')} |\n\n`, false)
    .write();
}

export async function writeRevokeSummary(core: Core, line: string): Promise<void> {
  await core.summary.addRaw(`Revoked in post step: ${cell(line)}\n`, false).write();
}
