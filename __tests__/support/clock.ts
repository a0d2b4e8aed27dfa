import type { Clock } from '../../src/platform/clock.js';

/** A clock stopped at `iso`: time moves only when the code sleeps, so no test depends on the day or the machine's speed. */
export function virtualClock(iso: string): Clock & { waits: number[] } {
  let t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`virtualClock: '${iso}' is not a date`);
  const waits: number[] = [];
  return { now: () => t, sleep: async (ms) => {
      waits.push(ms);
      t += ms;
    }, random: () => 0.5, waits };
}
