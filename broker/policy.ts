/**
 * The trust policy: which jobs get what, decided from the claims of their verified OIDC token. Deny by default: a job
 * names a policy, and gets its grant only when every claim the policy lists matches. Every policy must name the
 * repository and its owner by id (`repository_id`, `repository_owner_id`): names can be re-used by a renamed, deleted
 * and re-created, or transferred repository, ids cannot (docs.github.com, OpenID Connect reference: "Using
 * system-generated GUIDs", "Immutable subject claims").
 *
 * File (JSON): {"policies": [{"name", "match": {claim: pattern | [patterns]}, "grant": {"serviceUserId"} | {"scope",
 * "accounts"?, "email"?}, "clientCertificate"?: bool, "lifetimeDays"?: 0-7, "maxAgeMinutes"?: 1-11520, "mode"?:
 * "enforce" | "audit"}]}. A pattern is the claim's exact text, or with `*` for any run of characters within one
 * `/`-separated segment (never `/` or `@`: `refs/tags/v*` is not `refs/tags/v1/evil`) and `**` for any run at all;
 * `!pattern` excludes. Ids take no pattern. Matching is an automaton walk (state sets, no backtracking): its steps
 * are bounded by the value's length times the pattern's, whatever repository sends the claims.
 */
import { parseId, type Id } from '../src/d1/wire.js';
import { MAX_LIFETIME_DAYS, parseScope, type ScopeEntry } from '../src/runner/inputs.js';
import { unknownKey } from './schema.js';

const POLICY_KEYS = ['name', 'description', 'match', 'grant', 'clientCertificate', 'lifetimeDays', 'maxAgeMinutes', 'mode'] as const;
const GRANT_KEYS = ['serviceUserId', 'scope', 'accounts', 'email'] as const;

/** The claims a policy may test (GitHub's documented claims; a misspelt one must not silently match nothing). */
export const MATCHABLE_CLAIMS = [
  'repository_id',
  'repository_owner_id',
  'repository',
  'repository_owner',
  'repository_visibility',
  'ref',
  'ref_type',
  'environment',
  'event_name',
  'job_workflow_ref',
  'workflow_ref',
  'runner_environment',
  'sub',
  'actor_id',
  'job_workflow_sha',
  'workflow_sha',
  'enterprise_id',
  'base_ref',
  'head_ref',
] as const;
export type MatchableClaim = (typeof MATCHABLE_CLAIMS)[number];
const ID_CLAIMS: readonly MatchableClaim[] = ['repository_id', 'repository_owner_id', 'actor_id', 'enterprise_id'];
/** Names GitHub treats case-insensitively (a repository, its owner, an environment): compared without case. */
const CASELESS: readonly MatchableClaim[] = ['repository', 'repository_owner', 'environment'];

export type Grant = { kind: 'service-user'; serviceUserId: Id } | { kind: 'scope'; scope: ScopeEntry[]; scopeText: string; accounts: Id[]; email: string | undefined };

export interface Policy {
  name: string;
  match: Partial<Record<MatchableClaim, string[]>>;
  grant: Grant;
  /** A job may send a CSR and get a client authentication certificate for its user. */
  clientCertificate: boolean;
  lifetimeDays: number;
  /** The sweeper revokes what this policy granted once it is this old (default 60 minutes). */
  maxAgeMinutes: number;
  /** `audit`: decide and log, but refuse nothing a match would not have refused before (a policy being tried out). */
  mode: 'enforce' | 'audit';
}

export class PolicyFileError extends Error {
  constructor(where: string, message: string) {
    super(`policy file: ${where}: ${message}`);
    this.name = 'PolicyFileError';
  }
}

const POLICY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function patterns(where: string, claim: MatchableClaim, v: unknown): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || !list.every((p): p is string => typeof p === 'string' && p.length > 0 && p.length <= 256)) {
    throw new PolicyFileError(where, `${claim} must be a non-empty string or a list of them`);
  }
  if (ID_CLAIMS.includes(claim) && !list.every((p) => /^\d{1,20}$/.test(p))) {
    throw new PolicyFileError(where, `${claim} must be the numeric id exactly (no patterns): ids are what a re-created repository does not inherit`);
  }
  if (!list.some((p) => !p.startsWith('!'))) throw new PolicyFileError(where, `${claim} lists only exclusions (!pattern): add what it admits ('**' for anything else)`);
  if (list.some((p) => /\*{3,}/.test(p))) throw new PolicyFileError(where, `${claim}: a pattern has '***' (use * within a segment, ** across segments)`);
  return list;
}

function parseGrant(where: string, g: unknown): Grant {
  const o = (g ?? {}) as Record<string, unknown>;
  const stray = typeof g === 'object' && g !== null ? unknownKey(o, GRANT_KEYS, 'grant') : undefined;
  if (stray) throw new PolicyFileError(where, stray);
  if (typeof g !== 'object' || g === null || ('serviceUserId' in o) === ('scope' in o)) {
    throw new PolicyFileError(where, 'grant needs exactly one of serviceUserId (a token for that service user) and scope (a service user made for the job)');
  }
  if ('serviceUserId' in o) {
    const id = parseId(o.serviceUserId);
    if (!id) throw new PolicyFileError(where, 'grant.serviceUserId is not a user id');
    return { kind: 'service-user', serviceUserId: id };
  }
  const scopeText = Array.isArray(o.scope) ? o.scope.join('\n') : o.scope;
  if (typeof scopeText !== 'string' || !scopeText.trim()) throw new PolicyFileError(where, "grant.scope must be 'Manager: role, role' lines (a string or a list)");
  let scope: ScopeEntry[];
  try {
    scope = parseScope(scopeText);
  } catch (err) {
    throw new PolicyFileError(where, `grant.${err instanceof Error ? err.message.replace(/^Input 'scope': /, 'scope: ') : String(err)}`);
  }
  const accounts = (Array.isArray(o.accounts) ? o.accounts : []).map((a) => parseId(a));
  if (accounts.some((a) => !a)) throw new PolicyFileError(where, 'grant.accounts must be account ids');
  if (o.email !== undefined && (typeof o.email !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(o.email))) throw new PolicyFileError(where, 'grant.email is not an e-mail address');
  return { kind: 'scope', scope, scopeText, accounts: accounts as Id[], email: o.email as string | undefined };
}

export function parsePolicies(doc: unknown): Policy[] {
  const list = (doc as { policies?: unknown } | null)?.policies;
  if (!Array.isArray(list)) throw new PolicyFileError('top level', 'expected {"policies": [...]}');
  const top = unknownKey(doc as object, ['policies', '$schema'], '');
  if (top) throw new PolicyFileError('top level', top);
  const seen = new Set<string>();
  return list.map((p: unknown, i) => {
    const o = (p ?? {}) as Record<string, unknown>;
    const where = `policies[${i}]${typeof o.name === 'string' ? ` (${o.name.slice(0, 64)})` : ''}`;
    if (typeof o.name !== 'string' || !POLICY_NAME.test(o.name)) throw new PolicyFileError(where, 'name must be letters, digits, dots, dashes or underscores (at most 64)');
    if (seen.has(o.name)) throw new PolicyFileError(where, 'name is used twice');
    seen.add(o.name);
    const stray = unknownKey(o, POLICY_KEYS, '');
    if (stray) throw new PolicyFileError(where, stray);
    const rawMatch = (o.match ?? {}) as Record<string, unknown>;
    const match: Policy['match'] = {};
    for (const [claim, v] of Object.entries(rawMatch)) {
      const known = MATCHABLE_CLAIMS.find((c) => c === claim);
      if (!known) throw new PolicyFileError(where, `match.${claim.slice(0, 40)} is not a claim a policy can test (${MATCHABLE_CLAIMS.join(', ')})`);
      match[known] = patterns(where, known, v);
    }
    for (const required of ['repository_id', 'repository_owner_id'] as const) {
      if (!match[required]) throw new PolicyFileError(where, `match.${required} is required: trust follows the repository's id, not its name`);
    }
    // Unpinned, a policy admits pull_request_target, workflow_run and issue_comment jobs (run with the base
    // repository's trust on an outsider's input): the safe default is what users get without reading docs.
    if (!match.event_name) {
      throw new PolicyFileError(where, 'match.event_name is required: list the events this policy admits (e.g. ["push", "workflow_dispatch"]), or "*" to admit every event on purpose');
    }
    const lifetimeDays = o.lifetimeDays ?? 1;
    if (typeof lifetimeDays !== 'number' || !Number.isInteger(lifetimeDays) || lifetimeDays < 0 || lifetimeDays > MAX_LIFETIME_DAYS) {
      throw new PolicyFileError(where, `lifetimeDays must be a whole number from 0 to ${MAX_LIFETIME_DAYS}`);
    }
    if (o.clientCertificate !== undefined && typeof o.clientCertificate !== 'boolean') throw new PolicyFileError(where, 'clientCertificate must be true or false');
    const maxAgeMinutes = o.maxAgeMinutes ?? 60;
    if (typeof maxAgeMinutes !== 'number' || !Number.isInteger(maxAgeMinutes) || maxAgeMinutes < 1 || maxAgeMinutes > 60 * 24 * 8) {
      throw new PolicyFileError(where, `maxAgeMinutes must be a whole number from 1 to ${60 * 24 * 8}`);
    }
    const mode = o.mode ?? 'enforce';
    if (mode !== 'enforce' && mode !== 'audit') throw new PolicyFileError(where, 'mode must be "enforce" or "audit"');
    return { name: o.name, match, grant: parseGrant(where, o.grant), clientCertificate: o.clientCertificate === true, lifetimeDays, maxAgeMinutes, mode };
  });
}

/** Steps taken by `matches` (for tests and benchmarks: the bound is the value's length times the pattern's). */
export const matchSteps = { count: 0 };

type Token = { kind: 'char'; c: string } | { kind: 'star' } | { kind: 'globstar' };

function tokens(pattern: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '*') out.push({ kind: 'char', c: pattern[i]! });
    else if (pattern[i + 1] === '*') {
      out.push({ kind: 'globstar' });
      i++;
    } else out.push({ kind: 'star' });
  }
  return out;
}

/**
 * Whether `value` matches `pattern` (no `!`): a walk of the pattern's automaton, one set of positions per character
 * (Thompson's construction; no backtracking), so at most (value length + 1) × (pattern length + 1) steps.
 * `*` takes any character but `/` and `@`; `**` takes any character.
 */
export function matches(pattern: string, value: string): boolean {
  const t = tokens(pattern);
  const n = t.length;
  let live = new Uint8Array(n + 1);
  // A star may match nothing: from a position before stars, the positions after them are live too.
  const close = (set: Uint8Array): void => {
    for (let i = 0; i < n; i++) {
      matchSteps.count++;
      if (set[i] && t[i]!.kind !== 'char') set[i + 1] = 1;
    }
  };
  live[0] = 1;
  close(live);
  // UTF-16 units on both sides, as the pattern's tokens are.
  for (let j = 0; j < value.length; j++) {
    const ch = value[j]!;
    const next = new Uint8Array(n + 1);
    let any = false;
    for (let i = 0; i < n; i++) {
      matchSteps.count++;
      if (!live[i]) continue;
      const k = t[i]!;
      if (k.kind === 'char') {
        if (k.c === ch) {
          next[i + 1] = 1;
          any = true;
        }
      } else if (k.kind === 'globstar' || (ch !== '/' && ch !== '@')) {
        next[i] = 1;
        any = true;
      }
    }
    if (!any) return false;
    close(next);
    live = next;
  }
  return live[n] === 1;
}

/** A claim against its patterns: admitted by one, and excluded by none. */
function claimMatches(claim: MatchableClaim, list: readonly string[], raw: string): { ok: boolean; by?: string } {
  const fold = CASELESS.includes(claim) ? (x: string) => x.toLowerCase() : (x: string) => x;
  const value = fold(raw);
  const excluded = list.find((p) => p.startsWith('!') && matches(fold(p.slice(1)), value));
  if (excluded) return { ok: false, by: excluded };
  const admitted = list.find((p) => !p.startsWith('!') && matches(fold(p), value));
  return admitted ? { ok: true, by: admitted } : { ok: false };
}

/** One claim's part in a decision, for the audit log and `explain`. */
export interface ClaimVerdict {
  claim: MatchableClaim;
  expected: string[];
  /** What the token says (absent when it lacks the claim). */
  actual?: string;
  ok: boolean;
  /** The pattern that admitted it, or the exclusion that refused it. */
  by?: string;
}

/** A policy against a token's claims, claim by claim (a pure function: `explain` and the server call it alike). */
export function explainPolicy(policy: Policy, claims: Record<string, unknown>): ClaimVerdict[] {
  return (Object.entries(policy.match) as [MatchableClaim, string[]][]).map(([claim, expected]) => {
    const value = claims[claim];
    if (typeof value !== 'string') return { claim, expected, ok: false };
    return { claim, expected, actual: value.slice(0, 256), ...claimMatches(claim, expected, value) };
  });
}

export interface Mismatch {
  claim: MatchableClaim;
  expected: string[];
  /** What the token says (claims are not secret; the job holds the token). Absent when the token lacks the claim. */
  actual?: string;
}

export type Decision = { ok: true; policy: Policy } | { ok: false; code: 'unknown_policy'; policy: string } | { ok: false; code: 'policy_refused'; policy: string; mismatches: Mismatch[] };

export function decide(policies: readonly Policy[], name: string, claims: Record<string, unknown>): Decision {
  const policy = policies.find((p) => p.name === name);
  if (!policy) return { ok: false, code: 'unknown_policy', policy: name };
  const mismatches: Mismatch[] = explainPolicy(policy, claims)
    .filter((v) => !v.ok)
    .map(({ claim, expected, actual }) => ({ claim, expected, ...(actual !== undefined ? { actual } : {}) }));
  return mismatches.length ? { ok: false, code: 'policy_refused', policy: name, mismatches } : { ok: true, policy };
}
