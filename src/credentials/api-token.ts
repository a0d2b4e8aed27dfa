/** An API token of an existing user (service-user-id): minted for the job, deleted by post. */
import { PATHS } from '../d1-wire.js';
import type { CredentialKind } from './kind.js';

export const apiToken: CredentialKind = {
  kind: 'api-token',
  noun: 'token',
  revokes: 'revokes it',
  // A token's owner is known before its create is sent, so its listing is always reachable.
  list: (client, made) => (made.userId ? client.listTokens(made.userId) : Promise.resolve([])),
  revoke: (client, id) => client.deleteToken(id),
  path: (id) => PATHS.token(id),
  listPath: (made) => (made.userId ? PATHS.tokensOf(made.userId) : PATHS.tokens),
};
