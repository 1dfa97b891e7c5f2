import type { RunOutcome } from '@longshore/executors';
import type { AttemptOutcome } from '@longshore/queue';
import type { StoredAttempt } from '@longshore/store';

/**
 * How an attempt ended, as its job run saw it: what the executor reported (a run it stopped
 * becomes `timeout` or `cancelled`, as the run knows why it stopped it), or `lost` when the
 * executor itself failed.
 */
export type JobOutcome =
  | Exclude<RunOutcome, { kind: 'stopped' }>
  | { kind: 'timeout'; message: string }
  | { kind: 'cancelled'; message: string }
  | { kind: 'lost'; message: string };

/** Turns how a run ended into the job's final state, failure class and message. */
export function toAttemptOutcome(out: JobOutcome, attempt: StoredAttempt, finishedAt: number): AttemptOutcome {
  const base = { ...attempt, finishedAt };
  switch (out.kind) {
    case 'exited':
      return out.exitCode === 0
        ? { state: 'succeeded', exitCode: 0, message: '', attempt: { ...base, exitCode: 0 } }
        : {
            state: 'failed',
            exitCode: out.exitCode,
            failureClass: 'exit',
            message: `exited with code ${out.exitCode}`,
            attempt: { ...base, exitCode: out.exitCode, failureClass: 'exit', message: `exited with code ${out.exitCode}` },
          };
    case 'timeout':
      return { state: 'failed', failureClass: 'timeout', message: out.message, attempt: { ...base, failureClass: 'timeout', message: out.message } };
    case 'cancelled':
      return { state: 'cancelled', failureClass: 'cancelled', message: out.message, attempt: { ...base, failureClass: 'cancelled', message: out.message } };
    case 'lost':
      return { state: 'failed', failureClass: 'lost', message: out.message, attempt: { ...base, failureClass: 'lost', message: out.message } };
    case 'oom':
      return { state: 'failed', failureClass: 'oom', message: out.message, attempt: { ...base, failureClass: 'oom', message: out.message } };
    case 'start_failed':
      return { state: 'failed', failureClass: 'start_failed', message: out.message, attempt: { ...base, failureClass: 'start_failed', message: out.message } };
  }
}
