import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { AgentExecutorName, AgentInfo, AgentView, ExecutorName } from '@longshore/domain';
import { AgentState, type Agent, type AgentSchema } from '@longshore/proto';
import { agentStateEnum, executorEnum } from './enums.js';

/** An agent as the API shows it. */
export function agentToProto(a: AgentView | AgentInfo): MessageInitShape<typeof AgentSchema> {
  const state = 'effectiveState' in a ? a.effectiveState : a.state;
  return {
    id: a.id,
    pool: a.pool,
    host: a.host,
    version: a.version,
    capacityMilli: a.capacityMilli,
    weightInUseMilli: a.weightInUseMilli,
    runningJobIds: a.runningJobIds,
    laneUsage: a.laneUsage,
    laneLimits: a.laneLimits,
    executors: a.executors.map(executorEnum.toProto),
    labels: a.labels,
    state: agentStateEnum.toProto(state),
    lastHeartbeat: timestampFromMs(a.lastHeartbeat),
    registeredAt: timestampFromMs(a.registeredAt),
    ...(a.isolation ? { isolation: { ...a.isolation } } : {}),
    executorHealth: (a.executorHealth ?? []).map((h) => ({ executor: executorEnum.toProto(h.executor), healthy: h.healthy, reason: h.reason })),
    dockerAllow: a.dockerAllow ?? '',
  };
}

/** What an agent reported, as the registry stores it (timestamps are the registry's clock). */
export function agentFromProto(p: Agent, now: number): AgentInfo {
  return {
    id: p.id,
    pool: p.pool,
    host: p.host,
    version: p.version,
    capacityMilli: p.capacityMilli,
    weightInUseMilli: p.weightInUseMilli,
    runningJobIds: [...p.runningJobIds],
    laneUsage: { ...p.laneUsage },
    laneLimits: { ...p.laneLimits },
    executors: p.executors.map((e) => executorEnum.fromProto(e)).filter((e): e is ExecutorName => !!e),
    labels: { ...p.labels },
    state: p.state === AgentState.DRAINING ? 'draining' : 'active',
    lastHeartbeat: now,
    registeredAt: now,
    ...(p.isolation
      ? { isolation: { separateUsers: p.isolation.separateUsers, jobUids: p.isolation.jobUids, firewall: p.isolation.firewall, detail: p.isolation.detail } }
      : {}),
    ...(p.executorHealth.length
      ? {
          executorHealth: p.executorHealth.flatMap((h) => {
            const executor = executorEnum.fromProto(h.executor);
            return executor && executor !== 'auto' ? [{ executor: executor as AgentExecutorName, healthy: h.healthy, reason: h.reason }] : [];
          }),
        }
      : {}),
    ...(p.dockerAllow ? { dockerAllow: p.dockerAllow } : {}),
  };
}
