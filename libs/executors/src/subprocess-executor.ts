import { silentLogger, type Logger } from '@longshore/telemetry';
import type { Executor } from './executor.js';
import type { MemoryLimiterChoice } from './memory-limit.js';
import { memoryLimiterResolver } from './memory-limiter-choice.js';
import { runSubprocess } from './subprocess-run.js';
import { leftoverRegistry } from './leftovers.js';
import type { UidPool } from './job-uids.js';

const MEMORY_LIMITER_CHOICES: readonly MemoryLimiterChoice[] = ['auto', 'cgroup-v1', 'rss-watchdog', 'none'];

/** Tuning of {@link createSubprocessExecutor}; the defaults suit most agents. */
export interface SubprocessExecutorOptions {
  /** How long a stopped job gets between SIGTERM and SIGKILL to clean up; default 10_000. */
  killGraceMs?: number;
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
   * A directory where each running job's process group is noted (see `sweepLeftovers`), so an
   * agent that was killed outright can stop what it left running when it starts again.
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
 * only). Timeout and cancel send SIGTERM to the whole group, then SIGKILL after `killGraceMs`;
 * when the job's main process exits, anything it left in its group is killed too. Output is
 * streamed line by line while the job runs. A job's `memoryBytes` is enforced on its whole
 * process tree and a job over it ends as `oom` (see {@link SubprocessExecutorOptions.memoryLimiter}).
 *
 * @throws RangeError when an option is not a non-negative (`killGraceMs`) or positive
 *   (`maxLineBytes`) integer, or `memoryLimiter` is not one of the choices: a configuration bug,
 *   reported at start-up rather than per job.
 */
export function createSubprocessExecutor(opts: SubprocessExecutorOptions = {}): Executor {
  const killGraceMs = opts.killGraceMs ?? 10_000;
  const maxLineBytes = opts.maxLineBytes ?? 16 * 1024;
  const memoryLimiter = opts.memoryLimiter ?? 'auto';
  if (!Number.isInteger(killGraceMs) || killGraceMs < 0) {
    throw new RangeError(`killGraceMs must be an integer >= 0, got ${killGraceMs}`);
  }
  if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) {
    throw new RangeError(`maxLineBytes must be an integer >= 1, got ${maxLineBytes}`);
  }
  if (!MEMORY_LIMITER_CHOICES.includes(memoryLimiter)) {
    throw new RangeError(`memoryLimiter must be one of ${MEMORY_LIMITER_CHOICES.join(', ')}, got ${String(memoryLimiter)}`);
  }
  const settings = {
    killGraceMs,
    maxLineBytes,
    memoryLimiter: memoryLimiterResolver(memoryLimiter, opts.logger ?? silentLogger()),
    ...(opts.stateDir ? { leftovers: leftoverRegistry(opts.stateDir) } : {}),
    ...(opts.users ? { users: opts.users } : {}),
  };
  return {
    name: 'subprocess',
    // Process groups and POSIX signals are what make cancel and cleanup work; Windows has neither.
    probe: () => Promise.resolve(process.platform !== 'win32'),
    run: (req) => runSubprocess(req, settings),
  };
}
