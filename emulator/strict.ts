/**
 * The emulator checks what it is sent: each route that takes a JSON body declares the keys it knows, which of them
 * are required, and their types. A key it does not know, a required key that is missing, or a value of the wrong
 * type is refused with 400 `invalid_request` naming the key, e.g. `unknown field 'expiration_date'` (in whichever
 * error-body shape the server answers with). So a field renamed in src/d1/wire.ts fails the tests and the contract
 * suite instead of being silently ignored, which is what a permissive stand-in would do.
 *
 * API (Account Manager uses it in server.ts; Software Trust routes may use it the same way):
 *
 *   const RULES: BodyRules = { name: { type: 'string', required: true, source: 'guessed: ...' }, ... };
 *   checkBody(body, RULES, emu.strictBodies);   // throws ApiError(400, 'invalid_request', ...) or returns the object
 *
 * `strict` false (EmulatorOptions.strictBodies: false) is the lenient mode: unknown keys are ignored, as a real
 * service may do, for tests about that leniency; missing required keys and wrong types are refused either way.
 *
 * Each rule says where its key comes from: `confirmed` (DigiCert's public documentation shows the key), `recorded`
 * (seen in an answer or request captured from a real tenant, e.g. in a public client's tests), or `guessed` (the
 * docs describe the field in prose or in the console only; the key is ours). See /work/shared/d1-api.md's tables.
 */
import { ApiError } from './api-error.js';

export type FieldType = 'string' | 'boolean' | 'number' | 'string[]' | 'object';

export interface FieldRule {
  type: FieldType;
  required?: boolean;
  /** `confirmed: <source>`, `recorded: <source>` or `guessed: <why>`. */
  source: string;
}

export type BodyRules = Readonly<Record<string, FieldRule>>;

function typeOk(v: unknown, t: FieldType): boolean {
  switch (t) {
    case 'string[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'object':
      return !!v && typeof v === 'object' && !Array.isArray(v);
    default:
      return typeof v === t;
  }
}

/** The body as an object, once its keys and types pass `rules`; else a 400 naming the first offending key. */
export function checkBody(body: unknown, rules: BodyRules, strict = true): Record<string, unknown> {
  if (body === undefined) body = {};
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'invalid_request', 'Request body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (strict) {
    for (const key of Object.keys(b)) {
      if (!Object.hasOwn(rules, key)) throw new ApiError(400, 'invalid_request', `unknown field '${key}'`);
    }
  }
  for (const [key, rule] of Object.entries(rules)) {
    const v = b[key];
    if (v === undefined || v === null) {
      if (rule.required) throw new ApiError(400, 'invalid_request', `missing required field '${key}'`);
      continue;
    }
    if (!typeOk(v, rule.type)) throw new ApiError(400, 'invalid_request', `field '${key}' must be of type ${rule.type}`);
  }
  return b;
}

// ---------------------------------------------------------------------------------------------------------------
// Account Manager bodies. No request body of these routes is in DigiCert's public documentation (d1-api.md, "What the
// public documentation confirms": "not public"), so every key below is guessed; the console fields they stand for are
// documented, and that is what `source` cites.

/** POST /api-access-token. */
export const CREATE_TOKEN: BodyRules = {
  name: { type: 'string', required: true, source: 'guessed: docs.digicert.com "Create your API token" documents a required Name (key not public)' },
  end_date: { type: 'string', source: 'guessed: same page, "End date (optional)", a UTC day (key not public)' },
  user_id: { type: 'string', required: true, source: 'guessed: dev.digicert.com "Manage API token lifecycle" creates tokens for a user id (body not public)' },
};

/**
 * PUT /api-access-token/{id}: "update or disable" a token; "disabled tokens can be re-enabled", and the console lets
 * you "edit the API token details and extend the expiration date". No body is public.
 */
export const UPDATE_TOKEN: BodyRules = {
  name: { type: 'string', source: 'guessed: docs.digicert.com "Create your API token" (details can be edited; key not public)' },
  end_date: { type: 'string', source: 'guessed: same page, "extend the expiration date" (key not public)' },
  enabled: { type: 'boolean', source: 'guessed: docs.digicert.com "Disable your API token" (key not public)' },
};

/** POST /user for a service user. */
export const CREATE_SERVICE_USER: BodyRules = {
  user_type: { type: 'string', required: true, source: 'guessed: `user_type: "service"` is recorded in GET /user answers (dev.digicert.com "Get started"); as a request key, guessed' },
  friendly_name: { type: 'string', required: true, source: 'guessed: `friendly_name` is confirmed in GET /user answers (dev.digicert.com "Get started"); as a request key, guessed' },
  description: { type: 'string', source: 'guessed: `description` is confirmed in GET /user answers; optional in the console ("Make your first API call")' },
  email: { type: 'string', required: true, source: 'guessed: `email` is confirmed in GET /user answers; the console asks for it' },
  end_date: { type: 'string', source: 'guessed: the console asks for an end date; no answer shows the key' },
  accounts: { type: 'string[]', required: true, source: 'guessed: the console assigns accounts; key not public' },
  roles: { type: 'string[]', required: true, source: 'guessed: the console assigns roles per manager; key not public' },
};

/** POST /client-auth-certificate (dev.digicert.com "Set up service user multi-factor authentication": path only). */
export const CREATE_CLIENT_CERT: BodyRules = {
  csr: { type: 'string', required: true, source: 'guessed: the tutorial requests the certificate "from a CSR" (key not public)' },
  name: { type: 'string', required: true, source: 'guessed: docs.digicert.com "Create a service user authentication certificate" asks for a nickname' },
  end_date: { type: 'string', required: true, source: 'guessed: same page, an end date that cannot exceed the service user\'s' },
};

/** PUT /client-auth-certificate/{id}/enable ("enable or disable"; body not public). */
export const ENABLE_CLIENT_CERT: BodyRules = {
  enabled: { type: 'boolean', required: true, source: 'guessed: the tutorial says "enable or disable" (key not public)' },
};
