/**
 * The bundled action bootstrapping with a client authentication certificate (mutual TLS), main then post through
 * the runner harness, against the emulator's clientauth. name. Certificates are made at test time, never committed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunnerJob } from '../harness/runner.js';
import { maskedBeforeUse, scanJob } from '../harness/leaks.js';
import { encryptedKeyPem, legacyP12Base64, makeCert, mismatchedP12Base64, toP12Base64, type KeyPair } from '../emulator/pki.js';
import { statusWith, useTenant, type Tenant } from './support/emulator.js';

const env = useTenant();
let t: Tenant;
let pair: KeyPair;
let p12: string;
const password = 'Pw-4-the-P12!shown-once';
const DAY = 86_400_000;

beforeAll(() => {
  t = env.tenant;
  pair = t.emu.issueClientCert(t.s.bootstrap.user.id);
  p12 = toP12Base64(pair, password);
});

function job(inputs: Record<string, string>): RunnerJob {
  // The end-date check is off so that each step's requests are the mint's (or the revocation's) alone.
  return env.job({ 'service-user-id': t.s.signer.id, host: t.emu.host, 'expiry-warning-days': '0', ...inputs });
}

const since = (n: number) => t.emu.requests.slice(n);
const pemLines = (pem: string) => pem.split(/\r?\n/).filter((l) => l && !l.startsWith('-----'));

/** Main mints through clientauth.<host> with the certificate and no x-api-key; post revokes the same way. */
async function mintAndRevoke(j: RunnerJob, certUser = t.s.bootstrap.user.id) {
  const before = t.emu.requests.length;
  const main = await j.main();
  expect(main.exitCode, main.log.join('\n')).toBe(0);
  const token = main.outputs.token!;
  const mainReqs = since(before);
  expect(mainReqs.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['POST /account/api/v1/api-access-token 201']);
  expect(mainReqs[0]).toMatchObject({ servername: 'clientauth.localhost', host: t.emu.clientAuthHost, hadApiKey: false, clientCertUser: certUser, tokenId: undefined });
  expect(main.outputs['base-url']).toBe(`https://${t.emu.host}`);
  expect(main.state.host).toBe(t.emu.host);
  expect(Object.keys(main.state).sort()).toEqual(['broker', 'credentials', 'host', 'network']);
  expect(main.log.join('\n')).toContain(`(bootstrap: client certificate via ${t.emu.clientAuthHost})`);
  expect(await statusWith(t.emu, token)).toBe(200);

  const beforePost = t.emu.requests.length;
  const post = await j.post();
  expect(post.exitCode).toBe(0);
  const postReqs = since(beforePost);
  expect(postReqs.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([`DELETE /account/api/v1/api-access-token/${main.outputs['token-id']} 204`]);
  expect(postReqs[0]).toMatchObject({ servername: 'clientauth.localhost', hadApiKey: false, clientCertUser: certUser });
  expect(post.log.join('\n')).toContain('Revoked token');
  expect(await statusWith(t.emu, token)).toBe(401);
  expect(j.runnerTempFiles()).toEqual([]);
  return { main, post, token };
}

describe('client certificate bootstrap (mutual TLS)', () => {
  it('PKCS#12 (AES) in base64: mints and revokes on clientauth.<host>, masks first, leaks nothing', async () => {
    const j = job({ 'client-certificate': p12, 'client-certificate-password': password });
    const { main, token } = await mintAndRevoke(j);
    expect(maskedBeforeUse(main.stdout, p12)).toBe(true);
    expect(maskedBeforeUse(main.stdout, password)).toBe(true);
    expect(main.log.join('\n')).not.toContain('Warning');
    expect(scanJob(j, { p12, password, minted: token }, { allowInOutput: { token: 'minted' } })).toEqual([]);
  });

  it('a line-wrapped base64 secret (base64 without -w0) and a 3DES PKCS#12 work too', async () => {
    const tdes = toP12Base64(pair, password, '3des');
    const wrapped = tdes.replace(/.{76}/g, '$&\n');
    const j = job({ 'client-certificate': wrapped, 'client-certificate-password': password });
    const { main, token } = await mintAndRevoke(j);
    expect(maskedBeforeUse(main.stdout, tdes)).toBe(true);
    expect(scanJob(j, { p12: tdes, wrapped, password, minted: token }, { allowInOutput: { token: 'minted' } })).toEqual([]);
  });

  it('PEM certificate with an encrypted PEM key; a host given with clientauth. and https:// is not doubled', async () => {
    const key = encryptedKeyPem(pair.keyPem, password);
    const j = job({ 'client-certificate': pair.certPem, 'client-key': key, 'client-certificate-password': password, host: `https://${t.emu.clientAuthHost}/` });
    const { main, token } = await mintAndRevoke(j);
    for (const line of [...pemLines(key), ...pemLines(pair.certPem)]) expect(maskedBeforeUse(main.stdout, line), line).toBe(true);
    expect(maskedBeforeUse(main.stdout, password)).toBe(true);
    const secrets: Record<string, string> = { key, cert: pair.certPem, password, minted: token };
    for (const [i, l] of pemLines(key).entries()) secrets[`key line ${i}`] = l;
    expect(scanJob(j, secrets, { allowInOutput: { token: 'minted' } })).toEqual([]);
  });

  it('PEM certificate and unencrypted key in one value (openssl pkcs12 -nodes output), client-key empty', async () => {
    const j = job({ 'client-certificate': `${pair.certPem}${pair.keyPem}` });
    const { token } = await mintAndRevoke(j);
    expect(scanJob(j, { key: pair.keyPem, minted: token }, { allowInOutput: { token: 'minted' } })).toEqual([]);
  });

  it('warns when the certificate ends within client-certificate-expiry-warning-days (default 30)', async () => {
    const notAfter = new Date(Math.floor((Date.now() + 10 * DAY + 3_600_000) / 1000) * 1000);
    const soon = t.emu.issueClientCert(t.s.bootstrap.user.id, { notAfter });
    const soonP12 = toP12Base64(soon, password);
    const j = job({ 'client-certificate': soonP12, 'client-certificate-password': password });
    const { main } = await mintAndRevoke(j);
    expect(main.log).toContain(
      `Warning: The client certificate in client-certificate (CN=ci-bootstrap, O=d1-token-action emulator) expires on ${notAfter.toISOString()}, in 10 days. Request a new client authentication certificate for the service user in Account Manager and update the secret before then.`,
    );
    const quiet = await job({ 'client-certificate': soonP12, 'client-certificate-password': password, 'client-certificate-expiry-warning-days': '7' }).main();
    expect(quiet.exitCode).toBe(0);
    expect(quiet.log.join('\n')).not.toContain('Warning');
    t.emu.model.tokens.get(quiet.outputs['token-id']!)!.deleted = true;
  });

  it('export-env: SM_HOST is the clientauth. URL, the minted token (not the certificate) goes to the environment', async () => {
    const j = job({ 'client-certificate': p12, 'client-certificate-password': password, 'export-env': 'true' });
    const { main, token } = await mintAndRevoke(j);
    expect(main.env).toEqual({ DC_API_KEY: token, SM_API_KEY: token, DC_BASE: `https://${t.emu.host}`, SM_HOST: `https://${t.emu.clientAuthHost}` });
    expect(scanJob(j, { p12, password, minted: token }, { allowInOutput: { token: 'minted' }, allowInEnv: ['minted'] })).toEqual([]);
  });

  it('post: a failed revocation warns with the mutual-TLS delete command', async () => {
    const j = job({ 'client-certificate': p12, 'client-certificate-password': password });
    const main = await j.main();
    const id = main.outputs['token-id']!;
    t.emu.fault({ method: 'DELETE', kind: 'status', status: 403 });
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    expect(post.log.join('\n')).toContain(`delete it with: curl -X DELETE --cert-type P12 --cert cert.p12:"$P12_PASSWORD" https://${t.emu.clientAuthHost}/account/api/v1/api-access-token/${id}`);
    expect(scanJob(j, { p12, password, minted: main.outputs.token! }, { allowInOutput: { token: 'minted' } })).toEqual([]);
    t.emu.model.tokens.get(id)!.deleted = true;
  });
});

describe('client certificate failures: clear messages, no request, no secret printed', () => {
  async function failing(inputs: Record<string, string>, secrets: Record<string, string>) {
    const j = job(inputs);
    const before = t.emu.requests.length;
    const handshakes = t.emu.handshakeFailures.length;
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(1);
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    expect(scanJob(j, secrets)).toEqual([]);
    return { error: main.log.find((l) => l.startsWith('Error: ')) ?? '', requests: since(before), handshakes: t.emu.handshakeFailures.slice(handshakes), main };
  }

  it('both api-key and client-certificate', async () => {
    const r = await failing({ 'api-key': t.s.bootstrap.apiKey, 'client-certificate': p12, 'client-certificate-password': password }, { p12, password, apiKey: t.s.bootstrap.apiKey });
    expect(r.error).toBe("Error: Inputs 'api-key' and 'client-certificate': are both set: give exactly one bootstrap credential, the API token or the client authentication certificate, and remove the other.");
    expect(r.requests).toEqual([]);
  });

  it('client-certificate-password without client-certificate', async () => {
    const r = await failing({ 'client-certificate-password': password }, { password });
    expect(r.error).toContain("Input 'client-certificate': is empty, but client-certificate-password is set");
  });

  it('wrong PKCS#12 password', async () => {
    const r = await failing({ 'client-certificate': p12, 'client-certificate-password': 'not-the-password' }, { p12, password: 'not-the-password' });
    expect(r.error).toBe(
      "Error: Input 'client-certificate-password': does not open the PKCS#12 file in client-certificate (wrong password, or the file is damaged). Use the password Account Manager showed when the certificate was downloaded.",
    );
    expect(r.requests).toEqual([]);
    expect(r.handshakes).toEqual([]);
  });

  it('legacy RC2-40 PKCS#12: says how to re-export with AES', async () => {
    const legacy = legacyP12Base64(pair, password);
    const r = await failing({ 'client-certificate': legacy, 'client-certificate-password': password }, { legacy, password });
    expect(r.error).toContain("Input 'client-certificate': the PKCS#12 file uses legacy encryption (RC2-40");
    expect(r.error).toContain('openssl pkcs12 -legacy -in old.p12 -nodes -out tmp.pem && openssl pkcs12 -export -in tmp.pem -out new.p12');
    expect(r.requests).toEqual([]);
  });

  it.each([
    ['text that is neither base64 nor PEM', 'my certificate!', 'is neither a base64-encoded PKCS#12 file (.p12/.pfx) nor a PEM certificate'],
    ['a file name', 'certs/client.p12', "It looks like a file name: the secret must hold the file's content."],
    ['base64 of something else', Buffer.from('{"not":"a p12"}').toString('base64'), 'is neither a base64-encoded PKCS#12 file'],
    ['a damaged PKCS#12', Buffer.from([0x30, 0x82, 0x01, 0x00, 0x02, 0x01]).toString('base64'), 'is not a readable PKCS#12 file ('],
    ['PEM without a certificate', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', 'holds PEM text but no -----BEGIN CERTIFICATE----- block'],
  ])('not a PKCS#12 / not PEM: %s', async (_what, value, says) => {
    const r = await failing({ 'client-certificate': value, 'client-certificate-password': password }, { value, password });
    expect(r.error).toContain("Input 'client-certificate':");
    expect(r.error).toContain(says);
    expect(r.requests).toEqual([]);
  });

  it('PEM certificate and a key that does not match', async () => {
    const other = makeCert({ commonName: 'other', clientAuth: true });
    const r = await failing({ 'client-certificate': pair.certPem, 'client-key': other.keyPem }, { key: other.keyPem });
    expect(r.error).toContain("Input 'client-key': does not match the certificate in client-certificate (the key belongs to another certificate)");
    expect(r.requests).toEqual([]);
  });

  it('PKCS#12 whose key does not match its certificate', async () => {
    const other = makeCert({ commonName: 'other', clientAuth: true });
    const bad = mismatchedP12Base64(pair, other, password);
    const r = await failing({ 'client-certificate': bad, 'client-certificate-password': password }, { bad, password });
    expect(r.error).toContain("Input 'client-certificate': the PKCS#12 file holds no certificate that matches its private key.");
  });

  it('encrypted PEM key: missing password, wrong password', async () => {
    const key = encryptedKeyPem(pair.keyPem, password);
    const missing = await failing({ 'client-certificate': pair.certPem, 'client-key': key }, { key });
    expect(missing.error).toBe("Error: Input 'client-certificate-password': is required: the private key in client-key is encrypted.");
    const wrong = await failing({ 'client-certificate': pair.certPem, 'client-key': key, 'client-certificate-password': 'nope-nope' }, { key, pw: 'nope-nope' });
    expect(wrong.error).toBe("Error: Input 'client-certificate-password': does not decrypt the private key in client-key (wrong password).");
  });

  it('client-key with a PKCS#12 file', async () => {
    const r = await failing({ 'client-certificate': p12, 'client-certificate-password': password, 'client-key': pair.keyPem }, { p12, password, key: pair.keyPem });
    expect(r.error).toContain("Input 'client-key': must be empty when client-certificate is a PKCS#12 file");
  });

  it('expired certificate: checked before any request, notAfter in the message', async () => {
    const notAfter = new Date(Math.floor((Date.now() - 2 * DAY) / 1000) * 1000);
    const old = t.emu.issueClientCert(t.s.bootstrap.user.id, { notBefore: new Date(Date.now() - 30 * DAY), notAfter });
    const b64 = toP12Base64(old, password);
    const r = await failing({ 'client-certificate': b64, 'client-certificate-password': password }, { b64, password });
    expect(r.error).toBe(
      `Error: Input 'client-certificate': the client certificate expired on ${notAfter.toISOString()} (notAfter). Request a new client authentication certificate for the service user in Account Manager and update the secret.`,
    );
    expect(r.requests).toEqual([]);
    expect(r.handshakes).toEqual([]);
  });

  it('not-yet-valid certificate: notBefore in the message', async () => {
    const notBefore = new Date(Math.floor((Date.now() + 3 * DAY) / 1000) * 1000);
    const future = t.emu.issueClientCert(t.s.bootstrap.user.id, { notBefore, notAfter: new Date(Date.now() + 90 * DAY) });
    const r = await failing({ 'client-certificate': future.certPem, 'client-key': future.keyPem }, { key: future.keyPem });
    expect(r.error).toContain(`Input 'client-certificate': the client certificate is not valid yet: it is valid from ${notBefore.toISOString()} (notBefore).`);
    expect(r.requests).toEqual([]);
  });

  it('server rejects the certificate in the TLS handshake (another CA): hint on the pair and the clientauth. host', async () => {
    const otherCa = makeCert({ commonName: 'some other CA', isCa: true });
    const stranger = makeCert({ commonName: 'ci-bootstrap', clientAuth: true, issuer: otherCa });
    const b64 = toP12Base64(stranger, password);
    const r = await failing({ 'client-certificate': b64, 'client-certificate-password': password }, { b64, password });
    expect(r.error).toMatch(/^Error: POST \/account\/api\/v1\/api-access-token: clientauth\.localhost:\d+ refused the client certificate in the TLS handshake \([A-Z_0-9]+\)\./);
    expect(r.error).toContain("check that client-certificate (with client-key) is the certificate/key pair of an active service user".replace('check', 'Check'));
    expect(r.error).toContain("the action connects to its 'clientauth.' name");
    expect(r.requests).toEqual([]);
    // The create and the check whether it happened anyway (a closed connection is ambiguous) all fail the same way.
    expect(r.handshakes.length).toBeGreaterThanOrEqual(1);
    for (const h of r.handshakes) expect(h).toEqual({ servername: 'clientauth.localhost', reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('a certificate from the right CA that no user holds: 401 with the certificate hint', async () => {
    const unregistered = t.emu.issueClientCert(t.s.bootstrap.user.id, { register: false });
    const b64 = toP12Base64(unregistered, password);
    const r = await failing({ 'client-certificate': b64, 'client-certificate-password': password }, { b64, password });
    expect(r.error).toContain('returned 401 (invalid_api_key: Client certificate is not registered to an active user)');
    expect(r.error).toContain('DigiCert ONE did not accept the client certificate on clientauth.localhost:');
    expect(r.requests.map((q) => [q.servername, q.hadApiKey])).toEqual([['clientauth.localhost', false]]);
  });
});
