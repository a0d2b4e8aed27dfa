export const id = 149;
export const ids = [149];
export const modules = {

/***/ 9149:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   checkKeypair: () => (/* binding */ checkKeypair)
/* harmony export */ });
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1455);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_fs_promises__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _d1_client_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(738);
/* harmony import */ var _d1_trace_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(1494);
/* harmony import */ var _platform_version_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(5895);
/**
 * The keypair check (`keypair-alias`, with `client-certificate-for-job`): right after both factors of the job's user
 * are made, main asks Software Trust with exactly those factors whether that user can use the keypair the job will
 * sign with, so a set-up that cannot sign fails in seconds, before the build, with what to fix.
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
/** Returns the keypair's id; throws, naming the alias and the user and what to fix, when the user cannot use it. */
async function checkKeypair(deps, c) {
    const { core, env, createHttp, clock, deadline } = deps;
    const requestHost = `clientauth.${c.host}`;
    const pfx = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.readFile)(c.certificateFile);
    const http = createHttp({ baseUrl: `https://${requestHost}`, headers: { 'x-api-key': c.token, 'user-agent': _platform_version_js__WEBPACK_IMPORTED_MODULE_2__/* .USER_AGENT */ ._ }, env, tls: { pfx, passphrase: c.certificatePassword }, ca: c.trust });
    const lead = `Keypair check for keypair-alias '${c.alias}' as user ${c.userId} (the job's token and client certificate, on ${requestHost})`;
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
        // Exact alias: a server that filters by prefix or ignores the filter must not make another keypair count.
        const keypair = listed.find((k) => k.alias === c.alias);
        if (!keypair) {
            throw new _d1_client_js__WEBPACK_IMPORTED_MODULE_1__/* .D1Error */ .w$(`${lead}: Software Trust lists no keypair '${c.alias}' that this user may use (Signer and Developer roles see and sign only with keypairs assigned to them or to their team). To fix: ${assignHint(c.alias, c.userId)}; or correct keypair-alias. Nothing was signed; the post step revokes what this job made.`, 'forbidden');
        }
        if (keypair.certificate === 'absent') {
            throw new _d1_client_js__WEBPACK_IMPORTED_MODULE_1__/* .D1Error */ .w$(`${lead}: keypair '${c.alias}' (id ${keypair.id}) is assigned to the user but has no certificate to sign with. To fix: generate a certificate for it in Software Trust (Keypairs > ${c.alias} > Generate certificate), or name a keypair that has one.`, 'invalid');
        }
        const cert = keypair.certificate === 'present' ? 'with a certificate' : 'its certificate could not be confirmed from the answer (no default_certificate field)';
        core.info(`Keypair check: user ${c.userId} can use keypair '${c.alias}' (id ${keypair.id}), ${cert}; checked with the job's token and client certificate on ${requestHost}.`);
        return keypair.id;
    }
    finally {
        await http.close();
    }
}


/***/ })

};
