/**
 * The emulator's role catalogue: per manager (application code), roles as Account Manager lists them, each a set
 * of permissions. A caller may grant a role only when it holds every permission in it.
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

export const ROLES: Role[] = [
  { id: 'AM_ACCOUNT_USER', name: 'Account User', application_code: 'account_manager', permissions: ['VIEW_AM_USERS'] },
  { id: 'AM_ACCOUNT_MANAGER', name: 'Account Manager', application_code: 'account_manager', permissions: ['VIEW_AM_USERS', 'MANAGE_AM_USERS'] },
  { id: 'AM_ACCOUNT_ADMIN', name: 'Account Admin', application_code: 'account_manager', permissions: ['VIEW_AM_USERS', 'MANAGE_AM_USERS', 'MANAGE_AM_ACCOUNT'] },
  { id: 'SM_USER', name: 'User', application_code: 'secure_software_manager', permissions: ['VIEW_SM_CERTIFICATE'] },
  { id: 'SM_SIGNER', name: 'Signer', application_code: 'secure_software_manager', permissions: ['VIEW_SM_CERTIFICATE', 'VIEW_SM_KEYPAIR', 'SIGN_SM_HASH'] },
  { id: 'SM_LEAD', name: 'Lead', application_code: 'secure_software_manager', permissions: ['VIEW_SM_CERTIFICATE', 'VIEW_SM_KEYPAIR', 'SIGN_SM_HASH', 'MANAGE_SM_KEYPAIR', 'MANAGE_SM_CERTIFICATE'] },
  { id: 'TLM_REQUESTER', name: 'Certificate Requester', application_code: 'mpki', permissions: ['VIEW_MPKI_CERTIFICATE', 'REQUEST_MPKI_CERTIFICATE'] },
];

export function permissionsOf(roleId: string): string[] {
  return ROLES.find((r) => r.id === roleId)?.permissions ?? [];
}
