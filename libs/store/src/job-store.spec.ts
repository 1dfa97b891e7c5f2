import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newJobId, type JobSpec } from '@longshore/domain';
import { startRedis, type RedisHandle } from '@longshore/testing';
import { createRedis, JobStore, readLogPage, type Redis } from './index.js';

const spec: JobSpec = { pool: 'default', allowedExecutors: [], command: ['true'], env: {}, weightMilli: 250, timeoutMs: 0, maxAttempts: 1, priority: 0, labels: {} };
const attempt = { agentId: 'a1', executor: 'subprocess' as const, startedAt: 1 };

describe('JobStore on a real Redis', () => {
  let server: RedisHandle;
  let redis: Redis;
  let store: JobStore;
  beforeAll(async () => {
    server = await startRedis();
    redis = createRedis(server.url, 'worker');
    store = new JobStore(redis, { retentionMs: 60_000, maxFinished: 3 });
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  async function newJob(): Promise<string> {
    const id = newJobId();
    await store.create([{ id, spec, weightMilli: 250, createdAt: Date.now() }]);
    return id;
  }

  it('runs a job through claim, running, logs and finish', async () => {
    const id = await newJob();
    expect(await store.claim(id, 't1', 'a1', attempt)).toEqual({ kind: 'ok', attempt: 1 });
    expect(await store.markRunning(id, 't1')).toBe(true);
    expect(await store.appendLogs(id, 't1', 1000, [{ stream: 'stdout', text: 'hello' }, { stream: 'stderr', text: 'oops' }])).toBe(2);
    expect(await store.finish(id, 't1', { state: 'failed', exitCode: 3, failureClass: 'exit', message: 'exited 3', attempt: { ...attempt, exitCode: 3 } })).toBe('ended');
    const rec = await store.get(id);
    expect(rec).toMatchObject({ state: 'failed', exitCode: 3, failureClass: 'exit', agentId: 'a1' });
    expect(rec!.attempts).toEqual([{ number: 1, ...attempt, exitCode: 3 }]);
    const page = await readLogPage(redis, store.keys, id, '');
    expect(page.lines.map((l) => [l.stream, l.text])).toEqual([['stdout', 'hello'], ['stderr', 'oops']]);
    expect(page.ended).toBe(true);
    expect(await redis.ttl(store.keys.job(id))).toBeGreaterThan(0);
  });

  it('fences a stale holder: after a re-claim the old token can neither log nor finish', async () => {
    const id = await newJob();
    await store.claim(id, 'old', 'a1', attempt);
    expect(await store.claim(id, 'new', 'a2', { ...attempt, agentId: 'a2' })).toEqual({ kind: 'ok', attempt: 2 });
    expect(await store.appendLogs(id, 'old', 1000, [{ stream: 'stdout', text: 'late' }])).toBe(-1);
    expect(await store.finish(id, 'old', { state: 'succeeded', exitCode: 0, message: '', attempt })).toBe('fenced');
    const rec = await store.get(id);
    expect(rec!.state).toBe('claimed');
    expect(rec!.attempts[0]!.failureClass).toBe('lost');
    expect((await readLogPage(redis, store.keys, id, '')).lines).toEqual([]);
  });

  it('caps a job log in bytes and marks it truncated once', async () => {
    const id = await newJob();
    await store.claim(id, 't', 'a1', attempt);
    const lines = Array.from({ length: 10 }, (_, i) => ({ stream: 'stdout', text: `line-${i}-xxxxxxxx` }));
    await store.appendLogs(id, 't', 50, lines);
    await store.appendLogs(id, 't', 50, lines);
    const page = await readLogPage(redis, store.keys, id, '');
    // 15-byte lines: three fit in 50 bytes, the fourth would not.
    expect(page.lines.filter((l) => l.stream === 'stdout')).toHaveLength(3);
    expect(page.lines.filter((l) => l.stream === 'system')).toHaveLength(1);
    expect(page.lines.at(-1)!.text).toContain('log truncated');
    expect((await store.get(id))!.logTruncated).toBe(true);
  });

  it('cancels a queued job, and flags a claimed one for its agent', async () => {
    const queued = await newJob();
    expect(await store.requestCancel(queued)).toEqual({ kind: 'flagged', state: 'queued' });
    expect(await store.cancelUnclaimed(queued, 'cancelled by user')).toBe(true);
    expect((await store.get(queued))!.state).toBe('cancelled');
    expect(await store.requestCancel(queued)).toEqual({ kind: 'final', state: 'cancelled' });

    const flaggedBeforeClaim = await newJob();
    await store.requestCancel(flaggedBeforeClaim);
    expect(await store.claim(flaggedBeforeClaim, 't', 'a1', attempt)).toEqual({ kind: 'gone', state: 'cancelled' });

    const running = await newJob();
    await store.claim(running, 't', 'a1', attempt);
    expect(await store.requestCancel(running)).toEqual({ kind: 'flagged', state: 'claimed' });
    expect(await store.cancelUnclaimed(running, 'x')).toBe(false);
    expect(await store.isCancelRequested(running)).toBe(true);
  });

  it('keeps at most maxFinished finished jobs, dropping the oldest with their logs', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = await newJob();
      await store.claim(id, 't', 'a1', attempt);
      await store.appendLogs(id, 't', 1000, [{ stream: 'stdout', text: 'x' }]);
      await store.finish(id, 't', { state: 'succeeded', exitCode: 0, message: '', attempt }, undefined, Date.now() + i);
      ids.push(id);
    }
    expect(await redis.zcard(store.keys.finished)).toBe(3);
    expect(await store.get(ids[0]!)).toBeUndefined();
    expect(await redis.exists(store.keys.log(ids[0]!))).toBe(0);
    expect((await store.get(ids[5]!))!.state).toBe('succeeded');
  });

  it('retries a failure while its class has budget, then ends it; counts lost attempts against theirs', async () => {
    const id = await newJob();
    const fail = { state: 'failed' as const, exitCode: 1, failureClass: 'exit' as const, message: 'exited with code 1', attempt: { ...attempt, exitCode: 1 } };
    await store.claim(id, 't1', 'a1', attempt);
    expect(await store.finish(id, 't1', fail, { budget: 1, maxAttempts: 0, delayMs: 10 })).toBe('retry');
    expect((await store.get(id))!.state).toBe('retrying');
    await store.claim(id, 't2', 'a1', attempt);
    expect(await store.finish(id, 't2', fail, { budget: 1, maxAttempts: 0, delayMs: 10 })).toBe('ended');
    const rec = (await store.get(id))!;
    expect(rec.state).toBe('failed');
    expect(rec.attempts.map((a) => a.exitCode)).toEqual([1, 1]);

    const lost = await newJob();
    await store.claim(lost, 'x1', 'a1', attempt, { lostBudget: 1, maxAttempts: 0 });
    expect(await store.claim(lost, 'x2', 'a2', attempt, { lostBudget: 1, maxAttempts: 0 })).toEqual({ kind: 'ok', attempt: 2 });
    expect(await store.claim(lost, 'x3', 'a3', attempt, { lostBudget: 1, maxAttempts: 0 })).toEqual({ kind: 'gone', state: 'failed' });
    const l = (await store.get(lost))!;
    expect(l).toMatchObject({ state: 'failed', failureClass: 'lost' });
    expect(l.attempts.map((a) => a.failureClass)).toEqual(['lost', 'lost']);
  });

  it('hands a job back without counting it, and reopens a finished job with its log going on', async () => {
    const id = await newJob();
    await store.claim(id, 't1', 'a1', attempt);
    expect(await store.handBack(id, 't1', { ...attempt, finishedAt: 2, handedBack: true })).toBe(true);
    expect((await store.get(id))!.state).toBe('queued');
    await store.claim(id, 't2', 'a2', attempt, { lostBudget: 0, maxAttempts: 1 });
    expect(await store.finish(id, 't2', { state: 'succeeded', exitCode: 0, message: '', attempt })).toBe('ended');
    const rec = (await store.get(id))!;
    expect(rec.attempts[0]).toMatchObject({ handedBack: true });
    expect(rec.attempts[0]!.failureClass).toBeUndefined();
    expect(await store.reopen(id)).toBe('ok');
    expect((await store.get(id))!.state).toBe('queued');
    expect(await redis.ttl(store.keys.job(id))).toBe(-1);
    const page = await readLogPage(redis, store.keys, id, '');
    expect(page.ended).toBe(false);
    expect(page.lines.at(-1)!.text).toContain('run again by request');
    expect(await store.reopen(id)).toBe('queued');
  });

  it('lists newest first in pages', async () => {
    const a = await newJob();
    const b = await newJob();
    const first = await store.scan(undefined, 1);
    expect(first.records[0]!.id).toBe(b);
    const second = await store.scan(first.last, 1);
    expect(second.records[0]!.id).toBe(a);
  });
});
