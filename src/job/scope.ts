/**
 * Least privilege made easy: an ephemeral service user with only the roles this job needs, in the accounts it
 * needs, deleted by the post step. Everything is checked before anything is created: roles must exist (the error
 * lists those that do) and the bootstrap identity must hold every permission in them (no escalation attempt).
 */
import type { D1Client, Id, User } from '../d1/client.js';
import { InputError, type ScopedConfig } from '../runner/inputs.js';
import { logSafe } from '../platform/text-safety.js';
import type { RunInfo } from '../credentials/naming.js';

/** A few names from a server listing, for an error message: each made safe to print, the list bounded. */
function some(items: { id: string; name: string }[]): string {
  const shown = items.slice(0, 30).map((r) => `${logSafe(r.name, 60)} (${r.id})`);
  return (shown.join(', ') || 'none') + (items.length > 30 ? `, and ${items.length - 30} more` : '');
}

export interface ResolvedScope {
  roleIds: Id[];
  /** `Manager: Role` as resolved, for the log and the job summary (role names are server text: print with logSafe). */
  labels: string[];
  accounts: Id[];
}

export async function resolveScope(client: D1Client, me: User, scoped: ScopedConfig): Promise<ResolvedScope> {
  const held = new Set(me.permissions);
  const listings = await Promise.all(scoped.scope.map((e) => client.listRoles(e.applicationCode)));
  const roleIds: Id[] = [];
  const labels: string[] = [];
  scoped.scope.forEach((entry, i) => {
    const available = listings[i]!;
    for (const wanted of entry.roles) {
      const role = available.find((r) => r.id === wanted) ?? available.find((r) => r.name.toLowerCase() === wanted.toLowerCase());
      if (!role) {
        throw new InputError(
          'scope',
          `${entry.manager} has no role '${wanted}'. Roles there: ${some(available)}.`,
        );
      }
      const missing = role.permissions.filter((p) => !held.has(p));
      if (missing.length) {
        throw new InputError(
          'scope',
          `the bootstrap user ${me.id} does not hold ${entry.manager} role '${logSafe(role.name, 60)}' (it lacks ${missing.join(', ')}), so it cannot grant it. Ask for a role it holds, or give the bootstrap user that role first.`,
        );
      }
      roleIds.push(role.id);
      labels.push(`${entry.manager}: ${logSafe(role.name, 60)}`);
    }
  });

  let accounts = scoped.accounts;
  if (accounts.length) {
    const reachable = await client.listAccounts();
    const unknown = accounts.filter((a) => !reachable.some((r) => r.id === a));
    if (unknown.length) {
      throw new InputError('accounts', `the bootstrap user cannot reach ${unknown.join(', ')}. Accounts it can: ${some(reachable)}.`);
    }
  } else {
    if (!me.primaryAccountId) throw new InputError('accounts', 'the bootstrap user has no primary account; name the account ids for the new service user.');
    accounts = [me.primaryAccountId];
  }
  return { roleIds: [...new Set(roleIds)], labels, accounts };
}

export function describeRun(run: RunInfo, env: NodeJS.ProcessEnv, now: Date): string {
  // The workflow's name is the environment's text: one line, bounded, in the description DigiCert ONE keeps.
  const workflow = env.GITHUB_WORKFLOW ? ` (workflow ${logSafe(env.GITHUB_WORKFLOW, 100)})` : '';
  return `Ephemeral service user for ${run.repository} run ${run.runId} attempt ${run.runAttempt} job ${run.job}${workflow}, created by d1-token-action at ${now.toISOString()}; its post step deletes it.`;
}
