/** Files the action writes: one kind only, the job certificate's PKCS#12 under RUNNER_TEMP. */
import { constants as fsConstants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Exclusive create (never an existing file, never through a symbolic link), owner-only, written once. */
export async function writeNewFile(path: string, data: Buffer): Promise<void> {
  const handle = await open(path, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY | (fsConstants.O_NOFOLLOW ?? 0), 0o600);
  try {
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
}
