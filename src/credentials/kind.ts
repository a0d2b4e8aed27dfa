/**
 * One interface for every kind of credential the action makes (after google-github-actions/auth's one
 * implementation per credential kind): main records what it made, in order; post revokes that list in reverse
 * with the same loop for every kind. Each kind knows how to find itself after a lost answer (when it can), revoke
 * itself and describe itself; creating is kind-specific and lives in main.
 */
import type { D1Client, Id, Listed, Name, UtcDay } from '../d1/client.js';

export type KindName = 'api-token' | 'service-user' | 'client-certificate' | 'pkcs12-file';
export const KIND_NAMES: readonly KindName[] = ['api-token', 'service-user', 'client-certificate', 'pkcs12-file'];

/** What main made (or was making), as saved in state for post. Never a secret. */
export interface Made {
  kind: KindName;
  /** Empty while the create's answer is unknown: post then finds it by its name, where the kind can. */
  id: Id | '';
  name: Name;
  /** The user it belongs to (an API token's, a certificate's); for a service user, its own id once known. */
  userId: Id | '';
  /**
   * The end date DigiCert ONE's answer confirmed; '' when it confirmed none (then only revocation bounds the
   * credential's life). Before the answer (a pending entry), the end date asked for.
   */
  endDate: UtcDay | '';
}

/** What revoking needs: DigiCert ONE (with the bootstrap credential) for remote kinds, the runner's temp folder for files. */
export interface RevokeContext {
  client: D1Client | undefined;
  runnerTemp: string;
}

/** How a person finishes by hand what post could not: the base URL and curl's credential arguments (placeholders). */
export interface ManualContext {
  base: string;
  credentialArgs: string;
}

export interface CredentialKind {
  readonly kind: KindName;
  /** For people: "token", "ephemeral service user", … */
  readonly noun: string;
  /** What revoking it does, for the log. */
  readonly revokes: string;
  /** Revoked on this machine, without DigiCert ONE: done even when no bootstrap credential is usable. */
  readonly local: boolean;
  /** The credentials among which one of this kind with this name would be (after a lost create); absent: cannot be found. */
  list?(client: D1Client, made: Made): Promise<Listed[]>;
  revoke(ctx: RevokeContext, id: Id): Promise<'deleted' | 'gone'>;
  manual(made: Made, ctx: ManualContext): string;
}

/** The one credential in a listing that carries this name, if any. */
export function findByName(listed: Listed[], name: Name): Listed | undefined {
  return listed.find((x) => x.name === name);
}

/** The client for a remote kind; post gives one whenever a remote kind is in the list. */
export function remote(ctx: RevokeContext): D1Client {
  if (!ctx.client) throw new Error('no DigiCert ONE client for a remote credential');
  return ctx.client;
}
