/**
 * Thrown by `Executor.start` when the job cannot start: empty command, program not found or not
 * executable, working directory missing, no free job uid, a memory limit this host cannot
 * enforce. Nothing of the job ran; the attempt ends as `start_failed`. The message names what
 * is wrong and, where it can, the fix.
 */
export class StartFailedError extends Error {
  override name = 'StartFailedError';
}

/**
 * Thrown by `Executor.start` when its signal was aborted before the job started: nothing ran.
 * `reason` is the signal's reason.
 */
export class StartCancelledError extends Error {
  override name = 'StartCancelledError';

  constructor(readonly reason: unknown) {
    super('the run was cancelled before it started');
  }
}

/** Throws {@link StartCancelledError} if `signal` is aborted. */
export function throwIfStartCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new StartCancelledError(signal.reason);
}
