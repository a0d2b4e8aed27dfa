/**
 * The broker's ledger, in SQLite (Node's built-in node:sqlite, Node >= 22.5): every credential is written here
 * BEFORE its create is sent, settled with its id after, and marked when revoked; so a restart, a lost answer or a job
 * whose post step never ran leaves nothing the sweeper cannot find. It also holds the OIDC token ids (`jti`) already
 * used (replay) and the leases (the request ids jobs chose, unique, each bound to one repository, run and attempt).
 *
 * Never a secret: ids, names, claims that decided, times.
 *
 * node:sqlite is loaded when a ledger is opened (process.getBuiltinModule), not on import: the suite also runs on
 * Node 20, which loads this module's importers but has no node:sqlite.
 *
 * `Ledger` is the contract every backend keeps (every call a Promise, so a networked database fits behind it);
 * `SqliteLedger` is the embedded one.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { DatabaseSync } from 'node:sqlite';
import type { KindName } from '../src/credentials/index.js';

export function sqliteAvailable(): boolean {
  try {
    return typeof process.getBuiltinModule === 'function' && process.getBuiltinModule('node:sqlite') !== undefined;
  } catch {
    return false;
  }
}

/** A replica's id: the host's name (a pod's name in Kubernetes), the process and a random part (a restart is new). */
export function newReplicaId(): string {
  return `${hostname().slice(0, 40)}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** The ledger cannot be reached (a database restarting, a network cut): the broker refuses mints (503), fail closed. */
export class LedgerUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerUnavailable';
  }
}

export type RowState = 'pending' | 'live' | 'revoked' | 'gone' | 'not-made';

export interface CredentialRow {
  seq: number;
  lease: string;
  kind: Exclude<KindName, 'pkcs12-file'>;
  id: string;
  name: string;
  userId: string;
  endDate: string;
  repository: string;
  repositoryId: string;
  runId: string;
  runAttempt: string;
  /** The job's check run id ('' when the token had none: GHES). */
  checkRunId: string;
  policy: string;
  createdAt: number;
  state: RowState;
  revokedAt: number | null;
  revokedBy: string | null;
}

export interface LeaseOwner {
  repository: string;
  repositoryId: string;
  runId: string;
  runAttempt: string;
  /** The job's `check_run_id` claim (github.com since 2025-11-13); '' when the token had none (GHES). */
  checkRunId: string;
  policy: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS leases (
  lease TEXT PRIMARY KEY, repository TEXT NOT NULL, repository_id TEXT NOT NULL, run_id TEXT NOT NULL,
  run_attempt TEXT NOT NULL, policy TEXT NOT NULL, created_at INTEGER NOT NULL, check_run_id TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS credentials (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, lease TEXT NOT NULL REFERENCES leases(lease), kind TEXT NOT NULL,
  id TEXT NOT NULL DEFAULT '', name TEXT NOT NULL, user_id TEXT NOT NULL DEFAULT '', end_date TEXT NOT NULL,
  created_at INTEGER NOT NULL, state TEXT NOT NULL, revoked_at INTEGER, revoked_by TEXT, replica TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS credentials_open ON credentials(state) WHERE state IN ('pending', 'live');
CREATE TABLE IF NOT EXISTS seen_tokens (jti TEXT PRIMARY KEY, exp INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rate_buckets (key TEXT PRIMARY KEY, tokens REAL NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS turns (name TEXT PRIMARY KEY, holder TEXT NOT NULL, until INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pace_slots (key TEXT PRIMARY KEY, tat REAL NOT NULL);
`;

export const ROW = `SELECT c.seq, c.lease, c.kind, c.id, c.name, c.user_id AS userId, c.end_date AS endDate, l.repository,
  l.repository_id AS repositoryId, l.run_id AS runId, l.run_attempt AS runAttempt, l.check_run_id AS checkRunId, l.policy, c.created_at AS createdAt,
  c.state, c.revoked_at AS revokedAt, c.revoked_by AS revokedBy FROM credentials c JOIN leases l ON l.lease = c.lease`;

/** What the broker needs of its ledger, whatever holds it. */
export interface Ledger {
  /** This broker's id among replicas: written on each credential row it records (its heartbeat is turn `replica:<id>`). */
  readonly replica: string;
  /** Records a token id; false when it was seen before (a replay). Atomic. */
  firstUse(jti: string, exp: number): Promise<boolean>;
  /** A new lease; false when the id is taken (a job's request ids are random, so only a retry or a guess repeats one). */
  openLease(lease: string, owner: LeaseOwner, now: number): Promise<boolean>;
  leaseOwner(lease: string): Promise<LeaseOwner | undefined>;
  /** Before the create: the row the sweeper will find if nothing else ever happens. */
  pending(lease: string, r: { kind: CredentialRow['kind']; name: string; userId: string; endDate: string }, now: number): Promise<number>;
  /** After the create: made (with its id), certainly not made, or unknown (stays pending for the sweeper). */
  settle(seq: number, outcome: { id: string; endDate?: string; userId?: string } | 'not-made'): Promise<void>;
  /** Whatever the revocation found (deleted, or already gone), the credential no longer works. */
  closed(seq: number, state: 'revoked' | 'gone', by: 'job' | 'sweeper', now: number, id?: string): Promise<void>;
  /** Open credentials of a lease, newest first (a certificate before its user's token). */
  openOfLease(lease: string): Promise<CredentialRow[]>;
  /** Open credentials whose run is over: past their end date, or older than the maximum age. Newest first. */
  due(now: number, today: string, maxAgeMs: number): Promise<CredentialRow[]>;
  all(): Promise<CredentialRow[]>;
  /** Forgets token ids past their expiry (plus the skew): a replay of one is refused by its exp anyway. */
  prune(nowSeconds: number, skewSeconds: number): Promise<void>;
  /**
   * Takes one token from the bucket `key` (refilled at `perMs` a millisecond up to `burst`, full when new), shared by
   * every broker on this ledger: 0 when taken, else the milliseconds until one is there. With a `reserve`, only
   * what is above it can be taken (those tokens are left to callers without one).
   */
  takeToken(key: string, perMs: number, burst: number, now: number, reserve?: number): Promise<number>;
  /**
   * Books the next slot of the schedule `key` (one request every `intervalMs`, up to `burst` at once after a quiet
   * spell; GCRA): the milliseconds to wait for it, or undefined (nothing booked) when that would be over `maxWaitMs`.
   * Every booking gets its own slot, so waiters sleep once instead of polling.
   */
  bookSlot(key: string, intervalMs: number, burst: number, now: number, maxWaitMs: number): Promise<number | undefined>;
  /** Takes (or renews) the turn `name` for `ttlMs`: true for one holder at a time; another gets it once it expires. */
  takeTurn(name: string, holder: string, now: number, ttlMs: number): Promise<boolean>;
  releaseTurn(name: string, holder: string): Promise<void>;
  /**
   * Pending rows (a create sent, its answer never recorded) of replicas that stopped beating (their turn
   * `replica:<id>` expired) and created before `createdBefore`: no job got these (a row is settled before its answer
   * is sent), so they are revoked now, not at the maximum age.
   */
  orphans(now: number, createdBefore: number): Promise<CredentialRow[]>;
  /** Fails when the ledger cannot be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class SqliteLedger implements Ledger {
  private constructor(
    private readonly db: DatabaseSync,
    readonly replica: string,
  ) {}

  static open(file: string, replica = newReplicaId()): SqliteLedger {
    const sqlite = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite') | undefined;
    if (!sqlite) throw new Error(`the ledger needs node:sqlite (Node >= 22.5); this is Node ${process.version}`);
    const db = new sqlite.DatabaseSync(file);
    // WAL: readers never wait for the writer; FULL: a row written before a create survives a power cut too.
    // temp_store MEMORY: in a container the root file system is read-only; only the ledger's folder is writable.
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA temp_store = MEMORY;');
    db.exec(SCHEMA);
    // A ledger file of an earlier broker: the columns it lacks (rows of before have no replica, and are never orphans;
    // leases of before were made without check_run_id).
    const columns = db.prepare('PRAGMA table_info(credentials)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'replica')) db.exec("ALTER TABLE credentials ADD COLUMN replica TEXT NOT NULL DEFAULT ''");
    const leaseColumns = db.prepare('PRAGMA table_info(leases)').all() as { name: string }[];
    if (!leaseColumns.some((c) => c.name === 'check_run_id')) db.exec("ALTER TABLE leases ADD COLUMN check_run_id TEXT NOT NULL DEFAULT ''");
    return new SqliteLedger(db, replica);
  }

  /** Records a token id; false when it was seen before (a replay). Atomic: one INSERT. */
  async firstUse(jti: string, exp: number): Promise<boolean> {
    return Number(this.db.prepare('INSERT OR IGNORE INTO seen_tokens (jti, exp) VALUES (?, ?)').run(jti, exp).changes) === 1;
  }

  /** A new lease; false when the id is taken (a job's request ids are random, so only a retry or a guess repeats one). */
  async openLease(lease: string, owner: LeaseOwner, now: number): Promise<boolean> {
    const r = this.db
      .prepare('INSERT OR IGNORE INTO leases (lease, repository, repository_id, run_id, run_attempt, check_run_id, policy, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(lease, owner.repository, owner.repositoryId, owner.runId, owner.runAttempt, owner.checkRunId, owner.policy, now);
    return Number(r.changes) === 1;
  }

  async leaseOwner(lease: string): Promise<LeaseOwner | undefined> {
    return this.db.prepare('SELECT repository, repository_id AS repositoryId, run_id AS runId, run_attempt AS runAttempt, check_run_id AS checkRunId, policy FROM leases WHERE lease = ?').get(lease) as
      | LeaseOwner
      | undefined;
  }

  /** Before the create: the row the sweeper will find if nothing else ever happens. */
  async pending(lease: string, r: { kind: CredentialRow['kind']; name: string; userId: string; endDate: string }, now: number): Promise<number> {
    return Number(
      this.db
        .prepare("INSERT INTO credentials (lease, kind, name, user_id, end_date, created_at, state, replica) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)")
        .run(lease, r.kind, r.name, r.userId, r.endDate, now, this.replica)
        .lastInsertRowid,
    );
  }

  /** After the create: made (with its id), certainly not made, or unknown (stays pending for the sweeper). */
  async settle(seq: number, outcome: { id: string; endDate?: string; userId?: string } | 'not-made'): Promise<void> {
    if (outcome === 'not-made') {
      this.db.prepare("UPDATE credentials SET state = 'not-made' WHERE seq = ?").run(seq);
      return;
    }
    this.db
      .prepare("UPDATE credentials SET id = ?, end_date = COALESCE(?, end_date), user_id = COALESCE(?, user_id), state = 'live' WHERE seq = ?")
      .run(outcome.id, outcome.endDate ?? null, outcome.userId ?? null, seq);
  }

  /** Whatever the revocation found (deleted, or already gone), the credential no longer works. */
  async closed(seq: number, state: 'revoked' | 'gone', by: 'job' | 'sweeper', now: number, id?: string): Promise<void> {
    this.db.prepare('UPDATE credentials SET state = ?, revoked_at = ?, revoked_by = ?, id = COALESCE(?, id) WHERE seq = ?').run(state, now, by, id ?? null, seq);
  }

  /** Open credentials of a lease, newest first (a certificate before its user's token). */
  async openOfLease(lease: string): Promise<CredentialRow[]> {
    return this.db.prepare(`${ROW} WHERE c.lease = ? AND c.state IN ('pending', 'live') ORDER BY c.seq DESC`).all(lease) as unknown as CredentialRow[];
  }

  /** Open credentials whose run is over: past their end date, or older than the maximum age. Newest first. */
  async due(now: number, today: string, maxAgeMs: number): Promise<CredentialRow[]> {
    return this.db
      .prepare(`${ROW} WHERE c.state IN ('pending', 'live') AND (c.end_date < ? OR c.created_at <= ?) ORDER BY c.seq DESC`)
      .all(today, now - maxAgeMs) as unknown as CredentialRow[];
  }

  async all(): Promise<CredentialRow[]> {
    return this.db.prepare(`${ROW} ORDER BY c.seq`).all() as unknown as CredentialRow[];
  }

  /** Forgets token ids past their expiry (plus the skew): a replay of one is refused by its exp anyway. */
  async prune(nowSeconds: number, skewSeconds: number): Promise<void> {
    this.db.prepare('DELETE FROM seen_tokens WHERE exp < ?').run(nowSeconds - skewSeconds);
  }

  async takeToken(key: string, perMs: number, burst: number, now: number, reserve = 0): Promise<number> {
    // One statement, as in PostgreSQL (ledger-pg.ts): refill since the bucket's time, capped, and take a whole token.
    const taken = this.db
      .prepare(
        `INSERT INTO rate_buckets (key, tokens, at) VALUES (?1, ?3 - 1, ?4) ON CONFLICT (key) DO UPDATE
           SET tokens = MIN(?3, tokens + MAX(0, ?4 - at) * ?2) - 1, at = MAX(at, ?4)
           WHERE MIN(?3, tokens + MAX(0, ?4 - at) * ?2) >= 1 + ?5`,
      )
      .run(key, perMs, burst, now, reserve);
    if (Number(taken.changes) === 1) return 0;
    const b = this.db.prepare('SELECT tokens, at FROM rate_buckets WHERE key = ?').get(key) as { tokens: number; at: number } | undefined;
    if (!b) return 0;
    const have = Math.min(burst, b.tokens + Math.max(0, now - b.at) * perMs);
    return Math.max(1, Math.ceil((1 + reserve - have) / perMs));
  }

  async bookSlot(key: string, intervalMs: number, burst: number, now: number, maxWaitMs: number): Promise<number | undefined> {
    // The slot: the schedule's next time, but never further back than the burst allows. Booked only within maxWait.
    const r = this.db
      .prepare(
        `INSERT INTO pace_slots (key, tat) VALUES (?1, ?2 - ?4 * ?3 + ?3) ON CONFLICT (key) DO UPDATE SET tat = MAX(tat, ?2 - ?4 * ?3) + ?3
           WHERE MAX(tat, ?2 - ?4 * ?3) - ?2 <= ?5 RETURNING tat`,
      )
      .get(key, now, intervalMs, burst - 1, Number.isFinite(maxWaitMs) ? maxWaitMs : 1e15) as { tat: number } | undefined;
    return r ? Math.max(0, r.tat - intervalMs - now) : undefined;
  }

  async takeTurn(name: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    const r = this.db
      .prepare('INSERT INTO turns (name, holder, until) VALUES (?1, ?2, ?3 + ?4) ON CONFLICT (name) DO UPDATE SET holder = ?2, until = ?3 + ?4 WHERE holder = ?2 OR until < ?3')
      .run(name, holder, now, ttlMs);
    return Number(r.changes) === 1;
  }

  async releaseTurn(name: string, holder: string): Promise<void> {
    this.db.prepare('DELETE FROM turns WHERE name = ? AND holder = ?').run(name, holder);
  }

  async orphans(now: number, createdBefore: number): Promise<CredentialRow[]> {
    return this.db
      .prepare(
        `${ROW} WHERE c.state = 'pending' AND c.replica <> '' AND c.created_at < ? AND NOT EXISTS (SELECT 1 FROM turns t WHERE t.name = 'replica:' || c.replica AND t.until >= ?) ORDER BY c.seq DESC`,
      )
      .all(createdBefore, now) as unknown as CredentialRow[];
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
