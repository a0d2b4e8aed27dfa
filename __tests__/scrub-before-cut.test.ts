/**
 * Secrets are scrubbed before any cut (issue 18, finding 5). A server that echoes the bootstrap key inside a field the
 * action prints (role names, account names, preflight lines, error bodies) must not get any part of it printed: a
 * cut first would leave the key minus its last characters, which the runner's mask (whole values only) misses.
 * Each field is tried with the key at many offsets, so that every cut the action makes falls inside the key once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunnerJob } from '../harness/runner.js';
import { useTenant, type Tenant } from './support/emulator.js';

const env = useTenant();
let t: Tenant;
beforeAll(() => void (t = env.tenant));

/** Every 8-character piece of the key: none may appear anywhere the runner keeps. */
function fragmentsShown(j: RunnerJob, key: string): string[] {
  const kept = j.steps.map((s) => [s.log.join('\n'), s.stderr, s.files.summary, s.files.state, s.annotations.map((a) => a.message).join('\n')].join('\n')).join('\n');
  const found: string[] = [];
  for (let i = 0; i + 8 <= key.length; i++) if (kept.includes(key.slice(i, i + 8))) found.push(key.slice(i, i + 8));
  return found;
}

/** One item per offset: the key after 0…n filler characters, so a cut at any length up to n lands inside it once. */
const padded = (key: string, n: number, mark = 'R') => Array.from({ length: n + 1 }, (_, i) => `${mark.repeat(i)}${key}`);

const roleListing = (names: string[]) => (b: unknown) => [...(b as object[]), ...names.map((name, i) => ({ id: `ECHO_${i}`, name, application_code: 'secure_software_manager', permissions: ['VIEW_SM_CERTIFICATE'] }))];
const accountListing = (names: string[]) => (b: unknown) => [...(b as object[]), ...names.map((name, i) => ({ id: `acct-echo-${i}`, name }))];

describe('a key echoed in a field the action prints is never printed in part', () => {
  it('role names, in the error that lists the roles there are', async () => {
    const key = t.s.bootstrap.apiKey;
    t.emu.fault({ method: 'GET', path: /\/role$/, kind: 'rewrite', body: roleListing(padded(key, 70)), times: 5 });
    const j = env.job({ 'api-key': key, host: t.emu.host, scope: 'Software Trust: No Such Role' });
    const main = await j.main();
    expect(main.outcome).toBe('failure');
    expect(main.log.join('\n')).toContain('has no role');
    await j.post();
    expect(fragmentsShown(j, key)).toEqual([]);
  });

  it.each([30, 59, 150, 199])('a role name granted by id (key after %i characters), in the log and the job summary', async (pad) => {
    const key = t.s.bootstrap.apiKey;
    t.emu.fault({ method: 'GET', path: /\/role$/, kind: 'rewrite', body: (b) => (b as { id: string; name: string }[]).map((r) => (r.id === 'SSM_SIGNER' ? { ...r, name: `${'R'.repeat(pad)}${key}` } : r)), times: 5 });
    const j = env.job({ 'api-key': key, host: t.emu.host, scope: 'Software Trust: SSM_SIGNER' });
    const main = await j.main();
    expect(main.outcome, main.log.join('\n')).toBe('success');
    await j.post();
    expect(fragmentsShown(j, key)).toEqual([]);
  });

  it('account names, in the error that lists the accounts the bootstrap reaches', async () => {
    const key = t.s.bootstrap.apiKey;
    t.emu.fault({ method: 'GET', path: /\/account$/, kind: 'rewrite', body: accountListing(padded(key, 70, 'A')), times: 5 });
    const j = env.job({ 'api-key': key, host: t.emu.host, scope: 'Software Trust: Signer', accounts: 'acct-nowhere' });
    const main = await j.main();
    expect(main.outcome).toBe('failure');
    expect(main.log.join('\n')).toContain('Accounts it can');
    await j.post();
    expect(fragmentsShown(j, key)).toEqual([]);
  });

  it('preflight lines naming roles', async () => {
    const key = t.s.bootstrap.apiKey;
    t.emu.fault({ method: 'GET', path: /\/role$/, kind: 'rewrite', body: roleListing(padded(key, 110)), times: 5 });
    const j = env.job({ 'api-key': key, host: t.emu.host, scope: 'Software Trust: No Such Role', preflight: 'true' });
    const main = await j.main();
    expect(main.outcome).toBe('failure');
    expect(main.log.join('\n')).toContain('[FAIL]');
    await j.post();
    expect(fragmentsShown(j, key)).toEqual([]);
  });

  it.each([250, 290, 3970])('an error body (key after %i characters)', async (pad) => {
    const key = t.s.bootstrap.apiKey;
    t.emu.fault({ method: 'POST', kind: 'status', status: 400, body: { errors: [{ code: 'invalid_request', message: `${'E'.repeat(pad)}${key}` }] } });
    const j = env.job({ 'api-key': key, host: t.emu.host, 'service-user-id': t.s.signer.id });
    const main = await j.main();
    expect(main.outcome).toBe('failure');
    await j.post();
    expect(fragmentsShown(j, key)).toEqual([]);
  });
});
