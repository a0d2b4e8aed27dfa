export const id = 276;
export const ids = [276];
export const modules = {

/***/ 7602:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  parseLeases: () => (/* binding */ parseLeases),
  runBrokerMain: () => (/* binding */ runBrokerMain),
  runBrokerPost: () => (/* binding */ runBrokerPost),
  runBrokerPreflight: () => (/* binding */ runBrokerPreflight)
});

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./src/d1/wire.ts
var wire = __webpack_require__(8118);
// EXTERNAL MODULE: ./src/platform/http.ts + 1 modules
var platform_http = __webpack_require__(9825);
// EXTERNAL MODULE: ./src/runner/inputs.ts
var runner_inputs = __webpack_require__(9205);
// EXTERNAL MODULE: ./src/runner/input-modes.ts
var input_modes = __webpack_require__(5427);
// EXTERNAL MODULE: ./src/platform/text-safety.ts
var text_safety = __webpack_require__(8659);
// EXTERNAL MODULE: ./src/platform/version.ts
var version = __webpack_require__(5895);
;// CONCATENATED MODULE: ./src/job/broker-client.ts
/**
 * The action as a client of the organisation's credential broker (broker/, docs/broker.md): the third way to
 * authenticate, where the job holds no DigiCert ONE secret. It proves who it is with its GitHub OIDC token, and the
 * broker mints what its policy grants this job. This module: the inputs of that mode, and the broker's API as the
 * action calls it (https only, TLS verified, through src/platform/http.ts). The steps are in job/broker.ts.
 */







const BOOTSTRAP_INPUTS = ['api-key', 'client-certificate', 'client-key', 'client-certificate-password'];
function parseBrokerInputs(getInput) {
    const raw = getInput('broker-url').trim();
    for (const name of BOOTSTRAP_INPUTS) {
        if (getInput(name).trim()) {
            throw new runner_inputs/* InputError */.dz('broker-url', `are two ways to authenticate: with broker-url the job holds no DigiCert ONE secret (the broker does). Remove ${name}, or broker-url.`, `Inputs 'broker-url' and '${name}'`);
        }
    }
    // Every input this mode does not honour (runner/input-modes.ts): refused by name, never ignored.
    (0,input_modes/* refuseInapplicable */.hh)(getInput, 'broker');
    let url;
    try {
        url = new URL(raw);
    }
    catch {
        throw new runner_inputs/* InputError */.dz('broker-url', `'${(0,text_safety/* logSafe */.sN)(raw, 100)}' is not a URL; expected e.g. https://d1-broker.example.com.`);
    }
    if (url.protocol !== 'https:')
        throw new runner_inputs/* InputError */.dz('broker-url', 'must be an https:// URL: the job sends its OIDC token there and gets a credential back.');
    if (url.username || url.password || url.search || url.hash)
        throw new runner_inputs/* InputError */.dz('broker-url', 'must not contain credentials, a query or a fragment.');
    const policy = getInput('broker-policy').trim();
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(policy)) {
        throw new runner_inputs/* InputError */.dz('broker-policy', policy ? 'must be a policy name (letters, digits, dots, dashes, underscores; at most 64).' : 'is required with broker-url: the name of the broker policy this job asks for.');
    }
    const audience = getInput('broker-audience').trim() || url.origin;
    if (audience.length > 256 || /\s/.test(audience))
        throw new runner_inputs/* InputError */.dz('broker-audience', 'must be one value without white space (at most 256 characters).');
    const step = (0,runner_inputs/* parseStepConfig */.mA)(getInput);
    const clientCertificateForJob = (0,runner_inputs/* bool */.lc)(getInput, 'client-certificate-for-job', false);
    if (clientCertificateForJob && step.skipRevoke) {
        throw new runner_inputs/* InputError */.dz('client-certificate-for-job', 'cannot go with skip-revoke: true. The post step must remove the PKCS#12 file and have the broker revoke the certificate.');
    }
    const keypairAlias = (0,runner_inputs/* parseKeypairAliasInput */.FJ)(getInput, false, clientCertificateForJob);
    return { url: url.href.replace(/\/+$/, ''), host: url.host, policy, audience, exportEnv: (0,runner_inputs/* bool */.lc)(getInput, 'export-env', false), clientCertificateForJob, keypairAlias, trust: (0,runner_inputs/* parseTrust */.Sb)(getInput), step };
}
/** 503 codes with which the broker says it made nothing: a replica stopping, its ledger out of reach, DigiCert ONE's pace. */
const NOTHING_MADE_503 = new Set(['stopping', 'ledger_unavailable', 'digicert_busy']);
/** A broker answer that is not what was asked for; the message is for the job log (clean, scrubbed). */
class BrokerError extends Error {
    code;
    status;
    maybeCommitted;
    retryAfterSeconds;
    constructor(message, code, status, 
    /** The request may have been carried out (no answer): post still asks the broker to revoke the lease. */
    maybeCommitted = false, 
    /** Seconds the broker asked the job to wait (Retry-After, seconds form) before it asks again. */
    retryAfterSeconds) {
        super(message);
        this.code = code;
        this.status = status;
        this.maybeCommitted = maybeCommitted;
        this.retryAfterSeconds = retryAfterSeconds;
        this.name = 'BrokerError';
    }
}
const HOST = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:\d{1,5})?$/;
const SECRET = /^[\x21-\x7e]{8,512}$/;
function parseCredential(body) {
    if (!body || typeof body !== 'object')
        return undefined;
    const b = body;
    const kind = b.kind === 'api-token' || b.kind === 'service-user' ? b.kind : undefined;
    const token = typeof b.token === 'string' && SECRET.test(b.token) ? b.token : undefined;
    const optionalId = (v) => (v === '' ? '' : (0,wire/* parseId */.Fg)(v));
    const tokenId = optionalId(b.tokenId);
    const serviceUserId = optionalId(b.serviceUserId);
    const tokenName = (0,wire/* parseName */.$q)(b.tokenName);
    const userId = (0,wire/* parseId */.Fg)(b.userId);
    // '' when DigiCert ONE confirmed no end date (the broker never passes on the one it asked for).
    const endDate = b.endDate === '' ? '' : (0,wire/* parseUtcDay */.GC)(b.endDate);
    const host = typeof b.host === 'string' && HOST.test(b.host) ? b.host : undefined;
    if (!kind || !token || tokenId === undefined || serviceUserId === undefined || !tokenName || !userId || endDate === undefined || !host || typeof b.lease !== 'string')
        return undefined;
    let certificate;
    if (b.certificate !== undefined) {
        const c = (b.certificate ?? {});
        const id = (0,wire/* parseId */.Fg)(c.id);
        const pem = (0,wire/* parseCertificatePem */.rq)(c.pem);
        if (!id || !pem)
            return undefined;
        certificate = { id, pem };
    }
    const scope = Array.isArray(b.scope) ? b.scope.filter((x) => typeof x === 'string').slice(0, 20).map((x) => (0,text_safety/* logSafe */.sN)(x, 100)) : [];
    return { lease: b.lease, kind, token, tokenId, tokenName, userId, serviceUserId, endDate, host, scope, certificate };
}
/** One call to the broker, with the job's OIDC token as the bearer. Each token is used once (the broker refuses a replay). */
async function callBroker(o, path, idToken, body) {
    const http = o.createHttp({ baseUrl: `${o.inputs.url}/`, headers: { authorization: `Bearer ${idToken}`, 'user-agent': version/* USER_AGENT */._ }, env: o.env, ca: o.inputs.trust });
    const where = `the broker at ${o.inputs.host}`;
    try {
        const res = await http.send('POST', `${o.inputs.url}${path}`, body, Math.max(1, o.deadline - o.now()));
        if (res.status >= 200 && res.status < 300)
            return { status: res.status, body: res.body };
        throw refusal(o, res.status, res.body, res.headers['retry-after']);
    }
    catch (err) {
        if (!(err instanceof platform_http/* NetworkError */.Dr))
            throw err;
        const code = (0,text_safety/* logSafe */.sN)(err.code, 60);
        // Certificate problems are not "unreachable": the broker was reached and its identity not proven.
        if (/CERT|SELF_SIGNED|ALTNAME|UNABLE_TO_(GET|VERIFY)/.test(err.code)) {
            throw new BrokerError(`The TLS certificate of ${where} could not be verified (${code}): the broker must present a certificate for ${o.inputs.host} from a CA this runner trusts (a private CA: put its certificate in the tls-ca-certificates input; NODE_EXTRA_CA_CERTS is not used).`, 'tls');
        }
        const maybe = path === '/v1/credentials' && !/ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(err.code);
        if (/TIMEOUT|TIMEDOUT/.test(err.code)) {
            throw new BrokerError(`${where.replace(/^t/, 'T')} did not answer within timeout-seconds (${code}).${maybe ? ' It may still be minting: the post step asks it to revoke whatever it made for this job.' : ''}`, 'timeout', undefined, maybe);
        }
        throw new BrokerError(`${where.replace(/^t/, 'T')} could not be reached (${code}). Check broker-url, and that the runner can reach it (firewall, HTTPS_PROXY / NO_PROXY).`, 'unreachable', undefined, maybe);
    }
    finally {
        await http.close();
    }
}
function refusal(o, status, body, retryAfter) {
    const e = body?.error;
    const code = typeof e?.code === 'string' && /^[a-z_]{1,40}$/.test(e.code) ? e.code : 'error';
    const said = (0,text_safety/* logSafe */.sN)((0,text_safety/* redact */.E$)(typeof e?.message === 'string' ? e.message : `answered ${status}`, o.secrets()), 1500);
    const lead = `The broker at ${o.inputs.host} refused (${status} ${code}): ${said}`;
    const wait = retryAfter && /^\d{1,5}$/.test(retryAfter) ? Number(retryAfter) : undefined;
    switch (code) {
        case 'policy_refused':
            return new BrokerError(`${lead}. This job's OIDC claims do not match policy '${o.inputs.policy}': run it where the policy allows (branch, environment, event, workflow), or ask the broker's operator to change the policy.`, code, status);
        case 'unknown_policy':
            return new BrokerError(`${lead}. Check broker-policy.`, code, status);
        case 'invalid_token':
            return new BrokerError(`${lead}.${/aud/.test(said) ? ` broker-audience (now ${(0,text_safety/* logSafe */.sN)(o.inputs.audience, 100)}) must be the audience the broker is configured with.` : ''}`, code, status);
        case 'rate_limited':
            return new BrokerError(`${lead}. Try again${wait !== undefined ? ` in ${wait} s` : ' later'}.`, code, status, false, wait);
        case 'stopping':
        case 'ledger_unavailable':
        case 'digicert_busy':
            // The broker made nothing (it says so for these three): the step may ask again, as main does within its budget.
            return new BrokerError(`${lead}. Try again${wait !== undefined ? ` in ${wait} s` : ' later'}.`, code, status, false, wait);
        default:
            return new BrokerError(`${lead}${status >= 500 ? '. The broker or DigiCert ONE behind it failed: re-run the job; if it persists, tell the broker\'s operator (its audit log has this request).' : '.'}`, code, status, status >= 500 && status !== 503);
    }
}

// EXTERNAL MODULE: ./src/credentials/index.ts + 5 modules
var credentials = __webpack_require__(6334);
;// CONCATENATED MODULE: ./src/runner/id-token-request.ts




class IdTokenError extends Error {
    constructor(message) {
        super(message);
        this.name = 'IdTokenError';
    }
}
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** The request token is a secret of the job (the runner masks it too): masked first, in every step that reads it. */
function maskRequestToken(env, mask) {
    const t = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
    if (t)
        (0,text_safety/* maskSecret */.$l)(t, mask);
}
async function requestIdToken(o) {
    const rawUrl = o.env.ACTIONS_ID_TOKEN_REQUEST_URL;
    const requestToken = o.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
    if (!rawUrl || !requestToken) {
        throw new IdTokenError('This job cannot get a GitHub OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set). Give the job `permissions: id-token: write` (at the job or workflow level; listing permissions drops the ones not listed, so add `contents: read` if the job checks out code). A pull_request workflow from a fork gets no OIDC token.');
    }
    let url;
    try {
        url = new URL(rawUrl);
    }
    catch {
        throw new IdTokenError('ACTIONS_ID_TOKEN_REQUEST_URL is not a URL; this runner does not serve OIDC tokens as GitHub\'s does.');
    }
    url.searchParams.set('audience', o.audience);
    const http = o.createHttp({ baseUrl: url.origin, headers: { authorization: `Bearer ${requestToken}`, 'user-agent': version/* USER_AGENT */._ }, env: o.env, ca: o.ca });
    try {
        const res = await http.send('GET', url.href, undefined, o.timeoutMs);
        const value = res.body?.value;
        if (res.status !== 200 || typeof value !== 'string' || value.length > 16_384 || !JWT.test(value)) {
            throw new IdTokenError(`The runner's OIDC token service answered ${res.status}${res.status === 200 ? ' without a token in `value`' : ''}; re-run the job (it is GitHub's service, not the broker).`);
        }
        (0,text_safety/* maskSecret */.$l)(value, o.mask);
        return value;
    }
    catch (err) {
        if (err instanceof platform_http/* NetworkError */.Dr)
            throw new IdTokenError(`The runner's OIDC token service could not be reached (${(0,text_safety/* logSafe */.sN)(err.code, 60)}); re-run the job.`);
        throw err;
    }
    finally {
        await http.close();
    }
}

// EXTERNAL MODULE: ./src/platform/files.ts
var files = __webpack_require__(4924);
// EXTERNAL MODULE: ./src/job/deps.ts
var job_deps = __webpack_require__(8849);
// EXTERNAL MODULE: ./src/job/preflight-checks/report.ts
var preflight_checks_report = __webpack_require__(8225);
// EXTERNAL MODULE: ./src/runner/state.ts
var state = __webpack_require__(6003);
// EXTERNAL MODULE: ./src/runner/summary.ts
var runner_summary = __webpack_require__(1070);
;// CONCATENATED MODULE: ./src/job/broker.ts
/**
 * Main, post and preflight when the job authenticates through the broker (broker-url). Loaded only in that mode
 * (a dynamic import from main.ts, post.ts and preflight.ts). The job holds no DigiCert ONE secret: it has its OIDC
 * token (asked for per call; the broker refuses a replayed one), and the credential the broker minted, masked first.
 *
 * Main saves the lease (its own random request id) to state BEFORE the exchange, so post can ask the broker to
 * revoke it even when the answer never arrived; a job whose post never runs is revoked by the broker's sweeper.
 */














const LEASE = /^[A-Za-z0-9_-]{16,64}$/;
const MAX_LEASES = 8;
/** The leases main saved; anything else (state can come from the job's environment) is not sent. */
function parseLeases(raw) {
    if (raw === '')
        return [];
    try {
        const v = JSON.parse(raw);
        const list = v?.leases;
        if (Array.isArray(list) && list.length <= MAX_LEASES && list.every((l) => typeof l === 'string' && LEASE.test(l)))
            return list;
    }
    catch {
        // not what main writes
    }
    return undefined;
}
function apiOptions(inputs, deps, secrets) {
    const deadline = deps.clock.now() + inputs.step.timeoutSeconds * 1000;
    return { inputs, env: deps.env, createHttp: deps.createHttp, deadline, now: () => deps.clock.now(), secrets: () => secrets };
}
/** A fresh OIDC token for one broker call, masked before it is used; remembered as a secret to scrub. */
async function idTokenFor(api, mask, secrets) {
    const token = await requestIdToken({ env: api.env, audience: api.inputs.audience, createHttp: api.createHttp, timeoutMs: Math.max(1, api.deadline - api.now()), mask, ca: api.inputs.trust });
    secrets.push(token);
    return token;
}
/**
 * With step debug on, the claims of the job's OIDC token (its payload, never the token): what the broker's policy
 * decides on, ready for `npm run broker -- explain --claims` (docs/broker.md). Claims are not secret.
 */
function debugClaims(core, idToken) {
    try {
        const claims = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8'));
        const shown = Object.fromEntries(Object.entries(claims).filter(([, v]) => typeof v === 'string' || typeof v === 'number'));
        core.debug(`The OIDC token's claims (for npm run broker -- explain --claims): ${(0,text_safety/* logSafe */.sN)(JSON.stringify(shown), 4000)}`);
    }
    catch {
        // Not a JWT the runner's service would issue: the broker says so.
    }
}
function maskFirst(deps) {
    maskRequestToken(deps.env, deps.core.setSecret);
    const secrets = [...(0,platform_http/* proxyPasswords */.PK)(deps.env)];
    for (const v of secrets)
        (0,text_safety/* maskSecret */.$l)(v, deps.core.setSecret);
    return secrets;
}
async function runBrokerMain(deps) {
    const { core, env, run } = deps;
    const secrets = maskFirst(deps);
    const inputs = parseBrokerInputs(core.getInput);
    const api = apiOptions(inputs, deps, secrets);
    const runnerTemp = env.RUNNER_TEMP ?? '';
    if (inputs.clientCertificateForJob && !(0,external_node_path_.isAbsolute)(runnerTemp)) {
        throw new runner_inputs/* InputError */.dz('client-certificate-for-job', 'needs RUNNER_TEMP, the folder the runner empties after each job, to hold the PKCS#12 file; it is not set in this step.');
    }
    // The key pair is made here and its private key never leaves this process: only the CSR goes to the broker.
    const jobCert = inputs.clientCertificateForJob ? await __webpack_require__.e(/* import() */ 441).then(__webpack_require__.bind(__webpack_require__, 1441)) : undefined;
    const request = jobCert ? await jobCert.makeJobCertificateRequest('d1-token-action job') : undefined;
    let lease = '';
    let res;
    for (let attempt = 1; !res; attempt++) {
        // A fresh OIDC token and lease for each attempt: a token is used once, and a lease is never reused.
        const idToken = await idTokenFor(api, core.setSecret, secrets);
        if (attempt === 1)
            debugClaims(core, idToken);
        lease = (0,external_node_crypto_.randomBytes)(16).toString('base64url');
        core.saveState(state/* STATE */.c4.broker, JSON.stringify({ leases: [lease] }));
        try {
            res = await callBroker(api, '/v1/credentials', idToken, { policy: inputs.policy, lease, job: run.job, ...(request ? { csr: request.csrPem } : {}) });
        }
        catch (err) {
            // A refusal (4xx) or a broker never reached: nothing was minted, so post must not warn it could not revoke.
            if (err instanceof BrokerError && !err.maybeCommitted)
                core.saveState(state/* STATE */.c4.broker, JSON.stringify({ leases: [] }));
            // A replica stopping for a deploy, its ledger restarting, DigiCert ONE's pace: the broker made nothing and says
            // when to ask again. Within the step's budget (keeping a second for the answer), main asks again, at most 3 times.
            if (!(err instanceof BrokerError) || !NOTHING_MADE_503.has(err.code) || err.retryAfterSeconds === undefined)
                throw err;
            const wait = err.retryAfterSeconds;
            if (attempt >= 3 || deps.clock.now() + wait * 1000 + 1000 > api.deadline)
                throw err;
            core.info(`${err.message.replace(/\. Try again in \d+ s\.$/, '')}: asking again in ${wait} s (attempt ${attempt + 1} of 3).`);
            await deps.clock.sleep(wait * 1000);
        }
    }
    // Masked before it is parsed or anything else is written: a malformed answer must not print it either.
    const raw = res.body?.token;
    if (typeof raw === 'string' && raw.length <= 4096) {
        (0,text_safety/* maskSecret */.$l)(raw, core.setSecret);
        secrets.push(raw);
    }
    const cred = parseCredential(res.body);
    if (!cred || cred.lease !== lease || Boolean(cred.certificate) !== Boolean(request)) {
        throw new BrokerError(`The broker at ${inputs.host} answered ${res.status} without a credential this action can use; the post step asks it to revoke whatever it made for this job.`, 'protocol', res.status, true);
    }
    let file;
    if (jobCert && request && cred.certificate) {
        const password = jobCert.randomPassword();
        (0,text_safety/* maskSecret */.$l)(password, core.setSecret);
        const pfx = await jobCert.toPkcs12(cred.certificate.pem, [], request.privateKey, password);
        const name = `d1-job-${(0,external_node_crypto_.randomBytes)(8).toString('hex')}.p12`;
        // Recorded before the file exists: post removes it whatever happens next.
        const made = { kind: 'pkcs12-file', id: name, name: 'job client certificate', userId: cred.userId, endDate: cred.endDate };
        // The digest goes with any saved credential (state.ts); the broker path itself carries no DigiCert ONE secret.
        core.saveState(state/* STATE */.c4.network, (0,platform_http/* networkEnvironment */.mR)(deps.env).digest);
        core.saveState(state/* STATE */.c4.credentials, (0,state/* serializeMade */.uq)([made]));
        await (0,files/* writeNewFile */.S)((0,external_node_path_.join)(runnerTemp, name), pfx);
        file = { path: (0,external_node_path_.join)(runnerTemp, name), password };
    }
    // Both factors are in the job now: the same keypair check as the bootstrap modes, before the build spends time.
    const keypairId = inputs.keypairAlias && file
        ? await (await __webpack_require__.e(/* import() */ 149).then(__webpack_require__.bind(__webpack_require__, 9149))).checkKeypair({ core, env, createHttp: deps.createHttp, clock: deps.clock, deadline: api.deadline }, { host: cred.host, alias: inputs.keypairAlias, userId: cred.userId, token: cred.token, certificateFile: file.path, certificatePassword: file.password, secrets, trust: inputs.trust })
        : undefined;
    await publish(deps, inputs, cred, file, keypairId);
}
/** The same outputs, exported variables, log line and summary as a mint with a bootstrap credential. */
async function publish(deps, inputs, c, file, keypairId) {
    const { core } = deps;
    const baseUrl = `https://${c.host}`;
    const outputs = {
        token: c.token,
        'token-id': c.tokenId,
        'token-name': c.tokenName,
        'user-id': c.userId,
        'ephemeral-user-id': c.serviceUserId,
        'expires-at': c.endDate ? `${c.endDate}T23:59:59Z` : '',
        'base-url': baseUrl,
        'job-certificate-file': file?.path ?? '',
        'job-certificate-password': file?.password ?? '',
        // Set once the keypair check passed (keypair-alias); empty otherwise, so every mode sets every output.
        'keypair-id': keypairId ?? '',
    };
    for (const [name, value] of Object.entries(outputs))
        core.setOutput(name, value);
    if (inputs.exportEnv) {
        // Names DigiCert's own tools read, as main exports them.
        const exported = [
            ['DC_API_KEY', c.token],
            ['DC_BASE', baseUrl],
            ['SM_API_KEY', c.token],
            ['SM_HOST', `https://clientauth.${c.host}`],
            ['SM_CLIENT_CERT_FILE', file?.path],
            ['SM_CLIENT_CERT_PASSWORD', file?.password],
        ];
        for (const [name, value] of exported)
            if (value !== undefined)
                core.exportVariable(name, value);
    }
    const what = c.kind === 'api-token' ? `DigiCert ONE API token '${c.tokenName}' (id ${c.tokenId}) for user ${c.userId}` : `ephemeral DigiCert ONE service user '${c.tokenName}' (id ${c.serviceUserId}) with ${c.scope.join('; ')} and its API token`;
    const cert = c.certificate ? `, and a client authentication certificate (id ${c.certificate.id}) for it, as a PKCS#12 file in RUNNER_TEMP` : '';
    if (!c.endDate)
        core.warning(`The broker at ${inputs.host} reports that DigiCert ONE confirmed no end date for the credential: only revocation bounds its life now.`);
    core.info(`The broker at ${inputs.host} (policy ${inputs.policy}) created ${what}${cert} on ${c.host}; ${c.endDate ? `${c.certificate ? 'they end' : 'it ends'} ${c.endDate} 23:59:59 UTC` : 'DigiCert ONE confirmed no end date'}. ` +
        `${inputs.step.skipRevoke ? 'skip-revoke is set: the post step leaves it to the broker, whose sweeper revokes it once the run is over.' : 'The post step asks the broker to revoke it when the job ends.'}`);
    if (inputs.step.jobSummary) {
        const row = { name: c.tokenName, user: c.userId, host: c.host, endDate: c.endDate };
        await (0,runner_summary/* writeMintSummary */.Ef)(core, [
            { ...row, kind: c.kind === 'api-token' ? 'API token (via the broker)' : 'ephemeral service user (via the broker)', id: c.kind === 'api-token' ? c.tokenId : c.serviceUserId, scope: c.scope.join('; ') || 'the roles of that user' },
            ...(c.certificate ? [{ ...row, kind: 'client certificate (PKCS#12 in RUNNER_TEMP)', id: c.certificate.id, scope: 'the same user' }] : []),
        ]);
    }
}
async function runBrokerPost(deps) {
    const { core, env } = deps;
    const secrets = maskFirst(deps);
    const step = (0,job_deps/* stepConfig */.t)(core);
    const summary = async (outcome, line) => {
        if (step.jobSummary)
            await (0,runner_summary/* writeRevokeSummary */.cm)(core, line).catch(() => undefined);
        return outcome;
    };
    // The PKCS#12 file first: it needs nothing but RUNNER_TEMP.
    const loaded = (0,state/* loadState */.C7)(core.getState);
    for (const m of loaded.ok ? loaded.state.made.filter((x) => credentials/* KINDS */.GW[x.kind].local) : []) {
        try {
            const r = await credentials/* KINDS */.GW[m.kind].revoke({ client: undefined, runnerTemp: env.RUNNER_TEMP ?? '' }, m.id);
            core.info(r === 'deleted' ? `Removed ${credentials/* KINDS */.GW[m.kind].noun} ${m.id} from RUNNER_TEMP.` : `${credentials/* KINDS */.GW[m.kind].noun} ${m.id} was already gone.`);
        }
        catch (err) {
            core.warning(`Could not remove ${credentials/* KINDS */.GW[m.kind].noun} ${m.id}: ${err instanceof Error ? err.message : String(err)} ${credentials/* KINDS */.GW[m.kind].manual(m, { base: '', credentialArgs: '' })}`);
        }
    }
    const leases = parseLeases(core.getState(state/* STATE */.c4.broker));
    if (leases === undefined) {
        core.warning('The post step did not ask the broker to revoke anything: the saved lease is not what main writes (an earlier step\'s GITHUB_ENV can set STATE_* variables). The broker\'s sweeper revokes what this run was given once the run is over.');
        return summary('failed', 'FAILED (state did not fit; nothing was sent)');
    }
    if (leases.length === 0) {
        // Main writes an empty list when the broker refused (or was never reached): it minted nothing.
        core.info(core.getState(state/* STATE */.c4.broker) ? "Nothing to revoke: the broker refused the main step's request (or was not reached), so it made nothing for this job." : 'Nothing to revoke: the main step did not ask the broker for a credential.');
        return 'nothing';
    }
    let inputs;
    try {
        inputs = parseBrokerInputs(core.getInput);
    }
    catch (err) {
        core.warning(`Could not ask the broker to revoke: ${err instanceof Error ? err.message : String(err)} Its sweeper revokes what this run was given once the run is over.`);
        return summary('failed', 'FAILED (broker inputs unusable)');
    }
    if (step.skipRevoke) {
        core.info("skip-revoke is set: the broker's sweeper revokes this job's credential once the run is over (or it ends on its end date).");
        return summary('skipped', 'skipped (skip-revoke); the broker revokes it after the run');
    }
    const api = apiOptions(inputs, deps, secrets);
    try {
        // A fresh token: the one main used was spent (the broker refuses a replay).
        const idToken = await idTokenFor(api, core.setSecret, secrets);
        const res = await callBroker(api, '/v1/revoke', idToken, { leases });
        const revoked = Array.isArray(res.body?.revoked) ? (res.body.revoked ?? []) : [];
        let failed = 0;
        for (const r of revoked.slice(0, 20)) {
            const what = `${(0,text_safety/* logSafe */.sN)(String(r.kind ?? 'credential'), 40)} '${(0,text_safety/* logSafe */.sN)(String(r.name ?? ''), 80)}'${r.id ? ` (id ${(0,text_safety/* logSafe */.sN)(String(r.id), 80)})` : ''}`;
            if (r.outcome === 'revoked')
                core.info(`The broker revoked ${what}.`);
            else if (r.outcome === 'gone')
                core.info(`The broker found ${what} already gone.`);
            else {
                failed++;
                core.warning(`The broker could not revoke ${what}: ${(0,text_safety/* logSafe */.sN)(String(r.why ?? 'no reason given'), 500)} Its sweeper tries again once the run is over.`);
            }
        }
        if (revoked.length === 0)
            core.info('The broker had nothing live for this job (already revoked, or never made).');
        return summary(failed ? 'failed' : revoked.length ? 'revoked' : 'gone', failed ? 'FAILED (the broker sweeps it after the run)' : 'yes, through the broker');
    }
    catch (err) {
        core.warning(`Could not ask the broker to revoke: ${err instanceof Error ? err.message : String(err)} The broker's sweeper revokes it once the run is over.`);
        return summary('failed', 'FAILED (the broker sweeps it after the run)');
    }
}
/** Preflight through the broker: the OIDC token, the broker (TLS), and its policy decision; nothing is minted. */
async function runBrokerPreflight(deps) {
    const { core } = deps;
    const secrets = maskFirst(deps);
    const report = new preflight_checks_report/* PreflightReport */.Q(core, secrets);
    core.info('Preflight: asking the broker what it would mint for this job; nothing will be created.');
    let inputs;
    try {
        inputs = parseBrokerInputs(core.getInput);
        report.add('inputs', 'pass', `broker ${inputs.url}, policy ${inputs.policy}, audience ${inputs.audience}.`);
    }
    catch (err) {
        if (!(err instanceof runner_inputs/* InputError */.dz))
            throw err;
        report.add('inputs', 'fail', err.message);
    }
    if (inputs) {
        const api = apiOptions(inputs, deps, secrets);
        let idToken;
        try {
            idToken = await idTokenFor(api, core.setSecret, secrets);
            report.add('OIDC token', 'pass', `the job has id-token: write; a token for audience ${inputs.audience} was issued.`);
        }
        catch (err) {
            report.add('OIDC token', 'fail', err instanceof Error ? err.message : String(err));
        }
        if (idToken) {
            try {
                const res = await callBroker(api, '/v1/check', idToken, { policy: inputs.policy, csr: inputs.clientCertificateForJob });
                report.add('broker', 'pass', `reached ${inputs.host} over verified TLS; it accepted this job's OIDC token.`);
                const b = (res.body ?? {});
                if (b.allowed === true) {
                    const w = b.wouldMint ?? {};
                    const grant = w.serviceUserId ? `an API token for service user ${(0,text_safety/* logSafe */.sN)(String(w.serviceUserId), 80)}` : `a service user with ${(0,text_safety/* logSafe */.sN)(JSON.stringify(w.scope ?? []), 200)}`;
                    report.add('policy', 'pass', `policy ${inputs.policy} matches this job: it would mint ${grant} on ${(0,text_safety/* logSafe */.sN)(String(w.host ?? ''), 100)}, ending ${(0,text_safety/* logSafe */.sN)(String(w.endDate ?? ''), 20)}${w.clientCertificate ? ', with a client certificate if asked' : ''}.`);
                }
                else {
                    report.add('policy', 'fail', (0,text_safety/* logSafe */.sN)(String(b.message ?? 'refused'), 1000));
                }
            }
            catch (err) {
                report.add(err instanceof BrokerError && err.status !== undefined ? 'policy' : 'broker', 'fail', err instanceof Error ? err.message : String(err));
            }
        }
    }
    if (!inputs || inputs.step.jobSummary)
        await report.writeSummary().catch((err) => core.warning(`Could not write the job summary: ${err instanceof Error ? err.message : String(err)}`));
    const failed = report.failed;
    if (failed.length)
        core.setFailed(`Preflight: ${failed.length} check(s) failed (${failed.map((c) => c.check).join('; ')}). Fix what the [FAIL] lines say and run it again; nothing was created.`);
    else
        core.info('Preflight: all checks passed. Remove `preflight: true` to mint.');
    return report.checks;
}


/***/ }),

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

/***/ 4924:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   S: () => (/* binding */ writeNewFile)
/* harmony export */ });
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3024);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_fs__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(1455);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_fs_promises__WEBPACK_IMPORTED_MODULE_1__);
/** Files the action writes: one kind only, the job certificate's PKCS#12 under RUNNER_TEMP. */


/** Exclusive create (never an existing file, never through a symbolic link), owner-only, written once. */
async function writeNewFile(path, data) {
    const handle = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.open)(path, node_fs__WEBPACK_IMPORTED_MODULE_0__.constants.O_CREAT | node_fs__WEBPACK_IMPORTED_MODULE_0__.constants.O_EXCL | node_fs__WEBPACK_IMPORTED_MODULE_0__.constants.O_WRONLY | (node_fs__WEBPACK_IMPORTED_MODULE_0__.constants.O_NOFOLLOW ?? 0), 0o600);
    try {
        await handle.writeFile(data);
    }
    finally {
        await handle.close();
    }
}


/***/ })

};
