/**
 * The action never reports what DigiCert ONE did not confirm (issue 26, point 3). When a create's answer lacks the end
 * date or the name, the outputs, the log line and the job summary do not show the value the action asked for as if it
 * were the server's: a warning names the field and the endpoint, and for the end date says that only revocation
 * bounds the credential's life now. Driven through the runner model, asserting on what a person would see.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Fault } from '../emulator/server.js';
import { useTenant, type Tenant } from './support/emulator.js';

const env = useTenant();
let t: Tenant;
beforeAll(() => void (t = env.tenant));

const drop = (method: string, path: RegExp, ...fields: string[]): Fault => ({
  method,
  path,
  kind: 'rewrite',
  times: 5,
  body: (b) => Object.fromEntries(Object.entries(b as object).filter(([k]) => !fields.includes(k))),
});
const TOKEN = /\/api-access-token$/;
const USERS = /\/user$/;
const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

describe('a create answer without an end date', () => {
  it('token for a named service user: no expires-at, no asked-for date in the log or summary; a warning names end_date and the endpoint', async () => {
    t.emu.fault(drop('POST', TOKEN, 'end_date'));
    const j = env.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, 'lifetime-days': '1' });
    const main = await j.main();
    expect(main.outcome).toBe('success');
    const asked = day(1);
    expect(main.outputs['expires-at']).toBe('');
    const log = main.log.join('\n');
    expect(log).not.toContain(asked);
    expect(main.summary).not.toContain(asked);
    expect(main.annotations.map((a) => `${a.level}: ${a.message}`)).toContainEqual(
      expect.stringMatching(/^warning: (?=.*'end_date' in the answer to POST \/account\/api\/v1\/api-access-token\))(?=.*only revocation bounds its life)/),
    );
    expect(main.summary).toContain('not confirmed');
    const post = await j.post();
    expect(post.outcome).toBe('success');
    expect(t.emu.model.liveTokens().filter((x) => x.name.startsWith('gha_'))).toEqual([]);
  });

  it('ephemeral service user (scope): the same, naming POST /user', async () => {
    t.emu.fault(drop('POST', USERS, 'end_date'));
    const j = env.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, scope: 'Software Trust: Signer', 'lifetime-days': '1' });
    const main = await j.main();
    expect(main.outcome).toBe('success');
    expect(main.outputs['expires-at']).toBe('');
    expect(main.log.join('\n')).not.toContain(day(1));
    expect(main.annotations.map((a) => `${a.level}: ${a.message}`)).toContainEqual(expect.stringMatching(/^warning: (?=.*'end_date' in the answer to POST \/account\/api\/v1\/user\))(?=.*only revocation bounds its life)/));
    expect((await j.post()).outcome).toBe('success');
  });

  it('with the end date in the answer, it is the answer\'s (not the one asked for) that is shown', async () => {
    const answered = day(2);
    t.emu.fault({ method: 'POST', path: TOKEN, kind: 'rewrite', body: (b) => ({ ...(b as object), end_date: answered }) });
    const j = env.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, 'lifetime-days': '1' });
    const main = await j.main();
    expect(main.outputs['expires-at']).toBe(`${answered}T23:59:59Z`);
    expect(main.log.join('\n')).toContain(`${answered} 23:59:59 UTC`);
    expect(main.summary).toContain(answered);
    expect(main.annotations).toEqual([]);
    await j.post();
  });
});

describe('a create answer without a name', () => {
  it('token: token-name output empty, the log does not show the asked-for name as made; a warning names name and the endpoint', async () => {
    t.emu.fault(drop('POST', TOKEN, 'name'));
    const j = env.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id });
    const main = await j.main();
    expect(main.outcome).toBe('success');
    expect(main.outputs['token-name']).toBe('');
    expect(main.annotations.map((a) => `${a.level}: ${a.message}`)).toContainEqual(expect.stringMatching(/^warning: .*'name' in the answer to POST \/account\/api\/v1\/api-access-token\)/));
    expect(main.log.join('\n')).not.toMatch(/Created DigiCert ONE API token 'gha_/);
    expect((await j.post()).outcome).toBe('success');
  });
});
