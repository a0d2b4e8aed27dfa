/**
 * Client authentication certificates issued through the Account Manager API, the second factor Software Trust asks for.
 *
 * Sources (paths confirmed, bodies not public; see docs/software-trust-notes.md):
 * - dev.digicert.com, Account Manager API tutorial "Set up service user multi-factor authentication"
 *   (/en/account-manager/tutorials/set-up-service-user-multi-factor-authentication.html): `POST /client-auth-certificate`
 *   "request a client authentication certificate for the authenticated user" from a CSR; `PUT
 *   /client-auth-certificate/{id}/enable` "enable or disable a client authentication certificate". No DELETE is listed.
 * - docs.digicert.com "Create a client authentication certificate for a service user": a nickname, unique, letters,
 *   digits, spaces, dashes, underscores; an end date that "cannot exceed service user's end date" and "cannot be
 *   updated after the certificate is generated".
 * - docs.digicert.com "Disable a service user authentication certificate": disabling "immediately stops" API access;
 *   a disabled certificate "can be re-enabled".
 *
 * The request and answer field names (`csr`, `name`, `end_date`; `enabled`; `id`, `certificate`) are the emulator's
 * guesses, kept here in one place so a run against a real tenant can correct them.
 */
import forge from 'node-forge';
import { ApiError } from './api-error.js';
import { NAME_MAX, NAME_RE, type EmuUser, type Model } from './model.js';
import { certifyPublicKey, type KeyPair } from './pki.js';

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** POST /client-auth-certificate: certifies the CSR's key for the caller (never another user: there is no user field). */
export function createClientAuthCert(m: Model, clientCa: KeyPair, caller: EmuUser, body: unknown): [number, unknown] {
  const b = (body ?? {}) as Record<string, unknown>;
  const { csr, name } = b;
  const endDate = b.end_date;
  if (typeof name !== 'string' || !name.trim()) throw new ApiError(400, 'invalid_request', 'name is required');
  if (!NAME_RE.test(name) || name.length > NAME_MAX) {
    throw new ApiError(400, 'invalid_request', 'Name must only include letters, numbers, spaces, dashes, and underscores');
  }
  if (typeof endDate !== 'string' || !DAY_RE.test(endDate) || Number.isNaN(Date.parse(endDate))) {
    throw new ApiError(400, 'invalid_request', 'end_date is required, in the form YYYY-MM-DD');
  }
  if (endDate < m.today()) throw new ApiError(400, 'invalid_request', 'end_date cannot be in the past');
  // "The certificate expiry date cannot exceed service user's end date."
  if (caller.end_date && endDate > caller.end_date) {
    throw new ApiError(400, 'invalid_request', `end_date cannot be later than the user's end date ${caller.end_date}`);
  }
  if (typeof csr !== 'string' || !csr.includes('-----BEGIN CERTIFICATE REQUEST-----')) {
    throw new ApiError(400, 'invalid_request', 'csr is required: a PEM certificate signing request');
  }
  let request: forge.pki.CertificateSigningRequest;
  try {
    request = forge.pki.certificationRequestFromPem(csr);
  } catch {
    // forge reads RSA keys only: an EC CSR lands here too (a limit of the stand-in, listed in the notes).
    throw new ApiError(400, 'invalid_request', 'csr could not be parsed (the emulator accepts RSA CSRs only)');
  }
  // Proof of possession: the CSR must be signed by the key it asks to certify.
  // (forge throws, rather than answering false, on a signature that does not decode under the key.)
  let verified = false;
  try {
    verified = request.verify();
  } catch {
    verified = false;
  }
  if (!verified) throw new ApiError(400, 'invalid_request', 'csr signature does not verify');
  for (const c of m.clientCerts.values()) {
    if (c.user_id === caller.id && c.name === name) throw new ApiError(400, 'duplicate_error', `Nickname ${name} already exists`);
  }
  const certPem = certifyPublicKey(
    {
      // The CA names the subject after the user it certifies, whatever the CSR asked for.
      commonName: caller.id,
      clientAuth: true,
      issuer: clientCa,
      notBefore: new Date(m.clock().getTime() - 5 * 60_000),
      notAfter: new Date(`${endDate}T23:59:59Z`),
    },
    request.publicKey as forge.pki.rsa.PublicKey,
  );
  const c = m.addClientCert(caller.id, certPem, { name, end_date: endDate });
  return [201, { ...m.publicClientCert(c), certificate: certPem }];
}

/**
 * PUT /client-auth-certificate/{id}/enable with `{ "enabled": true | false }`. The owner may switch its own; a caller
 * with Manage users may switch those of users in an account it can access (the console lets administrators
 * disable a service user's certificate). Switching to the state it is in answers 200 again: the docs say nothing, and
 * a post step that retries after a lost answer must not be told it failed.
 */
export function setClientAuthCertEnabled(m: Model, caller: EmuUser, id: string, body: unknown): [number, unknown] {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b.enabled !== 'boolean') throw new ApiError(400, 'invalid_request', 'enabled (true or false) is required');
  const c = m.clientCertById(id);
  if (!c) throw new ApiError(404, 'resource_not_found', 'Client authentication certificate not found');
  const owner = m.users.get(c.user_id);
  if (!owner) throw new ApiError(404, 'resource_not_found', 'Client authentication certificate not found');
  if (owner.id !== caller.id) {
    const may = m.mayManageTokens(caller, owner);
    if (!may.ok) throw new ApiError(403, 'access_denied', may.why);
  }
  c.enabled = b.enabled;
  return [200, m.publicClientCert(c)];
}
