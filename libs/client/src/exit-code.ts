import { FailureClass, JobState, type Job } from '@longshore/proto';

/**
 * The process exit code that stands for a finished job, as `docker run` does: the job's own
 * code when it ran to an exit; otherwise 125 start_failed, 124 timeout, 130 cancelled, 137 oom,
 * and 1 for anything else (e.g. lost).
 */
export function exitCodeOf(job: Pick<Job, 'state' | 'exitCode' | 'failureClass'>): number {
  if (job.state === JobState.SUCCEEDED) return 0;
  switch (job.failureClass) {
    case FailureClass.START_FAILED:
      return 125;
    case FailureClass.TIMEOUT:
      return 124;
    case FailureClass.CANCELLED:
      return 130;
    case FailureClass.OOM:
      return 137;
    case FailureClass.EXIT:
      return job.exitCode ?? 1;
    default:
      return job.state === JobState.CANCELLED ? 130 : 1;
  }
}

/** Whether a job has reached a state it never leaves. */
export function isFinished(job: Pick<Job, 'state'>): boolean {
  return job.state === JobState.SUCCEEDED || job.state === JobState.FAILED || job.state === JobState.CANCELLED;
}
