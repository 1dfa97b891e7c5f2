import { seededRandom, type FakeRun } from '@longshore/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runningJobs, settle, startTestAgent, stopTestAgent, useTestAgents, type TestAgent } from './spec-helpers.js';
import { FakeJobSource } from './testing/index.js';

describe('the claim loop', () => {
  let t: TestAgent | undefined;
  useTestAgents();

  const running = runningJobs;

  it('claims up to its capacity and no further', async () => {
    t = await startTestAgent();
    const ids = [400, 400, 400, 300].map((weightMilli) => t!.source.add({ weightMilli }));
    t.events.announce();
    await settle();
    expect(running(t)).toEqual([ids[0], ids[1]]);
    expect(t.source.state(ids[2]!)).toBe('queued');
    expect(t.source.state(ids[3]!)).toBe('queued'); // FIFO: the 300 does not jump the 400 when both fit later
    expect(t.source.heldMilli).toBe(800);
  });

  it('claims the next job when a run ends, in the same write that records the end', async () => {
    t = await startTestAgent();
    const [a, b] = [t.source.add({ weightMilli: 600 }), t.source.add({ weightMilli: 600 })];
    t.events.announce();
    await settle();
    expect(running(t)).toEqual([a]);
    const claimsBefore = t.source.claims.length;
    t.executor.runOf(a!)!.succeed();
    await settle(); // the clock does not move: no poll, no announcement
    expect(running(t)).toEqual([b]);
    expect(t.source.state(a!)).toBe('succeeded');
    expect(t.source.claims.slice(claimsBefore).flatMap((c) => c.ids)).toEqual([b]);
  });

  it('never runs more weight than its capacity under any order of ends', async () => {
    const weights = new Map<string, number>();
    const over: string[] = [];
    const check = (run: FakeRun, running: FakeRun[]) => {
      const sum = running.reduce((s, r) => s + weights.get(r.jobId)!, 0);
      if (sum > 1000) over.push(`${run.jobId} started with ${sum} running`);
    };
    t = await startTestAgent({ executor: { onRun: (run, ex) => check(run, ex.running()) } });
    const random = seededRandom(7);
    for (let i = 0; i < 60; i++) {
      const w = [100, 250, 333, 500, 750, 1000][Math.floor(random() * 6)]!;
      weights.set(t.source.add({ weightMilli: w }), w);
    }
    t.events.announce();
    await settle();
    for (let step = 0; step < 200 && t.executor.running().length > 0; step++) {
      const live = t.executor.running();
      live[Math.floor(random() * live.length)]!.succeed();
      await settle();
    }
    expect(over).toEqual([]);
    expect(t.source.peakHeldMilli).toBeLessThanOrEqual(1000);
    expect([...weights.keys()].map((id) => t!.source.state(id))).toEqual([...weights.keys()].map(() => 'succeeded'));
  });

  it('claims the room a run freed only in the write that records its end', async () => {
    // A write is slow (a busy Redis): a run ends while the claim loop waits its turn behind it.
    // Were the loop to claim b's room before b's end is written, the queue would see this agent
    // hold 1.5 of its 1.0 until the next write, and an agent killed in between would leave it so.
    t = await startTestAgent();
    const [a, b] = [t.source.add({ weightMilli: 500 }), t.source.add({ weightMilli: 500 })];
    const queued = [500, 500, 500].map((weightMilli) => t!.source.add({ weightMilli }));
    t.events.announce();
    await settle();
    expect(running(t)).toEqual([a, b]);
    const release = t.source.holdNext('finish');
    t.executor.runOf(a!)!.succeed(); // its write (with a claim) is held
    await settle();
    t.executor.runOf(b!)!.succeed(); // ends while that write is in flight
    await settle();
    release();
    await settle();
    expect(t.source.peakHeldMilli).toBeLessThanOrEqual(1000);
    expect([a, b].map((id) => t!.source.state(id!))).toEqual(['succeeded', 'succeeded']);
    expect(running(t)).toEqual(queued.slice(0, 2));
    expect(t.source.heldMilli).toBe(1000);
  });

  it('honours lane caps apart from weight', async () => {
    t = await startTestAgent({ settings: { lanes: { ingestion: 1 } } });
    const i1 = t.source.add({ weightMilli: 100, lane: 'ingestion' });
    const i2 = t.source.add({ weightMilli: 100, lane: 'ingestion' });
    const m1 = t.source.add({ weightMilli: 100, lane: 'monitor' });
    t.events.announce();
    await settle();
    expect(running(t)).toEqual([i1, m1]);
    expect(t.registry.last).toBeDefined();
    t.executor.runOf(i1)!.succeed();
    await settle();
    expect(running(t)).toEqual([m1, i2]);
  });

  it('takes higher priority first, FIFO within a priority', async () => {
    t = await startTestAgent();
    const low = t.source.add({ weightMilli: 1000, priority: 0 });
    const high1 = t.source.add({ weightMilli: 1000, priority: 5 });
    const high2 = t.source.add({ weightMilli: 1000, priority: 5 });
    t.events.announce();
    await settle();
    const order = [];
    for (let i = 0; i < 3; i++) {
      const [r] = t.executor.running();
      order.push(r!.jobId);
      r!.succeed();
      await settle();
    }
    expect(order).toEqual([high1, high2, low]);
  });

  it('finds work nobody announced at its next poll', async () => {
    t = await startTestAgent({ settings: { claimPollMs: 5000 } });
    const id = t.source.add({ weightMilli: 100 });
    await settle();
    expect(running(t)).toEqual([]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(running(t)).toEqual([id]);
  });

  it('keeps claiming after a claim fails', async () => {
    t = await startTestAgent();
    t.source.failNext('claim', new Error('redis unreachable'));
    const id = t.source.add({ weightMilli: 100 });
    t.events.announce();
    await settle();
    expect(running(t)).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(running(t)).toEqual([id]);
  });
});

describe('a claim that breaks the contract', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is handed back, never run over capacity, and does not spin the loop', async () => {
    const source = new FakeJobSource();
    // A source whose index disagrees with its records: it claims as if 0.5 more were free.
    const claim = source.claim.bind(source);
    source.claim = (req) => claim({ ...req, freeMilli: req.freeMilli + 500 });
    const t = await startTestAgent({ source });
    const [a, b] = [source.add({ weightMilli: 700 }), source.add({ weightMilli: 700 })];
    t.events.announce();
    await settle();
    expect(t.executor.running().map((r) => r.jobId)).toEqual([a]);
    expect(source.handBacks.length).toBeGreaterThan(0);
    expect(source.handBacks.filter((h) => h.id !== b || !h.attempt.handedBack)).toEqual([]);
    expect(source.state(b)).toBe('queued');
    const claims = source.claims.length;
    await vi.advanceTimersByTimeAsync(999);
    expect(source.claims.length).toBe(claims); // it waits for news or its next poll
    await stopTestAgent(t);
  });
});
