/**
 * Scoped credentials: an ephemeral service user with only the roles the job asks for, deleted by the post step.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { maskedBeforeUse, scanJob } from '../harness/leaks.js';
import type { RunnerJob } from '../harness/runner.js';
import { InputError, parseScope } from '../src/runner/inputs.js';
import { statusWith, useTenant, type Tenant } from './support/emulator.js';

const env = useTenant();
let t: Tenant;
beforeAll(() => void (t = env.tenant));

function job(extra: Record<string, string>): RunnerJob {
  return env.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, ...extra });
}

const ephemeral = () => [...t.emu.model.users.values()].filter((u) => u.friendly_name.startsWith('gha_'));

describe('scope: an ephemeral, least-privilege service user', () => {
  it('creates a user with exactly the asked roles; its token works inside the scope, not outside; post deletes it', async () => {
    const j = job({ scope: 'Software Trust: signer   # by name, any case\n' });
    const before = t.emu.requests.length;
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(t.emu.requests.slice(before).map((r) => `${r.method} ${r.path}${r.query} ${r.status}`)).toEqual([
      'GET /account/api/v1/user/me 200',
      'GET /account/api/v1/role?application_code=secure_software_manager 200',
      'POST /account/api/v1/user 201',
    ]);
    const id = main.outputs['ephemeral-user-id']!;
    const user = t.emu.model.users.get(id)!;
    expect(user.friendly_name).toBe(main.outputs['token-name']);
    expect(user.accounts).toEqual(['acct-main']);
    expect(user.applications).toEqual([{ id: 'secure_software_manager', name: 'Software Trust Manager', permissions: ['VIEW_SM_CERTIFICATE', 'VIEW_SM_KEYPAIR', 'SIGN_SM_HASH'] }]);
    expect(user.description).toMatch(/^Ephemeral service user for octo-org\/release-tools run 9876543210 attempt 1 job sign \(workflow release\)/);
    expect(user.end_date).toBe(main.outputs['expires-at']!.slice(0, 10));
    expect(main.outputs['user-id']).toBe(id);
    expect(main.outputs['token-id']).toBe('');
    expect(main.summary).toContain('| ephemeral service user |');
    expect(main.summary).toContain('Software Trust: Signer');

    const token = main.outputs.token!;
    expect(maskedBeforeUse(main.stdout, token)).toBe(true);
    expect(await statusWith(t.emu, token, '/signingmanager/api/v1/certificates?limit=1')).toBe(200);
    expect(await statusWith(t.emu, token, '/account/api/v1/user?user_type=service')).toBe(403);

    const beforePost = t.emu.requests.length;
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    expect(t.emu.requests.slice(beforePost).map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([`DELETE /account/api/v1/user/${id} 204`]);
    expect(post.log).toContain(`Deleted ephemeral service user '${main.outputs['token-name']}' (id ${id}) on ${t.emu.host}.`);
    expect(t.emu.model.users.has(id)).toBe(false);
    expect(await statusWith(t.emu, token, '/signingmanager/api/v1/certificates?limit=1')).toBe(401);
    expect(scanJob(j, { bootstrap: t.s.bootstrap.apiKey, minted: token }, { allowInOutput: { token: 'minted' } })).toEqual([]);
    expect(j.runnerTempFiles()).toEqual([]);
  });

  it('takes role ids and named accounts', async () => {
    const j = job({ scope: 'secure_software_manager: SSM_BUILD_ENGINEER', accounts: 'acct-main' });
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(t.emu.requests.some((r) => r.path === '/account/api/v1/account')).toBe(true);
    expect(t.emu.model.users.get(main.outputs['ephemeral-user-id']!)!.applications[0]!.permissions).toEqual(['VIEW_SM_CERTIFICATE', 'VIEW_SM_KEYPAIR', 'SIGN_SM_HASH']);
    await j.post();
    expect(ephemeral()).toEqual([]);
  });

  async function refused(extra: Record<string, string>): Promise<string> {
    const users = t.emu.model.users.size;
    const j = job(extra);
    const before = t.emu.requests.length;
    const main = await j.main();
    expect(main.exitCode).toBe(1);
    expect(t.emu.requests.slice(before).some((r) => r.method === 'POST')).toBe(false);
    expect(t.emu.model.users.size).toBe(users);
    const post = await j.post();
    expect(post.log).toContain('Nothing to revoke: the main step did not mint a token.');
    expect(scanJob(j, { bootstrap: t.s.bootstrap.apiKey })).toEqual([]);
    return main.log.find((l) => l.startsWith('Error: '))!;
  }

  it('unknown role: lists the roles that exist, creates nothing', async () => {
    expect(await refused({ scope: 'Software Trust: Admin' })).toBe(
      "Error: Input 'scope': Software Trust has no role 'Admin'. Roles there: Lead (SSM_LEAD), Developer (SSM_DEVELOPER), Team Lead (SSM_TEAM_LEAD), Signer (SSM_SIGNER), Build Engineer (SSM_BUILD_ENGINEER).",
    );
  });

  it('a role the bootstrap does not hold: no escalation attempt', async () => {
    const error = await refused({ scope: 'Software Trust: Lead' });
    expect(error).toContain(`the bootstrap user ${t.s.bootstrap.user.id} does not hold Software Trust role 'Lead' (it lacks MANAGE_SM_KEYPAIR, MANAGE_SM_CERTIFICATE)`);
  });

  it('an account the bootstrap cannot reach', async () => {
    expect(await refused({ scope: 'Software Trust: Signer', accounts: 'acct-other' })).toBe(
      "Error: Input 'accounts': the bootstrap user cannot reach acct-other. Accounts it can: Main account (acct-main).",
    );
  });

  it('scope and service-user-id together', async () => {
    expect(await refused({ scope: 'Software Trust: Signer', 'service-user-id': t.s.signer.id })).toContain("Input 'scope': and service-user-id are alternatives");
  });

  it('a lost answer to the create: the user DigiCert ONE made is deleted and made again', async () => {
    t.emu.fault({ method: 'POST', path: /\/user$/, kind: 'drop-after-commit' });
    const j = job({ scope: 'Software Trust: Signer' });
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(main.log.some((l) => l.includes("DigiCert ONE made ephemeral service user '") && l.includes('so it is deleted and created again'))).toBe(true);
    expect(ephemeral().map((u) => u.id)).toEqual([main.outputs['ephemeral-user-id']]);
    await j.post();
    expect(ephemeral()).toEqual([]);
  });
});

describe('cleanup-stale with scope', () => {
  it('deletes ephemeral service users that earlier runs of this repository left, keeps the rest', async () => {
    const m = t.emu.model;
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000).toISOString();
    const old = m.addUser({ friendly_name: 'gha_octo-org_release-tools_1111_1_sign_aaaaaa', created_by: t.s.bootstrap.user.id });
    old.created_at = threeDaysAgo;
    const oldToken = m.addToken(old.id, old.friendly_name, undefined);
    const otherRepo = m.addUser({ friendly_name: 'gha_octo-org_other-repo_1111_1_sign_bbbbbb' });
    otherRepo.created_at = threeDaysAgo;
    const j = job({ scope: 'Software Trust: Signer', 'cleanup-stale': 'true' });
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(main.log).toContain(`cleanup-stale: deleted 1 ephemeral service user(s) left by earlier runs: '${old.friendly_name}' (id ${old.id}).`);
    expect(m.users.has(old.id)).toBe(false);
    expect(m.tokenWorks(oldToken)).toBe(false);
    expect(m.users.has(otherRepo.id)).toBe(true);
    expect(m.users.has(t.s.signer.id)).toBe(true);
    const post = await j.post();
    m.users.delete(otherRepo.id);
    expect(ephemeral(), post.log.join('\n')).toEqual([]);
  });
});

describe('parseScope', () => {
  it('reads one manager per line, several roles, comments', () => {
    expect(parseScope('Software Trust: Signer, User\n\n  Trust Lifecycle: Certificate Requester # for TLS\n')).toEqual([
      { manager: 'Software Trust', applicationCode: 'secure_software_manager', roles: ['Signer', 'User'] },
      { manager: 'Trust Lifecycle', applicationCode: 'mpki', roles: ['Certificate Requester'] },
    ]);
  });

  it('names the line that is wrong', () => {
    expect(() => parseScope('Software Trust Signer')).toThrow(InputError);
    expect(() => parseScope('Software Trust: Signer\nMystery Manager: x')).toThrow(/line 2: unknown manager 'Mystery Manager'; known: Account Manager, Software Trust/);
  });
});
