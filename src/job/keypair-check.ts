/**
 * The keypair check (`keypair-alias`, with `client-certificate-for-job`): right after both factors of the job's user
 * are made, main asks Software Trust with exactly those factors whether that user may sign with the keypair the job
 * will sign with, and whether the keypair has an ACTIVE certificate, so a set-up that cannot sign (or would sign with
 * a revoked or expired certificate) fails in seconds, before the build, with what to fix.
 *
 * What it reads (recorded answers, ebourg/jsign digicertone-keypairs.json; DigiCert's Jenkins plugin): may sign:
 * `is_signable_by_me` when present, else the assignment (`users[].id`; `groups` when the user is not listed, which
 * the answer cannot confirm: it does not list a group's members); a certificate: `certificates[]` with
 * `certificate_status` ACTIVE, the `default_cert` one preferred, else `number_of_active_certificates`. An answer
 * without a field passes that half with a warning naming what could not be confirmed.
 *
 * Why it is needed (docs/software-trust-notes.md, section 6): Software Trust's Signer and Developer roles "sign
 * software with keypairs assigned to them" and see only those (docs.digicert.com, Software Trust Manager user roles);
 * keypairs are assigned to users or teams (Software Trust secure configuration guide); every signing operation needs
 * both factors of one user (dev.digicert.com "Set up service user multi-factor authentication"). The check lists
 * `GET /signingmanager/api/v1/keypairs?alias=<alias>` on `clientauth.<host>`, with the minted token as x-api-key and
 * the job's client certificate in the TLS handshake, as smctl does with SM_HOST, SM_API_KEY and SM_CLIENT_CERT_FILE.
 * It signs nothing and creates nothing: post has nothing more to undo.
 */
import { readFile } from 'node:fs/promises';
import type { Core } from '../runner/core.js';
import { D1Client, D1Error, type Id, type Keypair, type KeypairAlias } from '../d1/client.js';
import type { KeypairCertificate } from '../d1/wire.js';
import type { HttpClient, HttpOptions } from '../platform/http.js';
import type { Clock } from '../platform/clock.js';
import { traceFor } from '../d1/trace.js';
import { USER_AGENT } from '../platform/version.js';

export interface KeypairCheck {
  host: string;
  alias: KeypairAlias;
  /** The job's user: the one both factors belong to. */
  userId: Id;
  token: string;
  /** The job's PKCS#12 file and its password (already masked). */
  certificateFile: string;
  certificatePassword: string;
  /** Everything to scrub from server text besides the token and password. */
  secrets: readonly string[];
  /** The CAs TLS trusts (inputs.ts parseTrust). */
  trust: readonly string[];
}

export interface KeypairCheckDeps {
  core: Core;
  env: NodeJS.ProcessEnv;
  createHttp: (opts: HttpOptions) => HttpClient;
  clock: Clock;
  deadline: number;
}

/** How to give the user the keypair (docs.digicert.com "Update keypair", "Update keypair access"). */
const assignHint = (alias: string, userId: string): string =>
  `assign keypair '${alias}' to user ${userId}, or to a team the user is a member of, in Software Trust (Keypairs > ${alias} > Edit > Access, or smctl keypair update-access <keypair id> --users ${userId} --operation add; both need the Manage keypair permission)`;

/** What the answer says about one half of the question: confirmed (a phrase for the log), refused, or not known. */
type Finding = { ok: string } | { no: string } | { unknown: string };

/** May the user sign with it: `is_signable_by_me`, else the assignment. */
export function maySign(k: Keypair, userId: Id, alias: KeypairAlias): Finding {
  const assignment = `${k.users ? `users: ${k.users.join(', ') || 'none'}` : 'no users field'}; ${k.groups ? `groups: ${k.groups.map((g) => g.name ?? g.id).join(', ') || 'none'}` : 'no groups field'}`;
  if (k.signableByMe === true) return { ok: 'is_signable_by_me: true' };
  if (k.signableByMe === false) {
    return {
      no: `Software Trust answers is_signable_by_me: false: the user can see keypair '${alias}' (id ${k.id}) but may not sign with it (${assignment}). To fix: ${assignHint(alias, userId)}; and give the user a Software Trust role with Sign (Signer or Developer)`,
    };
  }
  if (k.users?.includes(userId)) return { ok: 'assigned to the user (users)' };
  const inGroups = k.groups && k.groups.length > 0;
  if (k.users && k.groups && !inGroups && k.limitByUsers !== false) {
    return { no: `keypair '${alias}' (id ${k.id}) is not assigned to the user nor to any group (${assignment}). To fix: ${assignHint(alias, userId)}` };
  }
  const missing = k.users || k.groups || k.limitByUsers !== undefined ? (inGroups ? 'the answer lists its groups but not their members' : `limit_by_users: ${String(k.limitByUsers)}, and ${assignment}`) : 'the answer has none of is_signable_by_me, users, groups';
  return { unknown: `that the user may sign with it (no is_signable_by_me; ${missing})` };
}

/** Has it an ACTIVE certificate (the default one preferred). */
export function activeCertificate(k: Keypair, alias: KeypairAlias): Finding & { warn?: string } {
  const name = (c: KeypairCertificate) => `'${c.alias ?? c.id}'`;
  const renew = `To fix: renew or re-issue its certificate in Software Trust (Keypairs > ${alias} > Generate certificate, or smctl keypair generate-cert ${k.id} --set-as-default-cert=true), or name a keypair with an active certificate in keypair-alias`;
  if (k.certificates) {
    const active = k.certificates.filter((c) => c.status === 'ACTIVE');
    const byDefault = k.certificates.find((c) => c.isDefault === true);
    const until = (c: KeypairCertificate) => (c.validTo ? `, valid to ${c.validTo}` : '');
    if (byDefault?.status === 'ACTIVE') return { ok: `its default certificate ${name(byDefault)} is ACTIVE${until(byDefault)}` };
    const first = active[0];
    if (first) {
      const why = byDefault ? `its default certificate ${name(byDefault)} is ${byDefault.status ?? 'of unknown status'}` : k.certificates.some((c) => c.isDefault === false) ? 'none of its certificates is the default' : '';
      return {
        ok: `certificate ${name(first)} is ACTIVE${until(first)}`,
        warn: why
          ? `${why}, while ${name(first)} is ACTIVE: a tool that signs with the keypair's default certificate (smctl sign --keypair-alias) would not use the active one. Make ${name(first)} the default in Software Trust, or name it when signing`
          : undefined,
      };
    }
    if (k.certificates.some((c) => c.status === undefined)) return { unknown: 'that it has an ACTIVE certificate (a certificate without certificate_status)' };
    const list = k.certificates.map((c) => `${name(c)} ${c.status}`).join(', ');
    return { no: `keypair '${alias}' (id ${k.id}) has no ACTIVE certificate to sign with (${list || 'it has no certificate'}). ${renew}` };
  }
  if (k.activeCertificates !== undefined) {
    return k.activeCertificates > 0 ? { ok: `number_of_active_certificates: ${k.activeCertificates}` } : { no: `keypair '${alias}' (id ${k.id}) has no ACTIVE certificate to sign with (number_of_active_certificates: 0). ${renew}` };
  }
  return { unknown: 'that it has an ACTIVE certificate (the answer has neither certificates nor number_of_active_certificates)' };
}

/** Returns the keypair's id; throws, naming the alias and the user and what to fix, when the user cannot sign with it. */
export async function checkKeypair(deps: KeypairCheckDeps, c: KeypairCheck): Promise<Id> {
  const { core, env, createHttp, clock, deadline } = deps;
  const requestHost = `clientauth.${c.host}`;
  const pfx = await readFile(c.certificateFile);
  const http = createHttp({ baseUrl: `https://${requestHost}`, headers: { 'x-api-key': c.token, 'user-agent': USER_AGENT }, env, tls: { pfx, passphrase: c.certificatePassword }, ca: c.trust });
  const lead = `Keypair check for keypair-alias '${c.alias}' as user ${c.userId} (the job's token and client certificate, on ${requestHost})`;
  const after = 'Nothing was signed; the post step revokes what this job made.';
  try {
    const client = new D1Client(http, {
      host: requestHost,
      secrets: [...c.secrets, c.token, c.certificatePassword],
      deadline,
      clock,
      log: (line) => core.info(line),
      trace: traceFor((line) => core.debug(line), env),
    });
    let listed: Awaited<ReturnType<D1Client['listKeypairs']>>;
    try {
      listed = await client.listKeypairs(c.alias);
    } catch (err) {
      if (!(err instanceof D1Error)) throw err;
      const fix =
        err.kind === 'forbidden'
          ? ` User ${c.userId} needs a Software Trust role with View keypair and Sign (Signer or Developer) in Account Manager.`
          : err.kind === 'auth'
            ? ` Check that user ${c.userId} is active and that the host is the one its credentials were made on.`
            : '';
      throw new D1Error(`${lead}: ${err.message}${fix}`, err.kind, err.status);
    }
    // Exact alias: a server that filters by prefix or ignores the filter must not make another keypair count
    // (DigiCert's Jenkins plugin filters the items by alias again too).
    const keypair = listed.find((k) => k.alias === c.alias);
    if (!keypair) {
      throw new D1Error(
        `${lead}: Software Trust lists no keypair '${c.alias}' that this user may use (Signer and Developer roles see and sign only with keypairs assigned to them or to their team). To fix: ${assignHint(c.alias, c.userId)}; or correct keypair-alias. ${after}`,
        'forbidden',
      );
    }
    const sign = maySign(keypair, c.userId, c.alias);
    if ('no' in sign) throw new D1Error(`${lead}: ${sign.no}. ${after}`, 'forbidden');
    const cert = activeCertificate(keypair, c.alias);
    if ('no' in cert) throw new D1Error(`${lead}: ${cert.no}. ${after}`, 'invalid');
    for (const f of [sign, cert]) {
      if ('unknown' in f) core.warning(`${lead}: could not confirm ${f.unknown}; the check passes on the listing alone, and signing may still be refused.`);
    }
    if (cert.warn) core.warning(`${lead}: ${cert.warn}.`);
    const said = (f: Finding) => ('ok' in f ? f.ok : 'not confirmed');
    core.info(
      `Keypair check: keypair '${c.alias}' (id ${keypair.id}) is listed for user ${c.userId}; may sign: ${said(sign)}; certificate: ${said(cert)}; checked with the job's token and client certificate on ${requestHost}.`,
    );
    return keypair.id;
  } finally {
    await http.close();
  }
}
