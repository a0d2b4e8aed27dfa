/**
 * One name per thing across every page (issue 29): the README, docs/, examples/, SECURITY.md and CONTRIBUTING.md
 * call the token's variable, the secrets and the variables by one name each, and name only inputs action.yml has.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const pages = [
  'README.md',
  'SECURITY.md',
  'CONTRIBUTING.md',
  ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => join('docs', f)),
  ...readdirSync('examples').filter((f) => /\.ya?ml$/.test(f)).map((f) => join('examples', f)),
];
const text = Object.fromEntries(pages.map((p) => [p, readFileSync(p, 'utf8')]));
const inputs = Object.keys((parse(readFileSync('action.yml', 'utf8')) as { inputs: object }).inputs);

/** The one name of each thing, and the names it must not go by. */
const SYNONYMS: Record<string, string[]> = {
  // The name export-env sets and DigiCert's own tools read.
  DC_API_KEY: ['DIGICERT_API_KEY', 'D1_API_KEY', 'D1_TOKEN'],
  'secrets.D1_BOOTSTRAP_TOKEN': ['secrets.D1_API_KEY', 'secrets.DIGICERT_API_KEY', 'secrets.D1_BOOTSTRAP_API_KEY', 'secrets.DC_API_KEY'],
  'vars.D1_SERVICE_USER_ID': ['vars.D1_SIGNER_USER_ID', 'vars.D1_SIGNER_SERVICE_USER_ID', 'secrets.D1_SERVICE_USER_ID'],
  'token-name-prefix': ['`token-name` input', '`token-name`, '],
};
/** Every secret and variable a page may reference (the runner-model tests give each a value). */
const KNOWN = ['D1_BOOTSTRAP_TOKEN', 'D1_BROKER_CA', 'D1_CLIENT_P12_BASE64', 'D1_CLIENT_P12_PASSWORD', 'D1_CLIENT_KEY_PEM', 'D1_SERVICE_USER_ID', 'D1_ACCOUNT_ID', 'SM_KEYPAIR_ALIAS', 'SM_CERT_SHA1'];

describe('one name per thing', () => {
  it.each(Object.entries(SYNONYMS))('%s is never called otherwise', (name, others) => {
    const found = pages.flatMap((p) => others.filter((o) => text[p]!.includes(o)).map((o) => `${p}: ${o} (say ${name})`));
    expect(found).toEqual([]);
  });

  it('every secret and variable named on a page is one of the known names', () => {
    const used = pages.flatMap((p) => [...text[p]!.matchAll(/\b(?:secrets|vars)\.([A-Z0-9_]+)/g)].map((m) => [p, m[1]!] as const));
    expect(used.filter(([, n]) => !KNOWN.includes(n)).map(([p, n]) => `${p}: ${n}`)).toEqual([]);
  });

  it('every input a yaml snippet gives the action exists in action.yml', () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const p of pages) {
      const blocks = p.endsWith('.md') ? [...text[p]!.matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)].map((m) => m[1]!) : [text[p]!];
      for (const b of blocks) {
        if (!/d1-token-action@/.test(b)) continue;
        for (const m of b.matchAll(/uses: [\w./-]*d1-token-action@\S+[\s\S]*?with:\n((?:\s{6,}[\w-]+:.*\n?|\s*#.*\n?)+)/g)) {
          for (const k of m[1]!.matchAll(/^\s+([\w-]+):/gm)) {
            checked++;
            if (!inputs.includes(k[1]!)) wrong.push(`${p}: ${k[1]}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(40);
  });
});
