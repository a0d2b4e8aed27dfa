/**
 * The emulator's role catalogue: per manager (application code), roles as Account Manager lists them, each a set
 * of permissions. A caller may grant a role only when it holds every permission in it.
 *
 * Names and what each role may do: docs.digicert.com "Account Manager user roles" (Account Manager, User Manager,
 * Account Admin, Default User, Read Only; the Account user's table) and "Account Manager user permissions" (*Manage
 * users*: "view, modify, create, or delete account scope (AS) standard or service users"; it is in the **User
 * Manager** role, while the Account Manager role lists *View users*); docs.digicert.com "Software Trust Manager user
 * roles" (Lead, Developer, Team Lead, Signer, Build Engineer, KeyLocker Lead, KeyLocker Signer; there is no "User").
 * Each role's `source` says whether its id is confirmed (seen in DigiCert's pages) or guessed. The permission codes
 * (`MANAGE_AM_USERS`, `SIGN_SM_HASH`, …) are the emulator's own: DigiCert publishes permission names, not codes.
 */
export interface Role {
  id: string;
  name: string;
  application_code: string;
  permissions: string[];
}

export const APPLICATIONS: Record<string, string> = {
  account_manager: 'Account Manager',
  secure_software_manager: 'Software Trust Manager',
  mpki: 'Trust Lifecycle Manager',
};

const AM = 'account_manager';
const ST = 'secure_software_manager';
const SIGNING = ['VIEW_SM_CERTIFICATE', 'VIEW_SM_KEYPAIR', 'SIGN_SM_HASH'];

/** The catalogue, with where each id comes from (not served: GET /role answers `Role` only). */
const CATALOGUE: (Role & { source: string })[] = [
  // "Primary admin and point of contact for managing account setup and user access": Manage accounts, Manage
  // organizations, View users, View logs. Not Manage users.
  { id: 'AM_ACCOUNT_MANAGER', name: 'Account Manager', application_code: AM, permissions: ['MANAGE_AM_ACCOUNT', 'VIEW_AM_USERS'], source: 'id seen in DigiCert prose (d1-api.md "Account Manager roles"); permissions: "Account Manager user roles"' },
  // "Admin who manages user access and permissions": View accounts, View organizations, Manage users, View logs.
  { id: 'AM_USER_MANAGER', name: 'User Manager', application_code: AM, permissions: ['VIEW_AM_USERS', 'MANAGE_AM_USERS'], source: 'id guessed (the role and its Manage users permission are confirmed; its code is not public)' },
  // "Admin who manages their organization's DigiCert ONE accounts and account-related settings".
  { id: 'AM_ACCOUNT_ADMIN', name: 'Account Admin', application_code: AM, permissions: ['MANAGE_AM_ACCOUNT', 'VIEW_AM_USERS'], source: 'id seen in DigiCert prose; permissions guessed from its description (no Manage users listed)' },
  // "Basic user for accessing other DigiCert One Manager services": the Default permission only (own profile, own
  // API key and client certificate).
  { id: 'AM_DEFAULT_USER', name: 'Default User', application_code: AM, permissions: [], source: 'id seen in DigiCert prose' },
  // "Account user is a basic user that can view account, organization, and user information".
  { id: 'AM_ACCOUNT_USER', name: 'Account User', application_code: AM, permissions: ['VIEW_AM_USERS'], source: 'id seen in DigiCert prose' },
  { id: 'AM_READ_ONLY', name: 'Read Only', application_code: AM, permissions: ['VIEW_AM_USERS'], source: 'id guessed ("Auditor and executive read-only access to account and user data")' },
  // Software Trust Manager. Lead: "the highest account scope role" (Manage keypair, Manage certificate profiles…).
  { id: 'SSM_LEAD', name: 'Lead', application_code: ST, permissions: [...SIGNING, 'MANAGE_SM_KEYPAIR', 'MANAGE_SM_CERTIFICATE'], source: 'id guessed; role confirmed' },
  { id: 'SSM_DEVELOPER', name: 'Developer', application_code: ST, permissions: [...SIGNING, 'MANAGE_SM_CERTIFICATE'], source: 'id guessed; role confirmed ("manages assets related to signing")' },
  { id: 'SSM_TEAM_LEAD', name: 'Team Lead', application_code: ST, permissions: [...SIGNING], source: 'id guessed; role confirmed' },
  // "Engineer or authenticated device that signs software": signs with keypairs assigned to it.
  { id: 'SSM_SIGNER', name: 'Signer', application_code: ST, permissions: [...SIGNING], source: 'id confirmed: dev.digicert.com "Create a keypair and sign a file hash" (d1-api.md)' },
  { id: 'SSM_BUILD_ENGINEER', name: 'Build Engineer', application_code: ST, permissions: [...SIGNING], source: 'id confirmed: same tutorial; permissions guessed (signs and scans)' },
  { id: 'TLM_REQUESTER', name: 'Certificate Requester', application_code: 'mpki', permissions: ['VIEW_MPKI_CERTIFICATE', 'REQUEST_MPKI_CERTIFICATE'], source: 'guessed: a stand-in for a Trust Lifecycle role (scope examples)' },
];

export const ROLES: Role[] = CATALOGUE.map(({ source: _source, ...r }) => r);

export function permissionsOf(roleId: string): string[] {
  return ROLES.find((r) => r.id === roleId)?.permissions ?? [];
}
