import { FailureClass, JobState, type Job, type LongshoreClient } from '@longshore/client';
import { startCluster, waitFor, type Cluster } from '@longshore/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, tsMs } from './support.js';

const start = (j: Job) => tsMs(j.attempts[0]?.startedAt);
const end = (j: Job) => tsMs(j.attempts[0]?.finishedAt);

/** Each test gets its own pool and agents, so they never share a queue. */
describe('weighted scheduling rules, one pool per rule, real agents', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  beforeAll(async () => {
    cluster = await startCluster({ agents: 0, env: { LONGSHORE_RESERVE_AFTER: '2s', LONGSHORE_CLAIM_POLL: '200ms' } });
    ls = connect(cluster);
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
  });
  let pool = 0;
  const agents: Awaited<ReturnType<Cluster['startAgent']>>[] = [];
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
  });
  async function newPool(agentEnv: NodeJS.ProcessEnv[] = [{}]): Promise<string> {
    const id = `rule-${++pool}`;
    await ls.registry.createPool({ id, maxWeightMilli: 1000 });
    for (const [i, env] of agentEnv.entries()) agents.push(await cluster.startAgent({ LONGSHORE_POOL: id, LONGSHORE_AGENT_ID: `${id}-a${i}`, ...env }));
    return id;
  }
  const sleepJob = (p: string, weightMilli: number, seconds: number, extra: object = {}) =>
    ls.submit({ pool: p, weightMilli, command: ['sleep', String(seconds)], ...extra });

  it('backfills light jobs behind a heavy one that does not fit yet (no head-of-line blocking)', async () => {
    const p = await newPool();
    const blocker = await sleepJob(p, 750, 2);
    await waitFor(async () => (await ls.getJob(blocker.id)).state === JobState.RUNNING, { what: 'the blocker to run' });
    const heavy = await sleepJob(p, 1000, 0.2);
    const light = await sleepJob(p, 250, 0.2);
    const [h, l, b] = await Promise.all([ls.waitForJob(heavy.id), ls.waitForJob(light.id), ls.waitForJob(blocker.id)]);
    expect(start(l)).toBeLessThan(start(h)); // the light job did not wait behind the heavy one
    expect(start(l) - tsMs(l.createdAt)).toBeLessThan(1000);
    expect(start(h)).toBeGreaterThanOrEqual(end(b)); // and the heavy one ran alone
  });

  it('starts a heavy job within the reservation bound under an endless stream of light jobs, and shows the reservation', async () => {
    const p = await newPool();
    const stream: Job[] = [];
    let streaming = true;
    const feeder = (async () => {
      // Keep about five 0.25 jobs of 0.6 s queued or running: the agent never drains on its own.
      for (let i = 0; i < 120 && streaming; i++) {
        stream.push(await sleepJob(p, 250, 0.6));
        await new Promise((r) => setTimeout(r, 120));
      }
    })();
    await new Promise((r) => setTimeout(r, 1500));
    const heavy = await sleepJob(p, 1000, 0.3);
    let sawReservation = false;
    const watcher = (async () => {
      while ((await ls.getJob(heavy.id)).state === JobState.QUEUED) {
        const r = (await ls.registry.getPool({ id: p })).pool!.status!.reservation;
        if (r?.jobId === heavy.id) sawReservation = true;
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    const h = await ls.waitForJob(heavy.id);
    await watcher;
    const waited = start(h) - tsMs(h.createdAt);
    // Bound: LONGSHORE_RESERVE_AFTER (2 s) + the longest light job (0.6 s) + polls and claim latency.
    expect(waited).toBeGreaterThan(1000);
    expect(waited).toBeLessThan(5000);
    expect(sawReservation).toBe(true);
    // The stream kept flowing before and after (light jobs submitted after the heavy one ran too).
    expect(stream.filter((j) => j.createdAt && tsMs(j.createdAt) > tsMs(h.createdAt)).length).toBeGreaterThan(3);
    streaming = false;
    await feeder;
    const all = await Promise.all(stream.map((j) => ls.waitForJob(j.id)));
    expect(all.every((j) => j.state === JobState.SUCCEEDED)).toBe(true);
    // And never more than capacity: the heavy job ran alone.
    for (const j of all) expect(end(j) <= start(h) || start(j) >= end(h)).toBe(true);
    expect((await ls.registry.getPool({ id: p })).pool!.status!.reservation).toBeUndefined();
  });

  it('runs higher priority first, FIFO within a priority', async () => {
    const p = await newPool([{ LONGSHORE_CAPACITY: '0.25' }]);
    const blocker = await sleepJob(p, 250, 1);
    await waitFor(async () => (await ls.getJob(blocker.id)).state === JobState.RUNNING, { what: 'the blocker to run' });
    const low = await sleepJob(p, 250, 0.05, { priority: -5 });
    const normal1 = await sleepJob(p, 250, 0.05);
    const high = await sleepJob(p, 250, 0.05, { priority: 5 });
    const normal2 = await sleepJob(p, 250, 0.05);
    const done = await Promise.all([low, normal1, high, normal2].map((j) => ls.waitForJob(j.id)));
    const order = [...done].sort((a, b) => start(a) - start(b)).map((j) => j.id);
    expect(order).toEqual([high.id, normal1.id, normal2.id, low.id]);
  });

  it('caps a lane by count on an agent while other lanes and unlaned jobs use the rest', async () => {
    const p = await newPool([{ LONGSHORE_LANES: 'ingestion=2' }]);
    const ingestion = await Promise.all(Array.from({ length: 6 }, () => sleepJob(p, 100, 0.8, { lane: 'ingestion' })));
    const monitor = await Promise.all(Array.from({ length: 3 }, () => sleepJob(p, 100, 0.8, { lane: 'monitor' })));
    await waitFor(async () => (await ls.registry.listAgents({ pool: p })).agents[0]?.laneUsage['ingestion'] === 2, { what: 'lane usage to be advertised' });
    const ing = await Promise.all(ingestion.map((j) => ls.waitForJob(j.id)));
    const mon = await Promise.all(monitor.map((j) => ls.waitForJob(j.id)));
    for (const j of ing) {
      const concurrent = ing.filter((k) => start(k) <= start(j) && end(k) > start(j)).length;
      expect(concurrent).toBeLessThanOrEqual(2);
    }
    // The monitor jobs did not wait for the ingestion lane: they all started at once.
    expect(Math.max(...mon.map(start)) - Math.min(...mon.map(start))).toBeLessThan(700);
  });

  it('makes a SIGKILLed agent\'s job claimable again within about 5 s with the default lease', async () => {
    const p = await newPool([{ LONGSHORE_AGENT_ID: 'doomed-one' }]);
    const job = await sleepJob(p, 500, 20);
    await waitFor(async () => (await ls.getJob(job.id)).state === JobState.RUNNING, { what: 'the job to run on the first agent' });
    agents.push(await cluster.startAgent({ LONGSHORE_POOL: p, LONGSHORE_AGENT_ID: 'survivor' }));
    agents[0]!.signal('SIGKILL');
    const killedAt = Date.now();
    const rerun = await waitFor(
      async () => {
        const j = await ls.getJob(job.id);
        return j.attempts.length === 2 && j.attempts[1]!.startedAt ? j : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'the job to run again' },
    );
    const after = tsMs(rerun.attempts[1]!.startedAt) - killedAt;
    console.log(`recovery after SIGKILL with the default lease (4 s) and stalled check (2 s): ${after} ms`);
    expect(rerun.attempts[0]).toMatchObject({ agentId: 'doomed-one', failureClass: FailureClass.LOST });
    expect(rerun.attempts[1]!.agentId).toBe('survivor');
    expect(after).toBeLessThan(8000);
    await ls.dispatcher.cancelJob({ id: job.id });
  });

  it('keeps a job heavier than its pool accepts out, and a job for an agent-less pool queued', async () => {
    const p = await newPool([]);
    const queued = await ls.submit({ pool: p, weightMilli: 1000, command: ['true'] });
    await new Promise((r) => setTimeout(r, 500));
    expect((await ls.getJob(queued.id)).state).toBe(JobState.QUEUED);
    const agent = await cluster.startAgent({ LONGSHORE_POOL: p, LONGSHORE_AGENT_ID: `${p}-late` });
    agents.push(agent);
    expect((await ls.waitForJob(queued.id)).state).toBe(JobState.SUCCEEDED);
  });
});
