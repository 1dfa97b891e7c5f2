import type { AgentExecutorName, AgentView, PoolStatusView } from '@longshore/domain';
import type { BudgetState, QueueCounts, Reservation } from '@longshore/queue';

/**
 * A pool's figures from its agents and queue: capacity and weight in use count live agents
 * only; health is HEALTHY with ≥1 live active agent and none lost or draining, DEGRADED when
 * some are, NO_AGENTS without a live active agent.
 */
export function computePoolStatus(
  agents: AgentView[],
  counts: QueueCounts,
  reservation?: Reservation,
  budget?: BudgetState,
  byExecutors: { executors: string[]; queued: number }[] = [],
): PoolStatusView {
  const live = agents.filter((a) => a.effectiveState !== 'lost');
  const active = live.filter((a) => a.effectiveState === 'active');
  const lost = agents.length - live.length;
  const draining = live.length - active.length;
  return {
    liveAgents: live.length,
    lostAgents: lost,
    drainingAgents: draining,
    capacityMilli: live.reduce((s, a) => s + a.capacityMilli, 0),
    weightInUseMilli: live.reduce((s, a) => s + a.weightInUseMilli, 0),
    jobsQueued: counts.queued,
    jobsRunning: counts.running,
    health: active.length === 0 ? 'no_agents' : lost > 0 || draining > 0 ? 'degraded' : 'healthy',
    ...(reservation ? { reservation } : {}),
    ...(byExecutors.length > 0
      ? {
          waitingByExecutors: byExecutors.map((b) => ({
            executors: b.executors as AgentExecutorName[],
            queued: b.queued,
            runnable: active.some((a) => a.executors.some((e) => b.executors.includes(e))),
          })),
        }
      : {}),
    ...(budget ? { redis: { usedBytes: budget.usedBytes, budgetBytes: budget.budgetBytes, exhausted: budget.exhausted && budget.usedBytes > budget.budgetBytes } } : {}),
  };
}
