import type { Executor } from './executor.js';
import { runSubprocess } from './subprocess-run.js';

/** Tuning of {@link createSubprocessExecutor}; the defaults suit most agents. */
export interface SubprocessExecutorOptions {
  /** How long a stopped job gets between SIGTERM and SIGKILL to clean up; default 10_000. */
  killGraceMs?: number;
  /** Longer output lines are emitted in pieces of at most this many bytes; default 16 * 1024. */
  maxLineBytes?: number;
}

/**
 * Creates the executor that runs a job as a local process in its own process group (POSIX
 * only). Timeout and cancel send SIGTERM to the whole group, then SIGKILL after `killGraceMs`;
 * when the job's main process exits, anything it left in its group is killed too. Output is
 * streamed line by line while the job runs. Memory limits are not enforced yet.
 *
 * @throws RangeError when an option is not a non-negative (`killGraceMs`) or positive
 *   (`maxLineBytes`) integer: a configuration bug, reported at start-up rather than per job.
 */
export function createSubprocessExecutor(opts: SubprocessExecutorOptions = {}): Executor {
  const killGraceMs = opts.killGraceMs ?? 10_000;
  const maxLineBytes = opts.maxLineBytes ?? 16 * 1024;
  if (!Number.isInteger(killGraceMs) || killGraceMs < 0) {
    throw new RangeError(`killGraceMs must be an integer >= 0, got ${killGraceMs}`);
  }
  if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) {
    throw new RangeError(`maxLineBytes must be an integer >= 1, got ${maxLineBytes}`);
  }
  const settings = { killGraceMs, maxLineBytes };
  return {
    name: 'subprocess',
    // Process groups and POSIX signals are what make cancel and cleanup work; Windows has neither.
    probe: () => Promise.resolve(process.platform !== 'win32'),
    run: (req) => runSubprocess(req, settings),
  };
}
