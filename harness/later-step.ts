/**
 * What a later step of the job does with what the action handed out, against the emulator: call the API with the
 * minted token, or call Software Trust with both factors. Used by the tests and the demo.
 */
import { Agent, request } from 'undici';
import type { D1Emulator } from '../emulator/server.js';
import { loopbackSubdomainLookup } from '../src/http.js';

/** What a later step does with the minted token: call the API with it. Returns the HTTP status. */
export async function statusWith(emu: D1Emulator, apiKey: string, path = '/account/api/v1/user/me'): Promise<number> {
  const dispatcher = new Agent({ connect: { ca: emu.caPem } });
  try {
    const res = await request(`https://${emu.host}${path}`, { headers: { 'x-api-key': apiKey }, dispatcher });
    await res.body.dump();
    return res.statusCode;
  } finally {
    await dispatcher.destroy();
  }
}

/**
 * What a later signing step does with both factors: Software Trust on the clientauth. name, with the token as
 * x-api-key and the client certificate (a PKCS#12 and its password, as SM_CLIENT_CERT_FILE/_PASSWORD give it) in the
 * handshake. Returns the HTTP status, or 'handshake' when the TLS handshake failed.
 */
export async function softwareTrustStatus(emu: D1Emulator, apiKey: string, pfx: Buffer, passphrase: string): Promise<number | 'handshake'> {
  const dispatcher = new Agent({ connect: { ca: emu.caPem, pfx, passphrase, lookup: loopbackSubdomainLookup } });
  try {
    const res = await request(`https://${emu.clientAuthHost}/signingmanager/api/v1/certificates`, { headers: { 'x-api-key': apiKey }, dispatcher });
    await res.body.dump();
    return res.statusCode;
  } catch (err) {
    // The server ends the handshake (closed socket, reset, or a TLS alert); anything else is the caller's error.
    const code = (err as { code?: string }).code ?? '';
    if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code.startsWith('ERR_SSL_')) return 'handshake';
    throw err;
  } finally {
    await dispatcher.destroy();
  }
}
