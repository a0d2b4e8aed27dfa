/**
 * Property: whatever action.yml's defaults produce is valid. For each minimum a user must give (one bootstrap
 * credential, and service-user-id or scope), every declared input either left to its default or written out with
 * that same default parses, to the same configuration; and run through the runner model (which passes every
 * default as INPUT_*), main and post succeed without a single warning.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadActionDefinition, resolveInputs } from '../harness/action-definition.js';
import { ACTION_YML } from '../harness/runner.js';
import { makeCert, toP12Base64 } from '../emulator/pki.js';
import { parseConfig, type Config } from '../src/runner/inputs.js';
import { loadClientCertificate } from '../src/keys/bootstrap-certificate.js';
import { useTenant, type Tenant } from './support/emulator.js';

const def = loadActionDefinition(ACTION_YML);
const withDefault = def.inputNames.filter((n) => def.defaults[n] !== '');
const run = { repository: 'octo-org/release-tools', runId: '123', runAttempt: '1', job: 'sign' };
const now = new Date();
const YEAR = 365 * 86_400_000;

type Minimum = [label: string, inputs: (t?: Tenant) => Record<string, string>];
let p12: string;
const minimums: Minimum[] = [
  ['api-key + service-user-id', (t) => ({ 'api-key': t?.s.bootstrap.apiKey ?? 'k3y', 'service-user-id': t?.s.signer.id ?? 'abc-123' })],
  ['api-key + scope', (t) => ({ 'api-key': t?.s.bootstrap.apiKey ?? 'k3y', scope: 'Software Trust: Signer' })],
  ['client-certificate + service-user-id', (t) => ({ 'client-certificate': p12, 'client-certificate-password': 'pw', 'service-user-id': t?.s.signer.id ?? 'abc-123' })],
  ['client-certificate + scope', () => ({ 'client-certificate': p12, 'client-certificate-password': 'pw', scope: 'Software Trust: Signer' })],
];

/** Comparable parts of a configuration (the token name has a random suffix; TLS objects are not comparable). */
function shape(c: Config): unknown {
  const { tokenName: _n, scoped, auth, ...rest } = c;
  return { ...rest, auth: auth.kind, scoped: scoped && { ...scoped, email: undefined } };
}

describe('action.yml defaults never refuse themselves', () => {
  beforeAll(() => {
    p12 = toP12Base64(makeCert({ commonName: 'prop', clientAuth: true, notAfter: new Date(Date.now() + YEAR) }), 'pw');
  });

  it('action.yml still declares defaults to check', () => {
    expect(withDefault.length).toBeGreaterThanOrEqual(5);
  });

  it.each(minimums.map((m) => [m[0], m] as const))('%s: every subset of defaults written out parses, to the same config', (_l, [, minimum]) => {
    const given = minimum();
    const reference = parseConfig((n) => resolveInputs(def, given).inputs[n] ?? '', {}, run, now, loadClientCertificate);
    // 2^k subsets of the inputs that have a default, each written in `with:` with exactly its default value.
    for (let mask = 0; mask < 1 << withDefault.length; mask++) {
      const written = { ...given };
      withDefault.forEach((name, i) => {
        if (mask & (1 << i)) written[name] = def.defaults[name]!;
      });
      const { inputs, warnings } = resolveInputs(def, written);
      expect(warnings).toEqual([]);
      const c = parseConfig((n) => inputs[n] ?? '', {}, run, now, loadClientCertificate);
      expect(shape(c)).toEqual(shape(reference));
    }
  });
});

describe('through the runner model: defaults + the minimum, main and post, no warning', () => {
  const tenant = useTenant();
  let t: Tenant;
  beforeAll(() => {
    t = tenant.tenant;
    const pair = t.emu.issueClientCert(t.s.bootstrap.user.id, { notAfter: new Date(Date.now() + YEAR) });
    p12 = toP12Base64(pair, 'pw');
  });

  it.each(minimums.map((m) => [m[0], m] as const))('%s', async (_l, [, minimum]) => {
    const j = tenant.job({ ...minimum(t), host: t.emu.host });
    const main = await j.main();
    expect(main.outcome, main.log.join('\n')).toBe('success');
    expect(main.annotations).toEqual([]);
    const post = await j.post();
    expect(post.outcome, post.log.join('\n')).toBe('success');
    expect(post.annotations).toEqual([]);
  });
});
