/**
 * The contract: what the action needs from each endpoint it calls. Written once; runs against the emulator in
 * `npm test` and against a real tenant with `npm run test:live`. Each answer is checked against the field table
 * (fields.ts); the spelling the target used is recorded in .tmp/contract-report.md (names only, never values), the
 * file to paste when contributing a live run. In `npm test` it runs twice: bootstrap by API key and by client certificate. Everything created is named d1ta-contract-*, deleted in the test,
 * and swept again at the end even when a test failed.
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeShape, type AnswerShape } from '../../src/d1/answer-fields.js';
import { D1Error, type D1Client } from '../../src/d1/client.js';
import { createServiceUserBody, createTokenBody, type Id, type Name, type UtcDay } from '../../src/d1/wire.js';
import { resolveScope } from '../../src/job/scope.js';
import { VERSION } from '../../src/platform/version.js';
import { CONTRACT_PREFIX, EMULATOR_AUTH, openTarget, type ContractTarget } from './target.js';
import { BARE_ARRAY, FIELDS, endpointKey, seenSpelling } from './fields.js';

const LIVE = process.env.D1_CONTRACT_TARGET === 'live';

describe.each(LIVE ? [undefined] : [...EMULATOR_AUTH])('contract against %s', (auth) => {
  let target: ContractTarget;
  /** Per rule: the spelling the target answered with, or why none was seen. */
  const seen = new Map<string, string>();
  const answers = new Map<string, string>();
  let last: { endpoint: string; shape: AnswerShape } | undefined;

  beforeAll(async () => {
    target = await openTarget(process.env, auth ?? 'api-key');
  });

  afterAll(async () => {
    if (!target) return;
    try {
      await sweep();
    } finally {
      writeReport();
      await target.close();
    }
  }, 120_000);

  /** The action's client, observed: every answer's field names go to the checks and the report. */
  function client(): D1Client {
    return target.client({
      onAnswer: (endpoint, status, shape) => {
        last = { endpoint: endpointKey(endpoint), shape };
        answers.set(`${endpointKey(endpoint)} -> ${status}`, describeShape(shape));
      },
    });
  }

  /** Mask a minted secret when running in GitHub Actions, before anything could print it. */
  function hide(secret: string): void {
    if (process.env.GITHUB_ACTIONS === 'true') process.stdout.write(`::add-mask::${secret}\n`);
  }

  /** Checks the last answer against the rules of its endpoint; a missing required field names the broken assumption. */
  function checkFields(): void {
    const a = last!;
    for (const rule of FIELDS.filter((r) => r.endpoint === a.endpoint)) {
      const spelling = seenSpelling(rule, a.shape);
      const invisible = rule.where === 'item' && (a.shape.kind !== 'array' || !a.shape.items);
      seen.set(rule.id, spelling ?? (invisible && !seen.get(rule.id) ? '(not visible: no list items)' : seen.get(rule.id) ?? '(absent)'));
      if (invisible) continue;
      if (rule.required) {
        expect(
          spelling,
          `${a.endpoint} answered with ${describeShape(a.shape)}; the action reads the ${rule.field} from ${rule.accepted.join(' / ')} — this target breaks that assumption (the emulator answers '${rule.emulator}'). Please report it with .tmp/contract-report.md.`,
        ).toBeDefined();
      }
      // The emulator states one spelling; it must answer with exactly that one.
      if (target.mode === 'emulator') expect(spelling, `${rule.id}`).toBe(rule.emulator);
    }
  }

  function utcDay(offsetDays: number): UtcDay {
    const d = new Date();
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + offsetDays)).toISOString().slice(0, 10) as UtcDay;
  }

  describe('contract: the bootstrap and the target user', () => {
    it('GET /user/me: 200 with the caller, its id and (optionally) type, status and end date as a UTC day', async () => {
      const me = await client().getUser('me');
      checkFields();
      expect(me.id).not.toBe('');
      if (me.endDate) expect(me.endDate, 'end_date as YYYY-MM-DD (a UTC day)').toMatch(/^\d{4}-\d{2}-\d{2}/);
    });

    it('GET /user/{id} of the target service user: 200 with its id', async () => {
      const user = await client().getUser(target.serviceUserId);
      checkFields();
      expect(user.id).toBe(target.serviceUserId);
    });

    it('a key that does not exist is refused with 401', async () => {
      expect(await target.statusWith(`${CONTRACT_PREFIX}not-a-key-${Date.now()}`)).toBe(401);
    });
  });

  // Every error-body shape DigiCert documents, each chosen in the emulator (docs "Error handling and rate limits" show
  // `{"error": {code, message}}` and `{"errors": [{code, message}]}`; CertCentral's 429 is
  // `{"errors": [{"code": "request_limit_exceeded", …}]}`): the action reads the code and message from each.
  describe.skipIf(LIVE)('contract (emulator): error bodies in each documented shape', () => {
    it.each(['errors', 'error'] as const)('%s: a duplicate name is read as a duplicate, with the server\'s code and message', async (shape) => {
      const emu = target.emulator!;
      const c = client();
      const name = target.name(`dup-${shape}`);
      const minted = await c.createToken({ userId: target.serviceUserId, name, endDate: utcDay(1) });
      hide(minted.secret);
      emu.errorShape = shape;
      try {
        const dup = await c.createToken({ userId: target.serviceUserId, name, endDate: utcDay(1) }).then(() => undefined, (e: unknown) => e);
        expect(dup).toBeInstanceOf(D1Error);
        expect((dup as D1Error).kind).toBe('duplicate');
        expect((dup as D1Error).message).toContain(`(duplicate_error: Name ${name} already exists)`);
      } finally {
        emu.errorShape = 'errors';
        await c.deleteToken(minted.id);
      }
    });

    it.each([
      ['errors', 'request_limit_exceeded'],
      ['error', 'rate_limit_exceeded'],
    ] as const)('429 as %s with code %s: read as rate-limited, naming the code', async (shape, code) => {
      const emu = target.emulator!;
      emu.errorShape = shape;
      // A Retry-After past the client's budget: the action stops at once instead of waiting.
      emu.fault({ method: 'GET', path: /\/user\/me$/, kind: 'status', status: 429, code, retryAfter: '3600' });
      try {
        const e = await client().getUser('me').then(() => undefined, (x: unknown) => x);
        expect(e).toBeInstanceOf(D1Error);
        expect((e as D1Error).kind).toBe('rate-limited');
        expect((e as D1Error).message).toContain(`returned 429 (${code}: Emulated 429)`);
      } finally {
        emu.errorShape = 'errors';
        emu.faults.length = 0;
      }
    });
  });

  describe('contract: API tokens of the target service user', () => {
    it('a minted token authenticates, is listed by name with its UTC-day end date, is unique by name, and stops working when deleted', async () => {
      const c = client();
      const name = target.name('token');
      const endDate = utcDay(1);
      const minted = await c.createToken({ userId: target.serviceUserId, name, endDate });
      hide(minted.secret);
      checkFields();
      let deleted = false;
      try {
        expect(await target.statusWith(minted.secret), 'the minted token authenticates').toBe(200);

        const listed = await c.listTokens(target.serviceUserId);
        checkFields();
        const mine = listed.find((t) => t.id === minted.id);
        expect(mine, 'the new token is in GET /api-access-token?user_id=').toBeDefined();
        expect(mine!.name).toBe(name);
        if (mine!.endDate !== undefined) expect(mine!.endDate.slice(0, 10), 'end_date is the UTC day asked for').toBe(endDate);
        seen.set('tokens.end_date.format', mine!.endDate === undefined ? '(absent)' : /^\d{4}-\d{2}-\d{2}$/.test(mine!.endDate) ? 'YYYY-MM-DD' : 'a timestamp (not YYYY-MM-DD)');

        const dup = await c.createToken({ userId: target.serviceUserId, name, endDate }).then(
          (t) => {
            hide(t.secret);
            return t;
          },
          (err: unknown) => err,
        );
        expect(dup instanceof D1Error && dup.kind === 'duplicate', 'a second token with the same name is refused as a duplicate (4xx)').toBe(true);

        expect(await c.deleteToken(minted.id)).toBe('deleted');
        deleted = true;
        expect(await target.statusWith(minted.secret), 'a deleted token no longer authenticates').toBe(401);
        expect(await c.deleteToken(minted.id), 'deleting it again: 404, read as gone').toBe('gone');
      } finally {
        if (!deleted) await c.deleteToken(minted.id).catch(() => undefined);
      }
    });
  });

  describe('contract: a client certificate for the job (client-certificate-for-job)', () => {
    it('requested with a minted token, for that token\'s user: an id and a PEM certificate for the CSR\'s key; disabling it answers 2xx', async () => {
      const c = client();
      const name = target.name('cert');
      const minted = await c.createToken({ userId: target.serviceUserId, name, endDate: utcDay(1) });
      hide(minted.secret);
      try {
        const { makeJobCertificateRequest } = await import('../../src/keys/job-certificate.js');
        const request = await makeJobCertificateRequest(name);
        const asUser = target.clientAs(minted.secret, {
          onAnswer: (endpoint, _status, shape) => void (last = { endpoint: endpointKey(endpoint), shape }),
        });
        const cert = await asUser.createClientCert({ csrPem: request.csrPem, name, endDate: utcDay(1) });
        checkFields();
        const x509 = new X509Certificate(cert.certificatePem);
        expect(x509.checkPrivateKey(request.privateKey), 'the certificate is for the key of the CSR sent').toBe(true);
        expect(new Date(x509.validTo).getTime(), 'it ends no later than the end date asked for').toBeLessThanOrEqual(Date.parse(`${utcDay(1)}T23:59:59Z`) + 1000);
        expect(await c.disableClientCert(cert.id), 'the bootstrap may disable it').toBe('deleted');
      } finally {
        await c.deleteToken(minted.id).catch(() => undefined);
      }
    });
  });

  describe('contract: scope (an ephemeral service user)', () => {
    it('roles resolve, accounts list, the created user carries a working token, is listed, and deleting it ends the token', async (ctx) => {
      if (!target.scope) ctx.skip(); // live runs without D1_LIVE_SCOPE
      const c = client();
      const me = await c.getUser('me');
      const resolved = await resolveScope(c, me, { scope: target.scope!, accounts: [], email: 'contract@noreply.invalid' });
      checkFields();
      await c.listAccounts();
      checkFields();
      const name = target.name('user');
      const user = await c.createServiceUser({ name, description: 'd1-token-action contract suite; deleted at once', email: 'contract@noreply.invalid', endDate: utcDay(1), accounts: resolved.accounts, roles: resolved.roleIds });
      hide(user.secret);
      checkFields();
      let deleted = false;
      try {
        expect(await target.statusWith(user.secret), "the service user's token authenticates").toBe(200);
        const listed = await c.listServiceUsers();
        checkFields();
        expect(listed.find((u) => u.id === user.id)?.name).toBe(name);
        expect(await c.deleteUser(user.id)).toBe('deleted');
        deleted = true;
        expect(await target.statusWith(user.secret), 'deleting the user ends its token').toBe(401);
      } finally {
        if (!deleted) await c.deleteUser(user.id).catch(() => undefined);
      }
    });
  });

  /** Deletes every token and service user this suite may have left (its prefix), from this run or an earlier one. */
  async function sweep(): Promise<void> {
    const c = target.client();
    const left: string[] = [];
    for (const t of await c.listTokens(target.serviceUserId)) {
      if (t.name?.startsWith(CONTRACT_PREFIX)) {
        await c.deleteToken(t.id);
        left.push(`token ${t.name}`);
      }
    }
    if (target.scope) {
      for (const u of await c.listServiceUsers()) {
        if (u.name?.startsWith(CONTRACT_PREFIX)) {
          await c.deleteUser(u.id);
          left.push(`service user ${u.name}`);
        }
      }
    }
    if (left.length) console.log(`contract sweep deleted ${left.length} leftover(s): ${left.join(', ')}`);
  }

  function writeReport(): void {
    const rows = FIELDS.map((r) => `| \`${r.endpoint.replace('/account/api/v1', '')}\` | ${r.field} | \`${r.emulator}\` | ${r.accepted.map((a) => (a === BARE_ARRAY ? a : `\`${a}\``)).join(', ')} | ${seen.get(r.id) ?? '(not called)'} |`);
    const text = [
      `# d1-token-action contract run (${target.mode}${target.mode === 'live' ? `, ${target.host}` : ''}), action ${VERSION}, ${new Date().toISOString()}`,
      '',
      'Field names only, never values. Paste this file into an issue to report what a real tenant answers.',
      '',
      '| endpoint | field | emulator answers | action accepts | this target answered |',
      '|---|---|---|---|---|',
      ...rows,
      `| \`GET /api-access-token\` | end date format | YYYY-MM-DD | a UTC day | ${seen.get('tokens.end_date.format') ?? '(not called)'} |`,
      '',
      'Request bodies: the field names the action sends (src/d1/client.ts); a 200/201 for that request in the table below means this target took them.',
      '',
      '| request | body fields sent |',
      '|---|---|',
      `| \`POST /api-access-token\` | ${Object.keys(createTokenBody({ name: 'n' as Name, endDate: 'd' as UtcDay, userId: 'u' as Id })).join(', ')} |`,
      `| \`POST /user\` | ${Object.keys(createServiceUserBody({ name: 'n' as Name, description: 'd', email: 'e', endDate: 'd' as UtcDay, accounts: [], roles: [] })).join(', ')} |`,
      '',
      '| answer | fields |',
      '|---|---|',
      ...[...answers].map(([k, v]) => `| \`${k.replace('/account/api/v1', '')}\` | ${v} |`),
      '',
    ].join('\n');
    mkdirSync('.tmp', { recursive: true });
    writeFileSync(`.tmp/contract-report-${target.mode}${auth ? `-${auth}` : ''}.md`, text);
  }
});
