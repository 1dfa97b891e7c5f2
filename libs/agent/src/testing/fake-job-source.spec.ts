import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClaimRequest, HeldJob, RunRecord } from '@longshore/queue';
import { FakeJobSource } from './fake-job-source.js';

const req = (freeMilli: number, laneRoom: Record<string, number> = {}, max = 64): ClaimRequest => ({ freeMilli, capacityMilli: 1000, laneRoom, max, executors: ['subprocess'] });

async function claimOne(s: FakeJobSource, free = 1000): Promise<HeldJob> {
  const [c] = (await s.claim(req(free))).jobs;
  if (c?.kind !== 'job') throw new Error('no job claimed');
  return c.job;
}

const failed = (job: HeldJob, budget: number, maxAttempts = 0, delayMs = 1000): RunRecord => ({
  job,
  outcome: { state: 'failed', failureClass: 'exit', exitCode: 1, message: 'exited with code 1', attempt: { agentId: 'a', executor: 'subprocess', startedAt: 0 } },
  retry: { budget, maxAttempts, delayMs },
});

/** The fake honours the JobSource contract the agent relies on. */
describe('FakeJobSource', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('admits, in queue order, only what fits the free weight and lane room, up to max', async () => {
    const s = new FakeJobSource();
    const [a, b, c, d] = [600, 500, 300, 100].map((weightMilli) => s.add({ weightMilli }));
    expect((await s.claim(req(1000))).jobs.map((j) => j.job.id)).toEqual([a, c, d]);
    expect(s.state(b!)).toBe('queued');
    const l = new FakeJobSource();
    const [i1, , m1] = [l.add({ lane: 'ingestion' }), l.add({ lane: 'ingestion' }), l.add({ lane: 'monitor' })];
    expect((await l.claim(req(1000, { ingestion: 1 }))).jobs.map((j) => j.job.id)).toEqual([i1, m1]);
    const m = new FakeJobSource();
    [1, 2, 3].forEach(() => m.add({ weightMilli: 100 }));
    expect((await m.claim(req(1000, {}, 2))).jobs).toHaveLength(2);
  });

  it('fences writes made with a stale token', async () => {
    const s = new FakeJobSource();
    s.add();
    const job = await claimOne(s);
    expect(await s.appendLogs(job, 100, [{ stream: 'stdout', text: 'x' }])).toBe(1);
    s.steal(job.id);
    expect(await s.appendLogs(job, 100, [{ stream: 'stdout', text: 'y' }])).toBe(-1);
    expect((await s.finish([failed(job, 0)])).results).toEqual(['fenced']);
    expect(await s.handBack(job, { agentId: 'a', executor: 'subprocess', startedAt: 0 })).toBe(false);
  });

  it('retries while the class budget and maxAttempts allow, after the backoff', async () => {
    const s = new FakeJobSource();
    const id = s.add();
    const r1 = await s.finish([failed(await claimOne(s), 1, 0, 1000)]);
    expect(r1.results).toEqual(['retry']);
    expect((await s.claim(req(1000))).tail).toEqual({ kind: 'none', dueInMs: 1000 });
    vi.advanceTimersByTime(1000);
    const again = await claimOne(s);
    expect(again.attempt).toBe(2);
    expect((await s.finish([failed(again, 1)])).results).toEqual(['ended']);
    expect(s.state(id)).toBe('failed');
  });

  it('puts a handed-back job at the front, without counting it against maxAttempts', async () => {
    const s = new FakeJobSource();
    const [a, b] = [s.add({ weightMilli: 1000 }), s.add({ weightMilli: 1000 })];
    const job = await claimOne(s);
    expect(await s.handBack(job, { agentId: 'a', executor: 'subprocess', startedAt: 0, handedBack: true })).toBe(true);
    const again = await claimOne(s);
    expect(again.id).toBe(a);
    expect(again.attempt).toBe(2);
    // Two attempts opened, one handed back: one counts, so maxAttempts 2 still allows a retry.
    expect((await s.finish([failed(again, 1, 2)])).results).toEqual(['retry']);
    expect(s.state(b)).toBe('queued');
  });

  it('reserves an aged heavy job ahead of lighter ones for the agent, then gives it once it fits', async () => {
    const s = new FakeJobSource({ reserveAfterMs: 5000 });
    const heavy = s.add({ weightMilli: 1000 });
    const light = s.add({ weightMilli: 100 });
    expect((await s.claim(req(500))).jobs.map((j) => j.job.id)).toEqual([light]);
    vi.advanceTimersByTime(5000);
    s.add({ weightMilli: 100 });
    expect(await s.claim(req(400))).toMatchObject({ jobs: [], tail: { kind: 'reserved', jobId: heavy } });
    expect((await s.claim(req(1000))).jobs.map((j) => j.job.id)).toEqual([heavy]);
    expect(s.reservation).toBeUndefined();
  });

  it('cancels a queued job at once and flags a held one', async () => {
    const s = new FakeJobSource();
    const [held, queued] = [s.add({ weightMilli: 1000 }), s.add({ weightMilli: 1000 })];
    await claimOne(s);
    s.requestCancel(held);
    s.requestCancel(queued);
    expect(await s.isCancelRequested(held)).toBe(true);
    expect(s.state(queued)).toBe('cancelled');
    expect((await s.claim(req(1000))).jobs).toEqual([]);
  });
});
