/**
 * What preflight shows: one log line per check, the field NAMES of every answer it read, and the same as two
 * job-summary tables. Every detail goes through redact (secrets) and logSafe (workflow commands, line breaks),
 * because it may quote a server's error message.
 */
import { describeShape, type AnswerShape } from '../../d1/answer-fields.js';
import type { Core } from '../../runner/core.js';
import { logSafe } from '../../platform/text-safety.js';
import { redact } from '../../platform/text-safety.js';

export type Verdict = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  check: string;
  verdict: Verdict;
  detail: string;
}

export interface SeenAnswer {
  host: string;
  endpoint: string;
  status: number;
  shape: AnswerShape;
}

const TAG: Record<Verdict, string> = { pass: '[PASS]', warn: '[WARN]', fail: '[FAIL]', skip: '[SKIP]' };
const DETAIL_MAX = 1200;

/** A Markdown table cell: no pipe, no line break, no HTML. */
function cell(s: string): string {
  return s.replace(/[|\r\n]/g, ' ').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export class PreflightReport {
  readonly checks: CheckResult[] = [];
  readonly answers: SeenAnswer[] = [];

  constructor(
    private readonly core: Core,
    private readonly secrets: readonly string[],
  ) {}

  add(check: string, verdict: Verdict, detail: string): void {
    const safe = logSafe(redact(detail, this.secrets), DETAIL_MAX);
    this.checks.push({ check, verdict, detail: safe });
    const line = `${TAG[verdict]} ${check}: ${safe}`;
    if (verdict === 'warn') this.core.warning(line);
    else this.core.info(line);
  }

  answer(host: string, endpoint: string, status: number, shape: AnswerShape): void {
    this.answers.push({ host, endpoint, status, shape });
  }

  get failed(): CheckResult[] {
    return this.checks.filter((c) => c.verdict === 'fail');
  }

  /** The field-name block: what a user pastes into an issue when their tenant answers differently. */
  printAnswers(): void {
    this.core.info('Fields in the answers preflight read (names only, never values; paste these lines when reporting a tenant that answers differently):');
    for (const a of this.answers) this.core.info(`  ${logSafe(`${a.endpoint} on ${a.host} -> ${a.status}: ${describeShape(a.shape)}`, 2000)}`);
  }

  async writeSummary(): Promise<void> {
    const rows = this.checks.map((c) => `| ${cell(c.check)} | ${c.verdict.toUpperCase()} | ${cell(c.detail)} |`);
    const answers = this.answers.map((a) => `| \`${cell(a.endpoint)}\` | ${cell(a.host)} | ${a.status} | ${cell(describeShape(a.shape))} |`);
    await this.core.summary
      .addRaw(`### DigiCert ONE preflight: ${this.failed.length ? `${this.failed.length} check(s) failed` : 'all checks passed'}\n\n`, false)
      .addRaw(`| check | result | detail |\n|---|---|---|\n${rows.join('\n')}\n\n`, false)
      .addRaw(`#### Fields in the answers read (names only)\n\n| request | host | status | fields |\n|---|---|---|---|\n${answers.join('\n')}\n\n`, false)
      .addRaw('Preflight created, changed and deleted nothing.\n', false)
      .write();
  }
}
