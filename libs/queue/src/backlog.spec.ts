import { newJobId, type JobSpec } from '@longshore/domain';
import { createRedis, type Redis } from '@longshore/store';
import { startRedis, type RedisHandle } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classWeight, JobLifecycle, queuedAtOf, queueOrder, type NewJob } from './index.js';

const job = (pool: string, weightMilli: number, createdAt: number, extra: Partial<JobSpec> = {}): NewJob => ({
  record: {
    id: newJobId(pool, createdAt),
    spec: { pool, allowedExecutors: [], command: ['true'], env: {}, weightMilli, timeoutMs: 0, maxAttempts: 0, priority: 0, labels: {}, ...extra },
    weightMilli,
    createdAt,
  },
  trace: {},
});

describe('the weighted backlog', () => {
  it('reads a weight class\'s weight and a queue order\'s time', () => {
    expect(classWeight('250')).toBe(250);
    expect(classWeight('1000:ingest@docker,subprocess')).toBe(1000);
    expect(queuedAtOf(queueOrder(1000, 1_700_000_000_123))).toBe(1_700_000_000_123);
    expect(queuedAtOf(queueOrder(-1000, 1_700_000_000_123))).toBe(1_700_000_000_123);
  });

  describe('on a real Redis', () => {
    let server: RedisHandle;
    let redis: Redis;
    let lc: JobLifecycle;
    beforeAll(async () => {
      server = await startRedis();
      redis = createRedis(server.url, 'worker');
      lc = new JobLifecycle(redis, { retentionMs: 60_000, maxFinished: 100 });
    });
    afterAll(async () => {
      redis.disconnect();
      await server.stop();
    });

    it('is empty for a pool with nothing queued', async () => {
      expect(await lc.backlog('empty')).toEqual({ jobs: 0, weightMilli: 0, oldestQueuedAt: undefined });
    });

    it('sums the weights of the claimable jobs of every class, and finds the oldest behind higher priorities', async () => {
      const t = Date.now() - 60_000;
      await lc.submit('bk', [
        // The oldest job has the lowest priority: it is last in its class's order, not its head.
        job('bk', 250, t, { priority: -5 }),
        job('bk', 250, t + 10, { priority: 7 }),
        job('bk', 250, t + 20, { priority: 3 }),
        job('bk', 500, t + 5, { lane: 'ingest' }),
        job('bk', 1000, t + 30, { allowedExecutors: ['docker'] }),
      ]);
      expect(await lc.backlog('bk')).toEqual({ jobs: 5, weightMilli: 250 * 3 + 500 + 1000, oldestQueuedAt: t });
      // Claimed jobs leave the backlog: the first in order is the priority-7 one.
      const c = await lc.claim('bk', { agentId: 'a', lockMs: 5000, reserveAfterMs: 60_000 }, { freeMilli: 250, capacityMilli: 1000, laneRoom: {}, max: 1, executors: ['subprocess'] }, 'tok');
      expect(c.jobs).toHaveLength(1);
      expect(await lc.backlog('bk')).toEqual({ jobs: 4, weightMilli: 250 * 2 + 500 + 1000, oldestQueuedAt: t });
    });
  });
});
