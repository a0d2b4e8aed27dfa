/**
 * The runner model's `id-token: write`, with a stand-in action: the request variables exist only with that
 * permission (NodeScriptActionHandler.RunAsync sets them from the system connection's GenerateIdTokenUrl), the request
 * token is masked from the start (Worker.InitializeSecretMasker), and the URL answers as GitHub's token service does
 * (getIDToken's protocol) with a JWT carrying the job's claims, verifiable with the issuer's published keys.
 */
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcIssuer } from '../harness/oidc-issuer.js';
import { RunnerJob, type JobOptions } from '../harness/runner.js';
import { systemClock } from '../src/platform/clock.js';

const scratch = mkdtempSync(join(tmpdir(), 'runner-oidc-'));
let issuer: OidcIssuer;
const jobs: RunnerJob[] = [];
beforeAll(async () => {
  issuer = await OidcIssuer.start({ clock: systemClock });
});
afterAll(async () => {
  for (const j of jobs) j.cleanup();
  await issuer?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** A stand-in action that reports the variables and, when it can, asks for a token as getIDToken does. */
const ACTION = `
const url = process.env.ACTIONS_ID_TOKEN_REQUEST_URL, token = process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
console.log('vars ' + JSON.stringify({ url: url !== undefined, token: token !== undefined }));
if (url) {
  console.log('request token ' + token);
  const res = await fetch(url + '&audience=' + encodeURIComponent('https://broker.test'), { headers: { authorization: 'Bearer ' + token, accept: 'application/json' } });
  const body = await res.json();
  console.log('jwt ' + body.value);
  const bad = await fetch(url, { headers: { authorization: 'Bearer wrong' } });
  console.log('wrong bearer ' + bad.status);
}`;

function job(more: Partial<JobOptions>): RunnerJob {
  const file = join(scratch, `a${jobs.length}.mjs`);
  writeFileSync(file, ACTION);
  // The stand-in action uses fetch, which trusts NODE_EXTRA_CA_CERTS (the action itself does not; it takes tls-ca-certificates).
  const ca = join(scratch, 'issuer-ca.pem');
  writeFileSync(ca, issuer.caPem);
  const j = new RunnerJob({ inputs: {}, entry: file, idTokenService: issuer, ...more, env: { NODE_EXTRA_CA_CERTS: ca, ...more.env } });
  jobs.push(j);
  return j;
}

const b64json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('runner model: permissions id-token: write', () => {
  it('without it (or with id-token: read) the step has neither variable', async () => {
    for (const permissions of [{}, { 'id-token': 'read' as const }, { contents: 'write' as const }]) {
      const main = await job({ permissions }).main();
      expect(main.log).toContain('vars {"url":false,"token":false}');
      expect(Object.keys(main.processEnv).filter((k) => k.startsWith('ACTIONS_ID_TOKEN'))).toEqual([]);
    }
  });

  it('with it, both steps have them; the request token is masked; the token service answers with the job\'s claims', async () => {
    const j = job({ permissions: { 'id-token': 'write' }, environment: 'production', github: { repository_id: '42', run_id: '777', run_attempt: '3' } });
    const main = await j.main();
    expect(main.log).toContain('vars {"url":true,"token":true}');
    expect(main.log).toContain('request token ***');
    expect(main.log).toContain('wrong bearer 401');
    const jwt = main.stdout.split('\n').find((l) => l.startsWith('jwt '))!.slice(4);
    const [h, p, s] = jwt.split('.');
    expect(b64json(h!)).toMatchObject({ typ: 'JWT', alg: 'RS256' });
    const claims = b64json(p!);
    expect(claims).toMatchObject({
      iss: issuer.issuer,
      aud: 'https://broker.test',
      sub: 'repo:octo-org/release-tools:environment:production',
      environment: 'production',
      repository: 'octo-org/release-tools',
      repository_id: '42',
      repository_owner_id: '987654',
      run_id: '777',
      run_attempt: '3',
      ref: 'refs/heads/main',
      event_name: 'push',
      job_workflow_ref: 'octo-org/release-tools/.github/workflows/release.yml@refs/heads/main',
    });
    // GitHub's example token: nbf 10 minutes before iat, exp 5 minutes after.
    expect([(claims.iat as number) - (claims.nbf as number), (claims.exp as number) - (claims.iat as number)]).toEqual([600, 300]);
    const jwk = issuer.jwks().keys.find((k) => k.kid === b64json(h!).kid)!;
    expect(verify('sha256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk as never, format: 'jwk' }), Buffer.from(s!, 'base64url'))).toBe(true);
    const post = await j.post();
    expect(post.log).toContain('vars {"url":true,"token":true}');
    expect(post.processEnv.ACTIONS_ID_TOKEN_REQUEST_TOKEN).toBe(main.processEnv.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
  });

  it('an earlier step\'s GITHUB_ENV cannot replace them: the runner sets them after the env context', async () => {
    const j = job({ permissions: { 'id-token': 'write' }, env: { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://attacker.invalid/?x=1' } });
    const main = await j.main();
    expect(main.processEnv.ACTIONS_ID_TOKEN_REQUEST_URL).toMatch(/^https:\/\/localhost:\d+\/_apis\//);
  });
});
