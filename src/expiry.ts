/** How far an end date (a UTC day, working until 23:59:59) is from now, for the bootstrap expiry warning. */
export function daysLeft(endDate: string, now: Date): number {
  const end = Date.parse(`${endDate}T23:59:59Z`);
  return Math.floor((end - now.getTime()) / 86_400_000);
}

export type ExpiryVerdict = { level: 'ok' } | { level: 'warn' | 'expired'; message: string };

export function checkExpiry(what: string, endDate: string | undefined, now: Date, warnDays: number): ExpiryVerdict {
  if (!endDate || warnDays <= 0) return { level: 'ok' };
  const left = daysLeft(endDate, now);
  if (Date.parse(`${endDate}T23:59:59Z`) < now.getTime()) {
    return { level: 'expired', message: `${what} reached its end date ${endDate} (23:59:59 UTC) and no longer works: everything it did stopped at midnight. Extend its end date in Account Manager, or create a new credential and update the secret.` };
  }
  if (left < warnDays) {
    return { level: 'warn', message: `${what} stops working on ${endDate} at 23:59:59 UTC (${left === 0 ? 'today' : `in ${left} day${left === 1 ? '' : 's'}`}). Extend its end date or rotate it before then.` };
  }
  return { level: 'ok' };
}
