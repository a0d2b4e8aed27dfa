/**
 * Creating a credential that leaves no orphan: when the answer to a create is lost (dropped connection, 5xx after
 * the service may have acted), look the credential up by its name. Its secret is shown only once, so one we never
 * saw is deleted and created again.
 */
import { D1Error, type D1Client, type MintedToken, type Named } from './d1-api.js';

export interface MintRequest {
  userId: string;
  name: string;
  endDate: string;
}

const MAX_ROUNDS = 3;

export interface CreateOps<T> {
  what: string;
  name: string;
  create(): Promise<T>;
  list(): Promise<Named[]>;
  remove(id: string): Promise<unknown>;
}

export async function createOnce<T>(ops: CreateOps<T>, log: (line: string) => void): Promise<T> {
  for (let round = 1; ; round++) {
    try {
      return await ops.create();
    } catch (err) {
      if (!(err instanceof D1Error) || !err.maybeCommitted) throw err;
      try {
        const made = (await ops.list()).find((x) => x.name === ops.name);
        if (made) {
          log(`The answer to the create was lost, but DigiCert ONE made ${ops.what} '${ops.name}' (id ${made.id}); its secret is shown only once, so it is deleted and created again.`);
          await ops.remove(made.id);
        } else {
          log(`The create of ${ops.what} '${ops.name}' failed before DigiCert ONE made it; creating it again.`);
        }
      } catch (checkErr) {
        const why = checkErr instanceof Error ? checkErr.message : String(checkErr);
        throw new D1Error(
          `${err.message} Checking whether DigiCert ONE made ${ops.what} '${ops.name}' anyway failed too (${why}); the post step looks it up by name and deletes it.`,
          err.kind,
          err.status,
          true,
        );
      }
      if (round >= MAX_ROUNDS) throw err;
    }
  }
}

export function mintToken(client: D1Client, req: MintRequest, log: (line: string) => void): Promise<MintedToken> {
  return createOnce(
    {
      what: 'token',
      name: req.name,
      create: () => client.createToken(req),
      list: () => client.listTokens(req.userId),
      remove: (id) => client.deleteToken(id),
    },
    log,
  );
}
