import { randomBytes } from 'node:crypto';

/** What the GitHub context says about this job; read once by the entry point. */
export interface RunInfo {
  repository: string; // owner/repo
  runId: string;
  runAttempt: string;
  job: string;
}

/** DigiCert ONE names: letters, digits, spaces, dashes and underscores only. */
export const NAME_PATTERN = /^[A-Za-z0-9 _-]+$/;
export const NAME_MAX_LENGTH = 64;
export const NAME_PREFIX = 'gha';

function clean(part: string): string {
  return part.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

/**
 * `gha_<owner>_<repo>_<run id>_<attempt>_<job>_<random>`: the audit log shows which repository, run and job
 * a token served. The random tail keeps matrix legs (which share GITHUB_JOB) apart; the name is fixed once per
 * step, so a retried request sends the same name.
 */
export function defaultTokenName(run: RunInfo, random: string = randomBytes(3).toString('hex')): string {
  const [owner = 'unknown', repo = 'unknown'] = run.repository.split('/');
  const fixed = [clean(run.runId), clean(run.runAttempt)];
  const tail = `_${fixed.join('_')}_`;
  const suffix = `_${random}`;
  let o = clean(owner);
  let r = clean(repo);
  let j = clean(run.job);
  // Shorten the free-text parts, longest first, until the whole name fits; ids and the random tail stay whole.
  const total = (): number => NAME_PREFIX.length + 1 + o.length + 1 + r.length + tail.length + j.length + suffix.length;
  while (total() > NAME_MAX_LENGTH) {
    if (j.length >= r.length && j.length >= o.length && j.length > 1) j = j.slice(0, -1);
    else if (r.length >= o.length && r.length > 1) r = r.slice(0, -1);
    else if (o.length > 1) o = o.slice(0, -1);
    else break;
  }
  return `${NAME_PREFIX}_${o}_${r}${tail}${j}${suffix}`;
}
