// Helpers for this package's specs only; not exported from index.ts.
import { readFileSync } from 'node:fs';
import type { Executor, OutputStream, RunOutcome, RunRequest } from './executor.js';
import { buildJobEnv } from './job-env.js';

export interface CollectedLine {
  stream: OutputStream;
  text: string;
  /** Milliseconds since the run started. */
  at: number;
}

export interface CollectedRun {
  outcome: RunOutcome;
  lines: CollectedLine[];
  /** Milliseconds from the call to run() until it resolved. */
  elapsedMs: number;
}

/** The environment a job gets from this test process by default. */
export function testEnv(jobEnv: Record<string, string> = {}): Record<string, string> {
  return buildJobEnv({ inherit: process.env, jobEnv, jobId: 'job-test', attempt: 1 });
}

/** Runs `command` and records every line with its arrival time. */
export async function runCollecting(
  executor: Executor,
  command: string[],
  overrides: Partial<Omit<RunRequest, 'command' | 'onLine'>> & {
    onLine?: (line: CollectedLine) => void;
  } = {},
): Promise<CollectedRun> {
  const { onLine, ...rest } = overrides;
  const lines: CollectedLine[] = [];
  const started = Date.now();
  const outcome = await executor.run({
    jobId: 'job-test',
    attempt: 1,
    env: testEnv(),
    timeoutMs: 0,
    signal: new AbortController().signal,
    ...rest,
    command,
    onLine: (stream, text) => {
      const line = { stream, text, at: Date.now() - started };
      lines.push(line);
      onLine?.(line);
    },
  });
  return { outcome, lines, elapsedMs: Date.now() - started };
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
