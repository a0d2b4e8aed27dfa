/**
 * The broker's policy file and the action's broker inputs, as units (no node:sqlite: these run on Node 20 too).
 */
import { describe, expect, it } from 'vitest';
import { decide, parsePolicies } from '../broker/policy.js';
import { parseBrokerInputs, parseCredential } from '../src/job/broker-client.js';
import { parseLeases } from '../src/job/broker.js';

const ids = { repository_id: '123', repository_owner_id: '456' };
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

  it('matches every listed claim; `*` is any run of characters and nothing else is special', () => {
    const [p] = parsePolicies({ policies: [policy({ match: { ...ids, ref: ['refs/heads/main', 'refs/tags/v*'], environment: 'prod' } })] });
    const claims = { repository_id: '123', repository_owner_id: '456', ref: 'refs/tags/v1.2.3', environment: 'prod' };
    expect(decide([p!], 'p', claims)).toEqual({ ok: true, policy: p });
    expect(decide([p!], 'p', { ...claims, ref: 'refs/tags/x1' })).toMatchObject({ ok: false, mismatches: [{ claim: 'ref', actual: 'refs/tags/x1' }] });
    expect(decide([p!], 'p', { ...claims, environment: undefined })).toMatchObject({ ok: false, mismatches: [{ claim: 'environment', expected: ['prod'] }] });
    const [dots] = parsePolicies({ policies: [policy({ match: { ...ids, ref: 'refs/heads/ma.n' } })] });
    expect(decide([dots!], 'p', { ...claims, ref: 'refs/heads/main' }).ok).toBe(false);
    expect(decide([p!], 'q', claims)).toEqual({ ok: false, code: 'unknown_policy', policy: 'q' });
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
