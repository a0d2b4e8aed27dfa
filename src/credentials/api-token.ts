/** An API token of an existing user (service-user-id): minted for the job, deleted by post. */
import { PATHS } from '../d1/wire.js';
import { remote, type CredentialKind } from './kind.js';

export const apiToken: CredentialKind = {
  kind: 'api-token',
  noun: 'token',
  revokes: 'revokes it',
  local: false,
  // A token's owner is known before its create is sent, so its listing is always reachable.
  list: (client, made) => (made.userId ? client.listTokens(made.userId) : Promise.resolve([])),
  revoke: (ctx, id) => remote(ctx).deleteToken(id),
  manual: (m, { base, credentialArgs }) =>
    m.id
      ? `delete it with: curl -X DELETE ${credentialArgs} ${base}${PATHS.token(m.id)}`
      : `find it with curl ${credentialArgs} "${base}${m.userId ? PATHS.tokensOf(m.userId) : PATHS.tokens}" and delete it by id`,
};
