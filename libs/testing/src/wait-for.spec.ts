import { afterEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from './wait-for.js';

/** Tracks whether a promise has settled yet (and keeps its rejection handled). */
function track(p: Promise<unknown>): { settled: () => boolean } {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  return { settled: () => done };
}

describe('waitFor', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves with the first truthy value', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? `done after ${calls}` : false), { intervalMs: 5 });
    expect(value).toBe('done after 3');
  });

  it('treats throws as not yet', async () => {
    let calls = 0;
    const value = await waitFor(
      async () => {
        if (++calls < 3) throw new Error('refused');
        return calls;
      },
      { intervalMs: 5 },
    );
    expect(value).toBe(3);
  });

  it('times out at its deadline with a message naming what it waited for', async () => {
    // On a fake clock, so "at its deadline" is exact whatever the machine's load.
    vi.useFakeTimers();
    const p = waitFor(() => undefined, { timeoutMs: 200, intervalMs: 20, what: 'the moon' });
    const t = track(p);
    await vi.advanceTimersByTimeAsync(199);
    expect(t.settled()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.settled()).toBe(true);
    await expect(p).rejects.toThrow('timed out after 200ms waiting for the moon');
  });

  it('keeps the last error as the cause', async () => {
    const err = await waitFor(
      () => {
        throw new Error('ECONNREFUSED');
      },
      { timeoutMs: 100, intervalMs: 10 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/timed out after 100ms waiting for condition.*ECONNREFUSED/);
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it('does not wait past the deadline for a call that hangs', async () => {
    vi.useFakeTimers();
    const p = waitFor(() => new Promise<boolean>(() => {}), { timeoutMs: 150, what: 'a hung call' });
    const t = track(p);
    await vi.advanceTimersByTimeAsync(149);
    expect(t.settled()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.settled()).toBe(true);
    await expect(p).rejects.toThrow('timed out after 150ms waiting for a hung call');
  });
});
