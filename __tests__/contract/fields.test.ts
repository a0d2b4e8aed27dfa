/**
 * The spelling table in fields.ts against the action's client: every spelling it lists as accepted is accepted
 * (so the table states what src/d1/client.ts does), and the emulator's spelling is one of them.
 */
import { virtualClock } from '../support/clock.js';
import { describe, expect, it } from 'vitest';
import { D1Client } from '../../src/d1/client.js';
import type { HttpClient } from '../../src/platform/http.js';
import { FIELDS } from './fields.js';

function answering(body: unknown): HttpClient {
  return { send: async (method) => ({ status: method === 'POST' ? 201 : 200, headers: {}, body }), close: async () => {} };
}
const clock = virtualClock('2026-01-01T00:00:00Z');
const opts = { host: 'h', secrets: [], deadline: clock.now() + 60_000, clock };

describe('the field contract table matches the client', () => {
  for (const rule of FIELDS) {
    it(`${rule.endpoint}: ${rule.field} (${rule.accepted.join(' / ')})`, async () => {
      expect(rule.accepted).toContain(rule.emulator);
      for (const spelling of rule.accepted) {
        expect(await rule.read(new D1Client(answering(rule.answer(spelling)), opts)), `spelling ${spelling}`).toEqual(rule.expect);
      }
      // And a spelling the table does not list is not read: the call fails (naming the fields present) or the
      // value is missing. (List items lacking a field are dropped or read as empty today, not refused.)
      const read = await rule.read(new D1Client(answering(rule.answer('zz_unlisted')), opts)).then(
        (v) => v,
        (err: Error) => `refused: ${err.message}`,
      );
      expect(read).not.toEqual(rule.expect);
      if (rule.required && rule.where === 'top') expect(read).toMatch(/^refused: .*fields present: .*zz_unlisted/);
    });
  }
});
