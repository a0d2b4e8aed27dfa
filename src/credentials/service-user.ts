/** An ephemeral service user (scope): it "is the token", so deleting the user ends its token (and certificates) too. */
import { PATHS } from '../d1/wire.js';
import { remote, type CredentialKind } from './kind.js';

export const serviceUser: CredentialKind = {
  kind: 'service-user',
  noun: 'ephemeral service user',
  revokes: 'deletes the user and so its token',
  local: false,
  list: (client) => client.listServiceUsers(),
  revoke: (ctx, id) => remote(ctx).deleteUser(id),
  manual: (m, { base, credentialArgs }) =>
    m.id ? `delete it with: curl -X DELETE ${credentialArgs} ${base}${PATHS.user(m.id)}` : `find it with curl ${credentialArgs} "${base}${PATHS.serviceUsers}" and delete it by id`,
};
