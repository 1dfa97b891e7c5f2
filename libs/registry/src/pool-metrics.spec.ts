import type { AgentView } from '@longshore/domain';
import { describe, expect, it } from 'vitest';
import { demandInStandardAgents, poolFigures, readPoolFigures } from './pool-metrics.js';
import { silentLogger } from '@longshore/telemetry';

const agent = (id: string, pool: string, effectiveState: AgentView['effectiveState'], capacityMilli: number, weightInUseMilli: number): AgentView => ({
  id,
  pool,
  host: 'h',
  version: '0',
  capacityMilli,
  weightInUseMilli,
  runningJobIds: [],
  laneUsage: {},
  laneLimits: {},
  executors: ['subprocess'],
  state: effectiveState === 'lost' ? 'active' : effectiveState,
  effectiveState,
  registeredAt: 0,
  lastHeartbeat: 0,
  labels: {},
});

describe('demand in standard agents', () => {
  it('is ⌈(queued weight + weight in use) / standard capacity⌉', () => {
    expect(demandInStandardAgents(0, 0)).toBe(0);
    expect(demandInStandardAgents(1, 0)).toBe(1);
    expect(demandInStandardAgents(1000, 0)).toBe(1);
    expect(demandInStandardAgents(1001, 0)).toBe(2);
    expect(demandInStandardAgents(1750, 0)).toBe(2);
    expect(demandInStandardAgents(750, 1250)).toBe(2);
    expect(demandInStandardAgents(750, 1251)).toBe(3);
    expect(demandInStandardAgents(500, 0, 250)).toBe(2);
  });
});

describe('pool figures', () => {
  it('count live agents for capacity and weight in use, agents by disjoint state, and the oldest wait in seconds', () => {
    const agents = [agent('a', 'p', 'active', 2000, 1500), agent('b', 'p', 'draining', 1000, 250), agent('c', 'p', 'lost', 4000, 4000)];
    const f = poolFigures('p', agents, { queued: 4, running: 3, queuedWeightMilli: 1000, oldestQueuedAt: 10_000 }, 12_500);
    expect(f).toEqual({
      pool: 'p',
      queued: 4,
      running: 3,
      oldestQueuedAgeSeconds: 2.5,
      queuedWeightMilli: 1000,
      weightInUseMilli: 1750,
      capacityMilli: 3000,
      demandAgents: 3,
      agents: { active: 1, draining: 1, lost: 1 },
    });
  });

  it('ask for agents while the pool has none, and say 0 s when nothing waits', () => {
    expect(poolFigures('p', [], { queued: 3, running: 0, queuedWeightMilli: 1750, oldestQueuedAt: 5 }, 5)).toMatchObject({ demandAgents: 2, capacityMilli: 0, oldestQueuedAgeSeconds: 0 });
    expect(poolFigures('p', [], { queued: 0, running: 0, queuedWeightMilli: 0, oldestQueuedAt: undefined }, 5)).toMatchObject({ demandAgents: 0, oldestQueuedAgeSeconds: 0 });
  });

  it('are read for every pool, each with its own agents, from one list of agents', async () => {
    let agentReads = 0;
    const figures = await readPoolFigures(
      {
        listPools: () => Promise.resolve(['a', 'b']),
        listAgents: () => {
          agentReads++;
          return Promise.resolve([agent('x', 'a', 'active', 1000, 500), agent('y', 'b', 'active', 3000, 0)]);
        },
        lifecycle: {
          counts: (pool) => Promise.resolve({ queued: pool === 'a' ? 1 : 0, running: 0 }),
          backlog: (pool) => Promise.resolve({ jobs: 0, weightMilli: pool === 'a' ? 600 : 0, oldestQueuedAt: undefined }),
        },
        logger: silentLogger(),
      },
      0,
    );
    expect(agentReads).toBe(1);
    expect(figures.map((f) => [f.pool, f.capacityMilli, f.demandAgents])).toEqual([
      ['a', 1000, 2],
      ['b', 3000, 0],
    ]);
  });
});
