/**
 * The fault matrix: the bundled action against the emulator's fault knobs. Each case checks the outcome, the
 * message, that no secret leaked, and how many minted tokens are live afterwards.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { maskedBeforeUse, scanJob } from '../harness/leaks.js';
import type { RunnerJob, StepResult } from '../harness/runner.js';
import { statusWith, useTenant, type Tenant } from './support/emulator.js';

const env = useTenant();
let t: Tenant;
beforeAll(() => void (t = env.tenant));
afterEach(() => {
  // Whatever a case left live is its own business; the next starts from none.
  for (const tok of t.emu.model.liveTokens()) if (tok.name.startsWith('gha_')) tok.deleted = true;
});

const liveMinted = () => t.emu.model.liveTokens().filter((x) => x.name.startsWith('gha_'));

function job(extra: Record<string, string> = {}, apiKey = t.s.bootstrap.apiKey): RunnerJob {
  // The end-date check is off here so each case counts the requests of the mint alone.
  return env.job({ 'api-key': apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, 'expiry-warning-days': '0', ...extra });
}

function clean(j: RunnerJob, main: StepResult, apiKey = t.s.bootstrap.apiKey): void {
  const token = main.outputs.token;
  if (token) expect(maskedBeforeUse(main.stdout, token)).toBe(true);
  expect(scanJob(j, { bootstrap: apiKey, ...(token ? { minted: token } : {}) }, { allowInOutput: { token: 'minted' } })).toEqual([]);
  expect(j.runnerTempFiles()).toEqual([]);
}

const posts = (since: number) => t.emu.requests.slice(since).filter((r) => r.method === 'POST');

describe('fault matrix', () => {
  it('429 storm with Retry-After: waits as told, then mints', async () => {
    t.emu.fault({ method: 'POST', kind: 'status', status: 429, retryAfter: '1', times: 3 });
    const j = job();
    const before = t.emu.requests.length;
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    const p = posts(before);
    expect(p.map((r) => r.status)).toEqual([429, 429, 429, 201]);
    for (let i = 1; i < p.length; i++) expect(p[i]!.at - p[i - 1]!.at).toBeGreaterThanOrEqual(950);
    expect(main.log.filter((l) => l.includes('answered 429 (Retry-After: 1 s); attempt'))).toHaveLength(3);
    expect(liveMinted()).toHaveLength(1);
    await j.post();
    expect(liveMinted()).toHaveLength(0);
    clean(j, main);
  });

  it('503 maintenance then recovery (Retry-After as an HTTP date)', async () => {
    t.emu.fault({ method: 'POST', kind: 'status', status: 503, retryAfter: new Date(Date.now() + 1500).toUTCString(), times: 2 });
    const j = job();
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(main.log.filter((l) => l.includes('answered 503'))).toHaveLength(2);
    await j.post();
    expect(liveMinted()).toHaveLength(0);
    clean(j, main);
  });

  it('503 longer than the budget: fails in time, nothing minted, post does nothing', async () => {
    t.emu.fault({ method: 'POST', kind: 'status', status: 503, retryAfter: '1', times: 100 });
    const j = job({ 'timeout-seconds': '3' });
    const started = Date.now();
    const main = await j.main();
    expect(Date.now() - started).toBeLessThan(6000);
    expect(main.exitCode).toBe(1);
    expect(main.log.find((l) => l.startsWith('Error:'))).toMatch(/returned 503 .* after \d attempts in \d\.\d s\. DigiCert ONE is unavailable, probably a maintenance window/);
    const before = t.emu.requests.length;
    const post = await j.post();
    expect(post.log).toContain('Nothing to revoke: the main step did not mint a token.');
    expect(t.emu.requests.length).toBe(before);
    expect(liveMinted()).toHaveLength(0);
    clean(j, main);
  });

  it('connection reset on create before the commit: minted once', async () => {
    t.emu.fault({ method: 'POST', kind: 'drop' });
    const j = job();
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(main.log.some((l) => l.includes('failed before DigiCert ONE made it; creating it again'))).toBe(true);
    expect(liveMinted().map((x) => x.id)).toEqual([main.outputs['token-id']]);
    await j.post();
    expect(liveMinted()).toHaveLength(0);
    clean(j, main);
  });

  it('connection reset on create after the commit: the unseen token is deleted, one is minted', async () => {
    t.emu.fault({ method: 'POST', kind: 'drop-after-commit' });
    const j = job();
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    const orphan = [...t.emu.model.tokens.values()].find((x) => x.name === main.outputs['token-name'] && x.id !== main.outputs['token-id']);
    expect(orphan?.deleted).toBe(true);
    expect(main.log.some((l) => l.includes(`(id ${orphan!.id}); its secret is shown only once, so it is deleted and created again`))).toBe(true);
    expect(liveMinted().map((x) => x.id)).toEqual([main.outputs['token-id']]);
    await j.post();
    expect(liveMinted()).toHaveLength(0);
    clean(j, main);
  });

  it('slow server past the budget: main fails in time; post finds the late token by name and deletes it', async () => {
    t.emu.fault({ method: 'POST', kind: 'delay', ms: 3500 });
    const j = job({ 'timeout-seconds': '2' });
    const started = Date.now();
    const main = await j.main();
    expect(Date.now() - started).toBeLessThan(3500);
    expect(main.exitCode).toBe(1);
    expect(main.log.find((l) => l.startsWith('Error:'))).toContain('the post step looks it up by name and deletes it');
    // The server finishes the create after the client gave up.
    await expect.poll(() => liveMinted().length, { timeout: 5000 }).toBe(1);
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    expect(post.log.some((l) => /^Found token '.*' \(id .*\) on .*: main never saw the answer to its create, but DigiCert ONE made it\.$/.test(l)), post.log.join('\n')).toBe(true);
    expect(liveMinted()).toHaveLength(0);
    clean(j, main);
  });

  it('revoke answered 500 once: retried, then revoked', async () => {
    const j = job();
    const main = await j.main();
    t.emu.fault({ method: 'DELETE', kind: 'status', status: 500 });
    const post = await j.post();
    expect(post.log.some((l) => l.includes(`DELETE /account/api/v1/api-access-token/${main.outputs['token-id']} answered 500; attempt 2`)), post.log.join('\n')).toBe(true);
    expect(post.log.some((l) => l.startsWith('Revoked token'))).toBe(true);
    expect(await statusWith(t.emu, main.outputs.token!)).toBe(401);
    expect(liveMinted()).toHaveLength(0);
    clean(j, main);
  });

  it('revoke after the token passed its end date on the server', async () => {
    const j = job({ 'lifetime-days': '0' });
    const real = t.emu.model.clock;
    // A day behind while main runs: its end date (the action's own today) is never in the emulator's past, even when
    // UTC midnight passes between the action reading its clock and the create arriving (the shifted-clock suite).
    t.emu.model.clock = () => new Date(Date.now() - 86_400_000);
    const main = await j.main().finally(() => {
      t.emu.model.clock = real;
    });
    t.emu.model.clock = () => new Date(Date.now() + 2 * 86_400_000);
    try {
      expect(await statusWith(t.emu, main.outputs.token!)).toBe(401);
      const post = await j.post();
      expect(post.exitCode).toBe(0);
      expect(post.log.some((l) => l.startsWith('Warning'))).toBe(false);
      expect(t.emu.model.tokens.get(main.outputs['token-id']!)!.deleted).toBe(true);
    } finally {
      t.emu.model.clock = real;
    }
    clean(j, main);
  });

  it('bootstrap token revoked mid-run: post warns with the id and how to delete, the job stays green', async () => {
    const boot = t.emu.model.addToken(t.s.bootstrap.user.id, 'short-lived bootstrap', undefined);
    const j = job({}, boot.secret);
    const main = await j.main();
    expect(main.exitCode).toBe(0);
    boot.deleted = true;
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    const warning = post.log.find((l) => l.startsWith('Warning: Could not revoke'))!;
    expect(warning).toContain(`(id ${main.outputs['token-id']})`);
    expect(warning).toContain('returned 401');
    expect(warning).toContain(`curl -X DELETE -H "x-api-key: $D1_ADMIN_API_KEY" https://${t.emu.host}/account/api/v1/api-access-token/${main.outputs['token-id']}`);
    expect(liveMinted().map((x) => x.id)).toEqual([main.outputs['token-id']]); // the documented warning case
    clean(j, main, boot.secret);
  });

  it('cleanup-stale deletes what a dead runner left in an earlier run, and keeps the current run\'s', async () => {
    const m = t.emu.model;
    const old = m.addToken(t.s.signer.id, 'gha_octo-org_release-tools_1111_1_sign_aaaaaa', '2026-12-31');
    old.created_at = new Date(Date.now() - 3 * 86_400_000).toISOString();
    const sameRun = m.addToken(t.s.signer.id, 'gha_octo-org_release-tools_9876543210_1_build_bbbbbb', '2026-12-31');
    sameRun.created_at = old.created_at;
    const byHand = m.addToken(t.s.signer.id, 'release key', '2026-12-31');
    byHand.created_at = old.created_at;
    const j = job({ 'cleanup-stale': 'true' });
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(main.log).toContain(`cleanup-stale: deleted 1 token(s) left by earlier runs: '${old.name}' (id ${old.id}).`);
    expect([old.deleted, sameRun.deleted, byHand.deleted]).toEqual([true, false, false]);
    await j.post();
    byHand.deleted = true;
    clean(j, main);
  });
});
