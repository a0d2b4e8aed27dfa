/**
 * PostgreSQL for the tests: the throw-away cluster of scripts/pg-test-cluster.sh (its URL in D1_TEST_POSTGRES_URL, or
 * in .tmp/pg.url when started by hand), and a fresh database per test file, dropped at its end.
 *
 * Without one, the PostgreSQL tests are skipped and say so, with the command that runs them; under CI they fail
 * instead (.ci/run starts the cluster, so a CI without PostgreSQL is a broken CI, not a pass).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export const PG_TESTS_COMMAND = 'npm run test:pg';

async function reachable(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function find(): Promise<string | undefined> {
  const file = join(import.meta.dirname, '../../.tmp/pg.url');
  const url = process.env.D1_TEST_POSTGRES_URL || (existsSync(file) ? readFileSync(file, 'utf8').trim() : '');
  if (url && (await reachable(url))) return url;
  if (process.env.CI) throw new Error(`PostgreSQL tests cannot run: ${url ? `no PostgreSQL answers at ${new URL(url).host}` : 'D1_TEST_POSTGRES_URL is not set'} (CI must not skip them; .ci/run starts scripts/pg-test-cluster.sh)`);
  return undefined;
}

/** The admin URL of the test cluster, or undefined (tests skip, after saying how to run them). */
export const adminUrl: string | undefined = await find();

/** Says, once per file, which PostgreSQL tests did not run and how to run them. */
export function noteSkipped(file: string, what: string): void {
  if (adminUrl) return;
  console.warn(`PostgreSQL tests NOT RUN (${what}, ${file}): no PostgreSQL test cluster. Run them with: ${PG_TESTS_COMMAND}`);
}

/** A database of its own for one test file; drop() removes it (and ends whatever is still connected to it). */
export async function freshDatabase(label: string): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!adminUrl) throw new Error('no PostgreSQL');
  const name = `d1_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await c.end();
    },
  };
}
