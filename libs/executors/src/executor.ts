/** Which of the child's output pipes a line came from. */
export type OutputStream = 'stdout' | 'stderr';

/** One attempt of one job, as an executor needs it. Built by the agent for each run. */
export interface RunRequest {
  jobId: string;
  attempt: number;
  /**
   * The argv. `command[0]` is looked up on the `PATH` of {@link RunRequest.env}, not the agent's.
   * No shell is involved unless the argv itself names one (`['sh', '-c', '…']`).
   */
  command: string[];
  /**
   * The complete environment of the child: nothing of the agent's own environment is added.
   * Build it with {@link buildJobEnv} so the agent's secrets and `LONGSHORE_*` settings stay out.
   */
  env: Record<string, string>;
  /** The child's working directory; it must exist. Absent = `privateDir`, else the agent's own. */
  workingDir?: string;
  /**
   * A fresh directory for this run only, which the executor creates (mode 0700, owned by the
   * job's user), runs the job in unless `workingDir` is set, and removes afterwards. Its parent
   * must exist. Point `HOME` and `TMPDIR` of {@link RunRequest.env} into it with
   * `buildJobEnv({ privateDir })`.
   */
  privateDir?: string;
  /** Wall-clock limit of the run; 0 = no limit. */
  timeoutMs: number;
  /**
   * Memory limit of the job's whole process tree, in bytes (a positive integer); absent = no
   * limit. A job over it is killed and reported as `oom`. How it is enforced (a memory cgroup, or
   * a best-effort RSS watchdog) is up to the executor; see `SubprocessExecutorOptions.memoryLimiter`.
   */
  memoryBytes?: number;
  /** Aborting it cancels the run (also when it is already aborted before the run starts). */
  signal: AbortSignal;
  /**
   * Called once per output line, without its line ending, in order per stream, while the job
   * runs. It must not throw: if it does, the job is stopped and `run()` rejects with that error.
   */
  onLine(stream: OutputStream, text: string): void;
}

/**
 * How a run ended. A job that never started (`start_failed`) is kept apart from one that ran
 * and failed (`exited` with a non-zero code): the first may be retried elsewhere, the second is
 * the job's own doing.
 */
export type RunOutcome =
  /**
   * The job ran to its end; `exitCode` 0 is success. A job killed by a signal it did not get
   * from the executor reports `128 + signal number`, as shells do (SIGKILL → 137).
   */
  | { kind: 'exited'; exitCode: number }
  /** The job ran longer than `timeoutMs` and was stopped. */
  | { kind: 'timeout'; message: string }
  /** The request's `signal` was aborted and the job was stopped (or never started). */
  | { kind: 'cancelled'; message: string }
  /**
   * The job was killed for exceeding its memory limit (`RunRequest.memoryBytes`): the kernel
   * killed a process of it, or the executor did. The message says how it was detected.
   */
  | { kind: 'oom'; message: string }
  /**
   * The job never ran: empty command, command not found or not executable, working dir missing,
   * or its memory limit could not be set up on this agent.
   */
  | { kind: 'start_failed'; message: string };

/** Runs jobs. One instance serves many concurrent runs; each run owns its own state. */
export interface Executor {
  readonly name: 'subprocess' | 'noop';
  /** Whether this executor can run jobs on this host right now (the agent asks before choosing it). */
  probe(): Promise<boolean>;
  /**
   * Runs one attempt to its end. Never rejects for job-level problems (they are outcomes); it
   * rejects only for caller bugs, such as an `onLine` that throws, and when a memory limit can
   * no longer be enforced while the job runs (the host changed under the agent; the job is killed).
   */
  run(req: RunRequest): Promise<RunOutcome>;
}
