import type { WrapOptions } from './cgroup-v1-wrapper.js';

/**
 * How the subprocess executor enforces a job's memory limit on its whole process tree:
 * - `cgroup-v1`: a memory cgroup per run, under the agent's own cgroup; the kernel enforces the
 *   limit and counts OOM kills. Exact.
 * - `rss-watchdog`: polls the summed RSS of the job's process group and SIGKILLs the group
 *   above the limit. **Best effort**: a job can overshoot between polls, shared pages are
 *   counted once per process, and processes that leave the group (`setsid`) are not counted.
 *
 * On a cgroup v2 host (and wherever no v1 memory hierarchy is writable) `auto` picks the watchdog:
 * a v2 limiter was left out because no host it is built and tested on runs cgroup v2.
 */
export type MemoryLimiterKind = 'cgroup-v1' | 'rss-watchdog';

/** What a subprocess executor is told to use: `auto` probes; `none` ignores memory limits. */
export type MemoryLimiterChoice = 'auto' | MemoryLimiterKind | 'none';

/** What a run's {@link MemoryGuard} tells the run while the job is running. */
export interface MemoryGuardEvents {
  /** The job went over its limit; the run must SIGKILL its process group and report `oom`. */
  exceeded(message: string): void;
  /** The limit can no longer be enforced (an unexpected I/O error); the run must stop the job. */
  failed(error: unknown): void;
}

/** What a {@link MemoryGuard} found once the run was over. */
export interface MemoryVerdict {
  /** Set when the job went over its limit: the `oom` message. */
  exceeded?: string;
  /** Set when the job never got under its limit, so it never ran: the `start_failed` message. */
  notStarted?: string;
}

/** Enforces the memory limit of one run. */
export interface MemoryGuard {
  /**
   * Set when the job must be started through a wrapper that puts it under the limit before it
   * runs: returns the argv to spawn instead of `command`. The run must then check that the
   * program can be executed itself, since a failed exec becomes the wrapper's exit status.
   * `opts` asks for what the run needs of the wrapper besides (the gate of its run cgroup).
   */
  readonly wrap?: (command: string[], env: Record<string, string>, opts?: WrapOptions) => string[];
  /**
   * Called synchronously right after spawn with the child's pid (which is also its process
   * group id); starts watching. Never throws: problems arrive as `events.failed`.
   */
  attach(pid: number, events: MemoryGuardEvents): void;
  /**
   * Called once, when the run is over (the job exited or never started): stops watching, kills
   * whatever is left under the limit and frees what the guard holds (its cgroup), then says
   * what it found. Never rejects.
   */
  release(): Promise<MemoryVerdict>;
}

/** One way of enforcing memory limits, chosen once per executor. */
export interface MemoryLimiter {
  readonly kind: MemoryLimiterKind;
  /**
   * Prepares one run (creates its cgroup). `owner` is the uid the job runs as, when not the
   * agent's: the job must then be able to move itself under the limit. Rejects when that is impossible: the job must not start. */
  prepare(run: { jobId: string; attempt: number; limitBytes: number; owner?: { uid: number; gid: number } }): Promise<MemoryGuard>;
}

/** How often the watchers look at a running job's memory. */
export const MEMORY_POLL_MS = 250;

/** Formats a byte count for messages: 67108864 → "64 MiB", 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number(value.toFixed(1))} ${units[unit]}`;
}
