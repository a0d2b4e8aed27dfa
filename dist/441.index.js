export const id = 441;
export const ids = [441];
export const modules = {

/***/ 1441:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   makeJobCertificateRequest: () => (/* binding */ makeJobCertificateRequest),
/* harmony export */   randomPassword: () => (/* binding */ randomPassword),
/* harmony export */   toPkcs12: () => (/* binding */ toPkcs12)
/* harmony export */ });
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7598);
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_crypto__WEBPACK_IMPORTED_MODULE_0__);
/**
 * The key, CSR and PKCS#12 of a client authentication certificate made for one job, all in memory (writing the file
 * is the caller's business). Meant to be loaded through a dynamic `import()` only when the feature is on.
 *
 * No library: every cryptographic operation is Node's (OpenSSL): key generation, the CSR's signature, the key's
 * encryption (PBES2) and the MAC. What is written here is only DER structure and the PKCS#12 key derivation for the
 * MAC. Why not node-forge or @peculiar/x509 + pkijs: they add 0.63-1.6 MB to dist/ (the bench's limit for the
 * action's dist/ is 1.4 MB; dist/index.js is 0.8 MB), and forge would need the private key as PEM text in the
 * JavaScript heap; measurements in docs/software-trust-notes.md.
 *
 * Structures: RFC 2986 (PKCS#10), RFC 7292 (PKCS#12, key derivation in its appendix B.2), RFC 5958/8018 (encrypted
 * PKCS#8 with PBES2), RFC 5280 (names, algorithm identifiers).
 */

/**
 * RSA, not EC: the PKCS#12 goes to smctl, signtool's KSP and Windows' certificate store, which all take RSA, and the
 * emulator (node-forge) reads RSA CSRs only. 2048 bits: the certificate lives for one job.
 */
const RSA_BITS = 2048;
/** PBKDF2 and MAC iterations: OpenSSL 3's default for `pkcs12 -export` (PKCS12_DEFAULT_ITER), which Node's key export uses too. */
const ITERATIONS = 2048;
const OID = {
    commonName: '2.5.4.3',
    sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
    sha256: '2.16.840.1.101.3.4.2.1',
    data: '1.2.840.113549.1.7.1',
    pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
    certBag: '1.2.840.113549.1.12.10.1.3',
    x509Certificate: '1.2.840.113549.1.9.22.1',
    localKeyId: '1.2.840.113549.1.9.21',
};
async function makeJobCertificateRequest(commonName) {
    if (!commonName || /[\u0000-\u001f\u007f]/.test(commonName) || commonName.length > 64) {
        // X.520 ub-common-name is 64; the caller builds the name, so this is a programming error, not user input.
        throw new Error('makeJobCertificateRequest: commonName must be 1-64 characters on one line');
    }
    const { publicKey, privateKey } = await new Promise((resolve, reject) => (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.generateKeyPair)('rsa', { modulusLength: RSA_BITS }, (err, pub, priv) => (err ? reject(err) : resolve({ publicKey: pub, privateKey: priv }))));
    // CertificationRequestInfo ::= SEQUENCE { version 0, subject Name, subjectPKInfo, attributes [0] (none) }
    const subject = seq(set(seq(oid(OID.commonName), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
    const info = seq(int(0), subject, publicKey.export({ type: 'spki', format: 'der' }), tlv(0xa0));
    // CertificationRequest ::= SEQUENCE { info, signatureAlgorithm, signature BIT STRING }; RSASSA-PKCS1-v1_5 with SHA-256.
    const der = seq(info, seq(oid(OID.sha256WithRSAEncryption), NULL), tlv(0x03, Buffer.from([0]), (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.sign)('sha256', info, privateKey)));
    return { csrPem: pem('CERTIFICATE REQUEST', der), privateKey };
}
/**
 * The certificate (and its chain) with the private key, as a PKCS#12 that OpenSSL 3 and Windows open without legacy
 * algorithms: the key in a shrouded bag under PBES2 (AES-256-CBC, PBKDF2 with HMAC-SHA256, made by OpenSSL through
 * Node), the certificates in a plain bag (they are public), the MAC HMAC-SHA256 - what `openssl pkcs12 -export`
 * writes by default, less the certificate bag's encryption. Refuses a certificate that is not for this key (a server
 * answer is outside input) and a password that is not printable ASCII (PBES2 and the MAC would encode it differently).
 */
async function toPkcs12(certPem, chainPems, key, password) {
    if (!password)
        throw new Error('toPkcs12: a password is required');
    if (!/^[\x20-\x7e]+$/.test(password))
        throw new Error('toPkcs12: the password must be printable ASCII');
    let leaf;
    let chain;
    try {
        leaf = new node_crypto__WEBPACK_IMPORTED_MODULE_0__.X509Certificate(certPem);
        chain = chainPems.map((p) => new node_crypto__WEBPACK_IMPORTED_MODULE_0__.X509Certificate(p));
    }
    catch {
        throw new Error('toPkcs12: the certificate or its chain is not a PEM X.509 certificate');
    }
    if (!leaf.checkPrivateKey(key))
        throw new Error('toPkcs12: the certificate is not for this private key');
    // localKeyId ties the key to its certificate (what Windows and OpenSSL use to pair them).
    const keyId = set(seq(oid(OID.localKeyId), set(octets((0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash)('sha1').update(leaf.raw).digest()))));
    const certBag = (raw, attributes) => seq(oid(OID.certBag), tlv(0xa0, seq(oid(OID.x509Certificate), tlv(0xa0, octets(raw)))), ...attributes);
    const certs = seq(certBag(leaf.raw, [keyId]), ...chain.map((c) => certBag(c.raw, [])));
    // Node exports EncryptedPrivateKeyInfo with PBES2: AES-256-CBC, PBKDF2-HMAC-SHA256, 2048 iterations (OpenSSL 3's defaults).
    const shrouded = key.export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: password });
    const keys = seq(seq(oid(OID.pkcs8ShroudedKeyBag), tlv(0xa0, shrouded), keyId));
    const data = (content) => seq(oid(OID.data), tlv(0xa0, octets(content)));
    const authSafe = seq(data(certs), data(keys));
    const salt = (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.randomBytes)(16);
    const macKey = pkcs12Kdf(password, salt, 3, ITERATIONS);
    const mac = (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHmac)('sha256', macKey).update(authSafe).digest();
    // PFX ::= SEQUENCE { version 3, authSafe ContentInfo, macData { DigestInfo, macSalt, iterations } }
    return seq(int(3), data(authSafe), seq(seq(seq(oid(OID.sha256), NULL), octets(mac)), octets(salt), int(ITERATIONS)));
}
/**
 * A fresh password for the PKCS#12: 32 characters of base64url (192 random bits). No character a shell, a
 * `GITHUB_ENV` line, cmd.exe or PowerShell would treat specially, so it survives every way a step passes it on.
 */
function randomPassword() {
    return (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.randomBytes)(24).toString('base64url');
}
/**
 * RFC 7292 appendix B.2 with SHA-256 (u = 32, v = 64), for the MAC key (id 3) of 32 bytes: one block, so the
 * "I = I + B + 1" step is never needed. The password is a BMPString with its two-byte terminator.
 */
function pkcs12Kdf(password, salt, id, iterations) {
    const v = 64;
    const stretch = (b) => {
        const out = Buffer.alloc(Math.ceil(b.length / v) * v);
        for (let i = 0; i < out.length; i++)
            out[i] = b[i % b.length];
        return out;
    };
    const bmp = Buffer.from(`${password}\0`, 'utf16le').swap16();
    let a = Buffer.concat([Buffer.alloc(v, id), stretch(salt), stretch(bmp)]);
    for (let i = 0; i < iterations; i++)
        a = (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash)('sha256').update(a).digest();
    return a;
}
// A DER writer: just what the two structures above need.
function tlv(tag, ...parts) {
    const body = Buffer.concat(parts);
    const n = body.length;
    const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
    return Buffer.concat([Buffer.from([tag, ...length]), body]);
}
const seq = (...parts) => tlv(0x30, ...parts);
const set = (...parts) => tlv(0x31, ...parts);
const octets = (b) => tlv(0x04, b);
const NULL = Buffer.from([0x05, 0x00]);
function int(n) {
    const hex = n.toString(16);
    const b = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
    return tlv(0x02, b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}
function oid(dotted) {
    const [first, second, ...rest] = dotted.split('.').map(Number);
    const bytes = [40 * first + second];
    for (const arc of rest) {
        const base128 = [arc & 0x7f];
        for (let x = arc >>> 7; x; x >>>= 7)
            base128.unshift((x & 0x7f) | 0x80);
        bytes.push(...base128);
    }
    return tlv(0x06, Buffer.from(bytes));
}
function pem(label, der) {
    return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/(.{64})(?=.)/g, '$1\n')}\n-----END ${label}-----\n`;
}


/***/ })

};
