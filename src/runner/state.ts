/**
 * What main hands to post through GITHUB_STATE: the host and the list of what main made, never a secret.
 *
 * The runner gives post its state as STATE_<name> variables, applied after the job's environment, so a key main
 * did not write could come from an earlier step's GITHUB_ENV. Main therefore writes every key first thing (empty
 * where unused), and post parses what it reads like any other outside value: a list it cannot trust is not acted on.
 */
import { parseId, parseName, parseUtcDay } from '../d1/wire.js';
import { KIND_NAMES, type Made } from '../credentials/index.js';

export const STATE = {
  host: 'host',
  /** Digest of main's proxy settings: post sends the bootstrap credential only along the path main used. */
  network: 'network',
  /** JSON array of Made, in the order main made them. */
  credentials: 'credentials',
  /** With broker-url: {"leases": [...]}, the request ids main sent the broker (never a secret). */
  broker: 'broker',
} as const;

const MAX_STATE = 8 * 1024;
const MAX_RECORDS = 8;

export interface SavedState {
  host: string;
  /** '' when main saved none (it then made nothing). */
  network: string;
  made: Made[];
}

export type LoadedState = { ok: true; state: SavedState } | { ok: false; why: string };

/** Main's first act: every key, empty where unused, so none can come from the job's environment instead. */
export function initState(saveState: (name: string, value: string) => void): void {
  saveState(STATE.host, '');
  saveState(STATE.network, '');
  saveState(STATE.credentials, '[]');
  saveState(STATE.broker, '');
}

export function serializeMade(made: readonly Made[]): string {
  return JSON.stringify(made);
}

function parseMade(x: unknown): Made | undefined {
  if (!x || typeof x !== 'object') return undefined;
  const r = x as Record<string, unknown>;
  const kind = KIND_NAMES.find((k) => k === r.kind);
  const name = parseName(r.name);
  const endDate = r.endDate === '' ? '' : parseUtcDay(r.endDate);
  const id = r.id === '' ? '' : parseId(r.id);
  const userId = r.userId === '' ? '' : parseId(r.userId);
  if (!kind || !name || endDate === undefined || id === undefined || userId === undefined) return undefined;
  // A token is listed under its user: without the user, a lost token could not be found.
  if (kind === 'api-token' && !userId) return undefined;
  return { kind, id, name, userId, endDate };
}

/** Reads and checks the state; `why` (for a warning) when it does not fit what main writes. */
export function loadState(getState: (name: string) => string): LoadedState {
  const host = getState(STATE.host);
  // A host main wrote (parsed by inputs.ts): a name, maybe a port. Anything else is not printed, let alone used.
  if (host !== '' && !/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:\d{1,5})?$/.test(host)) return { ok: false, why: 'the saved host is not a host name main writes' };
  const network = getState(STATE.network);
  if (network !== '' && !/^[0-9a-f]{32}$/.test(network)) return { ok: false, why: 'the saved network digest is not one main writes' };
  const raw = getState(STATE.credentials);
  if (raw === '' || raw === '[]') return { ok: true, state: { host, network, made: [] } };
  if (raw.length > MAX_STATE) return { ok: false, why: 'the saved list of credentials is larger than main ever writes' };
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    return { ok: false, why: 'the saved list of credentials is not the JSON main writes' };
  }
  if (!Array.isArray(list) || list.length > MAX_RECORDS) return { ok: false, why: 'the saved list of credentials is not a list main writes' };
  const made = list.map(parseMade);
  if (made.some((m) => !m)) return { ok: false, why: 'a saved credential has a kind, id, name or end date main never writes' };
  if (network === '') return { ok: false, why: 'credentials were saved without the network digest main saves before any create' };
  return { ok: true, state: { host, network, made: made as Made[] } };
}
