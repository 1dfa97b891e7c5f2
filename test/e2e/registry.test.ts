import { AgentState, Code, JobState, PoolHealth, type LongshoreError } from '@longshore/client';
import { waitFor } from '@longshore/testing';
import { describe, expect, it } from 'vitest';
import { useCluster } from './support.js';

async function codeOf(p: Promise<unknown>): Promise<[Code, string]> {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as LongshoreError | undefined;
  if (!err) throw new Error('expected the call to fail');
  return [err.code, err.message];
}

describe('pool registry end to end', () => {
  const t = useCluster({ agents: 1 });

  it('starts with exactly one default pool, served by the agent', async () => {
    const { pools } = await t.ls.registry.listPools({});
    expect(pools.filter((p) => p.isDefault).map((p) => p.id)).toEqual(['default']);
    const def = pools.find((p) => p.id === 'default')!;
    expect(def.defaultWeightMilli).toBe(250);
    expect(def.maxWeightMilli).toBe(1000);
    expect(def.status).toMatchObject({ liveAgents: 1, capacityMilli: 1000, health: PoolHealth.HEALTHY });
  });

  it('creates, reads, updates and lists pools', async () => {
    const created = (await t.ls.registry.createPool({ id: 'ingest-eu', description: 'EU ingestion', defaultWeightMilli: 500, maxWeightMilli: 2000 })).pool!;
    expect(created).toMatchObject({ id: 'ingest-eu', description: 'EU ingestion', defaultWeightMilli: 500, maxWeightMilli: 2000, isDefault: false });
    expect(created.status!.health).toBe(PoolHealth.NO_AGENTS);
    const updated = (await t.ls.registry.updatePool({ id: 'ingest-eu', description: 'changed', defaultWeightMilli: 100, updateMask: ['description'] })).pool!;
    expect(updated.description).toBe('changed');
    expect(updated.defaultWeightMilli).toBe(500); // not in the mask: unchanged
    expect((await t.ls.registry.getPool({ id: 'ingest-eu' })).pool!.description).toBe('changed');
    expect((await t.ls.registry.listPools({})).pools.map((p) => p.id)).toEqual(['default', 'ingest-eu']);
  });

  it('refuses bad pool requests with clear errors', async () => {
    expect(await codeOf(t.ls.registry.createPool({ id: 'ingest-eu' }))).toEqual([Code.AlreadyExists, expect.stringContaining('already exists')]);
    expect(await codeOf(t.ls.registry.createPool({ id: 'Bad_Name' }))).toEqual([Code.InvalidArgument, expect.stringContaining('lowercase')]);
    expect(await codeOf(t.ls.registry.createPool({ id: 'w', defaultWeightMilli: 900, maxWeightMilli: 500 }))).toEqual([Code.InvalidArgument, expect.stringContaining('cannot exceed')]);
    expect(await codeOf(t.ls.registry.getPool({ id: 'nope' }))).toEqual([Code.NotFound, 'pool "nope" does not exist (pools: default, ingest-eu)']);
    expect(await codeOf(t.ls.registry.updatePool({ id: 'ingest-eu', updateMask: [] }))).toEqual([Code.InvalidArgument, expect.stringContaining('update_mask')]);
    expect(await codeOf(t.ls.registry.updatePool({ id: 'ingest-eu', updateMask: ['id'] }))).toEqual([Code.InvalidArgument, expect.stringContaining('unknown field "id"')]);
  });

  it('moves the default atomically and never deletes the default pool', async () => {
    const res = await t.ls.registry.setDefaultPool({ id: 'ingest-eu' });
    expect(res.pool!.isDefault).toBe(true);
    const { pools } = await t.ls.registry.listPools({});
    expect(pools.filter((p) => p.isDefault).map((p) => p.id)).toEqual(['ingest-eu']);
    expect(await codeOf(t.ls.registry.deletePool({ id: 'ingest-eu' }))).toEqual([Code.FailedPrecondition, expect.stringContaining('default pool')]);
    // A job without a pool now goes to the new default.
    const job = await t.ls.submit({ command: ['true'] });
    expect(job.spec!.pool).toBe('ingest-eu');
    expect(job.weightMilli).toBe(500);
    await t.ls.dispatcher.cancelJob({ id: job.id });
    await t.ls.registry.setDefaultPool({ id: 'default' });
  });

  it('refuses to delete a pool with live agents, or with queued jobs unless forced', async () => {
    expect(await codeOf(t.ls.registry.deletePool({ id: 'default' }))).toEqual([Code.FailedPrecondition, expect.stringContaining('default pool')]);
    await t.ls.registry.createPool({ id: 'busy' });
    const queued = await Promise.all([1, 2, 3].map(() => t.ls.submit({ pool: 'busy', command: ['true'] })));
    expect(await codeOf(t.ls.registry.deletePool({ id: 'busy' }))).toEqual([Code.FailedPrecondition, expect.stringContaining('3 queued job(s)')]);
    const res = await t.ls.registry.deletePool({ id: 'busy', force: true });
    expect(res.cancelledJobs).toBe(3n);
    for (const j of queued) expect((await t.ls.getJob(j.id)).state).toBe(JobState.CANCELLED);
    expect(await codeOf(t.ls.registry.getPool({ id: 'busy' }))).toEqual([Code.NotFound, expect.any(String)]);

    await t.ls.registry.createPool({ id: 'staffed' });
    const agent = await t.cluster.startAgent({ LONGSHORE_POOL: 'staffed', LONGSHORE_AGENT_ID: 'staffer' });
    expect(await codeOf(t.ls.registry.deletePool({ id: 'staffed' }))).toEqual([Code.FailedPrecondition, expect.stringContaining('staffer')]);
    await agent.stop();
    await waitFor(async () => (await t.ls.registry.listAgents({ pool: 'staffed' })).agents.length === 0, { what: 'the agent to deregister' }).catch((err: Error) => {
      throw new Error(`${err.message}; agent exit ${JSON.stringify(agent.exited)}; its last lines:\n${agent.lines.slice(-6).join('\n')}`);
    });
    await t.ls.registry.deletePool({ id: 'staffed' });
  });

  it('shows an agent that stops heartbeating as lost, and its pool as degraded', async () => {
    await t.ls.registry.createPool({ id: 'fragile' });
    await t.cluster.startAgent({ LONGSHORE_POOL: 'fragile', LONGSHORE_AGENT_ID: 'steady' });
    const doomed = await t.cluster.startAgent({ LONGSHORE_POOL: 'fragile', LONGSHORE_AGENT_ID: 'doomed', LONGSHORE_CAPACITY: '2', LONGSHORE_LANES: 'ingestion=4' });
    const listed = (await t.ls.registry.listAgents({ pool: 'fragile' })).agents.find((a) => a.id === 'doomed')!;
    expect(listed).toMatchObject({ state: AgentState.ACTIVE, capacityMilli: 2000, laneLimits: { ingestion: 4 }, version: '0.1.0' });
    expect((await t.ls.registry.getPool({ id: 'fragile' })).pool!.status).toMatchObject({ liveAgents: 2, capacityMilli: 3000, health: PoolHealth.HEALTHY });
    doomed.signal('SIGKILL');
    // A sanity bound only (the TTL is 2 s in this cluster): how soon is a latency, not a behaviour.
    await waitFor(async () => (await t.ls.registry.listAgents({ pool: 'fragile' })).agents.find((a) => a.id === 'doomed')?.state === AgentState.LOST, {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'the killed agent to show as lost',
    });
    expect((await t.ls.registry.getPool({ id: 'fragile' })).pool!.status).toMatchObject({ liveAgents: 1, lostAgents: 1, capacityMilli: 1000, health: PoolHealth.DEGRADED });
  });
});
