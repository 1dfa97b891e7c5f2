import { silentLogger, type Logger } from '@longshore/telemetry';
import { chmodSync, mkdirSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { HEALTHY, type AttachResult, type Executor, type LeftoversRemoved, type OwnedRun, type RunRef } from './executor.js';
import { stopForeignGroup } from './foreign-group.js';
import type { MemoryLimiterChoice } from './memory-limit.js';
import { memoryLimiterResolver } from './memory-limiter-choice.js';
import { startSubprocess } from './subprocess-run.js';
import { isSameProcess, leftoverRegistry, type LeftoverRegistry } from './leftovers.js';
import type { UidPool } from './job-uids.js';
import type { RunCgroups } from './run-cgroup.js';

const MEMORY_LIMITER_CHOICES: readonly MemoryLimiterChoice[] = ['auto', 'cgroup-v1', 'rss-watchdog', 'none'];

/** Tuning of {@link createSubprocessExecutor}; the defaults suit most agents. */
export interface SubprocessExecutorOptions {
  /** Longer output lines are emitted in pieces of at most this many bytes; default 16 * 1024. */
  maxLineBytes?: number;
  /**
   * How a job's `memoryBytes` is enforced (see `MemoryLimiterKind`); default `auto`: a
   * cgroup v1 memory cgroup where the agent may create one, else the RSS watchdog. Forcing a kind
   * the host cannot offer makes jobs with a memory limit fail to start; `none` ignores limits.
   * The host is probed on the first job with a limit, once per executor.
   */
  memoryLimiter?: MemoryLimiterChoice;
  /** Where the executor reports its memory-limit choice and background problems; default silent. */
  logger?: Logger;
  /**
   * A directory of one agent's own where each running job's process group is noted, so an agent
   * that was killed outright can find what it left running when it starts again
   * (`listOwned`, `sweepLeftovers`). Absent = nothing is noted and `listOwned` finds nothing.
   */
  stateDir?: string;
  /**
   * Runs each job as a uid of its own from this pool (needs root): it can then neither read nor
   * signal the agent or other jobs. Absent = jobs run as the agent's user.
   */
  users?: UidPool;
  /**
   * Gives each run a cgroup of its own (see `probeRunCgroups`): when the run ends, whatever is
   * left in it is killed, also processes that left the job's process group (`setsid`, double
   * fork). Absent = only the job's process group is killed (and, with `users`, its uid's processes).
   */
  cgroups?: RunCgroups;
  /**
   * The directory that holds this agent's run directories (every `RunRequest.privateDir` is
   * directly in it, and nothing else is): `removeLeftovers` empties it, since a run killed with
   * its agent could not remove its own.
   */
  privateDirsRoot?: string;
}

/**
 * Creates the executor that runs a job as a local process in its own process group (POSIX
 * only). `stop` sends SIGTERM to the whole group, then SIGKILL after the grace it is given; when
 * the job's main process exits, anything it left in its group is killed too, and with
 * `cgroups` everything in the run's cgroup (also what left the group: `setsid`, double forks). Output is streamed
 * line by line while the job runs. A job's `memoryBytes` is enforced on its whole process tree
 * and a job over it ends as `oom` (see {@link SubprocessExecutorOptions.memoryLimiter}).
 * A run cannot be re-attached after its agent is gone (its pipes went with it): `attach` says so
 * and offers to stop it.
 *
 * @throws RangeError when `maxLineBytes` is not a positive integer, or `memoryLimiter` is not one
 *   of the choices: a configuration bug, reported at start-up rather than per job.
 */
export function createSubprocessExecutor(opts: SubprocessExecutorOptions = {}): Executor {
  const maxLineBytes = opts.maxLineBytes ?? 16 * 1024;
  const memoryLimiter = opts.memoryLimiter ?? 'auto';
  if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) {
    throw new RangeError(`maxLineBytes must be an integer >= 1, got ${maxLineBytes}`);
  }
  if (!MEMORY_LIMITER_CHOICES.includes(memoryLimiter)) {
    throw new RangeError(`memoryLimiter must be one of ${MEMORY_LIMITER_CHOICES.join(', ')}, got ${String(memoryLimiter)}`);
  }
  const leftovers = opts.stateDir ? leftoverRegistry(opts.stateDir) : undefined;
  if (opts.privateDirsRoot !== undefined) {
    // Jobs with uids of their own must pass through it to their directories, but not list it.
    mkdirSync(opts.privateDirsRoot, { recursive: true, mode: 0o711 });
    chmodSync(opts.privateDirsRoot, 0o711);
  }
  const settings = {
    maxLineBytes,
    memoryLimiter: memoryLimiterResolver(memoryLimiter, opts.logger ?? silentLogger()),
    ...(leftovers ? { leftovers } : {}),
    ...(opts.users ? { users: opts.users } : {}),
    ...(opts.cgroups ? { cgroups: opts.cgroups } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  };
  return {
    name: 'subprocess',
    reattachable: false,
    // Process groups and POSIX signals are what make stop and cleanup work; Windows has neither.
    probe: () => Promise.resolve(process.platform !== 'win32' ? HEALTHY : { healthy: false, reason: `subprocess jobs cannot run on ${process.platform}` }),
    start: (req, signal) => startSubprocess(req, signal, settings),
    attach: (ref) => Promise.resolve(ref).then(attachSubprocess),
    // The state dir is one agent's own already (the agent names it after its id).
    listOwned: () => listLeftovers(leftovers),
    removeLeftovers: () => removeLeftovers(opts.cgroups, opts.privateDirsRoot),
  };
}

/** Kills and removes the run cgroups of the agent's earlier life, then removes its run directories. */
async function removeLeftovers(cgroups: RunCgroups | undefined, privateDirsRoot: string | undefined): Promise<LeftoversRemoved> {
  const swept = (await cgroups?.sweep()) ?? { removed: 0, problems: [] };
  const problems = [...swept.problems];
  let directories = 0;
  if (privateDirsRoot !== undefined) {
    let names: string[] = [];
    try {
      names = await readdir(privateDirsRoot);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`cannot list ${privateDirsRoot}: ${(err as Error).message}`);
    }
    for (const name of names) {
      try {
        await rm(join(privateDirsRoot, name), { recursive: true, force: true, maxRetries: 3 });
        directories++;
      } catch (err) {
        problems.push(`cannot remove ${join(privateDirsRoot, name)}: ${(err as Error).message}`);
      }
    }
  }
  return { cgroups: swept.removed, directories, problems };
}

function attachSubprocess(ref: RunRef): AttachResult {
  if (ref.kind !== 'subprocess') throw new TypeError(`the subprocess executor cannot attach to a ${ref.kind} run`);
  const { pid, startTime } = ref;
  if (!isSameProcess(pid, startTime)) return { kind: 'gone' };
  return {
    kind: 'not-reattachable',
    reason: `process group ${pid} outlived the agent that started it, and its output pipes and exit status went with that agent`,
    stop: (graceMs) => stopForeignGroup(pid, startTime, graceMs),
  };
}

async function listLeftovers(leftovers: LeftoverRegistry | undefined): Promise<OwnedRun[]> {
  if (!leftovers) return [];
  return (await leftovers.live()).map(({ jobId, attempt, pgid, startTime }) => ({ jobId, attempt, ref: { kind: 'subprocess', pid: pgid, startTime } }));
}
