import { describe, expect, it, vi } from 'vitest';
import { runningJobs, settle, startTestAgent, useTestAgents, type TestAgent } from './spec-helpers.js';

/**
 * No starvation: a heavy job that waited past the threshold gets this agent's reservation (the
 * claim's `reserved` tail); the agent then admits nothing else until the heavy job fits.
 */
describe('the reservation', () => {
  let t: TestAgent | undefined;
  useTestAgents();

  const running = runningJobs;

  /** Three light jobs running (0.9 of 1.0), then a heavy one and two more light ones queued. */
  async function busy(reserveAfterMs: number) {
    t = await startTestAgent({ source: { reserveAfterMs } });
    const lights = [0, 1, 2].map(() => t!.source.add({ weightMilli: 300 }));
    t.events.announce();
    await settle();
    expect(running(t)).toEqual(lights);
    const heavy = t.source.add({ weightMilli: 1000 });
    const later = [0, 1].map(() => t!.source.add({ weightMilli: 300 }));
    t.events.announce();
    await settle();
    return { t, lights, heavy, later };
  }

  it('backfills lighter jobs around a heavy one that has not waited long', async () => {
    const { t, lights, heavy, later } = await busy(60_000);
    t.executor.runOf(lights[0]!)!.succeed();
    await settle();
    expect(running(t)).toEqual([lights[1], lights[2], later[0]]);
    expect(t.source.state(heavy)).toBe('queued');
    expect(t.source.reservation).toBeUndefined();
  });

  it('drains for a heavy job that waited past the threshold, then starts it and resumes', async () => {
    const { t, lights, heavy, later } = await busy(5000);
    await vi.advanceTimersByTimeAsync(5000);
    t.executor.runOf(lights[0]!)!.succeed();
    await settle();
    // Room for a light job, but the agent holds the reservation: it admits nothing else.
    expect(t.source.reservation).toBe(heavy);
    expect(running(t)).toEqual([lights[1], lights[2]]);
    expect(t.source.claims.at(-1)?.tail).toEqual({ kind: 'reserved', jobId: heavy });
    await vi.advanceTimersByTimeAsync(3000); // polls while draining change nothing
    expect(running(t)).toEqual([lights[1], lights[2]]);

    t.executor.runOf(lights[1]!)!.succeed();
    t.executor.runOf(lights[2]!)!.succeed();
    await settle();
    expect(running(t)).toEqual([heavy]);
    expect(t.source.reservation).toBeUndefined();

    t.executor.runOf(heavy)!.succeed();
    await settle();
    expect(running(t)).toEqual(later);
    expect(t.source.peakHeldMilli).toBeLessThanOrEqual(1000);
  });
});
