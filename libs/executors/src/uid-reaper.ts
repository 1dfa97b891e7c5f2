import { spawn } from 'node:child_process';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { listProcessesOfUid } from './proc-fs.js';

/** Where a job may leave files outside its private directory; cleaned by {@link reapUid}. */
export const SHARED_TMP_DIRS: readonly string[] = ['/tmp', '/var/tmp', '/dev/shm'];

// After SIGKILL a process may take a moment to exit (it is in uninterruptible sleep).
const SETTLE_TRIES = 40;
const SETTLE_STEP_MS = 50;

/** What {@link reapUid} can do, narrowed so the uid pool can be tested with a fake. */
export interface UidReaper {
  /**
   * Kills every process of `uid` and removes its top-level files in {@link SHARED_TMP_DIRS};
   * resolves with the pids still alive afterwards (empty = the uid is clean).
   */
  reap(uid: number): Promise<number[]>;
}

/**
 * Kills every process running as `uid` and deletes what it left at the top level of /tmp,
 * /var/tmp and /dev/shm, best effort: files deeper in other users' directories, in other places
 * it could write, or on other filesystems stay. Needs root. Returns the pids still alive after
 * about two seconds: those the kernel would not kill (stuck in I/O).
 *
 * The killing and deleting run *as the uid*: `kill -1` signals every process the caller may
 * signal (all of that uid's, whatever their process group or session), and an `rm` with the
 * job's rights cannot be tricked into deleting someone else's files through a planted symlink.
 */
export async function reapUid(uid: number): Promise<number[]> {
  if (!Number.isInteger(uid) || uid <= 0) throw new RangeError(`not a job uid: ${uid}`);
  let left = listProcessesOfUid(uid);
  // Nothing runs as the uid (the usual case once the job's group is gone): no one can start a
  // process as it but the agent, so there is nothing to kill.
  if (left.length > 0) {
    await runAs(uid, ['-c', 'kill -KILL -1 2>/dev/null; exit 0']);
    left = listProcessesOfUid(uid);
  }
  for (let i = 0; i < SETTLE_TRIES && left.length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_STEP_MS));
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    left = listProcessesOfUid(uid);
  }
  const files = filesOf(uid);
  if (files.length > 0) await runAs(uid, ['-c', 'rm -rf -- "$@" 2>/dev/null; exit 0', 'longshore-clean', ...files]);
  return left;
}

/** The top-level entries of {@link SHARED_TMP_DIRS} owned by `uid` (synchronous: a few dozen lstat calls). */
function filesOf(uid: number): string[] {
  const found: string[] = [];
  for (const dir of SHARED_TMP_DIRS) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(dir, name);
      try {
        if (lstatSync(path).uid === uid) found.push(path);
      } catch {
        // removed meanwhile
      }
    }
  }
  return found;
}

function runAs(uid: number, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', args, { uid, gid: uid, cwd: '/', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, stdio: 'ignore' });
    child.once('error', (err) => reject(new Error(`could not run the cleaner of job uid ${uid}: ${err.message}`, { cause: err })));
    child.once('exit', () => resolve());
  });
}

/** The reaper of real processes. */
export const processReaper: UidReaper = { reap: reapUid };
