export const id = 167;
export const ids = [167];
export const modules = {

/***/ 8225:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Q: () => (/* binding */ PreflightReport)
/* harmony export */ });
/* harmony import */ var _d1_answer_fields_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(2347);
/* harmony import */ var _platform_text_safety_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(8659);
/**
 * What preflight shows: one log line per check, the field NAMES of every answer it read, and the same as two
 * job-summary tables. Every detail goes through redact (secrets) and logSafe (workflow commands, line breaks),
 * because it may quote a server's error message.
 */



const TAG = { pass: '[PASS]', warn: '[WARN]', fail: '[FAIL]', skip: '[SKIP]' };
const DETAIL_MAX = 1200;
/** A Markdown table cell: no pipe, no line break, no HTML. */
function cell(s) {
    return s.replace(/[|\r\n]/g, ' ').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
class PreflightReport {
    core;
    secrets;
    checks = [];
    answers = [];
    constructor(core, secrets) {
        this.core = core;
        this.secrets = secrets;
    }
    add(check, verdict, detail) {
        const safe = (0,_platform_text_safety_js__WEBPACK_IMPORTED_MODULE_0__/* .logSafe */ .sN)((0,_platform_text_safety_js__WEBPACK_IMPORTED_MODULE_0__/* .redact */ .E$)(detail, this.secrets), DETAIL_MAX);
        this.checks.push({ check, verdict, detail: safe });
        const line = `${TAG[verdict]} ${check}: ${safe}`;
        if (verdict === 'warn')
            this.core.warning(line);
        else
            this.core.info(line);
    }
    answer(host, endpoint, status, shape) {
        this.answers.push({ host, endpoint, status, shape });
    }
    get failed() {
        return this.checks.filter((c) => c.verdict === 'fail');
    }
    /** The field-name block: what a user pastes into an issue when their tenant answers differently. */
    printAnswers() {
        this.core.info('Fields in the answers preflight read (names only, never values; paste these lines when reporting a tenant that answers differently):');
        for (const a of this.answers)
            this.core.info(`  ${(0,_platform_text_safety_js__WEBPACK_IMPORTED_MODULE_0__/* .logSafe */ .sN)(`${a.endpoint} on ${a.host} -> ${a.status}: ${(0,_d1_answer_fields_js__WEBPACK_IMPORTED_MODULE_1__/* .describeShape */ .vJ)(a.shape)}`, 2000)}`);
    }
    async writeSummary() {
        const rows = this.checks.map((c) => `| ${cell(c.check)} | ${c.verdict.toUpperCase()} | ${cell(c.detail)} |`);
        const answers = this.answers.map((a) => `| \`${cell(a.endpoint)}\` | ${cell(a.host)} | ${a.status} | ${cell((0,_d1_answer_fields_js__WEBPACK_IMPORTED_MODULE_1__/* .describeShape */ .vJ)(a.shape))} |`);
        await this.core.summary
            .addRaw(`### DigiCert ONE preflight: ${this.failed.length ? `${this.failed.length} check(s) failed` : 'all checks passed'}\n\n`, false)
            .addRaw(`| check | result | detail |\n|---|---|---|\n${rows.join('\n')}\n\n`, false)
            .addRaw(`#### Fields in the answers read (names only)\n\n| request | host | status | fields |\n|---|---|---|---|\n${answers.join('\n')}\n\n`, false)
            .addRaw('Preflight created, changed and deleted nothing.\n', false)
            .write();
    }
}


/***/ }),

/***/ 8167:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  runPreflight: () => (/* binding */ runPreflight)
});

// EXTERNAL MODULE: ./src/job/connect.ts
var connect = __webpack_require__(8653);
// EXTERNAL MODULE: ./src/platform/clock.ts
var platform_clock = __webpack_require__(3037);
// EXTERNAL MODULE: ./src/d1/client.ts + 1 modules
var d1_client = __webpack_require__(738);
// EXTERNAL MODULE: ./src/credentials/expiry.ts
var expiry = __webpack_require__(7403);
// EXTERNAL MODULE: ./src/platform/http.ts + 1 modules
var http = __webpack_require__(9825);
// EXTERNAL MODULE: ./src/runner/inputs.ts
var inputs = __webpack_require__(9205);
;// CONCATENATED MODULE: ./src/job/preflight-checks/environment.ts
const PRODUCTION_HOSTS = {
    'one.digicert.com': 'US',
    'one.digicert.co.jp': 'JP',
    'one.ch.digicert.com': 'CH',
    'one.nl.digicert.com': 'NL',
};
function hostEnvironment(host) {
    const m = /^(.*?)(:\d+)?$/.exec(host);
    const name = m[1];
    const port = m[2] ?? '';
    const demo = name.startsWith('demo.');
    const base = demo ? name.slice('demo.'.length) : name;
    const environment = demo ? 'demo' : 'production';
    const region = PRODUCTION_HOSTS[base];
    if (region) {
        return { environment, label: `DigiCert ONE ${environment} (${region})`, counterpart: `${demo ? base : `demo.${base}`}${port}` };
    }
    if (base === 'localhost') {
        return { environment, label: `a loopback DigiCert ONE (the emulator), ${environment} name`, counterpart: `${demo ? base : `demo.${base}`}${port}` };
    }
    return { environment: undefined, label: 'not one of the DigiCert ONE hosts DigiCert publishes (environment unknown)', counterpart: undefined };
}
/**
 * The proxy the requests to `host` go through, as host:port (never its credentials), or undefined. Follows the
 * variables undici's EnvHttpProxyAgent reads (HTTPS_PROXY / https_proxy, then HTTP_PROXY / http_proxy) and the
 * common NO_PROXY forms (`*`, `name`, `.domain`, `*.domain`, `name:port`); an entry it does not understand is not matched.
 */
function proxyFor(host, env) {
    const raw = env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy;
    if (!raw)
        return undefined;
    const [name, port = '443'] = host.split(':');
    for (const entry of (env.NO_PROXY ?? env.no_proxy ?? '').split(/[\s,]+/).filter(Boolean)) {
        const e = entry.toLowerCase();
        if (e === '*')
            return undefined;
        const [eName, ePort] = e.split(':');
        if (ePort && ePort !== port)
            continue;
        // As the README states undici's rule: a bare name matches exactly; a leading `.` or `*.` matches subdomains.
        const wild = /^\*?\./.test(eName);
        const bare = eName.replace(/^\*?\./, '');
        if (wild ? name.endsWith(`.${bare}`) : name === bare)
            return undefined;
    }
    try {
        const u = new URL(raw);
        return u.host;
    }
    catch {
        return '(unreadable proxy URL)';
    }
}

// EXTERNAL MODULE: ./src/job/preflight-checks/report.ts
var preflight_checks_report = __webpack_require__(8225);
// EXTERNAL MODULE: ./src/platform/text-safety.ts
var text_safety = __webpack_require__(8659);
// EXTERNAL MODULE: ./src/d1/trace.ts
var trace = __webpack_require__(1494);
;// CONCATENATED MODULE: ./src/steps/preflight.ts
/**
 * `preflight: true`: authenticate and check, read-only, everything a real run will need, then stop. It mints
 * nothing, deletes nothing and saves no state that the post step would act on (post finds "nothing to revoke").
 * Each check prints one line (PASS / WARN / FAIL / SKIP and what to fix); the answers' field names are listed so a
 * tenant that answers differently can be reported in one paste. A failed check fails the step.
 */










const message = (err) => (err instanceof Error ? err.message : String(err));
async function runPreflight(deps) {
    if ((0,inputs/* usesBroker */.aI)(deps.core.getInput))
        return (await __webpack_require__.e(/* import() | broker-mode */ 276).then(__webpack_require__.bind(__webpack_require__, 7602))).runBrokerPreflight(deps);
    const { core, env, clock } = deps;
    const now = (0,platform_clock/* dateOf */.Q)(clock);
    const secrets = [...(0,inputs/* secretInputValues */.fl)(core.getInput), ...(0,http/* proxyPasswords */.PK)(env)];
    for (const value of secrets)
        (0,text_safety/* maskSecret */.$l)(value, core.setSecret);
    const report = new preflight_checks_report/* PreflightReport */.Q(core, secrets);
    core.info('Preflight: checking the set-up read-only; nothing will be created, changed or deleted.');
    let config;
    try {
        config = (0,inputs/* parseConfig */.o4)(core.getInput, env, deps.run, now, await (0,inputs/* certificateLoader */.dL)(core.getInput));
    }
    catch (err) {
        if (!(err instanceof inputs/* InputError */.dz))
            throw err;
        report.add(err.input.startsWith('client-') ? 'client certificate' : 'inputs', 'fail', err.message);
    }
    if (config)
        await checkService(deps, config, secrets, report, now);
    report.printAnswers();
    if (!config || config.step.jobSummary)
        await report.writeSummary().catch((err) => core.warning(`Could not write the job summary: ${message(err)}`));
    const failed = report.failed;
    if (failed.length) {
        core.setFailed(`Preflight: ${failed.length} check(s) failed (${failed.map((c) => c.check).join('; ')}). Fix what the [FAIL] lines say and run it again; nothing was created.`);
    }
    else {
        core.info('Preflight: all checks passed. Remove `preflight: true` to mint.');
    }
    return report.checks;
}
async function checkService(deps, config, secrets, report, now) {
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
        const left = (0,expiry/* daysUntil */.A)(auth.certificate.notAfter, now);
        const soon = left < config.certificateExpiryWarningDays;
        report.add('client certificate', soon ? 'warn' : 'pass', `${auth.certificate.subject}, valid until ${auth.certificate.notAfter.toISOString()} (${left} days)${soon ? ': request a new one in Account Manager soon' : ''}; whether DigiCert ONE accepts it is the bootstrap credential check.`);
    }
    const place = hostEnvironment(config.host);
    const conn = (0,connect/* bootstrapConnection */.TB)(config.host, auth);
    const proxy = proxyFor(conn.requestHost, env);
    const methods = [];
    const debugTrace = (0,trace/* traceFor */.F)((line) => core.debug(line), env);
    const open = (requestHost, http) => new d1_client/* D1Client */.X1(http, {
        host: requestHost,
        secrets,
        deadline: now.getTime() + config.step.timeoutSeconds * 1000,
        clock,
        log: (line) => core.info(line),
        authKind: auth.kind,
        onAnswer: (endpoint, status, shape) => report.answer(requestHost, endpoint, status, shape),
        trace: (t) => {
            methods.push(t.method);
            debugTrace?.(t);
        },
    });
    const http = createHttp({ ...conn.http, env, ca: config.trust });
    try {
        const client = open(conn.requestHost, http);
        let me;
        try {
            me = await client.getUser('me');
        }
        catch (err) {
            if (!(err instanceof d1_client/* D1Error */.w$))
                throw err;
            await credentialRefused(err);
        }
        if (me) {
            if (proxy)
                report.add('proxy', 'pass', `requests to ${conn.requestHost} tunnel through the proxy ${proxy}.`);
            else
                report.add('proxy', 'skip', 'no proxy applies (HTTPS_PROXY / HTTP_PROXY unset, or NO_PROXY lists the host).');
            report.add('host environment', place.environment ? 'pass' : 'warn', `${config.host} is ${place.label}; the bootstrap credential works there.`);
            report.add('bootstrap credential', 'pass', `accepted on ${conn.requestHost}${auth.kind === 'client-cert' ? ' (client certificate in the TLS handshake)' : ''}: ${me.userType ?? 'unknown type of'} user ${me.id}.`);
            checkBootstrapUser(me);
            if (config.scoped)
                await checkScope(client, me, config);
            else
                await checkTarget(client, me, config.serviceUserId);
        }
        else {
            report.add('remaining checks', 'skip', 'they need an accepted bootstrap credential.');
        }
    }
    finally {
        await http.close();
    }
    const writes = methods.filter((m) => m !== 'GET');
    report.add('read-only', writes.length ? 'fail' : 'pass', writes.length ? `preflight sent ${writes.join(', ')}: this is a bug, please report it.` : `${methods.length} request(s), all GET; nothing was created, changed or deleted.`);
    async function credentialRefused(err) {
        if (err.kind === 'network' && proxy && /proxy/i.test(err.message)) {
            report.add('proxy', 'fail', err.message);
            report.add('bootstrap credential', 'skip', `DigiCert ONE was not reached through the proxy ${proxy}.`);
            return;
        }
        if (proxy)
            report.add('proxy', 'skip', `set (${proxy}), but the request failed before it could be judged.`);
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
        const probeConn = (0,connect/* bootstrapConnection */.TB)(place.counterpart, auth);
        const probeHttp = createHttp({ ...probeConn.http, env, ca: config.trust });
        let worksThere = false;
        try {
            await open(probeConn.requestHost, probeHttp).getUser('me');
            worksThere = true;
        }
        catch (probeErr) {
            if (!(probeErr instanceof d1_client/* D1Error */.w$))
                throw probeErr;
        }
        finally {
            await probeHttp.close();
        }
        if (worksThere) {
            report.add('host environment', 'fail', `the api-key was made in ${other.label} (${place.counterpart}), but host is ${config.host}, ${place.label}: credentials work only in the environment they were made in (demo credentials do not work in production). Set host: ${place.counterpart}, or use a key made on ${config.host}.`);
            report.add('bootstrap credential', 'fail', `refused on ${config.host} (401): it is a key of ${place.counterpart}, see host environment.`);
        }
        else {
            report.add('host environment', 'pass', `${config.host} is ${place.label}; the key does not work on ${place.counterpart} either, so it is not a key of the other environment.`);
            report.add('bootstrap credential', 'fail', err.message);
        }
    }
    function checkBootstrapUser(me) {
        if (me.status && me.status.toUpperCase() !== 'ACTIVE') {
            report.add('bootstrap user', 'fail', `user ${me.id} has status ${me.status}: activate it in Account Manager, or use an active bootstrap user.`);
            return;
        }
        const verdict = (0,expiry/* checkExpiry */.g)(`The bootstrap user ${me.id}`, me.endDate, now, config.expiryWarningDays || 14);
        if (verdict.level === 'expired')
            report.add('bootstrap user', 'fail', verdict.message);
        else if (verdict.level === 'warn')
            report.add('bootstrap user', 'warn', verdict.message);
        else
            report.add('bootstrap user', 'pass', `active${me.endDate ? `, ends ${me.endDate} 23:59:59 UTC` : ', no end date in the answer'}.`);
    }
    async function checkTarget(client, me, serviceUserId) {
        // `me` is replaced by the caller's own id below; listTokens takes a real id.
        let userId = serviceUserId;
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
        }
        else {
            try {
                const t = await client.getUser(serviceUserId);
                const ends = (0,expiry/* checkExpiry */.g)(`The target user ${t.id}`, t.endDate, now, 1);
                if (t.status && t.status.toUpperCase() !== 'ACTIVE')
                    report.add('target user', 'fail', `${t.id} has status ${t.status}: a token minted for it would not work; activate it in Account Manager.`);
                else if (ends.level === 'expired')
                    report.add('target user', 'fail', ends.message);
                else
                    report.add('target user', 'pass', `${t.id} exists (${t.userType ?? 'unknown type'}, ${t.status ?? 'status not given'}${t.endDate ? `, ends ${t.endDate}` : ''}).`);
            }
            catch (err) {
                if (!(err instanceof d1_client/* D1Error */.w$))
                    throw err;
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
        }
        catch (err) {
            if (!(err instanceof d1_client/* D1Error */.w$))
                throw err;
            report.add('token rights', 'fail', err.message);
        }
    }
    async function checkScope(client, me, config) {
        const scoped = config.scoped;
        const held = new Set(me.permissions);
        for (const entry of scoped.scope) {
            let roles;
            try {
                roles = await client.listRoles(entry.applicationCode);
            }
            catch (err) {
                if (!(err instanceof d1_client/* D1Error */.w$))
                    throw err;
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
                if (missing.length)
                    report.add(name, 'fail', `the bootstrap user ${me.id} does not hold role '${role.name}' (it lacks ${missing.join(', ')}), so it cannot grant it: ask for a role it holds, or give the bootstrap user that role first.`);
                else
                    report.add(name, 'pass', `resolves to ${role.id}, and the bootstrap holds all ${role.permissions.length} of its permissions.`);
            }
        }
        try {
            if (scoped.accounts.length) {
                const reachable = await client.listAccounts();
                const unknown = scoped.accounts.filter((a) => !reachable.some((r) => r.id === a));
                if (unknown.length)
                    report.add('accounts', 'fail', `the bootstrap user cannot reach ${unknown.join(', ')}. Accounts it can: ${reachable.map((r) => `${r.name} (${r.id})`).join(', ') || 'none'}.`);
                else
                    report.add('accounts', 'pass', `the bootstrap reaches ${scoped.accounts.join(', ')}.`);
            }
            else if (me.primaryAccountId) {
                report.add('accounts', 'pass', `the ephemeral service user would go to the bootstrap's primary account ${me.primaryAccountId}.`);
            }
            else {
                report.add('accounts', 'fail', 'the bootstrap user has no primary account in its answer: name the account ids in accounts.');
            }
        }
        catch (err) {
            if (!(err instanceof d1_client/* D1Error */.w$))
                throw err;
            report.add('accounts', 'fail', err.message);
        }
        try {
            await client.listServiceUsers();
            report.add('service users', 'pass', 'the bootstrap may list service users (how the post step finds one whose create answer was lost). Creating one needs Account Manager "Manage users", which only a real run proves.');
        }
        catch (err) {
            if (!(err instanceof d1_client/* D1Error */.w$))
                throw err;
            report.add('service users', 'fail', err.message);
        }
    }
}


/***/ })

};
