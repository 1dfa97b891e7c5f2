import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readCredentialsFile } from '@longshore/config';

/**
 * The local cluster's admin token: the one in `path` (written by an earlier `up`), else a new
 * one written there with mode 0600. `up` gives it to its registry as the bootstrap token, so it
 * is valid again even against a fresh Redis, and the CLI on this machine needs no token copying.
 */
export async function ensureLocalAdminToken(path: string): Promise<{ token: string; created: boolean }> {
  const existing = readCredentialsFile(path);
  if (existing !== undefined) {
    await chmod(path, 0o600);
    return { token: existing, created: false };
  }
  const token = randomBytes(32).toString('base64url');
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify({ token, note: 'admin token of the local cluster (longshore up); keep this file private' })}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return { token, created: true };
}
