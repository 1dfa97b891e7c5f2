import { randomBytes } from 'node:crypto';
import { chmod, link, lstat, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@longshore/telemetry';
import { errnoCode, processStartTime } from './proc-fs.js';
import { processReaper, type UidReaper } from './uid-reaper.js';

/** The lock directory every agent of a host shares (root-only, like /run itself). */
export const DEFAULT_UID_LOCK_DIR = '/run/longshore/job-uids';

/** An inclusive range of uids; each job runs as one of them, with the same number as its gid. */
export interface UidRange {
  first: number;
  last: number;
}

/** One uid held for one run; give it back with {@link UidLease.release} when the run is over. */
export interface UidLease {
  readonly uid: number;
  readonly gid: number;
  /**
   * Kills every process left of the uid, removes its files in the shared temporary directories,
   * runs `beforeReuse` (e.g. removing the job's directory, now that nothing writes to it), and
   * hands the uid back; if processes survive, the uid is quarantined (never handed out again by
   * this process) and that is logged. Never rejects. Call once.
   */
  release(beforeReuse?: () => Promise<void>): Promise<void>;
}

/** Hands out job uids, host-wide exclusive through lock files; see {@link createUidPool}. */
export interface UidPool {
  readonly range: UidRange;
  /** Takes a free uid. Rejects, naming the range, when every uid is in use or quarantined. */
  acquire(): Promise<UidLease>;
}

/** What {@link createUidPool} needs. */
export interface UidPoolOptions {
  range: UidRange;
  logger: Logger;
  /** Default {@link DEFAULT_UID_LOCK_DIR}; tests use their own. */
  lockDir?: string;
  /** Default: the real one (kill -1 as the uid). */
  reaper?: UidReaper;
  /** Who holds the locks: default this process ("pid start-time"); tests fake other holders. */
  holder?: string;
}

/**
 * A pool of job uids shared by every agent on the host: the lock file `<lockDir>/<uid>` names its
 * holder (pid and start time). Creating it is atomic (`link` fails when it exists, and the file
 * is complete before it appears). A lock whose holder is no longer running is stale: it is taken
 * over (see `takeOver`), and the uid is reaped before use, since the dead agent's job may still run.
 */
export async function createUidPool(opts: UidPoolOptions): Promise<UidPool> {
  const { range, logger } = opts;
  const dir = opts.lockDir ?? DEFAULT_UID_LOCK_DIR;
  const reaper = opts.reaper ?? processReaper;
  const me = opts.holder ?? `${process.pid} ${processStartTime(process.pid) ?? '0'}`;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  if (!info.isDirectory() || info.uid !== process.getuid?.()) {
    throw new Error(`job uid lock directory ${dir} must be a directory owned by the agent's user (uid ${process.getuid?.()}); remove it and start again`);
  }
  await chmod(dir, 0o700);
  const quarantined = new Set<number>();
  const inUse = new Set<number>();
  const lockPath = (uid: number) => join(dir, String(uid));

  const lease = (uid: number): UidLease => {
    let released = false;
    return {
      uid,
      gid: uid,
      release: async (beforeReuse) => {
        if (released) return;
        released = true;
        inUse.delete(uid);
        const left = await reaper.reap(uid).catch((err: unknown) => {
          logger.warn({ err, uid }, 'could not reap a job uid');
          return [-1];
        });
        await beforeReuse?.().catch((err: unknown) => logger.warn({ err, uid }, 'could not clean up after a job uid'));
        if (left.length > 0) {
          quarantined.add(uid);
          logger.error({ uid, pids: left }, 'job uid quarantined: processes of a finished job survived SIGKILL; it will not be reused while this agent runs');
          return;
        }
        await unlinkIfMine(lockPath(uid), me);
      },
    };
  };

  return {
    range,
    async acquire() {
      for (let uid = range.first; uid <= range.last; uid++) {
        if (inUse.has(uid) || quarantined.has(uid)) continue;
        const got = await tryLock(dir, uid, me);
        if (got === 'busy') continue;
        if (got === 'reclaimed') {
          const left = await reaper.reap(uid);
          if (left.length > 0) {
            quarantined.add(uid);
            logger.error({ uid, pids: left }, 'job uid quarantined: a dead agent left processes under it that survived SIGKILL');
            continue;
          }
          logger.info({ uid }, 'took over the job uid of an agent that is gone (its processes were killed)');
        }
        inUse.add(uid);
        return lease(uid);
      }
      throw new Error(
        `no free job uid in LONGSHORE_JOB_UIDS ${range.first}-${range.last}: all are held by running jobs of this host's agents` +
          (quarantined.size ? ` or quarantined (${quarantined.size})` : '') + '; widen the range',
      );
    },
  };
}

/** Whether the holder named in a lock ("pid start-time") is still running. */
export function holderAlive(content: string): boolean {
  const [pid, since] = content.trim().split(' ');
  if (!pid || !/^\d+$/.test(pid) || !since) return false;
  return processStartTime(Number(pid)) === since;
}

/** Creates `path` holding `content`, atomically and only if absent. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  await writeFile(tmp, content, { mode: 0o600 });
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function readLock(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Takes the lock of `uid` if free or stale. */
async function tryLock(dir: string, uid: number, me: string): Promise<'taken' | 'reclaimed' | 'busy'> {
  const path = join(dir, String(uid));
  const content = `${me}\n`;
  if (await createExclusive(path, content)) return 'taken';
  const held = await readLock(path);
  if (held === undefined) return (await createExclusive(path, content)) ? 'taken' : 'busy';
  if (holderAlive(held)) return 'busy';
  return (await takeOver(path, held, content)) ? 'reclaimed' : 'busy';
}

/**
 * Replaces the stale lock `path` (holding `stale`) by ours. Two agents may find the same stale
 * lock at once: only the one that creates the claim file named after the dead holder goes on, and
 * it checks the lock still names that holder before replacing it, so a lock someone else has
 * taken over meanwhile is never overwritten.
 */
async function takeOver(path: string, stale: string, content: string): Promise<boolean> {
  const claim = `${path}.claim-${stale.trim().replace(/[^0-9]+/g, '-')}`;
  if (!(await createExclusive(claim, content))) {
    // A claimer that died before finishing leaves its claim: clear it for the next try.
    const claimer = await readLock(claim);
    if (claimer !== undefined && !holderAlive(claimer)) await unlinkIfMine(claim, claimer.trim());
    return false;
  }
  try {
    if ((await readLock(path)) !== stale) return false;
    const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
    await writeFile(tmp, content, { mode: 0o600 });
    await rename(tmp, path);
    return true;
  } finally {
    await unlink(claim).catch(() => undefined);
  }
}

async function unlinkIfMine(path: string, me: string): Promise<void> {
  if ((await readLock(path))?.trim() === me.trim()) await unlink(path).catch(() => undefined);
}
