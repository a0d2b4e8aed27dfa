/**
 * Creating a credential that leaves no orphan and deletes nothing that is not its own.
 *
 * When the answer to a create is lost (dropped connection, 5xx after the service may have acted), the credential is
 * looked up by its name. That name is this step attempt's own: a generated name has the run, attempt and a random
 * part, and a name the workflow gives gets a random tail too (naming.ts ownName). So what the lookup finds was made
 * by this step. Its secret is shown only once, so it is deleted and created again.
 * When a create answers 2xx but the answer cannot be read, the credential exists and is useless: it is deleted.
 */
import { findByName, type CredentialKind, type Made } from './index.js';
import { D1Error, type D1Client, type Id } from '../d1/client.js';

const MAX_ROUNDS = 3;

/** The one with this name among those of its kind, or undefined (also for a kind that cannot be listed). */
async function findMine(ctx: CreateContext): Promise<{ id: Id } | undefined> {
  return ctx.kind.list ? findByName(await ctx.kind.list(ctx.client, ctx.pending), ctx.pending.name) : undefined;
}

const revoke = (ctx: CreateContext, id: Id) => ctx.kind.revoke({ client: ctx.client, runnerTemp: '' }, id);

export interface CreateContext {
  client: D1Client;
  kind: CredentialKind;
  /** The record being made (id empty): its name and where it would be listed. */
  pending: Made;
  log: (line: string) => void;
}

async function deleteUnreadable(ctx: CreateContext, err: D1Error): Promise<never> {
  const { kind, pending } = ctx;
  let id: Id | undefined = err.made?.id;
  try {
    id ??= (await findMine(ctx))?.id;
    if (id) await revoke(ctx, id);
  } catch (removeErr) {
    const why = removeErr instanceof Error ? removeErr.message : String(removeErr);
    // Still made and live: post deletes it (by id when the answer had one, else by name).
    throw new D1Error(`${err.message} Deleting what it made failed too (${why}); the post step tries again.`, 'protocol', err.status, true, { id });
  }
  const what = id ? `The ${kind.noun} it made (id ${id}) was deleted, as its secret could not be read.` : `No ${kind.noun} named '${pending.name}' was found afterwards.`;
  throw new D1Error(`${err.message} ${what}`, 'protocol', err.status, false);
}

export async function createOnce<T>(ctx: CreateContext, create: () => Promise<T>): Promise<T> {
  const { kind, pending, log } = ctx;
  for (let round = 1; ; round++) {
    try {
      return await create();
    } catch (err) {
      if (!(err instanceof D1Error)) throw err;
      if (err.made) return deleteUnreadable(ctx, err);
      if (!err.maybeCommitted) throw err;
      if (!kind.list) {
        // No listing to look in (a client certificate): what may have been made is unusable without this step's key.
        log(`The answer to the request for ${kind.noun} '${pending.name}' was lost; one it may have made cannot be used (its private key never left this job), so it is requested again.`);
        if (round >= MAX_ROUNDS) throw err;
        continue;
      }
      try {
        const made = await findMine(ctx);
        if (made) {
          log(`The answer to the create was lost, but DigiCert ONE made ${kind.noun} '${pending.name}' (id ${made.id}); its secret is shown only once, so it is deleted and created again.`);
          await revoke(ctx, made.id);
        } else {
          log(`The create of ${kind.noun} '${pending.name}' failed before DigiCert ONE made it; creating it again.`);
        }
      } catch (checkErr) {
        const why = checkErr instanceof Error ? checkErr.message : String(checkErr);
        throw new D1Error(
          `${err.message} Checking whether DigiCert ONE made ${kind.noun} '${pending.name}' anyway failed too (${why}); the post step looks it up by name and deletes it.`,
          err.kind,
          err.status,
          true,
        );
      }
      if (round >= MAX_ROUNDS) throw err;
    }
  }
}
