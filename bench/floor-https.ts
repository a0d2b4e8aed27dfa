/**
 * Physical floor for `npm run bench`: plain node:https, no dependencies, the same single request per step as
 * the action (main: POST /account/api/v1/api-access-token and save the id; post: DELETE it). It reads inputs
 * and state the way the runner hands them over (INPUT_*, STATE_*) and appends to GITHUB_STATE itself.
 */
import { appendFileSync } from 'node:fs';
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';

const env = process.env;
const path = '/account/api/v1/api-access-token';
const saved = env['STATE_token-id'];
// The action's trust (trustAnchors in src/platform/http.ts): Node's roots plus the tls-ca-certificates input (the emulator's CA).
const ca = [...rootCertificates, env['INPUT_TLS-CA-CERTIFICATES'] ?? ''];

function send(method: string, p: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `https://${env.INPUT_HOST}${p}`,
      { method, agent: false, ca, rejectUnauthorized: true, headers: { 'x-api-key': env['INPUT_API-KEY'] ?? '', accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

if (saved) {
  const res = await send('DELETE', `${path}/${saved}`);
  if (res.status !== 204) process.exitCode = 1;
} else {
  const body = JSON.stringify({ name: `bench floor https ${process.pid} ${Date.now()}`, end_date: new Date().toISOString().slice(0, 10), user_id: env['INPUT_SERVICE-USER-ID'] });
  const res = await send('POST', path, body);
  const id = res.status === 201 ? (JSON.parse(res.text) as { id?: string }).id : undefined;
  if (id) appendFileSync(env.GITHUB_STATE!, `token-id=${id}\n`);
  else process.exitCode = 1;
}
