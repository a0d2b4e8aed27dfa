/**
 * Post's revocation of one recorded credential, and the words it is reported in: what it is, the outcome, and the
 * command a person runs when it could not be done (placeholders, never a secret).
 */
import { KINDS, findByName, type Made, type RevokeContext } from '../credentials/index.js';
import { D1Error, type Id } from '../d1/client.js';
import { utcDayOf } from '../d1/wire.js';
import type { Core } from '../runner/core.js';
import { CLIENTAUTH_PREFIX } from './connect.js';
import type { PostOutcome } from './deps.js';

/** The worst outcome wins the summary line: a failure must not hide behind a success. */
const RANK: PostOutcome[] = ['nothing', 'gone', 'expired', 'revoked', 'skipped', 'failed'];

export function worstOf(outcomes: readonly PostOutcome[]): PostOutcome {
  return outcomes.reduce<PostOutcome>((w, o) => (RANK.indexOf(o) > RANK.indexOf(w) ? o : w), 'nothing');
}

export function describe(m: Made, host: string): string {
  return KINDS[m.kind].local ? `${KINDS[m.kind].noun} ${m.id} in RUNNER_TEMP` : `${KINDS[m.kind].noun} '${m.name}'${m.id ? ` (id ${m.id})` : ''} on ${host}`;
}

const REVOKED: Record<Made['kind'], string> = { 'api-token': 'Revoked', 'service-user': 'Deleted', 'client-certificate': 'Disabled', 'pkcs12-file': 'Removed' };

/** The command a person runs with the same kind of credential (placeholders, never the secret itself). */
export function manualCommands(host: string, certInput: boolean): (m: Made) => string {
  const credentialArgs = certInput ? `--cert-type P12 --cert cert.p12:"$P12_PASSWORD"` : `-H "x-api-key: $D1_ADMIN_API_KEY"`;
  const base = `https://${certInput ? CLIENTAUTH_PREFIX : ''}${host}`;
  return (m) => KINDS[m.kind].manual(m, { base, credentialArgs });
}

export async function revokeOne(core: Core, ctx: RevokeContext, m: Made, host: string, now: Date, manual: (m: Made) => string): Promise<[PostOutcome, string]> {
  const kind = KINDS[m.kind];
  const what = describe(m, host);
  try {
    let id: Id | '' = m.id;
    if (!id && !kind.list) {
      core.info(`${what}: ${manual(m)}.`);
      return ['nothing', `not needed (${kind.noun}: answer lost, unusable)`];
    }
    if (!id && kind.list && ctx.client) {
      // Main never saw the create's answer: it may exist all the same. Its name is this step's own (see mint.ts).
      id = findByName(await kind.list(ctx.client, m), m.name)?.id ?? '';
      if (!id) {
        core.info(`${what} was never created; nothing to revoke.`);
        return ['nothing', 'not needed (nothing was created)'];
      }
      core.info(`Found ${kind.noun} '${m.name}' (id ${id}) on ${host}: main never saw the answer to its create, but DigiCert ONE made it.`);
    }
    if (!id) return ['nothing', 'not needed (nothing was created)'];
    if ((await kind.revoke(ctx, id)) === 'gone') {
      core.info(`${what} was already deleted.`);
      return ['gone', 'yes (it was already deleted)'];
    }
    core.info(`${REVOKED[m.kind]} ${what}${m.id ? '' : ` (id ${id})`}.`);
    return ['revoked', 'yes'];
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    // A 401 after the credential's own end date: the bootstrap may be over too, but so is what it made.
    if (err instanceof D1Error && err.kind === 'auth' && m.endDate && m.endDate < utcDayOf(now)) {
      core.info(`${what} could not be deleted (${msg}), but it passed its end date ${m.endDate} and no longer works.`);
      return ['expired', `not needed (past its end date ${m.endDate})`];
    }
    core.warning(`Could not revoke ${what}: ${msg} It stays live until ${m.endDate ? `${m.endDate} 23:59:59 UTC` : 'deleted (DigiCert ONE confirmed no end date)'}; ${manual(m)}`);
    return ['failed', `FAILED; delete ${kind.noun} ${m.id ? `id ${m.id}` : `'${m.name}'`}`];
  }
}
