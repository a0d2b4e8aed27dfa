/**
 * The PostgreSQL ledger's schema, as numbered migrations. A replica starting applies those the database lacks, one
 * replica at a time (a session advisory lock), each in its own transaction with its row in schema_migrations; so a new
 * replica rolling out while old ones run upgrades the schema once, and the old ones keep working: a migration only adds
 * (tables, columns with defaults, indexes), never renames or drops what a released broker reads.
 */
import type pg from 'pg';

/** The advisory lock's key: any constant of our own (the bytes of "d1ledger"). */
const LOCK = '7233479391473075570';

export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'leases, credentials, seen tokens',
    sql: `
CREATE TABLE IF NOT EXISTS leases (
  lease TEXT PRIMARY KEY, repository TEXT NOT NULL, repository_id TEXT NOT NULL, run_id TEXT NOT NULL,
  run_attempt TEXT NOT NULL, policy TEXT NOT NULL, created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS credentials (
  seq BIGSERIAL PRIMARY KEY, lease TEXT NOT NULL REFERENCES leases(lease), kind TEXT NOT NULL,
  id TEXT NOT NULL DEFAULT '', name TEXT NOT NULL, user_id TEXT NOT NULL DEFAULT '', end_date TEXT NOT NULL,
  created_at BIGINT NOT NULL, state TEXT NOT NULL, revoked_at BIGINT, revoked_by TEXT
);
CREATE INDEX IF NOT EXISTS credentials_open ON credentials(state) WHERE state IN ('pending', 'live');
CREATE INDEX IF NOT EXISTS credentials_lease ON credentials(lease);
CREATE TABLE IF NOT EXISTS seen_tokens (jti TEXT PRIMARY KEY, exp BIGINT NOT NULL);`,
  },
  {
    version: 2,
    name: 'rate buckets and turns (shared by replicas)',
    sql: `
CREATE TABLE IF NOT EXISTS rate_buckets (key TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL, at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS turns (name TEXT PRIMARY KEY, holder TEXT NOT NULL, until BIGINT NOT NULL);`,
  },
  {
    version: 3,
    name: 'the replica that recorded each credential (orphans of a dead replica)',
    sql: `
ALTER TABLE credentials ADD COLUMN IF NOT EXISTS replica TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS credentials_pending_replica ON credentials(replica) WHERE state = 'pending';`,
  },
  {
    version: 4,
    name: 'pace slots (one schedule for DigiCert ONE across replicas)',
    sql: 'CREATE TABLE IF NOT EXISTS pace_slots (key TEXT PRIMARY KEY, tat DOUBLE PRECISION NOT NULL);',
  },
  {
    version: 5,
    name: "leases carry the job's check run id",
    sql: "ALTER TABLE leases ADD COLUMN IF NOT EXISTS check_run_id TEXT NOT NULL DEFAULT '';",
  },
];

/** Applies the missing migrations; returns the versions it applied (none when another replica did them first). */
export async function migrate(pool: pg.Pool, log: (line: string) => void): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
      const have = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => Number(r.version)));
      for (const m of MIGRATIONS) {
        if (have.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
        applied.push(m.version);
        log(`ledger: applied schema migration ${m.version} (${m.name})`);
      }
      const newest = Math.max(0, ...have);
      const known = Math.max(...MIGRATIONS.map((m) => m.version));
      if (newest > known) log(`ledger: the database's schema is at version ${newest}, newer than this broker's ${known}; running on it (migrations only add)`);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
  return applied;
}
