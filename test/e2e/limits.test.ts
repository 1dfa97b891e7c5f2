import { Code, type LongshoreError } from '@longshore/client';
import { LIMITS, RateLimitedError } from '@longshore/domain';
import { describe, expect, it } from 'vitest';
import { useCluster } from './support.js';

describe('limits at the edge', () => {
  // A small bucket, so the test reaches it quickly: 5 jobs per second, 5 at once.
  const t = useCluster({ agents: 0, env: { LONGSHORE_SUBMIT_RATE: '5/s,burst=5' } });

  const count = async () => (await t.ls.dispatcher.listJobs({ pageSize: LIMITS.pageSize })).jobs.length;

  it('refuses submits past the rate with RESOURCE_EXHAUSTED and a retry-after, storing nothing', async () => {
    await t.ls.dispatcher.submitJobs({ specs: Array.from({ length: 5 }, () => ({ command: ['true'] })) });
    const err = (await t.ls.submit({ command: ['true'] }).catch((e: unknown) => e)) as LongshoreError;
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.message).toMatch(/submit rate limit reached for token ".*": at most 5 jobs per second, 5 at once \(LONGSHORE_SUBMIT_RATE\); nothing was submitted; retry in \d+ms/);
    const retryAfterMs = (err as RateLimitedError).retryAfterMs;
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(1000);
    expect(await count()).toBe(5);
    // A batch counts each of its jobs, and one larger than the burst can never pass.
    const tooBig = (await t.ls.dispatcher.submitJobs({ specs: Array.from({ length: 6 }, () => ({ command: ['true'] })) }).catch((e: unknown) => e)) as LongshoreError;
    expect(tooBig.code).toBe(Code.InvalidArgument);
    expect(tooBig.message).toMatch(/more than the 5 a token may submit at once/);
    await new Promise((r) => setTimeout(r, retryAfterMs + 100));
    await t.ls.submit({ command: ['true'] });
    expect(await count()).toBe(6);
  });

  it('refuses too many label filters and NUL in label values and idempotency keys', async () => {
    const filters = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'v']));
    const e1 = (await t.ls.dispatcher.listJobs({ labels: filters }).catch((e: unknown) => e)) as LongshoreError;
    expect(e1.code).toBe(Code.InvalidArgument);
    expect(e1.message).toBe(`labels: has 10000 label filters; at most ${LIMITS.labelFilters} are allowed per listing`);
    const before = await count();
    for (const spec of [
      { command: ['true'], labels: { team: 'a\u0000b' } },
      { command: ['true'], idempotencyKey: 'key\u0000' },
    ]) {
      const err = (await t.ls.submit(spec).catch((e: unknown) => e)) as LongshoreError;
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.message).toMatch(/^(labels\.team|idempotency_key): contains a control character \(U\+0000/);
    }
    const e2 = (await t.ls.registry.createPool({ id: 'nul', description: 'a\u0000b' }).catch((e: unknown) => e)) as LongshoreError;
    expect(e2.message).toMatch(/^description: contains a control character/);
    expect(await count()).toBe(before);
    expect((await t.ls.registry.listPools({})).pools.map((p) => p.id)).not.toContain('nul');
  });

  it('ends a ListJobs page early, with a page token, before it outgrows a client\'s receive limit', async () => {
    // 20 jobs of ~256 KiB each (env at its limit) are more than LIMITS.responseBytes.
    const env = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`V${i}`, 'x'.repeat(LIMITS.envValueBytes - 64)]));
    for (let sent = 0; sent < 20; ) {
      try {
        await t.ls.dispatcher.submitJobs({ specs: Array.from({ length: 4 }, () => ({ command: ['true'], env, labels: { big: 'yes' } })) });
        sent += 4;
      } catch (err) {
        if (!(err instanceof RateLimitedError)) throw err;
        await new Promise((r) => setTimeout(r, err.retryAfterMs + 50));
      }
    }
    const first = await t.ls.dispatcher.listJobs({ labels: { big: 'yes' }, pageSize: LIMITS.pageSize });
    expect(first.jobs.length).toBeGreaterThan(0);
    expect(first.jobs.length).toBeLessThan(20);
    expect(first.nextPageToken).not.toBe('');
    let total = first.jobs.length;
    for (let token = first.nextPageToken, i = 0; token && i < 10; i++) {
      const page = await t.ls.dispatcher.listJobs({ labels: { big: 'yes' }, pageSize: LIMITS.pageSize, pageToken: token });
      total += page.jobs.length;
      token = page.nextPageToken;
    }
    expect(total).toBe(20);
  });
});
