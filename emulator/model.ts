/**
 * The emulator's data: users (service and standard), their API tokens, and the rules the documentation states
 * for them. Kept apart from HTTP so the rules read as rules.
 */
import { X509Certificate, randomBytes, randomUUID } from 'node:crypto';

export interface Application {
  id: string;
  name: string;
  permissions: string[];
}

export interface EmuUser {
  id: string;
  email: string;
  friendly_name: string;
  description: string;
  user_type: 'service' | 'standard';
  status: 'ACTIVE' | 'INACTIVE';
  /** UTC day; the user stops working at 23:59:59 UTC that day. */
  end_date?: string;
  primary_account_id: string;
  accounts: string[];
  applications: Application[];
  created_at: string;
  created_by: string;
  /**
   * Which DigiCert ONE environment the user (and so its API tokens and client certificates) was made in. DigiCert
   * runs demo and production as separate services per region, `demo.one.digicert.com` next to `one.digicert.com`
   * (DigiCert's allow-listed URLs page), and "demo credentials do not work in production" (the reverse too): a key
   * of the other environment is simply unknown there, so it gets the same 401 as a wrong key.
   * Leaves out: only authentication is per environment; lookups and listings are not (the seeded demo user lives
   * in its own account, so production listings do not show it), and both share one role catalogue and client CA.
   */
  environment: Environment;
}

export type Environment = 'production' | 'demo';

/** The environment a request reached, from the host name it used: `demo.<name>` (after any `clientauth.`) is demo. */
export function environmentOf(hostHeader: string | undefined): Environment {
  const name = (hostHeader ?? '').toLowerCase().replace(/:\d+$/, '').replace(/^clientauth\./, '');
  return name.startsWith('demo.') ? 'demo' : 'production';
}

export interface Account {
  id: string;
  name: string;
  active: boolean;
}

export interface EmuToken {
  id: string;
  name: string;
  user_id: string;
  end_date: string | undefined;
  secret: string;
  created_at: string;
  deleted: boolean;
  /**
   * Disabled with PUT /api-access-token/{id} ("disabled tokens can be re-enabled", docs.digicert.com "Disable your API
   * token"). Guessed: a disabled token is refused with 401 like an unknown one (no source says what it answers).
   */
  disabled?: boolean;
}

/** Permission the emulator requires to manage another user's tokens ("Manage users" in Account Manager). */
export const MANAGE_USERS = 'MANAGE_AM_USERS';
export const VIEW_USERS = 'VIEW_AM_USERS';
export const NAME_RE = /^[A-Za-z0-9 _-]+$/;
export const NAME_MAX = 100;

export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** A client authentication certificate registered to a user, known by its SHA-256 fingerprint. */
export interface EmuClientCert {
  id: string;
  /** Nickname (unique per user), when issued through the API. */
  name: string | undefined;
  fingerprint256: string;
  serial_number: string;
  user_id: string;
  enabled: boolean;
  /** UTC day; the certificate stops working at 23:59:59 UTC that day (also its notAfter). */
  end_date: string | undefined;
  created_at: string;
}

export class Model {
  readonly users = new Map<string, EmuUser>();
  readonly tokens = new Map<string, EmuToken>();
  readonly accounts = new Map<string, Account>([
    ['acct-main', { id: 'acct-main', name: 'Main account', active: true }],
    ['acct-other', { id: 'acct-other', name: 'Other team', active: true }],
  ]);
  readonly clientCerts = new Map<string, EmuClientCert>();
  clock: () => Date = () => new Date();

  today(): string {
    return utcDay(this.clock());
  }

  addUser(u: Partial<EmuUser> & { friendly_name: string }): EmuUser {
    const id = u.id ?? randomUUID();
    const account = u.primary_account_id ?? 'acct-main';
    const user: EmuUser = {
      id,
      email: u.email ?? `${u.friendly_name.toLowerCase().replace(/[^a-z0-9]+/g, '.')}@example.test`,
      friendly_name: u.friendly_name,
      description: u.description ?? '',
      user_type: u.user_type ?? 'service',
      status: u.status ?? 'ACTIVE',
      end_date: u.end_date,
      primary_account_id: account,
      accounts: u.accounts ?? [account],
      applications: u.applications ?? [],
      created_at: this.clock().toISOString(),
      created_by: u.created_by ?? 'emulator',
      environment: u.environment ?? 'production',
    };
    this.users.set(id, user);
    return user;
  }

  addToken(userId: string, name: string, endDate: string | undefined): EmuToken {
    const t: EmuToken = {
      id: randomUUID(),
      name,
      user_id: userId,
      end_date: endDate,
      secret: randomBytes(30).toString('base64url'),
      created_at: this.clock().toISOString(),
      deleted: false,
    };
    this.tokens.set(t.id, t);
    return t;
  }

  /** Registers a client authentication certificate (PEM) to a user; its fingerprint identifies the caller. */
  addClientCert(userId: string, certPem: string, o: { name?: string; end_date?: string } = {}): EmuClientCert {
    const x = new X509Certificate(certPem);
    const c: EmuClientCert = {
      id: randomUUID(),
      name: o.name,
      fingerprint256: x.fingerprint256,
      serial_number: x.serialNumber,
      user_id: userId,
      enabled: true,
      end_date: o.end_date,
      created_at: this.clock().toISOString(),
    };
    this.clientCerts.set(c.fingerprint256, c);
    return c;
  }

  findClientCert(fingerprint256: string): EmuClientCert | undefined {
    return this.clientCerts.get(fingerprint256);
  }

  clientCertById(id: string): EmuClientCert | undefined {
    for (const c of this.clientCerts.values()) if (c.id === id) return c;
    return undefined;
  }

  /** Certificates that would authenticate now: enabled, not past their end date, of an active user. */
  liveClientCerts(): EmuClientCert[] {
    return [...this.clientCerts.values()].filter((c) => {
      const u = this.users.get(c.user_id);
      return c.enabled && !this.expired(c.end_date) && !!u && u.status === 'ACTIVE' && !this.expired(u.end_date);
    });
  }

  publicClientCert(c: EmuClientCert): Record<string, unknown> {
    return {
      id: c.id,
      name: c.name ?? null,
      user_id: c.user_id,
      serial_number: c.serial_number,
      end_date: c.end_date ?? null,
      enabled: c.enabled,
      created_at: c.created_at,
    };
  }

  /** Past its end date means after 23:59:59 UTC of that day. */
  expired(endDate: string | undefined): boolean {
    return endDate !== undefined && endDate < this.today();
  }

  tokenWorks(t: EmuToken): boolean {
    const u = this.users.get(t.user_id);
    return !t.deleted && !t.disabled && !this.expired(t.end_date) && !!u && u.status === 'ACTIVE' && !this.expired(u.end_date);
  }

  findBySecret(secret: string): EmuToken | undefined {
    for (const t of this.tokens.values()) if (t.secret === secret) return t;
    return undefined;
  }

  liveTokens(): EmuToken[] {
    return [...this.tokens.values()].filter((t) => this.tokenWorks(t));
  }

  /** Every permission the user holds, across managers. */
  permissions(user: EmuUser): Set<string> {
    return new Set(user.applications.flatMap((a) => a.permissions));
  }

  has(user: EmuUser, permission: string): boolean {
    return user.applications.some((a) => a.permissions.includes(permission));
  }

  sharesAccount(a: EmuUser, b: EmuUser): boolean {
    return a.accounts.some((x) => b.accounts.includes(x));
  }

  /**
   * Who may manage whose tokens: a standard user its own; anyone with "Manage users" those of users in an
   * account it can access. A service user "is the token": it cannot mint for itself.
   */
  mayManageTokens(caller: EmuUser, target: EmuUser): { ok: true } | { ok: false; why: string } {
    if (caller.id === target.id) {
      return caller.user_type === 'standard'
        ? { ok: true }
        : { ok: false, why: 'Service users cannot create or manage API tokens for themselves' };
    }
    if (!this.has(caller, MANAGE_USERS)) return { ok: false, why: `Permission ${MANAGE_USERS} (Account Manager: Manage users) is required` };
    if (!this.sharesAccount(caller, target)) return { ok: false, why: `No access to the account of user ${target.id}` };
    return { ok: true };
  }

  publicUser(u: EmuUser): Record<string, unknown> {
    return {
      id: u.id,
      email: u.email,
      status: u.status,
      access_scope: 'account',
      primary_account_id: u.primary_account_id,
      created_at: u.created_at,
      created_by: u.created_by,
      user_type: u.user_type,
      friendly_name: u.friendly_name,
      description: u.description,
      locale: 'en_US',
      ...(u.end_date ? { end_date: u.end_date } : {}),
      applications: u.applications,
    };
  }

  publicToken(t: EmuToken): Record<string, unknown> {
    return {
      id: t.id,
      name: t.name,
      user_id: t.user_id,
      end_date: t.end_date ?? null,
      created_at: t.created_at,
      status: t.deleted ? 'DELETED' : t.disabled ? 'DISABLED' : this.expired(t.end_date) ? 'EXPIRED' : 'ACTIVE',
    };
  }
}
