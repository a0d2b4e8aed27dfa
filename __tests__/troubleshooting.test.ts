/**
 * docs/troubleshooting.md has every message the action and the broker can print (issue 29): the messages are
 * collected from the source (__tests__/support/messages.ts), and each one's first words must be on the page, so a new
 * message cannot be missing from it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collectMessages, comparable, firstWords } from './support/messages.js';

const page = comparable(readFileSync('docs/troubleshooting.md', 'utf8'));

describe('docs/troubleshooting.md', () => {
  const messages = collectMessages();

  it('finds the messages of every layer that prints one', () => {
    expect(messages.length).toBeGreaterThan(120);
    for (const file of ['src/runner/inputs.ts', 'src/d1/client.ts', 'src/job/broker-client.ts', 'src/job/keypair-check.ts', 'src/steps/post.ts', 'broker/server.ts', 'broker/config.ts', 'broker/policy.ts']) {
      expect(messages.some((m) => m.file === file), file).toBe(true);
    }
  });

  it('holds the first words of every message', () => {
    const missing = messages.filter((m) => !page.includes(comparable(m.words))).map((m) => `${m.file}:${m.line} ${m.kind}: "${m.words}"`);
    expect(missing).toEqual([]);
  });

  it('the first words are those of the literal text, not of an expression', () => {
    expect(firstWords("'api-key', `is ${x} too long for the input`")).toBe('too long for the');
    expect(firstWords("name, `'${alias}' is not a keypair here`")).toBe('is not a keypair');
    expect(firstWords("'x'")).toBeUndefined();
  });
});
