import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { PoolView } from '@longshore/domain';
import type { PoolSchema } from '@longshore/proto';
import { executorEnum, poolHealthEnum } from './enums.js';

/** A pool (with its status, when computed) as the API shows it. */
export function poolToProto(p: PoolView): MessageInitShape<typeof PoolSchema> {
  const s = p.status;
  return {
    id: p.id,
    description: p.description,
    defaultWeightMilli: p.defaultWeightMilli,
    maxWeightMilli: p.maxWeightMilli,
    isDefault: p.isDefault,
    createdAt: timestampFromMs(p.createdAt),
    executors: (p.executors ?? []).map(executorEnum.toProto),
    secrets: p.secrets ?? [],
    ...(p.standard ? { standard: { cpusMilli: p.standard.cpusMilli ?? 0, memoryBytes: BigInt(p.standard.memoryBytes ?? 0) } } : {}),
    status: s && {
      liveAgents: s.liveAgents,
      lostAgents: s.lostAgents,
      drainingAgents: s.drainingAgents,
      capacityMilli: s.capacityMilli,
      weightInUseMilli: s.weightInUseMilli,
      jobsQueued: BigInt(s.jobsQueued),
      jobsRunning: BigInt(s.jobsRunning),
      health: poolHealthEnum.toProto(s.health),
      reservation: s.reservation && {
        jobId: s.reservation.jobId,
        agentId: s.reservation.agentId,
        weightMilli: s.reservation.weightMilli,
        since: timestampFromMs(s.reservation.since),
      },
      waitingByExecutors: (s.waitingByExecutors ?? []).map((w) => ({ executors: w.executors.map(executorEnum.toProto), queued: BigInt(w.queued), runnable: w.runnable })),
      redis: s.redis && { usedBytes: BigInt(s.redis.usedBytes), budgetBytes: BigInt(s.redis.budgetBytes), exhausted: s.redis.exhausted },
    },
  };
}
