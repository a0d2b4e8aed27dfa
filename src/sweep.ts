/**
 * Orphan sweep (cleanup-stale): credentials this action made earlier in the same repository (tokens of the same
 * user, or ephemeral service users) whose run is over (older than the threshold, or past their end date) are
 * deleted before a new one is made, so a runner that died does not leave live credentials behind. Those of the
 * current run are never touched.
 */
import type { Named } from './d1-api.js';
import { runIdOf, type RunInfo } from './naming.js';

export interface SweepOptions {
  staleAfterMs: number;
  now: Date;
}

export function isStale(t: Named, run: RunInfo, o: SweepOptions): boolean {
  const runId = runIdOf(t.name, run.repository);
  if (runId === undefined || runId === run.runId) return false;
  if (t.endDate && t.endDate < o.now.toISOString().slice(0, 10)) return true;
  const created = t.createdAt ? Date.parse(t.createdAt) : Number.NaN;
  return !Number.isNaN(created) && o.now.getTime() - created > o.staleAfterMs;
}

export interface SweepTarget {
  list(): Promise<Named[]>;
  remove(id: string): Promise<unknown>;
}

export async function sweepStale(target: SweepTarget, run: RunInfo, o: SweepOptions): Promise<Named[]> {
  const stale = (await target.list()).filter((t) => isStale(t, run, o));
  for (const t of stale) await target.remove(t.id);
  return stale;
}
