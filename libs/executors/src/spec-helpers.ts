// Helpers for this package's specs only; not exported from index.ts.
import { readFileSync } from 'node:fs';
import type { Executor, OutputStream, RunHandle, RunOutcome, RunRequest } from './executor.js';
import { buildJobEnv } from './job-env.js';
import { StartCancelledError, StartFailedError } from './start-errors.js';

export interface CollectedLine {
  stream: OutputStream;
  text: string;
  /** Milliseconds since the run started. */
  at: number;
}

/**
 * How a run ended: what `wait()` said, or, when `start()` refused, `start_failed` (a
 * `StartFailedError`) or `start_cancelled` (a `StartCancelledError`), as the job run records them.
 */
export type CollectedOutcome = RunOutcome | { kind: 'start_cancelled'; reason: unknown };

export interface CollectedRun {
  outcome: CollectedOutcome;
  lines: CollectedLine[];
  /** Milliseconds from the call to start() until the run was over. */
  elapsedMs: number;
  /** The run's handle, when it started. */
  handle?: RunHandle;
}

export interface RunCollectingOptions extends Partial<Omit<RunRequest, 'command' | 'onLine'>> {
  onLine?: (line: CollectedLine) => void;
  /** Given to start(); aborting it once the run started stops it with `graceMs`, as a job run's cancel does. */
  signal?: AbortSignal;
  /** Stops the run with `graceMs` this long after it started, as a job run's deadline does. */
  stopAfterMs?: number;
  /** The grace of those stops; default 200 ms. */
  graceMs?: number;
}

/** The environment a job gets from this test process by default. */
export function testEnv(jobEnv: Record<string, string> = {}): Record<string, string> {
  return buildJobEnv({ inherit: process.env, jobEnv, jobId: 'job-test', attempt: 1 });
}

/**
 * Runs `command` to its end, as the agent's job run holds a run (start, stop on a deadline or on
 * abort, wait), and records every line with its arrival time.
 */
export async function runCollecting(executor: Executor, command: string[], options: RunCollectingOptions = {}): Promise<CollectedRun> {
  const { onLine, signal = new AbortController().signal, stopAfterMs, graceMs = 200, ...rest } = options;
  const lines: CollectedLine[] = [];
  const started = Date.now();
  let handle: RunHandle;
  try {
    handle = await executor.start(
      {
        jobId: 'job-test',
        attempt: 1,
        env: testEnv(),
        ...rest,
        command,
        onLine: (stream, text) => {
          const line = { stream, text, at: Date.now() - started };
          lines.push(line);
          onLine?.(line);
        },
      },
      signal,
    );
  } catch (err) {
    if (err instanceof StartFailedError) return { outcome: { kind: 'start_failed', message: err.message }, lines, elapsedMs: Date.now() - started };
    if (err instanceof StartCancelledError) return { outcome: { kind: 'start_cancelled', reason: err.reason }, lines, elapsedMs: Date.now() - started };
    throw err;
  }
  const stop = () => void handle.stop(graceMs);
  const timer = stopAfterMs === undefined ? undefined : setTimeout(stop, stopAfterMs);
  signal.addEventListener('abort', stop, { once: true });
  if (signal.aborted) stop();
  try {
    return { outcome: await handle.wait(), lines, elapsedMs: Date.now() - started, handle };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', stop);
  }
}

export function texts(run: CollectedRun, stream: OutputStream = 'stdout'): string[] {
  return run.lines.filter((l) => l.stream === stream).map((l) => l.text);
}

/** Whether `pid` is gone; a zombie (killed, not yet reaped because PID 1 does not reap) counts as gone. */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
    throw err;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true; // exited between the two checks
  }
}

/** Polls until `pid` is gone or `ms` passed; returns whether it is gone. */
export async function waitUntilGone(pid: number, ms = 15_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!isGone(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** Kills a process a test started outside the job's group, if it is still there. */
export function killQuietly(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
