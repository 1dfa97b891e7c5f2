import { spawn } from 'node:child_process';
import { chown, mkdir, rm } from 'node:fs/promises';
import type { RunRequest } from './executor.js';
import { privateTmpDir } from './job-env.js';
import type { UidLease, UidPool } from './job-uids.js';

/** Who a run's process is and where it starts; `close()` undoes it all once the run is over. */
export interface RunIdentity {
  /** Set when jobs run as uids of their own; absent = as the agent. */
  uid?: number;
  gid?: number;
  /** The working directory the job starts in. */
  cwd: string | undefined;
  /** Kills what is left of the uid, removes the private directory, hands the uid back. Never rejects. */
  close(): Promise<void>;
}

/**
 * Takes a uid for the run (when `users` is set) and creates its private directory owned by it,
 * or says why the job cannot start (no free uid, a working directory that uid cannot enter).
 */
export async function openRunIdentity(req: RunRequest, users: UidPool | undefined): Promise<RunIdentity | string> {
  let lease: UidLease | undefined;
  if (users) {
    try {
      lease = await users.acquire();
    } catch (err) {
      return (err as Error).message;
    }
  }
  const removeDir = async () => {
    if (req.privateDir) await rm(req.privateDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  };
  // With a uid, its processes are killed first, so nothing writes into the directory meanwhile.
  const close = () => (lease ? lease.release(removeDir) : removeDir());
  try {
    if (req.privateDir) await makePrivateDir(req.privateDir, lease);
    if (lease && req.workingDir !== undefined && !(await canEnter(req.workingDir, lease.uid))) {
      await close();
      return `working directory "${req.workingDir}" cannot be entered by the job's user (uid ${lease.uid}): give that uid search (x) permission on it and its parents, or leave the working directory unset so the job runs in a private one`;
    }
  } catch (err) {
    await close();
    return `could not create the job's private directory ${req.privateDir}: ${(err as Error).message}`;
  }
  return { ...(lease ? { uid: lease.uid, gid: lease.gid } : {}), cwd: req.workingDir ?? req.privateDir, close };
}

async function makePrivateDir(dir: string, lease: UidLease | undefined): Promise<void> {
  await mkdir(dir, { mode: 0o700 });
  await mkdir(privateTmpDir(dir), { mode: 0o700 });
  if (lease) {
    await chown(dir, lease.uid, lease.gid);
    await chown(privateTmpDir(dir), lease.uid, lease.gid);
  }
}

/** Whether `uid` (with gid = uid, no other groups) can `cd` into `dir`: asks the kernel itself. */
function canEnter(dir: string, uid: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', 'cd -- "$1"', 'longshore-cd', dir], { uid, gid: uid, cwd: '/', env: {}, stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}
