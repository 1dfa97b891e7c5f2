import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { formatBytes } from '@longshore/domain';
import { SecretReadError, type SecretProvider, type SecretValue } from './provider.js';

/** What identifies a file's content without reading it: when any of these change, it is read again. */
function statKey(st: { dev: number; ino: number; size: number; mtimeMs: number }): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/**
 * Secrets from a directory, one file per name (`/mnt/secrets/DB_PASSWORD`), as a Kubernetes
 * Secret volume lays them out: each name a symlink into `..data`, a symlink the kubelet swaps
 * to a new directory on rotation. Symlinks are followed only while the real path stays inside
 * the directory; a file over the size cap, or anything but a regular file, is refused. Each
 * resolve checks the file's device, inode, size and mtime and reads it again when one changed,
 * so a rotation reaches the next job without a restart. The content is used exactly as it is
 * (a trailing newline included).
 */
export class FilesSecretProvider implements SecretProvider {
  readonly name = 'files';
  private readonly cache = new Map<string, { key: string; secret: SecretValue }>();

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  describe(name: string): string {
    return join(this.dir, name);
  }

  async get(name: string): Promise<SecretValue | undefined> {
    const path = this.describe(name);
    let real: string;
    let realDir: string;
    try {
      realDir = await realpath(this.dir);
      real = await realpath(path);
    } catch (err) {
      if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR') return undefined;
      throw new SecretReadError(`${path} cannot be read (${codeOf(err)})`);
    }
    if (!real.startsWith(realDir + sep)) {
      throw new SecretReadError(`${path} leads outside ${this.dir} (to ${real}): only links that stay inside the directory are followed`);
    }
    // O_NONBLOCK: a FIFO planted in the directory must not hang the agent (it is refused below).
    const fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((err: unknown) => {
      throw new SecretReadError(`${path} cannot be read (${codeOf(err)})`);
    });
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new SecretReadError(`${path} is not a regular file`);
      if (st.size > this.maxBytes) throw new SecretReadError(`${path} is ${st.size} bytes, more than LONGSHORE_SECRET_MAX_BYTES (${formatBytes(this.maxBytes)})`);
      const key = statKey(st);
      const cached = this.cache.get(name);
      if (cached?.key === key) return cached.secret;
      // Read one byte past the cap: a file that grew since fstat is refused, not cut.
      const buf = Buffer.alloc(this.maxBytes + 1);
      let n = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
        if (bytesRead === 0) break;
        n += bytesRead;
        if (n > this.maxBytes) throw new SecretReadError(`${path} is more than LONGSHORE_SECRET_MAX_BYTES (${formatBytes(this.maxBytes)})`);
      }
      const content = buf.subarray(0, n);
      const hash = createHash('sha256').update(content).digest('hex').slice(0, 12);
      const secret = { value: content.toString('utf8'), version: `sha256:${hash}@${new Date(st.mtimeMs).toISOString()}` };
      this.cache.set(name, { key, secret });
      return secret;
    } finally {
      await fh.close();
    }
  }
}
