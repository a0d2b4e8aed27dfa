/**
 * `preflight: true`: authenticate and check, read-only, everything a real run will need, then stop. It mints
 * nothing, deletes nothing and saves no state that the post step would act on (post finds "nothing to revoke").
 * Each check prints one line (PASS / WARN / FAIL / SKIP and what to fix); the answers' field names are listed so a
 * tenant that answers differently can be reported in one paste. A failed check fails the step.
 */
import { bootstrapConnection } from '../job/connect.js';
import { dateOf } from '../platform/clock.js';
import { D1Client, D1Error, type Id, type Role, type User } from '../d1/client.js';
import { checkExpiry, daysUntil } from '../credentials/expiry.js';
import { proxyPasswords, type HttpClient } from '../platform/http.js';
import { InputError, certificateLoader, parseConfig, secretInputValues, usesBroker, type Config } from '../runner/inputs.js';
import { hostEnvironment, proxyFor } from '../job/preflight-checks/environment.js';
import { PreflightReport, type CheckResult } from '../job/preflight-checks/report.js';
import { maskSecret } from '../platform/text-safety.js';
import type { MainDeps } from '../job/deps.js';
import { traceFor, type TraceEvent } from '../d1/trace.js';

/** The same collaborators as main: preflight runs in its place. */
export type PreflightDeps = MainDeps;

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export async function runPreflight(deps: PreflightDeps): Promise<CheckResult[]> {
  if (usesBroker(deps.core.getInput)) return (await import(/* webpackChunkName: "broker-mode" */ '../job/broker.js')).runBrokerPreflight(deps);
  const { core, env, clock } = deps;
  const now = dateOf(clock);
  const secrets = [...secretInputValues(core.getInput), ...proxyPasswords(env)];
  for (const value of secrets) maskSecret(value, core.setSecret);
  const report = new PreflightReport(core, secrets);
  core.info('Preflight: checking the set-up read-only; nothing will be created, changed or deleted.');

  let config: Config | undefined;
  try {
    config = parseConfig(core.getInput, env, deps.run, now, await certificateLoader(core.getInput));
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    report.add(err.input.startsWith('client-') ? 'client certificate' : 'inputs', 'fail', err.message);
  }
  if (config) await checkService(deps, config, secrets, report, now);

  report.printAnswers();
  if (!config || config.step.jobSummary) await report.writeSummary().catch((err) => core.warning(`Could not write the job summary: ${message(err)}`));
  const failed = report.failed;
  if (failed.length) {
    core.setFailed(`Preflight: ${failed.length} check(s) failed (${failed.map((c) => c.check).join('; ')}). Fix what the [FAIL] lines say and run it again; nothing was created.`);
  } else {
    core.info('Preflight: all checks passed. Remove `preflight: true` to mint.');
  }
  return report.checks;
}

async function checkService(deps: PreflightDeps, config: Config, secrets: string[], report: PreflightReport, now: Date): Promise<void> {
  const { core, env, createHttp, clock } = deps;
  const auth = config.auth;
  const target = config.scoped ? `scope (${config.scoped.scope.map((s) => `${s.manager}: ${s.roles.join(', ')}`).join('; ')})` : `service-user-id ${config.serviceUserId}`;
  report.add('inputs', 'pass', `host ${config.host}; bootstrap by ${auth.kind === 'api-key' ? 'api-key' : 'client certificate'}; ${target}.`);
  if (config.clientCertificateForJob) {
    // Said, not silently dropped: a real run requests the certificate with the token it mints, which preflight does not make.
    report.add('job certificate', 'skip', 'client-certificate-for-job is not tried: a real run requests the certificate with the token it mints, and preflight mints nothing. It relies on the token rights checked below.');
  }
  if (config.keypairAlias) {
    // Chosen over a lookup by the bootstrap: only a bootstrap with Manage keypair could see the keypair's assignment,
    // and the real question is whether the job's own two factors can use it, which needs them.
    report.add('keypair', 'skip', `keypair-alias '${config.keypairAlias}' is not checked here: the check needs the job's two factors (its token and client certificate), which preflight does not make. A real run checks it right after making them, before the build, and fails naming what to fix.`);
  }
  if (auth.kind === 'client-cert') {
    const left = daysUntil(auth.certificate.notAfter, now);
    const soon = left < config.certificateExpiryWarningDays;
    report.add(
      'client certificate',
      soon ? 'warn' : 'pass',
      `${auth.certificate.subject}, valid until ${auth.certificate.notAfter.toISOString()} (${left} days)${soon ? ': request a new one in Account Manager soon' : ''}; whether DigiCert ONE accepts it is the bootstrap credential check.`,
    );
  }

  const place = hostEnvironment(config.host);
  const conn = bootstrapConnection(config.host, auth);
  const proxy = proxyFor(conn.requestHost, env);
  const methods: string[] = [];
  const debugTrace = traceFor((line) => core.debug(line), env);
  const open = (requestHost: string, http: HttpClient) =>
    new D1Client(http, {
      host: requestHost,
      secrets,
      deadline: now.getTime() + config.step.timeoutSeconds * 1000,
      clock,
      log: (line) => core.info(line),
      authKind: auth.kind,
      onAnswer: (endpoint, status, shape) => report.answer(requestHost, endpoint, status, shape),
      trace: (t: TraceEvent) => {
        methods.push(t.method);
        debugTrace?.(t);
      },
    });

  const http = createHttp({ ...conn.http, env, ca: config.trust });
  try {
    const client = open(conn.requestHost, http);
    let me: User | undefined;
    try {
      me = await client.getUser('me');
    } catch (err) {
      if (!(err instanceof D1Error)) throw err;
      await credentialRefused(err);
    }
    if (me) {
      if (proxy) report.add('proxy', 'pass', `requests to ${conn.requestHost} tunnel through the proxy ${proxy}.`);
      else report.add('proxy', 'skip', 'no proxy applies (HTTPS_PROXY / HTTP_PROXY unset, or NO_PROXY lists the host).');
      report.add('host environment', place.environment ? 'pass' : 'warn', `${config.host} is ${place.label}; the bootstrap credential works there.`);
      report.add('bootstrap credential', 'pass', `accepted on ${conn.requestHost}${auth.kind === 'client-cert' ? ' (client certificate in the TLS handshake)' : ''}: ${me.userType ?? 'unknown type of'} user ${me.id}.`);
      checkBootstrapUser(me);
      if (config.scoped) await checkScope(client, me, config);
      else await checkTarget(client, me, config.serviceUserId as Id | 'me');
    } else {
      report.add('remaining checks', 'skip', 'they need an accepted bootstrap credential.');
    }
  } finally {
    await http.close();
  }
  const writes = methods.filter((m) => m !== 'GET');
  report.add('read-only', writes.length ? 'fail' : 'pass', writes.length ? `preflight sent ${writes.join(', ')}: this is a bug, please report it.` : `${methods.length} request(s), all GET; nothing was created, changed or deleted.`);

  async function credentialRefused(err: D1Error): Promise<void> {
    if (err.kind === 'network' && proxy && /proxy/i.test(err.message)) {
      report.add('proxy', 'fail', err.message);
      report.add('bootstrap credential', 'skip', `DigiCert ONE was not reached through the proxy ${proxy}.`);
      return;
    }
    if (proxy) report.add('proxy', 'skip', `set (${proxy}), but the request failed before it could be judged.`);
    if (err.kind === 'network' && auth.kind === 'client-cert') {
      report.add('client certificate accepted', 'fail', err.message);
      return;
    }
    if (err.kind !== 'auth' || auth.kind !== 'api-key') {
      report.add('bootstrap credential', 'fail', err.message);
      return;
    }
    // A 401: a wrong key, or a key of the other environment. Only the counterpart host can tell them apart.
    if (!place.counterpart) {
      report.add('host environment', 'warn', `${config.host} is ${place.label}: preflight cannot tell a wrong key from a key of another DigiCert ONE environment here.`);
      report.add('bootstrap credential', 'fail', err.message);
      return;
    }
    const other = hostEnvironment(place.counterpart);
    const probeConn = bootstrapConnection(place.counterpart, auth);
    const probeHttp = createHttp({ ...probeConn.http, env, ca: config.trust });
    let worksThere = false;
    try {
      await open(probeConn.requestHost, probeHttp).getUser('me');
      worksThere = true;
    } catch (probeErr) {
      if (!(probeErr instanceof D1Error)) throw probeErr;
    } finally {
      await probeHttp.close();
    }
    if (worksThere) {
      report.add(
        'host environment',
        'fail',
        `the api-key was made in ${other.label} (${place.counterpart}), but host is ${config.host}, ${place.label}: credentials work only in the environment they were made in (demo credentials do not work in production). Set host: ${place.counterpart}, or use a key made on ${config.host}.`,
      );
      report.add('bootstrap credential', 'fail', `refused on ${config.host} (401): it is a key of ${place.counterpart}, see host environment.`);
    } else {
      report.add('host environment', 'pass', `${config.host} is ${place.label}; the key does not work on ${place.counterpart} either, so it is not a key of the other environment.`);
      report.add('bootstrap credential', 'fail', err.message);
    }
  }

  function checkBootstrapUser(me: User): void {
    if (me.status && me.status.toUpperCase() !== 'ACTIVE') {
      report.add('bootstrap user', 'fail', `user ${me.id} has status ${me.status}: activate it in Account Manager, or use an active bootstrap user.`);
      return;
    }
    const verdict = checkExpiry(`The bootstrap user ${me.id}`, me.endDate, now, config.expiryWarningDays || 14);
    if (verdict.level === 'expired') report.add('bootstrap user', 'fail', verdict.message);
    else if (verdict.level === 'warn') report.add('bootstrap user', 'warn', verdict.message);
    else report.add('bootstrap user', 'pass', `active${me.endDate ? `, ends ${me.endDate} 23:59:59 UTC` : ', no end date in the answer'}.`);
  }

  async function checkTarget(client: D1Client, me: User, serviceUserId: Id | 'me'): Promise<void> {
    // `me` is replaced by the caller's own id below; listTokens takes a real id.
    let userId = serviceUserId as Id;
    // The bootstrap's own id is `me` by another name: a service user cannot mint for itself (dev.digicert.com
    // "Account Manager API": "service users are the token"), and the real run's 403 would point at the wrong fix.
    if (serviceUserId === 'me' || serviceUserId === me.id) {
      if (me.userType === 'service') {
        const named = serviceUserId === 'me' ? 'service-user-id is `me`, but the bootstrap is a service user' : `service-user-id ${serviceUserId} is the bootstrap user itself, a service user`;
        report.add('target user', 'fail', `${named}, and DigiCert ONE service users cannot create API tokens for themselves: name the service user this job should act as, or use scope.`);
        return;
      }
      userId = me.id;
      report.add('target user', 'pass', `\`me\`: the bootstrap (a ${me.userType ?? 'standard'} user) mints for itself.`);
    } else {
      try {
        const t = await client.getUser(serviceUserId);
        const ends = checkExpiry(`The target user ${t.id}`, t.endDate, now, 1);
        if (t.status && t.status.toUpperCase() !== 'ACTIVE') report.add('target user', 'fail', `${t.id} has status ${t.status}: a token minted for it would not work; activate it in Account Manager.`);
        else if (ends.level === 'expired') report.add('target user', 'fail', ends.message);
        else report.add('target user', 'pass', `${t.id} exists (${t.userType ?? 'unknown type'}, ${t.status ?? 'status not given'}${t.endDate ? `, ends ${t.endDate}` : ''}).`);
      } catch (err) {
        if (!(err instanceof D1Error)) throw err;
        if (err.kind === 'not-found') {
          report.add('target user', 'fail', `service-user-id ${serviceUserId} does not exist on ${config.host} (ids differ between demo and production): copy the id from Account Manager > Service users on this host.`);
          return;
        }
        // May manage tokens without seeing the user record: the token listing below decides.
        report.add('target user', err.kind === 'forbidden' ? 'warn' : 'fail', err.message);
      }
    }
    try {
      const tokens = await client.listTokens(userId);
      report.add('token rights', 'pass', `the bootstrap may manage the API tokens of ${userId} (it listed ${tokens.length}; none created).`);
    } catch (err) {
      if (!(err instanceof D1Error)) throw err;
      report.add('token rights', 'fail', err.message);
    }
  }

  async function checkScope(client: D1Client, me: User, config: Config): Promise<void> {
    const scoped = config.scoped!;
    const held = new Set(me.permissions);
    for (const entry of scoped.scope) {
      let roles: Role[];
      try {
        roles = await client.listRoles(entry.applicationCode);
      } catch (err) {
        if (!(err instanceof D1Error)) throw err;
        report.add(`roles of ${entry.manager}`, 'fail', err.message);
        continue;
      }
      for (const wanted of entry.roles) {
        const name = `role ${entry.manager}: ${wanted}`;
        const role = roles.find((r) => r.id === wanted) ?? roles.find((r) => r.name.toLowerCase() === wanted.toLowerCase());
        if (!role) {
          report.add(name, 'fail', `${entry.manager} has no role '${wanted}'. Roles there: ${roles.map((r) => `${r.name} (${r.id})`).join(', ') || 'none'}.`);
          continue;
        }
        const missing = role.permissions.filter((p) => !held.has(p));
        if (missing.length) report.add(name, 'fail', `the bootstrap user ${me.id} does not hold role '${role.name}' (it lacks ${missing.join(', ')}), so it cannot grant it: ask for a role it holds, or give the bootstrap user that role first.`);
        else report.add(name, 'pass', `resolves to ${role.id}, and the bootstrap holds all ${role.permissions.length} of its permissions.`);
      }
    }
    try {
      if (scoped.accounts.length) {
        const reachable = await client.listAccounts();
        const unknown = scoped.accounts.filter((a) => !reachable.some((r) => r.id === a));
        if (unknown.length) report.add('accounts', 'fail', `the bootstrap user cannot reach ${unknown.join(', ')}. Accounts it can: ${reachable.map((r) => `${r.name} (${r.id})`).join(', ') || 'none'}.`);
        else report.add('accounts', 'pass', `the bootstrap reaches ${scoped.accounts.join(', ')}.`);
      } else if (me.primaryAccountId) {
        report.add('accounts', 'pass', `the ephemeral service user would go to the bootstrap's primary account ${me.primaryAccountId}.`);
      } else {
        report.add('accounts', 'fail', 'the bootstrap user has no primary account in its answer: name the account ids in accounts.');
      }
    } catch (err) {
      if (!(err instanceof D1Error)) throw err;
      report.add('accounts', 'fail', err.message);
    }
    try {
      await client.listServiceUsers();
      report.add('service users', 'pass', 'the bootstrap may list service users (how the post step finds one whose create answer was lost). Creating one needs Account Manager "Manage users", which only a real run proves.');
    } catch (err) {
      if (!(err instanceof D1Error)) throw err;
      report.add('service users', 'fail', err.message);
    }
  }
}
