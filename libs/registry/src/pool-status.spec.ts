import type { AgentView } from '@longshore/domain';
import { describe, expect, it } from 'vitest';
import { computePoolStatus } from './pool-status.js';

const agent = (id: string, executors: AgentView['executors'], effectiveState: AgentView['effectiveState'] = 'active'): AgentView => ({
  id,
  pool: 'p',
  host: 'h',
  version: '0',
  capacityMilli: 1000,
  weightInUseMilli: 0,
  runningJobIds: [],
  laneUsage: {},
  laneLimits: {},
  executors,
  state: effectiveState === 'lost' ? 'active' : effectiveState,
  effectiveState,
  registeredAt: 0,
  lastHeartbeat: 0,
  labels: {},
});

describe('pool status', () => {
  it('says which queued jobs wait for an executor no live, active agent of the pool has', () => {
    const byExecutors = [
      { executors: ['docker'], queued: 3 },
      { executors: ['ecs', 'subprocess'], queued: 2 },
    ];
    const status = computePoolStatus([agent('a', ['subprocess']), agent('b', ['docker'], 'lost'), agent('c', ['docker'], 'draining')], { queued: 5, running: 0 }, undefined, undefined, byExecutors);
    expect(status.waitingByExecutors).toEqual([
      { executors: ['docker'], queued: 3, runnable: false },
      { executors: ['ecs', 'subprocess'], queued: 2, runnable: true },
    ]);
    expect(computePoolStatus([], { queued: 0, running: 0 }).waitingByExecutors).toBeUndefined();
  });
});
