import { constants } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';

// What libuv searches when the job's env has no PATH (its `_PATH_DEFPATH`).
const DEFAULT_PATH = '/usr/bin:/bin';

/**
 * Looks `program` up the way `spawn` (libuv's execvp) would, for when a wrapper shell execs the
 * job and `spawn` itself can no longer say that the job could not start: a name without `/` is
 * searched on the `PATH` of `env` (an empty entry is `cwd`), a path is taken relative to `cwd`.
 * Returns `ENOENT` (not found, or its `#!` interpreter is missing) or `EACCES` (found, but a
 * directory or not executable), or undefined when the program can be executed.
 */
export async function checkProgram(program: string, env: Record<string, string>, cwd: string): Promise<'ENOENT' | 'EACCES' | undefined> {
  if (program.includes('/')) return checkFile(resolve(cwd, program));
  let problem: 'ENOENT' | 'EACCES' = 'ENOENT';
  for (const dir of (env['PATH'] ?? DEFAULT_PATH).split(':')) {
    const found = await checkFile(join(dir === '' ? cwd : resolve(cwd, dir), program));
    if (found === undefined) return undefined;
    // As execvp does: keep searching past a file that cannot be run, and report EACCES at the end.
    if (found === 'EACCES') problem = 'EACCES';
  }
  return problem;
}

async function checkFile(path: string): Promise<'ENOENT' | 'EACCES' | undefined> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return 'EACCES';
    await access(path, constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? 'EACCES' : 'ENOENT';
  }
  const interpreter = await shebangInterpreter(path);
  if (interpreter === undefined || !isAbsolute(interpreter)) return undefined;
  try {
    await access(interpreter, constants.X_OK);
    return undefined;
  } catch {
    return 'ENOENT'; // what execve says when the #! interpreter is missing
  }
}

/** The interpreter named on a `#!` first line, if the file starts with one (read permission allowing). */
async function shebangInterpreter(path: string): Promise<string | undefined> {
  let head: string;
  try {
    const file = await open(path, 'r');
    try {
      const { buffer, bytesRead } = await file.read(Buffer.alloc(256), 0, 256, 0);
      head = buffer.subarray(0, bytesRead).toString('latin1');
    } finally {
      await file.close();
    }
  } catch {
    return undefined; // execute-only: the kernel may still run it; let the exec decide
  }
  if (!head.startsWith('#!')) return undefined;
  return head.slice(2).split('\n')[0]?.trim().split(/[ \t]+/)[0];
}
