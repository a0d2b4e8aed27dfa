/**
 * The broker as its operator meets it: mistakes in the config and policy files stop start-up (naming the key, its
 * file and the nearest known name), --check-config and --help, a SIGHUP-style reload that keeps the old files when
 * the new ones are bad, the audit line (the secret's SHA-256; a mint it cannot record is refused and undone), and the
 * HTTP listener (the bearer before the body, a 413 that arrives, TLS 1.3 only, the documented routes).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedgerFolder, parseCli, USAGE } from '../broker/cli.js';
import { GENERIC_REFUSAL, ROUTES } from '../broker/server.js';
import { runProbe } from '../broker/probe.js';
import { AUDIENCE, hasSqlite, startWorld, type BrokerWorld } from './support/broker.js';

const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const out: string[] = [];
  const err: string[] = [];
  const r = parseCli(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l), now: () => new Date() });
  return { code: r.kind === 'exit' ? r.code : -1, out: out.join('\n'), err: err.join('\n') };
};

describe.skipIf(!hasSqlite)('broker: the operator sees mistakes first', () => {
  let w: BrokerWorld;
  beforeAll(async () => {
    w = await startWorld();
  }, 60_000);
  afterAll(async () => w?.close());

  const editJson = (file: string, edit: (o: Record<string, unknown>) => void): string => {
    const o = JSON.parse(readFileSync(join(w.dir, file), 'utf8')) as Record<string, unknown>;
    edit(o);
    const path = join(w.dir, `edited-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(o));
    return path;
  };

  it('--help prints the usage and exits 0; an unknown option prints it and exits 2', () => {
    expect(run(['--help'])).toEqual({ code: 0, out: USAGE, err: '' });
    const bad = run(['--confg', 'x.json']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("Unknown option '--confg'");
    expect(bad.err).toContain(USAGE);
  });

  it('--check-config exits 0 on a good config and policy', () => {
    const r = run(['--check-config', '--config', w.configFile]);
    expect(r.err).toBe('');
    expect(r).toMatchObject({ code: 0, out: expect.stringContaining('is good (4 policies') });
  });

  it.each([
    ['config', 'extraCAFile', 'extraCaFile'],
    ['config', 'maxAgeMinute', 'maxAgeMinutes'],
    ['policy', 'clientCertifcate', 'clientCertificate'],
    ['policy', 'lifetimeDay', 'lifetimeDays'],
    ['policy', 'maxAgeMinute', 'maxAgeMinutes'],
  ])('a typo in the %s file (%s): --check-config exits 1 naming the key, its file and the nearest known name', (where, typo, meant) => {
    let file: string;
    let config: string;
    if (where === 'config') {
      file = editJson('broker.json', (o) => (o[typo] = 'extra-ca.pem'));
      config = file;
    } else {
      file = editJson('policy.json', (o) => ((o.policies as Record<string, unknown>[])[0]![typo] = 1));
      config = editJson('broker.json', (o) => (o.policyFile = file));
    }
    const r = run(['--check-config', '--config', config]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(file);
    expect(r.err).toContain(`"${typo}" is not a known key (did you mean "${meant}"?)`);
  });

  it('a CA file that holds no certificate, and a ledger folder that does not exist, are start-up errors with their paths', () => {
    writeFileSync(join(w.dir, 'not-a-ca.pem'), 'hello');
    const r = run(['--check-config', '--config', editJson('broker.json', (o) => (o.extraCaFile = 'not-a-ca.pem'))]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`extraCaFile: ${join(w.dir, 'not-a-ca.pem')} holds no PEM certificate`);
    expect(() => checkLedgerFolder(join(w.dir, 'no-such-folder', 'ledger.sqlite'))).toThrow(`the folder ${join(w.dir, 'no-such-folder')} does not exist`);
  });

  it('a reload with a broken policy keeps serving the old one and says why; a good one is applied', async () => {
    const policyFile = join(w.dir, 'policy.json');
    const good = readFileSync(policyFile, 'utf8');
    writeFileSync(policyFile, good.replace('"clientCertificate"', '"clientCertifcate"'));
    const refused = w.broker!.reload();
    expect(refused).toMatchObject({ ok: false, why: expect.stringContaining('"clientCertifcate" is not a known key') });
    expect(w.stderr).toContain('reload refused, still serving the previous policy and TLS files');
    expect((await w.mint(w.token())).status).toBe(201);
    // A good file without 'release': applied, and 'release' is then unknown.
    const doc = JSON.parse(good) as { policies: { name: string }[] };
    writeFileSync(policyFile, JSON.stringify({ policies: doc.policies.filter((p) => p.name !== 'release') }));
    expect(w.broker!.reload()).toEqual({ ok: true, policies: 3 });
    const gone = await w.mint(w.token());
    expect(gone.status).toBe(403);
    expect(gone.body).toEqual({ error: GENERIC_REFUSAL });
    writeFileSync(policyFile, good);
    expect(w.broker!.reload()).toEqual({ ok: true, policies: 4 });
    // A TLS key that does not pair with the certificate is refused too.
    const tlsKey = join(w.dir, 'tls.key');
    const key = readFileSync(tlsKey, 'utf8');
    writeFileSync(tlsKey, w.pki.ca.keyPem);
    expect(w.broker!.reload().ok).toBe(false);
    writeFileSync(tlsKey, key);
    expect((await w.mint(w.token())).status).toBe(201);
  });

  it('the audit line of a mint carries the secret\'s SHA-256 (never the secret) and the claims that decided', async () => {
    const a = await w.mint(w.token({ check_run_id: '31' }));
    const line = w.audit().filter((e) => e.event === 'mint').at(-1)!;
    expect(line.sha256).toBe(createHash('sha256').update(a.body.token as string).digest('hex'));
    expect(line.claims).toMatchObject({ repository_id: '123456789', event_name: 'push', ref: 'refs/heads/main', job_workflow_ref: expect.any(String), check_run_id: '31', actor_id: '583231' });
    expect(w.auditText()).not.toContain(a.body.token as string);
  });

  it('a mint the audit log cannot record is refused, and what it made is revoked', async () => {
    const tokensBefore = new Set(w.emu.model.tokens.keys());
    rmSync(w.auditFile, { force: true });
    mkdirSync(w.auditFile); // appending to a folder fails
    try {
      const a = await w.mint(w.token());
      expect(a.status).toBe(500);
      expect(a.body).toEqual({ error: { code: 'internal', message: 'the broker failed; see its log' } });
    } finally {
      rmSync(w.auditFile, { recursive: true, force: true });
    }
    const made = [...w.emu.model.tokens.values()].filter((t) => !tokensBefore.has(t.id));
    expect(made).toHaveLength(1);
    expect(w.emu.model.tokenWorks(made[0]!)).toBe(false);
    expect(w.stderr).toContain('the audit log could not be written');
  });

  it('the bearer is verified before the body is read: no token and a 1 MB body get a 401, not a 413', async () => {
    const a = await w.call('POST', '/v1/credentials', undefined, `{"policy":"release","pad":"${'x'.repeat(1024 * 1024)}"}`);
    expect(a.status).toBe(401);
  });

  it('a body over the limit gets its 413 (connection: close), not a reset', async () => {
    const token = w.token();
    const body = JSON.stringify({ policy: 'release', pad: 'x'.repeat(200 * 1024) });
    const url = new URL('/v1/credentials', w.url);
    const answer = await new Promise<{ status: number; connection: string | undefined; text: string }>((resolve, reject) => {
      const req = request(url, { method: 'POST', ca: w.pki.ca.certPem, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(answer.status).toBe(413);
    expect(answer.connection).toBe('close');
    expect(JSON.parse(answer.text)).toEqual({ error: { code: 'invalid_request', message: 'the body is larger than 65536 bytes' } });
  });

  it('TLS 1.3 only: a TLS 1.2 client is refused', async () => {
    const port = Number(new URL(w.url).port);
    const outcome = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: w.pki.ca.certPem, maxVersion: 'TLSv1.2' }, () => {
        resolve(`connected ${s.getProtocol()}`);
        s.destroy();
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(`refused ${e.code ?? e.message}`));
    });
    expect(outcome).toMatch(/^refused/);
  });

  it('probe: the exchanges that must fail do fail (exit 0); a broker that admits a stranger is caught (and its mint revoked)', async () => {
    const stranger = { repository: 'probe-org/prober', repository_id: '777001', repository_owner_id: '777002', repository_owner: 'probe-org', run_id: '777003' };
    const log: string[] = [];
    const probe = (policies: string[]) =>
      runProbe({ url: w.url, audience: AUDIENCE, policies, ca: w.pki.ca.certPem, token: async (aud) => w.issuer.token({ ...w.claims(stranger), aud }), log: (l) => log.push(l) });
    expect(await probe(['release', 'no-such-policy'])).toBe(0);
    expect(log.filter((l) => l.startsWith('ok:'))).toHaveLength(6);
    // A policy that (wrongly) admits the prober's repository.
    const policyFile = join(w.dir, 'policy.json');
    const good = readFileSync(policyFile, 'utf8');
    const doc = JSON.parse(good) as { policies: Record<string, unknown>[] };
    const release = doc.policies[0] as { grant: unknown };
    writeFileSync(policyFile, JSON.stringify({ policies: [...doc.policies, { name: 'open', match: { repository_id: stranger.repository_id, repository_owner_id: stranger.repository_owner_id, event_name: '*' }, grant: release.grant }] }));
    expect(w.broker!.reload().ok).toBe(true);
    const tokensBefore = new Set(w.emu.model.tokens.keys());
    expect(await probe(['open'])).toBe(1);
    expect(log).toContainEqual("FAIL: policy open: a stranger's token: answered 201, expected 403");
    const made = [...w.emu.model.tokens.values()].filter((t) => !tokensBefore.has(t.id));
    expect(made.map((t) => w.emu.model.tokenWorks(t))).toEqual([false]);
    writeFileSync(policyFile, good);
    expect(w.broker!.reload().ok).toBe(true);
  });

  it('a misconfigured grant: the job gets a generic 500, the operator the detail (the accounts the bootstrap can reach)', async () => {
    const policyFile = join(w.dir, 'policy.json');
    const good = readFileSync(policyFile, 'utf8');
    const doc = JSON.parse(good) as { policies: Record<string, unknown>[] };
    const broken = doc.policies.map((p) => (p.name === 'signing' ? { ...p, grant: { scope: 'Software Trust: Signer', accounts: ['acct-nowhere'] } } : p));
    writeFileSync(policyFile, JSON.stringify({ policies: broken }));
    expect(w.broker!.reload().ok).toBe(true);
    try {
      const a = await w.mint(w.token(), 'signing');
      expect(a.status).toBe(500);
      expect(a.body).toEqual({ error: { code: 'policy_unusable', message: "policy 'signing' cannot be granted as configured; the broker's operator has the detail in its log" } });
      expect(w.stderr).toContain('the bootstrap user cannot reach acct-nowhere');
    } finally {
      writeFileSync(policyFile, good);
      w.broker!.reload();
    }
  });

  it('the OpenAPI document lists exactly the server\'s routes', async () => {
    const doc = parse(readFileSync(join(__dirname, '..', 'docs', 'broker-openapi.yaml'), 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual([...ROUTES].sort());
    // And the server answers each of them (no 404), and nothing else.
    for (const route of ROUTES) {
      const [method, path] = route.split(' ') as ['GET' | 'POST', string];
      const a = await w.callText(method, path, undefined, method === 'POST' ? {} : undefined);
      expect(a.status, route).not.toBe(404);
    }
    for (const route of ['GET /v1/credentials', 'POST /healthz', 'GET /v1/leases', 'DELETE /v1/revoke']) {
      const [method, path] = route.split(' ') as ['GET' | 'POST' | 'DELETE', string];
      expect((await w.callText(method, path)).status, route).toBe(404);
    }
  });
});
