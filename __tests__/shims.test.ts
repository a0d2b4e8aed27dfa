/** shims/undici (see shims/README.md): one undici, the real version, only the parts the action uses, its license kept. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as undici from 'undici';
import { projectRoot } from '../harness/runner.js';

const root = projectRoot();
const json = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8'));

describe('shims/undici', () => {
  it('carries the version of the undici it loads, and package.json installs it from the repository', () => {
    const shim = json('shims/undici/package.json');
    expect(shim.name).toBe('undici');
    expect(shim.dependencies['undici-upstream']).toBe(`npm:undici@${shim.version}`);
    const installed = createRequire(join(root, 'shims/undici/index.cjs'))('undici-upstream/package.json') as { name: string; version: string };
    expect(installed).toMatchObject({ name: 'undici', version: shim.version });
    expect(json('package.json').dependencies.undici).toBe('file:shims/undici');
    // npm dedupes @actions/http-client's undici@^6 to the shim only while the shim's version satisfies that range.
    const wanted = json('node_modules/@actions/http-client/package.json').dependencies.undici as string;
    expect(wanted).toMatch(/^\^6\./);
    expect(Number(shim.version.split('.')[0])).toBe(6);
  });

  it('exports the parts the action uses, with the request API on every dispatcher', () => {
    expect(Object.keys(undici).filter((k) => k !== 'default' && k !== 'module.exports').sort()).toEqual(['Agent', 'Dispatcher', 'EnvHttpProxyAgent', 'ProxyAgent', 'buildConnector']);
    const agent = new undici.Agent();
    expect(typeof agent.request).toBe('function');
    // ProxyAgent opens its CONNECT tunnel with Client.prototype.connect.
    expect(typeof undici.Dispatcher.prototype.connect).toBe('function');
    return agent.destroy();
  });

  it('the bundle holds one copy of undici, without fetch, WebSocket or the mocks, and keeps undici in licenses.txt', () => {
    const bundle = readFileSync(join(root, 'dist', 'index.js'), 'utf8');
    expect(bundle.match(/class EnvHttpProxyAgent extends/g)).toHaveLength(1);
    for (const absent of ['class WebSocket extends', 'class MockAgent extends', 'class CacheStorage', 'class EventSource extends']) expect(bundle).not.toContain(absent);
    const licenses = readFileSync(join(root, 'dist', 'licenses.txt'), 'utf8');
    expect(licenses).toContain('\nundici\nMIT\n');
    expect(licenses).toContain('Copyright (c) Matteo Collina and Undici contributors');
  });
});
