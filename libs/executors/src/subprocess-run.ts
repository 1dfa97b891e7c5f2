import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { formatDuration } from '@longshore/domain';
import type { OutputStream, RunOutcome, RunRequest } from './executor.js';
import { LineSplitter } from './line-splitter.js';
import { signalGroup } from './process-group.js';
import { checkWorkingDir, describeSpawnError } from './start-failure.js';

/** Resolved settings of the subprocess executor, shared by its runs. */
export interface SubprocessSettings {
  killGraceMs: number;
  maxLineBytes: number;
}

// After the group is killed, how long to wait for stdout/stderr to close: a process that left
// the group (setsid, double fork) can hold the pipes open for ever.
const STREAM_DRAIN_MS = 1000;
// Node fires a timer at once when its delay exceeds 2^31-1 ms (~24.8 days).
const MAX_TIMER_MS = 2 ** 31 - 1;

type StopReason = 'timeout' | 'cancelled' | 'callback_failed';
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
  return new Promise((resolve, reject) => new SubprocessRun(req, settings, resolve, reject).start(program));
}

/** One run: owns its child, timers and abort listener, and settles exactly once. */
class SubprocessRun {
  private child: Child | undefined;
  private pid = 0;
  private exited = false;
  private settled = false;
  private stopReason: StopReason | undefined;
  private killedAfterGrace = false;
  private callbackError: { error: unknown } | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly lines: Record<OutputStream, LineSplitter>;
  private readonly onAbort = (): void => this.stop('cancelled');

  constructor(
    private readonly req: RunRequest,
    private readonly settings: SubprocessSettings,
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
    try {
      child = spawn(program, this.req.command.slice(1), {
        env: this.req.env,
        cwd: this.req.workingDir,
        detached: true, // its own process group, so timeout and cancel reach its children too
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      // Invalid arguments (a NUL byte in argv or env) are thrown rather than emitted.
      this.settle({ kind: 'start_failed', message: describeSpawnError(program, this.req.env, err) });
      return;
    }
    this.child = child;
    this.pid = child.pid ?? 0; // undefined when the start failed; 'error' follows
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
    this.settle({ kind: 'start_failed', message: describeSpawnError(program, this.req.env, err) });
  }

  private onSpawn(): void {
    if (this.exited) return;
    if (this.req.timeoutMs > 0) {
      this.timeoutTimer = setTimeout(() => this.stop('timeout'), Math.min(this.req.timeoutMs, MAX_TIMER_MS));
    }
    this.req.signal.addEventListener('abort', this.onAbort, { once: true });
    if (this.req.signal.aborted) this.stop('cancelled');
  }

  /** SIGTERM to the whole group, then SIGKILL if it is still there after the grace period. */
  private stop(reason: StopReason): void {
    if (this.exited || this.stopReason !== undefined || this.pid === 0) return;
    this.stopReason = reason;
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
    const child = this.child!;
    const drained = await within(Promise.all([closed(child.stdout), closed(child.stderr)]), STREAM_DRAIN_MS);
    if (!drained) {
      child.stdout.destroy();
      child.stderr.destroy();
    }
    this.lines.stdout.end();
    this.lines.stderr.end();
    this.settle(this.outcome(code, signal));
  }

  private outcome(code: number | null, signal: NodeJS.Signals | null): RunOutcome {
    const escalation = this.killedAfterGrace
      ? ` (still running ${formatDuration(this.settings.killGraceMs)} after SIGTERM; killed with SIGKILL)`
      : '';
    if (this.stopReason === 'timeout') {
      return { kind: 'timeout', message: `timed out after ${formatDuration(this.req.timeoutMs)}${escalation}` };
    }
    if (this.stopReason === 'cancelled') {
      return { kind: 'cancelled', message: `cancelled${abortReasonSuffix(this.req.signal)}${escalation}` };
    }
    if (code !== null) return { kind: 'exited', exitCode: code };
    // Killed by a signal that did not come from us: report it as shells do (SIGKILL → 137).
    const signalNumber = signal === null ? undefined : (constants.signals as Partial<Record<string, number>>)[signal];
    return { kind: 'exited', exitCode: 128 + (signalNumber ?? 0) };
  }

  private deliver(stream: OutputStream, text: string): void {
    if (this.callbackError !== undefined) return;
    try {
      this.req.onLine(stream, text);
    } catch (error) {
      this.callbackError = { error };
      this.stop('callback_failed');
    }
  }

  private settle(outcome: RunOutcome): void {
    if (this.callbackError !== undefined) {
      const { jobId, attempt } = this.req;
      const message = `onLine threw while job ${jobId} (attempt ${attempt}) was running; the job was stopped`;
      this.fail(new Error(message, { cause: this.callbackError.error }));
      return;
    }
    if (this.settled) return;
    this.settled = true;
    this.resolve(outcome);
  }

  private fail(error: unknown): void {
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
