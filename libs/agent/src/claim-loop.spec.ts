import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { settle, startTestAgent, stopTestAgent, type TestAgent } from './spec-helpers.js';

describe('the claim loop', () => {
  let t: TestAgent | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(async () => {
    await stopTestAgent(t);
    t = undefined;
    vi.useRealTimers();
  });

  it('claims up to its capacity and no further', async () => {
    t = await startTestAgent();
    const ids = [400, 400, 400, 300].map((weightMilli) => t!.source.add({ weightMilli }));
    t.events.announce();
    await settle();
    expect(t.executor.running().map((r) => r.jobId)).toEqual([ids[0], ids[1]]);
    expect(t.source.state(ids[2]!)).toBe('queued');
    expect(t.source.peakHeldMilli).toBeLessThanOrEqual(1000);
  });
});
