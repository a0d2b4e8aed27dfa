/**
 * A client authentication certificate made for the job (client-certificate-for-job): the second factor Software
 * Trust asks for. Post disables it (the documented PUT .../enable; no DELETE is documented). No listing of a user's
 * certificates is documented either, so one whose answer was lost cannot be found; it is also unusable, as its
 * private key never left the job's memory, and it ends on its end date (with scope, with its user).
 */
import { PATHS } from '../d1/wire.js';
import { remote, type CredentialKind } from './kind.js';

export const clientCertificate: CredentialKind = {
  kind: 'client-certificate',
  noun: 'client authentication certificate',
  revokes: 'disables it',
  local: false,
  revoke: (ctx, id) => remote(ctx).disableClientCert(id),
  manual: (m, { base, credentialArgs }) =>
    m.id
      ? `disable it with: curl -X PUT ${credentialArgs} -H "content-type: application/json" -d '{"enabled":false}' ${base}${PATHS.clientCertEnable(m.id)}`
      : 'its answer was lost, so its id is unknown; its private key never left the job, so nobody can use it, and it ends on its end date',
};
