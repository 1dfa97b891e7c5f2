import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { formatDuration } from '@longshore/domain';
import type { OutputStream, RunOutcome, RunRequest } from './executor.js';
import { LineSplitter } from './line-splitter.js';
import { formatBytes, type MemoryGuard, type MemoryVerdict } from './memory-limit.js';
import type { LeftoverRegistry } from './leftovers.js';
import type { MemoryLimiterResolution } from './memory-limiter-choice.js';
import { signalGroup } from './process-group.js';
import { checkProgram } from './program-check.js';
import { checkWorkingDir, describeSpawnError } from './start-failure.js';
import type { UidPool } from './job-uids.js';
import { openRunIdentity, type RunIdentity } from './run-identity.js';

/** Resolved settings of the subprocess executor, shared by its runs. */
export interface SubprocessSettings {
  killGraceMs: number;
  maxLineBytes: number;
  /** How this executor enforces memory limits (resolved on first use, then cached). */
  memoryLimiter: () => Promise<MemoryLimiterResolution>;
  /** Notes each running job's process group, for a restarted agent to sweep. */
  leftovers?: LeftoverRegistry;
  /** Set when each run gets a uid of its own (the agent runs as root). */
  users?: UidPool;
}

// After the group is killed, how long to wait for stdout/stderr to close: a process that left
// the group (setsid, double fork) can hold the pipes open for ever.
const STREAM_DRAIN_MS = 1000;
// Node fires a timer at once when its delay exceeds 2^31-1 ms (~24.8 days).
const MAX_TIMER_MS = 2 ** 31 - 1;

// `oom` and `limit_failed` (the memory limit could no longer be enforced) stop the job with
// SIGKILL at once, without a grace period.
type StopReason = 'timeout' | 'cancelled' | 'callback_failed' | 'oom' | 'limit_failed';
type Child = ChildProcessByStdio<null, Readable, Readable>;

/** Runs one job as a process group and resolves with how it ended; see `createSubprocessExecutor`. */
export async function runSubprocess(req: RunRequest, settings: SubprocessSettings): Promise<RunOutcome> {
  const program = req.command[0];
  if (program === undefined || program === '') {
    return { kind: 'start_failed', message: 'command is empty: a job needs at least the program to run (argv[0])' };
  }
  if (req.signal.aborted) return cancelledBeforeStart(req.signal);
  if (req.workingDir !== undefined) {
    const problem = await checkWorkingDir(req.workingDir);
    if (problem !== undefined) return { kind: 'start_failed', message: problem };
    if (req.signal.aborted) return cancelledBeforeStart(req.signal);
  }
  const identity = await openRunIdentity(req, settings.users);
  if (typeof identity === 'string') return { kind: 'start_failed', message: identity };
  try {
    return await runAs(program, identity, req, settings);
  } finally {
    await identity.close();
  }
}

/** Runs the job as `identity` (its uid, in its directory), once those are set up. */
async function runAs(program: string, identity: RunIdentity, req: RunRequest, settings: SubprocessSettings): Promise<RunOutcome> {
  const memory = await prepareMemoryGuard(req, settings, identity);
  if (typeof memory === 'string') return { kind: 'start_failed', message: memory };
  // A wrapper execs the job, so spawn can no longer tell that the program cannot be run.
  const unrunnable = memory?.wrap ? await checkProgram(program, req.env, identity.cwd ?? process.cwd()) : undefined;
  if (unrunnable !== undefined || req.signal.aborted) {
    await memory?.release();
    if (unrunnable === undefined) return cancelledBeforeStart(req.signal);
    const error = Object.assign(new Error(unrunnable), { code: unrunnable });
    return { kind: 'start_failed', message: describeSpawnError(program, req.env, error) };
  }
  return new Promise((resolve, reject) => new SubprocessRun(req, settings, identity, memory, resolve, reject).start(program));
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

/** One run: owns its child, timers and abort listener, and settles exactly once. */
class SubprocessRun {
  private child: Child | undefined;
  private pid = 0;
  private exited = false;
  private settled = false;
  private stopReason: StopReason | undefined;
  private killedAfterGrace = false;
  // The `oom` message, when the memory guard reported the job over its limit while it ran.
  private memoryMessage: string | undefined;
  private runError: Error | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly lines: Record<OutputStream, LineSplitter>;
  private readonly onAbort = (): void => this.stop('cancelled');

  constructor(
    private readonly req: RunRequest,
    private readonly settings: SubprocessSettings,
    private readonly identity: RunIdentity,
    private readonly memory: MemoryGuard | undefined,
    private readonly resolve: (outcome: RunOutcome) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.lines = {
      stdout: new LineSplitter(settings.maxLineBytes, (text) => this.deliver('stdout', text)),
      stderr: new LineSplitter(settings.maxLineBytes, (text) => this.deliver('stderr', text)),
    };
  }

  start(program: string): void {
    let child: Child;
    const [file = program, ...args] = this.memory?.wrap?.(this.req.command, this.req.env) ?? this.req.command;
    try {
      child = spawn(file, args, {
        env: this.req.env,
        cwd: this.identity.cwd,
        ...(this.identity.uid === undefined ? {} : { uid: this.identity.uid, gid: this.identity.gid }),
        detached: true, // its own process group, so timeout and cancel reach its children too
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      // Invalid arguments (a NUL byte in argv or env) are thrown rather than emitted.
      this.finish({ kind: 'start_failed', message: describeSpawnError(program, this.req.env, err) });
      return;
    }
    this.child = child;
    this.pid = child.pid ?? 0; // undefined when the start failed; 'error' follows
    if (this.pid !== 0) {
      this.settings.leftovers?.record(this.req.jobId, this.req.attempt, this.pid);
      this.guardMemory();
    }
    child.on('error', (err) => this.onError(program, err));
    child.once('spawn', () => this.onSpawn());
    child.once('exit', (code, signal) => {
      this.onExit(code, signal).catch((err: unknown) => this.fail(err));
    });
    for (const name of ['stdout', 'stderr'] as const) {
      child[name].on('data', (chunk: Buffer) => this.lines[name].push(chunk));
      // A read error ends the stream like EOF does; the exit status still decides the outcome.
      child[name].on('error', () => undefined);
    }
  }

  private onError(program: string, err: Error): void {
    // After a successful spawn Node emits 'error' only for kill()/send() failures, which we never call.
    if (this.pid !== 0) return;
    this.child?.stdout.destroy();
    this.child?.stderr.destroy();
    this.finish({ kind: 'start_failed', message: describeSpawnError(program, this.req.env, err) });
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

  private onSpawn(): void {
    if (this.exited) return;
    if (this.req.timeoutMs > 0) {
      this.timeoutTimer = setTimeout(() => this.stop('timeout'), Math.min(this.req.timeoutMs, MAX_TIMER_MS));
    }
    this.req.signal.addEventListener('abort', this.onAbort, { once: true });
    if (this.req.signal.aborted) this.stop('cancelled');
  }

  /**
   * SIGTERM to the whole group, then SIGKILL if it is still there after the grace period; the
   * memory guard's reasons SIGKILL at once (a job over its limit gets no time to grow further).
   */
  private stop(reason: StopReason): void {
    if (this.exited || this.pid === 0) return;
    const now = reason === 'oom' || reason === 'limit_failed';
    // Already stopping (the first reason is the one reported): only a memory reason cuts the grace short.
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
    }, this.settings.killGraceMs);
  }

  private async onExit(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    this.exited = true;
    clearTimeout(this.timeoutTimer);
    clearTimeout(this.graceTimer);
    this.req.signal.removeEventListener('abort', this.onAbort);
    // Whatever the job left running in its group (`sleep 300 &`) goes with it.
    signalGroup(this.pid, 'SIGKILL');
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
    this.settle(this.outcome(code, signal, verdict));
  }

  private outcome(code: number | null, signal: NodeJS.Signals | null, verdict: MemoryVerdict): RunOutcome {
    const escalation = this.killedAfterGrace
      ? ` (still running ${formatDuration(this.settings.killGraceMs)} after SIGTERM; killed with SIGKILL)`
      : '';
    if (this.stopReason === 'timeout') {
      return { kind: 'timeout', message: `timed out after ${formatDuration(this.req.timeoutMs)}${escalation}` };
    }
    if (this.stopReason === 'cancelled') {
      return { kind: 'cancelled', message: `cancelled${abortReasonSuffix(this.req.signal)}${escalation}` };
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

  /** Settles a run whose child never started, after freeing its memory guard. */
  private finish(outcome: RunOutcome): void {
    const released = this.memory?.release() ?? Promise.resolve(undefined);
    released.then(
      () => this.settle(outcome),
      (err: unknown) => this.fail(err),
    );
  }

  private settle(outcome: RunOutcome): void {
    this.settings.leftovers?.forget(this.req.jobId, this.req.attempt);
    if (this.runError !== undefined) {
      this.fail(this.runError);
      return;
    }
    if (this.settled) return;
    this.settled = true;
    this.resolve(outcome);
  }

  private fail(error: unknown): void {
    this.settings.leftovers?.forget(this.req.jobId, this.req.attempt);
    if (this.settled) return;
    this.settled = true;
    this.reject(error);
  }
}

function cancelledBeforeStart(signal: AbortSignal): RunOutcome {
  return { kind: 'cancelled', message: `cancelled before start${abortReasonSuffix(signal)}` };
}

/** The caller's reason for aborting, if it gave one (the default AbortError says nothing). */
function abortReasonSuffix(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (typeof reason === 'string' && reason !== '') return `: ${reason}`;
  if (reason instanceof Error && reason.name !== 'AbortError') return `: ${reason.message}`;
  return '';
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
