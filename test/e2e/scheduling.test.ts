import { FailureClass, JobState, type Job, type LongshoreClient } from '@longshore/client';
import { startCluster, waitFor, type Cluster } from '@longshore/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, gate, tsMs } from './support.js';

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
    // The blocker runs until the light job has started: so "did not wait" is a fact of order.
    const g = gate();
    const blocker = await ls.submit({ pool: p, weightMilli: 750, command: g.command });
    await waitFor(async () => (await ls.getJob(blocker.id)).state === JobState.RUNNING, { what: 'the blocker to run', timeoutMs: 30_000 });
    const heavy = await sleepJob(p, 1000, 0.2);
    const light = await sleepJob(p, 250, 0.2);
    try {
      // With head-of-line blocking the light job would wait behind the heavy one for the blocker: never, here.
      await waitFor(async () => (await ls.getJob(light.id)).attempts[0]?.startedAt, { what: 'the light job to start beside the blocker', timeoutMs: 30_000 });
      expect((await ls.getJob(heavy.id)).state).toBe(JobState.QUEUED);
    } finally {
      g.open();
    }
    const [h, l, b] = await Promise.all([ls.waitForJob(heavy.id), ls.waitForJob(light.id), ls.waitForJob(blocker.id)]);
    expect(start(l)).toBeLessThan(start(h)); // the light job did not wait behind the heavy one
    expect(start(l)).toBeLessThan(end(b)); // it ran beside the blocker
    expect(start(h)).toBeGreaterThanOrEqual(end(b)); // and the heavy one ran alone
  });

  it('starts a heavy job under an endless stream of light jobs by reserving room for it, and shows the reservation', async () => {
    const p = await newPool();
    const stream: Job[] = [];
    let unfinished = 0;
    let streaming = true;
    let heavyStarted = false;
    let afterHeavy = 0;
    // Keep eight 0.25 jobs of 0.6 s unfinished (four running, four queued): the agent never drains
    // on its own, however slowly this machine submits, so only the reservation can start the heavy
    // job. The stream goes on until a few light jobs were submitted after the heavy one started.
    const feeder = (async () => {
      while (streaming && afterHeavy < 5) {
        if (unfinished >= 8) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        unfinished++;
        const j = await sleepJob(p, 250, 0.6);
        if (heavyStarted) afterHeavy++;
        stream.push(j);
        ls.waitForJob(j.id)
          .catch(() => undefined)
          .finally(() => unfinished--);
      }
    })();
    try {
      await waitFor(() => stream.length >= 8, { what: 'the stream to fill the agent', timeoutMs: 30_000 });
      const heavy = await sleepJob(p, 1000, 0.3);
      const h = await waitFor(
        async () => {
          const j = await ls.getJob(heavy.id);
          return j.attempts[0]?.startedAt ? j : undefined;
        },
        { what: 'the heavy job to start', timeoutMs: 45_000, intervalMs: 100 },
      );
      heavyStarted = true;
      // It waited for the reservation (taken only after LONGSHORE_RESERVE_AFTER, 2 s: a lower bound,
      // which load cannot break), and the agent says it took one for this job.
      expect(start(h) - tsMs(h.createdAt)).toBeGreaterThan(1000);
      const agent = agents[0]!;
      expect(agent.logs.some((l) => String(l['msg']).startsWith('reservation taken') && l['reservedJob'] === heavy.id)).toBe(true);
      await waitFor(() => afterHeavy >= 5 || !streaming, { what: 'light jobs submitted after the heavy one started', timeoutMs: 30_000 });
      const hDone = await ls.waitForJob(heavy.id);
      expect(hDone.state).toBe(JobState.SUCCEEDED);
      streaming = false;
      await feeder;
      const all = await Promise.all(stream.map((j) => ls.waitForJob(j.id)));
      expect(all.every((j) => j.state === JobState.SUCCEEDED)).toBe(true);
      // The stream kept flowing after it (light jobs submitted after the heavy one started ran too),
      // and never beside it: the heavy job ran alone.
      expect(all.filter((j) => tsMs(j.createdAt) > start(hDone)).length).toBeGreaterThan(3);
      for (const j of all) expect(end(j) <= start(hDone) || start(j) >= end(hDone)).toBe(true);
      await waitFor(async () => (await ls.registry.getPool({ id: p })).pool!.status!.reservation === undefined, { what: 'the reservation to be gone', timeoutMs: 30_000 });
    } finally {
      streaming = false;
      await feeder;
    }
  });

  it('runs higher priority first, FIFO within a priority', async () => {
    const p = await newPool([{ LONGSHORE_CAPACITY: '0.25' }]);
    // The blocker holds the agent until all four are queued, however long submitting them takes.
    const g = gate();
    const blocker = await ls.submit({ pool: p, weightMilli: 250, command: g.command });
    await waitFor(async () => (await ls.getJob(blocker.id)).state === JobState.RUNNING, { what: 'the blocker to run', timeoutMs: 30_000 });
    const low = await sleepJob(p, 250, 0.05, { priority: -5 });
    const normal1 = await sleepJob(p, 250, 0.05);
    const high = await sleepJob(p, 250, 0.05, { priority: 5 });
    const normal2 = await sleepJob(p, 250, 0.05);
    g.open();
    const done = await Promise.all([low, normal1, high, normal2].map((j) => ls.waitForJob(j.id)));
    const order = [...done].sort((a, b) => start(a) - start(b)).map((j) => j.id);
    expect(order).toEqual([high.id, normal1.id, normal2.id, low.id]);
  });

  it('caps a lane by count on an agent while other lanes and unlaned jobs use the rest', async () => {
    const p = await newPool([{ LONGSHORE_LANES: 'ingestion=2' }]);
    // Every job runs until the gate opens: the lane stays full for as long as the check needs.
    const g = gate();
    const job = (lane: string) => ls.submit({ pool: p, weightMilli: 100, lane, command: g.command });
    const ingestion = await Promise.all(Array.from({ length: 6 }, () => job('ingestion')));
    const monitor = await Promise.all(Array.from({ length: 3 }, () => job('monitor')));
    try {
      await waitFor(async () => (await ls.registry.listAgents({ pool: p })).agents[0]?.laneUsage['ingestion'] === 2, { what: 'lane usage to be advertised', timeoutMs: 30_000 });
      // The monitor jobs did not wait for the ingestion lane: all three run while it is full and
      // the other four ingestion jobs wait (room for them is there: 5 x 0.1 of 1.0 in use).
      await waitFor(async () => (await Promise.all(monitor.map((j) => ls.getJob(j.id)))).every((j) => j.state === JobState.RUNNING), { what: 'the monitor jobs to run', timeoutMs: 30_000 });
      const states = await Promise.all(ingestion.map(async (j) => (await ls.getJob(j.id)).state));
      expect(states.filter((s) => s === JobState.RUNNING)).toHaveLength(2);
      expect(states.filter((s) => s === JobState.QUEUED)).toHaveLength(4);
    } finally {
      g.open();
    }
    const ing = await Promise.all(ingestion.map((j) => ls.waitForJob(j.id)));
    await Promise.all(monitor.map((j) => ls.waitForJob(j.id)));
    for (const j of ing) {
      const concurrent = ing.filter((k) => start(k) <= start(j) && end(k) > start(j)).length;
      expect(concurrent).toBeLessThanOrEqual(2);
    }
  });

  it('makes a SIGKILLed agent\'s job claimable again once its lease lapses, and runs it on the survivor', async () => {
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
      { timeoutMs: 45_000, intervalMs: 100, what: 'the job to run again' },
    );
    // How long recovery takes is a figure for the benchmarks (test/bench/failover.ts), not a test.
    const after = tsMs(rerun.attempts[1]!.startedAt) - killedAt;
    console.log(`recovery after SIGKILL with the default lease (4 s) and stalled check (2 s): ${after} ms`);
    expect(rerun.attempts[0]).toMatchObject({ agentId: 'doomed-one', failureClass: FailureClass.LOST });
    expect(rerun.attempts[1]!.agentId).toBe('survivor');
    expect(after).toBeGreaterThan(0); // the re-run began after the kill
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
