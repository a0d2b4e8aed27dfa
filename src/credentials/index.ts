import { apiToken } from './api-token.js';
import type { CredentialKind, KindName } from './kind.js';
import { serviceUser } from './service-user.js';

export type { CredentialKind, KindName, Made } from './kind.js';
export { findByName } from './kind.js';

export const KINDS: Record<KindName, CredentialKind> = { 'api-token': apiToken, 'service-user': serviceUser };
