import { apiToken } from './api-token.js';
import { clientCertificate } from './client-certificate.js';
import type { CredentialKind, KindName } from './kind.js';
import { pkcs12File } from './pkcs12-file.js';
import { serviceUser } from './service-user.js';

export type { CredentialKind, KindName, Made, RevokeContext } from './kind.js';
export { KIND_NAMES, findByName } from './kind.js';

export const KINDS: Record<KindName, CredentialKind> = {
  'api-token': apiToken,
  'service-user': serviceUser,
  'client-certificate': clientCertificate,
  'pkcs12-file': pkcs12File,
};
