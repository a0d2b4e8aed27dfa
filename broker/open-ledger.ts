/**
 * The ledger the configuration names: PostgreSQL (shared by replicas) when `ledger.postgres` is given, else the
 * embedded SQLite file.
 */
import type { BrokerConfig } from './config.js';
import { SqliteLedger, type Ledger } from './ledger.js';
import { PgLedger } from './ledger-pg.js';

export async function openLedger(config: Pick<BrokerConfig, 'ledgerFile' | 'postgres'>, log: (line: string) => void): Promise<Ledger> {
  if (config.postgres) return PgLedger.open({ url: config.postgres.url, caPem: config.postgres.caPem, log });
  return SqliteLedger.open(config.ledgerFile);
}
