import { newJobId, type JobSpec } from '@longshore/domain';
import { createRedis, JobStore, waitForRedis, type Redis } from '@longshore/store';
import { startRedis, type RedisHandle } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bullKeys, JobLifecycle, type NewJob } from './index.js';

/** Big enough that one batch keeps Redis busy for a while, so the kill can land inside it. */
const BATCH = 2_000;
const BATCHES = 6;
const POOL = 'crash';

const spec = (i: number): JobSpec => ({
  pool: POOL,
  allowedExecutors: [],
  command: ['sh', '-c', `echo job ${i}; ${'x'.repeat(200)}`],
  env: { A: 'a'.repeat(100) },
  weightMilli: 250,
  timeoutMs: 0,
  maxAttempts: 0,
  priority: 0,
  labels: { batch: String(i) },
});

describe('a submit Redis dies in the middle of (SIGKILL, AOF appendfsync always)', () => {
  let server: RedisHandle;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedis({ appendonly: true, appendfsync: 'always' });
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('leaves each batch wholly stored or not at all: records, index, weight class and BullMQ entry', async () => {
    const writer = createRedis(server.url, 'request');
    writer.on('error', () => {}); // it dies with Redis; the submits' own errors are what count
    await waitForRedis(writer, 'the test Redis');
    const lc = new JobLifecycle(writer, { retentionMs: 3_600_000, maxFinished: 100_000 });
    let clock = Date.now() - 60_000;
    const batches: NewJob[][] = Array.from({ length: BATCHES }, (_, b) =>
      Array.from({ length: BATCH }, () => {
        const createdAt = ++clock;
        return { record: { id: newJobId(POOL, createdAt), spec: spec(b), weightMilli: 250, createdAt }, trace: {} };
      }),
    );
    // The first batch is stored before the fault; the rest are sent back to back and Redis is
    // killed once the second has been answered, with the others in flight or queued behind it.
    await lc.submit(POOL, batches[0]!);
    const outcomes: ('ok' | 'failed' | 'pending')[] = batches.map((_, i) => (i === 0 ? 'ok' : 'pending'));
    const inFlight = batches.slice(1).map((jobs, i) =>
      lc.submit(POOL, jobs).then(
        () => (outcomes[i + 1] = 'ok'),
        () => (outcomes[i + 1] = 'failed'),
      ),
    );
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (outcomes[1] !== 'pending') {
          clearInterval(poll);
          resolve();
        }
      }, 1);
    });
    await server.kill();
    await Promise.all(inFlight);
    writer.disconnect();
    await server.restart();
    console.log(`submit-crash: batch outcomes as the client saw them: ${outcomes.join(', ')}`);
    // The kill hit before some batch was acknowledged; otherwise the test proved nothing.
    expect(outcomes).toContain('failed');

    redis = createRedis(server.url, 'worker');
    const check = new JobLifecycle(redis, { retentionMs: 3_600_000, maxFinished: 100_000 });
    const k = check.keys.pool(POOL);
    const q = bullKeys(k);
    const store = new JobStore(redis);
    const stored: number[] = [];
    for (const [b, jobs] of batches.entries()) {
      const ids = jobs.map((j) => j.record.id);
      const records = (await store.getMany(ids)).filter((r) => r !== undefined).length;
      const pipe = redis.pipeline();
      for (const id of ids) pipe.zscore(k.index, id).zscore(q.prioritized, id).zscore(k.weightClass('250'), id).exists(`${q.prioritized.slice(0, -'prioritized'.length)}${id}`);
      const res = ((await pipe.exec()) ?? []).map(([, v]) => v);
      const count = (every: number) => res.filter((v, i) => i % 4 === every && v !== null && v !== 0).length;
      const parts = { records, index: count(0), queued: count(1), weightClass: count(2), bullJob: count(3) };
      // Every part of the batch is there for every job, or for none.
      const whole = Object.values(parts).every((n) => n === BATCH);
      const absent = Object.values(parts).every((n) => n === 0);
      expect({ batch: b, parts, whole: whole || absent }).toEqual({ batch: b, parts, whole: true });
      // What the client was told stands: an acknowledged batch is wholly there.
      if (outcomes[b] === 'ok') expect(whole).toBe(true);
      stored.push(whole ? 1 : 0);
    }
    console.log(`submit-crash: batches wholly stored after the restart: ${stored.join(', ')} (1 = whole, 0 = none)`);
  });
});
