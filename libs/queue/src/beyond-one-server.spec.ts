import { rm } from 'node:fs/promises';
import { newJobId, UnavailableError, type JobSpec } from '@longshore/domain';
import { checkSchema, connectedNodes, createRedis, isCluster, JobStore, Keys, masterNodes, waitForRedis, type Redis } from '@longshore/store';
import { redisServerRequired, Resources, startRedisCluster, startRedisSentinel, type RedisClusterHandle, type RedisSentinelHandle } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobLifecycle, RedisBudget, redisUsedBytes, type NewJob } from './index.js';

const haveRedis = redisServerRequired();
const res = new Resources();
afterAll(() => res.stopAll());

const spec = (pool: string): JobSpec => ({ pool, allowedExecutors: [], command: ['true'], env: {}, weightMilli: 250, timeoutMs: 0, maxAttempts: 0, priority: 0, labels: {} });
let clock = Date.now() - 60_000;
const job = (pool: string): NewJob => {
  const createdAt = ++clock;
  return { record: { id: newJobId(pool, createdAt), spec: spec(pool), weightMilli: 250, createdAt }, trace: {} };
};
const room = { freeMilli: 1000, capacityMilli: 1000, laneRoom: {}, max: 4, executors: ['subprocess'] };
const settings = { agentId: 'a1', lockMs: 5000, reserveAfterMs: 60_000 };
const ok = { state: 'succeeded' as const, exitCode: 0, message: '', attempt: { agentId: 'a1', executor: 'noop' as const, startedAt: 1, finishedAt: 2 } };
const retention = { retentionMs: 60_000, maxFinished: 100 };

/** Submit, claim and finish one job of each pool, then check what the store reads back. */
async function roundTrip(redis: Redis, lc: JobLifecycle, pools: string[]): Promise<void> {
  const store = new JobStore(redis);
  const ids: string[] = [];
  for (const pool of pools) {
    const j = job(pool);
    ids.push(j.record.id);
    expect(await lc.submit(pool, [j])).toEqual({ kind: 'ok' });
    const claimed = await lc.claim(pool, settings, room, `tok-${pool}`);
    expect(claimed.jobs.map((c) => c.id)).toEqual([j.record.id]);
    const fin = await lc.finish(pool, [{ claim: claimed.jobs[0]!, outcome: ok, retry: { budget: 0, maxAttempts: 0, delayMs: 0 } }]);
    expect(fin.results).toEqual(['ended']);
  }
  const records = await store.getMany(ids); // one pipeline per pool: pools are on different slots
  expect(records.map((r) => r?.state)).toEqual(pools.map(() => 'succeeded'));
}

describe.runIf(haveRedis)('the lifecycle on a Redis Cluster', () => {
  let cluster: RedisClusterHandle;
  let redis: Redis;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    res.add({ stop: () => rm(cluster.dir, { recursive: true, force: true }) });
    res.add(cluster);
    redis = createRedis(cluster.url, 'worker');
    res.add({ stop: async () => redis.disconnect() });
    await waitForRedis(redis, cluster.url);
  });

  it('connects through createRedis to a Cluster and checks the schema (catalogue keys share one slot)', async () => {
    expect(isCluster(redis)).toBe(true);
    await checkSchema(redis, 'ls');
    await checkSchema(redis, 'ls'); // now stamped: reads it back
    expect(await redis.get(new Keys().schema)).not.toBeNull();
  });

  it('names every node it reaches, for the job firewall', async () => {
    const ports = connectedNodes(redis).map((n) => n.port);
    for (const node of cluster.nodes) expect(ports).toContain(node.port);
  });

  it('submits, claims and finishes jobs of pools that live on different nodes', async () => {
    const pools = ['alpha', 'beta', 'gamma', 'delta'];
    const slots = await Promise.all(pools.map(async (p) => Number(await redis.call('CLUSTER', 'KEYSLOT', new Keys().pool(p).index))));
    expect(new Set(slots).size).toBe(pools.length);
    await roundTrip(redis, new JobLifecycle(redis, retention), pools);
  });

  it('sums used_memory over every master for the budget, and trims per pool', async () => {
    const masters = masterNodes(redis);
    expect(masters).toHaveLength(3);
    const each = await Promise.all(masters.map(async (n) => Number(/used_memory:(\d+)/.exec(await n.info('memory'))![1])));
    const total = await redisUsedBytes(redis);
    expect(total).toBeGreaterThan(Math.max(...each));
    const lc = new JobLifecycle(redis, retention);
    const budget = new RedisBudget(redis, lc, async () => ['alpha', 'beta', 'gamma', 'delta'], 1024 * 1024);
    const state = await budget.enforce(); // every Redis is over 1 MiB: all finished jobs go
    expect(state.trimmed).toBeGreaterThanOrEqual(4);
    expect(state.exhausted).toBe(true);
  });

  it('refuses to acknowledge a change no replica confirmed (LONGSHORE_REDIS_WAIT_REPLICAS), naming the variable', async () => {
    const other = createRedis(cluster.url, 'worker');
    try {
      await waitForRedis(other, cluster.url);
      const lc = new JobLifecycle(other, { ...retention, redisWaitReplicas: 1, redisWaitTimeoutMs: 50 });
      const err = await lc.submit('alpha', [job('alpha')]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as Error).message).toContain('only 0 of LONGSHORE_REDIS_WAIT_REPLICAS=1');
    } finally {
      other.disconnect();
    }
  });

  it('fails to start against nodes that are not up, naming LONGSHORE_REDIS_URL and the fix', async () => {
    const url = 'redis-cluster://127.0.0.1:1,127.0.0.1:2';
    const r = createRedis(url, 'request');
    r.on('error', () => undefined);
    try {
      const err = await waitForRedis(r, url, 1500).catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain('cannot reach the Redis Cluster at redis-cluster://127.0.0.1:1,127.0.0.1:2');
      expect((err as Error).message).toContain('LONGSHORE_REDIS_URL');
    } finally {
      r.disconnect();
    }
  });
});

describe.runIf(haveRedis)('the lifecycle through Sentinel', () => {
  let s: RedisSentinelHandle;
  beforeAll(async () => {
    s = await startRedisSentinel();
    res.add({ stop: () => rm(s.dir, { recursive: true, force: true }) });
    res.add(s);
  });

  it('connects to the master the Sentinels name, and waits for the replica when asked', async () => {
    const redis = createRedis(s.url, 'worker');
    try {
      await waitForRedis(redis, s.url);
      await roundTrip(redis, new JobLifecycle(redis, { ...retention, redisWaitReplicas: 1, redisWaitTimeoutMs: 5000 }), ['one', 'two']);
      // The job firewall learns the data node the Sentinels chose, not only the Sentinels' addresses.
      expect(connectedNodes(redis).map((n) => n.port)).toEqual([await s.masterPort()]);
      expect(await s.cli(s.servers[1]!.port, ['exists', new Keys().pool('one').index])).toContain('1');
    } finally {
      redis.disconnect();
    }
  });

  it('fails to start when the Sentinels know no master of that name, saying so', async () => {
    const url = s.url.replace(/\/longshore$/, '/nosuchmaster');
    const redis = createRedis(url, 'request');
    redis.on('error', () => undefined);
    try {
      const err = await waitForRedis(redis, url.replace(/:[^:@/]+@/, ':***@'), 1500).catch((e: unknown) => e as Error);
      expect((err as Error).message).toContain('know no master named "nosuchmaster"');
      expect((err as Error).message).toContain('LONGSHORE_REDIS_URL');
      expect((err as Error).message).not.toContain(s.password);
    } finally {
      redis.disconnect();
    }
  });
});
