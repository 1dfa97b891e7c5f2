import { describe, expect, it } from 'vitest';
import { waitFor } from './wait-for.js';

describe('waitFor', () => {
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

  it('times out with a message naming what it waited for', async () => {
    const started = Date.now();
    await expect(waitFor(() => undefined, { timeoutMs: 200, intervalMs: 20, what: 'the moon' })).rejects.toThrow(
      'timed out after 200ms waiting for the moon',
    );
    expect(Date.now() - started).toBeLessThan(2_000);
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
    const started = Date.now();
    await expect(
      waitFor(() => new Promise<boolean>(() => {}), { timeoutMs: 150, what: 'a hung call' }),
    ).rejects.toThrow('timed out after 150ms waiting for a hung call');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
