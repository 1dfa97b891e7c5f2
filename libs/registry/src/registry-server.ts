import type { RegistryConfig } from '@longshore/config';
import { createSecuredServer } from '@longshore/auth';
import { PoolRegistryService, TokenService } from '@longshore/proto';
import { JobLifecycle } from '@longshore/queue';
import { serve, type ServiceHandle } from '@longshore/rpc';
import { AgentStore, checkSchema, createRedis, PoolStore, redactRedisUrl, waitForRedis, warnIfRedisOpen } from '@longshore/store';
import type { Logger } from '@longshore/telemetry';
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
  try {
    await waitForRedis(redis, redactRedisUrl(config.redisUrl));
    await warnIfRedisOpen(redis, logger, config.redisPrefix);
    await checkSchema(redis, config.redisPrefix);
    const pools = new PoolStore(redis, config.redisPrefix);
    await pools.ensureDefault();
    const { server, tokens } = createSecuredServer(config.security, config.listen, redis, config.redisPrefix, logger);
    if (config.security.bootstrapToken) await tokens.putBootstrap(config.security.bootstrapToken);
    server.register(TokenService, tokenService(tokens, logger)).register(
      PoolRegistryService,
      registryService({
        pools,
        agents: new AgentStore(redis, { ttlMs: config.agentTtlMs, forgetAfterMs: config.agentForgetAfterMs }, config.redisPrefix),
        lifecycle: new JobLifecycle(redis, config, config.redisPrefix),
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        agentTtlMs: config.agentTtlMs,
        logger,
      }),
    );
    return await serve(server, config.listen, logger, [() => redis.disconnect()], { redis: redactRedisUrl(config.redisUrl) });
  } catch (err) {
    redis.disconnect();
    throw err;
  }
}
