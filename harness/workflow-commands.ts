/**
 * Workflow commands on a step's stdout and stderr, as the runner reads them.
 * Sources (actions/runner 2.336.0, 258d6c857db3519913f7deb6004b60172f8043ae):
 * - src/Runner.Common/ActionCommand.cs: TryParseV2 (`::name k=v,k=v::data` after leading white space) and TryParse
 *   (legacy `##[name k=v;k=v]data` anywhere in the line); the three unescape tables.
 * - src/Runner.Worker/ActionCommandManager.cs: stop-commands/resume token, the command extensions (add-mask, debug,
 *   warning/error/notice with ValidateLinesAndColumns, save-state, set-output, set-env/add-path refused, echo,
 *   group/endgroup, add/remove-matcher), OmitEcho, and "Unable to process command" failing the step.
 * - src/Runner.Worker/Handlers/OutputManager.cs: both streams go through the same command manager; the
 *   `##[start-action`/`##[end-action` markers in user output are defused.
 * - src/Runner.Worker/ExecutionContext.cs: AddIssue (masked, capped at 4096 characters, 10 annotations per type
 *   kept), Write (every log line masked), Debug (only with ACTIONS_STEP_DEBUG).
 */
import type { SecretMasker } from './secret-masker.js';

export interface WorkflowCommand {
  name: string;
  properties: Record<string, string>;
  data: string;
}

export type AnnotationLevel = 'error' | 'warning' | 'notice';
export interface Annotation {
  level: AnnotationLevel;
  message: string;
  properties: Record<string, string>;
}

/** Commands registered by ExtensionManager (internal-set-repo-path is registered only for plugins). */
export const REGISTERED_COMMANDS = [
  'stop-commands', 'set-env', 'set-output', 'save-state', 'add-path', 'add-mask', 'add-matcher', 'remove-matcher',
  'warning', 'error', 'notice', 'debug', 'group', 'endgroup', 'echo',
] as const;

const unescapeBy = (s: string, table: [string, string][]): string => table.reduce((acc, [from, to]) => acc.split(from).join(to), s);
// Order matters and is the runner's: %25 last, so "%250A" becomes "%0A", not a line break.
const DATA: [string, string][] = [['%0D', '\r'], ['%0A', '\n'], ['%25', '%']];
const PROPERTY: [string, string][] = [['%0D', '\r'], ['%0A', '\n'], ['%3A', ':'], ['%2C', ','], ['%25', '%']];
const LEGACY: [string, string][] = [['%3B', ';'], ['%0D', '\r'], ['%0A', '\n'], ['%5D', ']'], ['%25', '%']];

/** Property names compare case-insensitively in the runner; the first spelling seen is kept here. */
function setProperty(props: Record<string, string>, key: string, value: string): void {
  const existing = Object.keys(props).find((k) => k.toLowerCase() === key.toLowerCase());
  props[existing ?? key] = value;
}

/** `::name k=v,k=v::data`, after leading white space. Unregistered names are not commands. */
export function parseCommandV2(line: string, registered: ReadonlySet<string>): WorkflowCommand | undefined {
  const message = line.trimStart();
  if (!message.startsWith('::')) return undefined;
  const end = message.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = message.slice(2, end);
  const space = info.indexOf(' ');
  const name = space < 0 ? info : info.slice(0, space);
  if (!registered.has(name.toLowerCase())) return undefined;
  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const part of info.slice(space + 1).trim().split(',').filter(Boolean)) {
      const eq = part.indexOf('=');
      // Split('=', 2, RemoveEmptyEntries): "k=" and "=v" carry no pair.
      if (eq > 0 && eq < part.length - 1) setProperty(properties, part.slice(0, eq), unescapeBy(part.slice(eq + 1), PROPERTY));
    }
  }
  return { name, properties, data: unescapeBy(message.slice(end + 2), DATA) };
}

/** Legacy `##[name k=v;k=v]data`, found anywhere in the line. */
export function parseCommandLegacy(line: string, registered: ReadonlySet<string>): WorkflowCommand | undefined {
  const start = line.indexOf('##[');
  if (start < 0) return undefined;
  const rb = line.indexOf(']', start);
  if (rb < 0) return undefined;
  const info = line.slice(start + 3, rb);
  const space = info.indexOf(' ');
  const name = space < 0 ? info : info.slice(0, space);
  if (!registered.has(name.toLowerCase())) return undefined;
  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const part of info.slice(space + 1).split(';').filter(Boolean)) {
      const eq = part.indexOf('=');
      if (eq > 0 && eq < part.length - 1) setProperty(properties, part.slice(0, eq), unescapeBy(part.slice(eq + 1), LEGACY));
    }
  }
  return { name, properties, data: unescapeBy(line.slice(rb + 1), LEGACY) };
}

const get = (props: Record<string, string>, key: string): string | undefined =>
  Object.entries(props).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
const del = (props: Record<string, string>, key: string): void => {
  for (const k of Object.keys(props)) if (k.toLowerCase() === key.toLowerCase()) delete props[k];
};

/** What one step's execution context collects (the model of ExecutionContext for a step). */
export class StepContext {
  readonly log: string[] = [];
  readonly annotations: Annotation[] = [];
  readonly debug: string[] = [];
  readonly commands: WorkflowCommand[] = [];
  /** Values this step asked the masker to hide (::add-mask:: and its lines, long stop tokens), even if already known. */
  readonly masked: string[] = [];
  /** IntraActionState written by ::save-state:: (GITHUB_STATE adds to the same map after the step). */
  readonly state: Record<string, string> = {};
  readonly legacyOutputs: Record<string, string> = {};
  /** CommandResult = Failed: a command or file command could not be processed. */
  commandFailed = false;
  echo: boolean;
  private readonly counts: Record<AnnotationLevel, number> = { error: 0, warning: 0, notice: 0 };

  constructor(
    readonly masker: SecretMasker,
    readonly stepDebug: boolean,
    /** env context of the step, for ACTIONS_ALLOW_UNSECURE_* switches. */
    readonly envContext: Readonly<Record<string, string>>,
  ) {
    this.echo = stepDebug; // InitializeJob: EchoOnActionCommand defaults to Step_Debug
  }

  /** ExecutionContext.Write: every line is masked when written. */
  write(tag: string, message: string): void {
    this.log.push(this.masker.mask(tag + message));
  }

  output(line: string): void {
    this.write('', line);
  }

  debugLine(message: string): void {
    for (const line of message.replace(/\r\n/g, '\n').split('\n')) {
      const masked = this.masker.mask(line);
      this.debug.push(masked);
      if (this.stepDebug) this.log.push(`##[debug]${masked}`);
    }
  }

  /**
   * AddIssue. The raw log holds `##[warning]message`; this model writes what the web log shows for it,
   * `Warning: message`, so tests read the log as a person does.
   */
  issue(level: AnnotationLevel, message: string, properties: Record<string, string> = {}): void {
    let text = this.masker.mask(message);
    if (text.length > 4096) text = text.slice(0, 4096);
    if (this.counts[level] < 10) {
      this.counts[level]++;
      this.annotations.push({ level, message: text, properties });
    }
    if (text) this.write(`${level[0]!.toUpperCase()}${level.slice(1)}: `, text);
  }
}

/** The command manager of one step (Handler.Initialize creates one per step; stdout and stderr share it). */
export class CommandProcessor {
  private readonly registered = new Set<string>(REGISTERED_COMMANDS);
  private stopToken: string | undefined;

  constructor(private readonly ctx: StepContext) {}

  /** OutputManager.OnDataReceived for one line of either stream. */
  line(raw: string): void {
    let line = raw;
    if (line && (line.includes('##[') || line.includes('::')) && this.tryProcess(line)) return;
    if (line.includes('##[start-action') || line.includes('##[end-action')) {
      line = line.replace(/##\[start-action/g, '##[\\start-action').replace(/##\[end-action/g, '##[\\end-action');
    }
    this.ctx.output(line);
  }

  private allowed(variable: string): boolean {
    const v = process.env[variable] ?? this.ctx.envContext[variable];
    return (v ?? '').trim().toLowerCase() === 'true';
  }

  private tryProcess(input: string): boolean {
    const cmd = parseCommandV2(input, this.registered) ?? parseCommandLegacy(input, this.registered);
    if (!cmd) return false;
    const name = cmd.name.toLowerCase();
    const ctx = this.ctx;
    if (this.stopToken !== undefined) {
      if (name === this.stopToken.toLowerCase()) {
        ctx.output(input);
        ctx.debugLine('Resume processing commands');
        this.registered.delete(this.stopToken.toLowerCase());
        this.stopToken = undefined;
        ctx.commands.push(cmd);
        return true;
      }
      ctx.debugLine(`Process commands has been stopped and waiting for '##[${this.stopToken}]' to resume.`);
      return false;
    }
    ctx.commands.push(cmd);
    if (name === 'stop-commands') {
      const token = cmd.data;
      const invalid = !token || this.registered.has(token.toLowerCase()) || token.toLowerCase() === 'pause-logging';
      if (invalid && !this.allowed('ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS')) {
        // ValidateStopToken throws outside the extension's try/catch; the model reports it as a failed command.
        ctx.issue('error', "You cannot use a endToken that is an empty string, the string 'pause-logging', or another workflow command.");
        ctx.commandFailed = true;
        return true;
      }
      this.stopToken = token;
      this.registered.add(token.toLowerCase());
      if (token.length > 6) {
        ctx.masker.add(token);
        ctx.masked.push(token);
      }
      ctx.output(input);
      ctx.debugLine('Paused processing commands until the token you called ::stopCommands:: with is received');
      return true;
    }
    const omitEcho = ['add-mask', 'debug', 'warning', 'error', 'notice'].includes(name);
    if (ctx.echo && !omitEcho) ctx.output(input);
    try {
      this.run(name, cmd);
    } catch (e) {
      ctx.issue('error', `Unable to process command '${omitEcho ? name : input}' successfully.`);
      ctx.issue('error', (e as Error).message);
      ctx.commandFailed = true;
    }
    return true;
  }

  private run(name: string, cmd: WorkflowCommand): void {
    const ctx = this.ctx;
    const p = cmd.properties;
    switch (name) {
      case 'add-mask':
        if (!cmd.data.trim()) {
          ctx.issue('warning', "Can't add secret mask for empty string in ##[add-mask] command.");
          return;
        }
        if (ctx.echo) ctx.output('::add-mask::***');
        ctx.masker.add(cmd.data);
        ctx.masked.push(cmd.data);
        // Each line too (trimmed, empty ones dropped): a multi-line secret is printed line by line.
        for (const part of cmd.data.split(/[\r\n]/)) {
          if (!part.trim()) continue;
          ctx.masker.add(part.trim());
          ctx.masked.push(part.trim());
        }
        return;
      case 'debug':
        ctx.debugLine(cmd.data);
        return;
      case 'warning':
      case 'error':
      case 'notice':
        validateLinesAndColumns(cmd, (m) => ctx.debugLine(m));
        ctx.issue(name, cmd.data, { ...p });
        return;
      case 'save-state':
      case 'set-output': {
        // github.com sets DistributedTask.DeprecateStepOutputCommands: the command still works, with a warning.
        ctx.issue('warning', `The \`${name}\` command is deprecated and will be disabled soon. Please upgrade to using Environment Files. For more information see: https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/`);
        const key = get(p, 'name');
        if (!key) throw new Error(`Required field 'name' is missing in ##[${name}] command.`);
        if (name === 'save-state') ctx.state[key] = cmd.data;
        else ctx.legacyOutputs[key] = cmd.data;
        return;
      }
      case 'set-env':
      case 'add-path':
        if (!this.allowed('ACTIONS_ALLOW_UNSECURE_COMMANDS')) {
          throw new Error(`The \`${name}\` command is disabled. Please upgrade to using Environment Files or opt into unsecure command execution by setting the \`ACTIONS_ALLOW_UNSECURE_COMMANDS\` environment variable to \`true\`. For more information see: https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/`);
        }
        throw new Error(`${name} with ACTIONS_ALLOW_UNSECURE_COMMANDS is not modelled`);
      case 'echo': {
        const v = cmd.data.trim().toUpperCase();
        if (v === 'ON') ctx.echo = true;
        else if (v === 'OFF') ctx.echo = false;
        else throw new Error(`Invalid echo command value. Possible values can be: 'on', 'off'. Current value is: '${cmd.data}'.`);
        return;
      }
      case 'group':
        ctx.output(`##[group]${cmd.data}`);
        return;
      case 'endgroup':
        ctx.output('##[endgroup]');
        return;
      case 'add-matcher':
      case 'remove-matcher':
        return; // problem matchers are left out of the model
    }
  }
}

/** IssueCommandExtension.ValidateLinesAndColumns: fixes or drops inconsistent line/column properties. */
export function validateLinesAndColumns(cmd: WorkflowCommand, debug: (m: string) => void): void {
  const p = cmd.properties;
  const num = (k: string): number | undefined => {
    const v = get(p, k);
    return v !== undefined && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : undefined;
  };
  let line = get(p, 'line');
  const endLine = get(p, 'endLine');
  let hasLine = num('line') !== undefined;
  const hasEndLine = num('endLine') !== undefined;
  let hasCol = num('col') !== undefined;
  const hasEndCol = num('endColumn') !== undefined;
  const hasColumn = hasCol || hasEndCol;
  if (hasEndLine && !hasLine) {
    debug(`Invalid ${cmd.name} command value. 'endLine' can only be set if 'line' is provided`);
    setProperty(p, 'line', endLine!);
    hasLine = true;
    line = endLine;
  }
  if (hasEndCol && !hasCol) {
    debug(`Invalid ${cmd.name} command value. 'endColumn' can only be set if 'col' is provided`);
    setProperty(p, 'col', get(p, 'endColumn')!);
    hasCol = true;
  }
  if (!hasLine && hasColumn) {
    debug(`Invalid ${cmd.name} command value. 'col' and 'endColumn' can only be set if 'line' value is provided.`);
    del(p, 'col');
    del(p, 'endColumn');
  }
  if (hasEndLine && line !== endLine && hasColumn) {
    debug(`Invalid ${cmd.name} command value. 'col' and 'endColumn' cannot be set if 'line' and 'endLine' are different values.`);
    del(p, 'col');
    del(p, 'endColumn');
  }
  if (hasLine && hasEndLine && Number(endLine) < Number(line)) {
    debug(`Invalid ${cmd.name} command value. 'endLine' cannot be less than 'line'.`);
    del(p, 'line');
    del(p, 'endLine');
  }
  const col = num('col');
  const endCol = num('endColumn');
  if (hasCol && hasEndCol && col !== undefined && endCol !== undefined && endCol < col) {
    debug(`Invalid ${cmd.name} command value. 'endColumn' cannot be less than 'col'.`);
    del(p, 'col');
    del(p, 'endColumn');
  }
}
