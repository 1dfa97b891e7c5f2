import { newJobId, type JobSpec } from '@longshore/domain';
import { createRedis, Keys, poolAgentAcl, type Redis } from '@longshore/store';
import { startRedis, type RedisHandle } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobLifecycle, type NewJob } from './index.js';

const spec = (pool: string): JobSpec => ({ pool, allowedExecutors: [], command: ['true'], env: {}, weightMilli: 100, timeoutMs: 0, maxAttempts: 0, priority: 0, labels: {} });
const job = (pool: string): NewJob => ({ record: { id: newJobId(pool), spec: spec(pool), weightMilli: 100, createdAt: Date.now() }, trace: {} });
const room = { freeMilli: 1000, capacityMilli: 1000, laneRoom: {}, max: 1, executors: ['subprocess'] };
const settings = { agentId: 'a1', lockMs: 5000, reserveAfterMs: 60_000 };

describe('a per-pool Redis ACL user (longshore pools acl)', () => {
  let server: RedisHandle;
  let admin: Redis;
  let agentA: Redis;
  const retention = { retentionMs: 60_000, maxFinished: 100 };
  beforeAll(async () => {
    server = await startRedis();
    admin = createRedis(server.url, 'worker');
    await admin.call('ACL', 'SETUSER', ...poolAgentAcl('ls', 'pool-a', 'agent-a', 'secret-a-0123456789'));
    const u = new URL(server.url);
    agentA = createRedis(`redis://agent-a:secret-a-0123456789@${u.host}`, 'worker');
  });
  afterAll(async () => {
    agentA?.disconnect();
    admin?.disconnect();
    await server?.stop();
  });

  it("runs its own pool's jobs, and can neither claim nor read another pool's", async () => {
    const lcAdmin = new JobLifecycle(admin, retention);
    const [a, b] = [job('pool-a'), job('pool-b')];
    await lcAdmin.submit('pool-a', [a]);
    await lcAdmin.submit('pool-b', [b]);
    await admin.hset(new Keys().pools, 'pool-a', '{}');
    const lc = new JobLifecycle(agentA, retention);

    // Its own pool: claim, log, finish.
    const mine = await lc.claim('pool-a', settings, room, 't1');
    const claimed = mine.jobs[0];
    expect(claimed?.id).toBe(a.record.id);
    if (!claimed) throw new Error('no job');
    expect(await lc.appendLogs(claimed, 1000, [{ stream: 'stdout', text: 'hi' }])).toBe(1);
    const done = await lc.finish('pool-a', [{ claim: claimed, outcome: { state: 'succeeded', exitCode: 0, message: '', attempt: { agentId: 'a1', executor: 'noop', startedAt: 1 } }, retry: { budget: 0, maxAttempts: 0, delayMs: 0 } }]);
    expect(done.results).toEqual(['ended']);
    // The catalogue: readable, not writable.
    expect(await agentA.hget(new Keys().pools, 'pool-a')).toBe('{}');
    await expect(agentA.hset(new Keys().pools, 'pool-x', '{}')).rejects.toThrow(/NOPERM/);

    // Another pool: no claim, no record, no log, no channel, no key-less writes.
    await expect(lc.claim('pool-b', settings, room, 't2')).rejects.toThrow(/NOPERM|permission/i);
    const kb = new Keys().pool('pool-b');
    await expect(agentA.hgetall(kb.record(b.record.id))).rejects.toThrow(/NOPERM/);
    await expect(agentA.xrange(kb.log(b.record.id), '-', '+')).rejects.toThrow(/NOPERM/);
    await expect(lc.cancel(b.record.id, 'x')).rejects.toThrow(/NOPERM|permission/i);
    await expect(agentA.flushall()).rejects.toThrow(/NOPERM/);
    const sub = agentA.duplicate();
    await expect(sub.subscribe(kb.cancel)).rejects.toThrow(/NOPERM/);
    sub.disconnect();
    // The other pool's job is untouched.
    expect(await admin.hget(kb.record(b.record.id), 'state')).toBe('queued');
  });
});
