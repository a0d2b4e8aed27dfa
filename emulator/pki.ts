/**
 * Test PKI, generated at run time (nothing is committed): a CA, a TLS server certificate for the emulator, and
 * client certificates for the mutual-TLS host. Keys come from node:crypto (fast); node-forge signs the X.509 parts.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface KeyPair {
  certPem: string;
  keyPem: string;
}

export interface CertOptions {
  commonName: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  notBefore?: Date;
  notAfter?: Date;
  isCa?: boolean;
  clientAuth?: boolean;
  /** A code-signing certificate (extKeyUsage codeSigning), as Software Trust issues for a keypair. */
  codeSigning?: boolean;
  issuer?: KeyPair;
}

function rsaKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function makeCert(o: CertOptions): KeyPair {
  const keyPem = rsaKeyPem();
  const key = forge.pki.privateKeyFromPem(keyPem);
  return { certPem: signCert(o, forge.pki.setRsaPublicKey(key.n, key.e), keyPem), keyPem };
}

/**
 * Certifies a public key someone else holds (a CSR's), as a CA does: only the certificate comes back. Needs an
 * issuer; forge reads RSA keys only, which is why the emulator's CSRs must be RSA.
 */
export function certifyPublicKey(o: CertOptions & { issuer: KeyPair }, publicKey: forge.pki.rsa.PublicKey): string {
  return signCert(o, publicKey, o.issuer.keyPem);
}

function signCert(o: CertOptions, publicKey: forge.pki.rsa.PublicKey, ownKeyPem: string): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = o.notBefore ?? new Date(Date.now() - 60 * 60 * 1000);
  cert.validity.notAfter = o.notAfter ?? new Date(Date.now() + 30 * 24 * 60 * 60 * 1000);
  const subject = [{ name: 'commonName', value: o.commonName }, { name: 'organizationName', value: 'd1-token-action emulator' }];
  cert.setSubject(subject);
  const issuerCert = o.issuer ? forge.pki.certificateFromPem(o.issuer.certPem) : undefined;
  cert.setIssuer(issuerCert ? issuerCert.subject.attributes : subject);
  const exts: object[] = [{ name: 'basicConstraints', cA: Boolean(o.isCa), critical: true }];
  if (o.isCa) {
    exts.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true });
  } else {
    exts.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: !o.codeSigning, critical: true });
    exts.push({ name: 'extKeyUsage', serverAuth: !o.clientAuth && !o.codeSigning, clientAuth: Boolean(o.clientAuth), codeSigning: Boolean(o.codeSigning) });
  }
  const alt = [...(o.dnsNames ?? []).map((value) => ({ type: 2, value })), ...(o.ipAddresses ?? []).map((ip) => ({ type: 7, ip }))];
  if (alt.length) exts.push({ name: 'subjectAltName', altNames: alt });
  exts.push({ name: 'subjectKeyIdentifier' });
  cert.setExtensions(exts);
  cert.sign(forge.pki.privateKeyFromPem(o.issuer ? o.issuer.keyPem : ownKeyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

export interface ServerPki {
  ca: KeyPair;
  server: KeyPair;
  /** Issues the client authentication certificates the clientauth. name accepts. */
  clientCa: KeyPair;
}

/**
 * A CA and a server certificate valid for the given names and their clientauth. names (loopback and the names
 * tests route to it), and the CA of client authentication certificates.
 */
export function makeServerPki(dnsNames: string[]): ServerPki {
  const ca = makeCert({ commonName: 'd1 emulator CA', isCa: true });
  const names = [...new Set([...dnsNames, ...dnsNames.map((n) => `clientauth.${n}`)])];
  const server = makeCert({ commonName: dnsNames[0] ?? 'localhost', dnsNames: names, ipAddresses: ['127.0.0.1'], issuer: ca });
  const clientCa = makeCert({ commonName: 'd1 emulator client authentication CA', isCa: true });
  return { ca, server, clientCa };
}

/** The PKCS#12 file Account Manager hands out, base64-encoded as users store it in a secret. */
export function toP12Base64(pair: KeyPair, password: string, algorithm: 'aes256' | '3des' = 'aes256', chain: KeyPair[] = []): string {
  const key = forge.pki.privateKeyFromPem(pair.keyPem);
  const certs = [pair, ...chain].map((p) => forge.pki.certificateFromPem(p.certPem));
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, certs, password, { algorithm });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary').toString('base64');
}

/** A PKCS#12 file holding the certificate of one pair and the private key of another. */
export function mismatchedP12Base64(certOf: KeyPair, keyOf: KeyPair, password: string): string {
  return toP12Base64({ certPem: certOf.certPem, keyPem: keyOf.keyPem }, password);
}

/**
 * The legacy layout older tools (and `openssl pkcs12 -export -legacy`) write: certificates in a PKCS#7
 * EncryptedData under pbeWithSHAAnd40BitRC2-CBC, the key under 3DES, a SHA-1 MAC. OpenSSL 3 refuses RC2 without
 * its legacy provider. node-forge writes certificates unencrypted, so the certificate bag is encrypted here.
 */
export function legacyP12Base64(pair: KeyPair, password: string): string {
  const { asn1, pkcs12, pki, util, rc2, random, hmac, md } = forge;
  const key = pki.privateKeyFromPem(pair.keyPem);
  const cert = pki.certificateFromPem(pair.certPem);
  const pfx = pkcs12.toPkcs12Asn1(key, [cert], password, { algorithm: '3des', useMac: false });
  // PFX ::= SEQUENCE { version, authSafe ContentInfo { data, [0] OCTET STRING (AuthenticatedSafe) }, macData }
  const authSafeInfo = (pfx.value as forge.asn1.Asn1[])[1]!;
  const authSafeOctets = ((authSafeInfo.value as forge.asn1.Asn1[])[1]!.value as forge.asn1.Asn1[])[0]!;
  const authSafe = asn1.fromDer(authSafeOctets.value as string);
  const contents = authSafe.value as forge.asn1.Asn1[];
  const certInfo = contents[0]!; // ContentInfo { data, [0] OCTET STRING (SafeContents with the certificate bag) }
  const certSafeContents = ((certInfo.value as forge.asn1.Asn1[])[1]!.value as forge.asn1.Asn1[])[0]!.value as string;

  const salt = random.getBytesSync(8);
  const count = 2048;
  const encKey = pkcs12.generateKey(password, util.createBuffer(salt), 1, count, 5);
  const iv = pkcs12.generateKey(password, util.createBuffer(salt), 2, count, 8);
  const cipher = rc2.createEncryptionCipher(encKey, 40);
  cipher.start(iv);
  cipher.update(util.createBuffer(certSafeContents));
  cipher.finish();
  const U = asn1.Class.UNIVERSAL;
  const T = asn1.Type;
  const oid = (o: string) => asn1.create(U, T.OID, false, asn1.oidToDer(o).getBytes());
  contents[0] = asn1.create(U, T.SEQUENCE, true, [
    oid(pki.oids.encryptedData!),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      asn1.create(U, T.SEQUENCE, true, [
        asn1.create(U, T.INTEGER, false, asn1.integerToDer(0).getBytes()),
        asn1.create(U, T.SEQUENCE, true, [
          oid(pki.oids.data!),
          asn1.create(U, T.SEQUENCE, true, [
            oid('1.2.840.113549.1.12.1.6'), // pbeWithSHAAnd40BitRC2-CBC
            asn1.create(U, T.SEQUENCE, true, [asn1.create(U, T.OCTETSTRING, false, salt), asn1.create(U, T.INTEGER, false, asn1.integerToDer(count).getBytes())]),
          ]),
          asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, cipher.output.getBytes()),
        ]),
      ]),
    ]),
  ]);
  const authSafeDer = asn1.toDer(authSafe).getBytes();
  authSafeOctets.value = authSafeDer;
  // MAC over the new AuthenticatedSafe: HMAC-SHA1 keyed by the PKCS#12 KDF (id 3).
  const macSalt = random.getBytesSync(8);
  const macKey = pkcs12.generateKey(password, util.createBuffer(macSalt), 3, count, 20);
  const mac = hmac.create();
  mac.start(md.sha1.create(), macKey);
  mac.update(authSafeDer);
  const macData = asn1.create(U, T.SEQUENCE, true, [
    asn1.create(U, T.SEQUENCE, true, [
      asn1.create(U, T.SEQUENCE, true, [oid(pki.oids.sha1!), asn1.create(U, T.NULL, false, '')]),
      asn1.create(U, T.OCTETSTRING, false, mac.digest().getBytes()),
    ]),
    asn1.create(U, T.OCTETSTRING, false, macSalt),
    asn1.create(U, T.INTEGER, false, asn1.integerToDer(count).getBytes()),
  ]);
  (pfx.value as forge.asn1.Asn1[]).push(macData);
  return Buffer.from(asn1.toDer(pfx).getBytes(), 'binary').toString('base64');
}

/** A PEM private key encrypted with a passphrase (PKCS#8, AES-256-CBC), as `openssl pkcs8 -topk8 -v2 aes256` writes. */
export function encryptedKeyPem(keyPem: string, passphrase: string): string {
  return createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }).toString();
}
