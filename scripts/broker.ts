/**
 * `npm run broker -- --config broker.json`: the broker bundle (dist/broker/index.js), as the container runs it.
 * `npm run broker -- --emulator [--policy my-policy.json] [--claims claims.json]`: the same bundle against the
 * DigiCert ONE emulator, with an OIDC issuer stand-in in place of GitHub's, all made for this run; with --policy it
 * runs the user's policy file (service users it grants are created in the emulator), with --claims a job of those
 * claims; it prints how to get a job's OIDC token and exchange it, and runs until Ctrl-C.
 * `npm run broker -- explain --policy my-policy.json --claims claims.json [--name release]`: the decision of each
 * policy (or the one named) for those claims, claim by claim, with broker/policy.ts's own functions.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const USAGE = `usage: npm run broker -- [options]
       npm run broker -- explain --policy FILE --claims FILE [--name POLICY]

Runs d1-token-broker (dist/broker/index.js), or a local world around it, or explains a policy decision.

options:
  --config FILE      run the broker with this configuration file (docs/broker.md, "The configuration")
  --check-config     with --config: passed to the broker, which checks the file and exits
  --emulator         run the broker against the DigiCert ONE emulator, with a stand-in for GitHub's OIDC issuer
  --policy FILE      with --emulator: your policy file instead of the built-in one (service users it grants are
                     made in the emulator); with explain: the policy file to explain
  --claims FILE      with --emulator: the claims of the job it prepares (JSON, as a token's payload); with
                     explain: the claims to decide on
  --name POLICY      with explain: only this policy (default: every policy in the file)
  -h, --help         print this help and exit

Claims of a real job: docs/broker.md, "Try your policy before you deploy it".
`;

export type BrokerArgs =
  | { command: 'help' }
  | { command: 'run'; config: string | undefined; checkConfig: boolean }
  | { command: 'emulator'; policy: string | undefined; claims: string | undefined }
  | { command: 'explain'; policy: string; claims: string; name: string | undefined };

/** The command line, strictly: an unknown option, a stray argument or a missing file throws (the caller prints the usage). */
export function parseBrokerArgs(argv: string[]): BrokerArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      'check-config': { type: 'boolean' },
      emulator: { type: 'boolean' },
      policy: { type: 'string' },
      claims: { type: 'string' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { command: 'help' };
  if (positionals.length > 1 || (positionals[0] !== undefined && positionals[0] !== 'explain')) throw new Error(`unknown command '${positionals.join(' ')}'; the one command is explain`);
  if (positionals[0] === 'explain') {
    if (!values.policy || !values.claims) throw new Error('explain needs --policy FILE and --claims FILE');
    if (values.config || values.emulator || values['check-config']) throw new Error('explain takes --policy, --claims and --name only');
    return { command: 'explain', policy: values.policy, claims: values.claims, name: values.name };
  }
  if (values.name) throw new Error('--name goes with explain');
  if (values.emulator) {
    if (values.config || values['check-config']) throw new Error('--emulator makes its own configuration; leave out --config');
    return { command: 'emulator', policy: values.policy, claims: values.claims };
  }
  if (values.policy || values.claims) throw new Error('--policy and --claims go with --emulator or explain; with --config the policy file is named in the configuration');
  return { command: 'run', config: values.config, checkConfig: values['check-config'] ?? false };
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${what} ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${what} ${file} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * A token's claims as the broker would see them: the JSON of its payload, or a whole JWT (three dot-separated parts;
 * only the payload is read, nothing is verified: explain decides on claims, it proves nothing about them).
 */
export function readClaims(text: string): Record<string, unknown> {
  const t = text.trim();
  const parts = t.split('.');
  const json = !t.startsWith('{') && parts.length === 3 ? Buffer.from(parts[1]!, 'base64url').toString('utf8') : t;
  const claims = JSON.parse(json) as unknown;
  if (!claims || typeof claims !== 'object' || Array.isArray(claims)) throw new Error('the claims must be a JSON object (a token payload)');
  return claims as Record<string, unknown>;
}

/** The decision of each policy, claim by claim, with the policy module's own decide(). Returns the text and whether one grants. */
export async function explain(policyDoc: unknown, claims: Record<string, unknown>, only?: string): Promise<{ text: string; granted: string[] }> {
  const { decide, parsePolicies } = await import('../broker/policy.js');
  const policies = parsePolicies(policyDoc);
  const chosen = only ? policies.filter((p) => p.name === only) : policies;
  if (only && chosen.length === 0) throw new Error(`the policy file has no policy '${only}' (it has ${policies.map((p) => p.name).join(', ') || 'none'})`);
  const lines: string[] = [];
  const granted: string[] = [];
  for (const p of chosen) {
    const d = decide(policies, p.name, claims);
    lines.push(`policy '${p.name}': ${d.ok ? 'GRANTED' : 'REFUSED'}`);
    for (const [claim, expected] of Object.entries(p.match)) {
      // One claim at a time through the same decide(): the verdict for that claim alone.
      const alone = decide([{ ...p, match: { [claim]: expected } }], p.name, claims);
      const has = typeof claims[claim] === 'string' ? `token has ${claims[claim] as string}` : claims[claim] === undefined ? 'token has none' : `token has a ${typeof claims[claim]}, not text`;
      lines.push(`  ${alone.ok ? 'ok  ' : 'FAIL'} ${claim}: expected ${expected.join(' or ')}; ${has}`);
    }
    if (d.ok) {
      granted.push(p.name);
      const g = p.grant;
      const what = g.kind === 'service-user' ? `an API token for service user ${g.serviceUserId}` : `a service user made for the job with ${g.scopeText.replace(/\n/g, '; ')}`;
      lines.push(`  grants ${what}, ending ${p.lifetimeDays} UTC day(s) after the mint${p.clientCertificate ? '; a client certificate if the job sends a CSR' : ''}`);
    }
  }
  return { text: lines.join('\n'), granted };
}

async function runEmulator(args: { policy: string | undefined; claims: string | undefined }): Promise<void> {
  const [{ AUDIENCE, BROKER_ENTRY, BrokerWorld, DEFAULT_JOB }, { jobClaims }, { parsePolicies }] = await Promise.all([
    import('../harness/broker-world.js'),
    import('../harness/oidc-issuer.js'),
    import('../broker/policy.js'),
  ]);
  const own = args.policy ? (readJson(args.policy, 'policy file') as { policies?: unknown[] }) : undefined;
  // Checked here first, so a mistake is reported as the broker would, before anything starts.
  if (own) parsePolicies(own);
  const claims = args.claims ? readClaims(readFileSync(args.claims, 'utf8')) : undefined;
  const w = await BrokerWorld.start({ process: true, ...(own ? { policies: () => own.policies ?? [] } : {}) });
  // The service users the user's policy grants, made in the emulator with Software Trust's Signer role, so a mint works.
  const made: string[] = [];
  for (const p of own ? parsePolicies(own) : []) {
    if (p.grant.kind === 'service-user' && !w.emu.model.users.has(p.grant.serviceUserId)) {
      w.emu.model.addUser({ id: p.grant.serviceUserId, friendly_name: `service user of policy ${p.name}`, applications: w.s.signer.applications });
      made.push(`${p.grant.serviceUserId} (policy ${p.name})`);
    }
  }
  const ca = join(w.dir, 'ca.pem');
  writeFileSync(ca, w.caPem);
  const jobOf = claims ? (claims as Record<string, string>) : jobClaims({ ...DEFAULT_JOB, run_id: '1' });
  const job = w.issuer.registerJob(jobOf as never);
  const policyName = own ? ((own.policies?.[0] as { name?: string } | undefined)?.name ?? 'release') : 'release';
  console.log(`d1-token-broker (${BROKER_ENTRY}) on ${w.url}, audience ${AUDIENCE}
  against the DigiCert ONE emulator on https://${w.emu.host}; GitHub's OIDC issuer stand-in: ${w.issuer.issuer}
  policy: ${args.policy ?? 'the built-in one (harness/broker-world.ts)'}${made.length ? `\n  service users made in the emulator for it (Software Trust Signer role): ${made.join(', ')}` : ''}
  its files (config, policy, TLS, ledger, audit log): ${w.dir}
  CA of all three: ${ca}

A job ${claims ? `with the claims of ${args.claims}` : `of ${DEFAULT_JOB.repository} (run 1)`} with id-token: write has:
  export ACTIONS_ID_TOKEN_REQUEST_URL='${job.url}'
  export ACTIONS_ID_TOKEN_REQUEST_TOKEN='${job.token}'
Its OIDC token, then a credential for policy '${policyName}':
  JWT=$(curl -s --cacert ${ca} -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=${encodeURIComponent(AUDIENCE)}" | node -pe 'JSON.parse(require("fs").readFileSync(0)).value')
  curl -s --cacert ${ca} -H "Authorization: Bearer $JWT" -H 'content-type: application/json' -d '{"policy":"${policyName}","lease":"my-first-lease-0001"}' ${w.url}/v1/credentials
A refusal names each claim that did not match; the audit log (${w.auditFile}) has every decision.
The action does the same with: broker-url: ${w.url}, broker-policy: ${policyName}, broker-audience: ${AUDIENCE}, tls-ca-certificates: the contents of ${ca}.
Ctrl-C stops all three.`);
  const stop = (): void => void w.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function main(args: BrokerArgs): Promise<number | undefined> {
  switch (args.command) {
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case 'explain': {
      const r = await explain(readJson(args.policy, 'policy file'), readClaims(readFileSync(args.claims, 'utf8')), args.name);
      console.log(r.text);
      return r.granted.length ? 0 : 1;
    }
    case 'emulator':
      await runEmulator(args);
      return undefined;
    case 'run': {
      const { BROKER_ENTRY } = await import('../harness/broker-world.js');
      const child = spawn(process.execPath, [BROKER_ENTRY, ...(args.config ? ['--config', args.config] : []), ...(args.checkConfig ? ['--check-config'] : [])], { stdio: 'inherit' });
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
      child.on('exit', (code) => process.exit(code ?? 1));
      return undefined;
    }
  }
}

// Run as a script, not imported by a test. Compared as URLs so a Windows path (backslashes, drive letter) matches too.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let args: BrokerArgs;
  try {
    args = parseBrokerArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    process.exit(2);
  }
  try {
    const code = await main(args);
    if (code !== undefined) process.exitCode = code;
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
