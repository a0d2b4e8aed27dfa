/**
 * The PKCS#12 file of the job's client certificate, under RUNNER_TEMP. Its id is the file's name there (parsed as
 * an Id: no `/`, not `.` or `..`), so post can only ever remove a file directly in RUNNER_TEMP. Removing it needs
 * no credential: post does it first, whatever else fails.
 */
import { rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { CredentialKind } from './kind.js';

export const pkcs12File: CredentialKind = {
  kind: 'pkcs12-file',
  noun: 'PKCS#12 file',
  revokes: 'removes it',
  local: true,
  async revoke(ctx, id) {
    if (!isAbsolute(ctx.runnerTemp)) throw new Error('RUNNER_TEMP is not set in the post step, so the file cannot be found.');
    try {
      // rm of a path unlinks a symbolic link itself, never what it points to.
      await rm(join(ctx.runnerTemp, id));
      return 'deleted';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      throw err;
    }
  },
  manual: (m) => `remove it with: rm -f "$RUNNER_TEMP/${m.id}" (the runner also empties RUNNER_TEMP when the job ends)`,
};
