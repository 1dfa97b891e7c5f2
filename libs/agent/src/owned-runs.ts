import type { Logger } from '@longshore/telemetry';
import type { ExecutorSet } from './executors.js';

/** How {@link stopOwnedRuns} names a run to keep: the agent adopted it. */
export function ownedRunKey(jobId: string, attempt: number): string {
  return `${jobId}#${attempt}`;
}

/**
 * Stops every run this agent's executors still hold from a previous life of this agent (same
 * id, killed outright): their jobs were handed to other agents meanwhile, so they must not go
 * on running here — all but those in `keep`, which the agent adopted. Returns how many it stopped.
 */
export async function stopOwnedRuns(executors: ExecutorSet, agentId: string, logger: Logger, keep: ReadonlySet<string> = new Set()): Promise<number> {
  let stopped = 0;
  for (const [name, executor] of Object.entries(executors)) {
    for (const run of await executor.listOwned(agentId)) {
      if (keep.has(ownedRunKey(run.jobId, run.attempt))) continue;
      const found = await executor.attach(run.ref, () => undefined);
      if (found.kind === 'gone') continue;
      await (found.kind === 'attached' ? found.handle.stop(0) : found.stop(0));
      stopped++;
      logger.warn({ executor: name, job: run.jobId, attempt: run.attempt, ref: run.ref }, 'killed a job run left running by a previous run of this agent');
    }
    // Then what those runs left besides their process groups: cgroups (with any process that
    // left its group) and private directories. Adopted runs are never the executor's that has any.
    const left = await executor.removeLeftovers?.();
    if (left && (left.cgroups > 0 || left.directories > 0)) {
      logger.warn({ executor: name, cgroups: left.cgroups, directories: left.directories }, 'removed the cgroups and directories of runs killed with a previous run of this agent');
    }
    for (const problem of left?.problems ?? []) logger.warn({ executor: name, problem }, 'could not remove what a run killed with a previous run of this agent left behind');
  }
  return stopped;
}
