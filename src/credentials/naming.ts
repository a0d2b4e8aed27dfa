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

function clean(part: string, max: number): string {
  return (part.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'x').slice(0, max);
}

const OWNER_MAX = 15;
const REPO_MAX = 20;

/**
 * `gha_<owner>_<repo>_`: the start of every default name this action gives in one repository. Owner and repo are
 * cut to fixed lengths so the prefix does not depend on the job name, and the orphan sweep can recognise it.
 */
export function repoTokenPrefix(repository: string): string {
  const [owner = 'unknown', repo = 'unknown'] = repository.split('/');
  return `${NAME_PREFIX}_${clean(owner, OWNER_MAX)}_${clean(repo, REPO_MAX)}_`;
}

/** Reads the run id back out of a default name of this repository, or undefined for any other name. */
export function runIdOf(name: string, repository: string): string | undefined {
  const prefix = repoTokenPrefix(repository);
  if (!name.startsWith(prefix)) return undefined;
  return /^(\d+)_\d+_[A-Za-z0-9-]+_[0-9a-f]{6}$/.exec(name.slice(prefix.length))?.[1];
}

/**
 * `gha_<owner>_<repo>_<run id>_<attempt>_<job>_<random>`: the audit log shows which repository, run and job a
 * token served. The random tail keeps matrix legs (which share GITHUB_JOB) apart; the name is fixed once per
 * step, so a retried create sends the same name and a lost answer can be found by it.
 */
export function defaultTokenName(run: RunInfo, random: string = randomBytes(3).toString('hex')): string {
  const head = `${repoTokenPrefix(run.repository)}${clean(run.runId, 20)}_${clean(run.runAttempt, 5)}_`;
  const tail = `_${random}`;
  const job = clean(run.job, Math.max(1, NAME_MAX_LENGTH - head.length - tail.length));
  return `${head}${job}${tail}`;
}

/**
 * A name the workflow gave, made this step's own: `<token-name-prefix>_<random>`. Recovery after a lost answer finds a
 * credential by its name, so the name must be one no other job can have: with a fixed name, another job's create
 * between this job's steps would be found, and deleted, as this job's.
 */
export function ownName(given: string, random: string = randomBytes(3).toString('hex')): string {
  const tail = `_${random}`;
  return `${given.slice(0, NAME_MAX_LENGTH - tail.length).trimEnd()}${tail}`;
}
