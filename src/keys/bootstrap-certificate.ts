/**
 * Client authentication certificate (mutual TLS) material: the inputs' text turned into undici `connect` options
 * (`pfx` + `passphrase`, or `cert` + `key` + `passphrase`), checked with node:crypto before any request so a bad
 * password, a key of another certificate or an expired certificate is named here rather than as a TLS alert.
 * Everything stays in memory; nothing is written to disk. No error message repeats any part of the material.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { TLSSocket, createSecureContext } from 'node:tls';
import { InputError } from '../platform/input-error.js';

import type { ClientTls } from '../platform/http.js';

export type { ClientTls };

export interface CertificateInfo {
  format: 'pkcs12' | 'pem';
  subject: string;
  notBefore: Date;
  notAfter: Date;
}

export interface ClientCertificate {
  tls: ClientTls;
  info: CertificateInfo;
}

export interface CertificateInputs {
  certificate: string;
  key: string;
  password: string;
}

const CERT = 'client-certificate';
const KEY = 'client-key';
const PASSWORD = 'client-certificate-password';
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
// Two commands, not a pipe: OpenSSL 3.0's `pkcs12 -export` does not read the certificate and the key from stdin.
const REEXPORT =
  'openssl pkcs12 -legacy -in old.p12 -nodes -out tmp.pem && openssl pkcs12 -export -in tmp.pem -out new.p12 && rm tmp.pem (OpenSSL 3 encrypts with AES by default), or download the certificate again from Account Manager with AES encryption';
const P12_SECRET_HINT = 'base64 -w0 cert.p12 on Linux, base64 -i cert.p12 on macOS';

/** PEM text as given, or PEM text that was base64-encoded whole (`base64 cert.pem`); undefined otherwise. */
function asPem(text: string): string | undefined {
  if (text.includes('-----BEGIN ')) return text;
  const decoded = decodeBase64(text)?.toString('latin1');
  return decoded?.includes('-----BEGIN ') ? decoded : undefined;
}

function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!compact || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

function pemBlocks(pem: string, types: RegExp): string[] {
  return [...pem.matchAll(PEM_BLOCK)].filter((m) => types.test(m[1]!)).map((m) => m[0]);
}

export function loadClientCertificate(inputs: CertificateInputs, now: Date): ClientCertificate {
  const text = inputs.certificate.trim();
  const pem = asPem(text);
  const loaded = pem !== undefined ? fromPem(pem, inputs) : fromPkcs12(text, inputs);
  checkValidity(loaded.info, now);
  return loaded;
}

function fromPkcs12(text: string, inputs: CertificateInputs): ClientCertificate {
  const pfx = decodeBase64(text);
  // A DER PKCS#12 file is an ASN.1 SEQUENCE: its first byte is 0x30.
  if (pfx?.[0] !== 0x30) {
    const path = /^[\w./~\\:-]+\.(p12|pfx|pem|crt|cer)$/i.test(text) ? ' It looks like a file name: the secret must hold the file\'s content.' : '';
    throw new InputError(
      CERT,
      `is neither a base64-encoded PKCS#12 file (.p12/.pfx) nor a PEM certificate (-----BEGIN CERTIFICATE-----).${path} Store the downloaded .p12 in the secret as base64 (${P12_SECRET_HINT}).`,
    );
  }
  if (inputs.key.trim()) {
    throw new InputError(KEY, `must be empty when ${CERT} is a PKCS#12 file, which holds its own private key (client-key is for a PEM certificate).`);
  }
  const passphrase = inputs.password;
  let socket: TLSSocket | undefined;
  try {
    // OpenSSL opens the file exactly as the TLS connection will; its errors tell the cases apart.
    const secureContext = createSecureContext({ pfx, passphrase });
    // The documented way to read the certificate a context holds: a server-side TLSSocket that is never connected.
    socket = new TLSSocket(null as never, { secureContext, isServer: true });
    const local = socket.getCertificate();
    const raw = local && 'raw' in local ? local.raw : undefined;
    if (!raw) throw new InputError(CERT, 'the PKCS#12 file holds no certificate for its private key.');
    return { tls: { pfx, passphrase }, info: describe(new X509Certificate(raw), 'pkcs12') };
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw pkcs12Error(err);
  } finally {
    socket?.destroy();
  }
}

function pkcs12Error(err: unknown): InputError {
  const e = err as { code?: string; message?: string };
  const msg = e.message ?? String(err);
  if (/mac verify failure|invalid password/i.test(msg)) {
    return new InputError(
      PASSWORD,
      `does not open the PKCS#12 file in ${CERT} (wrong password, or the file is damaged). Use the password Account Manager showed when the certificate was downloaded.`,
    );
  }
  if (e.code === 'ERR_CRYPTO_UNSUPPORTED_OPERATION' || /unsupported/i.test(msg)) {
    return new InputError(
      CERT,
      `the PKCS#12 file uses legacy encryption (RC2-40, the "legacy" option of older tools) that OpenSSL 3 in Node.js no longer reads. Re-export it with AES: ${REEXPORT}.`,
    );
  }
  if (/unable to load certificate|key values mismatch/i.test(msg)) {
    return new InputError(CERT, 'the PKCS#12 file holds no certificate that matches its private key. Export the certificate together with its own key.');
  }
  // OpenSSL's reason (e.g. "not enough data", "wrong tag") names a structure, never the content.
  return new InputError(CERT, `is not a readable PKCS#12 file (${msg.slice(0, 80)}). Store the downloaded .p12 in the secret as base64 (${P12_SECRET_HINT}).`);
}

function fromPem(pem: string, inputs: CertificateInputs): ClientCertificate {
  const certs = pemBlocks(pem, /^(X509 |TRUSTED )?CERTIFICATE$/);
  if (certs.length === 0) throw new InputError(CERT, 'holds PEM text but no -----BEGIN CERTIFICATE----- block.');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certs[0]!);
  } catch {
    throw new InputError(CERT, 'the first PEM CERTIFICATE block is not a valid X.509 certificate.');
  }
  // The key comes from client-key, or from the same PEM text (`openssl pkcs12 -nodes` writes both).
  const keyText = inputs.key.trim() ? asPem(inputs.key.trim()) : undefined;
  if (inputs.key.trim() && keyText === undefined) throw new InputError(KEY, 'is not a PEM private key (expected -----BEGIN PRIVATE KEY----- or -----BEGIN ENCRYPTED PRIVATE KEY-----).');
  const keyPem = pemBlocks(keyText ?? pem, /PRIVATE KEY$/)[0];
  if (!keyPem) {
    throw new InputError(KEY, `is required when ${CERT} is a PEM certificate: give its private key in PEM (or pass the PKCS#12 file itself as ${CERT}).`);
  }
  const passphrase = inputs.password || undefined;
  const keyInput = inputs.key.trim() ? KEY : CERT;
  // PKCS#8 (ENCRYPTED PRIVATE KEY) or traditional OpenSSL (Proc-Type: 4,ENCRYPTED) encryption.
  if (!passphrase && /ENCRYPTED/.test(keyPem)) throw new InputError(PASSWORD, `is required: the private key in ${keyInput} is encrypted.`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: keyPem, format: 'pem', ...(passphrase ? { passphrase } : {}) });
  } catch (err) {
    const e = err as { code?: string };
    if (e.code === 'ERR_OSSL_BAD_DECRYPT') throw new InputError(PASSWORD, `does not decrypt the private key in ${keyInput} (wrong password).`);
    throw new InputError(keyInput, `holds a PEM private key that cannot be read (${e.code ?? 'unknown error'}: unsupported or damaged).`);
  }
  if (!leaf.checkPrivateKey(key)) {
    throw new InputError(
      KEY,
      `does not match the certificate in ${CERT} (the key belongs to another certificate). Use the key the certificate was issued for, e.g. both from the same .p12: openssl pkcs12 -in cert.p12 -nodes.`,
    );
  }
  return { tls: { cert: certs.join('\n'), key: keyPem, ...(passphrase ? { passphrase } : {}) }, info: describe(leaf, 'pem') };
}

function describe(cert: X509Certificate, format: CertificateInfo['format']): CertificateInfo {
  return { format, subject: cert.subject.replace(/\n/g, ', '), notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

function checkValidity(info: CertificateInfo, now: Date): void {
  if (now < info.notBefore) {
    throw new InputError(
      CERT,
      `the client certificate is not valid yet: it is valid from ${info.notBefore.toISOString()} (notBefore). Check the runner's clock, or use the certificate from that date.`,
    );
  }
  if (now > info.notAfter) {
    throw new InputError(
      CERT,
      `the client certificate expired on ${info.notAfter.toISOString()} (notAfter). Request a new client authentication certificate for the service user in Account Manager and update the secret.`,
    );
  }
}
