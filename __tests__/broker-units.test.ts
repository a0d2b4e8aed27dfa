/**
 * The broker's policy file and the action's broker inputs, as units (no node:sqlite: these run on Node 20 too).
 */
import { describe, expect, it } from 'vitest';
import { jobClaims } from '../harness/oidc-issuer.js';
import { decide, explainPolicy, matches, matchSteps, parsePolicies } from '../broker/policy.js';
import { parseBrokerInputs, parseCredential } from '../src/job/broker-client.js';
import { parseLeases } from '../src/job/broker.js';

const ids = { repository_id: '123', repository_owner_id: '456', event_name: '*' };
const policy = (over: Record<string, unknown> = {}) => ({ name: 'p', match: ids, grant: { serviceUserId: 'u-1' }, ...over });

describe('policy file', () => {
  it('refuses a policy that does not pin the repository and its owner by id', () => {
    expect(() => parsePolicies({ policies: [policy({ match: { repository_owner_id: '456', repository: 'o/r' } })] })).toThrow(
      "policy file: policies[0] (p): match.repository_id is required: trust follows the repository's id, not its name",
    );
    expect(() => parsePolicies({ policies: [policy({ match: { repository_id: '123' } })] })).toThrow('match.repository_owner_id is required');
  });

  it('refuses patterns in ids, unknown claims, two grants or none, a bad lifetime, a name used twice', () => {
    expect(() => parsePolicies({ policies: [policy({ match: { ...ids, repository_id: '12*' } })] })).toThrow('repository_id must be the numeric id exactly (no patterns)');
    expect(() => parsePolicies({ policies: [policy({ match: { ...ids, refs: 'refs/heads/main' } })] })).toThrow('match.refs is not a claim a policy can test');
    expect(() => parsePolicies({ policies: [policy({ grant: { serviceUserId: 'u', scope: 'Software Trust: Signer' } })] })).toThrow('grant needs exactly one of serviceUserId');
    expect(() => parsePolicies({ policies: [policy({ grant: {} })] })).toThrow('grant needs exactly one of serviceUserId');
    expect(() => parsePolicies({ policies: [policy({ grant: { scope: 'Nowhere: Signer' } })] })).toThrow("grant.scope: line 1: unknown manager 'Nowhere'");
    expect(() => parsePolicies({ policies: [policy({ lifetimeDays: 8 })] })).toThrow('lifetimeDays must be a whole number from 0 to 7');
    expect(() => parsePolicies({ policies: [policy(), policy()] })).toThrow('name is used twice');
    expect(() => parsePolicies({ rules: [] })).toThrow('expected {"policies": [...]}');
  });

  it('matches every listed claim; `*` is any run of characters within a segment and nothing else is special', () => {
    const [p] = parsePolicies({ policies: [policy({ match: { ...ids, ref: ['refs/heads/main', 'refs/tags/v*'], environment: 'prod' } })] });
    const claims = { repository_id: '123', repository_owner_id: '456', event_name: 'push', ref: 'refs/tags/v1.2.3', environment: 'prod' };
    expect(decide([p!], 'p', claims)).toEqual({ ok: true, policy: p });
    expect(decide([p!], 'p', { ...claims, ref: 'refs/tags/x1' })).toMatchObject({ ok: false, mismatches: [{ claim: 'ref', actual: 'refs/tags/x1' }] });
    expect(decide([p!], 'p', { ...claims, environment: undefined })).toMatchObject({ ok: false, mismatches: [{ claim: 'environment', expected: ['prod'] }] });
    const [dots] = parsePolicies({ policies: [policy({ match: { ...ids, ref: 'refs/heads/ma.n' } })] });
    expect(decide([dots!], 'p', { ...claims, ref: 'refs/heads/main' }).ok).toBe(false);
    expect(decide([p!], 'q', claims)).toEqual({ ok: false, code: 'unknown_policy', policy: 'q' });
  });
});

describe('policy language: patterns that cannot over-match', () => {
  const one = (claim: string, pats: string | string[]) => parsePolicies({ policies: [policy({ match: { ...ids, [claim]: pats } })] })[0]!;
  const base = { repository_id: '123', repository_owner_id: '456', event_name: 'push' };
  const admits = (claim: string, pats: string | string[], value: string) => decide([one(claim, pats)], 'p', { ...base, [claim]: value }).ok;

  it('`*` stays within one /-separated segment and does not cross @; `**` crosses both', () => {
    expect(admits('ref', 'refs/tags/v*', 'refs/tags/v1.2.3')).toBe(true);
    expect(admits('ref', 'refs/tags/v*', 'refs/tags/v1/evil')).toBe(false);
    expect(admits('ref', 'refs/heads/*', 'refs/heads/feature/x')).toBe(false);
    expect(admits('ref', 'refs/heads/**', 'refs/heads/feature/x')).toBe(true);
    const wf = 'octo-org/release-tools/.github/workflows/release.yml';
    expect(admits('job_workflow_ref', `octo-org/*/.github/workflows/release.yml@refs/heads/main`, `${wf}@refs/heads/main`)).toBe(true);
    expect(admits('job_workflow_ref', 'octo-org/release-tools/.github/workflows/*', `${wf}@refs/heads/main`)).toBe(false);
    expect(admits('job_workflow_ref', `${wf}@refs/**`, `${wf}@refs/tags/v1`)).toBe(true);
    expect(admits('job_workflow_ref', `${wf}@*`, `${wf}@refs/tags/v1`)).toBe(false);
    expect(admits('sub', 'repo:octo-org/*:ref:refs/heads/main', 'repo:octo-org/x@evil:ref:refs/heads/main')).toBe(false);
    expect(admits('ref', 'refs/heads/ma*n', 'refs/heads/main')).toBe(true);
    expect(admits('ref', 'refs/heads/ma*n', 'refs/heads/mai')).toBe(false);
    expect(() => one('ref', 'refs/***')).toThrow("a pattern has '***'");
  });

  it('a 1,000-character ref against a 7-star pattern: a bounded number of steps (no backtracking), well under 10 ms', () => {
    const pattern = 'refs/heads/*a*a*a*a*a*a*a*b';
    const ref = `refs/heads/${'a'.repeat(989)}`;
    expect(ref).toHaveLength(1000);
    matchSteps.count = 0;
    expect(matches(pattern, ref)).toBe(false);
    const steps = matchSteps.count;
    // Timed warm (the first call also compiles the matcher: about 8 ms on this machine, 0.9 ms warm); the step count
    // above is the bound that does not depend on the machine.
    const t0 = performance.now();
    matches(pattern, ref);
    const ms = performance.now() - t0;
    // The automaton's bound: (value length + 1) x (pattern tokens + 1), twice (a step and a closure per character).
    expect(steps).toBeLessThanOrEqual(2 * (ref.length + 1) * (pattern.length + 1));
    expect(ms).toBeLessThan(10);
    expect(admits('ref', pattern, ref)).toBe(false);
  });

  it('`!pattern` excludes; a list of exclusions alone is refused', () => {
    expect(admits('ref', ['refs/heads/**', '!refs/heads/dependabot/**'], 'refs/heads/release/1')).toBe(true);
    expect(admits('ref', ['refs/heads/**', '!refs/heads/dependabot/**'], 'refs/heads/dependabot/npm/x')).toBe(false);
    expect(() => one('ref', ['!refs/heads/x'])).toThrow('lists only exclusions');
  });

  it('compares repository, repository_owner and environment without case (as GitHub does), other claims exactly', () => {
    expect(admits('repository', 'Octo-Org/Release-Tools', 'octo-org/release-tools')).toBe(true);
    expect(admits('repository_owner', 'octo-org', 'OCTO-ORG')).toBe(true);
    expect(admits('environment', 'Production', 'production')).toBe(true);
    expect(admits('ref', 'refs/heads/Main', 'refs/heads/main')).toBe(false);
  });

  it('job_workflow_sha, workflow_sha, enterprise_id, base_ref, head_ref are matchable (enterprise_id exactly)', () => {
    expect(admits('job_workflow_sha', 'a'.repeat(40), 'a'.repeat(40))).toBe(true);
    expect(admits('workflow_sha', 'b'.repeat(40), 'c'.repeat(40))).toBe(false);
    expect(admits('enterprise_id', '4242', '4242')).toBe(true);
    expect(() => one('enterprise_id', '42*')).toThrow('enterprise_id must be the numeric id exactly');
    expect(admits('base_ref', 'main', 'main')).toBe(true);
    expect(admits('head_ref', 'feature/*', 'feature/x')).toBe(true);
  });

  it('a policy that does not pin event_name is refused unless it says "*" on purpose', () => {
    expect(() => parsePolicies({ policies: [policy({ match: { repository_id: '123', repository_owner_id: '456' } })] })).toThrow('match.event_name is required');
    expect(admits('event_name', '*', 'pull_request_target')).toBe(true);
  });

  it('explains a decision claim by claim (what explain prints): the pattern that admitted, the exclusion that refused', () => {
    const p = one('ref', ['refs/heads/**', '!refs/heads/tmp/**']);
    expect(explainPolicy(p, { ...base, ref: 'refs/heads/tmp/x' })).toContainEqual({ claim: 'ref', expected: ['refs/heads/**', '!refs/heads/tmp/**'], actual: 'refs/heads/tmp/x', ok: false, by: '!refs/heads/tmp/**' });
    expect(explainPolicy(p, { ...base, ref: 'refs/heads/main' })).toContainEqual(expect.objectContaining({ claim: 'ref', ok: true, by: 'refs/heads/**' }));
  });

  it('per-policy maxAgeMinutes (default 60) and mode (default enforce)', () => {
    expect(one('ref', 'x')).toMatchObject({ maxAgeMinutes: 60, mode: 'enforce' });
    expect(parsePolicies({ policies: [policy({ maxAgeMinutes: 15, mode: 'audit' })] })[0]).toMatchObject({ maxAgeMinutes: 15, mode: 'audit' });
    expect(() => parsePolicies({ policies: [policy({ mode: 'dry-run' })] })).toThrow('mode must be "enforce" or "audit"');
  });
});

describe('the stand-in issuer: GitHub\'s immutable sub', () => {
  it('produces repo:<owner>@<owner id>/<repo>@<repo id>:<context> on request; segment patterns tell the two forms apart', () => {
    const g = { repository: 'octo-org/release-tools', repository_id: '123', repository_owner_id: '456', ref: 'refs/heads/main', check_run_id: '9' };
    expect(jobClaims(g).sub).toBe('repo:octo-org/release-tools:ref:refs/heads/main');
    const claims = jobClaims(g, undefined, { immutableSub: true });
    expect(claims).toMatchObject({ sub: 'repo:octo-org@456/release-tools@123:ref:refs/heads/main', check_run_id: '9' });
    const sub = claims.sub as string;
    expect(matches('repo:*@456/*@123:ref:refs/heads/main', sub)).toBe(true);
    expect(matches('repo:*/*:ref:refs/heads/main', sub)).toBe(false);
    expect(matches('repo:**:ref:refs/heads/main', sub)).toBe(true);
  });
});

describe('policy file: strict keys', () => {
  it.each([
    ['clientCertifcate', 'clientCertificate'],
    ['lifetimeDay', 'lifetimeDays'],
    ['maxAgeMinute', 'maxAgeMinutes'],
  ])('a typo (%s) is an error naming the key and the nearest known name', (typo, meant) => {
    expect(() => parsePolicies({ policies: [policy({ [typo]: 1 })] })).toThrow(`policy file: policies[0] (p): "${typo}" is not a known key (did you mean "${meant}"?)`);
  });

  it('in the grant and at the top level too', () => {
    expect(() => parsePolicies({ policies: [policy({ grant: { serviceUserID: 'u-1' } })] })).toThrow('grant."serviceUserID" is not a known key (did you mean "serviceUserId"?)');
    expect(() => parsePolicies({ policies: [], policy: [] })).toThrow('"policy" is not a known key (did you mean "policies"?)');
  });
});

describe('the action: broker inputs', () => {
  const inputs = (given: Record<string, string>) => (name: string) => given[name] ?? '';
  const base = { 'broker-url': 'https://d1-broker.example.com/', 'broker-policy': 'release' };

  it('defaults the audience to the broker URL\'s origin', () => {
    expect(parseBrokerInputs(inputs(base))).toMatchObject({ url: 'https://d1-broker.example.com', host: 'd1-broker.example.com', audience: 'https://d1-broker.example.com', policy: 'release' });
    expect(parseBrokerInputs(inputs({ ...base, 'broker-audience': 'https://aud' })).audience).toBe('https://aud');
  });

  it('refuses a bootstrap secret beside it, an http URL, no policy, and inputs the policy decides', () => {
    expect(() => parseBrokerInputs(inputs({ ...base, 'api-key': 'k' }))).toThrow("Inputs 'broker-url' and 'api-key': are two ways to authenticate");
    expect(() => parseBrokerInputs(inputs({ ...base, 'broker-url': 'http://d1-broker.example.com' }))).toThrow("Input 'broker-url': must be an https:// URL");
    expect(() => parseBrokerInputs(inputs({ ...base, 'broker-url': 'https://u:p@d1-broker.example.com' }))).toThrow('must not contain credentials');
    expect(() => parseBrokerInputs(inputs({ 'broker-url': base['broker-url'] }))).toThrow("Input 'broker-policy': is required with broker-url");
    expect(() => parseBrokerInputs(inputs({ ...base, 'service-user-id': 'u' }))).toThrow("Input 'service-user-id': does not apply with broker-url: the broker's policy decides it");
    expect(() => parseBrokerInputs(inputs({ ...base, 'cleanup-stale': 'true' }))).toThrow("Input 'cleanup-stale': does not apply with broker-url");
  });

  it('reads back only the lease list main writes', () => {
    expect(parseLeases('')).toEqual([]);
    expect(parseLeases('{"leases":["abcdefghijklmnop"]}')).toEqual(['abcdefghijklmnop']);
    for (const bad of ['x', '{"leases":"abcdefghijklmnop"}', '{"leases":["short"]}', '{"leases":["../../etc/passwd-xxxxxx"]}']) expect(parseLeases(bad)).toBeUndefined();
  });

  it('takes a broker answer only when every field parses', () => {
    const good = { lease: 'l', kind: 'api-token', token: 'tok-0123456789', tokenId: 't1', tokenName: 'gha_x', userId: 'u1', serviceUserId: '', endDate: '2027-01-02', host: 'one.digicert.com', scope: [] };
    expect(parseCredential(good)).toMatchObject({ token: 'tok-0123456789', certificate: undefined });
    for (const [k, v] of Object.entries({ token: 'has space', tokenName: 'a/b', userId: '../x', endDate: '2027-13-01', host: 'evil.com/x', kind: 'root' })) {
      expect(parseCredential({ ...good, [k]: v }), k).toBeUndefined();
    }
    expect(parseCredential({ ...good, certificate: { id: 'c1', pem: 'not a pem' } })).toBeUndefined();
  });
});
