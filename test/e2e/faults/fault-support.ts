/**
 * Helpers shared by the fault-injection tests: reading a job's attempts and log, waiting on a
 * job's record, checking that a process is gone, and a client-side retry on UNAVAILABLE.
 * Every wait here is bounded in time.
 */
import { readFileSync } from 'node:fs';
import { Code, FailureClass, JobState, LongshoreError, type Job, type LogLine, type LongshoreClient } from '@longshore/client';
import { sleep, waitFor } from '@longshore/testing';
import { tsMs } from '../support.js';

/** The attempts, printable: `#1 agent-a lost 0.00–3.10 s; #2 …`, times relative to `t0` (default: the job's creation). */
export function describeAttempts(job: Job, t0 = tsMs(job.createdAt)): string {
  return job.attempts
    .map((a, i) => {
      const cls = a.handedBack ? 'handed-back' : a.failureClass === FailureClass.UNSPECIFIED ? 'ok' : FailureClass[a.failureClass]!.toLowerCase();
      const span = `${((tsMs(a.startedAt) - t0) / 1000).toFixed(2)}–${a.finishedAt ? ((tsMs(a.finishedAt) - t0) / 1000).toFixed(2) : '…'} s`;
      return `#${i + 1} ${a.agentId} ${cls}${a.exitCode === undefined ? '' : ` exit ${a.exitCode}`} ${span}`;
    })
    .join('; ');
}

/** The job's state name, for messages (`SUCCEEDED`). */
export function stateName(job: Pick<Job, 'state'>): string {
  return JobState[job.state] ?? String(job.state);
}

/** Polls the job's record until `pred` accepts it (default 60 s: a sanity bound for a loaded machine, not a latency check). */
export function waitForRecord(ls: LongshoreClient, id: string, pred: (job: Job) => boolean, what: string, timeoutMs = 60_000): Promise<Job> {
  return waitFor(
    async () => {
      const job = await ls.getJob(id, { timeoutMs: 5_000 });
      return pred(job) ? job : undefined;
    },
    { timeoutMs, intervalMs: 100, what },
  );
}

/** Every line of the job's log, as stored (no follow). */
export async function jobLog(ls: LongshoreClient, id: string): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const l of ls.logs(id)) out.push(l);
  return out;
}

/** Milliseconds since the epoch of a stored log line. */
export function lineMs(l: LogLine): number {
  return tsMs(l.time);
}

export { processGone } from '@longshore/testing';

/** The process's command line (NUL-separated arguments joined by spaces), or undefined if gone. */
export function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** What {@link retrying} counted. */
export interface RetryStats {
  /** Calls that failed with a retryable code and were tried again. */
  retries: number;
  /** Retryable failures by code name (`UNAVAILABLE: 3`). */
  byCode: Map<string, number>;
}

export function newRetryStats(): RetryStats {
  return { retries: 0, byCode: new Map() };
}

/** Codes a client may retry: the server was unreachable, or the call ran out of time. */
const RETRYABLE = new Set([Code.Unavailable, Code.DeadlineExceeded]);

/**
 * Calls `fn` until it succeeds, retrying on UNAVAILABLE and DEADLINE_EXCEEDED with a short
 * exponential backoff (100 ms doubling to 1 s), for at most `timeoutMs` (default 60 s, generous: restarted services compile as they start); any other
 * error is thrown at once. A tiny helper rather than a library: the SDK has no retry policy yet,
 * and the test needs to count what it retried.
 */
export async function retrying<T>(fn: () => Promise<T>, stats: RetryStats, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 1_000)) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof LongshoreError) || !RETRYABLE.has(err.code)) throw err;
      if (Date.now() + delay > deadline) throw new Error(`${what}: still failing after ${timeoutMs} ms: ${err.message}`, { cause: err });
      stats.retries++;
      const name = Code[err.code] ?? String(err.code);
      stats.byCode.set(name, (stats.byCode.get(name) ?? 0) + 1);
      await sleep(delay);
    }
  }
}

/** The code name of a thrown value (`Unavailable`), or `not a LongshoreError: …`. */
export function codeName(err: unknown): string {
  if (err instanceof LongshoreError) return Code[err.code] ?? String(err.code);
  return `not a LongshoreError: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * Every job carrying `labels`, read page by page (at most 100 pages); `call` wraps each page
 * request (e.g. in {@link retrying}) when the dispatcher may be restarting.
 */
export async function listJobsLabelled(
  ls: LongshoreClient,
  labels: Record<string, string>,
  call: <T>(fn: () => Promise<T>) => Promise<T> = (fn) => fn(),
): Promise<Job[]> {
  const out: Job[] = [];
  let pageToken = '';
  for (let page = 0; page < 100; page++) {
    const res = await call(() => ls.dispatcher.listJobs({ labels, pageSize: 500, pageToken }, { timeoutMs: 10_000 }));
    out.push(...res.jobs);
    pageToken = res.nextPageToken;
    if (!pageToken) break;
  }
  return out;
}
