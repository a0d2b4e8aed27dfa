/**
 * The one source of time. Every date the action writes (end dates, names) and every deadline it keeps is read from
 * the Clock its step was given, so a test fixes the time once and no code path can read another one.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  random: Math.random,
};

/** The clock's time as a Date (for day arithmetic and certificate validity). */
export function dateOf(clock: Clock): Date {
  return new Date(clock.now());
}
