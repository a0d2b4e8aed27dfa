/**
 * Creating a credential that leaves no orphan and deletes nothing that is not its own.
 *
 * When the answer to a create is lost (dropped connection, 5xx after the service may have acted), the credential is
 * looked up by its name. That name is this step attempt's own: a generated name has the run, attempt and a random
 * part; a name the workflow gives is checked to be free just before the create (checkNameFree). So what the lookup
 * finds was made by this step. Its secret is shown only once, so it is deleted and created again.
 * When a create answers 2xx but the answer cannot be read, the credential exists and is useless: it is deleted.
 */
import { findByName, type CredentialKind, type Made } from './credentials/index.js';
import { D1Error, type CreatedCredential, type D1Client, type Id } from './d1-api.js';
import { InputError } from './input-error.js';

const MAX_ROUNDS = 3;

export interface CreateContext {
  client: D1Client;
  kind: CredentialKind;
  /** The record being made (id empty): its name and where it would be listed. */
  pending: Made;
  log: (line: string) => void;
}

/** For a name the workflow gave: refuse before creating when a credential already has it (names are unique). */
export async function checkNameFree(ctx: CreateContext, input: string): Promise<void> {
  const existing = findByName(await ctx.kind.list(ctx.client, ctx.pending), ctx.pending.name);
  if (existing) {
    throw new InputError(
      input,
      `a ${ctx.kind.noun} named '${ctx.pending.name}' already exists (id ${existing.id}), and DigiCert ONE names are unique. Leave ${input} empty for a name unique to this run (it ends in a random part), or choose another; the existing one is left as it is.`,
    );
  }
}

async function deleteUnreadable(ctx: CreateContext, err: D1Error): Promise<never> {
  const { client, kind, pending } = ctx;
  let id: Id | undefined = err.made?.id;
  try {
    id ??= findByName(await kind.list(client, pending), pending.name)?.id;
    if (id) await kind.revoke(client, id);
  } catch (removeErr) {
    const why = removeErr instanceof Error ? removeErr.message : String(removeErr);
    // Still made and live: post deletes it (by id when the answer had one, else by name).
    throw new D1Error(`${err.message} Deleting what it made failed too (${why}); the post step tries again.`, 'protocol', err.status, true, { id });
  }
  const what = id ? `The ${kind.noun} it made (id ${id}) was deleted, as its secret could not be read.` : `No ${kind.noun} named '${pending.name}' was found afterwards.`;
  throw new D1Error(`${err.message} ${what}`, 'protocol', err.status, false);
}

export async function createOnce(ctx: CreateContext, create: () => Promise<CreatedCredential>): Promise<CreatedCredential> {
  const { client, kind, pending, log } = ctx;
  for (let round = 1; ; round++) {
    try {
      return await create();
    } catch (err) {
      if (!(err instanceof D1Error)) throw err;
      if (err.made) return deleteUnreadable(ctx, err);
      if (!err.maybeCommitted) throw err;
      try {
        const made = findByName(await kind.list(client, pending), pending.name);
        if (made) {
          log(`The answer to the create was lost, but DigiCert ONE made ${kind.noun} '${pending.name}' (id ${made.id}); its secret is shown only once, so it is deleted and created again.`);
          await kind.revoke(client, made.id);
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
