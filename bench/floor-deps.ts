/**
 * Dependency floor for `npm run bench`: the action's runtime dependencies (@actions/core, and undici as the bundle
 * has it: shims/undici, the parts the action uses), bundled with ncc the same way as dist/, making the same single
 * request per step and nothing else. Main: POST /account/api/v1/api-access-token and save the id; post (state
 * present): DELETE it.
 */
import { rootCertificates } from 'node:tls';
import * as core from '@actions/core';
import { Agent } from 'undici';

// The action's trust (trustAnchors in src/platform/http.ts): Node's roots plus the tls-ca-certificates input (the emulator's CA).
const ca = [...rootCertificates, core.getInput('tls-ca-certificates')];
const dispatcher = new Agent({ connectTimeout: 30_000, headersTimeout: 30_000, bodyTimeout: 30_000, connect: { ca, rejectUnauthorized: true } });
const origin = `https://${core.getInput('host')}`;
const path = '/account/api/v1/api-access-token';
const headers = { 'x-api-key': core.getInput('api-key'), accept: 'application/json', 'content-type': 'application/json' };
const saved = core.getState('token-id');
try {
  if (saved) {
    const res = await dispatcher.request({ origin, path: `${path}/${saved}`, method: 'DELETE', headers });
    await res.body.dump();
    if (res.statusCode !== 204) core.setFailed(`DELETE ${res.statusCode}`);
  } else {
    const body = JSON.stringify({ name: `bench floor deps ${process.pid} ${Date.now()}`, end_date: new Date().toISOString().slice(0, 10), user_id: core.getInput('service-user-id') });
    const res = await dispatcher.request({ origin, path, method: 'POST', headers, body });
    const json = (await res.body.json()) as { id?: string };
    if (res.statusCode !== 201 || !json.id) core.setFailed(`POST ${res.statusCode}`);
    else core.saveState('token-id', json.id);
  }
} finally {
  await dispatcher.destroy();
}
