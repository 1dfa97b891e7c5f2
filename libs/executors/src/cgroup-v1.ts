import { randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import type { Logger } from '@longshore/telemetry';
import { wrapInCgroup, type WrapOptions } from './cgroup-v1-wrapper.js';
import { formatBytes, MEMORY_POLL_MS, type MemoryGuard, type MemoryGuardEvents, type MemoryLimiter, type MemoryVerdict } from './memory-limit.js';
import { errnoCode, isGoneError } from './proc-fs.js';

// How long to keep killing and retrying rmdir (EBUSY) after a run before leaving the cgroup behind.
const REMOVE_WITHIN_MS = 2000;

/**
 * Memory limits with cgroup v1: each run gets `<parentDir>/longshore-<agent pid>-<jobId>-<attempt>-<random>`
 * with `memory.limit_in_bytes` (and `memory.memsw.limit_in_bytes` where swap is accounted) set
 * to the limit. The job is started through a small `sh` wrapper that moves itself into the
 * cgroup and then execs the job's argv (see {@link wrapInCgroup}), so no process of the job ever
 * runs outside it: moving the pid in after spawn would leave a window in which the job can fork
 * children that stay outside (seen in tests: `sh -c 'a & b & wait'` forks before the write).
 * When the tree goes over the limit, the kernel OOM-kills a process *of the job* (never the
 * agent, which is outside the cgroup); the guard sees `oom_kill` rise in `memory.oom_control`,
 * kills the rest of the cgroup and reports `oom`.
 */
export function createCgroupV1Limiter(parentDir: string, logger: Logger): MemoryLimiter {
  return {
    kind: 'cgroup-v1',
    prepare: async ({ jobId, attempt, limitBytes, owner }) => {
      const job = jobId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100);
      const name = `longshore-${process.pid}-${job}-${attempt}-${randomBytes(3).toString('hex')}`;
      const dir = `${parentDir}/${name}`;
      await mkdir(dir);
      try {
        await writeFile(`${dir}/memory.limit_in_bytes`, String(limitBytes));
        await writeFile(`${dir}/memory.memsw.limit_in_bytes`, String(limitBytes)).catch((err: unknown) => {
          // Absent or refused when swap is not accounted: the limit then covers RAM only.
          if (!['ENOENT', 'EINVAL', 'EACCES', 'EPERM'].includes(errnoCode(err) ?? '')) throw err;
        });
        // A job running as its own uid moves itself in (the wrapper writes its pid): cgroup v1
        // lets a process move one of the same uid when it may write the file.
        if (owner) await chown(`${dir}/cgroup.procs`, owner.uid, owner.gid);
      } catch (err) {
        await rmdir(dir).catch(() => undefined);
        throw err;
      }
      return new CgroupV1Guard(dir, limitBytes, logger);
    },
  };
}

/**
 * Removes the empty cgroups that agents which are no longer running left under `parentDir`
 * (killed before they could clean up); returns how many. The agent's pid in each name tells
 * whose it is, so a live agent's cgroup that is about to be populated is never touched, and
 * rmdir refuses a cgroup that still has processes: an orphaned job keeps its cgroup.
 */
export async function removeStaleCgroups(parentDir: string): Promise<number> {
  let removed = 0;
  for (const name of await readdir(parentDir)) {
    const owner = Number(/^longshore-(\d+)-/.exec(name)?.[1] ?? 0);
    if (owner === 0 || owner === process.pid || isAlive(owner)) continue;
    try {
      await rmdir(`${parentDir}/${name}`);
      removed += 1;
    } catch {
      // busy (an orphaned job still runs in it) or already gone
    }
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM'; // exists, owned by someone else
  }
}

/** One run's cgroup: watches its OOM counter while the job runs, removes it afterwards. */
class CgroupV1Guard implements MemoryGuard {
  private events: MemoryGuardEvents | undefined;
  private timer: NodeJS.Timeout | undefined;
  private released = false;
  private exceeded: string | undefined;

  constructor(
    private readonly dir: string,
    private readonly limitBytes: number,
    private readonly logger: Logger,
  ) {}

  readonly wrap = (command: string[], env: Record<string, string>, opts?: WrapOptions): string[] => wrapInCgroup(`${this.dir}/cgroup.procs`, command, env, opts);

  attach(_pid: number, events: MemoryGuardEvents): void {
    this.events = events;
    this.schedulePoll();
  }

  async release(): Promise<MemoryVerdict> {
    this.released = true;
    clearTimeout(this.timer);
    let notStarted: string | undefined;
    try {
      // The job may have been OOM-killed after the last poll (or before the first).
      if (this.exceeded === undefined) {
        const kills = await this.oomKills();
        if (kills > 0) this.exceeded = this.message(kills);
      }
      // Nothing was ever charged: the wrapper could not move itself in and never exec'd the job.
      if (Number(await readFile(`${this.dir}/memory.max_usage_in_bytes`, 'utf8')) === 0) {
        notStarted = `could not move the job into its memory cgroup ${this.dir} (the shell's error is in the job's log)`;
      }
    } catch (err) {
      this.logger.warn({ err, cgroup: this.dir }, 'could not read the memory counters of a finished job');
    }
    await this.remove();
    return { ...(this.exceeded === undefined ? {} : { exceeded: this.exceeded }), ...(notStarted === undefined ? {} : { notStarted }) };
  }

  private schedulePoll(): void {
    this.timer = setTimeout(() => {
      this.poll().catch((err: unknown) => this.fail(err));
    }, MEMORY_POLL_MS);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const kills = await this.oomKills();
    if (this.released) return;
    if (kills === 0) {
      this.schedulePoll();
      return;
    }
    this.exceeded = this.message(kills);
    await this.killAll();
    this.events?.exceeded(this.exceeded);
  }

  private async oomKills(): Promise<number> {
    const text = await readFile(`${this.dir}/memory.oom_control`, 'utf8');
    return Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0);
  }

  /** SIGKILLs every process in the cgroup, including any that left the job's process group. */
  private async killAll(): Promise<void> {
    const text = await readFile(`${this.dir}/cgroup.procs`, 'utf8');
    for (const pid of text.split('\n').filter(Boolean).map(Number)) {
      if (pid === process.pid) continue; // never the agent, whatever the file says
      try {
        process.kill(pid, 'SIGKILL');
      } catch (err) {
        if (!isGoneError(err)) throw err;
      }
    }
  }

  /** Kills what is left and removes the cgroup; rmdir fails with EBUSY until the tree is dead. */
  private async remove(): Promise<void> {
    const deadline = Date.now() + REMOVE_WITHIN_MS;
    for (;;) {
      try {
        await this.killAll();
        await rmdir(this.dir);
        return;
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return;
        if (errnoCode(err) !== 'EBUSY' || Date.now() > deadline) {
          this.logger.warn({ err, cgroup: this.dir }, 'could not remove the memory cgroup of a finished job; it is left behind');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  private fail(err: unknown): void {
    if (this.released) return;
    this.released = true; // stop polling; release() still cleans up
    clearTimeout(this.timer);
    this.events?.failed(err);
  }

  private message(kills: number): string {
    const what = kills === 1 ? 'a process' : `${kills} processes`;
    return `memory limit of ${formatBytes(this.limitBytes)} exceeded (cgroup v1): the kernel killed ${what} of the job, and the rest of it was killed too`;
  }
}
