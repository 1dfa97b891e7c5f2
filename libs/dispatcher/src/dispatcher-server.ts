import type { DispatcherConfig } from '@longshore/config';
import { createSecuredServer } from '@longshore/auth';
import { DispatcherService } from '@longshore/proto';
import { JobLifecycle, RedisBudget } from '@longshore/queue';
import { serve, type ServiceHandle } from '@longshore/rpc';
import { AgentStore, checkSchema, createRedis, EventHub, JobStore, PoolStore, redactRedisUrl, waitForRedis, warnIfRedisOpen, Keys } from '@longshore/store';
import type { Logger } from '@longshore/telemetry';
import { dispatcherService } from './dispatcher-service.js';
import { SubmitRateLimiter } from './submit-rate-limit.js';

/** A running dispatcher. */
export type DispatcherHandle = ServiceHandle;

/** Idempotency keys map to their job for this long. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

/** Starts the dispatcher: connects to Redis (fails if unreachable) and serves DispatcherService and health. */
export async function startDispatcher(config: DispatcherConfig, logger: Logger): Promise<DispatcherHandle> {
  const redis = createRedis(config.redisUrl, 'request');
  const sub = createRedis(config.redisUrl, 'subscriber');
  for (const c of [redis, sub]) c.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  try {
    await waitForRedis(redis, redactRedisUrl(config.redisUrl));
    await warnIfRedisOpen(redis, logger, config.redisPrefix);
    await checkSchema(redis, config.redisPrefix);
    const lifecycle = new JobLifecycle(redis, config, config.redisPrefix);
    const pools = new PoolStore(redis, config.redisPrefix);
    const events = new EventHub(sub);
    // Read only: forgetting agents lost for long is the registry's job.
    const agents = new AgentStore(redis, { ttlMs: config.agentTtlMs, forgetAfterMs: Number.POSITIVE_INFINITY }, config.redisPrefix);
    const { server } = createSecuredServer(config.security, config.listen, redis, config.redisPrefix, logger);
    server.register(
      DispatcherService,
      dispatcherService({
        redis,
        jobs: new JobStore(redis, config.redisPrefix),
        pools,
        lifecycle,
        budget: new RedisBudget(redis, lifecycle, async () => (await pools.list()).map((p) => p.id), config.redisBudgetBytes),
        events,
        idempotencyWindowMs: IDEMPOTENCY_WINDOW_MS,
        logger,
        agents: (pool) => agents.list(pool),
        ...(config.submitRate ? { submitRate: new SubmitRateLimiter(redis, new Keys(config.redisPrefix), config.submitRate) } : {}),
      }),
    );
    return await serve(server, config.listen, logger, [() => events.close(), () => redis.disconnect()], { redis: redactRedisUrl(config.redisUrl) });
  } catch (err) {
    redis.disconnect();
    sub.disconnect();
    throw err;
  }
}
