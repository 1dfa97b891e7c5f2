import { describe, expect, it } from 'vitest';
import { lazyClient } from './lazy-client.js';
import { FakeClient, makeJob } from './test-helpers.js';

describe('lazyClient', () => {
  it('opens the client on the first call only, once, and forwards unary calls', async () => {
    const fake = new FakeClient();
    fake.jobs.set('j1', makeJob({ id: 'j1' }));
    let opened = 0;
    const client = lazyClient(async () => {
      opened++;
      return fake;
    });
    expect(opened).toBe(0);
    expect((await client.getJob('j1')).id).toBe('j1');
    await client.dispatcher.getJob({ id: 'j1' });
    expect(opened).toBe(1);
    client.close();
    expect(fake.closed).toBe(true);
  });

  it('returns an async iterable at once for a streaming call (logs), as the real client does', async () => {
    const fake = new FakeClient();
    const client = lazyClient(() => Promise.resolve(fake));
    const lines = client.logs('j1');
    expect(typeof lines[Symbol.asyncIterator]).toBe('function');
    expect(lines).not.toBeInstanceOf(Promise);
  });

  it('closes nothing when no call was made, and reports a failure to open from the call', async () => {
    const client = lazyClient(() => Promise.reject(new Error('LONGSHORE_TLS_CA: cannot read it')));
    client.close();
    await expect(client.getJob('j1')).rejects.toThrow('LONGSHORE_TLS_CA');
  });
});
