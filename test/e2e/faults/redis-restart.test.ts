/**
 * Fault: Redis SIGKILLed under a stream of submits and restarted from its append-only file
 * (`appendfsync always`) 1.5 s later. Counted: every job whose SubmitJob returned OK reaches
 * exactly one final state (SUCCEEDED) and none ran to success twice (lost re-runs are allowed,
 * and counted); submits during the outage fail with UNAVAILABLE, never a false OK.
 */
import { randomUUID } from 'node:crypto';
import { JobState, type Job, type LongshoreClient } from '@longshore/client';
import { sleep, startCluster, waitFor, type Cluster } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, tsMs } from '../support.js';
import { codeName, describeAttempts, stateName, listJobsLabelled } from './fault-support.js';

const JOBS = 150;
/** One submit every 40 ms: the stream lasts about 6 s. */
const PACE_MS = 40;
/** Redis dies this long into the stream, and comes back this long after. */
const KILL_AFTER_MS = 2_000;
const DOWN_MS = 1_500;

describe('fault: Redis is killed and restarted (AOF, appendfsync always) under a stream of submits', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  beforeAll(async () => {
    cluster = await startCluster({ agents: 2, redis: { appendonly: true, appendfsync: 'always' } });
    ls = connect(cluster);
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
  });

  it('brings every acknowledged job to one final state, and answers UNAVAILABLE during the outage', async () => {
    const run = randomUUID().slice(0, 8);
    const acked = new Map<string, number>(); // job id → index in the stream
    const refused = new Map<string, number>(); // code name → count
    const refusedDuringOutage: number[] = [];
    let down: { from: number; to: number } | undefined;

    const t0 = Date.now();
    const fault = (async () => {
      await sleep(KILL_AFTER_MS);
      const from = Date.now();
      await cluster.redis.kill();
      console.log(`redis-restart: injected SIGKILL of redis-server at ${from - t0} ms into the stream`);
      await sleep(DOWN_MS);
      await cluster.redis.restart();
      down = { from, to: Date.now() };
      console.log(`redis-restart: injected restart; Redis answered PING again ${down.to - from} ms after the kill`);
    })();

    for (let i = 0; i < JOBS && Date.now() - t0 < 30_000; i++) {
      const spec = {
        command: i % 3 === 0 ? ['sh', '-c', 'sleep 0.2'] : ['true'],
        labels: { run, n: String(i) },
      };
      const sentAt = Date.now();
      try {
        const job = await ls.submit(spec, { timeoutMs: 5_000 });
        acked.set(job.id, i);
      } catch (err) {
        const code = codeName(err);
        refused.set(code, (refused.get(code) ?? 0) + 1);
        refusedDuringOutage.push(sentAt - t0);
      }
      await sleep(PACE_MS);
    }
    await fault;
    const streamMs = Date.now() - t0;

    // Wait (bounded) until every acknowledged job has finished, reading them back by label.
    const listRun = (): Promise<Job[]> => listJobsLabelled(ls, { run });
    let records: Job[] = [];
    await waitFor(
      async () => {
        records = await listRun();
        const byId = new Map(records.map((j) => [j.id, j]));
        return [...acked.keys()].every((id) => byId.get(id)?.finishedAt !== undefined);
      },
      { timeoutMs: 40_000, intervalMs: 500, what: 'every acknowledged job to finish' },
    ).catch(() => undefined); // reported and asserted below
    const first = new Map(records.map((j) => [j.id, j]));
    await sleep(2_000);
    const again = new Map((await listRun()).map((j) => [j.id, j]));

    const ackedJobs = [...acked.keys()].map((id) => ({ id, job: first.get(id), later: again.get(id) }));
    const missing = ackedJobs.filter((a) => a.job === undefined).map((a) => a.id);
    const notSucceeded = ackedJobs.filter((a) => a.job !== undefined && a.job.state !== JobState.SUCCEEDED);
    const changed = ackedJobs.filter(
      (a) => a.job && (a.later?.state !== a.job.state || tsMs(a.later?.finishedAt) !== tsMs(a.job.finishedAt) || a.later?.attempts.length !== a.job.attempts.length),
    );
    const successes = (j: Job | undefined): number => j?.attempts.filter((a) => a.exitCode === 0).length ?? 0;
    const twice = ackedJobs.filter((a) => successes(a.job) > 1);
    const reruns = ackedJobs.filter((a) => (a.job?.attempts.length ?? 0) > 1);
    // Records of submits that were refused: not acknowledged, so not promised anything; counted for the record.
    const ghosts = records.filter((j) => !acked.has(j.id));
    const unavailable = refused.get('Unavailable') ?? 0;

    console.log(
      `redis-restart: counted over ${streamMs} ms: submitted ${acked.size + [...refused.values()].reduce((a, b) => a + b, 0)}, ` +
        `acknowledged ${acked.size}, reached a final state ${ackedJobs.filter((a) => a.job?.finishedAt !== undefined).length} ` +
        `(succeeded ${ackedJobs.filter((a) => a.job?.state === JobState.SUCCEEDED).length}), unavailable ${unavailable}, ` +
        `other refusals ${JSON.stringify(Object.fromEntries([...refused].filter(([c]) => c !== 'Unavailable')))}, ` +
        `ran to success twice ${twice.length}, re-run after a lost attempt ${reruns.length}, final state changed later ${changed.length}, ` +
        `records of refused submits left behind ${ghosts.length}`,
    );
    console.log(`redis-restart: outage ${down ? `${down.from - t0}–${down.to - t0} ms` : 'did not happen'}; refusals sent at ms ${JSON.stringify(refusedDuringOutage)}`);
    for (const a of [...notSucceeded, ...reruns].slice(0, 10)) console.log(`redis-restart: job ${a.id} (#${acked.get(a.id)}): ${a.job ? describeAttempts(a.job) : 'missing'}`);
    for (const g of ghosts.slice(0, 10)) console.log(`redis-restart: record of refused submit #${g.spec?.labels['n']}: ${g.id} ${stateName(g)} [${describeAttempts(g)}]`);
    // What the dispatcher said about requests it failed for a reason other than "Redis is unreachable".
    const failures = cluster.dispatcher.logs.filter((l) => l['msg'] === 'unexpected error in handler');
    for (const l of failures.slice(0, 5)) console.log(`redis-restart: dispatcher logged ${JSON.stringify(l)}`);

    expect(down, 'the outage happened during the stream').toBeDefined();
    expect(unavailable, 'some submits met the outage').toBeGreaterThan(0);
    expect(Object.fromEntries([...refused].filter(([c]) => c !== 'Unavailable')), 'refusals other than UNAVAILABLE').toEqual({});
    expect(missing, 'acknowledged jobs whose record is gone').toEqual([]);
    expect(notSucceeded.map((a) => `${a.id}: ${a.job ? describeAttempts(a.job) : ''}`), 'acknowledged jobs not SUCCEEDED').toEqual([]);
    expect(twice.map((a) => a.id), 'jobs that ran to success twice').toEqual([]);
    expect(changed.map((a) => a.id), 'jobs whose final state changed afterwards').toEqual([]);
  });
});
