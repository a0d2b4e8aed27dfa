/**
 * Reads action.yml as the runner does before a step: the declared inputs (every one gets a value: its `default:`,
 * or '' when it has none), their deprecation messages, and the post step's condition.
 * Source: actions/runner 2.336.0 (258d6c857db3519913f7deb6004b60172f8043ae),
 * src/Runner.Worker/ActionManifestManager.cs (ConvertInputs, ConvertRuns) and ActionRunner.cs (RunAsync).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface ActionDefinition {
  /** Input names as action.yml spells them, in file order. */
  inputNames: string[];
  /** ConvertInputs: an input without `default:` gets '' (a StringToken of ''), so every input reaches the step. */
  defaults: Record<string, string>;
  /** Input name → deprecationMessage. */
  deprecated: Record<string, string>;
  /** ConvertRuns: `post-if`, or `always()` when absent. */
  postIf: string;
  hasPost: boolean;
  using: string;
  /** runs.main and runs.post: the files the runner starts for each step, relative to the action's folder. */
  main: string;
  post: string | undefined;
}

/** Parses action.yml text. A default that is an expression (`${{ … }}`) is refused: the model cannot evaluate it. */
export function parseActionDefinition(text: string): ActionDefinition {
  const doc = parse(text) as { inputs?: Record<string, Record<string, unknown> | null>; runs?: Record<string, unknown> };
  if (!doc || typeof doc !== 'object' || !doc.runs) throw new Error("Top level 'runs:' section is required");
  const inputNames: string[] = [];
  const defaults: Record<string, string> = {};
  const deprecated: Record<string, string> = {};
  for (const [name, meta] of Object.entries(doc.inputs ?? {})) {
    inputNames.push(name);
    const d = meta?.default;
    if (typeof d === 'string' && d.includes('${{')) throw new Error(`input '${name}': expression defaults are not modelled`);
    // YAML scalars: the runner's template reader keeps the literal text; `default: 24` and `'24'` both arrive as "24".
    defaults[name] = d === undefined || d === null ? '' : String(d);
    if (typeof meta?.deprecationMessage === 'string') deprecated[name] = meta.deprecationMessage;
  }
  const runs = doc.runs;
  return {
    inputNames,
    defaults,
    deprecated,
    postIf: typeof runs['post-if'] === 'string' ? runs['post-if'] : 'always()',
    hasPost: typeof runs.post === 'string',
    using: String(runs.using ?? ''),
    main: String(runs.main ?? ''),
    post: typeof runs.post === 'string' ? runs.post : undefined,
  };
}

export function loadActionDefinition(path: string): ActionDefinition {
  return parseActionDefinition(readFileSync(path, 'utf8'));
}

export interface ResolvedInputs {
  /** What the step receives: `with:` values, then every declared input not given, from its default. */
  inputs: Record<string, string>;
  /** Warnings the runner prints before the step runs (unexpected and deprecated inputs). */
  warnings: string[];
}

/**
 * ActionRunner.RunAsync: user inputs first; names compared case-insensitively; each declared input missing from
 * `with:` is added from its default. `required:` is never read by the runner (no check, no warning).
 */
export function resolveInputs(def: ActionDefinition, given: Record<string, string>): ResolvedInputs {
  const inputs: Record<string, string> = { ...given };
  const givenLower = new Set(Object.keys(given).map((k) => k.toLowerCase()));
  const warnings: string[] = [];
  for (const name of Object.keys(given)) {
    const dep = Object.entries(def.deprecated).find(([k]) => k.toLowerCase() === name.toLowerCase());
    if (dep) warnings.push(`Input '${name}' has been deprecated with message: ${dep[1]}`);
  }
  for (const name of def.inputNames) if (!givenLower.has(name.toLowerCase())) inputs[name] = def.defaults[name] ?? '';
  const valid = new Set(def.inputNames.map((n) => n.toLowerCase()));
  const unexpected = Object.keys(given).filter((k) => !valid.has(k.toLowerCase()));
  if (unexpected.length > 0) {
    warnings.push(`Unexpected input(s) '${unexpected.join("', '")}', valid inputs are ['${def.inputNames.join("', '")}']`);
  }
  return { inputs, warnings };
}

/** Handler.AddInputsToEnvironment: INPUT_ + name with spaces as '_', upper-cased (dashes stay). */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}
