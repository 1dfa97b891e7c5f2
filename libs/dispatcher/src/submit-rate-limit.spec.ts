import { Code, RateLimitedError, type Principal } from '@longshore/domain';
import { createRedis, Keys, type Redis } from '@longshore/store';
import { startRedis, type RedisHandle } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubmitRateLimiter } from './submit-rate-limit.js';

const alice: Principal = { tokenId: 'tok-alice', name: 'alice', role: 'submitter', pools: [] };
const bob: Principal = { tokenId: 'tok-bob', name: 'bob', role: 'submitter', pools: [] };
const agent: Principal = { tokenId: 'tok-agent', name: 'agent-1', role: 'agent', pools: ['default'] };

async function refusal(p: Promise<unknown>): Promise<RateLimitedError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RateLimitedError);
  return err as RateLimitedError;
}

describe('SubmitRateLimiter on a real Redis', () => {
  let server: RedisHandle;
  let redis: Redis;
  let redis2: Redis;
  const keys = new Keys('rl');
  beforeAll(async () => {
    server = await startRedis();
    redis = createRedis(server.url, 'worker');
    redis2 = createRedis(server.url, 'worker');
  });
  afterAll(async () => {
    redis.disconnect();
    redis2.disconnect();
    await server.stop();
  });

  it('counts jobs, shares the bucket across replicas, and says when to retry', async () => {
    // Two limiters on two connections stand for two dispatcher replicas.
    const a = new SubmitRateLimiter(redis, keys, { jobs: 10, periodMs: 1000, burst: 20 });
    const b = new SubmitRateLimiter(redis2, keys, { jobs: 10, periodMs: 1000, burst: 20 });
    await a.take(alice, 15);
    await b.take(alice, 4);
    const err = await refusal(b.take(alice, 5));
    expect(err.code).toBe(Code.ResourceExhausted);
    // 1 token left, 4 missing at 10/s: about 400 ms.
    expect(err.retryAfterMs).toBeGreaterThan(200);
    expect(err.retryAfterMs).toBeLessThanOrEqual(400);
    expect(err.message).toMatch(/submit rate limit reached for token "alice": at most 10 jobs per second, 20 at once \(LONGSHORE_SUBMIT_RATE\); nothing was submitted; retry in \d+ms/);
    // Another token has its own bucket.
    await a.take(bob, 20);
    // The bucket refills with time.
    await new Promise((r) => setTimeout(r, err.retryAfterMs + 50));
    await a.take(alice, 5);
    // The key expires once the bucket is full again.
    const ttl = await redis.pttl(keys.submitRate(alice.tokenId));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3000);
  });

  it('exempts agents and refuses a batch larger than the burst outright', async () => {
    const l = new SubmitRateLimiter(redis, keys, { jobs: 1, periodMs: 60_000, burst: 5 });
    for (let i = 0; i < 10; i++) await l.take(agent, 5);
    expect(await redis.exists(keys.submitRate(agent.tokenId))).toBe(0);
    const err = await l.take({ ...alice, tokenId: 'tok-big' }, 6).catch((e: unknown) => e);
    expect((err as { code: Code }).code).toBe(Code.InvalidArgument);
    expect((err as Error).message).toMatch(/specs: has 6 jobs, more than the 5 a token may submit at once/);
  });
});
