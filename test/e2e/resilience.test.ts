import { AgentState, Code, JobState, type LongshoreClient, type LongshoreError } from '@longshore/client';
import { startCluster, startService, waitFor, type Cluster, type ProcessHandle } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from './support.js';

describe('retention, registry outages and Redis outages', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  const extra: ProcessHandle[] = [];
  beforeAll(async () => {
    cluster = await startCluster({ agents: 1, env: { LONGSHORE_JOB_RETENTION_COUNT: '3' } });
    ls = connect(cluster);
  });
  afterAll(async () => {
    ls?.close();
    for (const p of extra) await p.stop();
    await cluster?.stop();
  });

  it('keeps only the newest LONGSHORE_JOB_RETENTION_COUNT finished jobs, logs included', async () => {
    const jobs = [];
    for (let i = 0; i < 5; i++) {
      // Wait for each: with a count of 3, an early job may be gone before anyone watches it.
      const job = await ls.submit({ command: ['echo', `job ${i}`] });
      await ls.waitForJob(job.id);
      jobs.push(job);
    }
    for (const old of jobs.slice(0, 2)) {
      expect(((await ls.getJob(old.id).catch((e: unknown) => e)) as LongshoreError).code).toBe(Code.NotFound);
    }
    for (const kept of jobs.slice(2)) expect((await ls.getJob(kept.id)).state).toBe(JobState.SUCCEEDED);
  });

  it('runs jobs while the registry is down, and the agent is listed again once it is back', async () => {
    const address = cluster.clientEnv['LONGSHORE_REGISTRY']!;
    await cluster.registry.stop();
    const job = await ls.submit({ command: ['sh', '-c', 'echo still working'] });
    expect((await ls.waitForJob(job.id)).state).toBe(JobState.SUCCEEDED);
    await cluster.agents[0]!.waitForLog((l) => l['msg'] === 'heartbeat failed; still running jobs, will retry', 10_000);

    const registry = startService('pool-registry', { LONGSHORE_REDIS_URL: cluster.redis.url, LONGSHORE_REGISTRY: address, LONGSHORE_HEARTBEAT_INTERVAL: '500ms', LONGSHORE_AGENT_TTL: '2s' }, 'registry-2');
    extra.push(registry);
    await registry.waitForLog((l) => l['msg'] === 'Listening', 30_000);
    await cluster.agents[0]!.waitForLog((l) => l['msg'] === 'registry reachable again', 15_000);
    const agents = await waitFor(async () => {
      const list = (await ls.registry.listAgents({})).agents;
      return list.length === 1 && list[0]!.state === AgentState.ACTIVE ? list : undefined;
    }, { what: 'the agent to be listed as active again' });
    expect(agents[0]!.id).toBe('agent-1');
  });

  it('answers UNAVAILABLE, never a false OK, when Redis is down at submit', async () => {
    await cluster.redis.kill();
    const err = (await ls.submit({ command: ['true'] }, { timeoutMs: 10_000 }).catch((e: unknown) => e)) as LongshoreError;
    expect(err.code).toBe(Code.Unavailable);
    expect(err.message).toContain('Redis');
  });
});
