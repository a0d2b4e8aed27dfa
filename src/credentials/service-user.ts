/** An ephemeral service user (scope): it "is the token", so deleting the user ends its token too. */
import { PATHS } from '../d1-wire.js';
import type { CredentialKind } from './kind.js';

export const serviceUser: CredentialKind = {
  kind: 'service-user',
  noun: 'ephemeral service user',
  revokes: 'deletes the user and so its token',
  list: (client) => client.listServiceUsers(),
  revoke: (client, id) => client.deleteUser(id),
  path: (id) => PATHS.user(id),
  listPath: () => PATHS.serviceUsers,
};
