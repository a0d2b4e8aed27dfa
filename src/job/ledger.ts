/**
 * Main's record of what it made, kept in state after every change, so a failure at any point leaves it to post.
 * A credential is recorded before its create is sent (post can find it by its name if the answer is lost) and
 * settled from the answer: with its id when made, forgotten when it certainly was not, kept when that is unknown.
 */
import type { Made } from '../credentials/index.js';
import { createOnce, type CreateContext } from '../credentials/mint.js';
import { D1Error } from '../d1/client.js';
import type { Core } from '../runner/core.js';
import { STATE, serializeMade } from '../runner/state.js';

export class Ledger {
  private readonly made: Made[] = [];
  constructor(private readonly core: Core) {}
  private save(): void {
    this.core.saveState(STATE.credentials, serializeMade(this.made));
  }
  /** Before a create: post can find it by name if the answer is lost. */
  pending(m: Made): void {
    this.made.push(m);
    this.save();
  }
  settle(m: Made, update: Partial<Made> | 'forget'): void {
    const i = this.made.indexOf(m);
    if (i < 0) return;
    if (update === 'forget') this.made.splice(i, 1);
    else Object.assign(m, update);
    this.save();
  }
}

/** Records ctx.pending, creates it (with recovery), and settles the record from what the create answered. */
export async function recorded<T>(ledger: Ledger, ctx: CreateContext, create: () => Promise<T>, settle: (created: T) => Partial<Made>): Promise<T> {
  ledger.pending(ctx.pending);
  try {
    const created = await createOnce(ctx, create);
    ledger.settle(ctx.pending, settle(created));
    return created;
  } catch (err) {
    // DigiCert ONE refuses an end date past the user's; the input that sets it is lifetime-days.
    if (err instanceof D1Error && err.status === 400 && err.kind === 'invalid' && !err.maybeCommitted) {
      ledger.settle(ctx.pending, 'forget');
      throw new D1Error(`${err.message} If the user ends before ${ctx.pending.endDate} (an end date cannot be later than its user's), lower lifetime-days (0 ends today at 23:59:59 UTC).`, err.kind, err.status);
    }
    if (err instanceof D1Error && err.maybeCommitted) {
      if (err.made?.id) ledger.settle(ctx.pending, { id: err.made.id, ...(ctx.pending.kind === 'service-user' ? { userId: err.made.id } : {}) });
    } else {
      ledger.settle(ctx.pending, 'forget');
    }
    throw err;
  }
}
