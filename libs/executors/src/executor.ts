import type { AgentExecutorName, DockerJobOptions, EcsJobOptions, EcsSecret } from '@longshore/domain';

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
  /**
   * Memory limit of the job's whole process tree, in bytes (a positive integer); absent = no
   * limit. A job over it is killed and reported as `oom`. How it is enforced (a memory cgroup, or
   * a best-effort RSS watchdog) is up to the executor; see `SubprocessExecutorOptions.memoryLimiter`.
   */
  memoryBytes?: number;
  /**
   * CPU limit in thousandths of a CPU (a CFS quota): the docker executor's `NanoCpus`; a
   * subprocess's run cgroup where the agent can set one (else none: see the agent's isolation).
   */
  cpusMilli?: number;
  /** Where the run's output goes while it runs; see {@link LineSink}. */
  onLine: LineSink;
  /** What the docker executor needs on top (the image); other executors ignore it. */
  docker?: DockerRunOptions;
  /** What the ecs executor needs on top (the job's image and ECS options); other executors ignore it. */
  ecs?: EcsRunOptions;
}

/** The ecs-specific part of a {@link RunRequest}: the job's image (for image lookup) and its own ECS options. */
export interface EcsRunOptions extends EcsJobOptions {
  image?: string;
  /**
   * The job's secrets as the task definition's container `secrets` (Secrets Manager ARNs pinned to
   * a version): run in a revision derived from the job's task definition that has them, so ECS
   * fetches the values itself and none travels in RunTask's overrides.
   */
  secrets?: readonly EcsSecret[];
}

export type { DockerPullPolicy } from '@longshore/domain';

/**
 * The docker-specific part of a {@link RunRequest}: the image and the job's own run options
 * (the executor applies the secure defaults to whatever is unset, and refuses what its
 * allow-list does not allow).
 */
export interface DockerRunOptions extends DockerJobOptions {
  /** The image reference, e.g. `alpine:3.20` or `registry.example:5000/team/tool@sha256:…` (the base when there are build steps). */
  image: string;
}

/** How many lines of a run's output, per stream, were already delivered (and stored). */
export interface OutputPosition {
  stdout: number;
  stderr: number;
}

/**
 * Called once per output line, without its line ending, in order per stream, while the job
 * runs. It must not throw: if it does, the executor kills the job and `wait()` rejects.
 * (A callback rather than an iterator: the agent writes lines as they come. Re-attaching to a
 * run that outlived its agent gives the new sink to {@link Executor.attach}.)
 */
export type LineSink = (stream: OutputStream, text: string) => void;

/**
 * What identifies a run outside the agent that started it: small and serializable, so it can be
 * stored with the attempt and handed to {@link Executor.attach} after the agent restarts. One
 * kind per executor.
 */
export type RunRef =
  /**
   * The job's process, which leads its process group. `startTime` (clock ticks since boot, from
   * `/proc/<pid>/stat`) tells it from a later process that got the same pid.
   */
  | { kind: 'subprocess'; pid: number; startTime: string }
  /** The job's container, by its full id (it carries the `longshore.*` labels of its job). */
  | { kind: 'docker'; containerId: string }
  /** The job's ECS task, by its ARN (it carries the `longshore.*` tags of its job). */
  | { kind: 'ecs'; taskArn: string }
  | { kind: 'noop' };

/**
 * How a run ended, as its executor saw it. A job that never started (`start_failed`) is kept
 * apart from one that ran and failed (`exited` with a non-zero code): the first may be retried
 * elsewhere, the second is the job's own doing. Timeout and cancel are not here: the caller owns
 * the deadline and the cancel, and knows why it called {@link RunHandle.stop}.
 */
export type RunOutcome =
  /**
   * The job ran to its end; `exitCode` 0 is success. A job killed by a signal it did not get
   * from the executor reports `128 + signal number`, as shells do (SIGKILL → 137).
   */
  | { kind: 'exited'; exitCode: number }
  /**
   * The run was ended by {@link RunHandle.stop} (before any other end: a job that had already
   * exited reports that). `detail` says how, when it took more than the polite request
   * (e.g. "still running 10s after SIGTERM; killed with SIGKILL").
   */
  | { kind: 'stopped'; detail?: string }
  /**
   * The job was killed for exceeding its memory limit (`RunRequest.memoryBytes`): the kernel
   * killed a process of it, or the executor did. The message says how it was detected.
   */
  | { kind: 'oom'; message: string }
  /**
   * The job never ran although the executor had started something for it (the wrapper that puts
   * it under its memory limit failed). Most start failures reject {@link Executor.start} instead.
   */
  | { kind: 'start_failed'; message: string };

/**
 * One started run: follow it to its end, or stop it. The executor neither times nor cancels a
 * run; whoever holds the handle does (the agent's job run owns one deadline and one signal).
 */
export interface RunHandle {
  readonly ref: RunRef;
  /** What the executor chose for the run beyond the request, recorded on the attempt (an ECS task's Fargate size). */
  readonly detail?: string;
  /**
   * Resolves with how the run ended, once everything of it is cleaned up (its output delivered,
   * its processes, directory and limits gone). Every call returns the same promise. Rejects only
   * when the executor failed (the `onLine` sink threw, or a memory limit could no longer be
   * enforced: the job was killed), never for what the job did.
   */
  wait(): Promise<RunOutcome>;
  /**
   * Stops the run: asks it to end (SIGTERM, `docker stop`), and forces it (SIGKILL) if it is
   * still there `graceMs` later; 0 forces at once. Resolves once the run has ended. A run that
   * already ended is left as it is; a second call can only shorten the grace to 0.
   *
   * @throws RangeError (as a rejection) when `graceMs` is not an integer >= 0.
   */
  stop(graceMs: number): Promise<void>;
}

/** What {@link Executor.attach} found for a stored {@link RunRef}. */
export type AttachResult =
  /** The run is still there and its handle follows it (output from now on goes to the new sink). */
  | { kind: 'attached'; handle: RunHandle }
  /** The run is over, or what the reference named is now something else (a reused pid). */
  | { kind: 'gone' }
  /**
   * The run is still there but cannot be followed again (a subprocess's pipes and exit status
   * died with the agent that started it): all that can be done is to stop it.
   */
  | { kind: 'not-reattachable'; reason: string; stop(graceMs: number): Promise<void> };

/** A run an executor started for an agent and still knows of (see {@link Executor.listOwned}). */
export interface OwnedRun {
  jobId: string;
  attempt: number;
  ref: RunRef;
  /** The agent it was started for, where the executor records it (a container's label). */
  agentId?: string;
}

/** What {@link Executor.probe} found: healthy, or not and why (e.g. `connect ENOENT /var/run/docker.sock`). */
export type ProbeResult = { healthy: true } | { healthy: false; reason: string };

/** The answer of an executor that can always run here. */
export const HEALTHY: ProbeResult = Object.freeze({ healthy: true });

/**
 * Runs jobs as handles (Nomad's task drivers are the model: start, wait, stop, recover). One
 * instance serves many concurrent runs; each run owns its own state.
 */
export interface Executor {
  readonly name: AgentExecutorName;
  /**
   * Whether a run can be followed again by a later life of its agent ({@link Executor.attach}
   * answers `attached` while it runs): true for containers and tasks, which live outside the
   * agent; false for subprocesses, whose pipes and exit status die with it. The agent records
   * runs for re-adoption only for executors where this is true.
   */
  readonly reattachable: boolean;
  /**
   * Whether this executor can run jobs on this host right now, and if not why (the agent asks at
   * start and on every heartbeat, and claims jobs only for executors that are healthy). Never
   * rejects: a failure is `{ healthy: false, reason }`. Aborting `signal` gives up on an answer
   * still awaited (the probe then resolves unhealthy soon).
   */
  probe(signal: AbortSignal): Promise<ProbeResult>;
  /**
   * Starts one attempt and resolves with its handle once the job is running. Aborting `signal`
   * abandons a start still in progress; once the handle is out, stop it with {@link RunHandle.stop}.
   *
   * @throws StartFailedError when the job cannot start (empty command, program not found or not
   *   executable, working dir missing, memory limit impossible here): the attempt is `start_failed`.
   * @throws StartCancelledError when `signal` was aborted before the job started (nothing runs).
   */
  start(request: RunRequest, signal: AbortSignal): Promise<RunHandle>;
  /**
   * Finds a run from its stored reference, e.g. after the agent restarted; see {@link AttachResult}.
   * With `after` (the lines of its output already stored, per stream), output is delivered from
   * the line after those (lines printed while nobody was attached included) where the executor
   * can replay it; without, from now on.
   */
  attach(ref: RunRef, onLine: LineSink, after?: OutputPosition): Promise<AttachResult>;
  /**
   * The runs this executor started for agent `agentId` that are still there (processes, containers,
   * tasks), so that an agent restarted with the same id can find what its previous life left.
   */
  listOwned(agentId: string): Promise<OwnedRun[]>;
  /**
   * The runs of every agent of `pool` this executor can reach (containers on the same engine),
   * each with its `agentId`; absent for executors whose runs die with their agent.
   */
  listPool?(pool: string): Promise<OwnedRun[]>;
  /**
   * Removes what the runs of an earlier life of this agent left behind besides their processes,
   * once the agent has stopped those ({@link Executor.listOwned}) and before it starts new runs:
   * for subprocesses, the runs' cgroups (killing whatever is still in them, also processes that
   * left their group) and private directories. Absent where runs leave nothing else behind.
   */
  removeLeftovers?(): Promise<LeftoversRemoved>;
}

/** What {@link Executor.removeLeftovers} removed, and what it could not. */
export interface LeftoversRemoved {
  cgroups: number;
  directories: number;
  problems: string[];
}
