import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { formatDuration } from '@longshore/domain';
import type { Logger } from '@longshore/telemetry';
import { wrapInCgroup } from './cgroup-v1-wrapper.js';
import type { OutputStream, RunHandle, RunOutcome, RunRequest } from './executor.js';
import { LineSplitter } from './line-splitter.js';
import { formatBytes, type MemoryGuard, type MemoryVerdict } from './memory-limit.js';
import type { LeftoverRegistry } from './leftovers.js';
import type { MemoryLimiterResolution } from './memory-limiter-choice.js';
import { processStartTime } from './proc-fs.js';
import { signalGroup } from './process-group.js';
import { checkProgram } from './program-check.js';
import { StartFailedError, throwIfStartCancelled } from './start-errors.js';
import { checkWorkingDir, describeSpawnError } from './start-failure.js';
import type { UidPool } from './job-uids.js';
import { openRunIdentity, type RunIdentity } from './run-identity.js';
import type { RunCgroup, RunCgroups } from './run-cgroup.js';

/** Resolved settings of the subprocess executor, shared by its runs. */
export interface SubprocessSettings {
  maxLineBytes: number;
  /** How this executor enforces memory limits (resolved on first use, then cached). */
  memoryLimiter: () => Promise<MemoryLimiterResolution>;
  /** Notes each running job's process group, for a restarted agent to sweep. */
  leftovers?: LeftoverRegistry;
  /** Set when each run gets a uid of its own (the agent runs as root). */
  users?: UidPool;
  /** Set when each run gets a cgroup of its own, whose processes are all killed when it ends. */
  cgroups?: RunCgroups;
  /** Where problems met while cleaning up after a run are reported. */
  logger?: Logger;
}

// After the group is killed, how long to wait for stdout/stderr to close: a process that left
// the group (setsid, double fork) can hold the pipes open for ever.
const STREAM_DRAIN_MS = 1000;

// `requested` is the holder's stop (SIGTERM, SIGKILL after its grace). The others are the
// executor's own and SIGKILL at once: `oom` and `limit_failed` (the memory limit could no longer
// be enforced) give a job over its limit no time to grow further; `callback_failed` (the output
// sink threw) means the run is already lost.
type StopReason = 'requested' | 'callback_failed' | 'oom' | 'limit_failed';
type Child = ChildProcessByStdio<null, Readable, Readable>;

/**
 * Starts one job as a process group and resolves with its handle once it runs; see
 * `createSubprocessExecutor`. Rejects with `StartFailedError` or `StartCancelledError`.
 */
export async function startSubprocess(req: RunRequest, signal: AbortSignal, settings: SubprocessSettings): Promise<RunHandle> {
  const program = req.command[0];
  if (program === undefined || program === '') {
    throw new StartFailedError('command is empty: a job needs at least the program to run (argv[0])');
  }
  throwIfStartCancelled(signal);
  if (req.workingDir !== undefined) {
    const problem = await checkWorkingDir(req.workingDir);
    if (problem !== undefined) throw new StartFailedError(problem);
    throwIfStartCancelled(signal);
  }
  const identity = await openRunIdentity(req, settings.users);
  if (typeof identity === 'string') throw new StartFailedError(identity);
  try {
    return await startAs(program, identity, req, signal, settings);
  } catch (err) {
    // It never started: undo the uid and directory now (a started run does so when it ends).
    await identity.close();
    throw err;
  }
}

/** Starts the job as `identity` (its uid, in its directory), once those are set up. */
async function startAs(program: string, identity: RunIdentity, req: RunRequest, signal: AbortSignal, settings: SubprocessSettings): Promise<RunHandle> {
  const cgroup = await createRunCgroup(req, settings);
  try {
    const memory = await prepareMemoryGuard(req, settings, identity);
    if (typeof memory === 'string') throw new StartFailedError(memory);
    // A wrapper execs the job, so spawn can no longer tell that the program cannot be run.
    const unrunnable = memory?.wrap || cgroup ? await checkProgram(program, req.env, identity.cwd ?? process.cwd()) : undefined;
    if (unrunnable !== undefined || signal.aborted) {
      await memory?.release();
      throwIfStartCancelled(signal);
      const error = Object.assign(new Error(unrunnable), { code: unrunnable });
      throw new StartFailedError(describeSpawnError(program, req.env, error));
    }
    return await new SubprocessRun(req, settings, identity, memory, cgroup).start(program);
  } catch (err) {
    // Nothing of the job runs in it (a started run closes it when it ends).
    await cgroup?.close();
    throw err;
  }
}

/** The run's own cgroup, when the agent makes them; @throws StartFailedError when it cannot be made. */
async function createRunCgroup(req: RunRequest, settings: SubprocessSettings): Promise<RunCgroup | undefined> {
  const cgroups = settings.cgroups;
  if (!cgroups) return undefined;
  try {
    return await cgroups.create(req.jobId, req.attempt, req.cpusMilli);
  } catch (err) {
    throw new StartFailedError(`could not create the job's ${cgroups.kind} cgroup under ${cgroups.parentDir}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The guard of the run's memory limit, none when it has no limit, or why the job cannot start. */
async function prepareMemoryGuard(req: RunRequest, settings: SubprocessSettings, identity: RunIdentity): Promise<MemoryGuard | string | undefined> {
  const limitBytes = req.memoryBytes;
  if (limitBytes === undefined) return undefined;
  if (!Number.isSafeInteger(limitBytes) || limitBytes <= 0) {
    return `memory limit must be a positive whole number of bytes, got ${limitBytes}`;
  }
  const resolution = await settings.memoryLimiter();
  if (resolution.kind === 'ignore') return undefined;
  if (resolution.kind === 'unavailable') {
    return `memory limit of ${formatBytes(limitBytes)} cannot be enforced on this agent: ${resolution.reason}`;
  }
  try {
    const owner = identity.uid === undefined ? {} : { owner: { uid: identity.uid, gid: identity.gid ?? identity.uid } };
    return await resolution.limiter.prepare({ jobId: req.jobId, attempt: req.attempt, limitBytes, ...owner });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return `could not set up the memory limit of ${formatBytes(limitBytes)} (${resolution.limiter.kind}): ${detail}`;
  }
}

/** One run: owns its child, its stop timer and its output, and settles exactly once. */
class SubprocessRun {
  private child: Child | undefined;
  private pid = 0;
  private exited = false;
  private settled = false;
  private stopReason: StopReason | undefined;
  private graceMs = 0;
  private killedAfterGrace = false;
  // The `oom` message, when the memory guard reported the job over its limit while it ran.
  private memoryMessage: string | undefined;
  // Why the job could not be moved into its cgroup (its wrapper was killed before running it).
  private notMoved: string | undefined;
  private runError: Error | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly lines: Record<OutputStream, LineSplitter>;
  private readonly result: Promise<RunOutcome>;
  private resolveResult!: (outcome: RunOutcome) => void;
  private rejectResult!: (error: unknown) => void;

  constructor(
    private readonly req: RunRequest,
    private readonly settings: SubprocessSettings,
    private readonly identity: RunIdentity,
    private readonly memory: MemoryGuard | undefined,
    private readonly cgroup: RunCgroup | undefined,
  ) {
    this.lines = {
      stdout: new LineSplitter(settings.maxLineBytes, (text) => this.deliver('stdout', text)),
      stderr: new LineSplitter(settings.maxLineBytes, (text) => this.deliver('stderr', text)),
    };
    this.result = new Promise((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    this.result.catch(() => undefined); // a holder that never calls wait() must not crash the agent
  }

  /** Spawns the job; resolves with its handle, or rejects with `StartFailedError` if it did not start. */
  async start(program: string): Promise<RunHandle> {
    let child: Child;
    // With a run cgroup the job starts behind a gate, which the agent opens once it has moved
    // the wrapper into the cgroup: everything the job ever forks is then in it.
    const gate = this.cgroup !== undefined;
    const { command, env } = this.req;
    const argv = this.memory?.wrap?.(command, env, { gate }) ?? (gate ? wrapInCgroup(undefined, command, env, { gate }) : command);
    const [file = program, ...args] = argv;
    try {
      child = spawn(file, args, {
        env: this.req.env,
        cwd: this.identity.cwd,
        ...(this.identity.uid === undefined ? {} : { uid: this.identity.uid, gid: this.identity.gid }),
        detached: true, // its own process group, so stop reaches its children too
        stdio: gate ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
      }) as Child;
    } catch (err) {
      // Invalid arguments (a NUL byte in argv or env) are thrown rather than emitted.
      return this.notStarted(describeSpawnError(program, this.req.env, err));
    }
    this.child = child;
    const pid = child.pid;
    if (pid === undefined) {
      // The start failed; 'error' follows with why.
      return new Promise((_resolve, reject) => {
        child.once('error', (err) => {
          child.stdout.destroy();
          child.stderr.destroy();
          this.notStarted(describeSpawnError(program, this.req.env, err)).catch(reject);
        });
      });
    }
    this.pid = pid;
    // Read before anything can reap it: the process exists (at worst as a zombie) until Node sees its exit.
    const startTime = processStartTime(pid) ?? '';
    this.settings.leftovers?.record(this.req.jobId, this.req.attempt, pid);
    this.guardMemory();
    // After a successful spawn Node emits 'error' only for kill()/send() failures, which we never call.
    child.on('error', () => undefined);
    child.once('exit', (code, signal) => {
      this.onExit(code, signal).catch((err: unknown) => void this.fail(err));
    });
    for (const name of ['stdout', 'stderr'] as const) {
      child[name].on('data', (chunk: Buffer) => this.lines[name].push(chunk));
      // A read error ends the stream like EOF does; the exit status still decides the outcome.
      child[name].on('error', () => undefined);
    }
    if (this.cgroup) await this.enterCgroup(this.cgroup, child.stdio[3] as Writable);
    return Promise.resolve({
      ref: { kind: 'subprocess', pid, startTime },
      wait: () => this.result,
      stop: (graceMs) => this.requestStop(graceMs),
    });
  }

  /**
   * Moves the wrapper into the run's cgroup and opens its gate; when the move fails, kills the
   * wrapper before it runs the job (the run then ends as `start_failed`).
   */
  private async enterCgroup(cgroup: RunCgroup, gate: Writable): Promise<void> {
    gate.on('error', () => undefined); // the wrapper may be gone already; its exit tells
    try {
      await cgroup.add(this.pid);
      gate.end('\n');
    } catch (err) {
      this.notMoved = `could not move the job into its cgroup ${cgroup.dir}: ${err instanceof Error ? err.message : String(err)}`;
      gate.destroy();
      signalGroup(this.pid, 'SIGKILL');
    }
  }

  /** Frees the memory guard of a job that never started and says why it did not. */
  private async notStarted(message: string): Promise<never> {
    await this.memory?.release();
    throw new StartFailedError(message);
  }

  /** Has the memory guard watch the child from now on. */
  private guardMemory(): void {
    this.memory?.attach(this.pid, {
      exceeded: (message) => {
        this.memoryMessage = message;
        this.stop('oom');
      },
      failed: (error) => {
        const { jobId, attempt } = this.req;
        this.runError = new Error(`the memory limit of job ${jobId} (attempt ${attempt}) could no longer be enforced; the job was stopped`, { cause: error });
        this.stop('limit_failed');
      },
    });
  }

  private requestStop(graceMs: number): Promise<void> {
    if (!Number.isInteger(graceMs) || graceMs < 0) return Promise.reject(new RangeError(`graceMs must be an integer >= 0, got ${graceMs}`));
    this.graceMs = this.stopReason === undefined ? graceMs : this.graceMs;
    this.stop('requested', graceMs === 0);
    return this.result.then(
      () => undefined,
      () => undefined,
    );
  }

  /**
   * SIGTERM to the whole group, then SIGKILL if it is still there after the grace period; the
   * executor's own reasons, and a stop without grace, SIGKILL at once.
   */
  private stop(reason: StopReason, now = reason !== 'requested'): void {
    if (this.exited || this.pid === 0) return;
    // Already stopping (the first reason is the one reported): only a stop "now" cuts the grace short.
    if (this.stopReason !== undefined) {
      if (now) signalGroup(this.pid, 'SIGKILL');
      return;
    }
    this.stopReason = reason;
    if (now) {
      signalGroup(this.pid, 'SIGKILL');
      return;
    }
    signalGroup(this.pid, 'SIGTERM');
    this.graceTimer = setTimeout(() => {
      this.killedAfterGrace = signalGroup(this.pid, 'SIGKILL');
    }, this.graceMs);
  }

  private async onExit(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    this.exited = true;
    clearTimeout(this.graceTimer);
    // Whatever the job left running in its group (`sleep 300 &`) goes with it, and with its
    // cgroup whatever left the group (setsid, double fork).
    signalGroup(this.pid, 'SIGKILL');
    const cgroupProblem = await this.cgroup?.close();
    if (cgroupProblem !== undefined) this.settings.logger?.warn({ job: this.req.jobId, attempt: this.req.attempt }, `${cgroupProblem}; processes of the job may be left running`);
    // The guard kills what is left under the limit (its cgroup may hold processes that left the
    // group) and says whether the limit was hit after the last look.
    const verdict = (await this.memory?.release()) ?? {};
    const child = this.child!;
    const drained = await within(Promise.all([closed(child.stdout), closed(child.stderr)]), STREAM_DRAIN_MS);
    if (!drained) {
      child.stdout.destroy();
      child.stderr.destroy();
    }
    this.lines.stdout.end();
    this.lines.stderr.end();
    await this.settle(this.outcome(code, signal, verdict));
  }

  private outcome(code: number | null, signal: NodeJS.Signals | null, verdict: MemoryVerdict): RunOutcome {
    if (this.notMoved !== undefined) return { kind: 'start_failed', message: this.notMoved };
    if (this.stopReason === 'requested') {
      return this.killedAfterGrace ? { kind: 'stopped', detail: `still running ${formatDuration(this.graceMs)} after SIGTERM; killed with SIGKILL` } : { kind: 'stopped' };
    }
    if (verdict.notStarted !== undefined && code !== null) return { kind: 'start_failed', message: verdict.notStarted };
    const oomMessage = this.stopReason === 'oom' ? this.memoryMessage : verdict.exceeded;
    if (oomMessage !== undefined) return { kind: 'oom', message: oomMessage };
    if (code !== null) return { kind: 'exited', exitCode: code };
    // Killed by a signal that did not come from us: report it as shells do (SIGKILL → 137).
    const signalNumber = signal === null ? undefined : (constants.signals as Partial<Record<string, number>>)[signal];
    return { kind: 'exited', exitCode: 128 + (signalNumber ?? 0) };
  }

  private deliver(stream: OutputStream, text: string): void {
    if (this.runError !== undefined) return;
    try {
      this.req.onLine(stream, text);
    } catch (error) {
      const { jobId, attempt } = this.req;
      this.runError = new Error(`onLine threw while job ${jobId} (attempt ${attempt}) was running; the job was stopped`, { cause: error });
      this.stop('callback_failed');
    }
  }

  /** Ends the run: forgets it, gives back its uid and directory, then reports how it ended. */
  private async settle(outcome: RunOutcome): Promise<void> {
    if (this.runError !== undefined) return this.fail(this.runError);
    if (this.settled) return;
    this.settled = true;
    await this.release();
    this.resolveResult(outcome);
  }

  private async fail(error: unknown): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await this.release();
    this.rejectResult(error);
  }

  private async release(): Promise<void> {
    this.settings.leftovers?.forget(this.req.jobId, this.req.attempt);
    await this.identity.close();
  }
}

function closed(stream: Readable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.closed) resolve();
    else stream.once('close', () => resolve());
  });
}

/** Whether `promise` settled within `ms`; the timer is cleared either way. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), expired]);
  } finally {
    clearTimeout(timer);
  }
}
