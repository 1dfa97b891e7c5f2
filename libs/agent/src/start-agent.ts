import type { AgentConfig } from '@longshore/config';
import { PoolRegistryService } from '@longshore/proto';
import { createJobSource, JobLifecycle } from '@longshore/queue';
import { channelCredentials, checkPlaintext, createRpcClient } from '@longshore/rpc';
import { checkSchema, connectedNodes, createRedis, EventHub, PoolStore, redactRedisUrl, waitForRedis, warnIfRedisOpen } from '@longshore/store';
import { createSecretResolver } from '@longshore/secrets';
import type { Logger } from '@longshore/telemetry';
import { createAgent, type AgentHandle } from './agent.js';
import { redisAgentEvents } from './agent-events.js';
import { checkExecutorsBuildable, createEnabledExecutors } from './enabled-executors.js';
import type { ExecutorSet } from './executors.js';
import { setupJobIsolation, type JobIsolation } from './isolation.js';
import { grpcRegistryClient } from './registry-client.js';

export interface AgentOverrides {
  executors?: ExecutorSet;
  /** How long to keep trying to register at start. */
  registerTimeoutMs?: number;
}

/**
 * Starts a worker agent in production: reaches Redis, resolves its pool, registers with the
 * registry (both required at start), then claims jobs its capacity and lanes admit and runs
 * them. This only wires the real parts (Redis connections, the Redis job source and wake-ups,
 * the registry's gRPC client, executors, job isolation); the agent itself is {@link createAgent}.
 */
export async function startAgent(config: AgentConfig, logger: Logger, overrides: AgentOverrides = {}): Promise<AgentHandle> {
  if (!overrides.executors) checkExecutorsBuildable(config);
  // Not auto-pipelined: measured slower here (ioredis' per-tick pipelines cost more than they save).
  const redis = createRedis(config.redisUrl, 'worker');
  const sub = createRedis(config.redisUrl, 'subscriber');
  for (const c of [redis, sub]) c.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  checkPlaintext(config.registry, config.client.tls !== undefined, config.client.insecurePlaintext, 'connect', logger);
  if (!config.client.token) logger.warn('no token (LONGSHORE_TOKEN): the registry will refuse this agent unless it runs with LONGSHORE_AUTH=off; create one with longshore tokens create --role agent --pool POOL');
  const registry = createRpcClient(PoolRegistryService, config.registry, { ...(config.client.token ? { token: config.client.token } : {}), credentials: channelCredentials(config.client.tls) });
  const cleanup = () => {
    registry.close();
    redis.disconnect();
    sub.disconnect();
  };
  let isolation: JobIsolation | undefined;
  try {
    await waitForRedis(redis, redactRedisUrl(config.redisUrl));
    await warnIfRedisOpen(redis, logger, config.redisPrefix);
    await checkSchema(redis, config.redisPrefix);
    const pool = (await new PoolStore(redis, config.redisPrefix).resolve(config.pool)).id;
    const agentLogger = logger.child({ agent: config.agentId, pool });
    const iso = (isolation = await setupJobIsolation(config, agentLogger, { redisNodes: connectedNodes(redis) }));
    // The resolved pool (LONGSHORE_POOL may be empty: the default pool): its containers are labelled with it.
    const executors = overrides.executors ?? (await createEnabledExecutors({ ...config, pool }, agentLogger, iso));
    const lifecycle = new JobLifecycle(redis, config, config.redisPrefix);
    // Names and paths only: where jobs' secrets come from, never a value.
    agentLogger.info({ providers: config.secrets.providers, dir: config.secrets.dir, envPrefix: config.secrets.envPrefix }, 'secret providers');
    return await createAgent({
      settings: config,
      pool,
      logger: agentLogger,
      openSource: (hooks) =>
        createJobSource({
          lifecycle,
          pool,
          agentId: config.agentId,
          lockMs: config.leaseMs,
          stalledIntervalMs: config.stalledCheckMs,
          adoptWindowMs: config.adoptWindowMs,
          reserveAfterMs: config.reserveAfterMs,
          onLockLost: hooks.onLockLost,
          onError: hooks.onError,
        }),
      registry: grpcRegistryClient(registry),
      events: redisAgentEvents(new EventHub(sub), config.redisPrefix, pool),
      executors,
      secrets: createSecretResolver(config.secrets),
      isolation: iso.info,
      staleRunCheckMs: config.stalledCheckMs,
      ...(executors.docker ? { dockerAllow: config.dockerAllow.text } : {}),
      registerTimeoutMs: overrides.registerTimeoutMs ?? 60_000,
      onStopped: async () => {
        redis.disconnect();
        await iso.close();
      },
    });
  } catch (err) {
    cleanup();
    await isolation?.close();
    throw err;
  }
}
