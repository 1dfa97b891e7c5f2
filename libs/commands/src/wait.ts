import { FailureClass, JobState, exitCodeOf, isFinished, type Job } from '@longshore/client';
import type { CliClient, CliContext } from './context.js';
import { enumWord } from './format.js';
import { writeLogLine } from './logs.js';

/** Exit code when the user stops waiting with a second Ctrl-C (128 + SIGINT, as shells do). */
export const EXIT_INTERRUPTED = 130;

async function streamUntilFinished(ctx: CliContext, client: CliClient, id: string, signal: AbortSignal): Promise<Job> {
  for await (const line of client.logs(id, { follow: true, signal })) await writeLogLine(ctx.io, line);
  const job = await client.getJob(id, { signal });
  // The log stream ends when the job finishes; should it end early (a server restart), keep waiting.
  return isFinished(job) ? job : client.waitForJob(id, { signal });
}

/** One line saying why a job ended without an exit code of its own, e.g. "job X failed: timeout: ...". */
export function endingReason(job: Job): string | undefined {
  if (job.state === JobState.SUCCEEDED || job.exitCode !== undefined) return undefined;
  const why = [enumWord(JobState, job.state), enumWord(FailureClass, job.failureClass, ''), job.message].filter(Boolean).join(': ');
  return `longshore: job ${job.id} ${why}`;
}

/**
 * Streams a job's output until it finishes and returns the exit code `longshore submit --wait`
 * exits with (the job's own, or 124/125/130/137/1 as `exitCodeOf` maps its ending). The first
 * Ctrl-C asks the cluster to cancel the job and keeps streaming; a second stops waiting at once
 * (130). The SIGINT handlers exist only while this runs.
 */
export async function followJob(ctx: CliContext, id: string): Promise<number> {
  const { io, signals } = ctx;
  const client = ctx.client();
  const stop = new AbortController();
  let stopWaiting = (): void => undefined;
  const interrupted = new Promise<'interrupted'>((resolve) => (stopWaiting = () => resolve('interrupted')));
  const onSecond = (): void => {
    stop.abort();
    stopWaiting();
  };
  const onFirst = (): void => {
    signals.once('SIGINT', onSecond);
    io.stderr.write(`longshore: cancelling job ${id} (Ctrl-C again to stop waiting)\n`);
    client.dispatcher.cancelJob({ id }).catch((err: unknown) => {
      if (!stop.signal.aborted) io.stderr.write(`longshore: could not cancel job ${id}: ${(err as Error).message}\n`);
    });
  };
  signals.once('SIGINT', onFirst);
  try {
    const finished = streamUntilFinished(ctx, client, id, stop.signal);
    // Once we stop waiting, the aborted stream's rejection is expected; don't let it go unhandled.
    finished.catch(() => undefined);
    const outcome = await Promise.race([finished, interrupted]);
    if (outcome === 'interrupted') return EXIT_INTERRUPTED;
    const reason = endingReason(outcome);
    if (reason) io.stderr.write(`${reason}\n`);
    return exitCodeOf(outcome);
  } finally {
    signals.off('SIGINT', onFirst);
    signals.off('SIGINT', onSecond);
    stop.abort();
  }
}
