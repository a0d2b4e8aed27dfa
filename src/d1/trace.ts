/**
 * Request tracing for people debugging a run: with the runner's step debug logging on (ACTIONS_STEP_DEBUG, which
 * sets RUNNER_DEBUG=1 for the step), one `::debug::` line per HTTP attempt. Only what the client itself chose
 * (method, path with ids, attempt) and what describes the answer without its content (status, duration, field
 * NAMES): never a header, a body value or a secret.
 */
import { describeShape, type AnswerShape } from './answer-fields.js';
import { logSafe } from '../platform/text-safety.js';

export interface TraceEvent {
  method: string;
  /** Path and query as sent (ids only; the API takes no secret in a URL). */
  path: string;
  attempt: number;
  durationMs: number;
  /** The HTTP status, or undefined when no answer came (then `error` holds the network error code). */
  status?: number;
  error?: string;
  shape?: AnswerShape;
}

export function formatTrace(t: TraceEvent): string {
  const outcome = t.status !== undefined ? `${t.status}` : `no answer (${logSafe(t.error ?? 'unknown', 60)})`;
  const shape = t.shape ? `; ${describeShape(t.shape)}` : '';
  return logSafe(`DigiCert ONE ${t.method} ${t.path} -> ${outcome} in ${Math.round(t.durationMs)} ms (attempt ${t.attempt})${shape}`, 2000);
}

/** The `trace` option of D1Client for a step: on only when the runner's debug logging is. */
export function traceFor(debug: (line: string) => void, env: NodeJS.ProcessEnv): ((t: TraceEvent) => void) | undefined {
  return env.RUNNER_DEBUG === '1' ? (t) => debug(formatTrace(t)) : undefined;
}
