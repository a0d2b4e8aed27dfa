/**
 * Orphan sweep (cleanup-stale): credentials this action made earlier in the same repository (tokens of the same
 * user, or ephemeral service users) whose run is over (older than the threshold, or past their end date) are
 * deleted before a new one is made, so a runner that died does not leave live credentials behind. Those of the
 * current run are never touched, nor anything whose name is not one this action generates.
 */
import type { Id, Listed } from '../d1/client.js';
import { runIdOf, type RunInfo } from './naming.js';

export interface SweepOptions {
  staleAfterMs: number;
  now: Date;
}

export function isStale(t: Listed, run: RunInfo, o: SweepOptions): boolean {
  const runId = t.name ? runIdOf(t.name, run.repository) : undefined;
  if (runId === undefined || runId === run.runId) return false;
  if (t.endDate && t.endDate < o.now.toISOString().slice(0, 10)) return true;
  return t.createdAt !== undefined && o.now.getTime() - t.createdAt > o.staleAfterMs;
}

export interface SweepTarget {
  list(): Promise<Listed[]>;
  remove(id: Id): Promise<unknown>;
}

export async function sweepStale(target: SweepTarget, run: RunInfo, o: SweepOptions): Promise<Listed[]> {
  const stale = (await target.list()).filter((t) => isStale(t, run, o));
  for (const t of stale) await target.remove(t.id);
  return stale;
}
