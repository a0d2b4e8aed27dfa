/**
 * The broker's ledger in PostgreSQL (node-postgres), for brokers run as several replicas on one database: every
 * piece of state the replicas must agree on is a row here, changed by one statement each, so two replicas never both
 * win: a token id used once (primary key), a lease claimed once (primary key), the rate-limit buckets (one UPDATE with
 * the refill in it) and the sweeper's turn (a lease row with an expiry).
 *
 * The schema is versioned (ledger-pg-migrations.ts): a new replica applies what is missing under an advisory lock
 * while old ones keep running, and every migration only adds.
 *
 * Never a secret in a row; the database URL's password is the caller's to scrub (config.secrets).
 */
import pg from 'pg';
import { LedgerUnavailable, newReplicaId, type CredentialRow, type Ledger, type LeaseOwner } from './ledger.js';
import { migrate } from './ledger-pg-migrations.js';

/** int8 (seq, times in ms) as a JavaScript number: every value here is far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

const ROW = `SELECT c.seq, c.lease, c.kind, c.id, c.name, c.user_id AS "userId", c.end_date AS "endDate", l.repository,
  l.repository_id AS "repositoryId", l.run_id AS "runId", l.run_attempt AS "runAttempt", l.check_run_id AS "checkRunId", l.policy, c.created_at AS "createdAt",
  c.state, c.revoked_at AS "revokedAt", c.revoked_by AS "revokedBy" FROM credentials c JOIN leases l ON l.lease = c.lease`;

export interface PgLedgerOptions {
  /** postgres://user:password@host:port/db?sslmode=verify-full (node-postgres' connection string). */
  url: string;
  /** PEM of the CA that signed the server's certificate (with sslmode=verify-full, or alone: TLS required then). */
  caPem?: string;
  /** Connections per replica. */
  max?: number;
  /** How long a query may wait for a connection or an answer before the call fails (fail closed, not hang). */
  timeoutMs?: number;
  log?: (line: string) => void;
  /** This broker's id among the replicas (default: a new one). */
  replica?: string;
}

/** The host (and port) a URL names, for errors: never its user or password. */
export function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}`;
  } catch {
    return '(a database URL that does not parse)';
  }
}

export class PgLedger implements Ledger {
  private constructor(
    readonly pool: pg.Pool,
    private readonly host: string,
    readonly replica: string,
  ) {}

  static async open(o: PgLedgerOptions): Promise<PgLedger> {
    const timeoutMs = o.timeoutMs ?? 5000;
    const pool = new pg.Pool({
      connectionString: o.url,
      ...(o.caPem ? { ssl: { ca: o.caPem, rejectUnauthorized: true } } : {}),
      max: o.max ?? 10,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      idleTimeoutMillis: 30_000,
      types,
      application_name: 'd1-token-broker',
    });
    const host = hostOf(o.url);
    // An idle connection that breaks (the server restarted) is dropped from the pool; the next query opens a new one.
    pool.on('error', (err) => o.log?.(`ledger: a PostgreSQL connection to ${host} broke (${err.message}); it is replaced on the next query`));
    const ledger = new PgLedger(pool, host, o.replica ?? newReplicaId());
    try {
      await migrate(pool, o.log ?? (() => undefined));
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw ledger.unavailable(err);
    }
    return ledger;
  }

  /** An error naming the database's host and what failed; never the URL (its password). */
  unavailable(err: unknown): LedgerUnavailable {
    if (err instanceof LedgerUnavailable) return err;
    const e = err as { code?: string; message?: string };
    return new LedgerUnavailable(`the ledger's PostgreSQL at ${this.host} is unreachable or refused: ${e.code ? `${e.code} ` : ''}${e.message ?? String(err)}`);
  }

  private async q<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      // A constraint or syntax error is ours to see as it is; anything about reaching the server is "unavailable".
      if ((err as { code?: string }).code?.match(/^(23|42)/)) throw err;
      throw this.unavailable(err);
    }
  }

  async firstUse(jti: string, exp: number): Promise<boolean> {
    return (await this.q('INSERT INTO seen_tokens (jti, exp) VALUES ($1, $2) ON CONFLICT DO NOTHING', [jti, exp])).rowCount === 1;
  }

  async openLease(lease: string, owner: LeaseOwner, now: number): Promise<boolean> {
    const r = await this.q(
      'INSERT INTO leases (lease, repository, repository_id, run_id, run_attempt, check_run_id, policy, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING',
      [lease, owner.repository, owner.repositoryId, owner.runId, owner.runAttempt, owner.checkRunId, owner.policy, now],
    );
    return r.rowCount === 1;
  }

  async leaseOwner(lease: string): Promise<LeaseOwner | undefined> {
    const r = await this.q<LeaseOwner>(
      'SELECT repository, repository_id AS "repositoryId", run_id AS "runId", run_attempt AS "runAttempt", check_run_id AS "checkRunId", policy FROM leases WHERE lease = $1',
      [lease],
    );
    return r.rows[0];
  }

  async pending(lease: string, r: { kind: CredentialRow['kind']; name: string; userId: string; endDate: string }, now: number): Promise<number> {
    const res = await this.q<{ seq: number }>(
      "INSERT INTO credentials (lease, kind, name, user_id, end_date, created_at, state, replica) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7) RETURNING seq",
      [lease, r.kind, r.name, r.userId, r.endDate, now, this.replica],
    );
    return res.rows[0]!.seq;
  }

  async settle(seq: number, outcome: { id: string; endDate?: string; userId?: string } | 'not-made'): Promise<void> {
    if (outcome === 'not-made') {
      await this.q("UPDATE credentials SET state = 'not-made' WHERE seq = $1", [seq]);
      return;
    }
    await this.q("UPDATE credentials SET id = $1, end_date = COALESCE($2, end_date), user_id = COALESCE($3, user_id), state = 'live' WHERE seq = $4", [
      outcome.id,
      outcome.endDate ?? null,
      outcome.userId ?? null,
      seq,
    ]);
  }

  async closed(seq: number, state: 'revoked' | 'gone', by: 'job' | 'sweeper', now: number, id?: string): Promise<void> {
    await this.q('UPDATE credentials SET state = $1, revoked_at = $2, revoked_by = $3, id = COALESCE($4, id) WHERE seq = $5', [state, now, by, id ?? null, seq]);
  }

  async openOfLease(lease: string): Promise<CredentialRow[]> {
    return (await this.q<CredentialRow>(`${ROW} WHERE c.lease = $1 AND c.state IN ('pending', 'live') ORDER BY c.seq DESC`, [lease])).rows;
  }

  async due(now: number, today: string, maxAgeMs: number): Promise<CredentialRow[]> {
    return (await this.q<CredentialRow>(`${ROW} WHERE c.state IN ('pending', 'live') AND (c.end_date < $1 OR c.created_at <= $2) ORDER BY c.seq DESC`, [today, now - maxAgeMs])).rows;
  }

  async all(): Promise<CredentialRow[]> {
    return (await this.q<CredentialRow>(`${ROW} ORDER BY c.seq`)).rows;
  }

  async prune(nowSeconds: number, skewSeconds: number): Promise<void> {
    await this.q('DELETE FROM seen_tokens WHERE exp < $1', [nowSeconds - skewSeconds]);
  }

  async takeToken(key: string, perMs: number, burst: number, now: number, reserve = 0): Promise<number> {
    // One statement: the refill since the bucket's time, capped at the burst, and the take if a whole token is there.
    // A replica whose clock is behind never refills a bucket backwards (GREATEST).
    const r = await this.q<{ tokens: number; at: number }>(
      `INSERT INTO rate_buckets AS b (key, tokens, at) VALUES ($1, $3::float8 - 1, $4) ON CONFLICT (key) DO UPDATE
         SET tokens = LEAST($3::float8, b.tokens + GREATEST(0, $4 - b.at) * $2::float8) - 1, at = GREATEST(b.at, $4)
         WHERE LEAST($3::float8, b.tokens + GREATEST(0, $4 - b.at) * $2::float8) >= 1 + $5::float8
       RETURNING tokens`,
      [key, perMs, burst, now, reserve],
    );
    if (r.rowCount === 1) return 0;
    const b = (await this.q<{ tokens: number; at: number }>('SELECT tokens, at FROM rate_buckets WHERE key = $1', [key])).rows[0];
    if (!b) return 0;
    const have = Math.min(burst, b.tokens + Math.max(0, now - b.at) * perMs);
    return Math.max(1, Math.ceil((1 + reserve - have) / perMs));
  }

  async bookSlot(key: string, intervalMs: number, burst: number, now: number, maxWaitMs: number): Promise<number | undefined> {
    const r = await this.q<{ tat: number }>(
      `INSERT INTO pace_slots AS p (key, tat) VALUES ($1, $2::float8 - $4::float8 * $3::float8 + $3::float8) ON CONFLICT (key) DO UPDATE
         SET tat = GREATEST(p.tat, $2::float8 - $4::float8 * $3::float8) + $3::float8
         WHERE GREATEST(p.tat, $2::float8 - $4::float8 * $3::float8) - $2::float8 <= $5::float8 RETURNING tat`,
      [key, now, intervalMs, burst - 1, Number.isFinite(maxWaitMs) ? maxWaitMs : 1e15],
    );
    const tat = r.rows[0]?.tat;
    return tat === undefined ? undefined : Math.max(0, tat - intervalMs - now);
  }

  async takeTurn(name: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    const r = await this.q(
      `INSERT INTO turns AS t (name, holder, until) VALUES ($1, $2, $3::bigint + $4::bigint) ON CONFLICT (name) DO UPDATE
         SET holder = $2, until = $3::bigint + $4::bigint WHERE t.holder = $2 OR t.until < $3::bigint`,
      [name, holder, now, ttlMs],
    );
    return r.rowCount === 1;
  }

  async releaseTurn(name: string, holder: string): Promise<void> {
    await this.q('DELETE FROM turns WHERE name = $1 AND holder = $2', [name, holder]);
  }

  async orphans(now: number, createdBefore: number): Promise<CredentialRow[]> {
    const sql = `${ROW} WHERE c.state = 'pending' AND c.replica <> '' AND c.created_at < $1
      AND NOT EXISTS (SELECT 1 FROM turns t WHERE t.name = 'replica:' || c.replica AND t.until >= $2) ORDER BY c.seq DESC`;
    return (await this.q<CredentialRow>(sql, [createdBefore, now])).rows;
  }

  async ping(): Promise<void> {
    await this.q('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
