/**
 * The field NAMES of a server answer, never its values: what preflight, the contract suite and request tracing
 * print so that a tenant answering differently can be reported in one paste. Names come from outside, so each is
 * kept only if it looks like a JSON key (anything else is shown as `?`), and the list is capped.
 */
export interface AnswerShape {
  kind: 'object' | 'array' | 'empty' | 'other';
  /** Top-level keys of an object; for an array, the union of its object items' keys: the first FIELD_NAMES_MAX. */
  names: string[];
  /** How many distinct names there were beyond `names`. */
  more?: number;
  /** For an array: how many items it had. */
  items?: number;
}

export const FIELD_NAMES_MAX = 40;
const KEY = /^[A-Za-z0-9_$@.-]{1,64}$/;

/**
 * Linear in the answer's size (a Set, not a list search: a hostile 1 MiB answer has ~100,000 keys, and a quadratic
 * walk of them took seconds of CPU); only the first FIELD_NAMES_MAX names are kept, the rest counted.
 */
function collect(objects: Iterable<unknown>): Pick<AnswerShape, 'names' | 'more'> {
  const seen = new Set<string>();
  for (const obj of objects) {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) continue;
    for (const k of Object.keys(obj)) seen.add(KEY.test(k) ? k : '?');
  }
  const all = [...seen];
  return all.length > FIELD_NAMES_MAX ? { names: all.slice(0, FIELD_NAMES_MAX), more: all.length - FIELD_NAMES_MAX } : { names: all };
}

export function answerShape(body: unknown): AnswerShape {
  if (body === undefined || body === null || body === '') return { kind: 'empty', names: [] };
  if (Array.isArray(body)) return { kind: 'array', ...collect(body), items: body.length };
  if (typeof body === 'object') return { kind: 'object', ...collect([body]) };
  return { kind: 'other', names: [] };
}

/** `id, name` or `f0, f1, … (+79960 more)`. */
export function fieldList(s: AnswerShape): string {
  return s.names.join(', ') + (s.more ? `, … (+${s.more} more)` : '');
}

/** One short, log-safe phrase: `fields id, name` / `array of 2 with fields id, name` / `empty body`. */
export function describeShape(s: AnswerShape): string {
  const shown = fieldList(s);
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
