/**
 * File commands (GITHUB_PATH, GITHUB_ENV, GITHUB_STEP_SUMMARY, GITHUB_STATE, GITHUB_OUTPUT) as the runner reads
 * them after a step. Source: actions/runner 2.336.0, src/Runner.Worker/FileCommandManager.cs (EnvFileKeyValuePairs,
 * the extensions, ProcessFiles) and src/Runner.Common/ExtensionManager.cs (the order they are processed in).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { StepContext } from './workflow-commands.js';

/** The runner names each file <prefix><guid> in RUNNER_TEMP/_runner_file_commands. */
export const FILE_COMMAND_DIR = '_runner_file_commands';
export const FILE_COMMANDS = [
  // ExtensionManager order: path, env, step summary, state, output.
  { context: 'path', variable: 'GITHUB_PATH', prefix: 'add_path_' },
  { context: 'env', variable: 'GITHUB_ENV', prefix: 'set_env_' },
  { context: 'step_summary', variable: 'GITHUB_STEP_SUMMARY', prefix: 'step_summary_' },
  { context: 'state', variable: 'GITHUB_STATE', prefix: 'save_state_' },
  { context: 'output', variable: 'GITHUB_OUTPUT', prefix: 'set_output_' },
] as const;
export type FileCommandName = (typeof FILE_COMMANDS)[number]['context'];

/**
 * EnvFileKeyValuePairs: `NAME=VALUE` (split at the first '=') or `NAME<<DELIMITER` … `DELIMITER` lines.
 * Yields pair by pair and throws at the first malformed line, so pairs before it are already applied.
 * Lines end at LF only (CRLF is a Windows-only rule); `=value` gives the empty name (the runner's check is on the line).
 */
export function* envFilePairs(text: string): Generator<[string, string]> {
  let index = 0;
  const readLine = (): { line: string; newline: boolean } | undefined => {
    if (index >= text.length) return undefined;
    const lf = text.indexOf('\n', index);
    const from = index;
    if (lf < 0) {
      index = text.length;
      return { line: text.slice(from), newline: false };
    }
    index = lf + 1;
    return { line: text.slice(from, lf), newline: true };
  };
  for (let r = readLine(); r !== undefined; r = readLine()) {
    const line = r.line;
    if (!line) continue;
    const eq = line.indexOf('=');
    const heredoc = line.indexOf('<<');
    if (eq >= 0 && (heredoc < 0 || eq < heredoc)) {
      yield [line.slice(0, eq), line.slice(eq + 1)];
    } else if (heredoc >= 0 && (eq < 0 || heredoc < eq)) {
      const key = line.slice(0, heredoc);
      const delimiter = line.slice(heredoc + 2);
      if (!key || !delimiter) throw new Error(`Invalid format '${line}'. Name must not be empty and delimiter must not be empty`);
      const start = index;
      let end = index;
      for (let t = readLine(); t?.line !== delimiter; t = readLine()) {
        if (t === undefined) throw new Error(`Invalid value. Matching delimiter not found '${delimiter}'`);
        if (!t.newline) throw new Error('Invalid value. EOF marker missing new line.');
        end = index - 1;
      }
      yield [key, end > start ? text.slice(start, end) : ''];
    } else {
      throw new Error(`Invalid format '${line}'`);
    }
  }
}

/** All pairs of a file command file, later names winning; throws the runner's message on a malformed file. */
export function parseCommandFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of envFilePairs(text)) out[k] = v;
  return out;
}

export interface FileCommandEffects {
  /** GITHUB_PATH lines in order (the runner prepends them, last added first). */
  path: string[];
  /** GITHUB_ENV pairs the runner accepted (NODE_OPTIONS refused). */
  env: Record<string, string>;
  state: Record<string, string>;
  outputs: Record<string, string>;
  /** The summary as the runner uploads it: each line masked. Empty when nothing would be uploaded. */
  summary: string;
}

export const STEP_SUMMARY_LIMIT = 1024 * 1024;

/** FileCommandManager.ProcessFiles: each extension in turn; an exception fails the step and stops only that file. */
export function processFileCommands(ctx: StepContext, paths: Record<FileCommandName, string>): FileCommandEffects {
  const fx: FileCommandEffects = { path: [], env: {}, state: {}, outputs: {}, summary: '' };
  const read = (p: string): string => (existsSync(p) ? readFileSync(p, 'utf8') : '');
  const handlers: Record<FileCommandName, (file: string) => void> = {
    path: (file) => {
      for (const line of read(file).split(/\r?\n/)) {
        if (!line) continue;
        const i = fx.path.indexOf(line);
        if (i >= 0) fx.path.splice(i, 1);
        fx.path.push(line);
      }
    },
    env: (file) => {
      for (const [k, v] of envFilePairs(read(file))) {
        if (k.toUpperCase() === 'NODE_OPTIONS') {
          ctx.issue('error', "Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command.");
          continue;
        }
        fx.env[k] = v;
        ctx.debugLine(`${k}='${v}'`);
      }
    },
    step_summary: (file) => {
      if (!existsSync(file)) return;
      const size = statSync(file).size;
      if (size === 0) return;
      if (size > STEP_SUMMARY_LIMIT) {
        ctx.issue('error', `$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of ${STEP_SUMMARY_LIMIT / 1024}k, got ${Math.floor(size / 1024)}k. For more information see: https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions#adding-a-markdown-summary`);
        return;
      }
      fx.summary = read(file).split(/\r?\n/).map((l) => ctx.masker.mask(l)).join('\n');
    },
    state: (file) => {
      for (const [k, v] of envFilePairs(read(file))) {
        fx.state[k] = v;
        ctx.debugLine(`Save intra-action state ${k} = ${v}`);
      }
    },
    output: (file) => {
      for (const [k, v] of envFilePairs(read(file))) {
        fx.outputs[k] = v;
        ctx.debugLine(`Set output ${k} = ${v}`);
      }
    },
  };
  for (const fc of FILE_COMMANDS) {
    try {
      handlers[fc.context](paths[fc.context]);
    } catch (e) {
      ctx.issue('error', `Unable to process file command '${fc.context}' successfully.`);
      ctx.issue('error', (e as Error).message);
      ctx.commandFailed = true;
    }
  }
  return fx;
}
