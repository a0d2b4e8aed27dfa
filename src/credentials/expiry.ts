/** Whole days from now until `end`, rounded down. */
export function daysUntil(end: Date, now: Date): number {
  return Math.floor((end.getTime() - now.getTime()) / 86_400_000);
}

/** An end date is a UTC day: the credential works until 23:59:59 UTC that day. */
function endOfDay(endDate: string): Date {
  return new Date(`${endDate}T23:59:59Z`);
}

export type ExpiryVerdict = { level: 'ok' } | { level: 'warn' | 'expired'; message: string };

export function checkExpiry(what: string, endDate: string | undefined, now: Date, warnDays: number): ExpiryVerdict {
  if (!endDate || warnDays <= 0) return { level: 'ok' };
  const left = daysUntil(endOfDay(endDate), now);
  if (endOfDay(endDate) < now) {
    return { level: 'expired', message: `${what} reached its end date ${endDate} (23:59:59 UTC) and no longer works: everything it did stopped at midnight. Extend its end date in Account Manager, or create a new credential and update the secret.` };
  }
  if (left < warnDays) {
    return { level: 'warn', message: `${what} stops working on ${endDate} at 23:59:59 UTC (${left === 0 ? 'today' : `in ${left} day${left === 1 ? '' : 's'}`}). Extend its end date or rotate it before then.` };
  }
  return { level: 'ok' };
}
