import { makeGenericClientConstructor, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { Code, JobState, LongshoreClient, TokenRole, type LongshoreError } from '@longshore/client';
import { startCluster, waitFor, type Cluster } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The code and message a call failed with (it must fail). */
async function refusal(call: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await call;
  } catch (err) {
    return { code: (err as LongshoreError).code, message: (err as LongshoreError).message };
  }
  throw new Error('the call succeeded, but it should have been refused');
}

/** Drains a server stream, so a refused one rejects. */
async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) void _;
}

/** grpc.health.v1.Health/Check with no token; resolves with the raw response bytes. */
function healthCheck(address: string): Promise<Buffer> {
  const id = (b: Buffer) => b;
  const Ctor = makeGenericClientConstructor(
    { check: { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } },
    'Health',
  );
  const client = new Ctor(address, credentials.createInsecure());
  return new Promise((resolve, reject) => {
    (client as unknown as { check: (r: Buffer, md: Metadata, cb: (e: ServiceError | null, v: Buffer) => void) => void }).check(Buffer.alloc(0), new Metadata(), (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res);
    });
  });
}

describe('auth is on by default: every call but health needs a token of the right role', () => {
  let cluster: Cluster;
  let admin: LongshoreClient;
  const clients: LongshoreClient[] = [];
  const as = (token: string | undefined): LongshoreClient => {
    const c = LongshoreClient.connect({ env: { ...cluster.clientEnv, LONGSHORE_TOKEN: token ?? '', LONGSHORE_HOME: '/nonexistent' } });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    cluster = await startCluster({ agents: 0 });
    admin = as(cluster.clientEnv['LONGSHORE_TOKEN']);
    await admin.registry.createPool({ id: 'team-a' });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await cluster?.stop();
  });

  it('refuses anonymous callers with UNAUTHENTICATED, saying how to send a token', async () => {
    const anon = as(undefined);
    const job = await admin.submit({ command: ['true'] });
    const attempts: (() => Promise<unknown>)[] = [
      () => anon.submit({ command: ['true'] }),
      () => anon.dispatcher.cancelJob({ id: job.id }),
      () => anon.registry.deletePool({ id: 'team-a', force: true }),
      () => anon.registry.updatePool({ id: 'default', maxWeightMilli: 1, updateMask: ['max_weight_milli'] }),
      () => anon.registry.registerAgent({ agent: { id: 'ghost', pool: 'default', capacityMilli: 1_000_000 } }),
      () => anon.registry.drainAgent({ id: 'ghost' }),
      () => drain(anon.dispatcher.streamJobLogs({ id: job.id })),
      () => anon.tokens.listTokens({}),
    ];
    for (const attempt of attempts) {
      const r = await refusal(attempt());
      expect(r.code).toBe(Code.Unauthenticated);
      expect(r.message).toMatch(/needs a token.*authorization: Bearer/);
    }
    // Nothing changed: the pool is still there, no ghost agent, the job not cancelled.
    expect((await admin.registry.getPool({ id: 'team-a' })).pool?.id).toBe('team-a');
    expect((await admin.registry.listAgents({})).agents).toEqual([]);
  });

  it('refuses a wrong or mistyped token, and answers health checks without one', async () => {
    for (const bad of ['not-a-token-at-all-but-long-enough-to-look-like-one', 'lst_0000000000000000_' + 'A'.repeat(43)]) {
      const r = await refusal(as(bad).submit({ command: ['true'] }));
      expect(r.code).toBe(Code.Unauthenticated);
      expect(r.message).toMatch(/not valid/);
    }
    // HealthCheckResponse { status: SERVING } is the two bytes 08 01.
    expect([...(await healthCheck(cluster.clientEnv['LONGSHORE_REGISTRY']!))]).toEqual([8, 1]);
    expect([...(await healthCheck(cluster.clientEnv['LONGSHORE_DISPATCHER']!))]).toEqual([8, 1]);
  });

  it('lets a reader read but not change anything, naming the role needed', async () => {
    const reader = as(await cluster.createToken('reader', 'dashboards'));
    const job = await admin.submit({ command: ['true'] });
    expect((await reader.getJob(job.id)).id).toBe(job.id);
    expect((await reader.registry.listPools({})).pools.map((p) => p.id)).toContain('team-a');
    const submit = await refusal(reader.submit({ command: ['true'] }));
    expect(submit.code).toBe(Code.PermissionDenied);
    expect(submit.message).toMatch(/SubmitJob needs the submitter role.*token "dashboards".*role reader/);
    expect((await refusal(reader.dispatcher.cancelJob({ id: job.id }))).code).toBe(Code.PermissionDenied);
    expect((await refusal(reader.registry.createPool({ id: 'mine' }))).code).toBe(Code.PermissionDenied);
    expect((await refusal(reader.tokens.createToken({ name: 'escalate', role: TokenRole.ADMIN }))).code).toBe(Code.PermissionDenied);
  });

  it('keeps a pool-limited submitter to its pools: submit, read, cancel and list', async () => {
    const other = await admin.submit({ command: ['sleep', '60'], labels: { suite: 'auth' } });
    const sub = as(await cluster.createToken('submitter', 'team-a-ci', ['team-a']));
    const mine = await sub.submit({ pool: 'team-a', command: ['true'], labels: { suite: 'auth' } });
    const denied = await refusal(sub.submit({ command: ['true'] }));
    expect(denied.code).toBe(Code.PermissionDenied);
    expect(denied.message).toMatch(/pool "default".*may only use pools team-a/);
    expect((await refusal(sub.getJob(other.id))).code).toBe(Code.PermissionDenied);
    expect((await refusal(sub.dispatcher.cancelJob({ id: other.id }))).code).toBe(Code.PermissionDenied);
    expect((await refusal(drain(sub.logs(other.id))))).toMatchObject({ code: Code.PermissionDenied });
    const listed = (await sub.dispatcher.listJobs({ labels: { suite: 'auth' } })).jobs.map((j) => j.id);
    expect(listed).toEqual([mine.id]);
    expect((await refusal(sub.dispatcher.listJobs({ pool: 'default' }))).code).toBe(Code.PermissionDenied);
    // The other tenant's job is untouched.
    expect((await admin.getJob(other.id)).state).toBe(JobState.QUEUED);
    await admin.dispatcher.cancelJob({ id: other.id });
  });

  it('scopes idempotency keys to the token, so one tenant cannot find another\'s job by its key', async () => {
    const a = as(await cluster.createToken('submitter', 'tenant-a'));
    const b = as(await cluster.createToken('submitter', 'tenant-b'));
    const first = await a.dispatcher.submitJob({ spec: { command: ['true'], idempotencyKey: 'nightly-1' } });
    const again = await a.dispatcher.submitJob({ spec: { command: ['true'], idempotencyKey: 'nightly-1' } });
    const other = await b.dispatcher.submitJob({ spec: { command: ['true'], idempotencyKey: 'nightly-1' } });
    expect(again.deduplicated).toBe(true);
    expect(again.job?.id).toBe(first.job?.id);
    expect(other.deduplicated).toBe(false);
    expect(other.job?.id).not.toBe(first.job?.id);
  });

  it('binds agent tokens to one pool: another pool, or admin calls, are refused', async () => {
    const agent = as(await cluster.createToken('agent', 'team-a agents', ['team-a']));
    await agent.registry.registerAgent({ agent: { id: 'a-1', pool: 'team-a', capacityMilli: 1000 } });
    const elsewhere = await refusal(agent.registry.registerAgent({ agent: { id: 'a-2', pool: 'default', capacityMilli: 1000 } }));
    expect(elsewhere.code).toBe(Code.PermissionDenied);
    expect(elsewhere.message).toMatch(/agent "a-2" is in pool "default"/);
    expect((await refusal(agent.submit({ pool: 'team-a', command: ['true'] }))).code).toBe(Code.PermissionDenied);
    expect((await refusal(agent.registry.drainAgent({ id: 'a-1' }))).code).toBe(Code.PermissionDenied);
    await agent.registry.deregisterAgent({ id: 'a-1' });
  });

  it('an agent process with a token of another pool fails at start, naming the problem', async () => {
    const token = await cluster.createToken('agent', 'wrong pool', ['team-a']);
    await expect(cluster.startAgent({ LONGSHORE_TOKEN: token, LONGSHORE_POOL: 'default' })).rejects.toThrow();
    const failed = cluster.agents.at(-1)!;
    const status = await failed.waitForExit(30_000);
    expect(status.code).not.toBe(0);
    expect(failed.lines.join('\n')).toMatch(/may only use pools team-a/);
  });

  it('creates, lists and revokes tokens; a revoked token stops working within seconds', async () => {
    const created = await admin.tokens.createToken({ name: 'short-lived', role: TokenRole.SUBMITTER });
    expect(created.secret).toMatch(/^lst_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    const user = as(created.secret);
    await user.submit({ command: ['true'] });
    const listed = (await admin.tokens.listTokens({})).tokens;
    const row = listed.find((t) => t.id === created.token?.id);
    expect(row?.name).toBe('short-lived');
    expect(JSON.stringify(listed, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(created.secret.slice(-43));
    expect((await user.tokens.whoAmI({})).token?.name).toBe('short-lived');
    await admin.tokens.revokeToken({ id: created.token!.id });
    const refused = await waitFor(async () => {
      try {
        await user.submit({ command: ['true'] });
        return undefined;
      } catch (err) {
        return (err as LongshoreError).code === Code.Unauthenticated;
      }
    }, { timeoutMs: 30_000, intervalMs: 200, what: 'the revoked token to be refused' });
    expect(refused).toBe(true);
  });
});

describe('LONGSHORE_AUTH=off', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ agents: 1, env: { LONGSHORE_AUTH: 'off' } });
  });
  afterAll(async () => cluster?.stop());

  it('serves anonymous callers, and each server says so at start', async () => {
    const anon = LongshoreClient.connect({ env: { ...cluster.clientEnv, LONGSHORE_TOKEN: '', LONGSHORE_HOME: '/nonexistent' } });
    try {
      const job = await anon.submit({ command: ['true'] });
      expect((await anon.waitForJob(job.id)).id).toBe(job.id);
    } finally {
      anon.close();
    }
    for (const p of [cluster.registry, cluster.dispatcher]) expect(p.lines.join('\n')).toMatch(/LONGSHORE_AUTH=off: every caller/);
  });
});
