/**
 * The field NAMES of a server answer, never its values: what preflight, the contract suite and request tracing
 * print so that a tenant answering differently can be reported in one paste. Names come from outside, so each is
 * kept only if it looks like a JSON key (anything else is shown as `?`), and the list is capped.
 */
export interface AnswerShape {
  kind: 'object' | 'array' | 'empty' | 'other';
  /** Top-level keys of an object; for an array, the union of its object items' keys. */
  names: string[];
  /** For an array: how many items it had. */
  items?: number;
}

export const FIELD_NAMES_MAX = 40;
const KEY = /^[A-Za-z0-9_$@.-]{1,64}$/;

function addKeys(into: string[], obj: object): void {
  for (const k of Object.keys(obj)) {
    const name = KEY.test(k) ? k : '?';
    if (!into.includes(name)) into.push(name);
  }
}

export function answerShape(body: unknown): AnswerShape {
  if (body === undefined || body === null || body === '') return { kind: 'empty', names: [] };
  if (Array.isArray(body)) {
    const names: string[] = [];
    for (const item of body) if (item && typeof item === 'object' && !Array.isArray(item)) addKeys(names, item);
    return { kind: 'array', names, items: body.length };
  }
  if (typeof body === 'object') {
    const names: string[] = [];
    addKeys(names, body);
    return { kind: 'object', names };
  }
  return { kind: 'other', names: [] };
}

/** One short, log-safe phrase: `fields id, name` / `array of 2 with fields id, name` / `empty body`. */
export function describeShape(s: AnswerShape): string {
  const shown = s.names.slice(0, FIELD_NAMES_MAX).join(', ') + (s.names.length > FIELD_NAMES_MAX ? `, … (+${s.names.length - FIELD_NAMES_MAX})` : '');
  switch (s.kind) {
    case 'empty':
      return 'empty body';
    case 'other':
      return 'a body that is not JSON';
    case 'array':
      return s.items ? `array of ${s.items} with fields ${shown || '(none)'}` : 'empty array (no item fields to show)';
    default:
      return `fields ${shown || '(none)'}`;
  }
}
