import { hostname } from 'node:os';
import { join } from 'node:path';
import { startAgent, type AgentHandle } from '@longshore/agent';
import { credentialsPath, loadAgentConfig, loadDispatcherConfig, loadRegistryConfig, longshoreHome } from '@longshore/config';
import { startDispatcher, type DispatcherHandle } from '@longshore/dispatcher';
import { startRegistry, type RegistryHandle } from '@longshore/registry';
import { startMetrics, type Logger } from '@longshore/telemetry';
import { ensureLocalAdminToken } from './local-credentials.js';
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
  /** The one Prometheus endpoint of the whole cluster (LONGSHORE_METRICS_ADDR, default 127.0.0.1:9464). */
  readonly metricsUrl: string | undefined;
  /** The admin token (`$LONGSHORE_HOME/credentials`, or LONGSHORE_BOOTSTRAP_TOKEN when set). */
  readonly adminToken: string;
  close(): Promise<void>;
}

/**
 * Brings up a local cluster for `longshore up`: reuses the Redis at LONGSHORE_REDIS_URL or
 * starts one on its port; without LONGSHORE_REDIS_URL, its own password-protected Redis whose
 * URL is kept in `$LONGSHORE_HOME/redis-url` (see {@link ensureRedis}); then the registry
 * (which creates the `default` pool), the dispatcher on LONGSHORE_DISPATCHER, and `agents`
 * agents serving LONGSHORE_POOL (the default pool). Every service runs in this process, so one
 * meter provider and one Prometheus endpoint serve them all: at LONGSHORE_METRICS_ADDR, or
 * {@link LOCAL_METRICS_ADDR} when it is unset.
 */
/** Where `longshore up` serves the cluster's metrics unless LONGSHORE_METRICS_ADDR says otherwise. */
export const LOCAL_METRICS_ADDR = '127.0.0.1:9464';

export async function startLocalCluster(opts: LocalClusterOptions): Promise<LocalCluster> {
  const home = longshoreHome(opts.env);
  const regConfig = loadRegistryConfig(opts.env);
  const opened: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    for (const p of [...opened].reverse()) await p.close().catch((err: unknown) => opts.logger.error({ err }, 'error while stopping'));
  };
  try {
    const metrics = await startMetrics({ serviceName: 'longshore-up', address: regConfig.metricsAddr ?? LOCAL_METRICS_ADDR, env: opts.env, logger: opts.logger, unsetMeansNone: false });
    opened.push({ close: () => metrics.shutdown() });
    if (metrics.url) opts.say(`metrics    ${metrics.url}`);
    const dataDir = opts.dataDir ?? join(home, 'redis');
    // Only an explicit LONGSHORE_REDIS_URL names the Redis; else `up` runs its own (the URL file's).
    // Its own Redis must not take the port the registry or dispatcher is about to bind.
    const avoidPorts = [regConfig.listen, loadDispatcherConfig(opts.env).listen].map((a) => Number(a.slice(a.lastIndexOf(':') + 1))).filter((p) => p > 0);
    const redis: LocalRedis = await ensureRedis({ ...(opts.env['LONGSHORE_REDIS_URL'] ? { url: regConfig.redisUrl } : {}), home, dataDir, avoidPorts });
    opened.push({ close: () => redis.stop() });
    const where = redis.urlFile ? `its URL and password in ${redis.urlFile}, data in ${dataDir}` : `data in ${dataDir}`;
    opts.say(redis.started ? `redis      started redis-server at ${redis.displayUrl} (${where})` : `redis      using ${redis.displayUrl}`);
    if (!redis.password) opts.say('redis      warning: this Redis needs no password, so any job can read and rewrite every job (README: "Securing Redis")');
    // The admin token: the user's own bootstrap token, else the local one the CLI finds by itself.
    let adminToken = opts.env['LONGSHORE_BOOTSTRAP_TOKEN'];
    if (!adminToken) {
      const local = await ensureLocalAdminToken(credentialsPath(opts.env));
      adminToken = local.token;
      opts.say(`auth       ${local.created ? 'created an admin token in' : 'admin token from'} ${credentialsPath(opts.env)} (the CLI uses it; longshore tokens create makes others)`);
    }
    const env = { ...opts.env, LONGSHORE_REDIS_URL: redis.url, LONGSHORE_BOOTSTRAP_TOKEN: adminToken };
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
      // In-process agents use the admin token unless given their own (LONGSHORE_TOKEN).
      const agentEnv = { ...env, LONGSHORE_REGISTRY: registry.address, LONGSHORE_AGENT_ID: id, LONGSHORE_TOKEN: opts.env['LONGSHORE_TOKEN'] || adminToken };
      const agent = await startAgent(loadAgentConfig(agentEnv), opts.logger.child({ service: 'worker-agent' }));
      opened.push(agent);
      agents.push(agent);
      opts.say(`agent      ${agent.id} serving pool "${agent.pool}"`);
    }
    return { redisUrl: redis.url, dispatcher: dispatcher.address, registry: registry.address, agentIds: agents.map((a) => a.id), metricsUrl: metrics.url, adminToken, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
