export const id = 149;
export const ids = [149];
export const modules = {

/***/ 9149:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   activeCertificate: () => (/* binding */ activeCertificate),
/* harmony export */   checkKeypair: () => (/* binding */ checkKeypair),
/* harmony export */   maySign: () => (/* binding */ maySign)
/* harmony export */ });
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1455);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_fs_promises__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _d1_client_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(738);
/* harmony import */ var _d1_trace_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(1494);
/* harmony import */ var _platform_version_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(5895);
/**
 * The keypair check (`keypair-alias`, with `client-certificate-for-job`): right after both factors of the job's user
 * are made, main asks Software Trust with exactly those factors whether that user may sign with the keypair the job
 * will sign with, and whether the keypair has an ACTIVE certificate, so a set-up that cannot sign (or would sign with
 * a revoked or expired certificate) fails in seconds, before the build, with what to fix.
 *
 * What it reads (recorded answers, ebourg/jsign digicertone-keypairs.json; DigiCert's Jenkins plugin): may sign:
 * `is_signable_by_me` when present, else the assignment (`users[].id`; `groups` when the user is not listed, which
 * the answer cannot confirm: it does not list a group's members); a certificate: `certificates[]` with
 * `certificate_status` ACTIVE, the `default_cert` one preferred, else `number_of_active_certificates`. An answer
 * without a field passes that half with a warning naming what could not be confirmed.
 *
 * Why it is needed (docs/software-trust-notes.md, section 6): Software Trust's Signer and Developer roles "sign
 * software with keypairs assigned to them" and see only those (docs.digicert.com, Software Trust Manager user roles);
 * keypairs are assigned to users or teams (Software Trust secure configuration guide); every signing operation needs
 * both factors of one user (dev.digicert.com "Set up service user multi-factor authentication"). The check lists
 * `GET /signingmanager/api/v1/keypairs?alias=<alias>` on `clientauth.<host>`, with the minted token as x-api-key and
 * the job's client certificate in the TLS handshake, as smctl does with SM_HOST, SM_API_KEY and SM_CLIENT_CERT_FILE.
 * It signs nothing and creates nothing: post has nothing more to undo.
 */




/** How to give the user the keypair (docs.digicert.com "Update keypair", "Update keypair access"). */
const assignHint = (alias, userId) => `assign keypair '${alias}' to user ${userId}, or to a team the user is a member of, in Software Trust (Keypairs > ${alias} > Edit > Access, or smctl keypair update-access <keypair id> --users ${userId} --operation add; both need the Manage keypair permission)`;
/** May the user sign with it: `is_signable_by_me`, else the assignment. */
function maySign(k, userId, alias) {
    const assignment = `${k.users ? `users: ${k.users.join(', ') || 'none'}` : 'no users field'}; ${k.groups ? `groups: ${k.groups.map((g) => g.name ?? g.id).join(', ') || 'none'}` : 'no groups field'}`;
    if (k.signableByMe === true)
        return { ok: 'is_signable_by_me: true' };
    if (k.signableByMe === false) {
        return {
            no: `Software Trust answers is_signable_by_me: false: the user can see keypair '${alias}' (id ${k.id}) but may not sign with it (${assignment}). To fix: ${assignHint(alias, userId)}; and give the user a Software Trust role with Sign (Signer or Developer)`,
        };
    }
    if (k.users?.includes(userId))
        return { ok: 'assigned to the user (users)' };
    const inGroups = k.groups && k.groups.length > 0;
    if (k.users && k.groups && !inGroups && k.limitByUsers !== false) {
        return { no: `keypair '${alias}' (id ${k.id}) is not assigned to the user nor to any group (${assignment}). To fix: ${assignHint(alias, userId)}` };
    }
    const missing = k.users || k.groups || k.limitByUsers !== undefined ? (inGroups ? 'the answer lists its groups but not their members' : `limit_by_users: ${String(k.limitByUsers)}, and ${assignment}`) : 'the answer has none of is_signable_by_me, users, groups';
    return { unknown: `that the user may sign with it (no is_signable_by_me; ${missing})` };
}
/** Has it an ACTIVE certificate (the default one preferred). */
function activeCertificate(k, alias) {
    const name = (c) => `'${c.alias ?? c.id}'`;
    const renew = `To fix: renew or re-issue its certificate in Software Trust (Keypairs > ${alias} > Generate certificate, or smctl keypair generate-cert ${k.id} --set-as-default-cert=true), or name a keypair with an active certificate in keypair-alias`;
    if (k.certificates) {
        const active = k.certificates.filter((c) => c.status === 'ACTIVE');
        const byDefault = k.certificates.find((c) => c.isDefault === true);
        const until = (c) => (c.validTo ? `, valid to ${c.validTo}` : '');
        if (byDefault?.status === 'ACTIVE')
            return { ok: `its default certificate ${name(byDefault)} is ACTIVE${until(byDefault)}` };
        const first = active[0];
        if (first) {
            const why = byDefault ? `its default certificate ${name(byDefault)} is ${byDefault.status ?? 'of unknown status'}` : k.certificates.some((c) => c.isDefault === false) ? 'none of its certificates is the default' : '';
            return {
                ok: `certificate ${name(first)} is ACTIVE${until(first)}`,
                warn: why
                    ? `${why}, while ${name(first)} is ACTIVE: a tool that signs with the keypair's default certificate (smctl sign --keypair-alias) would not use the active one. Make ${name(first)} the default in Software Trust, or name it when signing`
                    : undefined,
            };
        }
        if (k.certificates.some((c) => c.status === undefined))
            return { unknown: 'that it has an ACTIVE certificate (a certificate without certificate_status)' };
        const list = k.certificates.map((c) => `${name(c)} ${c.status}`).join(', ');
        return { no: `keypair '${alias}' (id ${k.id}) has no ACTIVE certificate to sign with (${list || 'it has no certificate'}). ${renew}` };
    }
    if (k.activeCertificates !== undefined) {
        return k.activeCertificates > 0 ? { ok: `number_of_active_certificates: ${k.activeCertificates}` } : { no: `keypair '${alias}' (id ${k.id}) has no ACTIVE certificate to sign with (number_of_active_certificates: 0). ${renew}` };
    }
    return { unknown: 'that it has an ACTIVE certificate (the answer has neither certificates nor number_of_active_certificates)' };
}
/** Returns the keypair's id; throws, naming the alias and the user and what to fix, when the user cannot sign with it. */
async function checkKeypair(deps, c) {
    const { core, env, createHttp, clock, deadline } = deps;
    const requestHost = `clientauth.${c.host}`;
    const pfx = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.readFile)(c.certificateFile);
    const http = createHttp({ baseUrl: `https://${requestHost}`, headers: { 'x-api-key': c.token, 'user-agent': _platform_version_js__WEBPACK_IMPORTED_MODULE_2__/* .USER_AGENT */ ._ }, env, tls: { pfx, passphrase: c.certificatePassword }, ca: c.trust });
    const lead = `Keypair check for keypair-alias '${c.alias}' as user ${c.userId} (the job's token and client certificate, on ${requestHost})`;
    const after = 'Nothing was signed; the post step revokes what this job made.';
    try {
        const client = new _d1_client_js__WEBPACK_IMPORTED_MODULE_1__/* .D1Client */ .X1(http, {
            host: requestHost,
            secrets: [...c.secrets, c.token, c.certificatePassword],
            deadline,
            clock,
            log: (line) => core.info(line),
            trace: (0,_d1_trace_js__WEBPACK_IMPORTED_MODULE_3__/* .traceFor */ .F)((line) => core.debug(line), env),
        });
        let listed;
        try {
            listed = await client.listKeypairs(c.alias);
        }
        catch (err) {
            if (!(err instanceof _d1_client_js__WEBPACK_IMPORTED_MODULE_1__/* .D1Error */ .w$))
                throw err;
            const fix = err.kind === 'forbidden'
                ? ` User ${c.userId} needs a Software Trust role with View keypair and Sign (Signer or Developer) in Account Manager.`
                : err.kind === 'auth'
                    ? ` Check that user ${c.userId} is active and that the host is the one its credentials were made on.`
                    : '';
            throw new _d1_client_js__WEBPACK_IMPORTED_MODULE_1__/* .D1Error */ .w$(`${lead}: ${err.message}${fix}`, err.kind, err.status);
        }
        // Exact alias: a server that filters by prefix or ignores the filter must not make another keypair count
        // (DigiCert's Jenkins plugin filters the items by alias again too).
        const keypair = listed.find((k) => k.alias === c.alias);
        if (!keypair) {
            throw new _d1_client_js__WEBPACK_IMPORTED_MODULE_1__/* .D1Error */ .w$(`${lead}: Software Trust lists no keypair '${c.alias}' that this user may use (Signer and Developer roles see and sign only with keypairs assigned to them or to their team). To fix: ${assignHint(c.alias, c.userId)}; or correct keypair-alias. ${after}`, 'forbidden');
        }
        const sign = maySign(keypair, c.userId, c.alias);
        if ('no' in sign)
            throw new _d1_client_js__WEBPACK_IMPORTED_MODULE_1__/* .D1Error */ .w$(`${lead}: ${sign.no}. ${after}`, 'forbidden');
        const cert = activeCertificate(keypair, c.alias);
        if ('no' in cert)
            throw new _d1_client_js__WEBPACK_IMPORTED_MODULE_1__/* .D1Error */ .w$(`${lead}: ${cert.no}. ${after}`, 'invalid');
        for (const f of [sign, cert]) {
            if ('unknown' in f)
                core.warning(`${lead}: could not confirm ${f.unknown}; the check passes on the listing alone, and signing may still be refused.`);
        }
        if (cert.warn)
            core.warning(`${lead}: ${cert.warn}.`);
        const said = (f) => ('ok' in f ? f.ok : 'not confirmed');
        core.info(`Keypair check: keypair '${c.alias}' (id ${keypair.id}) is listed for user ${c.userId}; may sign: ${said(sign)}; certificate: ${said(cert)}; checked with the job's token and client certificate on ${requestHost}.`);
        return keypair.id;
    }
    finally {
        await http.close();
    }
}


/***/ })

};
