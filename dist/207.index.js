export const id = 207;
export const ids = [207];
export const modules = {

/***/ 207:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   makeJobCertificate: () => (/* binding */ makeJobCertificate)
/* harmony export */ });
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7598);
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_crypto__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6760);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_path__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var _credentials_index_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(6334);
/* harmony import */ var _d1_client_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(738);
/* harmony import */ var _d1_trace_js__WEBPACK_IMPORTED_MODULE_8__ = __webpack_require__(1494);
/* harmony import */ var _platform_files_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(4924);
/* harmony import */ var _platform_input_error_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(4284);
/* harmony import */ var _platform_text_safety_js__WEBPACK_IMPORTED_MODULE_9__ = __webpack_require__(8659);
/* harmony import */ var _platform_version_js__WEBPACK_IMPORTED_MODULE_7__ = __webpack_require__(5895);
/* harmony import */ var _ledger_js__WEBPACK_IMPORTED_MODULE_6__ = __webpack_require__(659);
/**
 * The job's second factor (`client-certificate-for-job`): what Software Trust asks for besides the token.
 */










/**
 * The second factor for the job: a key pair made here, in memory; a CSR sent with the job's own token (the API
 * issues certificates "for the authenticated user"); the certificate and key written once, as a PKCS#12 with a fresh
 * random password, to a new file under RUNNER_TEMP. Each piece is recorded before it exists, so post disables the
 * certificate and removes the file whatever fails after. The code for keys, CSR and PKCS#12 loads only here.
 */
async function makeJobCertificate(deps, ledger, config, minted) {
    const { core, env, createHttp, clock, deadline, secrets } = deps;
    const runnerTemp = env.RUNNER_TEMP ?? '';
    if (!(0,node_path__WEBPACK_IMPORTED_MODULE_1__.isAbsolute)(runnerTemp)) {
        throw new _platform_input_error_js__WEBPACK_IMPORTED_MODULE_5__/* .InputError */ .d('client-certificate-for-job', 'needs RUNNER_TEMP, the folder the runner empties after each job, to hold the PKCS#12 file; it is not set in this step.');
    }
    const { makeJobCertificateRequest, randomPassword, toPkcs12 } = await __webpack_require__.e(/* import() */ 441).then(__webpack_require__.bind(__webpack_require__, 1441));
    const { made, secret } = minted;
    // As the job's own user: its token, on the plain host (the API host where tokens authenticate).
    const http = createHttp({ baseUrl: config.baseUrl, headers: { 'x-api-key': secret, 'user-agent': _platform_version_js__WEBPACK_IMPORTED_MODULE_7__/* .USER_AGENT */ ._ }, env, ca: config.trust });
    let certificate;
    let request;
    try {
        const client = new _d1_client_js__WEBPACK_IMPORTED_MODULE_3__/* .D1Client */ .X1(http, {
            host: config.host,
            secrets: [...secrets, secret],
            deadline,
            clock,
            log: (line) => core.info(line),
            trace: (0,_d1_trace_js__WEBPACK_IMPORTED_MODULE_8__/* .traceFor */ .F)((line) => core.debug(line), env),
        });
        // The end date asked for: the token's as asked (the one DigiCert ONE confirmed may be unknown, made.endDate '').
        const pending = { kind: 'client-certificate', id: '', name: made.name, userId: made.userId, endDate: config.endDate };
        const ctx = { client, kind: _credentials_index_js__WEBPACK_IMPORTED_MODULE_2__/* .KINDS */ .GW['client-certificate'], pending, log: (l) => core.info(l) };
        // Its end date is the token's, which is no later than the user's.
        // A nickname per request: one whose answer was lost cannot be found to free its name (no listing is documented).
        const nickname = () => `${made.name.slice(0, 56)}_c${(0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.randomBytes)(3).toString('hex')}`;
        // A fresh key pair for every request attempt: after a lost answer, the certificate DigiCert ONE may have issued
        // (its id unknown, so it cannot be disabled) certifies a key that is dropped here, never the one handed out.
        certificate = await (0,_ledger_js__WEBPACK_IMPORTED_MODULE_6__/* .recorded */ .t)(ledger, ctx, async () => {
            request = await makeJobCertificateRequest(made.name);
            return client.createClientCert({ csrPem: request.csrPem, name: (pending.name = nickname()), endDate: config.endDate });
        }, (c) => ({ id: c.id }));
    }
    finally {
        await http.close();
    }
    const password = randomPassword();
    (0,_platform_text_safety_js__WEBPACK_IMPORTED_MODULE_9__/* .maskSecret */ .$l)(password, core.setSecret);
    // The key of the request that was answered (the create returned, so `request` is that attempt's).
    const pfx = await toPkcs12(certificate.certificatePem, [], request.privateKey, password);
    const name = `d1-job-${(0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.randomBytes)(8).toString('hex')}.p12`;
    const file = (0,node_path__WEBPACK_IMPORTED_MODULE_1__.join)(runnerTemp, name);
    ledger.pending({ kind: 'pkcs12-file', id: name, name: 'job client certificate', userId: made.userId, endDate: config.endDate });
    await (0,_platform_files_js__WEBPACK_IMPORTED_MODULE_4__/* .writeNewFile */ .S)(file, pfx);
    return { id: certificate.id, file, password };
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
