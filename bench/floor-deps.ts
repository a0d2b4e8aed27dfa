/**
 * Dependency floor for `npm run bench`: the action's runtime dependencies (@actions/core, undici), bundled with
 * ncc the same way as dist/, making the same single request per step and nothing else. Main: POST
 * /account/api/v1/api-access-token and save the id; post (state present): DELETE it.
 */
import * as core from '@actions/core';
import { Agent, request } from 'undici';

const dispatcher = new Agent({ connectTimeout: 30_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
const base = `https://${core.getInput('host')}/account/api/v1/api-access-token`;
const headers = { 'x-api-key': core.getInput('api-key'), accept: 'application/json', 'content-type': 'application/json' };
const saved = core.getState('token-id');
try {
  if (saved) {
    const res = await request(`${base}/${saved}`, { method: 'DELETE', headers, dispatcher });
    await res.body.dump();
    if (res.statusCode !== 204) core.setFailed(`DELETE ${res.statusCode}`);
  } else {
    const body = JSON.stringify({ name: `bench floor deps ${process.pid} ${Date.now()}`, end_date: new Date().toISOString().slice(0, 10), user_id: core.getInput('service-user-id') });
    const res = await request(base, { method: 'POST', headers, body, dispatcher });
    const json = (await res.body.json()) as { id?: string };
    if (res.statusCode !== 201 || !json.id) core.setFailed(`POST ${res.statusCode}`);
    else core.saveState('token-id', json.id);
  }
} finally {
  await dispatcher.destroy();
}
