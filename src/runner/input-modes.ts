/**
 * Every input of action.yml, once: its type, its default (the runner passes it as if the user wrote it) and, for each
 * way to authenticate (mode), whether the input is honoured or refused. A refused input with a value other than its
 * default fails the step naming it, so nothing a workflow writes is silently ignored (issue 29).
 *
 * action.yml holds each input's name, default and description (what the runner and users read); this table holds
 * what the code needs besides. __tests__/input-modes.test.ts checks that the two name the same inputs with the same
 * defaults, and runs every input in every mode through the parsers: honoured must change the parsed result,
 * refused must throw naming the input. `npm run docs` writes the honour/refuse table into docs/inputs.md and
 * docs/broker.md from here.
 */
import { InputError } from '../platform/input-error.js';

export const MODES = ['api-key', 'mtls', 'broker'] as const;
export type Mode = (typeof MODES)[number];
export const MODE_NAMES: Record<Mode, string> = { 'api-key': 'API key (`api-key`)', mtls: 'mutual TLS (`client-certificate`)', broker: 'broker (`broker-url`)' };

export type InputType = 'secret' | 'text' | 'bool' | 'int' | 'host' | 'url' | 'pem' | 'list' | 'name';

export interface InputSpec {
  type: InputType;
  /** action.yml's default, as the runner passes it; '' when it has none. */
  default: string;
  /** Modes that refuse the input (a value other than the default fails the step); the rest honour it. */
  refusedIn: Partial<Record<Mode, string>>;
  /** A valid value other than the default, for the input × mode test (generated values for secrets and PEM). */
  example?: string;
  /** Other inputs the example needs in order to take effect (e.g. accounts needs scope). */
  with?: Record<string, string>;
  /** The input this one replaces (scope instead of service-user-id): emptied when the example is given. */
  instead?: string;
}

const BOOTSTRAP_ONLY = 'the broker holds the DigiCert ONE credential; the job holds none.';
const POLICY_DECIDES = "the broker's policy decides it. Leave it empty.";
const BROKER_ONLY = 'it applies only with broker-url.';

export const INPUTS: Record<string, InputSpec> = {
  'api-key': { type: 'secret', default: '', refusedIn: { mtls: 'give one bootstrap credential.', broker: BOOTSTRAP_ONLY } },
  'client-certificate': { type: 'secret', default: '', refusedIn: { 'api-key': 'give one bootstrap credential.', broker: BOOTSTRAP_ONLY } },
  'client-certificate-password': { type: 'secret', default: '', refusedIn: { 'api-key': 'it belongs to client-certificate.', broker: BOOTSTRAP_ONLY } },
  'client-key': { type: 'secret', default: '', refusedIn: { 'api-key': 'it belongs to client-certificate.', broker: BOOTSTRAP_ONLY } },
  'broker-url': { type: 'url', default: '', refusedIn: { 'api-key': 'give one way to authenticate.', mtls: 'give one way to authenticate.' } },
  'broker-policy': { type: 'name', default: '', refusedIn: { 'api-key': BROKER_ONLY, mtls: BROKER_ONLY }, example: 'other-policy' },
  'broker-audience': { type: 'text', default: '', refusedIn: { 'api-key': BROKER_ONLY, mtls: BROKER_ONLY }, example: 'https://aud.example.com' },
  'client-certificate-expiry-warning-days': {
    type: 'int',
    default: '30',
    refusedIn: { 'api-key': 'it is about the bootstrap client-certificate, which this job does not use.', broker: 'it is about the bootstrap client-certificate, which the broker holds.' },
    example: '10',
  },
  host: { type: 'host', default: '', refusedIn: { broker: POLICY_DECIDES }, example: 'demo.one.digicert.com' },
  'tls-ca-certificates': { type: 'pem', default: '', refusedIn: {} },
  'service-user-id': { type: 'text', default: '', refusedIn: { broker: POLICY_DECIDES }, example: '5b1c0e2a-8f3d-4c1e-9a7b-2d6f0e1c3b4a' },
  scope: { type: 'list', default: '', refusedIn: { broker: POLICY_DECIDES }, example: 'Software Trust: Signer', instead: 'service-user-id' },
  accounts: { type: 'list', default: '', refusedIn: { broker: POLICY_DECIDES }, example: 'acct-1', with: { scope: 'Software Trust: Signer', 'service-user-id': '' } },
  'service-user-email': { type: 'text', default: '', refusedIn: { broker: POLICY_DECIDES }, example: 'ci@example.com', with: { scope: 'Software Trust: Signer', 'service-user-id': '' } },
  'token-name-prefix': { type: 'name', default: '', refusedIn: { broker: POLICY_DECIDES }, example: 'release' },
  'lifetime-days': {
    type: 'int',
    default: '1',
    // The job cannot ask the broker for an end date (its API has no such field): the policy's lifetimeDays sets it.
    refusedIn: { broker: "the broker's policy sets the end date (its lifetimeDays); leave lifetime-days out, or ask the broker's operator to change the policy." },
    example: '3',
  },
  'skip-revoke': { type: 'bool', default: 'false', refusedIn: {}, example: 'true' },
  'client-certificate-for-job': { type: 'bool', default: 'false', refusedIn: {}, example: 'true' },
  'keypair-alias': { type: 'name', default: '', refusedIn: {}, example: 'my-keypair', with: { 'client-certificate-for-job': 'true' } },
  'export-env': { type: 'bool', default: 'false', refusedIn: {}, example: 'true' },
  'timeout-seconds': { type: 'int', default: '60', refusedIn: {}, example: '30' },
  'cleanup-stale': { type: 'bool', default: 'false', refusedIn: { broker: "the broker's sweeper revokes what runs left behind." }, example: 'true' },
  'stale-after-hours': { type: 'int', default: '', refusedIn: { broker: "the broker's sweeper revokes what runs left behind." }, example: '48', with: { 'cleanup-stale': 'true' } },
  'expiry-warning-days': { type: 'int', default: '', refusedIn: { broker: "it is about the bootstrap user, which the broker's operator watches." }, example: '5' },
  preflight: { type: 'bool', default: 'false', refusedIn: {}, example: 'true' },
  'job-summary': { type: 'bool', default: 'true', refusedIn: {}, example: 'false' },
};

/** Whether a value is the input's default as the runner passes it (true/TRUE alike; 30 and 030 alike). */
function isDefault(spec: InputSpec, value: string): boolean {
  const v = value.trim();
  if (v === spec.default) return true;
  if (spec.type === 'bool') return v.toLowerCase() === spec.default;
  if (spec.type === 'int' && spec.default !== '' && /^\d+$/.test(v)) return Number(v) === Number(spec.default);
  return false;
}

const MODE_TEXT: Record<Mode, string> = { 'api-key': 'with api-key', mtls: 'with client-certificate', broker: 'with broker-url' };

/** Throws an InputError naming the first input that this mode refuses and the workflow set to other than its default. */
export function refuseInapplicable(getInput: (name: string) => string, mode: Mode): void {
  for (const [name, spec] of Object.entries(INPUTS)) {
    const why = spec.refusedIn[mode];
    if (why === undefined) continue;
    const value = getInput(name);
    if (value.trim() === '' || isDefault(spec, value)) continue;
    throw new InputError(name, `does not apply ${MODE_TEXT[mode]}: ${why}`);
  }
}

/** The honour/refuse table for docs (scripts/docs.ts). */
export function renderModeTable(modes: readonly Mode[] = MODES): string {
  const rows = [`| input | ${modes.map((m) => MODE_NAMES[m]).join(' | ')} |`, `|---|${modes.map(() => '---').join('|')}|`];
  for (const [name, spec] of Object.entries(INPUTS)) {
    rows.push(`| \`${name}\` | ${modes.map((m) => (spec.refusedIn[m] === undefined ? 'honoured' : `refused: ${spec.refusedIn[m]!.replace(/\|/g, '\\|')}`)).join(' | ')} |`);
  }
  return rows.join('\n');
}
