/**
 * export-env and job-summary, both ways, through the bundled action: what later steps get in GITHUB_ENV and
 * what the job summary shows (never a secret).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunnerJob } from '../harness/runner.js';
import { scanJob } from '../harness/leaks.js';
import { statusWith, useTenant, type Tenant } from './support/emulator.js';

const env = useTenant();
let t: Tenant;
beforeAll(() => void (t = env.tenant));

function job(extra: Record<string, string>): RunnerJob {
  return env.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, ...extra });
}

describe('export-env and job-summary', () => {
  it('by default: nothing exported to later steps; the summary names the token in main and its revocation in post', async () => {
    const j = job({});
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    const post = await j.post();
    expect(main.env).toEqual({});
    expect(post.env).toEqual({});
    const row = main.summary.split('\n').find((l) => l.includes(main.outputs['token-id']!)) ?? '';
    // Values from outside are inline code in the summary: no Markdown or HTML of theirs renders.
    expect(row.split('|').map((c) => c.trim()).filter(Boolean)).toEqual([
      'API token',
      `\`${main.outputs['token-name']}\``,
      `\`${main.outputs['token-id']}\``,
      `\`${t.s.signer.id}\``,
      '`the roles of that user`',
      `\`${t.emu.host}\``,
      main.outputs['expires-at']!.replace('T', ' ').replace('Z', ''),
    ]);
    expect(post.summary).toBe('Revoked in post step: yes\n');
    expect(scanJob(j, { bootstrap: t.s.bootstrap.apiKey, minted: main.outputs.token! }, { allowInOutput: { token: 'minted' } })).toEqual([]);
  });

  it('job-summary: false writes no summary in either step', async () => {
    const j = job({ 'job-summary': 'false' });
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    const post = await j.post();
    expect(post.log.join('\n')).toContain('Revoked token');
    expect(main.summary).toBe('');
    expect(post.summary).toBe('');
  });

  it('export-env: later steps see the minted token under DigiCert names; the post step revokes it all the same', async () => {
    const j = job({ 'export-env': 'true' });
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(Object.keys(main.env).sort()).toEqual(['DC_API_KEY', 'DC_BASE', 'SM_API_KEY', 'SM_HOST']);
    expect(main.env.SM_API_KEY).toBe(main.outputs.token);
    expect(Object.values(main.env)).not.toContain(t.s.bootstrap.apiKey);
    const before = t.emu.requests.length;
    await j.post();
    expect(t.emu.requests.slice(before).map((r) => `${r.method} ${r.status}`)).toEqual(['DELETE 204']);
  });
});

describe('a runner without a job summary (GITHUB_STEP_SUMMARY unset: older GHES, some self-hosted runners)', () => {
  it('main mints and hands over its outputs, warns about the summary, and the step succeeds; post revokes (issue 18, finding 7)', async () => {
    const j = env.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id }, {}, { withoutStepSummary: true });
    const main = await j.main();
    expect(main.processEnv.GITHUB_STEP_SUMMARY).toBeUndefined();
    expect(main.outcome, main.log.join('\n')).toBe('success');
    expect(main.outputs.token).toBeTruthy();
    expect(main.log.join('\n')).toMatch(/Warning: Could not write the job summary \(the credentials were made and handed over all the same\)/);
    const post = await j.post();
    expect(post.outcome).toBe('success');
    expect(await statusWith(t.emu, main.outputs.token!)).toBe(401);
  });
});
