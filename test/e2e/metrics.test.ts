/**
 * Metrics end to end: the registry's Prometheus endpoint reports a pool's backlog from Redis
 * while the pool has no agent (depth, summed weight, the demand in standard agents); an agent
 * that then runs the jobs reports them on its own endpoint, counted by pool, executor and
 * failure class. A metrics port already taken stops a service at start, naming the variable.
 */
import { createServer, type Server } from 'node:net';
import { JobState, LongshoreClient } from '@longshore/client';
import { freePort, startCluster, startService, waitFor, type Cluster, type ProcessHandle } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, finishAll } from './support.js';

/** Samples of a Prometheus text page: `name{labels}` (labels as printed) → value. */
async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$/.exec(line);
    if (m) samples.set(m[1]!, Number(m[2]));
  }
  return samples;
}

/** Polls the endpoint until every expected sample has its value; returns the last scrape. */
async function scrapeUntil(url: string, expected: Record<string, number>, what: string): Promise<Map<string, number>> {
  let last = new Map<string, number>();
  try {
    return await waitFor(
      async () => {
        last = await scrape(url);
        return Object.entries(expected).every(([k, v]) => last.get(k) === v) ? last : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250, what },
    );
  } catch (err) {
    const seen = Object.keys(expected).map((k) => `${k} = ${last.get(k) ?? '(absent)'}`);
    throw new Error(`${(err as Error).message}\nlast scrape of ${url}:\n  ${seen.join('\n  ')}`, { cause: err });
  }
}

describe('metrics on each service\'s Prometheus endpoint', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  let registryMetrics: string;
  beforeAll(async () => {
    const port = await freePort();
    registryMetrics = `http://127.0.0.1:${port}/metrics`;
    cluster = await startCluster({
      agents: 0,
      registryEnv: { LONGSHORE_METRICS_ADDR: `127.0.0.1:${port}` },
      beforeAgents: async (env) => {
        const c = LongshoreClient.connect({ env });
        await c.registry.createPool({ id: 'metered' });
        c.close();
      },
    });
    ls = connect(cluster);
  }, 300_000);
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
  });

  it('reports a pool\'s backlog with no agents, then the jobs an agent ran, by pool, executor and failure class', { timeout: 300_000 }, async () => {
    const pool = '{pool="metered"}';
    // Nothing queued yet: the pool is reported, at zero.
    await scrapeUntil(registryMetrics, { [`longshore_pool_jobs_queued${pool}`]: 0, [`longshore_pool_demand_agents${pool}`]: 0 }, 'the empty pool');

    // 0.25 + 0.5 + 1 = 1.75 standard agents queued: demand ⌈1.75⌉ = 2, with no agent at all.
    const jobs = [
      await ls.submit({ pool: 'metered', weightMilli: 250, command: ['true'] }),
      await ls.submit({ pool: 'metered', weightMilli: 500, command: ['sh', '-c', 'exit 3'] }),
      await ls.submit({ pool: 'metered', weightMilli: 1000, command: ['true'] }),
    ];
    const queued = await scrapeUntil(
      registryMetrics,
      {
        [`longshore_pool_jobs_queued${pool}`]: 3,
        [`longshore_pool_weight_queued${pool}`]: 1.75,
        [`longshore_pool_demand_agents${pool}`]: 2,
        [`longshore_pool_weight_in_use${pool}`]: 0,
        [`longshore_pool_capacity${pool}`]: 0,
        [`longshore_pool_agents{pool="metered",state="active"}`]: 0,
      },
      'the three queued jobs in the registry\'s metrics',
    );
    expect(queued.get(`longshore_pool_oldest_queued_age_seconds${pool}`)).toBeGreaterThan(0);
    // The default pool is reported too, on its own.
    expect(queued.get('longshore_pool_jobs_queued{pool="default"}')).toBe(0);

    const agentPort = await freePort();
    const agentMetrics = `http://127.0.0.1:${agentPort}/metrics`;
    await cluster.startAgent({ LONGSHORE_POOL: 'metered', LONGSHORE_AGENT_ID: 'metered-1', LONGSHORE_CAPACITY: '2', LONGSHORE_EXECUTORS: 'subprocess', LONGSHORE_METRICS_ADDR: `127.0.0.1:${agentPort}` });
    const done = await finishAll(ls, jobs);
    expect(done.map((j) => j.state)).toEqual([JobState.SUCCEEDED, JobState.FAILED, JobState.SUCCEEDED]);

    const ran = await scrapeUntil(
      agentMetrics,
      {
        'longshore_jobs_started_total{pool="metered",executor="subprocess"}': 3,
        'longshore_jobs_finished_total{pool="metered",executor="subprocess",failure_class="none"}': 2,
        'longshore_jobs_finished_total{pool="metered",executor="subprocess",failure_class="exit"}': 1,
        'longshore_job_wait_seconds_count{pool="metered",executor="subprocess"}': 3,
        'longshore_job_run_seconds_count{pool="metered",executor="subprocess",failure_class="none"}': 2,
        'longshore_agent_capacity{pool="metered",agent="metered-1"}': 2,
        'longshore_agent_weight_in_use{pool="metered",agent="metered-1"}': 0,
      },
      'the agent\'s counters',
    );
    expect(ran.get('longshore_jobs_reruns_total{pool="metered",executor="subprocess"}')).toBeUndefined();
    expect(ran.get('longshore_jobs_lost_claims_total{pool="metered"}')).toBeUndefined();
    // Pool gauges come from the registry only.
    expect([...ran.keys()].some((k) => k.startsWith('longshore_pool_'))).toBe(false);

    await scrapeUntil(
      registryMetrics,
      {
        [`longshore_pool_jobs_queued${pool}`]: 0,
        [`longshore_pool_weight_queued${pool}`]: 0,
        [`longshore_pool_demand_agents${pool}`]: 0,
        [`longshore_pool_oldest_queued_age_seconds${pool}`]: 0,
        [`longshore_pool_capacity${pool}`]: 2,
        [`longshore_pool_agents{pool="metered",state="active"}`]: 1,
      },
      'the emptied queue in the registry\'s metrics',
    );
  });

  it('stops a service at start when its metrics port is taken, naming LONGSHORE_METRICS_ADDR', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    let p: ProcessHandle | undefined;
    try {
      p = startService('dispatcher', { LONGSHORE_REDIS_URL: cluster.redis.url, LONGSHORE_DISPATCHER: '127.0.0.1:0', LONGSHORE_METRICS_ADDR: `127.0.0.1:${port}` }, 'dispatcher-port-taken');
      expect((await p.waitForExit(90_000)).code).toBe(1);
      const fatal = p.logs.find((l) => l['msg'] === 'failed to start');
      expect(String(fatal?.['err'])).toContain(`LONGSHORE_METRICS_ADDR=127.0.0.1:${port}: cannot serve metrics there: the port is already in use`);
    } finally {
      await p?.stop();
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
