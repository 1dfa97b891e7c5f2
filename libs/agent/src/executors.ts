import type { ExecutorName, JobSpec } from '@longshore/domain';
import type { Executor } from '@longshore/executors';

/** The executors an agent has, by name. */
export type ExecutorSet = Partial<Record<ExecutorName, Executor>>;

const HOW_TO_ENABLE = "an agent has the executors its LONGSHORE_EXECUTORS lists";

/** Which executor runs a job and why, or why none can. */
export type ExecutorChoice = { executor: Executor; name: ExecutorName; reason: string } | { error: string };

/**
 * Picks the executor for a job: its own, else the agent's default; for `auto`, the first of
 * the job's allowed chain this agent can run and that is not `unhealthy` now (why, by name),
 * recording why the others were skipped. Never a silent downgrade: a job that allows only docker
 * never runs as a subprocess. (A job naming its executor gets it even when unhealthy: the claim
 * leaves those out, and one claimed as it turned unhealthy fails with the executor's own error.)
 */
export function chooseExecutor(spec: JobSpec, available: ExecutorSet, defaultName: ExecutorName, agentId: string, unhealthy: Partial<Record<ExecutorName, string>> = {}): ExecutorChoice {
  const have = Object.keys(available).join(', ');
  if (spec.executor === 'auto') {
    const skipped: string[] = [];
    for (const name of spec.allowedExecutors) {
      const e = available[name];
      const down = unhealthy[name];
      if (e && down !== undefined) {
        skipped.push(`${name} unreachable on this agent (${down})`);
        continue;
      }
      if (e) return { executor: e, name, reason: skipped.length ? `auto: ${skipped.join('; ')}; chose ${name}` : `auto: first allowed, ${name}` };
      skipped.push(`${name} not available on this agent`);
    }
    return { error: `none of the allowed executors (${spec.allowedExecutors.join(', ')}) is available on agent ${agentId} (${skipped.join('; ')}; it has: ${have}; ${HOW_TO_ENABLE})` };
  }
  const name = spec.executor ?? defaultName;
  const e = available[name];
  if (!e) return { error: `executor "${name}" is not available on agent ${agentId} (it has: ${have}; ${HOW_TO_ENABLE})` };
  return { executor: e, name, reason: spec.executor ? 'requested by the job' : "the agent's default" };
}
