/**
 * Fault: kill -9 of the dispatcher, then of the pool registry, each restarted on the same
 * address, under a steady stream of submits. The client retries on UNAVAILABLE (and on a
 * deadline) with a short backoff, reusing each submit's idempotency key so a retry cannot create
 * a second job. Counted: every acknowledged job finishes, none twice; agents keep running jobs
 * while the registry is down and are listed as active again once it is back.
 */
import { randomUUID } from 'node:crypto';
import { AgentState, Code, JobState, LongshoreError, type Job, type LongshoreClient } from '@longshore/client';
import { sleep, startCluster, startService, waitFor, type Cluster, type ProcessHandle } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../support.js';
import { describeAttempts, newRetryStats, retrying, stateName, waitForRecord, listJobsLabelled } from './fault-support.js';

const JOBS = 100;
/** One submit every 100 ms when nothing is down. */
const PACE_MS = 100;
/** What the restarted services get (the cluster's own test settings). */
const SERVICE_ENV = { LONGSHORE_HEARTBEAT_INTERVAL: '500ms', LONGSHORE_AGENT_TTL: '2s', LONGSHORE_LOG_LEVEL: 'info' };

async function listening(p: ProcessHandle): Promise<void> {
  await p.waitForLog((l) => l['msg'] === 'Listening', 30_000);
}

describe('fault: dispatcher and registry are killed and restarted under a stream of submits', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  const restarted: ProcessHandle[] = [];
  beforeAll(async () => {
    cluster = await startCluster({ agents: ['svc-a', 'svc-b'].map((id) => ({ LONGSHORE_AGENT_ID: id })) });
    ls = connect(cluster);
  });
  afterAll(async () => {
    ls?.close();
    for (const p of restarted) await p.stop().catch(() => undefined);
    await cluster?.stop();
  });

  it('finishes every acknowledged job, once, and keeps agents running jobs while the registry is down', async () => {
    const run = randomUUID().slice(0, 8);
    const stats = newRetryStats();
    const acked = new Map<number, string>(); // stream index → job id
    const t0 = Date.now();
    const stream = (async () => {
      for (let i = 0; i < JOBS && Date.now() - t0 < 60_000; i++) {
        const spec = { command: i % 4 === 0 ? ['sh', '-c', 'sleep 0.3'] : ['true'], idempotencyKey: `${run}-${i}`, labels: { run, n: String(i) } };
        const job = await retrying(() => ls.submit(spec, { timeoutMs: 3_000 }), stats, `submit #${i}`);
        acked.set(i, job.id);
        await sleep(PACE_MS);
      }
    })();

    // 1. The dispatcher.
    await sleep(1_500);
    const dispatcherAddress = cluster.clientEnv['LONGSHORE_DISPATCHER']!;
    cluster.dispatcher.signal('SIGKILL');
    const dKilledAt = Date.now();
    console.log(`service-restart: injected SIGKILL of the dispatcher (${dispatcherAddress}) at ${dKilledAt - t0} ms, after ${acked.size} acknowledged submits`);
    await sleep(300);
    const dispatcher2 = startService('dispatcher', { ...SERVICE_ENV, LONGSHORE_REDIS_URL: cluster.redis.url, LONGSHORE_DISPATCHER: dispatcherAddress }, 'dispatcher-2');
    restarted.push(dispatcher2);
    await listening(dispatcher2);
    const ackedBefore = acked.size;
    await waitFor(() => acked.size > ackedBefore, { timeoutMs: 15_000, what: 'a submit acknowledged by the restarted dispatcher' });
    console.log(`service-restart: the restarted dispatcher acknowledged a submit ${Date.now() - dKilledAt} ms after the kill (retries so far ${stats.retries})`);
    const retriesAfterDispatcher = stats.retries;

    // 2. The registry: agents keep running jobs while it is down.
    const registryAddress = cluster.clientEnv['LONGSHORE_REGISTRY']!;
    cluster.registry.signal('SIGKILL');
    const rKilledAt = Date.now();
    console.log(`service-restart: injected SIGKILL of the registry (${registryAddress}) at ${rKilledAt - t0} ms`);
    const down = await ls.registry.listAgents({}, { timeoutMs: 2_000 }).then(
      () => 'answered',
      (e: unknown) => (e instanceof LongshoreError ? Code[e.code] : String(e)),
    );
    const whileDown = await retrying(() => ls.submit({ command: ['sh', '-c', 'echo ran while the registry was down'], labels: { run, n: 'registry-down' } }, { timeoutMs: 3_000 }), stats, 'submit while the registry is down');
    const doneWhileDown = await waitForRecord(ls, whileDown.id, (j) => j.finishedAt !== undefined, 'the job submitted while the registry is down to finish', 15_000);
    const registryStillDown = cluster.registry.exited;
    const sawOutage = await Promise.all(
      cluster.agents.map((a) => a.waitForLog((l) => l['msg'] === 'heartbeat failed; still running jobs, will retry', 10_000).then(() => true, () => false)),
    );
    await sleep(500);
    const registry2 = startService('pool-registry', { ...SERVICE_ENV, LONGSHORE_REDIS_URL: cluster.redis.url, LONGSHORE_REGISTRY: registryAddress }, 'registry-2');
    restarted.push(registry2);
    await listening(registry2);
    const relisted = await waitFor(
      async () => {
        const agents = (await ls.registry.listAgents({}, { timeoutMs: 2_000 })).agents;
        return agents.length === 2 && agents.every((a) => a.state === AgentState.ACTIVE) ? agents : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'both agents to be listed as active by the restarted registry' },
    ).catch(() => undefined);
    console.log(
      `service-restart: registry down for ${Date.now() - rKilledAt} ms; listAgents while down: ${down}; job submitted meanwhile ${stateName(doneWhileDown)} ` +
        `on ${doneWhileDown.agentId} (registry still down when it finished: ${registryStillDown}); agents logged the outage: ${JSON.stringify(sawOutage)}; ` +
        `listed active again: ${relisted ? relisted.map((a) => a.id).sort().join(', ') : 'no'}`,
    );

    await stream;
    const streamMs = Date.now() - t0;
    // Every record of this run, read back by label (bounded); a duplicate would be a second record for one stream index.
    const listRun = (): Promise<Job[]> => listJobsLabelled(ls, { run }, (fn) => retrying(fn, newRetryStats(), 'list jobs'));
    let records: Job[] = [];
    await waitFor(
      async () => {
        records = await listRun();
        const finished = new Set(records.filter((j) => j.finishedAt !== undefined).map((j) => j.id));
        return [...acked.values()].every((id) => finished.has(id));
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'every acknowledged job to finish' },
    ).catch(() => undefined); // reported and asserted below
    const byId = new Map(records.map((j) => [j.id, j]));
    const perIndex = new Map<string, number>();
    for (const j of records) perIndex.set(j.spec?.labels['n'] ?? '?', (perIndex.get(j.spec?.labels['n'] ?? '?') ?? 0) + 1);
    const duplicates = [...perIndex].filter(([, c]) => c > 1).map(([n]) => n);
    const unfinished = [...acked.values()].filter((id) => byId.get(id)?.state !== JobState.SUCCEEDED);
    const reruns = records.filter((j) => j.attempts.length > 1);

    console.log(
      `service-restart: counted over ${streamMs} ms: acknowledged ${acked.size}/${JOBS}, succeeded ${acked.size - unfinished.length}, ` +
        `client retries ${stats.retries} ${JSON.stringify(Object.fromEntries(stats.byCode))} (${retriesAfterDispatcher} during the dispatcher restart), ` +
        `records ${records.length} for ${perIndex.size} submits, duplicates ${duplicates.length}, re-runs ${reruns.length}`,
    );
    for (const id of unfinished.slice(0, 10)) {
      const j = byId.get(id);
      console.log(`service-restart: job ${id} ${j ? `${stateName(j)}: ${describeAttempts(j)}` : 'missing'}`);
    }

    expect(retriesAfterDispatcher, 'submits met the dispatcher outage and were retried').toBeGreaterThan(0);
    expect(acked.size).toBe(JOBS);
    expect(unfinished, 'acknowledged jobs that did not succeed').toEqual([]);
    expect(duplicates, 'stream indexes with more than one job').toEqual([]);
    expect(down).toBe('Unavailable');
    expect(registryStillDown).toBe(true);
    expect(doneWhileDown.state).toBe(JobState.SUCCEEDED);
    expect(relisted?.map((a) => a.id).sort()).toEqual(['svc-a', 'svc-b']);
  });
});
