import { rm } from 'node:fs/promises';
import { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { processGone } from './proc.js';
import { startRedisCluster } from './redis-cluster.js';
import { findRedisCli } from './redis-node.js';
import { redisServerRequired } from './redis-server.js';
import { startRedisSentinel } from './redis-sentinel.js';
import { Resources } from './resources.js';

const res = new Resources();
afterAll(() => res.stopAll());

/** Outside CI a machine without redis-server skips these; in CI they must run. */
const haveRedis = redisServerRequired();

describe.runIf(haveRedis)('Redis Cluster and Sentinel harnesses', () => {
  it('finds redis-cli', () => {
    expect(findRedisCli()).toMatch(/redis-cli$/);
  });

  it('starts a 3-master Redis Cluster that serves every slot, and stops it by pid', async () => {
    const cluster = await startRedisCluster();
    res.add({ stop: () => rm(cluster.dir, { recursive: true, force: true }) });
    res.add(cluster);
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.url).toMatch(/^redis-cluster:\/\/:[^@]+@127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
    expect(await cluster.cli(['cluster', 'info'])).toContain('cluster_slots_assigned:16384');

    const client = new Cluster(
      cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
      { redisOptions: { password: cluster.password } },
    );
    try {
      // Keys on different slots land on different masters, and come back.
      for (const pool of ['a', 'b', 'c', 'd', 'e', 'f']) await client.set(`ls:{${pool}}:x`, pool);
      for (const pool of ['a', 'b', 'c', 'd', 'e', 'f']) expect(await client.get(`ls:{${pool}}:x`)).toBe(pool);
      const perNode = await Promise.all(client.nodes('master').map((n) => n.dbsize()));
      expect(perNode.filter((n) => n > 0).length).toBeGreaterThan(1);
    } finally {
      client.disconnect();
    }

    const pids = cluster.nodes.map((n) => n.pid);
    await cluster.stop();
    await cluster.stop(); // idempotent
    for (const pid of pids) expect(processGone(pid)).toBe(true);
  });

  it('starts a master, a replica and a Sentinel that promotes the replica when the master is killed', async () => {
    const s = await startRedisSentinel();
    res.add({ stop: () => rm(s.dir, { recursive: true, force: true }) });
    res.add(s);
    const [master, replica] = s.servers;
    expect(await s.masterPort()).toBe(master!.port);
    expect(s.url).toMatch(new RegExp(`^redis-sentinel://:[^@]+@127\\.0\\.0\\.1:${s.sentinels[0]!.port}/longshore$`));

    const client = new Redis({ sentinels: s.sentinels.map((x) => ({ host: '127.0.0.1', port: x.port })), name: s.masterName, password: s.password, lazyConnect: true });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.set('k', 'v');
      expect(await client.wait(1, 5000)).toBe(1); // the replica has it

      await master!.kill();
      expect(processGone(master!.pid)).toBe(true);
      expect(await s.waitForFailover(master!.port)).toBe(replica!.port);
      expect(await s.cli(replica!.port, ['get', 'k'])).toContain('v');
    } finally {
      client.disconnect();
    }
    await s.stop();
    for (const n of [...s.servers, ...s.sentinels]) expect(processGone(n.pid)).toBe(true);
  });
});
