/**
 * Nothing a workflow writes is silently ignored (issue 29): every input of action.yml, in every mode (API key, mutual
 * TLS, broker), is honoured (the parsed result changes with it) or refused (the step fails naming it), as the
 * catalogue src/runner/input-modes.ts declares. A parser that stops reading an input fails this test: see the last case.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseBrokerInputs } from '../src/job/broker-client.js';
import { INPUTS, MODES, type Mode } from '../src/runner/input-modes.js';
import { InputError, parseConfig, parsePreflight, usesBroker, type CertificateLoader, type GetInput } from '../src/runner/inputs.js';
import { makeCert } from '../emulator/pki.js';

const action = parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, { default?: string }> };
const now = new Date('2026-06-01T12:00:00Z');
const run = { repository: 'octo-org/repo', runId: '1', runAttempt: '1', job: 'build' };
const caPem = makeCert({ commonName: 'Test proxy CA', isCa: true }).certPem;

/** The step's view of the mode: what the inputs select, as main, post and preflight do. */
const BASE: Record<Mode, Record<string, string>> = {
  'api-key': { 'api-key': 'bootstrap-key-0123456789', 'service-user-id': 'me' },
  mtls: { 'client-certificate': 'CERTIFICATE', 'service-user-id': 'me' },
  broker: { 'broker-url': 'https://d1-broker.example.com', 'broker-policy': 'release' },
};
/** Values the catalogue cannot hold: made at test time. */
const GENERATED: Record<string, string> = {
  'api-key': 'another-bootstrap-key-0123',
  'client-certificate': 'ANOTHER-CERTIFICATE',
  'client-certificate-password': 'p12-password',
  'client-key': 'KEY',
  'broker-url': 'https://other-broker.example.com',
  'tls-ca-certificates': caPem,
};

/** A stand-in for the PKCS#12/PEM loader: what it was given shows in the result, so its inputs count as honoured. */
const loader: CertificateLoader = (inputs) => ({ tls: { ...inputs } as never, info: { subject: 'CN=test', notAfter: new Date('2030-01-01T00:00:00Z') } as never });

/** The inputs as the runner passes them: every action.yml default, then what the workflow wrote. */
function inputs(given: Record<string, string>): GetInput {
  const all: Record<string, string> = {};
  for (const [name, i] of Object.entries(action.inputs)) all[name] = i.default ?? '';
  Object.assign(all, given);
  return (name) => all[name] ?? '';
}

/** What the step would act on, parsed as it parses it; random name tails made comparable. */
function parsed(getInput: GetInput): string {
  const result = usesBroker(getInput) ? parseBrokerInputs(getInput) : parseConfig(getInput, {}, run, now, getInput('client-certificate').trim() ? loader : undefined);
  return JSON.stringify({ result, preflight: parsePreflight(getInput) }).replace(/[._][0-9a-f]{6}(?=["@])/g, '_R');
}

type Verdict = 'honoured' | { refused: string } | 'silent' | { other: string };

function verdict(mode: Mode, name: string, parse: (g: GetInput) => string = parsed): Verdict {
  const spec = INPUTS[name]!;
  // A refused input is tried alone: its companions (accounts needs scope) may be refused in that mode too.
  const context = spec.refusedIn[mode] === undefined ? { ...BASE[mode], ...spec.with } : BASE[mode];
  const value = GENERATED[name] ?? spec.example!;
  let without: string;
  try {
    without = parse(inputs(context));
  } catch (err) {
    return { other: `the base inputs fail: ${String(err)}` };
  }
  try {
    const withIt = parse(inputs({ ...context, ...(spec.instead ? { [spec.instead]: '' } : {}), [name]: value }));
    return withIt === without ? 'silent' : 'honoured';
  } catch (err) {
    if (err instanceof InputError && err.message.includes(`'${name}'`)) return { refused: err.message };
    return { other: String(err) };
  }
}

describe('every input × every mode: honoured or refused by name, never ignored', () => {
  it('the catalogue and action.yml name the same inputs, with the same defaults', () => {
    expect(Object.keys(INPUTS)).toEqual(Object.keys(action.inputs));
    for (const [name, i] of Object.entries(action.inputs)) expect(INPUTS[name]!.default, name).toBe(i.default ?? '');
    for (const [name, spec] of Object.entries(INPUTS)) expect(GENERATED[name] ?? spec.example, `${name} needs an example value`).toBeTruthy();
  });

  const cases = Object.keys(INPUTS).flatMap((name) => MODES.map((mode) => [name, mode] as const));
  it.each(cases)('%s with %s', (name, mode) => {
    const v = verdict(mode, name);
    const refusedIn = INPUTS[name]!.refusedIn[mode];
    if (refusedIn === undefined) expect(v).toBe('honoured');
    else expect(v).toEqual({ refused: expect.stringContaining(`'${name}'`) });
  });

  it('a broker job: keypair-alias is parsed (the check runs after the exchange); lifetime-days other than its default is refused naming it', () => {
    const broker = (more: Record<string, string>) => parseBrokerInputs(inputs({ ...BASE.broker, ...more }));
    expect(broker({ 'client-certificate-for-job': 'true', 'keypair-alias': 'my-keypair' }).keypairAlias).toBe('my-keypair');
    expect(() => broker({ 'keypair-alias': 'my-keypair' })).toThrow("Input 'keypair-alias': needs client-certificate-for-job: true");
    expect(() => broker({ 'lifetime-days': '3' })).toThrow("Input 'lifetime-days': does not apply with broker-url: the broker's policy sets the end date");
    expect(broker({ 'lifetime-days': '1' }).policy).toBe('release');
  });

  it('with api-key, broker-policy and a client certificate\'s expiry warning are refused, not ignored', () => {
    const config = (more: Record<string, string>) => () => parseConfig(inputs({ ...BASE['api-key'], ...more }), {}, run, now);
    expect(config({ 'broker-policy': 'release' })).toThrow("Input 'broker-policy': does not apply with api-key: it applies only with broker-url.");
    expect(config({ 'client-certificate-expiry-warning-days': '10' })).toThrow("Input 'client-certificate-expiry-warning-days': does not apply with api-key");
    expect(config({ 'client-certificate-expiry-warning-days': '30' })).not.toThrow();
  });

  it('fails when an input is made silent: a parser that no longer reads keypair-alias is caught', () => {
    // The parser as it would be if it stopped reading the input: it sees an empty value whatever the workflow wrote.
    const deaf = (getInput: GetInput) => parsed((n) => (n === 'keypair-alias' ? '' : getInput(n)));
    expect(verdict('broker', 'keypair-alias', deaf)).toBe('silent');
    expect(verdict('api-key', 'keypair-alias', deaf)).toBe('silent');
    expect(verdict('broker', 'keypair-alias')).toBe('honoured');
  });
});
