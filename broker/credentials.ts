/**
 * Making and revoking credentials for jobs, with the action's own code: the same D1Client, the same create-with-
 * recovery (src/credentials/mint.ts createOnce), the same credential kinds (src/credentials), the same names (src/credentials/naming.ts) and
 * the same scope resolution (src/job/scope.ts). What differs is the record: each credential is a ledger row written
 * before its create, instead of the job's GITHUB_STATE.
 */
import { randomBytes } from 'node:crypto';
import { bootstrapConnection } from '../src/job/connect.js';
import { dateOf, type Clock } from '../src/platform/clock.js';
import { KINDS, findByName, type Made } from '../src/credentials/index.js';
import { D1Client, D1Error, type CreatedCredential, type Id, type Name, type UtcDay } from '../src/d1/client.js';
import { utcDayOf } from '../src/d1/wire.js';
import type { HttpClient, HttpOptions } from '../src/platform/http.js';
import { createOnce, type CreateContext } from '../src/credentials/mint.js';
import { defaultTokenName, type RunInfo } from '../src/credentials/naming.js';
import { describeRun, resolveScope } from '../src/job/scope.js';
import { USER_AGENT } from '../src/platform/version.js';
import type { BrokerConfig } from './config.js';
import type { JobClaims } from './id-token.js';
import type { CredentialRow, Ledger } from './ledger.js';
import type { DigicertPace } from './pace.js';
import type { Policy } from './policy.js';

export interface CredentialDeps {
  config: BrokerConfig;
  ledger: Ledger;
  clock: Clock;
  /** A client of src/platform/http.ts with the broker's environment (proxy) and extra CAs. */
  createHttp: (o: Omit<HttpOptions, 'env' | 'ca'>) => HttpClient;
  log: (line: string) => void;
  /** The bootstrap key's shared request budget (broker/pace.ts), when configured. */
  pace?: DigicertPace;
}

export interface MintOrder {
  lease: string;
  policy: Policy;
  claims: JobClaims;
  /** The job's label for the name: `c<check_run_id>-<GITHUB_JOB>` when the token has check_run_id, else GITHUB_JOB (GHES). */
  job: string;
  csrPem: string | undefined;
}

export interface Minted {
  kind: 'api-token' | 'service-user';
  id: Id;
  name: Name;
  userId: Id;
  /** As DigiCert ONE's answer confirmed it; '' when it confirmed none (the job is told so, never the date asked for). */
  endDate: UtcDay | '';
  secret: string;
  scope: string[];
  certificate?: { id: Id; pem: string };
}

/** What a ledger row describes, in the shape the credential kinds take. */
const madeOf = (r: Pick<CredentialRow, 'kind' | 'id' | 'name' | 'userId' | 'endDate'>): Made => ({
  kind: r.kind,
  id: r.id as Id | '',
  name: r.name as Name,
  userId: r.userId as Id | '',
  endDate: r.endDate as UtcDay,
});

/** Names, in the broker's log, each answer field DigiCert ONE left out (client.ts lists them), as main's warnings do. */
function confirmedEndDate(c: CreatedCredential, log: (l: string) => void): UtcDay | '' {
  for (const u of c.unconfirmed) log(`DigiCert ONE did not confirm ${u.field === 'endDate' ? 'the end date' : 'the name'} (no ${u.text})${u.field === 'endDate' ? ': only revocation bounds the credential\'s life now' : ''}.`);
  return c.endDate ?? '';
}

/**
 * The bootstrap identity for one job's request, on a connection of its own: src/platform/http.ts fails a client's pending
 * requests when one of its sockets closes mid-answer (a step's guard), so concurrent jobs must not share a client.
 */
async function withBootstrap<T>(deps: CredentialDeps, use: (client: D1Client) => Promise<T>): Promise<T> {
  const { config, clock } = deps;
  const conn = bootstrapConnection(config.digicertHost, config.auth);
  const deadline = clock.now() + config.timeoutSeconds * 1000;
  const raw = deps.createHttp(conn.http);
  const http = deps.pace ? deps.pace.client(raw, deadline) : raw;
  try {
    return await use(new D1Client(http, { host: conn.requestHost, secrets: config.secrets, deadline, clock, log: deps.log, authKind: config.auth.kind }));
  } finally {
    await http.close();
  }
}

/**
 * Records the row, creates with recovery, settles the row: with its id when made, 'not-made' when it certainly was
 * not, left pending when that is unknown (the sweeper then finds it by name, or it ends on its end date).
 */
async function recorded<T extends { id: Id }>(
  deps: CredentialDeps,
  ctx: CreateContext,
  lease: string,
  create: () => Promise<T>,
  settle: (c: T) => { endDate?: string; userId?: string },
  recover = true,
): Promise<T> {
  const { pending } = ctx;
  const seq = await deps.ledger.pending(lease, { kind: pending.kind as CredentialRow['kind'], name: pending.name, userId: pending.userId, endDate: pending.endDate }, deps.clock.now());
  try {
    const created = recover ? await createOnce(ctx, create) : await create();
    await deps.ledger.settle(seq, { id: created.id, ...settle(created) });
    return created;
  } catch (err) {
    if (err instanceof D1Error && err.made?.id) await deps.ledger.settle(seq, { id: err.made.id });
    else if (!(err instanceof D1Error && (err.maybeCommitted || err.made))) await deps.ledger.settle(seq, 'not-made');
    throw err;
  }
}

export function mintFor(deps: CredentialDeps, order: MintOrder): Promise<Minted> {
  return withBootstrap(deps, (client) => mintWith(deps, client, order));
}

async function mintWith(deps: CredentialDeps, client: D1Client, order: MintOrder): Promise<Minted> {
  const { clock } = deps;
  const now = dateOf(clock);
  const { claims, policy, lease } = order;
  const run: RunInfo = { repository: claims.repository, runId: claims.run_id, runAttempt: claims.run_attempt, job: order.job };
  const name = defaultTokenName(run) as Name;
  const endDate = utcDayOf(now, policy.lifetimeDays);
  const log = (line: string): void => deps.log(`lease ${lease}: ${line}`);
  let minted: Minted;
  if (policy.grant.kind === 'service-user') {
    const userId = policy.grant.serviceUserId;
    const pending: Made = { kind: 'api-token', id: '', name, userId, endDate };
    const ctx: CreateContext = { client, kind: KINDS['api-token'], pending, log };
    const created = await recorded(deps, ctx, lease, () => client.createToken({ userId, name, endDate }), (c) => (c.endDate ? { endDate: c.endDate } : {}));
    minted = { kind: 'api-token', id: created.id, name, userId, endDate: confirmedEndDate(created, log), secret: created.secret, scope: [] };
  } else {
    const grant = policy.grant;
    const me = await client.getUser('me');
    const resolved = await resolveScope(client, me, { scope: grant.scope, accounts: grant.accounts, email: grant.email ?? '' });
    const pending: Made = { kind: 'service-user', id: '', name, userId: '', endDate };
    const ctx: CreateContext = { client, kind: KINDS['service-user'], pending, log };
    const created = await recorded(
      deps,
      ctx,
      lease,
      () =>
        client.createServiceUser({
          name,
          description: describeRun(run, { GITHUB_WORKFLOW: String(claims.all.workflow ?? '') }, now),
          email: grant.email ?? `${name.toLowerCase().replace(/[^a-z0-9-]+/g, '.')}@noreply.invalid`,
          endDate,
          accounts: resolved.accounts,
          roles: resolved.roleIds,
        }),
      (c) => ({ ...(c.endDate ? { endDate: c.endDate } : {}), userId: c.id }),
    );
    minted = { kind: 'service-user', id: created.id, name, userId: created.id, endDate: confirmedEndDate(created, log), secret: created.secret, scope: resolved.labels };
  }
  if (order.csrPem) minted.certificate = await certificateFor(deps, lease, minted, order.csrPem, log, endDate);
  return minted;
}

/**
 * The job's client authentication certificate: its CSR (the key pair was made in the job and never left it), sent
 * with the job's own new token, since the API issues certificates "for the authenticated user".
 */
async function certificateFor(deps: CredentialDeps, lease: string, minted: Minted, csrPem: string, log: (l: string) => void, asked: UtcDay): Promise<{ id: Id; pem: string }> {
  const { config, clock } = deps;
  const http = deps.createHttp({ baseUrl: `https://${config.digicertHost}`, headers: { 'x-api-key': minted.secret, 'user-agent': USER_AGENT } });
  try {
    const client = new D1Client(http, { host: config.digicertHost, secrets: [...config.secrets, minted.secret], deadline: clock.now() + config.timeoutSeconds * 1000, clock, log });
    const pending: Made = { kind: 'client-certificate', id: '', name: minted.name, userId: minted.userId, endDate: asked };
    const ctx: CreateContext = { client, kind: KINDS['client-certificate'], pending, log };
    // One nickname, one row, one create: the CSR is the job's, and its key is what later steps use. A create sent again
    // after a lost answer could certify that key twice, the lost one unknown to the job; so the mint fails instead, the
    // job starts over with a fresh key, and the row (by nickname) keeps what may have been made.
    pending.name = `${minted.name.slice(0, 56)}_c${randomBytes(3).toString('hex')}` as Name;
    const made = await recorded(deps, ctx, lease, () => certifyOnce(() => client.createClientCert({ csrPem, name: pending.name, endDate: asked })), () => ({}), false);
    return { id: made.id, pem: made.certificatePem };
  } finally {
    await http.close();
  }
}

/**
 * A certificate create sent once: a lost answer becomes an error that says so (the row stays pending: it may have been
 * made), and an unreadable 2xx keeps its id for the row (the mint's failure path disables it).
 */
async function certifyOnce<T>(create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (!(err instanceof D1Error) || !err.maybeCommitted || err.made) throw err;
    throw new D1Error(
      `${err.message} The client certificate request is not sent again with the same CSR (a key is certified once): run the job again, it makes a fresh key.`,
      err.kind,
      err.status,
      true,
    );
  }
}

export type RevokeOutcome = { row: CredentialRow; outcome: 'revoked' | 'gone' } | { row: CredentialRow; outcome: 'failed'; why: string };

/**
 * Revokes open rows, newest first, with the bootstrap credential. A row without an id (its create's answer was lost)
 * is looked up by its name where the kind can be listed; a certificate that cannot be found is unusable (its key
 * never left the job) and ends on its end date.
 */
export async function revokeRows(deps: CredentialDeps, rows: readonly CredentialRow[], by: 'job' | 'sweeper'): Promise<RevokeOutcome[]> {
  if (rows.length === 0) return [];
  return withBootstrap(deps, (client) => revokeWith(deps, client, rows, by));
}

async function revokeWith(deps: CredentialDeps, client: D1Client, rows: readonly CredentialRow[], by: 'job' | 'sweeper'): Promise<RevokeOutcome[]> {
  const out: RevokeOutcome[] = [];
  for (const row of rows) {
    const kind = KINDS[row.kind];
    try {
      let id = row.id as Id | '';
      if (!id && kind.list) id = findByName(await kind.list(client, madeOf(row)), row.name as Name)?.id ?? '';
      const result = id ? await kind.revoke({ client, runnerTemp: '' }, id) : 'gone';
      const outcome = result === 'deleted' ? 'revoked' : 'gone';
      await deps.ledger.closed(row.seq, outcome, by, deps.clock.now(), id || undefined);
      out.push({ row: { ...row, id }, outcome });
    } catch (err) {
      out.push({ row, outcome: 'failed', why: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}
