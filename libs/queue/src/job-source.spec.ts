import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '@longshore/testing';
import { Redis } from 'ioredis';
import { JobQueues, createBullJobSource, QUEUE_DATA_VERSION, type ClaimOutcome, type JobSource, type QueueJobData } from './index.js';

let seq = 0;
function data(pool: string, weightMilli: number, extra: Partial<QueueJobData> = {}): QueueJobData {
  const id = `job${String(++seq).padStart(4, '0')}`;
  return {
    v: QUEUE_DATA_VERSION,
    id,
    pool,
    weightMilli,
    priority: 0,
    spec: { pool, allowedExecutors: [], command: ['true'], env: {}, weightMilli, timeoutMs: 0, maxAttempts: 1, priority: 0, labels: {} },
    trace: {},
    submittedAt: Date.now(),
    ...extra,
  };
}

const idOf = (o: ClaimOutcome) => (o.kind === 'job' ? o.job.id : o.kind === 'reserved' ? `reserved:${o.jobId}` : 'none');

describe('fit-aware claiming on a real Redis', () => {
  let server: RedisHandle;
  let redis: Redis;
  let queues: JobQueues;
  const sources: JobSource[] = [];
  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    queues = new JobQueues(redis);
  });
  afterAll(async () => {
    for (const s of sources) await s.close();
    await queues.close();
    redis.disconnect();
    await server.stop();
  });
  const source = (pool: string, agentId: string, reserveAfterMs = 60_000) => {
    const s = createBullJobSource({ connection: redis, pool, agentId, lockMs: 5000, stalledIntervalMs: 5000, reserveAfterMs, scanLimit: 100 });
    sources.push(s);
    return s;
  };

  it('takes the first job in order that fits, skipping heavier ones (backfill), and never one that does not fit', async () => {
    const [heavy, light1, light2] = [data('fit', 1000), data('fit', 250), data('fit', 250)];
    await queues.add([heavy, light1, light2]);
    const s = source('fit', 'a1');
    expect(idOf(await s.claim({ freeMilli: 500, capacityMilli: 1000, fullLanes: [] }))).toBe(light1.id);
    expect(idOf(await s.claim({ freeMilli: 250, capacityMilli: 1000, fullLanes: [] }))).toBe(light2.id);
    expect(idOf(await s.claim({ freeMilli: 250, capacityMilli: 1000, fullLanes: [] }))).toBe('none');
    expect(idOf(await s.claim({ freeMilli: 1000, capacityMilli: 1000, fullLanes: [] }))).toBe(heavy.id);
  });

  it('takes higher priority first, FIFO within a priority', async () => {
    const [low, normal1, high, normal2] = [data('prio', 100, { priority: -1 }), data('prio', 100), data('prio', 100, { priority: 5 }), data('prio', 100)];
    await queues.add([low, normal1, high, normal2]);
    const s = source('prio', 'a1');
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push(idOf(await s.claim({ freeMilli: 1000, capacityMilli: 1000, fullLanes: [] })));
    expect(order).toEqual([high.id, normal1.id, normal2.id, low.id]);
  });

  it('skips jobs of lanes at their cap here', async () => {
    const [ing, mon] = [data('lanes', 100, { lane: 'ingestion' }), data('lanes', 100, { lane: 'monitor' })];
    await queues.add([ing, mon]);
    const s = source('lanes', 'a1');
    expect(idOf(await s.claim({ freeMilli: 1000, capacityMilli: 1000, fullLanes: ['ingestion'] }))).toBe(mon.id);
    expect(idOf(await s.claim({ freeMilli: 1000, capacityMilli: 1000, fullLanes: [] }))).toBe(ing.id);
  });

  it('reserves an aged heavy job for one agent, which then admits nothing else, while others backfill', async () => {
    const [heavy, l1, l2] = [data('res', 1000), data('res', 250), data('res', 250)];
    await queues.add([heavy, l1, l2]);
    const a = source('res', 'a1', 0);
    const b = source('res', 'a2', 0);
    expect(idOf(await a.claim({ freeMilli: 750, capacityMilli: 1000, fullLanes: [] }))).toBe(`reserved:${heavy.id}`);
    expect(await queues.reservation('res')).toMatchObject({ jobId: heavy.id, agentId: 'a1', weightMilli: 1000 });
    // The holder admits nothing lighter while it drains...
    expect(idOf(await a.claim({ freeMilli: 750, capacityMilli: 1000, fullLanes: [] }))).toBe(`reserved:${heavy.id}`);
    // ...while another agent keeps backfilling around the reserved job.
    expect(idOf(await b.claim({ freeMilli: 500, capacityMilli: 1000, fullLanes: [] }))).toBe(l1.id);
    // Once the holder has room, it takes the reserved job and the reservation ends.
    expect(idOf(await a.claim({ freeMilli: 1000, capacityMilli: 1000, fullLanes: [] }))).toBe(heavy.id);
    expect(await queues.reservation('res')).toBeUndefined();
    expect(idOf(await a.claim({ freeMilli: 1000, capacityMilli: 1000, fullLanes: [] }))).toBe(l2.id);
  });

  it('lets any agent that can start the reserved job now take it', async () => {
    const heavy = data('res2', 1000);
    await queues.add([heavy]);
    const a = source('res2', 'a1', 0);
    const b = source('res2', 'a2', 0);
    expect(idOf(await a.claim({ freeMilli: 0, capacityMilli: 1000, fullLanes: [] }))).toBe(`reserved:${heavy.id}`);
    expect(idOf(await b.claim({ freeMilli: 1000, capacityMilli: 1000, fullLanes: [] }))).toBe(heavy.id);
    expect(await queues.reservation('res2')).toBeUndefined();
  });

  it('never reserves a job heavier than the agent could ever run, and does not reserve young jobs', async () => {
    const huge = data('res3', 2000);
    await queues.add([huge]);
    expect(idOf(await source('res3', 'small', 0).claim({ freeMilli: 1000, capacityMilli: 1000, fullLanes: [] }))).toBe('none');
    expect(idOf(await source('res3', 'big', 60_000).claim({ freeMilli: 1000, capacityMilli: 2000, fullLanes: [] }))).toBe('none');
    expect(await queues.reservation('res3')).toBeUndefined();
  });

  it('puts a released job back at the front of its priority, for anyone to claim', async () => {
    const [first, second] = [data('rel', 500), data('rel', 500)];
    await queues.add([first, second]);
    const a = source('rel', 'a1');
    const claimed = await a.claim({ freeMilli: 1000, capacityMilli: 1000, fullLanes: [] });
    expect(idOf(claimed)).toBe(first.id);
    if (claimed.kind === 'job') await claimed.job.release();
    expect(idOf(await source('rel', 'a2').claim({ freeMilli: 500, capacityMilli: 1000, fullLanes: [] }))).toBe(first.id);
  });

  it('lets an abandoned claim lapse, so the stalled check hands the job to another agent', async () => {
    const j = data('aband', 100);
    await queues.add([j]);
    const fast = (agentId: string) => {
      const s = createBullJobSource({ connection: redis, pool: 'aband', agentId, lockMs: 600, stalledIntervalMs: 300, reserveAfterMs: 60_000, scanLimit: 100 });
      sources.push(s);
      return s;
    };
    const a = fast('a1');
    const first = await a.claim({ freeMilli: 1000, capacityMilli: 1000, fullLanes: [] });
    expect(idOf(first)).toBe(j.id);
    // While held, renewals keep it: nobody else gets it.
    await new Promise((r) => setTimeout(r, 1500));
    const b = fast('a2');
    expect(idOf(await b.claim({ freeMilli: 1000, capacityMilli: 1000, fullLanes: [] }))).toBe('none');
    if (first.kind === 'job') first.job.abandon();
    let again: ClaimOutcome = { kind: 'none' };
    for (let i = 0; i < 40 && again.kind === 'none'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      again = await b.claim({ freeMilli: 1000, capacityMilli: 1000, fullLanes: [] });
    }
    expect(idOf(again)).toBe(j.id);
  });

  it('keeps BullMQ\'s own bookkeeping: a claimed job is active and locked; complete removes it', async () => {
    const j = data('book', 100);
    await queues.add([j]);
    const claimed = await source('book', 'a1').claim({ freeMilli: 1000, capacityMilli: 1000, fullLanes: [] });
    expect(claimed.kind).toBe('job');
    const q = new Queue('pool-book', { connection: redis, prefix: 'ls' });
    expect(await q.getJobState(j.id)).toBe('active');
    expect(await redis.get(`ls:pool-book:${j.id}:lock`)).toBe(claimed.kind === 'job' ? claimed.job.token : '');
    if (claimed.kind === 'job') {
      expect(claimed.job.decoded).toMatchObject({ ok: true, data: { id: j.id, weightMilli: 100 } });
      await claimed.job.complete();
    }
    expect(await q.getJob(j.id)).toBeUndefined();
    await q.close();
  });
});
