/**
 * Minting that leaves no orphan: when the answer to a create is lost (dropped connection, 5xx after the service
 * may have acted), look the token up by its name. Its secret is shown only once, so a token we never saw is
 * deleted and minted again.
 */
import { D1Error, type D1Client, type MintedToken } from './d1-api.js';

export interface MintRequest {
  userId: string;
  name: string;
  endDate: string;
}

const MAX_ROUNDS = 3;

export async function mintToken(client: D1Client, req: MintRequest, log: (line: string) => void): Promise<MintedToken> {
  for (let round = 1; ; round++) {
    try {
      return await client.createToken(req);
    } catch (err) {
      if (!(err instanceof D1Error) || !err.maybeCommitted) throw err;
      let made;
      try {
        made = (await client.listTokens(req.userId)).find((t) => t.name === req.name);
        if (made) {
          log(`The answer to the create was lost, but DigiCert ONE made token '${req.name}' (id ${made.id}); its secret is shown only once, so it is deleted and minted again.`);
          await client.deleteToken(made.id);
        } else {
          log(`The create of token '${req.name}' failed before DigiCert ONE made it; minting again.`);
        }
      } catch (checkErr) {
        const why = checkErr instanceof Error ? checkErr.message : String(checkErr);
        throw new D1Error(
          `${err.message} Checking whether DigiCert ONE made token '${req.name}' anyway failed too (${why}); the post step looks it up by name and deletes it.`,
          err.kind,
          err.status,
          true,
        );
      }
      if (round >= MAX_ROUNDS) throw err;
    }
  }
}
