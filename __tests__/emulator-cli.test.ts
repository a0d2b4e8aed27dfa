/**
 * `npm run emulator -- …` (scripts/emulator.ts): --help prints the usage and starts nothing, an unknown option is a
 * usage error (exit 2), and the options it takes still start the emulator. Run from source in a child process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { USAGE, localActionEnv, parseEmulatorArgs } from '../scripts/emulator.js';

const LOADER = pathToFileURL(join(process.cwd(), '__tests__', 'support', 'ts-loader.mjs')).href;
const emulator = (args: string[]) =>
  // A timeout: before --help was read, this started the server and never returned.
  spawnSync(process.execPath, ['--import', LOADER, 'scripts/emulator.ts', ...args], { encoding: 'utf8', timeout: 20_000 });

const dir = mkdtempSync(join(tmpdir(), 'd1-emulator-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run emulator -- --help and options', () => {
  it('--help (and -h) prints the usage on stdout, exits 0 and starts no server', () => {
    for (const flag of ['--help', '-h']) {
      const r = emulator([flag]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(USAGE);
      expect(r.stderr).toBe('');
    }
    expect(USAGE).toMatch(/^usage: npm run emulator -- \[options\]\n/);
    for (const option of ['--port', '--write-env', '--local-action-env', '--help']) expect(USAGE).toContain(option);
  });

  it('an unknown option, a stray argument or a bad port: the reason and the usage on stderr, exit 2', () => {
    const cases: [string[], string][] = [
      [['--bogus'], "error: Unknown option '--bogus'"],
      [['extra'], "error: Unexpected argument 'extra'"],
      [['--port', 'http'], "error: --port: expected a port number from 0 to 65535, got 'http'"],
      [['--port', '70000'], "error: --port: expected a port number from 0 to 65535, got '70000'"],
    ];
    for (const [args, message] of cases) {
      const r = emulator(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.startsWith(message), r.stderr).toBe(true);
      expect(r.stderr.endsWith(`\n\n${USAGE}`)).toBe(true);
    }
  });

  it('parses the options it takes', () => {
    expect(parseEmulatorArgs([])).toEqual({ help: false, port: 0, writeEnv: undefined, localActionEnv: undefined });
    expect(parseEmulatorArgs(['--port', '8443', '--write-env', 'a.env', '--local-action-env=b.env'])).toEqual({ help: false, port: 8443, writeEnv: 'a.env', localActionEnv: 'b.env' });
    expect(() => parseEmulatorArgs(['--port'])).toThrow(/--port/);
  });

  it('with --write-env and --local-action-env it serves, writes both files, and stops on SIGTERM', async () => {
    const envFile = join(dir, 'live.env');
    const laFile = join(dir, 'local-action.env');
    const child = spawn(process.execPath, ['--import', LOADER, 'scripts/emulator.ts', '--write-env', envFile, '--local-action-env', laFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    try {
      for (let i = 0; i < 200 && !out.includes('try: curl'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('DigiCert ONE emulator on https://localhost:');
      const host = /on https:\/\/(localhost:\d+)/.exec(out)![1]!;
      expect(readFileSync(envFile, 'utf8')).toContain(`export D1_LIVE_HOST=${host}\n`);
      const la = readFileSync(laFile, 'utf8');
      expect(la).toContain(`INPUT_HOST=${host}\n`);
      expect(la).toMatch(/^INPUT_TLS-CA-CERTIFICATES="-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----"$/m);
      const temp = /^RUNNER_TEMP=(.+)$/m.exec(la)![1]!;
      expect(existsSync(temp)).toBe(true);
    } finally {
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('the local-action file names the inputs as action.yml does, one per line, the PEM quoted across lines', () => {
    const text = localActionEnv({ host: 'localhost:1', apiKey: 'k', serviceUserId: 'u-1', caPem: '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n', runnerTemp: '/t' });
    const names = [...text.matchAll(/^INPUT_([A-Z-]+)=/gm)].map((m) => m[1]!.toLowerCase());
    const declared = readFileSync('action.yml', 'utf8');
    for (const n of names) expect(declared).toContain(`\n  ${n}:\n`);
    expect(text).toContain('INPUT_TLS-CA-CERTIFICATES="-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----"\n');
  });
});
