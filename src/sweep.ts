/**
 * Orphan sweep (cleanup-stale): tokens this action minted earlier in the same repository for the same user whose
 * run is over (older than the threshold, or past their end date) are deleted before a new one is minted, so a
 * runner that died does not leave live tokens behind. Tokens of the current run are never touched.
 */
import type { D1Client, TokenInfo } from './d1-api.js';
import { runIdOf, type RunInfo } from './naming.js';

export interface SweepOptions {
  staleAfterMs: number;
  now: Date;
}

export function isStale(t: TokenInfo, run: RunInfo, o: SweepOptions): boolean {
  const runId = runIdOf(t.name, run.repository);
  if (runId === undefined || runId === run.runId) return false;
  if (t.endDate && t.endDate < o.now.toISOString().slice(0, 10)) return true;
  const created = t.createdAt ? Date.parse(t.createdAt) : Number.NaN;
  return !Number.isNaN(created) && o.now.getTime() - created > o.staleAfterMs;
}

export async function sweepStale(client: D1Client, userId: string, run: RunInfo, o: SweepOptions): Promise<TokenInfo[]> {
  const stale = (await client.listTokens(userId)).filter((t) => isStale(t, run, o));
  const deleted: TokenInfo[] = [];
  for (const t of stale) {
    await client.deleteToken(t.id);
    deleted.push(t);
  }
  return deleted;
}
