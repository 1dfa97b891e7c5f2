/**
 * The services on a real Redis Cluster (3 masters, `redis-cluster://` URL): submit, claim and
 * finish in two pools whose keys live on different nodes, retries, cancel, and a lost agent.
 * Every key of a pool must sit in the pool's one slot (`CLUSTER KEYSLOT`).
 */
import { rm } from 'node:fs/promises';
import { FailureClass, JobState, LongshoreClient } from '@longshore/client';
import { createRedis, isCluster, Keys, waitForRedis, type Redis } from '@longshore/store';
import { Resources, startCluster, startRedisCluster, type Cluster, type RedisClusterHandle } from '@longshore/testing';
import type { Cluster as IoCluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRecord } from './faults/fault-support.js';
import { connect, logLines } from './support.js';

const res = new Resources();
const keys = new Keys('ls');

/** Which master serves a key's slot ("127.0.0.1:PORT"). */
function nodeOf(redis: IoCluster, slot: number): string {
  const owner = redis.slots[slot]?.[0];
  if (!owner) throw new Error(`no node serves slot ${slot}`);
  return owner;
}

async function slotOf(redis: Redis, key: string): Promise<number> {
  return Number(await redis.call('CLUSTER', 'KEYSLOT', key));
}

describe('the services on a Redis Cluster', () => {
  let rc: RedisClusterHandle;
  let cluster: Cluster;
  let ls: LongshoreClient;
  let redis: IoCluster;
  /** A second pool whose slot is served by another master than the default pool's. */
  let other = '';

  beforeAll(async () => {
    rc = await startRedisCluster();
    res.add({ stop: () => rm(rc.dir, { recursive: true, force: true }) });
    res.add(rc);
    const r = createRedis(rc.url, 'worker');
    res.add({ stop: async () => r.disconnect() });
    await waitForRedis(r, rc.url);
    if (!isCluster(r)) throw new Error('createRedis did not make a Cluster connection');
    redis = r;
    const defaultNode = nodeOf(redis, await slotOf(redis, keys.pool('default').index));
    for (const candidate of ['beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta']) {
      if (nodeOf(redis, await slotOf(redis, keys.pool(candidate).index)) !== defaultNode) {
        other = candidate;
        break;
      }
    }
    expect(other, 'a pool name on another node than "default"').not.toBe('');
    cluster = await startCluster({
      redisUrl: rc.url,
      agents: [{ LONGSHORE_AGENT_ID: 'rc-default-1' }, { LONGSHORE_AGENT_ID: 'rc-other-1', LONGSHORE_POOL: other }, { LONGSHORE_AGENT_ID: 'rc-other-2', LONGSHORE_POOL: other }],
      beforeAgents: async (env) => {
        const admin = LongshoreClient.connect({ env });
        try {
          await admin.registry.createPool({ id: other });
        } finally {
          admin.close();
        }
      },
    });
    res.add(cluster);
    ls = connect(cluster);
    res.add({ stop: async () => ls.close() });
  });
  afterAll(() => res.stopAll());

  it('runs jobs in two pools on different nodes, and streams their output (pub/sub on a Cluster)', async () => {
    const a = await ls.submit({ command: ['sh', '-c', 'echo from default'] });
    const b = await ls.submit({ pool: other, command: ['sh', '-c', `echo from ${other}`] });
    expect(await logLines(ls, a.id, true)).toEqual(['from default']);
    expect(await logLines(ls, b.id, true)).toEqual([`from ${other}`]);
    const [doneA, doneB] = await Promise.all([ls.waitForJob(a.id), ls.waitForJob(b.id)]);
    expect(doneA.state).toBe(JobState.SUCCEEDED);
    expect(doneB.state).toBe(JobState.SUCCEEDED);
    expect(doneA.attempts[0]!.agentId).toBe('rc-default-1');
    expect(doneB.attempts[0]!.agentId).toMatch(/^rc-other-[12]$/);
    const listed = await ls.dispatcher.listJobs({ pageSize: 50 });
    expect(listed.jobs.map((j) => j.id)).toEqual(expect.arrayContaining([a.id, b.id])); // a read across pools
  });

  it("keeps every key of a pool in the pool's one slot, on the master that serves it", async () => {
    for (const pool of ['default', other]) {
      const slot = await slotOf(redis, keys.pool(pool).index);
      const node = redis.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === nodeOf(redis, slot))!;
      const found: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await node.scan(cursor, 'MATCH', `ls:{${pool}}:*`, 'COUNT', 1000);
        cursor = next;
        found.push(...batch);
      } while (cursor !== '0');
      expect(found.length, `keys of pool ${pool}`).toBeGreaterThan(2);
      const slots = new Set(await Promise.all(found.map((k) => slotOf(redis, k))));
      expect([...slots], `slots of pool ${pool}'s keys`).toEqual([slot]);
    }
    const catalogue = new Set(await Promise.all([keys.pools, keys.agents, keys.tokens, keys.schema].map((k) => slotOf(redis, k))));
    expect(catalogue.size, 'the catalogue keys share one slot').toBe(1);
    expect(await slotOf(redis, keys.pool('default').index)).not.toBe(await slotOf(redis, keys.pool(other).index));
  });

  it('retries a failed attempt when asked, and runs a finished job again (jobs retry)', async () => {
    const flaky = await ls.waitForJob((await ls.submit({ pool: other, command: ['sh', '-c', '[ "$LONGSHORE_ATTEMPT" = 2 ]'], retry: { exit: 2, backoffMs: 200n } })).id);
    expect(flaky.state).toBe(JobState.SUCCEEDED);
    expect(flaky.attempts).toHaveLength(2);
    expect(flaky.attempts[0]!.failureClass).toBe(FailureClass.EXIT);

    const failed = await ls.waitForJob((await ls.submit({ command: ['false'] })).id);
    expect(failed.state).toBe(JobState.FAILED);
    await ls.dispatcher.retryJob({ id: failed.id });
    const again = await waitForRecord(ls, failed.id, (j) => j.attempts.length === 2 && j.finishedAt !== undefined, 'the reopened job to run again', 30_000);
    expect(again.state).toBe(JobState.FAILED);
  });

  it('cancels a queued and a running job', async () => {
    const running = await ls.submit({ pool: other, command: ['sleep', '300'] });
    await waitForRecord(ls, running.id, (j) => j.state === JobState.RUNNING, 'the job to run', 30_000);
    await ls.dispatcher.cancelJob({ id: running.id });
    expect((await ls.waitForJob(running.id)).state).toBe(JobState.CANCELLED);

    const heavy = await ls.submit({ weightMilli: 1000, command: ['sleep', '300'] });
    const queued = await ls.submit({ weightMilli: 1000, command: ['true'] });
    await waitForRecord(ls, heavy.id, (j) => j.state === JobState.RUNNING, 'the heavy job to run', 30_000);
    expect((await ls.getJob(queued.id)).state).toBe(JobState.QUEUED);
    await ls.dispatcher.cancelJob({ id: queued.id });
    expect((await ls.waitForJob(queued.id)).state).toBe(JobState.CANCELLED);
    await ls.dispatcher.cancelJob({ id: heavy.id });
    expect((await ls.waitForJob(heavy.id)).state).toBe(JobState.CANCELLED);
  });

  it("runs a lost agent's job again on the other agent of its pool", async () => {
    const job = await ls.submit({ pool: other, command: ['sh', '-c', 'sleep 2; echo done'] });
    const running = await waitForRecord(ls, job.id, (j) => j.state === JobState.RUNNING, 'the job to run', 30_000);
    const victim = running.attempts[0]!.agentId;
    const index = ['rc-default-1', 'rc-other-1', 'rc-other-2'].indexOf(victim);
    expect(index).toBeGreaterThan(0);
    cluster.agents[index]!.signal('SIGKILL');
    const done = await waitForRecord(ls, job.id, (j) => j.finishedAt !== undefined, 'the job to finish on the survivor', 45_000);
    expect(done.state).toBe(JobState.SUCCEEDED);
    expect(done.attempts.length).toBeGreaterThanOrEqual(2);
    expect(done.attempts[0]!.failureClass).toBe(FailureClass.LOST);
    expect(done.attempts.at(-1)!.agentId).not.toBe(victim);
  });
});
