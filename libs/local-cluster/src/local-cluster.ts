import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { startAgent, type AgentHandle } from '@longshore/agent';
import { loadAgentConfig, loadDispatcherConfig, loadRegistryConfig } from '@longshore/config';
import { startDispatcher, type DispatcherHandle } from '@longshore/dispatcher';
import { startRegistry, type RegistryHandle } from '@longshore/registry';
import type { Logger } from '@longshore/telemetry';
import { ensureRedis, type LocalRedis } from './local-redis.js';

export interface LocalClusterOptions {
  agents: number;
  env: NodeJS.ProcessEnv;
  /** Where a Redis started here keeps its data; default `$LONGSHORE_HOME/redis` (`~/.longshore`). */
  dataDir?: string;
  logger: Logger;
  /** Progress lines for people. */
  say(line: string): void;
}

/** The whole cluster in one process: Redis (if it had to be started), registry, dispatcher, agents. */
export interface LocalCluster {
  readonly redisUrl: string;
  readonly dispatcher: string;
  readonly registry: string;
  readonly agentIds: string[];
  close(): Promise<void>;
}

/**
 * Brings up a local cluster for `longshore up`: reuses the Redis at LONGSHORE_REDIS_URL or
 * starts one, then the registry (which creates the `default` pool), the dispatcher on
 * LONGSHORE_DISPATCHER, and `agents` agents serving LONGSHORE_POOL (the default pool).
 */
export async function startLocalCluster(opts: LocalClusterOptions): Promise<LocalCluster> {
  const home = opts.env['LONGSHORE_HOME'] ?? join(homedir(), '.longshore');
  const regConfig = loadRegistryConfig(opts.env);
  const opened: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    for (const p of [...opened].reverse()) await p.close().catch((err: unknown) => opts.logger.error({ err }, 'error while stopping'));
  };
  try {
    const redis: LocalRedis = await ensureRedis(regConfig.redisUrl, opts.dataDir ?? join(home, 'redis'));
    opened.push({ close: () => redis.stop() });
    opts.say(redis.started ? `redis      started redis-server at ${redis.url} (data in ${opts.dataDir ?? join(home, 'redis')})` : `redis      using ${redis.url}`);
    const env = { ...opts.env, LONGSHORE_REDIS_URL: redis.url };
    const registry: RegistryHandle = await startRegistry(loadRegistryConfig(env), opts.logger.child({ service: 'pool-registry' }));
    opened.push(registry);
    opts.say(`registry   listening on ${registry.address}`);
    const dispatcher: DispatcherHandle = await startDispatcher(loadDispatcherConfig(env), opts.logger.child({ service: 'dispatcher' }));
    opened.push(dispatcher);
    opts.say(`dispatcher listening on ${dispatcher.address}`);
    const agents: AgentHandle[] = [];
    const base = opts.env['LONGSHORE_AGENT_ID'] ?? `${hostname().replace(/[^A-Za-z0-9._-]/g, '-')}-local`;
    for (let i = 1; i <= opts.agents; i++) {
      const id = opts.agents === 1 ? base : `${base}-${i}`;
      const agent = await startAgent(loadAgentConfig({ ...env, LONGSHORE_REGISTRY: registry.address, LONGSHORE_AGENT_ID: id }), opts.logger.child({ service: 'worker-agent' }));
      opened.push(agent);
      agents.push(agent);
      opts.say(`agent      ${agent.id} serving pool "${agent.pool}"`);
    }
    return { redisUrl: redis.url, dispatcher: dispatcher.address, registry: registry.address, agentIds: agents.map((a) => a.id), close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
