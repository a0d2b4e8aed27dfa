/**
 * The emulator's Software Trust Manager: keypairs (each with the code-signing certificate issued for it), assigned
 * to users and teams; listing, reading and signing a hash, each allowed only as the documentation says.
 *
 * Rules and where they come from (docs/software-trust-notes.md, section 6, has the full list):
 * - docs.digicert.com, Software Trust Manager user roles, "Developer (AS)" and "Signer": View keypair lets a user
 *   "view keypairs ... assigned to them", "Users with Manage keypair permission can view all keypairs"; View
 *   certificate likewise ("all certificates assigned to them"); Sign lets a user "sign software with keypairs
 *   assigned to them" (no Manage-keypair exception is stated for signing, so there is none here).
 * - docs.digicert.com, Software Trust secure configuration guide, "Understand what Software Trust Manager controls":
 *   "team/user assignment of keypairs". smctl's "Update keypair access" page (`smctl keypair update-access`, flags
 *   `--users`, `--groups`, `--restricted`) is how a keypair gets its users and groups; it needs Manage keypair.
 * - dev.digicert.com "Set up service user multi-factor authentication": mTLS is required for "all DigiCert Software
 *   Trust Manager signing operations"; an API key alone suits read-only operations. A signature asked for with the
 *   API key alone gets the answer users report (digicert/code-signing-software-trust-action issue 14):
 *   `403 User is not multi-factor authenticated. Missing Client Authentication Certificate.`
 *
 * Wire shapes, from public clients (DigiCert's Swagger UI, /signingmanager/docs/swagger-ui/, is not reachable here):
 * ebourg/jsign, jsign-crypto/src/main/java/net/jsign/jca/DigiCertOneSigningService.java and its test
 * DigiCertOneSigningServiceTest.java (with test resource services/digicertone-sign.json):
 * - `GET certificates?alias=<certificate alias>` or `?id=<id>` → `{"total","offset","limit","items": [{id, alias,
 *   cert (base64 DER), chain: [{blob}], keypair: {id}}]}`;
 * - `GET keypairs/{id}` → `{..., key_alg, account}`;
 * - `POST keypairs/{id}/sign` `{"account", "sig_alg" (e.g. SHA256withRSA), "hash" (base64 of the digest)}` →
 *   `{"id", "signature" (base64)}`;
 * - errors `{"error": {"status": "invalid_input_field", "message": "Keypair not present for given keypairId …"}}`.
 * Other public clients list `GET keypairs` (and `?alias=<keypair alias>`) as `{"items": [...]}`; smctl's
 * `--keypair-alias` is the keypair's alias. The keypair's own field names beyond id, alias, key_alg and account
 * (`key_type`, `key_size`, `status`, `default_certificate`) are the emulator's guesses, kept in this file.
 *
 * Real cryptography: each keypair is an RSA key made with node:crypto, its certificate is issued by the emulator's
 * own code-signing CA, and `sign` signs the given digest with PKCS#1 v1.5 (the DigestInfo of sig_alg's digest), so
 * `openssl dgst -verify` with the certificate's public key accepts the signature over the original file.
 */
import { X509Certificate, constants, createPublicKey, generateKeyPairSync, privateEncrypt, randomUUID, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { ApiError } from './api-error.js';
import type { EmuUser, Model } from './model.js';
import { certifyPublicKey, makeCert, type KeyPair } from './pki.js';

export const SOFTWARE_TRUST = '/signingmanager/api/v1';

/** Permissions as the emulator's role catalogue (roles.ts) names them. */
export const VIEW_KEYPAIR = 'VIEW_SM_KEYPAIR';
export const VIEW_CERTIFICATE = 'VIEW_SM_CERTIFICATE';
export const SIGN_HASH = 'SIGN_SM_HASH';
export const MANAGE_KEYPAIR = 'MANAGE_SM_KEYPAIR';

/** The reported answer to a signature asked for without the second factor (see the header). */
export const NOT_MFA = 'User is not multi-factor authenticated. Missing Client Authentication Certificate.';

export interface SigningCertificate {
  id: string;
  alias: string;
  certPem: string;
  /** Base64 DER, as jsign reads `cert` and `chain[].blob`. */
  der: string;
}

export interface Keypair {
  id: string;
  alias: string;
  keyType: 'RSA';
  keySize: number;
  account: string;
  status: 'ACTIVE' | 'DISABLED';
  privateKey: KeyObject;
  certificate: SigningCertificate;
  /** Users the keypair is assigned to (by id). */
  users: Set<string>;
  /** Teams the keypair is assigned to (by id); their members may use it. */
  teams: Set<string>;
}

export interface Team {
  id: string;
  name: string;
  members: Set<string>;
}

/**
 * DigestInfo prefixes (RFC 8017, section 9.2, note 1): the DER of `DigestInfo { AlgorithmIdentifier, OCTET STRING }`
 * up to the digest itself, and the digest's length. sig_alg names as jsign sends them (Java's names).
 */
const DIGESTS: Record<string, { prefix: Buffer; length: number }> = {
  SHA256withRSA: { prefix: Buffer.from('3031300d060960864801650304020105000420', 'hex'), length: 32 },
  SHA384withRSA: { prefix: Buffer.from('3041300d060960864801650304020205000430', 'hex'), length: 48 },
  SHA512withRSA: { prefix: Buffer.from('3051300d060960864801650304020305000440', 'hex'), length: 64 },
};

const derOf = (pem: string): string => Buffer.from(new X509Certificate(pem).raw).toString('base64');

export class SoftwareTrust {
  readonly keypairs = new Map<string, Keypair>();
  readonly teams = new Map<string, Team>();
  private ca: KeyPair | undefined;

  constructor(private readonly model: Model) {}

  /** The CA that issues the keypairs' code-signing certificates (made on first use: it costs an RSA key). */
  get signingCa(): KeyPair {
    this.ca ??= makeCert({ commonName: 'd1 emulator code signing CA', isCa: true, notAfter: new Date(Date.now() + 3650 * 86_400_000) });
    return this.ca;
  }

  /** A keypair (RSA 2048) with a code-signing certificate for it, assigned to the given users and teams. */
  addKeypair(o: { alias: string; account?: string; users?: string[]; teams?: string[]; certificateAlias?: string }): Keypair {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const now = this.model.clock().getTime();
    const certPem = certifyPublicKey(
      { commonName: `${o.alias} (emulator code signing)`, codeSigning: true, issuer: this.signingCa, notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 365 * 86_400_000) },
      forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()) as forge.pki.rsa.PublicKey,
    );
    const kp: Keypair = {
      id: randomUUID(),
      alias: o.alias,
      keyType: 'RSA',
      keySize: 2048,
      account: o.account ?? 'acct-main',
      status: 'ACTIVE',
      privateKey,
      certificate: { id: randomUUID(), alias: o.certificateAlias ?? `${o.alias}-cert`, certPem, der: derOf(certPem) },
      users: new Set(o.users ?? []),
      teams: new Set(o.teams ?? []),
    };
    this.keypairs.set(kp.id, kp);
    return kp;
  }

  addTeam(name: string, members: string[]): Team {
    const team: Team = { id: randomUUID(), name, members: new Set(members) };
    this.teams.set(team.id, team);
    return team;
  }

  /** Assigned to the user itself, or to a team it is a member of ("team/user assignment of keypairs"). */
  assigned(kp: Keypair, user: EmuUser): boolean {
    if (kp.users.has(user.id)) return true;
    for (const t of kp.teams) if (this.teams.get(t)?.members.has(user.id)) return true;
    return false;
  }

  /** View keypair / View certificate: those assigned to the caller; with Manage keypair, all of its accounts'. */
  visible(kp: Keypair, user: EmuUser): boolean {
    return this.assigned(kp, user) || (this.model.has(user, MANAGE_KEYPAIR) && user.accounts.includes(kp.account));
  }

  publicKeypair(kp: Keypair): Record<string, unknown> {
    return {
      id: kp.id,
      alias: kp.alias,
      key_alg: kp.keyType,
      key_type: kp.keyType,
      key_size: kp.keySize,
      account: kp.account,
      status: kp.status,
      default_certificate: { id: kp.certificate.id, alias: kp.certificate.alias },
    };
  }

  publicCertificate(kp: Keypair): Record<string, unknown> {
    return {
      id: kp.certificate.id,
      alias: kp.certificate.alias,
      cert: kp.certificate.der,
      chain: [{ blob: derOf(this.signingCa.certPem) }],
      keypair: { id: kp.id, alias: kp.alias },
      status: 'ACTIVE',
    };
  }

  /**
   * Routes `/signingmanager/api/v1/...`. `twoFactor` is true when the call came with the API key AND the client
   * certificate of the same user (the server checked both before this point).
   */
  route(method: string, url: URL, caller: EmuUser, body: unknown, twoFactor: boolean): [number, unknown] | undefined {
    const p = url.pathname.slice(SOFTWARE_TRUST.length);
    const q = url.searchParams;
    const m = this.model;
    let match: RegExpExecArray | null;
    const page = (items: unknown[]) => [200, { total: items.length, offset: 0, limit: Number(q.get('limit') ?? 20) || 20, items }] as [number, unknown];

    if (p === '/certificates' && method === 'GET') {
      need(m, caller, VIEW_CERTIFICATE, 'View certificate');
      const alias = q.get('alias');
      const id = q.get('id');
      return page(
        [...this.keypairs.values()]
          .filter((kp) => this.visible(kp, caller) && (!alias || kp.certificate.alias === alias) && (!id || kp.certificate.id === id))
          .map((kp) => this.publicCertificate(kp)),
      );
    }
    if (p === '/keypairs' && method === 'GET') {
      need(m, caller, VIEW_KEYPAIR, 'View keypair');
      const alias = q.get('alias');
      return page([...this.keypairs.values()].filter((kp) => this.visible(kp, caller) && (!alias || kp.alias === alias)).map((kp) => this.publicKeypair(kp)));
    }
    if ((match = /^\/keypairs\/([^/]+)$/.exec(p)) && method === 'GET') {
      need(m, caller, VIEW_KEYPAIR, 'View keypair');
      return [200, this.publicKeypair(this.visibleKeypair(decodeURIComponent(match[1]!), caller))];
    }
    if ((match = /^\/keypairs\/([^/]+)\/sign$/.exec(p)) && method === 'POST') {
      // Signing needs both factors, checked first: the reported answer comes whatever else is wrong.
      if (!twoFactor) throw new ApiError(403, 'access_denied', NOT_MFA);
      need(m, caller, SIGN_HASH, 'Sign');
      const kp = this.visibleKeypair(decodeURIComponent(match[1]!), caller);
      if (!this.assigned(kp, caller)) throw new ApiError(403, 'access_denied', `Keypair ${kp.id} is not assigned to user ${caller.id} or to a team of the user`);
      if (kp.status !== 'ACTIVE') throw new ApiError(400, 'invalid_input_field', `Keypair ${kp.id} is not active`);
      return [200, { id: randomUUID(), signature: this.sign(kp, body).toString('base64') }];
    }
    return undefined;
  }

  /** A keypair the caller may see, else the "not present" answer jsign's tests show (an unassigned one looks absent). */
  private visibleKeypair(id: string, caller: EmuUser): Keypair {
    const kp = this.keypairs.get(id);
    if (!kp || !this.visible(kp, caller)) throw new ApiError(404, 'invalid_input_field', `Keypair not present for given keypairId ${id}. Please provide correct keypairId.`);
    return kp;
  }

  /** PKCS#1 v1.5 over DigestInfo(sig_alg's digest, hash): what SHA256withRSA makes of a message with that digest. */
  private sign(kp: Keypair, body: unknown): Buffer {
    const b = (body ?? {}) as Record<string, unknown>;
    if (b.account !== kp.account) throw new ApiError(400, 'invalid_input_field', `account must be the keypair's account ${kp.account}`);
    const alg = typeof b.sig_alg === 'string' ? DIGESTS[b.sig_alg] : undefined;
    if (!alg) throw new ApiError(400, 'invalid_input_field', `sig_alg must be one of ${Object.keys(DIGESTS).join(', ')} for an ${kp.keyType} keypair`);
    const hash = typeof b.hash === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(b.hash) ? Buffer.from(b.hash, 'base64') : undefined;
    if (!hash || hash.length !== alg.length) throw new ApiError(400, 'invalid_input_field', `hash must be the base64 of a ${alg.length}-byte digest for ${String(b.sig_alg)}`);
    return privateEncrypt({ key: kp.privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([alg.prefix, hash]));
  }
}

function need(m: Model, caller: EmuUser, permission: string, label: string): void {
  if (!m.has(caller, permission)) throw new ApiError(403, 'access_denied', `Permission ${permission} (Software Trust Manager: ${label}) is required`);
}

/** The public key of a keypair's certificate, for tests that verify a signature. */
export function certificatePublicKey(kp: Keypair): KeyObject {
  return createPublicKey(kp.certificate.certPem);
}
