import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandFile, renderLog, RunnerJob } from '../harness/runner.js';
import { maskedBeforeUse, scanJob } from '../harness/leaks.js';
import { maskSecret, redact } from '../src/platform/text-safety.js';

describe('runner harness', () => {
  it('reads name=value lines and heredocs as the runner does', () => {
    expect(parseCommandFile('a=1\nb<<EOF_x\nline1\nline2\nEOF_x\nc=x=y\n')).toEqual({ a: '1', b: 'line1\nline2', c: 'x=y' });
    expect(() => parseCommandFile('b<<E\nno end\n')).toThrow("Matching delimiter not found 'E'");
  });

  it('hides a value only from the moment it is masked, line by line for multi-line values', () => {
    const log = renderLog('early s3cr3t\n::add-mask::s3cr3t\nlate s3cr3t\n::add-mask::l1%0Al2\nx l2 y\n::warning::w s3cr3t\n', '', []);
    expect(log).toEqual(['early s3cr3t', 'late ***', 'x *** y', 'Warning: w ***']);
    expect(maskedBeforeUse('::add-mask::abc\nabc', 'abc')).toBe(true);
    expect(maskedBeforeUse('abc\n::add-mask::abc', 'abc')).toBe(false);
  });
});

describe('secrets', () => {
  it('masks each line of a multi-line secret and the whole', () => {
    const masked: string[] = [];
    maskSecret('-----BEGIN KEY-----\nAAAABBBB\nCCCCDDDD\n-----END KEY-----\n', (v) => masked.push(v));
    expect(masked).toContain('AAAABBBB');
    expect(masked).toContain('CCCCDDDD');
    expect(masked[0]).toContain('\n');
    expect(redact('x AAAABBBB y', ['p\nAAAABBBB'])).toBe('x *** y');
  });
});

describe('leak scan', () => {
  it('finds a secret wherever a step leaves it, and accepts only the allowed output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leaky-'));
    const entry = join(dir, 'leaky.mjs');
    // A deliberately careless "action": prints one secret before masking it, puts another in state and summary.
    writeFileSync(
      entry,
      `import { appendFileSync, writeFileSync } from 'node:fs';
       const k = process.env['INPUT_API-KEY'];
       console.log('using ' + k);
       console.log('::add-mask::' + k);
       appendFileSync(process.env.GITHUB_STATE, 'copy=' + k + '\\n');
       appendFileSync(process.env.GITHUB_OUTPUT, 'token<<EOF_1\\nminted-secret-value\\nEOF_1\\n');
       appendFileSync(process.env.GITHUB_STEP_SUMMARY, Buffer.from('minted-secret-value').toString('base64'));
       writeFileSync(process.env.RUNNER_TEMP + '/key.txt', k);`,
    );
    const job = new RunnerJob({ inputs: { 'api-key': 'bootstrap-secret-value' }, entry });
    try {
      const main = await job.main();
      expect(main.exitCode).toBe(0);
      expect(maskedBeforeUse(main.stdout, 'bootstrap-secret-value')).toBe(false);
      const leaks = scanJob(job, { bootstrap: 'bootstrap-secret-value', minted: 'minted-secret-value' }, { allowInOutput: { token: 'minted' } });
      expect(leaks).toEqual([
        { secret: 'bootstrap', where: 'main log' },
        { secret: 'bootstrap', where: 'main GITHUB_STATE' },
        { secret: 'bootstrap', where: 'RUNNER_TEMP/key.txt' },
        { secret: 'minted', where: 'main GITHUB_STEP_SUMMARY' },
      ]);
      expect(job.runnerTempFiles()).toEqual(['key.txt']);
    } finally {
      job.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the clock shift reaches every process a harness starts', () => {
  // CI's shifted-clock run (libfaketime through LD_PRELOAD/FAKETIME): a child started without them runs on the real
  // clock, and a certificate the test process made "now" is not yet valid there (the broker world failed so on
  // 2027-12-31 23:58: "the issuer's keys could not be fetched (certificate is not yet valid)").
  it('the broker process gets libfaketime\'s variables, and nothing else of the test\'s environment', async () => {
    const { childEnv } = await import('../harness/broker-world.js');
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { FAKETIME: '@2027-12-31 23:58:00', FAKETIME_DONT_RESET: '1', LD_PRELOAD: '/usr/lib/faketime/libfaketime.so.1', D1_SECRET_OF_TEST: 'x' });
      const env = childEnv();
      expect(env).toMatchObject({ FAKETIME: '@2027-12-31 23:58:00', FAKETIME_DONT_RESET: '1', LD_PRELOAD: '/usr/lib/faketime/libfaketime.so.1' });
      expect(env.D1_SECRET_OF_TEST).toBeUndefined();
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});
