/**
 * One interface for every kind of credential the action makes (after google-github-actions/auth's one
 * implementation per credential kind): main records what it made, in order; post revokes that list in reverse
 * with the same loop for every kind. Each kind knows how to find itself after a lost answer, revoke itself and
 * describe itself; creating is kind-specific and lives beside it.
 */
import type { D1Client, Id, Listed, Name, UtcDay } from '../d1-api.js';

export type KindName = 'api-token' | 'service-user';

/** What main made (or was making), as saved in state for post. Never a secret. */
export interface Made {
  kind: KindName;
  /** Empty while the create's answer is unknown: post then finds it by its name. */
  id: Id | '';
  name: Name;
  /** The user an API token belongs to; for a service user, its own id once known. */
  userId: Id | '';
  endDate: UtcDay;
}

export interface CredentialKind {
  readonly kind: KindName;
  /** For people: "API token", "ephemeral service user". */
  readonly noun: string;
  /** The credentials among which one of this kind with this name would be (after a lost create). */
  list(client: D1Client, made: Made): Promise<Listed[]>;
  revoke(client: D1Client, id: Id): Promise<'deleted' | 'gone'>;
  /** Path of one, and of the listing, for the command a person runs when post could not finish. */
  path(id: Id): string;
  listPath(made: Made): string;
  /** What deleting it does, for the log. */
  readonly revokes: string;
}

/** The one credential in a listing that carries this name, if any. */
export function findByName(listed: Listed[], name: Name): Listed | undefined {
  return listed.find((x) => x.name === name);
}
