/**
 * The key, CSR and PKCS#12 of a client authentication certificate made for one job. Loaded only through a dynamic
 * `import()` when the feature is on (ncc then emits it and node-forge as a separate chunk), so the default path's
 * start-up does not carry it. Why node-forge: docs/software-trust-notes.md ("Library choice").
 *
 * The key pair comes from Node's crypto (native, asynchronous, never written anywhere); node-forge does only what
 * Node cannot: the PKCS#10 request and the PKCS#12 container. forge needs the key as PEM text for the moment it signs
 * or wraps; that string is dropped at once (JavaScript cannot wipe it). Everything stays in memory: writing the file
 * is the caller's business.
 */
import { X509Certificate, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

export interface JobCertificateRequest {
  csrPem: string;
  /** Stays in this process; exported only as PEM text inside `toPkcs12`. */
  privateKey: KeyObject;
}

/**
 * RSA, not EC: the PKCS#12 goes to smctl, signtool's KSP and Windows' certificate store, which all take RSA; node-forge
 * (here and in the emulator) reads RSA only. 2048 bits: the certificate lives for one job.
 */
const RSA_BITS = 2048;

/** PKCS#12 PBKDF2 and MAC iteration count: OpenSSL 3's default for `pkcs12 -export` (PKCS12_DEFAULT_ITER). */
const ITERATIONS = 2048;

export async function makeJobCertificateRequest(commonName: string): Promise<JobCertificateRequest> {
  if (!commonName || /[\r\n\0]/.test(commonName) || commonName.length > 64) {
    // X.520 ub-common-name is 64; the caller builds the name, so this is a programming error, not user input.
    throw new Error('makeJobCertificateRequest: commonName must be 1-64 characters on one line');
  }
  const { privateKey } = await new Promise<{ privateKey: KeyObject }>((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: RSA_BITS }, (err, _pub, priv) => (err ? reject(err) : resolve({ privateKey: priv }))),
  );
  const key = forgeKey(privateKey);
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  csr.setSubject([{ name: 'commonName', value: commonName }]);
  csr.sign(key, forge.md.sha256.create());
  return { csrPem: forge.pki.certificationRequestToPem(csr), privateKey };
}

/**
 * The certificate (and its chain) with the private key, as a PKCS#12 that OpenSSL 3 and Windows open without legacy
 * algorithms: the key bag under PBES2 (AES-256-CBC, PBKDF2 with HMAC-SHA256), certificates in a plain bag (they are
 * public), MAC HMAC-SHA1 (node-forge writes no other; OpenSSL 3 and Windows accept it). Refuses a certificate that
 * is not for this key: a server answer is outside input.
 */
export async function toPkcs12(certPem: string, chainPems: readonly string[], key: KeyObject, password: string): Promise<Buffer> {
  if (!password) throw new Error('toPkcs12: a password is required');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certPem);
    for (const pem of chainPems) new X509Certificate(pem);
  } catch {
    throw new Error('toPkcs12: the certificate or its chain is not a PEM X.509 certificate');
  }
  if (!leaf.checkPrivateKey(key)) throw new Error('toPkcs12: the certificate is not for this private key');
  const certs = [certPem, ...chainPems].map((pem) => forge.pki.certificateFromPem(pem));
  const asn1 = forge.pkcs12.toPkcs12Asn1(forgeKey(key), certs, password, {
    algorithm: 'aes256',
    // Passed through to encryptPrivateKeyInfo (forge's default PRF is HMAC-SHA1); not in @types/node-forge.
    prfAlgorithm: 'sha256',
    count: ITERATIONS,
    generateLocalKeyId: true,
    friendlyName: leaf.subject.replace(/^CN=/, '').slice(0, 64),
  } as Parameters<typeof forge.pkcs12.toPkcs12Asn1>[3]);
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

/**
 * A fresh password for the PKCS#12: 32 characters of base64url (192 random bits). No character a shell, a
 * `GITHUB_ENV` line, cmd.exe or PowerShell would treat specially, so it survives every way a step passes it on.
 */
export function randomPassword(): string {
  return randomBytes(24).toString('base64url');
}

function forgeKey(key: KeyObject): forge.pki.rsa.PrivateKey {
  return forge.pki.privateKeyFromPem(key.export({ type: 'pkcs1', format: 'pem' }).toString());
}
