import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { AgentSchema, AgentState, AttemptSchema, FailureClass, JobSchema, JobState, PoolHealth, PoolSchema, PoolStatusSchema } from '@longshore/client';
import { describe, expect, it } from 'vitest';
import { agentView, jobDetailView, poolView, traceLink } from './views.js';

const NOW = Date.UTC(2026, 11, 2, 17, 0, 0);

describe('views: numbers as people read them', () => {
  it('shows weights as decimals and a pool\'s health, capacity and reservation', () => {
    const pool = create(PoolSchema, {
      id: 'ingest',
      defaultWeightMilli: 250,
      maxWeightMilli: 1000,
      isDefault: true,
      status: create(PoolStatusSchema, { health: PoolHealth.DEGRADED, capacityMilli: 2000, weightInUseMilli: 1250, jobsQueued: 7n, liveAgents: 2, reservation: { jobId: 'j1', weightMilli: 1000, since: timestampFromMs(NOW - 80_000) } }),
    });
    const v = poolView(pool, NOW);
    expect(v).toMatchObject({ defaultWeight: '0.25', maxWeight: '1', capacity: '2', weightInUse: '1.25', health: 'degraded', jobsQueued: 7, isDefault: true });
    expect(v.reservation).toMatchObject({ jobId: 'j1', weight: '1', since: '1m 20s ago', sinceTime: '2026-12-02 16:58:40Z' });
    expect(v).toMatchObject({ standard: '', secrets: [] });
  });

  it('shows a pool\'s standard agent as `--standard` takes it, and its secrets allow-list', () => {
    const pool = create(PoolSchema, { id: 'etl', standard: { cpusMilli: 1500, memoryBytes: 4n * 1024n ** 3n }, secrets: ['ingest_*', 'DB_PASSWORD'] });
    expect(poolView(pool, NOW)).toMatchObject({ standard: 'cpus=1.5,memory=4Gi', secrets: ['ingest_*', 'DB_PASSWORD'] });
  });

  it('shows an agent\'s state, load and heartbeat age', () => {
    const a = create(AgentSchema, { id: 'a1', state: AgentState.DRAINING, capacityMilli: 1000, weightInUseMilli: 375, laneUsage: { ingestion: 2 }, laneLimits: { ingestion: 4 }, lastHeartbeat: timestampFromMs(NOW - 1500) });
    expect(agentView(a, NOW)).toMatchObject({ state: 'draining', weightInUse: '0.375', capacity: '1', lastHeartbeat: '1.5s ago', lanes: [{ lane: 'ingestion', used: 2, limit: 4 }] });
  });

  it('splits an agent\'s weight in use into the jobs that fill it, the rest as other', () => {
    const a = create(AgentSchema, { id: 'a1', capacityMilli: 1000, weightInUseMilli: 875, runningJobIds: ['j1', 'j2', 'j3'] });
    const v = agentView(a, NOW, new Map([['j1', 500], ['j2', 125]]));
    expect(v.jobs).toEqual([{ id: 'j1', weightMilli: 500, weight: '0.5' }, { id: 'j2', weightMilli: 125, weight: '0.125' }]);
    expect(v).toMatchObject({ otherWeightMilli: 250, otherWeight: '0.25' });
  });

  it('shows a job\'s attempts with durations, and its env by name only', () => {
    const job = create(JobSchema, {
      id: 'j1',
      state: JobState.FAILED,
      failureClass: FailureClass.EXIT,
      exitCode: 3,
      weightMilli: 250,
      spec: { pool: 'default', command: ['sh', '-c', 'exit 3'], env: { TOKEN: 'sekrit', A: '1' }, labels: { team: 'data' } },
      attempts: [create(AttemptSchema, { number: 1, agentId: 'a1', startedAt: timestampFromMs(NOW - 200_000), finishedAt: timestampFromMs(NOW - 120_000), exitCode: 3, failureClass: FailureClass.EXIT })],
      finishedAt: timestampFromMs(NOW - 120_000),
    });
    const v = jobDetailView(job, NOW, undefined);
    expect(v).toMatchObject({ state: 'failed', weight: '0.25', exitCode: 3, failureClass: 'exit', duration: '1m 20s', envNames: ['A', 'TOKEN'], labels: [['team', 'data']], finished: true });
    expect(v.attempts[0]).toMatchObject({ number: 1, agentId: 'a1', duration: '1m 20s', exitCode: 3, failureClass: 'exit' });
    expect(JSON.stringify(v)).not.toContain('sekrit');
  });

  it('links a trace only when configured and the id is a trace id', () => {
    const id = '0af7651916cd43dd8448eb211c80319c';
    expect(traceLink(id, 'http://jaeger:16686/trace/{trace_id}')).toBe(`http://jaeger:16686/trace/${id}`);
    expect(traceLink(id, undefined)).toBeUndefined();
    expect(traceLink('"><script>', 'http://jaeger:16686/trace/{trace_id}')).toBeUndefined();
  });
});
