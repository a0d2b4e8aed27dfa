/**
 * Worker of `npm run bench:load`: runs N jobs (main then post) at once, in this process, against the emulator
 * named on the command line, with the real HTTP client and an in-memory stand-in for the runner's files. The
 * emulator's CA reaches each job as a workflow behind a TLS-inspecting proxy would give it: the tls-ca-certificates
 * input (the action trusts Node's roots and that input only, never NODE_EXTRA_CA_CERTS).
 */
import { readFileSync } from 'node:fs';
import { systemClock } from '../src/platform/clock.js';
import type { Core } from '../src/runner/core.js';
import { createHttpClient } from '../src/platform/http.js';
import { runMain } from '../src/steps/main.js';
import { runPost, type PostOutcome } from '../src/steps/post.js';

interface RunReport {
  ok: boolean;
  outcome: PostOutcome | 'main-failed';
  mainMs: number;
  postMs: number;
  tokenId: string;
  warnings: string[];
  error?: string;
}

function memoryCore(inputs: Record<string, string>, state: Map<string, string>, out: { outputs: Map<string, string>; warnings: string[]; failed?: string }): Core {
  const summary = { addRaw: () => summary, write: async () => summary };
  return {
    getInput: (n: string) => inputs[n] ?? '',
    getState: (n: string) => state.get(n) ?? '',
    saveState: (n: string, v: unknown) => void state.set(n, String(v)),
    setOutput: (n: string, v: unknown) => void out.outputs.set(n, String(v)),
    setSecret: () => undefined,
    exportVariable: () => undefined,
    info: () => undefined,
    warning: (m: string | Error) => void out.warnings.push(String(m)),
    setFailed: (m: string | Error) => void (out.failed = String(m)),
    summary,
  } as unknown as Core;
}

async function oneJob(i: number, host: string, apiKey: string, userId: string, caPem: string): Promise<RunReport> {
  const inputs = { 'api-key': apiKey, host, 'service-user-id': userId, 'tls-ca-certificates': caPem };
  const state = new Map<string, string>();
  const out = { outputs: new Map<string, string>(), warnings: [] as string[] };
  const core = memoryCore(inputs, state, out);
  const run = { repository: 'octo-org/load', runId: String(100000 + i), runAttempt: '1', job: 'sign' };
  const t0 = performance.now();
  try {
    await runMain({ core, run, env: {}, clock: systemClock, createHttp: createHttpClient });
  } catch (err) {
    return { ok: false, outcome: 'main-failed', mainMs: performance.now() - t0, postMs: 0, tokenId: '', warnings: out.warnings, error: String(err) };
  }
  const t1 = performance.now();
  const outcome = await runPost({ core, env: {}, clock: systemClock, createHttp: createHttpClient });
  return { ok: outcome === 'revoked', outcome, mainMs: t1 - t0, postMs: performance.now() - t1, tokenId: out.outputs.get('token-id') ?? '', warnings: out.warnings };
}

const [host, apiKey, userId, count, caFile] = process.argv.slice(2);
const caPem = readFileSync(caFile!, 'utf8');
const reports = await Promise.all(Array.from({ length: Number(count) }, (_, i) => oneJob(i, host!, apiKey!, userId!, caPem)));
process.stdout.write(JSON.stringify(reports));
