/**
 * The trust policy: which jobs get what, decided from the claims of their verified OIDC token. Deny by default: a job
 * names a policy, and gets its grant only when every claim the policy lists matches. Every policy must name the
 * repository and its owner by id (`repository_id`, `repository_owner_id`): names can be re-used by a renamed, deleted
 * and re-created, or transferred repository, ids cannot (docs.github.com, OpenID Connect reference: "Using
 * system-generated GUIDs", "Immutable subject claims").
 *
 * File (JSON): {"policies": [{"name", "match": {claim: pattern | [patterns]}, "grant": {"serviceUserId"} | {"scope",
 * "accounts"?, "email"?}, "clientCertificate"?: bool, "lifetimeDays"?: 0-7}]}. A pattern is the claim's exact text, or
 * with `*` standing for any run of characters (`refs/tags/v*`); ids take no `*`.
 */
import { parseId, type Id } from '../src/d1/wire.js';
import { MAX_LIFETIME_DAYS, parseScope, type ScopeEntry } from '../src/runner/inputs.js';

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
] as const;
export type MatchableClaim = (typeof MATCHABLE_CLAIMS)[number];
const ID_CLAIMS: readonly MatchableClaim[] = ['repository_id', 'repository_owner_id', 'actor_id'];

export type Grant = { kind: 'service-user'; serviceUserId: Id } | { kind: 'scope'; scope: ScopeEntry[]; scopeText: string; accounts: Id[]; email: string | undefined };

export interface Policy {
  name: string;
  match: Partial<Record<MatchableClaim, string[]>>;
  grant: Grant;
  /** A job may send a CSR and get a client authentication certificate for its user. */
  clientCertificate: boolean;
  lifetimeDays: number;
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
  return list;
}

function parseGrant(where: string, g: unknown): Grant {
  const o = (g ?? {}) as Record<string, unknown>;
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
  const seen = new Set<string>();
  return list.map((p: unknown, i) => {
    const o = (p ?? {}) as Record<string, unknown>;
    const where = `policies[${i}]${typeof o.name === 'string' ? ` (${o.name.slice(0, 64)})` : ''}`;
    if (typeof o.name !== 'string' || !POLICY_NAME.test(o.name)) throw new PolicyFileError(where, 'name must be letters, digits, dots, dashes or underscores (at most 64)');
    if (seen.has(o.name)) throw new PolicyFileError(where, 'name is used twice');
    seen.add(o.name);
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
    const lifetimeDays = o.lifetimeDays ?? 1;
    if (typeof lifetimeDays !== 'number' || !Number.isInteger(lifetimeDays) || lifetimeDays < 0 || lifetimeDays > MAX_LIFETIME_DAYS) {
      throw new PolicyFileError(where, `lifetimeDays must be a whole number from 0 to ${MAX_LIFETIME_DAYS}`);
    }
    if (o.clientCertificate !== undefined && typeof o.clientCertificate !== 'boolean') throw new PolicyFileError(where, 'clientCertificate must be true or false');
    return { name: o.name, match, grant: parseGrant(where, o.grant), clientCertificate: o.clientCertificate === true, lifetimeDays };
  });
}

/** `*` matches any run of characters; everything else is literal. */
function matches(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const re = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
  return re.test(value);
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
  const mismatches: Mismatch[] = [];
  for (const [claim, expected] of Object.entries(policy.match) as [MatchableClaim, string[]][]) {
    const value = claims[claim];
    if (typeof value !== 'string' || !expected.some((p) => matches(p, value))) {
      mismatches.push({ claim, expected, ...(typeof value === 'string' ? { actual: value.slice(0, 256) } : {}) });
    }
  }
  return mismatches.length ? { ok: false, code: 'policy_refused', policy: name, mismatches } : { ok: true, policy };
}
