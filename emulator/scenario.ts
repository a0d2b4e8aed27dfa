/**
 * The tenant every test and the demo start from: a bootstrap service user that may manage users in the main
 * account, the narrowly scoped release-signing service user it mints for, a user in another account, and an
 * administrator (standard user) who may mint for itself.
 */
import { MANAGE_USERS, VIEW_USERS, type EmuUser } from './model.js';
import type { D1Emulator } from './server.js';
import type { Keypair } from './software-trust.js';

export interface Scenario {
  bootstrap: { user: EmuUser; apiKey: string; tokenId: string };
  signer: EmuUser;
  outsider: EmuUser;
  admin: { user: EmuUser; apiKey: string };
  /** A service user with no Account Manager rights: it can log in but may not mint for others. */
  powerless: { user: EmuUser; apiKey: string };
  /** A bootstrap made in the demo environment (emu.demoHost): its key is refused on the production name. */
  demo: { user: EmuUser; apiKey: string };
  /**
   * Software Trust's keypair `release-key` (RSA, with its code-signing certificate), assigned to `signer` alone:
   * the long-lived signer service user the signing examples mint both factors for.
   */
  keypair: Keypair;
}

/** The alias of the scenario's keypair (what `keypair-alias` and smctl's `--keypair-alias` name). */
export const KEYPAIR_ALIAS = 'release-key';

export function seedScenario(emu: D1Emulator): Scenario {
  const m = emu.model;
  const bootstrapUser = m.addUser({
    friendly_name: 'ci-bootstrap',
    description: 'Mints short-lived tokens for CI',
    applications: [
      { id: 'account_manager', name: 'Account Manager', permissions: [VIEW_USERS, MANAGE_USERS] },
      // It may hand out Software Trust's Signer role (it holds it), not Lead.
      { id: 'secure_software_manager', name: 'Software Trust Manager', permissions: ['VIEW_SM_CERTIFICATE', 'VIEW_SM_KEYPAIR', 'SIGN_SM_HASH'] },
      // And Trust Lifecycle's Certificate Requester: scope for API work that needs no keypair (README, examples).
      { id: 'mpki', name: 'Trust Lifecycle Manager', permissions: ['VIEW_MPKI_CERTIFICATE', 'REQUEST_MPKI_CERTIFICATE'] },
    ],
  });
  const bootstrapToken = m.addToken(bootstrapUser.id, 'ci-bootstrap token', undefined);
  const signer = m.addUser({
    friendly_name: 'release-signer',
    // Software Trust's Signer role (roles.ts SSM_SIGNER).
    applications: [{ id: 'secure_software_manager', name: 'Software Trust Manager', permissions: ['VIEW_SM_CERTIFICATE', 'VIEW_SM_KEYPAIR', 'SIGN_SM_HASH'] }],
  });
  const keypair = emu.softwareTrust.addKeypair({ alias: KEYPAIR_ALIAS, users: [signer.id] });
  const outsider = m.addUser({ friendly_name: 'other-team-signer', primary_account_id: 'acct-other' });
  const adminUser = m.addUser({
    friendly_name: 'Ada Admin',
    user_type: 'standard',
    applications: [{ id: 'account_manager', name: 'Account Manager', permissions: [VIEW_USERS, MANAGE_USERS] }],
  });
  const adminToken = m.addToken(adminUser.id, 'ada personal', undefined);
  const powerlessUser = m.addUser({ friendly_name: 'viewer-only', applications: [] });
  const powerlessToken = m.addToken(powerlessUser.id, 'viewer token', undefined);
  // Its own account, so production listings of the main account do not show it.
  const demoUser = m.addUser({
    friendly_name: 'ci-bootstrap demo',
    environment: 'demo',
    primary_account_id: 'acct-demo',
    applications: [{ id: 'account_manager', name: 'Account Manager', permissions: [VIEW_USERS, MANAGE_USERS] }],
  });
  const demoToken = m.addToken(demoUser.id, 'ci-bootstrap demo token', undefined);
  return {
    demo: { user: demoUser, apiKey: demoToken.secret },
    bootstrap: { user: bootstrapUser, apiKey: bootstrapToken.secret, tokenId: bootstrapToken.id },
    signer,
    outsider,
    admin: { user: adminUser, apiKey: adminToken.secret },
    powerless: { user: powerlessUser, apiKey: powerlessToken.secret },
    keypair,
  };
}
