/**
 * What a later step of the job does with what the action handed out, against the emulator: call the API with the
 * minted token, or call Software Trust with both factors, sign a file's digest there and verify the signature with
 * OpenSSL. Used by the tests and the demo.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import type { D1Emulator } from '../emulator/server.js';
import { loopbackSubdomainLookup } from '../src/platform/http.js';

/** What a later step does with the minted token: call the API with it. Returns the HTTP status. */
export async function statusWith(emu: D1Emulator, apiKey: string, path = '/account/api/v1/user/me'): Promise<number> {
  const dispatcher = new Agent({ connect: { ca: emu.caPem } });
  try {
    const res = await dispatcher.request({ origin: `https://${emu.host}`, path, method: 'GET', headers: { 'x-api-key': apiKey } });
    await res.body.dump();
    return res.statusCode;
  } finally {
    await dispatcher.destroy();
  }
}

/** How a later step reaches Software Trust: its API token, its client certificate (or none), and which name. */
export interface SoftwareTrustCaller {
  apiKey?: string;
  /** The PKCS#12 (SM_CLIENT_CERT_FILE's content and password), or a PEM pair. */
  tls?: { pfx: Buffer; passphrase: string } | { cert: string; key: string };
  /** The plain name (API key only) instead of clientauth. (both factors). */
  plain?: boolean;
}

/** A Software Trust answer: its status and parsed JSON body. */
export interface StAnswer {
  status: number;
  body: unknown;
}

/** The fields of a listed keypair that a signing client reads (see signDigest; recorded shape, emulator/software-trust.ts). */
interface ListedKeypair {
  id: string;
  alias: string;
  certificates: { id: string; default_cert: boolean }[];
}

/**
 * One Software Trust call (`/signingmanager/api/v1` + path) as a later step makes it: on the clientauth. name with
 * the token as x-api-key and the client certificate in the handshake, as smctl does with SM_HOST, SM_API_KEY and
 * SM_CLIENT_CERT_FILE/_PASSWORD. 'handshake' when the server ended the TLS handshake.
 */
export async function softwareTrustCall(emu: D1Emulator, who: SoftwareTrustCaller, method: 'GET' | 'POST', path: string, body?: unknown): Promise<StAnswer | 'handshake'> {
  const dispatcher = new Agent({ connect: { ca: emu.caPem, lookup: loopbackSubdomainLookup, ...who.tls } });
  try {
    const res = await dispatcher.request({
      origin: `https://${who.plain ? emu.host : emu.clientAuthHost}`,
      path: `/signingmanager/api/v1${path}`,
      method,
      headers: { ...(who.apiKey ? { 'x-api-key': who.apiKey } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
  } catch (err) {
    // The server ends the handshake (closed socket, reset, or a TLS alert); anything else is the caller's error.
    const code = (err as { code?: string }).code ?? '';
    if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code.startsWith('ERR_SSL_')) return 'handshake';
    throw err;
  } finally {
    await dispatcher.destroy();
  }
}

/**
 * What a later signing step does with both factors: a Software Trust read on the clientauth. name, with the token as
 * x-api-key and the PKCS#12 (as SM_CLIENT_CERT_FILE/_PASSWORD give it) in the handshake. The HTTP status, or 'handshake'.
 */
export async function softwareTrustStatus(emu: D1Emulator, apiKey: string, pfx: Buffer, passphrase: string): Promise<number | 'handshake'> {
  const r = await softwareTrustCall(emu, { apiKey, tls: { pfx, passphrase } }, 'GET', '/certificates');
  return r === 'handshake' ? r : r.status;
}

export interface Signed {
  /** Status of the sign request (or of the first request that failed), or 'handshake'. */
  status: number | 'handshake';
  keypairId?: string;
  /** The signature (PKCS#1 v1.5, SHA256withRSA) and the keypair's certificate (PEM). */
  signature?: Buffer;
  certificatePem?: string;
  /** The error message the service answered with, when it refused. */
  message?: string;
}

/**
 * Signs a SHA-256 digest the way public clients do (ebourg/jsign DigiCertOneSigningService.java, reached by the
 * keypair's alias as smctl's --keypair-alias is): the keypair by alias and its default certificate, the certificate
 * by id, the keypair by id (for its `account` object), then `POST keypairs/{id}/sign {account, sig_alg, hash}` with
 * `account` sent back as the object read, as jsign does. Only the digest leaves the step, never the file.
 */
export async function signDigest(emu: D1Emulator, who: SoftwareTrustCaller, alias: string, digest: Buffer): Promise<Signed> {
  const refused = (r: StAnswer | 'handshake'): Signed =>
    r === 'handshake' ? { status: r } : { status: r.status, message: (r.body as { error?: { message?: string } } | undefined)?.error?.message ?? JSON.stringify(r.body) };
  const listed = await softwareTrustCall(emu, who, 'GET', `/keypairs?alias=${encodeURIComponent(alias)}`);
  if (listed === 'handshake' || listed.status !== 200) return refused(listed);
  const kp = (listed.body as { items: ListedKeypair[] }).items.find((k) => k.alias === alias);
  if (!kp) return { status: 404, message: `no keypair '${alias}' listed for this user` };
  const chosen = kp.certificates.find((c) => c.default_cert);
  if (!chosen) return { status: 404, keypairId: kp.id, message: `keypair '${alias}' has no default certificate` };
  const certs = await softwareTrustCall(emu, who, 'GET', `/certificates?id=${encodeURIComponent(chosen.id)}`);
  if (certs === 'handshake' || certs.status !== 200) return refused(certs);
  const der = Buffer.from((certs.body as { items: { cert: string }[] }).items[0]!.cert, 'base64');
  const certificatePem = new X509Certificate(der).toString();
  const read = await softwareTrustCall(emu, who, 'GET', `/keypairs/${kp.id}`);
  if (read === 'handshake' || read.status !== 200) return refused(read);
  const { account } = read.body as { account: unknown };
  const signed = await softwareTrustCall(emu, who, 'POST', `/keypairs/${kp.id}/sign`, { account, sig_alg: 'SHA256withRSA', hash: digest.toString('base64') });
  if (signed === 'handshake' || signed.status !== 200) return { ...refused(signed), keypairId: kp.id, certificatePem };
  return { status: 200, keypairId: kp.id, certificatePem, signature: Buffer.from((signed.body as { signature: string }).signature, 'base64') };
}

/**
 * Verifies a signature over a file with the OpenSSL command line, as a person would: the public key out of the
 * certificate (`openssl x509 -pubkey`), then `openssl dgst -sha256 -verify`. Returns OpenSSL's verdict line.
 */
export function opensslVerify(certificatePem: string, signature: Buffer, file: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'd1-verify-'));
  try {
    const cert = join(dir, 'cert.pem');
    const pub = join(dir, 'pub.pem');
    const sig = join(dir, 'sig.bin');
    writeFileSync(cert, certificatePem);
    writeFileSync(sig, signature);
    execFileSync('openssl', ['x509', '-in', cert, '-pubkey', '-noout', '-out', pub]);
    try {
      const output = execFileSync('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sig, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
      return { ok: output === 'Verified OK', output };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
