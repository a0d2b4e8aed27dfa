/**
 * Docker cannot build here, so the image is checked from its Dockerfile: it runs the same bundle the tests run
 * (dist/broker/index.js, BROKER_ENTRY), on Node 24, as a non-root user, with the ledger's folder the one volume; and
 * the examples in docs/broker.md fit it. Runs on Node 20 too (no node:sqlite needed).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicies } from '../broker/policy.js';
import { BROKER_ENTRY, childEnv } from '../harness/broker-world.js';
import { projectRoot } from '../harness/runner.js';

const root = projectRoot();

/** Dockerfile instructions in order: keyword and arguments, comments dropped, continuation lines joined. */
function instructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\w+)\s+(.*)$/.exec(l)!;
      return { op: m[1]!.toUpperCase(), args: m[2]! };
    });
}

const dockerfile = instructions(readFileSync(join(root, 'Dockerfile'), 'utf8'));
const one = (op: string) => {
  const found = dockerfile.filter((i) => i.op === op);
  expect(found, op).toHaveLength(1);
  return found[0]!.args;
};
const docs = readFileSync(join(root, 'docs', 'broker.md'), 'utf8');
const jsonBlocks = [...docs.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);

describe('the broker image (Dockerfile)', () => {
  it('its ENTRYPOINT runs the bundle the tests run: COPY puts dist/broker/ where `node` is pointed', () => {
    const entry = JSON.parse(one('ENTRYPOINT')) as string[];
    expect(entry[0]).toBe('node');
    const script = entry[1]!;
    const [from, to] = one('COPY').split(/\s+/);
    expect(script.startsWith(to!)).toBe(true);
    const inRepo = posix.join(from!, posix.relative(to!, script));
    expect(inRepo).toBe(relative(root, BROKER_ENTRY).split('\\').join('/'));
    expect(existsSync(BROKER_ENTRY)).toBe(true);
    // And the bundle is the one `npm run bundle` (scripts/bundle.mjs) builds from broker/main.ts.
    const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.bundle).toBe('node scripts/bundle.mjs');
    expect(readFileSync(join(root, 'scripts', 'bundle.mjs'), 'utf8')).toContain(`'build', 'broker/main.ts', '-o', '${from!.replace(/\/$/, '')}'`);
    // Only that folder goes into the build context.
    expect(readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'))).toEqual(['*', `!${from}`]);
  });

  it('that bundle is the broker: started as the image starts it without its config, it asks for one', () => {
    const r = spawnSync(process.execPath, [BROKER_ENTRY], { encoding: 'utf8', env: childEnv() });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('d1-token-broker: give the configuration file: --config broker.json (or D1_BROKER_CONFIG)');
  });

  it('Node 24, a numeric non-root user, the ledger folder as the one volume and owned by that user', () => {
    expect(one('FROM')).toMatch(/^node:24[-.@\w]*$/);
    const user = one('USER');
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    const volume = JSON.parse(one('VOLUME')) as string[];
    expect(volume).toEqual(['/var/lib/d1-broker']);
    expect(one('RUN')).toBe(`mkdir -p ${volume[0]} && chown ${user} ${volume[0]}`);
  });

  it('the configuration in docs/broker.md fits the image: config where CMD looks, ledger on the volume, a policy that parses', () => {
    const cmd = JSON.parse(one('CMD')) as string[];
    expect(cmd[0]).toBe('--config');
    const config = jsonBlocks.find((b) => 'ledgerFile' in b)!;
    expect(dirname(String(config.ledgerFile))).toBe((JSON.parse(one('VOLUME')) as string[])[0]);
    expect(String(config.policyFile).startsWith(dirname(cmd[1]!))).toBe(true);
    expect(String(one('EXPOSE'))).toBe(String((config.listen as { port: number }).port));
    const policy = jsonBlocks.find((b) => 'policies' in b)!;
    expect(parsePolicies(policy).map((p) => [p.name, p.grant.kind])).toEqual([
      ['release-signing', 'service-user'],
      ['nightly-scoped', 'scope'],
    ]);
  });
});
