import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { Executor, PoolHealth, PoolSchema } from '@longshore/client';
import { FakeClient, runWith } from './test-helpers.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

function pools() {
  return [
    create(PoolSchema, {
      id: 'default',
      isDefault: true,
      defaultWeightMilli: 250,
      maxWeightMilli: 1000,
      createdAt: timestampFromMs(NOW - 3_600_000),
      status: {
        liveAgents: 2,
        capacityMilli: 2000,
        weightInUseMilli: 750,
        jobsQueued: 4n,
        jobsRunning: 3n,
        health: PoolHealth.HEALTHY,
        redis: { usedBytes: 43_201_331n, budgetBytes: 1024n ** 3n },
      },
    }),
    create(PoolSchema, { id: 'ingest-eu', description: 'EU ingestion', defaultWeightMilli: 500, maxWeightMilli: 2000, status: { health: PoolHealth.NO_AGENTS } }),
  ];
}

describe('longshore pools', () => {
  it('ls prints a table with the default marked and weights as decimals', async () => {
    const client = new FakeClient();
    client.pools = pools();
    const run = await runWith(client, ['pools', 'ls']);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+DEFAULT\s+HEALTH\s+AGENTS\s+CAPACITY\s+IN USE\s+QUEUED\s+RUNNING\s+DEFAULT WEIGHT\s+MAX WEIGHT$/);
    expect(lines[1]).toMatch(/^default\s+\*\s+healthy\s+2\s+2\s+0\.75\s+4\s+3\s+0\.25\s+1$/);
    expect(lines[2]).toMatch(/^ingest-eu\s+no_agents\s+0\s+0\s+0\s+0\s+0\s+0\.5\s+2$/);
  });

  it('ls --json prints a JSON array of pools', async () => {
    const client = new FakeClient();
    client.pools = pools();
    const run = await runWith(client, ['pools', 'ls', '--json']);
    const list = JSON.parse(run.stdout) as { id: string; status?: { health: string } }[];
    expect(list.map((p) => p.id)).toEqual(['default', 'ingest-eu']);
    expect(list[0]!.status?.health).toBe('POOL_HEALTH_HEALTHY');
  });

  it('get shows the pool and its status', async () => {
    const client = new FakeClient();
    client.pools = pools();
    const run = await runWith(client, ['pools', 'get', 'default'], { now: NOW });
    expect(run.stdout).toMatch(/^default pool: +yes$/m);
    expect(run.stdout).toMatch(/^health: +healthy$/m);
    expect(run.stdout).toMatch(/^agents: +2 live, 0 draining, 0 lost$/m);
    expect(run.stdout).toMatch(/^created: +2025-06-01T11:00:00Z \(1h ago\)$/m);
    expect(run.stdout).toMatch(/^redis \(all pools\): +41\.2Mi of 1Gi \(LONGSHORE_REDIS_BUDGET\)$/m);
  });

  it('create sends weights in thousandths, the executors and the default flag', async () => {
    const client = new FakeClient();
    const run = await runWith(client, ['pools', 'create', 'ingest-eu', '--description', 'EU', '--default-weight', '0.5', '--max-weight', '2', '--executors', 'docker,subprocess', '--default']);
    expect(run).toMatchObject({ code: 0, stdout: 'created pool ingest-eu (the default pool)\n' });
    expect(client.calls[0]!.request).toEqual({
      id: 'ingest-eu',
      description: 'EU',
      defaultWeightMilli: 500,
      maxWeightMilli: 2000,
      executors: [Executor.DOCKER, Executor.SUBPROCESS],
      makeDefault: true,
    });
  });

  it('update --executors names only that field; an unknown executor is refused before any RPC', async () => {
    const client = new FakeClient();
    expect((await runWith(client, ['pools', 'update', 'ingest-eu', '--executors', 'docker'])).code).toBe(0);
    expect(client.calls[0]!.request).toMatchObject({ executors: [Executor.DOCKER], updateMask: ['executors'] });
    const bad = await runWith(new FakeClient(), ['pools', 'update', 'ingest-eu', '--executors', 'docker,auto']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--executors docker,subprocess');
  });

  it('update --secrets sends the allow-list under its mask; none clears it; a bad entry is refused before any RPC', async () => {
    const client = new FakeClient();
    expect((await runWith(client, ['pools', 'update', 'ingest-eu', '--secrets', 'ingest_*, DB_PASSWORD'])).code).toBe(0);
    expect(client.calls[0]!.request).toMatchObject({ secrets: ['ingest_*', 'DB_PASSWORD'], updateMask: ['secrets'] });
    const clear = new FakeClient();
    await runWith(clear, ['pools', 'update', 'ingest-eu', '--secrets', 'none']);
    expect(clear.calls[0]!.request).toMatchObject({ secrets: [], updateMask: ['secrets'] });
    const badClient = new FakeClient();
    const bad = await runWith(badClient, ['pools', 'update', 'ingest-eu', '--secrets', '../x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"../x" is not a secret name or pattern');
    expect(badClient.calls).toEqual([]);
  });

  it('create refuses a pool id that is not a DNS label, before any RPC', async () => {
    const client = new FakeClient();
    const run = await runWith(client, ['pools', 'create', 'Ingest_EU']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('ingest-eu');
    expect(client.calls).toEqual([]);
  });

  it('update sends exactly the fields given in update_mask', async () => {
    const client = new FakeClient();
    await runWith(client, ['pools', 'update', 'ingest-eu', '--max-weight', '1.5']);
    expect(client.calls[0]!.request).toMatchObject({ id: 'ingest-eu', maxWeightMilli: 1500, updateMask: ['max_weight_milli'] });
    const both = new FakeClient();
    await runWith(both, ['pools', 'update', 'ingest-eu', '--description', '', '--default-weight', '0.125']);
    expect(both.calls[0]!.request).toMatchObject({ description: '', defaultWeightMilli: 125, updateMask: ['description', 'default_weight_milli'] });
  });

  it('update with nothing to change is a usage error', async () => {
    const client = new FakeClient();
    const run = await runWith(client, ['pools', 'update', 'ingest-eu']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--default-weight');
    expect(client.calls).toEqual([]);
  });

  it('delete passes --force and reports cancelled jobs', async () => {
    const client = new FakeClient();
    const run = await runWith(client, ['pools', 'delete', 'ingest-eu', '--force']);
    expect(run.stdout).toBe('deleted pool ingest-eu (cancelled 3 queued jobs)\n');
    expect(client.calls[0]!.request).toEqual({ id: 'ingest-eu', force: true });
  });

  it('set-default', async () => {
    const client = new FakeClient();
    const run = await runWith(client, ['pools', 'set-default', 'ingest-eu']);
    expect(run.stdout).toBe('default pool is now ingest-eu\n');
  });

  it('acl prints an ACL SETUSER line limited to the pool, with a fresh password each time, and the agent URL', async () => {
    const client = new FakeClient();
    client.pools = pools();
    const a = await runWith(client, ['pools', 'acl', 'ingest-eu']);
    const b = await runWith(client, ['pools', 'acl', 'ingest-eu', '--user', 'eu-agents']);
    const line = a.stdout.split('\n').find((l) => l.startsWith('ACL SETUSER'))!;
    expect(line).toMatch(/^ACL SETUSER longshore-agent-ingest-eu reset on >\S{32} ~ls:\{ingest-eu\}:\* %R~ls:\{_\}:pools %R~ls:\{_\}:default-pool %R~ls:\{_\}:schema &ls:\{ingest-eu\}:\* /);
    expect(line).toContain('-@dangerous -@admin');
    expect(b.stdout).toContain('ACL SETUSER eu-agents ');
    const pw = (s: string) => /ACL SETUSER \S+ reset on >(\S+)/.exec(s)![1];
    expect(pw(a.stdout)).not.toBe(pw(b.stdout));
    expect(a.stdout).toContain(`LONGSHORE_REDIS_URL=redis://longshore-agent-ingest-eu:${pw(a.stdout)}@HOST:PORT`);
  });
});
