/**
 * Main's list of credentials, made in order, each recorded before its create: the token (for a named service user)
 * or an ephemeral service user with its token; then, when asked, the job's client certificate as a PKCS#12 file; then
 * the keypair check with both factors. The new secret is masked the moment it exists, before any other line.
 */
import { KINDS, type Made } from '../credentials/index.js';
import type { CreateContext } from '../credentials/mint.js';
import type { RunInfo } from '../credentials/naming.js';
import type { CreatedCredential, D1Client, Id, User } from '../d1/client.js';
import { maskSecret } from '../platform/text-safety.js';
import type { Core } from '../runner/core.js';
import type { Config } from '../runner/inputs.js';
import type { MakeDeps, Minted } from './deps.js';
import { recorded, type Ledger } from './ledger.js';
import type { JobCertificate } from './second-factor.js';

export interface JobCredentials extends Minted {
  jobCert?: JobCertificate;
  /** With keypair-alias: the keypair both factors were shown to reach. */
  keypairId?: Id;
}

/** The caller's own record, when the step needs it (`me`, `scope`, the end-date warning); read alongside the rest. */
export function readMe(client: D1Client, config: Config): Promise<User> | undefined {
  const needMe = config.serviceUserId === 'me' || config.scoped !== undefined || (config.expiryCheckAlways && config.expiryWarningDays > 0);
  const me = needMe ? client.getUser('me') : undefined;
  me?.catch(() => undefined); // awaited later; not an unhandled rejection meanwhile
  return me;
}

export async function makeCredentials(deps: MakeDeps, ledger: Ledger, config: Config, client: D1Client, me: Promise<User> | undefined): Promise<JobCredentials> {
  const { core } = deps;
  const minted = config.scoped ? await mintScoped(deps, client, ledger, config, me!) : await mintForUser(deps, client, ledger, config, me);
  // The new secret is masked before any other line is written (it was saved to state, without the secret, already).
  maskSecret(minted.secret, core.setSecret);
  // The second factor's code (and the key, CSR and PKCS#12 code it loads) is a chunk: the default path never loads it.
  const jobCert = config.clientCertificateForJob ? await (await import('./second-factor.js')).makeJobCertificate(deps, ledger, config, minted) : undefined;
  // Both factors exist and are in the ledger: prove they can sign with the keypair before the build spends time.
  const keypairId =
    config.keypairAlias && jobCert
      ? await (await import('./keypair-check.js')).checkKeypair(deps, {
          host: config.host,
          alias: config.keypairAlias,
          userId: minted.made.userId,
          token: minted.secret,
          certificateFile: jobCert.file,
          certificatePassword: jobCert.password,
          secrets: deps.secrets,
          trust: config.trust,
        })
      : undefined;
  return { ...minted, jobCert, keypairId };
}

async function cleanupStale(core: Core, config: Config, run: RunInfo, now: Date, ctx: CreateContext): Promise<void> {
  if (!config.cleanupStale) return;
  const { kind, client, pending } = ctx;
  if (!kind.list) return;
  const list = kind.list;
  const { sweepStale } = await import('../credentials/sweep.js');
  const deleted = await sweepStale({ list: () => list(client, pending), remove: (id) => kind.revoke({ client, runnerTemp: '' }, id) }, run, { staleAfterMs: config.staleAfterHours * 3_600_000, now });
  const noun = `${kind.noun}(s)`;
  core.info(
    deleted.length
      ? `cleanup-stale: deleted ${deleted.length} ${noun} left by earlier runs: ${deleted.map((t) => `'${t.name}' (id ${t.id})`).join(', ')}.`
      : `cleanup-stale: no ${noun} left by earlier runs.`,
  );
}

/** Sweeps, then records the credential as pending, creates it (with recovery), and settles the record. */
async function make({ core, run, now }: MakeDeps, ledger: Ledger, config: Config, ctx: CreateContext, create: () => Promise<CreatedCredential>): Promise<CreatedCredential> {
  await cleanupStale(core, config, run, now, ctx);
  const created = await recorded(ledger, ctx, create, (c) => ({ id: c.id, endDate: c.endDate ?? '', ...(ctx.pending.kind === 'service-user' ? { userId: c.id } : {}) }));
  warnUnconfirmed(core, config, ctx.kind.noun, created);
  return created;
}

/**
 * What DigiCert ONE did not confirm is never reported as if it had: each field its answer lacked is named in a
 * warning, and the outputs, log line and summary leave it out (publish.ts).
 */
function warnUnconfirmed(core: Core, config: Config, noun: string, c: CreatedCredential): void {
  for (const u of c.unconfirmed) {
    core.warning(
      u.field === 'endDate'
        ? `DigiCert ONE did not confirm the ${noun}'s end date (no ${u.text}): the action reports none, and only revocation bounds its life now${config.step.skipRevoke ? ' (skip-revoke is set: nothing does until someone deletes it)' : ' (the post step deletes it)'}.`
        : `DigiCert ONE did not confirm the ${noun}'s name (no ${u.text}): the token-name output is empty; the action asked for '${config.tokenName}'.`,
    );
  }
}

async function mintForUser(deps: MakeDeps, client: D1Client, ledger: Ledger, config: Config, me: Promise<User> | undefined): Promise<Minted> {
  const userId = config.serviceUserId === 'me' ? (await me!).id : (config.serviceUserId as Id);
  const pending: Made = { kind: 'api-token', id: '', name: config.tokenName, userId, endDate: config.endDate };
  const ctx: CreateContext = { client, kind: KINDS['api-token'], pending, log: (l) => deps.core.info(l) };
  const created = await make(deps, ledger, config, ctx, () => client.createToken({ userId, name: config.tokenName, endDate: config.endDate }));
  return { made: { ...pending, id: created.id, userId, endDate: created.endDate ?? '' }, secret: created.secret, name: created.name ?? '', scope: [] };
}

async function mintScoped(deps: MakeDeps, client: D1Client, ledger: Ledger, config: Config, me: Promise<User>): Promise<Minted> {
  const scoped = config.scoped!;
  const { describeRun, resolveScope } = await import('./scope.js');
  const resolved = await resolveScope(client, await me, scoped);
  const pending: Made = { kind: 'service-user', id: '', name: config.tokenName, userId: '', endDate: config.endDate };
  const ctx: CreateContext = { client, kind: KINDS['service-user'], pending, log: (l) => deps.core.info(l) };
  const created = await make(deps, ledger, config, ctx, () =>
    client.createServiceUser({
      name: config.tokenName,
      description: describeRun(deps.run, deps.env, deps.now),
      email: scoped.email,
      endDate: config.endDate,
      accounts: resolved.accounts,
      roles: resolved.roleIds,
    }),
  );
  return { made: { ...pending, id: created.id, userId: created.id, endDate: created.endDate ?? '' }, secret: created.secret, name: created.name ?? '', scope: resolved.labels };
}
