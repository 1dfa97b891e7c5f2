import { Code, newJobId, type JobSpec } from '@longshore/domain';
import { createRedis, JobStore, type Redis } from '@longshore/store';
import { startRedis, type RedisHandle } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobLifecycle, RedisBudget, redisUsedBytes, type NewJob } from './index.js';

const spec = (pool: string): JobSpec => ({ pool, allowedExecutors: [], command: ['true'], env: {}, weightMilli: 100, timeoutMs: 0, maxAttempts: 0, priority: 0, labels: {} });
const job = (pool: string): NewJob => ({ record: { id: newJobId(pool), spec: spec(pool), weightMilli: 100, createdAt: Date.now() }, trace: {} });

describe('LONGSHORE_REDIS_BUDGET on a real Redis', () => {
  let server: RedisHandle;
  let redis: Redis;
  let lc: JobLifecycle;
  const pools = ['bud-a', 'bud-b'];
  beforeAll(async () => {
    server = await startRedis();
    redis = createRedis(server.url, 'worker');
    lc = new JobLifecycle(redis, { retentionMs: 3_600_000, maxFinished: 100_000 });
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  /** Runs `n` jobs in `pool`, each printing `kib` KiB, to their end. */
  async function runJobs(pool: string, n: number, kib: number): Promise<string[]> {
    const jobs = Array.from({ length: n }, () => job(pool));
    await lc.submit(pool, jobs);
    const line = 'x'.repeat(1024);
    for (let i = 0; i < n; i++) {
      const c = (await lc.claim(pool, { agentId: 'a1', lockMs: 5000, reserveAfterMs: 60_000 }, { freeMilli: 1000, capacityMilli: 1000, laneRoom: {}, max: 1, executors: ['subprocess'] }, `t${pool}${i}`)).jobs[0]!;
      await lc.appendLogs(c, 10 * 1024 * 1024, Array.from({ length: kib }, () => ({ stream: 'stdout', text: line })));
      await lc.finish(pool, [{ claim: c, outcome: { state: 'succeeded', exitCode: 0, message: '', attempt: { agentId: 'a1', executor: 'noop', startedAt: 1 } }, retry: { budget: 0, maxAttempts: 0, delayMs: 0 } }]);
    }
    return jobs.map((j) => j.record.id);
  }

  it('deletes finished jobs oldest first, across pools, until Redis is under the budget; keeps live jobs', async () => {
    const base = await redisUsedBytes(redis);
    const older = await runJobs('bud-a', 20, 100);
    const newer = await runJobs('bud-b', 20, 100);
    const live = job('bud-a');
    await lc.submit('bud-a', [live]);
    const full = await redisUsedBytes(redis);
    expect(full - base).toBeGreaterThan(3 * 1024 * 1024);
    const budgetBytes = base + Math.floor((full - base) / 2);
    const state = await new RedisBudget(redis, lc, async () => pools, budgetBytes, 5).enforce();
    expect(state.usedBytes).toBeLessThanOrEqual(budgetBytes);
    expect(state.exhausted).toBe(false);
    const store = new JobStore(redis);
    const kept = async (ids: string[]) => (await store.getMany(ids)).filter(Boolean).length;
    expect(await kept(older)).toBeLessThan(older.length);
    expect(await kept(newer)).toBeGreaterThan(0);
    // Oldest first: a newer job is gone only once every older one is.
    if ((await kept(newer)) < newer.length) expect(await kept(older)).toBe(0);
    expect(await store.get(live.record.id)).toMatchObject({ state: 'queued' });
  });

  it('refuses new work, naming the variable, once live data alone is over the budget', async () => {
    const budget = new RedisBudget(redis, lc, async () => pools, 1024 * 1024);
    expect(budget.last()).toBeUndefined();
    const err = (await budget.admit().catch((e: unknown) => e)) as { code: Code; message: string };
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.message).toContain('LONGSHORE_REDIS_BUDGET');
    // Pool status shows what this check saw.
    expect(budget.last()).toMatchObject({ budgetBytes: 1024 * 1024, exhausted: true });
    expect(budget.last()!.usedBytes).toBeGreaterThan(1024 * 1024);
    // Every finished job was deleted on the way; the queued one stays.
    for (const p of pools) expect(await redis.zcard(lc.keys.pool(p).finished)).toBe(0);
    await new RedisBudget(redis, lc, async () => pools, 1024 * 1024 * 1024).admit();
  });
});
