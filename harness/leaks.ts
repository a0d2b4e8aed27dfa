/**
 * Scans every byte the runner keeps for every secret, including the forms a secret takes when encoded
 * (base64, URL and workflow-command escaping). The only allowed place is the one the caller names.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FILE_COMMAND_DIR } from './file-commands.js';
import type { RunnerJob } from './runner.js';

export interface Leak {
  secret: string;
  where: string;
}

function variants(secret: string): string[] {
  const v = new Set<string>([secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)]);
  for (const line of secret.split(/\r?\n/)) if (line.trim().length >= 8) v.add(line.trim());
  return [...v].filter((x) => x.length >= 6);
}

export interface ScanOptions {
  /** Secret labels allowed in the outputs file (e.g. the minted token as the `token` output). */
  allowInOutput?: Record<string, string>;
  /** Secret labels allowed in the env file (export-env). */
  allowInEnv?: string[];
}

/** Returns where each secret (label → value) appears in what the runner keeps of this job. */
export function scanJob(job: RunnerJob, secrets: Record<string, string>, opts: ScanOptions = {}): Leak[] {
  const leaks: Leak[] = [];
  const places: [string, string][] = [];
  for (const s of job.steps) {
    // The log as shown (masks applied), and stderr raw: the runner masks stdout lines only after a mask exists.
    places.push([`${s.phase} log`, s.log.join('\n')]);
    places.push([`${s.phase} stderr`, s.stderr]);
    places.push([`${s.phase} GITHUB_STATE`, s.files.state]);
    places.push([`${s.phase} GITHUB_STEP_SUMMARY`, s.files.summary]);
    places.push([`${s.phase} GITHUB_ENV`, s.files.env]);
    places.push([`${s.phase} GITHUB_OUTPUT`, s.files.output]);
    places.push([`${s.phase} GITHUB_PATH`, s.files.path]);
  }
  // The runner's own file-command files are scanned above, per step.
  for (const f of readdirSync(job.runnerTemp, { recursive: true }).map(String).filter((x) => !x.startsWith(FILE_COMMAND_DIR))) {
    const p = join(job.runnerTemp, f);
    if (statSync(p).isFile()) places.push([`RUNNER_TEMP/${f}`, readFileSync(p, 'utf8')]);
  }
  for (const [label, secret] of Object.entries(secrets)) {
    if (!secret) continue;
    for (const [where, text] of places) {
      let haystack = text;
      if (where.endsWith('GITHUB_OUTPUT')) {
        const allowedOutput = Object.entries(opts.allowInOutput ?? {}).find(([, l]) => l === label)?.[0];
        if (allowedOutput) haystack = haystack.replace(new RegExp(`^${allowedOutput}<<(.+)\\n[\\s\\S]*?\\n\\1$`, 'm'), '');
      }
      if (where.endsWith('GITHUB_ENV') && opts.allowInEnv?.includes(label)) continue;
      for (const v of variants(secret)) {
        if (haystack.includes(v)) {
          leaks.push({ secret: label, where });
          break;
        }
      }
    }
  }
  return leaks;
}

/**
 * True when, on stdout, the mask command for `secret` comes before any other line holding it: the runner
 * only hides a value from the moment it is registered.
 */
export function maskedBeforeUse(stdout: string, secret: string): boolean {
  // A Windows step ends its lines with CRLF; the runner reads either as one line break.
  const lines = stdout.split(/\r?\n/);
  const maskAt = lines.indexOf(`::add-mask::${secret}`);
  const firstUse = lines.findIndex((l) => l.includes(secret) && !l.startsWith('::add-mask::'));
  return maskAt >= 0 && (firstUse < 0 || maskAt < firstUse);
}
