import { Queue } from 'bullmq';
import { newJobId, type JobSpec } from '@longshore/domain';
import { createRedis, JobStore, readLogPage, type Redis } from '@longshore/store';
import { startRedis, type RedisHandle } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bullKeys, JobLifecycle, type AttemptOutcome, type Claim, type ClaimRequest, type ClaimResult, type NewJob, type RetryChoice } from './index.js';

const spec = (pool: string, weightMilli: number, extra: Partial<JobSpec> = {}): JobSpec => ({
  pool,
  allowedExecutors: [],
  command: ['true'],
  env: {},
  weightMilli,
  timeoutMs: 0,
  maxAttempts: 0,
  priority: 0,
  labels: {},
  ...extra,
});
let clock = Date.now() - 30_000;
const job = (pool: string, weightMilli: number, extra: Partial<JobSpec> = {}): NewJob => {
  const createdAt = ++clock;
  return { record: { id: newJobId(pool, createdAt), spec: spec(pool, weightMilli, extra), weightMilli, createdAt }, trace: {} };
};
const room = (freeMilli: number, capacityMilli = 1000, fullLanes: string[] = [], max = 1, executors = ['subprocess']): ClaimRequest => ({
  freeMilli,
  capacityMilli,
  laneRoom: Object.fromEntries(fullLanes.map((l) => [l, 0])),
  max,
  executors,
});
const idOf = (r: ClaimResult | undefined) => (r?.jobs[0] ? r.jobs[0].id : r?.tail.kind === 'reserved' ? `reserved:${r.tail.jobId}` : 'none');
const settings = (agentId: string, reserveAfterMs = 60_000) => ({ agentId, lockMs: 5000, reserveAfterMs });
const ok = { state: 'succeeded' as const, exitCode: 0, message: '', attempt: { agentId: 'a1', executor: 'noop' as const, startedAt: 1, finishedAt: 2 } };
const noRetry = { budget: 0, maxAttempts: 0, delayMs: 0 };
let tokens = 0;
const token = () => `t${++tokens}`;

describe('the job lifecycle on a real Redis', () => {
  let server: RedisHandle;
  let redis: Redis;
  let lc: JobLifecycle;
  let store: JobStore;
  beforeAll(async () => {
    server = await startRedis();
    redis = createRedis(server.url, 'worker');
    lc = new JobLifecycle(redis, { retentionMs: 60_000, maxFinished: 3 });
    store = new JobStore(redis);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  const claim = (pool: string, req: ClaimRequest, agent = 'a1', reserveAfterMs?: number) => lc.claim(pool, settings(agent, reserveAfterMs), req, token());
  const held = (r: ClaimResult): Claim => {
    if (!r.jobs[0]) throw new Error(`expected a job, got ${r.tail.kind}`);
    return r.jobs[0];
  };
  /** Ends one attempt, optionally claiming the next: the shape most tests need. */
  const finish = async (
    c: Claim,
    o: AttemptOutcome,
    retry: RetryChoice,
    next?: { settings: ReturnType<typeof settings>; req: ClaimRequest; tokenBase: string },
  ): Promise<{ result: string | undefined; next: ClaimResult | undefined }> => {
    const res = await lc.finish(c.pool, [{ claim: c, outcome: o, retry }], next);
    return { result: res.results[0], next: res.next };
  };

  /** The weight-class index holds exactly the jobs BullMQ has in wait or prioritized. */
  async function expectIndexExact(pool: string): Promise<void> {
    const k = lc.keys.pool(pool);
    const q = bullKeys(k);
    const queued = [...(await redis.lrange(q.wait, 0, -1)), ...(await redis.zrange(q.prioritized, 0, -1))].filter((id) => !id.startsWith('0:'));
    const indexed: string[] = [];
    for (const cls of await redis.smembers(k.classes)) indexed.push(...(await redis.zrange(k.weightClass(cls), 0, -1)));
    expect(indexed.sort()).toEqual(queued.sort());
  }

  it('stores a submit wholly: record, index, BullMQ entry; a taken idempotency key returns the first job and stores nothing', async () => {
    const j = job('sub', 250);
    expect(await lc.submit('sub', [j], { tokenId: 'tok', key: 'k1', windowMs: 60_000 })).toEqual({ kind: 'ok' });
    const again = job('sub', 250);
    expect(await lc.submit('sub', [again], { tokenId: 'tok', key: 'k1', windowMs: 60_000 })).toEqual({ kind: 'duplicate', id: j.record.id });
    expect(await store.get(again.record.id)).toBeUndefined();
    expect(await store.get(j.record.id)).toMatchObject({ state: 'queued', weightMilli: 250 });
    const q = new Queue('{sub}', { connection: redis, prefix: 'ls' });
    expect(await q.getJobState(j.record.id)).toBe('prioritized');
    await q.close();
    // Another token's identical key is its own.
    expect(await lc.submit('sub', [again], { tokenId: 'other', key: 'k1', windowMs: 60_000 })).toEqual({ kind: 'ok' });
    await expectIndexExact('sub');
  });

  it('takes the first job in order that fits, skipping heavier ones (backfill), and never one that does not fit', async () => {
    const [heavy, light1, light2] = [job('fit', 1000), job('fit', 250), job('fit', 250)];
    await lc.submit('fit', [heavy, light1, light2]);
    expect(idOf(await claim('fit', room(500)))).toBe(light1.record.id);
    expect(idOf(await claim('fit', room(250)))).toBe(light2.record.id);
    expect(idOf(await claim('fit', room(250)))).toBe('none');
    await expectIndexExact('fit');
    const got = held(await claim('fit', room(1000)));
    expect(got).toMatchObject({ id: heavy.record.id, attempt: 1 });
    expect(JSON.parse(got.specJson)).toMatchObject({ weightMilli: 1000, command: ['true'] });
    expect(await store.get(heavy.record.id)).toMatchObject({ state: 'running', agentId: 'a1' });
  });

  it('takes higher priority first, FIFO within a priority', async () => {
    const [low, normal1, high, normal2] = [job('prio', 100, { priority: -1 }), job('prio', 100), job('prio', 100, { priority: 5 }), job('prio', 300)];
    await lc.submit('prio', [low, normal1, high, normal2]);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push(idOf(await claim('prio', room(1000))));
    expect(order).toEqual([high, normal1, normal2, low].map((j) => j.record.id));
  });

  it('skips jobs of lanes at their cap here', async () => {
    const [ing, mon] = [job('lanes', 100, { lane: 'ingestion' }), job('lanes', 100, { lane: 'monitor' })];
    await lc.submit('lanes', [ing, mon]);
    expect(idOf(await claim('lanes', room(1000, 1000, ['ingestion'])))).toBe(mon.record.id);
    expect(idOf(await claim('lanes', room(1000)))).toBe(ing.record.id);
  });

  it('claims only jobs an executor of the agent can run: others wait for an agent that has one, in order', async () => {
    const docker = job('execs', 100, { executor: 'docker', image: 'img' });
    const plain = job('execs', 100);
    const chain = job('execs', 100, { executor: 'auto', allowedExecutors: ['ecs', 'subprocess'] });
    const named = job('execs', 100, { executor: 'subprocess' });
    await lc.submit('execs', [docker, plain, chain, named]);
    const subprocessOnly = await lc.claim('execs', settings('a1'), room(1000, 1000, [], 10, ['subprocess']), token());
    expect(subprocessOnly.jobs.map((j) => j.id)).toEqual([plain.record.id, chain.record.id, named.record.id]);
    expect(idOf(await claim('execs', room(1000, 1000, [], 1, ['subprocess', 'noop'])))).toBe('none');
    expect(await lc.queuedByExecutors('execs')).toEqual([{ executors: ['docker'], queued: 1 }]);
    expect(idOf(await claim('execs', room(1000, 1000, [], 1, ['docker'])))).toBe(docker.record.id);
    await expectIndexExact('execs');
  });

  it('claims several jobs in one step, each fitting what the ones before it left, lane caps included', async () => {
    const jobs = [job('many', 500), job('many', 250, { lane: 'io' }), job('many', 250, { lane: 'io' }), job('many', 250), job('many', 250)];
    await lc.submit('many', jobs);
    const res = await lc.claim('many', settings('a1'), { freeMilli: 1000, capacityMilli: 1000, laneRoom: { io: 1 }, max: 10, executors: ['subprocess'] }, 'tb');
    expect(res.jobs.map((c) => c.id)).toEqual([jobs[0]!, jobs[1]!, jobs[3]!].map((j) => j.record.id));
    expect(res.jobs.map((c) => c.token)).toEqual(['tb:0', 'tb:1', 'tb:2']);
    expect(res.tail).toEqual({ kind: 'none' });
    await expectIndexExact('many');
    // Each holds its own claim: the second's token cannot finish the first.
    const [a, b] = res.jobs;
    expect((await lc.finish('many', [{ claim: { ...a!, token: b!.token }, outcome: ok, retry: noRetry }])).results).toEqual(['fenced']);
    expect((await lc.finish('many', res.jobs.map((c) => ({ claim: c, outcome: ok, retry: noRetry })))).results).toEqual(['ended', 'ended', 'ended']);
  });

  it('finds a fitting job behind thousands that do not fit, at the cost of one head per weight class', async () => {
    const heavy = Array.from({ length: 5000 }, () => job('deep', 1000));
    for (let i = 0; i < heavy.length; i += 1000) await lc.submit('deep', heavy.slice(i, i + 1000));
    const light = job('deep', 250);
    await lc.submit('deep', [light]);
    expect(idOf(await claim('deep', room(500)))).toBe(light.record.id);
    expect(idOf(await claim('deep', room(500)))).toBe('none');
  });

  it('reserves an aged heavy job for one agent, which then admits nothing else, while others backfill', async () => {
    const [heavy, l1, l2] = [job('res', 1000), job('res', 250), job('res', 250)];
    await lc.submit('res', [heavy, l1, l2]);
    expect(idOf(await claim('res', room(750), 'a1', 0))).toBe(`reserved:${heavy.record.id}`);
    expect(await lc.reservation('res')).toMatchObject({ jobId: heavy.record.id, agentId: 'a1', weightMilli: 1000 });
    expect(idOf(await claim('res', room(750), 'a1', 0))).toBe(`reserved:${heavy.record.id}`);
    expect(idOf(await claim('res', room(500), 'a2', 0))).toBe(l1.record.id);
    expect(idOf(await claim('res', room(1000), 'a1', 0))).toBe(heavy.record.id);
    expect(await lc.reservation('res')).toBeUndefined();
    expect(idOf(await claim('res', room(1000), 'a1', 0))).toBe(l2.record.id);
  });

  it('lets any agent that can start the reserved job now take it; never reserves what an agent could never run', async () => {
    const heavy = job('res2', 1000);
    await lc.submit('res2', [heavy]);
    expect(idOf(await claim('res2', room(0), 'a1', 0))).toBe(`reserved:${heavy.record.id}`);
    expect(idOf(await claim('res2', room(1000), 'a2', 0))).toBe(heavy.record.id);
    expect(await lc.reservation('res2')).toBeUndefined();
    const huge = job('res3', 2000);
    await lc.submit('res3', [huge]);
    expect(idOf(await claim('res3', room(1000), 'small', 0))).toBe('none');
    expect(idOf(await claim('res3', room(1000, 2000), 'big', 60_000))).toBe('none');
    expect(await lc.reservation('res3')).toBeUndefined();
  });

  it('finishes a job and claims the next in the same step; logs are fenced, capped, and absent when nothing was printed', async () => {
    const [a, b] = [job('fin', 500), job('fin', 500)];
    await lc.submit('fin', [a, b]);
    const first = held(await claim('fin', room(500)));
    expect(await lc.appendLogs(first, 1000, [{ stream: 'stdout', text: 'hello' }])).toBe(1);
    const res = await finish(first, ok, noRetry, { settings: settings('a1'), req: room(500), tokenBase: token() });
    expect(res.result).toBe('ended');
    expect(idOf(res.next)).toBe(b.record.id);
    expect(await store.get(a.record.id)).toMatchObject({ state: 'succeeded', exitCode: 0 });
    const page = await readLogPage(redis, store.keys, a.record.id, '');
    expect(page.lines.map((l) => l.text)).toEqual(['hello']);
    expect(page.ended).toBe(true);
    // The stale token of a finished attempt can neither log nor finish again.
    expect(await lc.appendLogs(first, 1000, [{ stream: 'stdout', text: 'late' }])).toBe(-1);
    expect((await finish(first, ok, noRetry)).result).toBe('fenced');
    const second = held(res.next!);
    await finish(second, ok, noRetry);
    expect(await redis.exists(store.keys.pool('fin').log(b.record.id))).toBe(0);
    const q = new Queue('{fin}', { connection: redis, prefix: 'ls' });
    expect(await q.getJob(a.record.id)).toBeUndefined();
    await q.close();
  });

  it('records a batch of ends wholly or not at all: one end BullMQ no longer has fails the batch before anything is written', async () => {
    const [a, b] = [job('whole', 500), job('whole', 500)];
    await lc.submit('whole', [a, b]);
    const got = await claim('whole', room(1000, 1000, [], 2));
    const [ca, cb] = [got.jobs[0]!, got.jobs[1]!];
    const q = bullKeys(lc.keys.pool('whole'));
    // Something (a bug, a hand edit) took b out of BullMQ's active list behind the record's back.
    expect(await redis.lrem(q.active, 0, cb.id)).toBe(1);
    await expect(lc.finish('whole', [{ claim: ca, outcome: ok, retry: noRetry }, { claim: cb, outcome: ok, retry: noRetry }])).rejects.toThrow(`job ${cb.id} is held under its fence but is not active in BullMQ`);
    // a, first in the batch, was not recorded either: still running under its claim, still active.
    expect(await store.get(ca.id)).toMatchObject({ state: 'running' });
    expect(await redis.lrange(q.active, 0, -1)).toContain(ca.id);
    // Alone, its end is recorded as usual.
    expect((await finish(ca, ok, noRetry)).result).toBe('ended');
    expect(await store.get(ca.id)).toMatchObject({ state: 'succeeded' });
  });

  it('caps a log in bytes and marks it truncated once', async () => {
    const j = job('cap', 100);
    await lc.submit('cap', [j]);
    const c = held(await claim('cap', room(1000)));
    expect(await lc.appendLogs(c, 10, [{ stream: 'stdout', text: '12345' }, { stream: 'stdout', text: '678901' }])).toBe(1);
    expect(await lc.appendLogs(c, 10, [{ stream: 'stdout', text: 'more' }])).toBe(0);
    const page = await readLogPage(redis, store.keys, j.record.id, '');
    expect(page.lines.map((l) => l.stream)).toEqual(['stdout', 'system']);
    expect((await store.get(j.record.id))!.logTruncated).toBe(true);
  });

  it('retries a failure while its class has budget — delayed, then due and claimable again — then ends it', async () => {
    const j = job('retry', 100, { retry: { budgets: { exit: 1, timeout: 0, oom: 0, start_failed: 0, lost: 0 }, backoffMs: 1, maxBackoffMs: 1 } });
    await lc.submit('retry', [j]);
    const failed = { state: 'failed' as const, exitCode: 3, failureClass: 'exit' as const, message: 'exited with code 3', attempt: { ...ok.attempt, exitCode: 3 } };
    const first = held(await claim('retry', room(1000)));
    expect((await finish(first, failed, { budget: 1, maxAttempts: 0, delayMs: 50 })).result).toBe('retry');
    expect(await store.get(j.record.id)).toMatchObject({ state: 'retrying' });
    await expectIndexExact('retry');
    let again: ClaimResult = { jobs: [], tail: { kind: 'none' } };
    for (let i = 0; i < 100 && again.jobs.length === 0; i++) {
      again = await claim('retry', room(1000));
      if (again.tail.kind === 'none') expect(again.tail.dueInMs ?? 0).toBeLessThanOrEqual(50);
      if (again.jobs.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    const second = held(again);
    expect(second.attempt).toBe(2);
    expect((await finish(second, failed, { budget: 0, maxAttempts: 0, delayMs: 50 })).result).toBe('ended');
    expect(await store.get(j.record.id)).toMatchObject({ state: 'failed', failureClass: 'exit' });
    await expectIndexExact('retry');
  });

  it('hands a job back without counting it: it returns to its place, ahead of later jobs', async () => {
    const [first, later] = [job('back', 500), job('back', 500)];
    await lc.submit('back', [first, later]);
    const c = held(await claim('back', room(500)));
    expect(await lc.handBack(c, { agentId: 'a1', executor: 'noop', startedAt: 1, finishedAt: 2, handedBack: true, message: 'handed back' })).toBe(true);
    expect(await store.get(first.record.id)).toMatchObject({ state: 'queued' });
    await expectIndexExact('back');
    const again = held(await claim('back', room(500), 'a2'));
    expect(again).toMatchObject({ id: first.record.id, attempt: 2 });
  });

  it('cancels a queued job at once and a running one through its agent; cancels of finished jobs change nothing', async () => {
    const [running, queued] = [job('cxl', 500), job('cxl', 500)];
    await lc.submit('cxl', [running, queued]);
    const c = held(await claim('cxl', room(500)));
    expect(await lc.cancel(queued.record.id, 'cancelled by request before it started')).toEqual({ kind: 'cancelled', from: 'queued' });
    expect(await store.get(queued.record.id)).toMatchObject({ state: 'cancelled', failureClass: 'cancelled' });
    await expectIndexExact('cxl');
    expect(await lc.cancel(running.record.id, 'x')).toEqual({ kind: 'flagged', state: 'running' });
    expect(await lc.isCancelRequested(running.record.id)).toBe(true);
    await finish(c, { state: 'cancelled', failureClass: 'cancelled', message: 'cancelled', attempt: ok.attempt }, noRetry);
    expect(await lc.cancel(running.record.id, 'x')).toEqual({ kind: 'final', state: 'cancelled' });
    expect(await lc.cancel('cxl.0000000000000000000000000', 'x')).toEqual({ kind: 'missing' });
  });

  it('sweeps a lapsed claim back into the queue as a lost attempt, and fails the job once its lost budget is spent', async () => {
    const fast = new JobLifecycle(redis, { retentionMs: 60_000, maxFinished: 100 });
    const j = job('sweep', 100, { retry: { budgets: { exit: 0, timeout: 0, oom: 0, start_failed: 0, lost: 1 }, backoffMs: 1, maxBackoffMs: 1 } });
    await lc.submit('sweep', [j]);
    const c = held(await fast.claim('sweep', { agentId: 'a1', lockMs: 100, reserveAfterMs: 60_000 }, room(1000), token()));
    // BullMQ's stalled check takes two passes: mark, then move what is still unlocked.
    let moved = 0;
    for (let i = 0; i < 50 && moved === 0; i++) {
      await new Promise((r) => setTimeout(r, 60));
      moved = await fast.sweep('sweep', 1);
    }
    expect(moved).toBe(1);
    const rec = await store.get(j.record.id);
    expect(rec, JSON.stringify(rec)).toMatchObject({ state: 'queued' });
    expect(rec!.attempts[0]).toMatchObject({ failureClass: 'lost' });
    await expectIndexExact('sweep');
    // The old holder is fenced off.
    expect((await finish(c, ok, noRetry)).result).toBe('fenced');
    // Lost budget 1, spent: the next lapse fails it.
    held(await fast.claim('sweep', { agentId: 'a2', lockMs: 100, reserveAfterMs: 60_000 }, room(1000), token()));
    moved = 0;
    for (let i = 0; i < 50 && moved === 0; i++) {
      await new Promise((r) => setTimeout(r, 60));
      moved = await fast.sweep('sweep', 1);
    }
    expect(await store.get(j.record.id)).toMatchObject({ state: 'failed', failureClass: 'lost' });
    await expectIndexExact('sweep');
  });

  /** Sweeps until `n` jobs moved (BullMQ's stalled check takes two passes: mark, then move what is still unlocked). */
  async function sweepUntil(l: JobLifecycle, pool: string, adoptWindowMs: number, check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 60));
      await l.sweep(pool, 1, Date.now(), adoptWindowMs);
      if (await check()) return;
    }
    throw new Error('the sweep never got there');
  }

  it('records a run under the fence, and a restarted agent lists and adopts its unfinished attempts with a new token, no attempt charged', async () => {
    const j = job('adopt', 250);
    await lc.submit('adopt', [j]);
    const c = held(await claim('adopt', room(1000), 'agent-a'));
    expect(await lc.recordRun(c, '{"kind":"docker","containerId":"c1"}', true)).toBe(true);
    expect(await lc.recordRun({ ...c, token: 'stale' }, '{"kind":"docker","containerId":"x"}', true)).toBe(false);
    expect(await lc.heldBy('adopt', 'agent-b')).toEqual([]);
    expect(await lc.heldBy('adopt', 'agent-a')).toEqual([{ id: c.id, pool: 'adopt', state: 'running', attempt: 1, run: '{"kind":"docker","containerId":"c1"}', reattachable: true }]);
    // Only the same agent id may adopt; the adopter gets the spec and a new fence.
    expect(await lc.adopt('adopt', c.id, 'agent-b', 'tb', 5000)).toBeUndefined();
    // Naming the attempt (a live agent taking back its lapsed claim): only that one.
    expect(await lc.adopt('adopt', c.id, 'agent-a', 'other-attempt', 5000, Date.now(), 2)).toBeUndefined();
    await lc.appendLogs(c, 1 << 20, [{ stream: 'stdout', text: 'a' }, { stream: 'stderr', text: 'b' }, { stream: 'system', text: 'pulled' }]);
    await lc.appendLogs(c, 1 << 20, [{ stream: 'stdout', text: 'c' }]);
    const again = await lc.adopt('adopt', c.id, 'agent-a', 'new-token', 5000, Date.now(), 1);
    // With how much of its output is stored: the adopter follows the run from the next line.
    expect(again).toMatchObject({ id: c.id, token: 'new-token', attempt: 1, logged: { stdout: 2, stderr: 1 } });
    expect(JSON.parse(again!.specJson)).toMatchObject({ weightMilli: 250 });
    expect((await finish(c, ok, noRetry)).result).toBe('fenced');
    expect((await finish(again!, ok, noRetry)).result).toBe('ended');
    const rec = await store.get(c.id);
    expect(rec).toMatchObject({ state: 'succeeded' });
    expect(rec!.attempts).toHaveLength(1);
    expect(await redis.hmget(lc.keys.pool('adopt').record(c.id), 'run', 'reattach', 'logLines')).toEqual([null, null, null]);
    expect(await lc.adopt('adopt', c.id, 'agent-a', 'late', 5000)).toBeUndefined();
  });

  it('keeps a lapsed run that outlives its agent orphaned for the adopt window, then queues it again as lost; a subprocess run is queued at once', async () => {
    const fast = new JobLifecycle(redis, { retentionMs: 60_000, maxFinished: 100 });
    const lost1 = { budgets: { exit: 0, timeout: 0, oom: 0, start_failed: 0, lost: 1 }, backoffMs: 1, maxBackoffMs: 1 };
    const container = job('orphan', 100, { retry: lost1 });
    const proc = job('orphan', 100, { retry: lost1 });
    await lc.submit('orphan', [container, proc]);
    const quick = { agentId: 'agent-o', lockMs: 100, reserveAfterMs: 60_000 };
    const got = await fast.claim('orphan', quick, room(1000, 1000, [], 2), token());
    const byId = new Map(got.jobs.map((c) => [c.id, c]));
    await fast.recordRun(byId.get(container.record.id)!, '{"kind":"docker","containerId":"c2"}', true);
    await fast.recordRun(byId.get(proc.record.id)!, '{"kind":"subprocess","pid":1,"startTime":"1"}', false);
    const stateOf = async (id: string) => (await store.get(id))?.state;
    // A long window: the container's job waits orphaned while the subprocess's goes back to the queue.
    await sweepUntil(fast, 'orphan', 60_000, async () => (await stateOf(container.record.id)) === 'orphaned' && (await stateOf(proc.record.id)) === 'queued');
    expect((await store.get(proc.record.id))!.attempts[0]).toMatchObject({ failureClass: 'lost' });
    expect(await lc.heldBy('orphan', 'agent-o')).toEqual([expect.objectContaining({ id: container.record.id, state: 'orphaned', reattachable: true })]);
    await expectIndexExact('orphan');
    // The same agent id comes back within the window and adopts it.
    const adopted = await fast.adopt('orphan', container.record.id, 'agent-o', 'back', 100);
    expect(adopted).toMatchObject({ attempt: 1 });
    expect(await stateOf(container.record.id)).toBe('running');
    // It goes away again; this time the window is short and passes: lost, queued again.
    await sweepUntil(fast, 'orphan', 150, async () => (await stateOf(container.record.id)) === 'queued');
    const rec = (await store.get(container.record.id))!;
    expect(rec.attempts[0]).toMatchObject({ failureClass: 'lost', message: expect.stringContaining('LONGSHORE_ADOPT_WINDOW') });
    expect(await redis.hmget(lc.keys.pool('orphan').record(container.record.id), 'run', 'reattach', 'orphanedAt')).toEqual([null, null, null]);
    expect(await fast.adopt('orphan', container.record.id, 'agent-o', 'too-late', 100)).toBeUndefined();
    await expectIndexExact('orphan');
  });

  it('reopens a finished job once more, at the back of its priority', async () => {
    const [a, b] = [job('reopen', 500), job('reopen', 500)];
    await lc.submit('reopen', [a]);
    await finish(held(await claim('reopen', room(1000))), ok, noRetry);
    await lc.submit('reopen', [b]);
    expect(await lc.reopen(a.record.id)).toBe('ok');
    expect(await lc.reopen(a.record.id)).toBe('queued');
    expect(idOf(await claim('reopen', room(500)))).toBe(b.record.id);
    const again = held(await claim('reopen', room(500)));
    expect(again).toMatchObject({ id: a.record.id, attempt: 2 });
    const page = await readLogPage(redis, store.keys, a.record.id, '');
    expect(page.lines.map((l) => l.text)).toEqual(['[longshore] run again by request']);
    expect(page.ended).toBe(false);
  });

  it('keeps at most maxFinished finished jobs per pool, dropping the oldest with their logs', async () => {
    const jobs = Array.from({ length: 5 }, () => job('keep', 100));
    await lc.submit('keep', jobs);
    for (let i = 0; i < 5; i++) await finish(held(await claim('keep', room(1000))), ok, noRetry);
    const kept = (await Promise.all(jobs.map((j) => store.get(j.record.id)))).map((r) => !!r);
    expect(kept).toEqual([false, false, true, true, true]);
    expect(await redis.zcard(lc.keys.pool('keep').finished)).toBe(3);
  });

  it('lists the jobs of several pools newest first, in pages', async () => {
    const x = [job('lsa', 100), job('lsb', 100), job('lsa', 100)];
    await lc.submit('lsa', [x[0]!]);
    await lc.submit('lsb', [x[1]!]);
    await lc.submit('lsa', [x[2]!]);
    const p1 = await store.scan(['lsa', 'lsb'], undefined, 2);
    expect(p1.records.map((r) => r.id)).toEqual([x[2]!.record.id, x[1]!.record.id]);
    const p2 = await store.scan(['lsa', 'lsb'], p1.last, 2);
    expect(p2.records.map((r) => r.id)).toEqual([x[0]!.record.id]);
    expect(p2.done).toBe(true);
  });

  it('keeps every key of a pool under the pool\'s hash tag', async () => {
    const keys = await redis.keys('ls:*');
    const untagged = keys.filter((k) => !/^ls:\{[a-z0-9-]+\}:/.test(k));
    expect(untagged).toEqual([]);
  });
});
