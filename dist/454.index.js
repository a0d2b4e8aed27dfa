export const id = 454;
export const ids = [454];
export const modules = {

/***/ 6454:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   sweepStale: () => (/* binding */ sweepStale)
/* harmony export */ });
/* unused harmony export isStale */
/* harmony import */ var _naming_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(9620);

function isStale(t, run, o) {
    const runId = t.name ? (0,_naming_js__WEBPACK_IMPORTED_MODULE_0__/* .runIdOf */ .SR)(t.name, run.repository) : undefined;
    if (runId === undefined || runId === run.runId)
        return false;
    if (t.endDate && t.endDate < o.now.toISOString().slice(0, 10))
        return true;
    return t.createdAt !== undefined && o.now.getTime() - t.createdAt > o.staleAfterMs;
}
async function sweepStale(target, run, o) {
    const stale = (await target.list()).filter((t) => isStale(t, run, o));
    for (const t of stale)
        await target.remove(t.id);
    return stale;
}


/***/ })

};
