import type { RegistryConfig } from '@longshore/config';
import { createSecuredServer } from '@longshore/auth';
import { PoolRegistryService, TokenService } from '@longshore/proto';
import { JobLifecycle, RedisBudget } from '@longshore/queue';
import { serve, type ServiceHandle } from '@longshore/rpc';
import { AgentStore, checkSchema, createRedis, PoolStore, redactRedisUrl, waitForRedis, warnIfRedisOpen } from '@longshore/store';
import { longshoreMeter, type Logger } from '@longshore/telemetry';
import { registerPoolMetrics } from './pool-metrics.js';
import { registryService } from './registry-service.js';
import { tokenService } from './token-service.js';

/** A running pool registry. */
export type RegistryHandle = ServiceHandle;

/**
 * Starts the pool registry: connects to Redis (fails if unreachable), makes sure the default
 * pool exists, stores the bootstrap token if one is configured, serves PoolRegistryService,
 * TokenService and gRPC health on `config.listen`.
 */
export async function startRegistry(config: RegistryConfig, logger: Logger): Promise<RegistryHandle> {
  const redis = createRedis(config.redisUrl, 'request');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  let stopPoolMetrics: (() => void) | undefined;
  try {
    await waitForRedis(redis, redactRedisUrl(config.redisUrl));
    await warnIfRedisOpen(redis, logger, config.redisPrefix);
    await checkSchema(redis, config.redisPrefix);
    const pools = new PoolStore(redis, config.redisPrefix);
    await pools.ensureDefault();
    const lifecycle = new JobLifecycle(redis, config, config.redisPrefix);
    const budget = new RedisBudget(redis, lifecycle, async () => (await pools.list()).map((p) => p.id), config.redisBudgetBytes);
    const stopBudget = watchBudget(budget, logger);
    const { server, tokens } = createSecuredServer(config.security, config.listen, redis, config.redisPrefix, logger);
    if (config.security.bootstrapToken) await tokens.putBootstrap(config.security.bootstrapToken);
    const agents = new AgentStore(redis, { ttlMs: config.agentTtlMs, forgetAfterMs: config.agentForgetAfterMs }, config.redisPrefix);
    server.register(TokenService, tokenService(tokens, logger)).register(
      PoolRegistryService,
      registryService({
        pools,
        agents,
        lifecycle,
        budget,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        agentTtlMs: config.agentTtlMs,
        logger,
      }),
    );
    stopPoolMetrics = registerPoolMetrics(longshoreMeter(), {
      listPools: async () => (await pools.list()).map((p) => p.id),
      listAgents: () => agents.list(),
      lifecycle,
      logger,
    });
    return await serve(server, config.listen, logger, [stopBudget, stopPoolMetrics, () => redis.disconnect()], { redis: redactRedisUrl(config.redisUrl) });
  } catch (err) {
    stopPoolMetrics?.();
    redis.disconnect();
    throw err;
  }
}

/** How often the registry brings Redis back under LONGSHORE_REDIS_BUDGET. */
const BUDGET_CHECK_MS = 5000;

/** Enforces the Redis budget every few seconds; says when it trimmed, and when only live data is left. */
function watchBudget(budget: RedisBudget, logger: Logger): () => void {
  let exhausted = false;
  const check = () =>
    budget.enforce().then(
      (s) => {
        if (s.trimmed > 0) logger.info({ trimmed: s.trimmed, usedBytes: s.usedBytes, budgetBytes: s.budgetBytes }, 'deleted the oldest finished jobs to stay under LONGSHORE_REDIS_BUDGET');
        if (s.exhausted !== exhausted) {
          exhausted = s.exhausted;
          if (exhausted) logger.warn({ usedBytes: s.usedBytes, budgetBytes: s.budgetBytes }, 'Redis is over LONGSHORE_REDIS_BUDGET with live data alone: submits are refused until jobs finish or the budget is raised');
          else logger.info('Redis is back under LONGSHORE_REDIS_BUDGET');
        }
      },
      (err: unknown) => logger.warn({ err: (err as Error).message }, 'could not check the Redis budget'),
    );
  void check();
  const timer = setInterval(() => void check(), BUDGET_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
