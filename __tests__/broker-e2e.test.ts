/**
 * The bundled action (dist/index.js) through the bundled broker (dist/broker/index.js, the file the Dockerfile runs),
 * main and post through the runner model, against the emulator: the job holds no DigiCert ONE secret.
 */
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scanJob, maskedBeforeUse } from '../harness/leaks.js';
import { RunnerJob, type JobOptions } from '../harness/runner.js';
import { softwareTrustStatus, statusWith } from '../harness/later-step.js';
import { AUDIENCE, hasSqlite, startWorld, type BrokerWorld } from './support/broker.js';
import { KEYPAIR_ALIAS } from '../emulator/scenario.js';

describe.skipIf(!hasSqlite)('the action through the broker (bundles, runner model, emulator)', () => {
  let w: BrokerWorld;
  const jobs: RunnerJob[] = [];
  beforeAll(async () => {
    w = await startWorld({ process: true });
  }, 60_000);
  afterAll(async () => w?.close());
  afterEach(() => {
    while (jobs.length) jobs.pop()!.cleanup();
  });

  function job(inputs: Record<string, string> = {}, more: Partial<JobOptions> = {}): RunnerJob {
    const j = new RunnerJob({
      inputs: { 'broker-url': w.url, 'broker-policy': 'release', 'broker-audience': AUDIENCE, ...inputs },
      caPem: w.caPem,
      permissions: { 'id-token': 'write' },
      idTokenService: w.issuer,
      ...more,
      github: { run_id: String(randomInt(1e9, 2e9)), ...more.github },
    });
    jobs.push(j);
    return j;
  }

  /** Every secret the world holds, for leak scans: the bootstrap key, and the job's minted token. */
  const secrets = (minted: string) => ({ bootstrap: w.s.bootstrap.apiKey, minted });

  it('mints through the broker, masks first, a later step uses the token, post revokes it; the job held no DigiCert ONE secret', async () => {
    const j = job();
    const issued = w.issuer.tokenRequests.length;
    const before = w.emu.requests.length;
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    const token = main.outputs.token!;
    expect(maskedBeforeUse(main.stdout, token)).toBe(true);
    expect(main.outputs['token-name']).toMatch(new RegExp(`^gha_octo-org_release-tools_${j.inputs ? '' : ''}\\d+_1_sign_[0-9a-f]{6}$`));
    expect(main.outputs['user-id']).toBe(w.s.signer.id);
    expect(main.outputs['base-url']).toBe(`https://${w.emu.host}`);
    // The job asked the runner's token service once, for the broker's audience.
    expect(w.issuer.tokenRequests.slice(issued)).toEqual([{ audience: AUDIENCE, authorized: true, status: 200 }]);
    // DigiCert ONE saw the broker's bootstrap identity create the token, for the policy's user, named after this run.
    const created = w.emu.requests.slice(before);
    expect(created.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['POST /account/api/v1/api-access-token 201']);
    expect(created[0]!.tokenId).toBe(w.s.bootstrap.tokenId);
    expect(created[0]!.body).toMatchObject({ name: main.outputs['token-name'], user_id: w.s.signer.id });
    expect(main.log.join('\n')).toContain(`The broker at localhost:${new URL(w.url).port} (policy release) created DigiCert ONE API token '${main.outputs['token-name']}'`);
    // State: the lease (a request id), no secret.
    expect(JSON.parse(main.state.broker!)).toEqual({ leases: [expect.stringMatching(/^[A-Za-z0-9_-]{22}$/)] });

    expect(await statusWith(w.emu, token)).toBe(200);
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    expect(post.log).toContain(`The broker revoked api-token '${main.outputs['token-name']}' (id ${main.outputs['token-id']}).`);
    expect(post.summary).toContain('Revoked in post step: yes, through the broker');
    expect(await statusWith(w.emu, token)).toBe(401);
    expect(w.emu.model.liveTokens().filter((t) => t.name.startsWith('gha_'))).toEqual([]);
    // The ledger saw it made and revoked by the job.
    const rows = w.ledgerRows().filter((r) => r.name === main.outputs['token-name']);
    expect(rows.map((r) => [r.kind, r.state, r.revokedBy])).toEqual([['api-token', 'revoked', 'job']]);

    // No DigiCert ONE secret in the job: not in its inputs, not in either step's environment, nowhere it kept.
    for (const s of j.steps) {
      expect(Object.values(s.processEnv).some((v) => v.includes(w.s.bootstrap.apiKey))).toBe(false);
      expect(Object.keys(s.processEnv).filter((k) => /API_KEY|CLIENT_CERT/.test(k))).toEqual([]);
    }
    expect(Object.values(j.inputs).some((v) => v.includes(w.s.bootstrap.apiKey))).toBe(false);
    expect(scanJob(j, secrets(token), { allowInOutput: { token: 'minted' } })).toEqual([]);
    // The audit log: the two decisions, with the claims that decided; no token of any kind.
    const audit = w.auditText();
    for (const secret of [token, w.s.bootstrap.apiKey, ...j.steps.flatMap((s) => s.masks.filter((m) => m.split('.').length === 3))]) expect(audit).not.toContain(secret);
    const lease = JSON.parse(main.state.broker!).leases[0];
    const decisions = w.audit().filter((e) => e.lease === lease || (e.leases as string[] | undefined)?.includes(lease));
    expect(decisions.map((e) => `${e.event} ${e.outcome ?? ''}`.trim())).toEqual(['mint granted', 'revoke']);
    expect(decisions[0]!.claims).toMatchObject({ repository: 'octo-org/release-tools', repository_id: '123456789', repository_owner_id: '987654', ref: 'refs/heads/main', event_name: 'push' });
  });

  it('/healthz answers 200 without a token (for the orchestrator\'s probes)', async () => {
    const a = await w.call('GET', '/healthz');
    expect([a.status, a.body]).toEqual([200, { status: 'ok' }]);
  });

  it("DigiCert ONE's create answer has no end date: the broker passes none on, the job reports none and says only revocation bounds it (issue 26)", async () => {
    w.emu.fault({ method: 'POST', path: /api-access-token$/, kind: 'rewrite', body: (b) => Object.fromEntries(Object.entries(b as object).filter(([k]) => k !== 'end_date')) });
    const j = job();
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(main.outputs['expires-at']).toBe('');
    expect(main.log.join('\n')).not.toMatch(/it ends \d{4}-\d{2}-\d{2}/);
    expect(main.annotations.map((a) => `${a.level}: ${a.message}`)).toContainEqual(expect.stringMatching(/^warning: .*DigiCert ONE confirmed no end date.*only revocation bounds its life now/));
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    expect(await statusWith(w.emu, main.outputs.token!)).toBe(401);
  });

  it('a broker restart between main and post: post still revokes (the ledger is on disk)', async () => {
    const j = job();
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    await w.restart();
    expect(await statusWith(w.emu, main.outputs.token!)).toBe(200);
    const post = await j.post();
    expect(post.log).toContain(`The broker revoked api-token '${main.outputs['token-name']}' (id ${main.outputs['token-id']}).`);
    expect(await statusWith(w.emu, main.outputs.token!)).toBe(401);
  });

  it('the answer never reaches main (timeout): the lease was saved first, so post has the broker revoke what it made', async () => {
    w.emu.fault({ method: 'POST', path: /api-access-token$/, kind: 'delay', ms: 2500 });
    const j = job({ 'timeout-seconds': '1' });
    const main = await j.main();
    expect(main.exitCode).toBe(1);
    expect(main.log.find((l) => l.startsWith('Error:'))).toContain('did not answer within timeout-seconds (ETIMEDOUT). It may still be minting: the post step asks it to revoke whatever it made for this job.');
    const lease = JSON.parse(main.state.broker!).leases[0] as string;
    // The broker carries on and makes it; the job never sees it.
    while (!w.ledgerRows().some((r) => r.lease === lease && r.state === 'live')) await new Promise((r) => setTimeout(r, 50));
    const made = w.ledgerRows().find((r) => r.lease === lease)!;
    expect(w.emu.model.tokenWorks(w.emu.model.tokens.get(made.id)!)).toBe(true);
    const post = await j.post();
    expect(post.log).toContain(`The broker revoked api-token '${made.name}' (id ${made.id}).`);
    expect(w.emu.model.tokenWorks(w.emu.model.tokens.get(made.id)!)).toBe(false);
  });

  it('without id-token: write: main says how to fix it, and asks nothing of the broker', async () => {
    const j = job({}, { permissions: {} });
    const before = w.audit().length;
    const main = await j.main();
    expect(main.exitCode).toBe(1);
    expect(main.processEnv.ACTIONS_ID_TOKEN_REQUEST_URL).toBeUndefined();
    expect(main.log.find((l) => l.startsWith('Error:'))).toContain('This job cannot get a GitHub OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set). Give the job `permissions: id-token: write`');
    expect(w.audit().length).toBe(before);
    const post = await j.post();
    expect(post.log).toContain('Nothing to revoke: the main step did not ask the broker for a credential.');
  });

  it('a policy that does not match: main fails naming the claims and what the policy expects; nothing is minted', async () => {
    const j = job({ 'broker-policy': 'production' });
    const before = w.emu.requests.length;
    const main = await j.main();
    expect(main.exitCode).toBe(1);
    const error = main.log.find((l) => l.startsWith('Error:'))!;
    expect(error).toContain("refused (403 policy_refused): policy 'production' does not match this job: environment (expected production, token has none)");
    expect(error).toContain("This job's OIDC claims do not match policy 'production'");
    expect(w.emu.requests.length).toBe(before);
    const post = await j.post();
    // The broker refused: post neither asks it to revoke nor warns that it could not.
    expect(post.log).toContain("Nothing to revoke: the broker refused the main step's request (or was not reached), so it made nothing for this job.");
    expect(post.annotations).toEqual([]);
    // The same job in the environment the policy names is granted.
    const ok = job({ 'broker-policy': 'production' }, { environment: 'production' });
    const granted = await ok.main();
    expect(granted.exitCode, granted.log.join('\n')).toBe(0);
    await ok.post();
    expect(await statusWith(w.emu, granted.outputs.token!)).toBe(401);
  });

  it("with step debug, main shows the OIDC token's claims (never the token), ready for npm run broker -- explain --claims", async () => {
    const j = job({}, { stepDebug: true });
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    const line = main.debug.find((l) => l.includes("The OIDC token's claims"))!;
    const claims = JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>;
    expect(claims).toMatchObject({ repository_id: '123456789', repository_owner_id: '987654', ref: 'refs/heads/main', aud: AUDIENCE });
    for (const jwt of main.masks.filter((m) => m.split('.').length === 3)) expect(line).not.toContain(jwt);
    await j.post();
  });

  it('a wrong broker-audience: main fails saying so; post says nothing was minted, and does not warn it could not revoke (issue 29)', async () => {
    const j = job({ 'broker-audience': 'https://not-the-broker.example' });
    const before = w.emu.requests.length;
    const main = await j.main();
    expect(main.exitCode).toBe(1);
    expect(main.log.find((l) => l.startsWith('Error:'))).toContain('broker-audience (now https://not-the-broker.example) must be the audience the broker is configured with.');
    expect(w.emu.requests.length).toBe(before);
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    expect(post.annotations).toEqual([]);
    expect(post.log.join('\n')).not.toContain('Could not ask the broker to revoke');
    expect(post.log).toContain("Nothing to revoke: the broker refused the main step's request (or was not reached), so it made nothing for this job.");
  });

  it('keypair-alias through the broker: the same keypair check with both factors; keypair-id is set; a wrong alias fails main and post still revokes (issue 29)', async () => {
    const j = job({ 'client-certificate-for-job': 'true', 'keypair-alias': KEYPAIR_ALIAS });
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(main.outputs['keypair-id']).toBe(w.s.keypair.id);
    expect(main.log.join('\n')).toContain(`Keypair check: keypair '${KEYPAIR_ALIAS}' (id ${w.s.keypair.id}) is listed for user ${w.s.signer.id}; may sign: is_signable_by_me: true`);
    const checked = w.emu.requests.filter((r) => r.path.startsWith('/signingmanager/api/v1/keypairs'));
    expect(checked.at(-1)).toMatchObject({ method: 'GET', servername: w.emu.clientAuthHost.split(':')[0], hadApiKey: true, clientCertUser: w.s.signer.id });
    await j.post();
    expect(await statusWith(w.emu, main.outputs.token!)).toBe(401);

    const wrong = job({ 'client-certificate-for-job': 'true', 'keypair-alias': 'no-such-keypair' });
    const failed = await wrong.main();
    expect(failed.exitCode).toBe(1);
    expect(failed.log.find((l) => l.startsWith('Error:'))).toContain("Software Trust lists no keypair 'no-such-keypair' that this user may use");
    const post = await wrong.post();
    expect(post.exitCode).toBe(0);
    expect(post.log.join('\n')).toMatch(/The broker revoked api-token/);
    expect(wrong.runnerTempFiles()).toEqual([]);
  });

  it('an unreachable broker: main says so and names the URL', async () => {
    const j = job({ 'broker-url': 'https://localhost:1' });
    const main = await j.main();
    expect(main.exitCode).toBe(1);
    expect(main.log.find((l) => l.startsWith('Error:'))).toContain('The broker at localhost:1 could not be reached (ECONNREFUSED). Check broker-url');
  });

  it('a broker whose certificate does not name the host it was reached by is refused: TLS is verified', async () => {
    // broker.localhost is loopback (RFC 6761), so the same broker answers; its certificate names localhost only.
    const j = job({ 'broker-url': `https://broker.localhost:${new URL(w.url).port}` });
    const before = w.audit().length;
    const main = await j.main();
    expect(main.exitCode).toBe(1);
    expect(main.log.find((l) => l.startsWith('Error:'))).toBe(
      `Error: The TLS certificate of the broker at broker.localhost:${new URL(w.url).port} could not be verified (ERR_TLS_CERT_ALTNAME_INVALID): the broker must present a certificate for broker.localhost:${new URL(w.url).port} from a CA this runner trusts (a private CA: put its certificate in the tls-ca-certificates input; NODE_EXTRA_CA_CERTS is not used).`,
    );
    // The OIDC token never reached it: no decision was logged.
    expect(w.audit().length).toBe(before);
  });

  it('preflight asks /v1/check: the decision and what would be minted, nothing minted', async () => {
    const j = job({ preflight: 'true' });
    const before = w.emu.requests.length;
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(main.log).toContain(`[PASS] OIDC token: the job has id-token: write; a token for audience ${AUDIENCE} was issued.`);
    expect(main.log.find((l) => l.startsWith('[PASS] policy:'))).toContain(`policy release matches this job: it would mint an API token for service user ${w.s.signer.id} on ${w.emu.host}`);
    expect(w.emu.requests.length).toBe(before);
    const refused = job({ preflight: 'true', 'broker-policy': 'production' });
    const r = await refused.main();
    expect(r.exitCode).toBe(1);
    expect(r.log.find((l) => l.startsWith('[FAIL] policy:'))).toContain('environment (expected production, token has none)');
  });

  // The documented workflows with broker-url (README.md, docs/*.md; documented-workflows.test.ts runs the others), with
  // the permissions they give the job: the broker's URL and audience are this world's, as the others get the emulator's host.
  const pages = ['README.md', ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const snippets = [
    ...pages.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)].filter((m) => m[1]!.includes('broker-url:')).map((m) => [file, m[1]!] as const),
    ),
    // And every example workflow with broker-url (documented-workflows.test.ts runs the others).
    ...readdirSync('examples').filter((f) => /\.ya?ml$/.test(f)).map((f) => [`examples/${f}`, readFileSync(`examples/${f}`, 'utf8')] as const).filter(([, text]) => text.includes('broker-url:')),
  ];
  it('runs the broker example of examples/ too', () => expect(snippets.map(([f]) => f)).toContain('examples/broker-release.yml'));
  /** `${{ vars.X }}` as the documented-workflows table fills it: the world's keypair. */
  const vars: Record<string, string> = { 'vars.SM_KEYPAIR_ALIAS': KEYPAIR_ALIAS };
  const filled = (w: Record<string, string> = {}) => Object.fromEntries(Object.entries(w).map(([k, v]) => [k, String(v).replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_m, n: string) => vars[n] ?? `<no value for ${n}>`)]));
  it.each(snippets)('the documented workflow in %s runs: main and post succeed, the token is dead afterwards', async (_file, text) => {
    const doc = parse(text) as { jobs?: Record<string, unknown>; permissions?: JobOptions['permissions']; steps?: { uses?: string; with?: Record<string, string> }[] };
    const jobDoc = (doc.jobs ? Object.values(doc.jobs)[0] : doc) as typeof doc;
    const step = jobDoc.steps!.find((s) => /d1-token-action@/.test(s.uses ?? ''))!;
    const j = job({ ...filled(step.with), 'broker-url': w.url, 'broker-audience': AUDIENCE }, { permissions: jobDoc.permissions ?? {} });
    const main = await j.main();
    expect(main.outcome, main.log.join('\n')).toBe('success');
    if (step.with?.['keypair-alias']) expect(main.outputs['keypair-id']).toBe(w.s.keypair.id);
    expect(await statusWith(w.emu, main.outputs.token!)).toBe(200);
    const post = await j.post();
    expect(post.outcome).toBe('success');
    expect(await statusWith(w.emu, main.outputs.token!)).toBe(401);
  });

  it('client-certificate-for-job through the broker: the CSR goes out, the key stays; both factors work, and neither after post', async () => {
    const j = job({ 'broker-policy': 'signing', 'client-certificate-for-job': 'true', 'export-env': 'true' });
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    const token = main.outputs.token!;
    const password = main.outputs['job-certificate-password']!;
    const pfx = readFileSync(main.outputs['job-certificate-file']!);
    expect(main.env).toMatchObject({ DC_API_KEY: token, SM_API_KEY: token, SM_CLIENT_CERT_FILE: main.outputs['job-certificate-file'], SM_CLIENT_CERT_PASSWORD: password });
    // What went to the broker was a CSR, never a private key.
    const csrReq = w.emu.requests.find((r) => r.method === 'POST' && r.path === '/account/api/v1/client-auth-certificate' && (r.body as { name?: string }).name?.startsWith(main.outputs['token-name']!));
    expect(JSON.stringify(csrReq!.body)).toContain('BEGIN CERTIFICATE REQUEST');
    expect(JSON.stringify(csrReq!.body)).not.toContain('PRIVATE KEY');
    expect(await softwareTrustStatus(w.emu, token, pfx, password)).toBe(200);
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    expect(j.runnerTempFiles()).toEqual([]);
    expect(await softwareTrustStatus(w.emu, token, pfx, password)).not.toBe(200);
    expect(w.emu.model.users.get(main.outputs['ephemeral-user-id']!)).toBeUndefined();
    expect(scanJob(j, { ...secrets(token), password }, { allowInOutput: { token: 'minted', 'job-certificate-password': 'password' }, allowInEnv: ['minted', 'password'] })).toEqual([]);
  });
});
