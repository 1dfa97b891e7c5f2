import type { JobSource } from '@longshore/queue';
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

/**
 * Stops the runs other agents of `pool` left where this agent's executors reach them (containers
 * on the same engine) once their jobs no longer want them (see JobSource.staleRuns): their agent
 * is gone for good and the job was queued again after the adopt window, or it ended. Runs an
 * `orphaned` job keeps for its agent's return are left alone. Returns how many it stopped.
 */
export async function stopStaleRuns(executors: ExecutorSet, source: Pick<JobSource, 'staleRuns'>, pool: string, agentId: string, logger: Logger): Promise<number> {
  let stopped = 0;
  for (const [name, executor] of Object.entries(executors)) {
    if (!executor.listPool) continue;
    const runs = (await executor.listPool(pool)).filter((r): r is typeof r & { agentId: string } => r.agentId !== undefined && r.agentId !== agentId);
    const stale = await source.staleRuns(runs);
    for (const [i, run] of runs.entries()) {
      if (!stale[i]) continue;
      const found = await executor.attach(run.ref, () => undefined);
      if (found.kind === 'gone') continue;
      await (found.kind === 'attached' ? found.handle.stop(0) : found.stop(0));
      stopped++;
      logger.warn({ executor: name, job: run.jobId, attempt: run.attempt, ref: run.ref, leftBy: run.agentId }, 'removed a job run another agent left behind: its job no longer runs it');
    }
  }
  return stopped;
}
