/**
 * The emulator's Software Trust Manager: keypairs, each with its certificates (ACTIVE, REVOKED or EXPIRED, one of
 * them the default), assigned to users and groups (teams); listing, reading, signing a hash and reading a signature,
 * each allowed only as the documentation says, each answered in the shape recorded from a real tenant.
 *
 * Sources, and how sure each rule is (docs/api.md lists every field as confirmed / recorded / guessed):
 * - RECORDED answers, captured from a real tenant by the jsign project (it also runs live tests against one):
 *   ebourg/jsign jsign-crypto/src/test/resources/services/digicertone-keypairs.json (`GET keypairs/{id}`),
 *   digicertone-certificates.json (`GET certificates?alias=`), digicertone-sign.json (`POST keypairs/{id}/sign`),
 *   and DigiCertOneSigningServiceTest.java (the error shape `{"error": {"status", "message"}}`, the 404 "Keypair not
 *   present for given keypairId …", the empty page `{"total":0,"offset":0,"limit":20,"items":[]}`). The client,
 *   DigiCertOneSigningService.java, sends `account` back as the object it read from `GET keypairs/{id}`, `sig_alg`
 *   in Java's spelling (`SHA256withRSA`), and lists `certificates?limit=100&certificate_status=ACTIVE`.
 * - DigiCert's own client, jenkinsci/digicert-software-trust-code-sign-plugin (Linux.java, commit 0533a33 and
 *   earlier, under io/jenkins/plugins/sample): `keypairs?alias=` and `keypairs?id=` answer `{"items": [...]}`; it
 *   filters the items by alias again on its side; it reads `limit_by_users`, `users[].id` and `created_by` (a user
 *   id) from a listed keypair, and `chain[].cert_type` ("root", "intermediate") with `blob` from a certificate.
 * - CONFIRMED by DigiCert's documentation: docs.digicert.com, Software Trust Manager user roles, "Developer (AS)" and
 *   "Signer": View keypair shows "keypairs ... assigned to them", "Users with Manage keypair permission can view all
 *   keypairs"; Sign lets a user "sign software with keypairs assigned to them" (no Manage-keypair exception for
 *   signing). Software Trust secure configuration guide: "team/user assignment of keypairs"; smctl "Update keypair
 *   access" (`--users`, `--groups`, `--restricted`). dev.digicert.com "Create a keypair and sign a file hash":
 *   `GET /signatures/{signature_id}` exists; signature algorithms `SHA256WithRSA`, `SHA384WithRSA`, `SHA512WithRSA`
 *   (RSA), `SHA256WithECDSA`… (ECDSA), `ED25519` (EdDSA). dev.digicert.com "Set up service user multi-factor
 *   authentication": mTLS for "all DigiCert Software Trust Manager signing operations".
 * - REPORTED from a real run (digicert/code-signing-software-trust-action issue 14): a signature asked for with the
 *   API key alone is refused with the whole NOT_MFA text below, status `access_denied`.
 * - GUESSED (marked where they are made): what `is_signable_by_me` is computed from, what `limit_by_users: false`
 *   means, that signing is refused for a keypair that is not ONLINE, the strictness of the sign body (unknown keys,
 *   `account` as a bare id), the answer of `GET /signatures/{id}`, and every value the emulator makes up for a
 *   recorded field it has no model for (HSM partition, profile, organisation ids).
 *
 * Real cryptography: each keypair is an RSA key made with node:crypto, its certificates are issued by the emulator's
 * own code-signing CA, and `sign` signs the given digest with PKCS#1 v1.5 (the DigestInfo of sig_alg's digest), so
 * `openssl dgst -verify` with the certificate's public key accepts the signature over the original file.
 */
import { X509Certificate, constants, createHash, createPublicKey, generateKeyPairSync, privateEncrypt, randomUUID, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { ApiError } from './api-error.js';
import type { EmuUser, Model } from './model.js';
import { certifyPublicKey, makeCert, type KeyPair } from './pki.js';
import { checkBody, type BodyRules } from './strict.js';

export const SOFTWARE_TRUST = '/signingmanager/api/v1';

/** Permissions as the emulator's role catalogue (roles.ts) names them. */
export const VIEW_KEYPAIR = 'VIEW_SM_KEYPAIR';
export const VIEW_CERTIFICATE = 'VIEW_SM_CERTIFICATE';
export const SIGN_HASH = 'SIGN_SM_HASH';
export const MANAGE_KEYPAIR = 'MANAGE_SM_KEYPAIR';

/** The whole answer to a signature asked for without the second factor (reported; see the header). */
export const NOT_MFA =
  'User is not multi-factor authenticated. Missing Client Authentication Certificate. As per compliance rules, user needs to be authenticated using multi-factor for performing sign operation.';

export type CertificateStatus = 'ACTIVE' | 'REVOKED' | 'EXPIRED';

export interface SigningCertificate {
  id: string;
  alias: string;
  certPem: string;
  /** Base64 DER, as jsign reads `cert` and `chain[].blob`. */
  der: string;
  status: CertificateStatus;
  /** `default_cert`: the one smctl signs with when given only the keypair (recorded: exactly one is true). */
  isDefault: boolean;
  validFrom: Date;
  validTo: Date;
  createdOn: string;
}

export interface Keypair {
  id: string;
  alias: string;
  keyAlg: 'RSA';
  keySize: number;
  /** Recorded values: PRODUCTION or TEST (smctl's --key-type, the Jenkins plugin's `keyType`). */
  keyType: 'PRODUCTION' | 'TEST';
  /** Recorded: ONLINE. OFFLINE is the emulator's name for a keypair that cannot sign (guessed). */
  keyStatus: 'ONLINE' | 'OFFLINE';
  account: string;
  /** Recorded `limit_by_users`; true: only the users and groups assigned may use it (smctl `--restricted`). */
  limitByUsers: boolean;
  privateKey: KeyObject;
  publicKeyDer: string;
  certificates: SigningCertificate[];
  /** Users the keypair is assigned to (by id). */
  users: Set<string>;
  /** Groups (teams) the keypair is assigned to (by id); their members may use it. */
  teams: Set<string>;
  createdOn: string;
  createdBy: string;
}

export interface Team {
  id: string;
  name: string;
  members: Set<string>;
  createdOn: string;
}

export interface Signature {
  id: string;
  keypairId: string;
  userId: string;
  sigAlg: string;
  hash: string;
  signature: string;
  createdOn: string;
}

/** A certificate as a scenario asks for it: by default one ACTIVE default certificate per keypair. */
export interface CertificateSpec {
  alias?: string;
  status?: CertificateStatus;
  default?: boolean;
}

/**
 * DigestInfo prefixes (RFC 8017, section 9.2, note 1): the DER of `DigestInfo { AlgorithmIdentifier, OCTET STRING }`
 * up to the digest itself, and the digest's length. Keyed by the lower-cased name: DigiCert's tutorial writes
 * `SHA256WithRSA`, jsign sends Java's `SHA256withRSA`, and both must work (guessed: the server compares without case).
 */
const DIGESTS: Record<string, { prefix: Buffer; length: number }> = {
  sha256withrsa: { prefix: Buffer.from('3031300d060960864801650304020105000420', 'hex'), length: 32 },
  sha384withrsa: { prefix: Buffer.from('3041300d060960864801650304020205000430', 'hex'), length: 48 },
  sha512withrsa: { prefix: Buffer.from('3051300d060960864801650304020305000440', 'hex'), length: 64 },
};
/** Named in DigiCert's tutorial, not modelled here (the emulator's keypairs are RSA). */
const NOT_MODELLED = /^(sha(256|384|512)withecdsa|ed25519)$/;

/** POST keypairs/{id}/sign (strict.ts rules; how sure each key is). */
export const SIGN_BODY: BodyRules = {
  account: { type: 'object', source: 'recorded: ebourg/jsign DigiCertOneSigningService.java sends the account object read from GET keypairs/{id}; absent: another public client' },
  sig_alg: { type: 'string', required: true, source: 'recorded: jsign (SHA256withRSA); confirmed names: dev.digicert.com "Create a keypair and sign a file hash" (SHA256WithRSA…)' },
  hash: { type: 'string', required: true, source: 'recorded: jsign sends the base64 of the digest' },
};

const derOf = (pem: string): string => Buffer.from(new X509Certificate(pem).raw).toString('base64');
const DAY = 86_400_000;

export class SoftwareTrust {
  readonly keypairs = new Map<string, Keypair>();
  readonly teams = new Map<string, Team>();
  readonly signatures = new Map<string, Signature>();
  private ca: KeyPair | undefined;

  constructor(private readonly model: Model) {}

  /** The CA that issues the keypairs' code-signing certificates (made on first use: it costs an RSA key). */
  get signingCa(): KeyPair {
    this.ca ??= makeCert({ commonName: 'd1 emulator code signing CA', isCa: true, notBefore: new Date(Date.now() - 3650 * DAY), notAfter: new Date(Date.now() + 3650 * DAY) });
    return this.ca;
  }

  /**
   * A keypair (RSA 2048) assigned to the given users and groups, with its certificates: one ACTIVE default one
   * unless `certificates` says otherwise (`[]`: none).
   */
  addKeypair(o: {
    alias: string;
    account?: string;
    users?: string[];
    teams?: string[];
    certificateAlias?: string;
    keyType?: Keypair['keyType'];
    limitByUsers?: boolean;
    certificates?: CertificateSpec[];
  }): Keypair {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kp: Keypair = {
      id: randomUUID(),
      alias: o.alias,
      keyAlg: 'RSA',
      keySize: 2048,
      keyType: o.keyType ?? 'PRODUCTION',
      keyStatus: 'ONLINE',
      account: o.account ?? 'acct-main',
      limitByUsers: o.limitByUsers ?? true,
      privateKey,
      publicKeyDer: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      certificates: [],
      users: new Set(o.users ?? []),
      teams: new Set(o.teams ?? []),
      createdOn: this.model.clock().toISOString(),
      createdBy: o.users?.[0] ?? 'emulator',
    };
    for (const spec of o.certificates ?? [{ alias: o.certificateAlias, default: true }]) this.addCertificate(kp, spec);
    this.keypairs.set(kp.id, kp);
    return kp;
  }

  /**
   * A certificate for the keypair's public key. EXPIRED ones ended yesterday (by the model's clock); REVOKED ones are
   * in date. `default: true` takes the default from the others (recorded: one `default_cert: true` per keypair).
   */
  addCertificate(kp: Keypair, spec: CertificateSpec = {}): SigningCertificate {
    const now = this.model.clock().getTime();
    const status = spec.status ?? 'ACTIVE';
    const validFrom = new Date(status === 'EXPIRED' ? now - 400 * DAY : now - 3_600_000);
    const validTo = new Date(status === 'EXPIRED' ? now - DAY : now + 365 * DAY);
    const certPem = certifyPublicKey(
      { commonName: `${kp.alias} (emulator code signing)`, codeSigning: true, issuer: this.signingCa, notBefore: validFrom, notAfter: validTo },
      forge.pki.publicKeyFromPem(createPublicKey(kp.privateKey).export({ type: 'spki', format: 'pem' }).toString()) as forge.pki.rsa.PublicKey,
    );
    const isDefault = spec.default ?? kp.certificates.length === 0;
    if (isDefault) for (const c of kp.certificates) c.isDefault = false;
    const cert: SigningCertificate = {
      id: randomUUID(),
      alias: spec.alias ?? (kp.certificates.length ? `${kp.alias}-cert-${kp.certificates.length + 1}` : `${kp.alias}-cert`),
      certPem,
      der: derOf(certPem),
      status,
      isDefault,
      validFrom,
      validTo,
      createdOn: new Date(now).toISOString(),
    };
    kp.certificates.push(cert);
    return cert;
  }

  addTeam(name: string, members: string[]): Team {
    const team: Team = { id: randomUUID(), name, members: new Set(members), createdOn: this.model.clock().toISOString() };
    this.teams.set(team.id, team);
    return team;
  }

  /**
   * Assigned to the user itself, or to a group it is a member of ("team/user assignment of keypairs"). A keypair with
   * `limit_by_users: false` is open to every user of its account (guessed: the Jenkins plugin reads `users` only when
   * `limit_by_users` is true, and smctl's update-access has `--restricted`).
   */
  assigned(kp: Keypair, user: EmuUser): boolean {
    if (!kp.limitByUsers && user.accounts.includes(kp.account)) return true;
    if (kp.users.has(user.id)) return true;
    for (const t of kp.teams) if (this.teams.get(t)?.members.has(user.id)) return true;
    return false;
  }

  /** View keypair / View certificate: those assigned to the caller; with Manage keypair, all of its accounts'. */
  visible(kp: Keypair, user: EmuUser): boolean {
    return this.assigned(kp, user) || (this.model.has(user, MANAGE_KEYPAIR) && user.accounts.includes(kp.account));
  }

  /**
   * `is_signable_by_me` (recorded, true for a user listed in `users`): computed for the caller as "this request's
   * user could sign with it": assigned (directly, through a group, or not limited by users), holding Sign, and the
   * keypair ONLINE. Guessed: the recorded answer shows only `true`.
   */
  signableBy(kp: Keypair, user: EmuUser): boolean {
    return this.assigned(kp, user) && this.model.has(user, SIGN_HASH) && kp.keyStatus === 'ONLINE';
  }

  /** `account` as an object, in the recorded keys; the flags are the emulator's values. */
  private accountObject(id: string): Record<string, unknown> {
    return {
      id,
      name: this.model.accounts.get(id)?.name ?? id,
      cert_central_integration_allowed: false,
      dynamic_test_keypair_allowed: false,
      gpg_enabled: false,
      is_csr_gen_enabled: false,
    };
  }

  /** `{id, name, auth_type}` as recorded for `users[]`, `created_by_user`; auth_type BASIC as recorded (guessed for service users). */
  private userRef(id: string): Record<string, unknown> {
    const u = this.model.users.get(id);
    return { id, name: u?.friendly_name ?? 'Automated', auth_type: 'BASIC' };
  }

  /** A keypair as `GET keypairs/{id}` and the items of `GET keypairs?alias=` give it (recorded keys). */
  publicKeypair(kp: Keypair, caller: EmuUser): Record<string, unknown> {
    return {
      id: kp.id,
      alias: kp.alias,
      key_size: kp.keySize,
      key_alg: kp.keyAlg,
      key_type: kp.keyType,
      key_storage: 'HSM',
      public_key: kp.publicKeyDer,
      certificates: kp.certificates.map((c) => this.publicCertificate(kp, c)),
      account: this.accountObject(kp.account),
      limit_by_users: kp.limitByUsers,
      users: [...kp.users].map((id) => this.userRef(id)),
      created_on: kp.createdOn,
      // Read by the Jenkins plugin from a listed keypair; not in jsign's recording (which has created_by_user).
      created_by: kp.createdBy,
      created_by_user: this.userRef(kp.createdBy),
      modified_on: kp.createdOn,
      modified_by_user: this.userRef(kp.createdBy),
      key_status: kp.keyStatus,
      groups: [...kp.teams].flatMap((id) => {
        const t = this.teams.get(id);
        return t ? [{ id: t.id, name: t.name, status: 'ACTIVE', created_on: t.createdOn, created_by: kp.createdBy, modified_on: t.createdOn, modified_by: kp.createdBy }] : [];
      }),
      number_of_active_certificates: kp.certificates.filter((c) => c.status === 'ACTIVE').length,
      key_modal_type: 'STATIC',
      is_signable_by_me: this.signableBy(kp, caller),
      // Recorded keys; the values are the emulator's (it has no HSM partitions).
      hsm_partition_details: {
        id: 'EMULATOR',
        name: 'emulator',
        escrow_default: false,
        enabled: true,
        provider_partition_id: '0',
        hsm_provider: { name: 'emulator' },
        account_assignments: null,
        display_name: 'emulator',
        partition_name: 'emulator',
        allowed_uses: ['key_escrow'],
        access_to_all: false,
        security_level: 'level_3',
        created_date: kp.createdOn.slice(0, 19),
        active_escrow_key_present: false,
        default: false,
      },
    };
  }

  /** A certificate as `GET certificates` items and a keypair's `certificates[]` give it (recorded keys). */
  publicCertificate(kp: Keypair, c: SigningCertificate): Record<string, unknown> {
    return {
      id: c.id,
      alias: c.alias,
      cert: c.der,
      certificate_fingerprint: createHash('sha256').update(Buffer.from(c.der, 'base64')).digest('base64'),
      certificate_status: c.status,
      account: this.accountObject(kp.account),
      keypair: { id: kp.id, alias: kp.alias, limit_by_users: kp.limitByUsers },
      default_cert: c.isDefault,
      created_on: c.createdOn,
      created_by: kp.createdBy,
      created_by_user: this.userRef(kp.createdBy),
      modified_on: c.createdOn,
      modified_by: kp.createdBy,
      modified_by_user: this.userRef(kp.createdBy),
      enrollment_method: 'CC_GENERATE',
      hierarchy: 'PRIVATE',
      certificate_type: 'STANDARD',
      certificate_profile: { id: 'emulator-profile', name: 'emulator code signing profile' },
      organization: { id: 'emulator-org' },
      ca_certificate: { id: 'emulator-ca' },
      chain: [{ cert_type: 'root', blob: derOf(this.signingCa.certPem) }],
      valid_from: c.validFrom.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      valid_to: c.validTo.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      custom_fields: [],
      auto_renewal: false,
    };
  }

  /**
   * Routes `/signingmanager/api/v1/...`. `twoFactor` is true when the call came with the API key AND the client
   * certificate of the same user (the server checked both before this point).
   */
  route(method: string, url: URL, caller: EmuUser, body: unknown, twoFactor: boolean, strictBodies = true): [number, unknown] | undefined {
    const p = url.pathname.slice(SOFTWARE_TRUST.length);
    const q = url.searchParams;
    const m = this.model;
    let match: RegExpExecArray | null;
    // Recorded page: {"total","offset","limit","items"}, limit 20 unless asked (jsign's empty answer shows 20).
    const page = (items: unknown[]) => [200, { total: items.length, offset: 0, limit: Number(q.get('limit') ?? 20) || 20, items }] as [number, unknown];

    if (p === '/certificates' && method === 'GET') {
      need(m, caller, VIEW_CERTIFICATE, 'View certificate');
      const [alias, id, status] = [q.get('alias'), q.get('id'), q.get('certificate_status')];
      return page(
        [...this.keypairs.values()]
          .filter((kp) => this.visible(kp, caller))
          .flatMap((kp) => kp.certificates.filter((c) => (!alias || c.alias === alias) && (!id || c.id === id) && (!status || c.status === status)).map((c) => this.publicCertificate(kp, c))),
      );
    }
    if (p === '/keypairs' && method === 'GET') {
      need(m, caller, VIEW_KEYPAIR, 'View keypair');
      const [alias, id] = [q.get('alias'), q.get('id')];
      return page([...this.keypairs.values()].filter((kp) => this.visible(kp, caller) && (!alias || kp.alias === alias) && (!id || kp.id === id)).map((kp) => this.publicKeypair(kp, caller)));
    }
    if ((match = /^\/keypairs\/([^/]+)$/.exec(p)) && method === 'GET') {
      need(m, caller, VIEW_KEYPAIR, 'View keypair');
      return [200, this.publicKeypair(this.visibleKeypair(decodeURIComponent(match[1]!), caller), caller)];
    }
    if ((match = /^\/keypairs\/([^/]+)\/sign$/.exec(p)) && method === 'POST') {
      // Signing needs both factors, checked first: the reported answer comes whatever else is wrong.
      if (!twoFactor) throw new ApiError(403, 'access_denied', NOT_MFA);
      need(m, caller, SIGN_HASH, 'Sign');
      const kp = this.visibleKeypair(decodeURIComponent(match[1]!), caller);
      if (!this.assigned(kp, caller)) throw new ApiError(403, 'access_denied', `Keypair ${kp.id} is not assigned to user ${caller.id} or to a group of the user`);
      // Guessed: a keypair that is not ONLINE does not sign.
      if (kp.keyStatus !== 'ONLINE') throw new ApiError(400, 'invalid_input_field', `Keypair ${kp.id} is ${kp.keyStatus}`);
      const { sigAlg, hash, signature } = this.sign(kp, body, strictBodies);
      const sig: Signature = { id: randomUUID(), keypairId: kp.id, userId: caller.id, sigAlg, hash, signature, createdOn: m.clock().toISOString() };
      this.signatures.set(sig.id, sig);
      // Recorded answer: {id, signature}.
      return [200, { id: sig.id, signature: sig.signature }];
    }
    if ((match = /^\/signatures\/([^/]+)$/.exec(p)) && method === 'GET') {
      // The path is in DigiCert's tutorial ("Get signature details"); the answer's keys are guessed. Visible to the
      // user who signed and to whoever may see the keypair.
      const sig = this.signatures.get(decodeURIComponent(match[1]!));
      const kp = sig ? this.keypairs.get(sig.keypairId) : undefined;
      if (!sig || !kp || (sig.userId !== caller.id && !this.visible(kp, caller))) {
        throw new ApiError(404, 'invalid_input_field', `Signature not present for given signatureId ${match[1]}`);
      }
      return [200, { id: sig.id, keypair: { id: kp.id, alias: kp.alias }, sig_alg: sig.sigAlg, hash: sig.hash, signature: sig.signature, created_on: sig.createdOn, created_by: sig.userId }];
    }
    return undefined;
  }

  /** A keypair the caller may see, else the "not present" answer jsign's tests show (an unassigned one looks absent). */
  private visibleKeypair(id: string, caller: EmuUser): Keypair {
    const kp = this.keypairs.get(id);
    if (!kp || !this.visible(kp, caller)) throw new ApiError(404, 'invalid_input_field', `Keypair not present for given keypairId ${id}. Please provide correct keypairId.`);
    return kp;
  }

  /**
   * The sign body as real clients send it: `{account, sig_alg, hash}` with `account` the object `GET keypairs/{id}`
   * gave (jsign), or without `account` (another public client). Checked by strict.ts (SIGN_BODY): a key it does not
   * know (strict mode only), a missing sig_alg or hash, or a value of the wrong type (`account` as a bare id string
   * included: no client is seen sending one) is a 400 naming the key, with Software Trust's code for bad input
   * (`invalid_input_field`, jsign's recorded errors). PKCS#1 v1.5 over DigestInfo(sig_alg's digest, hash): what
   * SHA256withRSA makes of a message with that digest.
   */
  private sign(kp: Keypair, body: unknown, strictBodies: boolean): { sigAlg: string; hash: string; signature: string } {
    let b: Record<string, unknown>;
    try {
      b = checkBody(body, SIGN_BODY, strictBodies);
    } catch (err) {
      throw err instanceof ApiError ? new ApiError(err.status, 'invalid_input_field', `${err.message} in the sign request (known: account, sig_alg, hash)`) : err;
    }
    if (b.account !== undefined) {
      const id = (b.account as Record<string, unknown>).id;
      if (typeof id !== 'string') throw new ApiError(400, 'invalid_input_field', "field 'account' must be the account object of the keypair (as GET keypairs/{id} gives it), or left out");
      if (id !== kp.account) throw new ApiError(400, 'invalid_input_field', `field 'account' names account ${id}, not the keypair's account ${kp.account}`);
    }
    const name = typeof b.sig_alg === 'string' ? b.sig_alg.toLowerCase() : '';
    if (NOT_MODELLED.test(name)) {
      throw new ApiError(400, 'invalid_input_field', `sig_alg ${String(b.sig_alg)} is for ECDSA or EdDSA keypairs, which this emulator does not model; its keypairs are RSA (SHA256WithRSA, SHA384WithRSA, SHA512WithRSA)`);
    }
    const alg = DIGESTS[name];
    if (!alg) throw new ApiError(400, 'invalid_input_field', `sig_alg must be one of SHA256WithRSA, SHA384WithRSA, SHA512WithRSA (any case) for an ${kp.keyAlg} keypair`);
    const hash = typeof b.hash === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(b.hash) ? Buffer.from(b.hash, 'base64') : undefined;
    if (!hash || hash.length !== alg.length) throw new ApiError(400, 'invalid_input_field', `hash must be the base64 of a ${alg.length}-byte digest for ${String(b.sig_alg)}`);
    const signature = privateEncrypt({ key: kp.privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([alg.prefix, hash])).toString('base64');
    return { sigAlg: String(b.sig_alg), hash: b.hash as string, signature };
  }
}

function need(m: Model, caller: EmuUser, permission: string, label: string): void {
  if (!m.has(caller, permission)) throw new ApiError(403, 'access_denied', `Permission ${permission} (Software Trust Manager: ${label}) is required`);
}

/** The keypair's default certificate (the one smctl signs with when named only the keypair). */
export function defaultCertificate(kp: Keypair): SigningCertificate {
  const c = kp.certificates.find((x) => x.isDefault) ?? kp.certificates[0];
  if (!c) throw new Error(`keypair ${kp.alias} has no certificate`);
  return c;
}

/** The public key of a keypair's default certificate, for tests that verify a signature. */
export function certificatePublicKey(kp: Keypair): KeyObject {
  return createPublicKey(defaultCertificate(kp).certPem);
}
