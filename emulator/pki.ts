/**
 * Test PKI, generated at run time (nothing is committed): a CA, a TLS server certificate for the emulator, and
 * client certificates for the mutual-TLS host. Keys come from node:crypto (fast); node-forge signs the X.509 parts.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
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
  issuer?: KeyPair;
}

function rsaKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function makeCert(o: CertOptions): KeyPair {
  const keyPem = rsaKeyPem();
  const key = forge.pki.privateKeyFromPem(keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = '01' + randomBytes(8).toString('hex');
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
    exts.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true });
    exts.push({ name: 'extKeyUsage', serverAuth: !o.clientAuth, clientAuth: Boolean(o.clientAuth) });
  }
  const alt = [...(o.dnsNames ?? []).map((value) => ({ type: 2, value })), ...(o.ipAddresses ?? []).map((ip) => ({ type: 7, ip }))];
  if (alt.length) exts.push({ name: 'subjectAltName', altNames: alt });
  exts.push({ name: 'subjectKeyIdentifier' });
  cert.setExtensions(exts);
  const signer = o.issuer ? forge.pki.privateKeyFromPem(o.issuer.keyPem) : key;
  cert.sign(signer, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

export interface ServerPki {
  ca: KeyPair;
  server: KeyPair;
}

/** A CA and a server certificate valid for the given names (loopback and the names tests route to it). */
export function makeServerPki(dnsNames: string[]): ServerPki {
  const ca = makeCert({ commonName: 'd1 emulator CA', isCa: true });
  const server = makeCert({ commonName: dnsNames[0] ?? 'localhost', dnsNames, ipAddresses: ['127.0.0.1'], issuer: ca });
  return { ca, server };
}
