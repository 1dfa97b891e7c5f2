import { silentLogger, type Logger } from '@longshore/telemetry';
import { HEALTHY, type AttachResult, type Executor, type OwnedRun, type RunRef } from './executor.js';
import { stopForeignGroup } from './foreign-group.js';
import type { MemoryLimiterChoice } from './memory-limit.js';
import { memoryLimiterResolver } from './memory-limiter-choice.js';
import { startSubprocess } from './subprocess-run.js';
import { isSameProcess, leftoverRegistry, type LeftoverRegistry } from './leftovers.js';
import type { UidPool } from './job-uids.js';

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
}

/**
 * Creates the executor that runs a job as a local process in its own process group (POSIX
 * only). `stop` sends SIGTERM to the whole group, then SIGKILL after the grace it is given; when
 * the job's main process exits, anything it left in its group is killed too. Output is streamed
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
  const settings = {
    maxLineBytes,
    memoryLimiter: memoryLimiterResolver(memoryLimiter, opts.logger ?? silentLogger()),
    ...(leftovers ? { leftovers } : {}),
    ...(opts.users ? { users: opts.users } : {}),
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
  };
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
