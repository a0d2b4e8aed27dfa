/**
 * The negative prober (octo-sts' cmd/negative-prober does the same for its service): exchanges that must FAIL, tried
 * against a running broker from a repository no policy trusts, for the operator's monitoring. Exit 1 when any of them
 * succeeds; whatever such a success minted is revoked at once.
 *
 *   node dist/broker/index.js probe --url https://d1-broker.example.com --audience https://d1-broker.example.com \
 *     --policy release-signing [--policy …] [--ca-file ca.pem]
 *
 * Run it in a scheduled GitHub Actions job of a repository that no policy names (`permissions: id-token: write`): its
 * OIDC tokens come from the runner (ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN). Probes, for each policy:
 * - a token for another audience: must be 401;
 * - this (stranger's) repository's token: must be refused (403), on /v1/credentials;
 * - the same token again (a replay): must be 401.
 */
import { request } from 'node:https';
import { randomBytes } from 'node:crypto';

export interface ProbeOptions {
  url: string;
  audience: string;
  policies: string[];
  ca?: string;
  /** An OIDC token of this job for an audience. */
  token: (audience: string) => Promise<string>;
  log: (line: string) => void;
}

function post(o: ProbeOptions, path: string, token: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = request(new URL(path, o.url), { method: 'POST', ca: o.ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }, timeout: 30_000 }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => {
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(data) as Record<string, unknown>;
        } catch {
          // not JSON: the status says enough
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(text);
  });
}

/** Runs every probe; the number of exchanges that succeeded although they must not (0: all good). */
export async function runProbe(o: ProbeOptions): Promise<number> {
  let failures = 0;
  const expectRefused = async (what: string, status: number[], call: () => Promise<{ status: number; body: Record<string, unknown> }>, token: string): Promise<void> => {
    const a = await call();
    if (status.includes(a.status)) {
      o.log(`ok: ${what}: refused (${a.status} ${String((a.body.error as { code?: unknown } | undefined)?.code ?? '')})`);
      return;
    }
    failures++;
    o.log(`FAIL: ${what}: answered ${a.status}, expected ${status.join(' or ')}`);
    if (a.status === 201 && typeof a.body.lease === 'string') {
      // Minted for a stranger: revoke it now.
      const fresh = await o.token(o.audience).catch(() => token);
      const r = await post(o, '/v1/revoke', fresh, { leases: [a.body.lease] }).catch((err: unknown) => ({ status: 0, body: { error: String(err) } }));
      o.log(`  revoked what it minted: ${r.status}`);
    }
  };
  const wrongAudience = `${o.audience.replace(/\/+$/, '')}/not-this-broker`;
  for (const policy of o.policies) {
    const lease = (): string => randomBytes(16).toString('base64url');
    const wrong = await o.token(wrongAudience);
    await expectRefused(`policy ${policy}: a token for another audience`, [401], () => post(o, '/v1/credentials', wrong, { policy, lease: lease(), job: 'probe' }), wrong);
    const stranger = await o.token(o.audience);
    await expectRefused(`policy ${policy}: a stranger's token`, [403], () => post(o, '/v1/credentials', stranger, { policy, lease: lease(), job: 'probe' }), stranger);
    await expectRefused(`policy ${policy}: the same token again (replay)`, [401], () => post(o, '/v1/credentials', stranger, { policy, lease: lease(), job: 'probe' }), stranger);
  }
  return failures;
}

/** An OIDC token from the runner's token service (the job needs `permissions: id-token: write`). */
export function runnerToken(env: NodeJS.ProcessEnv): (audience: string) => Promise<string> {
  return async (audience) => {
    const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
    const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
    if (!url || !bearer) throw new Error('no OIDC token service here: run the probe in a GitHub Actions job with permissions: id-token: write');
    const res = await fetch(`${url}&audience=${encodeURIComponent(audience)}`, { headers: { authorization: `bearer ${bearer}` } });
    const body = (await res.json()) as { value?: unknown };
    if (!res.ok || typeof body.value !== 'string') throw new Error(`the OIDC token service answered ${res.status}`);
    return body.value;
  };
}
