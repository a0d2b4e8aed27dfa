/**
 * The default path (api-key + service-user-id) loads dist/main.js or dist/post.js and the shared bundle, and no
 * chunk: every optional feature (mTLS, job certificate, preflight, scope, cleanup-stale, keypair check) is an
 * import() of its own, fetched only when its input is set. Checked on the bundled action through the runner model,
 * with a module hook recording each file the step's Node process loads (harness/loaded-files.ts). How long loading
 * takes is the bench's business (npm run bench), not a test's.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadedFiles, recordLoadedFiles } from '../harness/loaded-files.js';
import { projectRoot } from '../harness/runner.js';
import { useTenant, type Tenant } from './support/emulator.js';

const tenantEnv = useTenant();
let t: Tenant;
beforeAll(() => void (t = tenantEnv.tenant));
const record = join(mkdtempSync(join(tmpdir(), 'd1-loads-')), 'loaded.txt');
const nodeArgs = recordLoadedFiles(record);
const chunks = () => readdirSync(join(projectRoot(), 'dist')).filter((f) => /^\d+\.index\.js$/.test(f));

describe('start-up: what each step loads', () => {
  it('the default path loads its entry and dist/index.js, and no chunk, in main and in post', async () => {
    const j = tenantEnv.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id }, undefined, { nodeArgs });
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(loadedFiles(record)).toEqual(['dist/main.js', 'dist/index.js']);
    const post = await j.post();
    expect(post.exitCode, post.log.join('\n')).toBe(0);
    expect(post.log.join('\n')).toContain('Revoked');
    expect(loadedFiles(record)).toEqual(['dist/post.js', 'dist/index.js']);
  });

  it('an optional feature loads its own chunk (the record sees chunks): preflight', async () => {
    expect(chunks().length).toBeGreaterThanOrEqual(6);
    const j = tenantEnv.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, preflight: 'true' }, undefined, { nodeArgs });
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    const loaded = loadedFiles(record);
    expect(loaded.slice(0, 2)).toEqual(['dist/main.js', 'dist/index.js']);
    expect(loaded.slice(2)).toHaveLength(1);
    expect(chunks().map((c) => `dist/${c}`)).toContain(loaded[2]);
    await j.post();
    loadedFiles(record);
  });

  it('the mTLS code is a chunk: a client certificate bootstrap loads one, in main and again in post', async () => {
    const pair = t.emu.issueClientCert(t.s.bootstrap.user.id);
    const j = tenantEnv.job({ 'client-certificate': pair.certPem, 'client-key': pair.keyPem, host: t.emu.host, 'service-user-id': t.s.signer.id }, undefined, { nodeArgs });
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    const inMain = loadedFiles(record).slice(2);
    expect(inMain).toHaveLength(1);
    const post = await j.post();
    expect(post.exitCode, post.log.join('\n')).toBe(0);
    expect(loadedFiles(record)).toEqual(['dist/post.js', 'dist/index.js', ...inMain]);
  });
});
