export const id = 763;
export const ids = [763];
export const modules = {

/***/ 1763:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   describeRun: () => (/* binding */ describeRun),
/* harmony export */   resolveScope: () => (/* binding */ resolveScope)
/* harmony export */ });
/* harmony import */ var _runner_inputs_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(9205);
/* harmony import */ var _platform_text_safety_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(8659);


/** A few names from a server listing, for an error message: each made safe to print, the list bounded. */
function some(items) {
    const shown = items.slice(0, 30).map((r) => `${(0,_platform_text_safety_js__WEBPACK_IMPORTED_MODULE_1__/* .logSafe */ .sN)(r.name, 60)} (${r.id})`);
    return (shown.join(', ') || 'none') + (items.length > 30 ? `, and ${items.length - 30} more` : '');
}
async function resolveScope(client, me, scoped) {
    const held = new Set(me.permissions);
    const listings = await Promise.all(scoped.scope.map((e) => client.listRoles(e.applicationCode)));
    const roleIds = [];
    const labels = [];
    scoped.scope.forEach((entry, i) => {
        const available = listings[i];
        for (const wanted of entry.roles) {
            const role = available.find((r) => r.id === wanted) ?? available.find((r) => r.name.toLowerCase() === wanted.toLowerCase());
            if (!role) {
                throw new _runner_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('scope', `${entry.manager} has no role '${wanted}'. Roles there: ${some(available)}.`);
            }
            const missing = role.permissions.filter((p) => !held.has(p));
            if (missing.length) {
                throw new _runner_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('scope', `the bootstrap user ${me.id} does not hold ${entry.manager} role '${(0,_platform_text_safety_js__WEBPACK_IMPORTED_MODULE_1__/* .logSafe */ .sN)(role.name, 60)}' (it lacks ${missing.join(', ')}), so it cannot grant it. Ask for a role it holds, or give the bootstrap user that role first.`);
            }
            roleIds.push(role.id);
            labels.push(`${entry.manager}: ${(0,_platform_text_safety_js__WEBPACK_IMPORTED_MODULE_1__/* .logSafe */ .sN)(role.name, 60)}`);
        }
    });
    let accounts = scoped.accounts;
    if (accounts.length) {
        const reachable = await client.listAccounts();
        const unknown = accounts.filter((a) => !reachable.some((r) => r.id === a));
        if (unknown.length) {
            throw new _runner_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('accounts', `the bootstrap user cannot reach ${unknown.join(', ')}. Accounts it can: ${some(reachable)}.`);
        }
    }
    else {
        if (!me.primaryAccountId)
            throw new _runner_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('accounts', 'the bootstrap user has no primary account; name the account ids for the new service user.');
        accounts = [me.primaryAccountId];
    }
    return { roleIds: [...new Set(roleIds)], labels, accounts };
}
function describeRun(run, env, now) {
    // The workflow's name is the environment's text: one line, bounded, in the description DigiCert ONE keeps.
    const workflow = env.GITHUB_WORKFLOW ? ` (workflow ${(0,_platform_text_safety_js__WEBPACK_IMPORTED_MODULE_1__/* .logSafe */ .sN)(env.GITHUB_WORKFLOW, 100)})` : '';
    return `Ephemeral service user for ${run.repository} run ${run.runId} attempt ${run.runAttempt} job ${run.job}${workflow}, created by d1-token-action at ${now.toISOString()}; its post step deletes it.`;
}


/***/ })

};
