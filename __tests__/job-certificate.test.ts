/**
 * src/keys/job-certificate.ts: the CSR verifies, and the PKCS#12 opens with OpenSSL 3 (no legacy provider) and with Node's
 * TLS, under the modern algorithms only; a wrong password fails both. The emulator accepting the CSR is shown in
 * emulator-second-factor.test.ts. Certificates are issued here by a throw-away CA made at test time.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certifyPublicKey, makeCert, type KeyPair } from '../emulator/pki.js';
import { makeJobCertificateRequest, randomPassword, toPkcs12, type JobCertificateRequest } from '../src/keys/job-certificate.js';

let dir: string;
let ca: KeyPair;
let req: JobCertificateRequest;
let certPem: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'job-cert-'));
  ca = makeCert({ commonName: 'test client CA', isCa: true });
  req = await makeJobCertificateRequest('d1 job 42');
  const csr = forge.pki.certificationRequestFromPem(req.csrPem);
  certPem = certifyPublicKey({ commonName: 'job user', clientAuth: true, issuer: ca }, csr.publicKey as forge.pki.rsa.PublicKey);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** OpenSSL writes its verdicts ("verify OK", the -info lines, "Mac verify error") to stderr: both streams are kept. */
function openssl(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

describe('makeJobCertificateRequest', () => {
  it('makes a PEM CSR for the name, signed by the in-memory RSA key (OpenSSL verifies it)', async () => {
    expect(req.csrPem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\r?\n/);
    expect(req.privateKey.type).toBe('private');
    expect(req.privateKey.asymmetricKeyType).toBe('rsa');
    const file = join(dir, 'req.csr');
    writeFileSync(file, req.csrPem);
    const r = openssl(['req', '-in', file, '-verify', '-noout', '-subject']);
    expect(r.out).toMatch(/verify OK/i);
    expect(r.out).toContain('CN = d1 job 42');
    // The CSR carries the key's public half, nothing else of it.
    const csr = forge.pki.certificationRequestFromPem(req.csrPem);
    const spki = createPublicKey(req.privateKey).export({ type: 'spki', format: 'pem' }).toString();
    expect(forge.pki.publicKeyToPem(csr.publicKey!).replace(/\r/g, '')).toBe(spki);
  });

  it('the key leaves the process only encrypted: the PKCS#12 holds no plaintext key', async () => {
    const password = randomPassword();
    const p12 = await toPkcs12(certPem, [], req.privateKey, password);
    const plain = req.privateKey.export({ type: 'pkcs8', format: 'der' });
    // The RSA private exponent's bytes (any 32 from the middle of the key) do not appear in the file.
    expect(p12.includes(plain.subarray(300, 332))).toBe(false);
    expect(p12.toString('latin1')).not.toContain(password);
  });

  it('two requests, two keys', async () => {
    const other = await makeJobCertificateRequest('d1 job 42');
    expect(other.csrPem).not.toBe(req.csrPem);
  });

  it('refuses a name on several lines or too long (a programming error)', async () => {
    await expect(makeJobCertificateRequest('a\nb')).rejects.toThrow(/commonName/);
    await expect(makeJobCertificateRequest('x'.repeat(65))).rejects.toThrow(/commonName/);
  });
});

describe('toPkcs12', () => {
  it('opens with OpenSSL 3 and with Node TLS; AES-256-CBC under PBKDF2-HMAC-SHA256, no RC2 or 3DES', async () => {
    const password = randomPassword();
    const p12 = await toPkcs12(certPem, [ca.certPem], req.privateKey, password);
    const file = join(dir, 'job.p12');
    writeFileSync(file, p12, { mode: 0o600 });

    expect(openssl(['pkcs12', '-in', file, '-passin', `pass:${password}`, '-noout']).ok).toBe(true);
    const info = openssl(['pkcs12', '-in', file, '-passin', `pass:${password}`, '-info', '-noout']).out;
    expect(info).toContain('Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC');
    expect(info).toContain('PRF hmacWithSHA256');
    expect(info).toContain('MAC: sha256');
    expect(info).not.toMatch(/RC2|3DES|40-bit/i);

    // The key and certificate inside are the ones given.
    const pem = openssl(['pkcs12', '-in', file, '-passin', `pass:${password}`, '-nodes', '-clcerts']).out;
    expect(new X509Certificate(pem.slice(pem.indexOf('-----BEGIN CERTIFICATE-----'))).fingerprint256).toBe(new X509Certificate(certPem).fingerprint256);

    expect(() => createSecureContext({ pfx: p12, passphrase: password })).not.toThrow();
  });

  it('a wrong password fails in OpenSSL and in Node TLS', async () => {
    const p12 = await toPkcs12(certPem, [], req.privateKey, randomPassword());
    const file = join(dir, 'wrong.p12');
    writeFileSync(file, p12, { mode: 0o600 });
    const r = openssl(['pkcs12', '-in', file, '-passin', 'pass:not-the-password', '-noout']);
    expect(r.ok).toBe(false);
    expect(r.out).toMatch(/mac verify (error|failure)/i);
    expect(() => createSecureContext({ pfx: p12, passphrase: 'not-the-password' })).toThrow(/mac verify failure/i);
  });

  it('refuses a certificate that is not for the key, or text that is not a certificate, and an empty password', async () => {
    const stranger = makeCert({ commonName: 'someone else', clientAuth: true, issuer: ca });
    await expect(toPkcs12(stranger.certPem, [], req.privateKey, 'pw')).rejects.toThrow(/not for this private key/);
    await expect(toPkcs12('hello', [], req.privateKey, 'pw')).rejects.toThrow(/not a PEM X.509 certificate/);
    await expect(toPkcs12(certPem, ['junk'], req.privateKey, 'pw')).rejects.toThrow(/not a PEM X.509 certificate/);
    await expect(toPkcs12(certPem, [], req.privateKey, '')).rejects.toThrow(/password is required/);
    await expect(toPkcs12(certPem, [], req.privateKey, 'pässwort')).rejects.toThrow(/printable ASCII/);
  });
});

describe('randomPassword', () => {
  it('32 base64url characters, fresh each time', () => {
    const seen = new Set(Array.from({ length: 50 }, () => randomPassword()));
    expect(seen.size).toBe(50);
    for (const p of seen) expect(p).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });
});
