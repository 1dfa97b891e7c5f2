import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenRole, TokenService } from '@longshore/proto';
import { loadClientSecurity } from '@longshore/config';
import { sweepDeadJobFirewalls } from '@longshore/executors';
import { channelCredentials, createRpcClient } from '@longshore/rpc';
import type { ProcessHandle } from './process-handle.js';
import { startRedis, type RedisHandle, type RedisOptions } from './redis-server.js';
import { startService } from './services.js';

/** Options for {@link startCluster}. */
export interface ClusterOptions {
  /** Agents to start: a count, or one env per agent (LONGSHORE_AGENT_ID defaults to agent-N). */
  agents?: number | NodeJS.ProcessEnv[];
  /** Given to every service (e.g. LONGSHORE_JOB_RETENTION_COUNT). */
  env?: NodeJS.ProcessEnv;
  /** Given to the registry only, over `env` (e.g. its own LONGSHORE_METRICS_ADDR). */
  registryEnv?: NodeJS.ProcessEnv;
  redis?: RedisOptions;
  /**
   * Use this Redis instead of starting one (e.g. a Redis Cluster or Sentinel set-up the test
   * started: `redis-cluster://…`, `redis-sentinel://…`). `cluster.redis` then only carries the
   * URL: stopping, killing or restarting that Redis is the caller's business.
   */
  redisUrl?: string;
  /** Runs once the registry and dispatcher are up, before any agent starts (e.g. to create their pool). */
  beforeAgents?: (clientEnv: Record<string, string>) => Promise<void>;
}

/** A running local cluster of real processes. */
export interface Cluster {
  readonly redis: RedisHandle;
  readonly registry: ProcessHandle;
  readonly dispatcher: ProcessHandle;
  /** Every agent started, including those added later with {@link startAgent}. */
  readonly agents: ProcessHandle[];
  /**
   * What a client needs: LONGSHORE_DISPATCHER, LONGSHORE_REGISTRY, LONGSHORE_REDIS_URL, and
   * LONGSHORE_TOKEN, the cluster's bootstrap admin token (auth is on, as in production).
   */
  readonly clientEnv: Record<string, string>;
  /** Creates a token on this cluster (as its admin) and returns its secret. */
  createToken(role: 'admin' | 'submitter' | 'reader' | 'agent', name: string, pools?: string[]): Promise<string>;
  /** Starts one more agent and waits until it is claiming. */
  startAgent(env?: NodeJS.ProcessEnv): Promise<ProcessHandle>;
  /** Stops every process (agents first), then Redis, and removes Redis' directory. */
  stop(): Promise<void>;
}

/** Fast heartbeats and short grace periods, so tests see state changes quickly. */
const TEST_ENV: NodeJS.ProcessEnv = {
  LONGSHORE_HEARTBEAT_INTERVAL: '500ms',
  LONGSHORE_AGENT_TTL: '2s',
  LONGSHORE_KILL_GRACE: '1s',
  LONGSHORE_SHUTDOWN_GRACE: '2s',
  LONGSHORE_LOG_LEVEL: 'info',
};

/**
 * How long a service may take to come up: a sanity bound, not a latency check. On a loaded
 * 2-core machine start-up alone can take tens of seconds (more when run from sources through tsx).
 */
const STARTUP_TIMEOUT_MS = 90_000;

async function listening(p: ProcessHandle): Promise<string> {
  const log = await p.waitForLog((l) => l['msg'] === 'Listening', STARTUP_TIMEOUT_MS);
  return String(log['address']);
}

/**
 * Starts a private redis-server, the pool registry and the dispatcher on free loopback ports,
 * and the agents, each a real process; resolves once every agent logged that it is starting
 * to claim. Always `stop()` it (e.g. in afterAll).
 */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const redis = opts.redisUrl === undefined ? await startRedis(opts.redis) : externalRedis(opts.redisUrl);
  const started: ProcessHandle[] = [];
  // Auth is on, as in production: the registry stores this admin token at start.
  const adminToken = opts.env?.['LONGSHORE_BOOTSTRAP_TOKEN'] ?? randomBytes(32).toString('base64url');
  // A job directory of the cluster's own: agents of the same id in clusters side by side (test
  // runs of other checkouts) must not take each other's runs for leftovers of theirs and sweep them.
  const jobDir = opts.env?.['LONGSHORE_JOB_DIR'] === undefined ? await mkdtemp(join(tmpdir(), 'longshore-cluster-jobs-')) : undefined;
  const base: NodeJS.ProcessEnv = {
    ...TEST_ENV,
    LONGSHORE_TOKEN: undefined,
    LONGSHORE_BOOTSTRAP_TOKEN: undefined,
    ...(jobDir === undefined ? {} : { LONGSHORE_JOB_DIR: jobDir }),
    ...opts.env,
    LONGSHORE_REDIS_URL: redis.url,
  };
  const stopAll = async () => {
    for (const p of [...started].reverse()) await p.stop(10_000).catch(() => undefined);
    await redis.stop();
    if (redis.dir !== '') await rm(redis.dir, { recursive: true, force: true });
    if (jobDir !== undefined) await rm(jobDir, { recursive: true, force: true, maxRetries: 3 });
    // Agents killed outright leave their job firewall chains behind: remove those of dead agents.
    await sweepDeadJobFirewalls().catch(() => undefined);
  };
  try {
    const registry = startService('pool-registry', { ...base, ...opts.registryEnv, LONGSHORE_BOOTSTRAP_TOKEN: adminToken, LONGSHORE_REGISTRY: '127.0.0.1:0' }, 'registry');
    started.push(registry);
    const registryAddress = await listening(registry);
    const dispatcher = startService('dispatcher', { ...base, LONGSHORE_DISPATCHER: '127.0.0.1:0' });
    started.push(dispatcher);
    const dispatcherAddress = await listening(dispatcher);
    const clientEnv = { LONGSHORE_DISPATCHER: dispatcherAddress, LONGSHORE_REGISTRY: registryAddress, LONGSHORE_REDIS_URL: redis.url, LONGSHORE_TOKEN: adminToken };
    const createToken = async (role: 'admin' | 'submitter' | 'reader' | 'agent', name: string, pools: string[] = []): Promise<string> => {
      // With TLS in opts.env (LONGSHORE_TLS_CA, client certificates), the harness connects as any client would.
      const client = createRpcClient(TokenService, registryAddress, { token: adminToken, credentials: channelCredentials(loadClientSecurity({ ...opts.env, LONGSHORE_HOME: '/nonexistent' }).tls) });
      try {
        const roles = { admin: TokenRole.ADMIN, submitter: TokenRole.SUBMITTER, reader: TokenRole.READER, agent: TokenRole.AGENT };
        return (await client.rpc.createToken({ role: roles[role], name, pools })).secret;
      } finally {
        client.close();
      }
    };
    // One agent token per pool, as a deployment would have.
    const agentTokens = new Map<string, Promise<string>>();
    const agentToken = (pool: string): Promise<string> => {
      let t = agentTokens.get(pool);
      if (!t) {
        t = createToken('agent', `agents of ${pool}`, [pool]);
        agentTokens.set(pool, t);
      }
      return t;
    };
    let n = 0;
    const agents: ProcessHandle[] = [];
    const startAgent = async (env: NodeJS.ProcessEnv = {}) => {
      n++;
      const id = env['LONGSHORE_AGENT_ID'] ?? `agent-${n}`;
      const token = env['LONGSHORE_TOKEN'] ?? (await agentToken(env['LONGSHORE_POOL'] || base['LONGSHORE_POOL'] || 'default'));
      const agent = startService('worker-agent', { ...base, LONGSHORE_REGISTRY: registryAddress, LONGSHORE_DISPATCHER: dispatcherAddress, LONGSHORE_AGENT_ID: id, LONGSHORE_TOKEN: token, ...env }, id);
      started.push(agent);
      agents.push(agent);
      await agent.waitForLog((l) => l['msg'] === 'Starting longshore worker agent', STARTUP_TIMEOUT_MS);
      return agent;
    };
    await opts.beforeAgents?.(clientEnv);
    const specs = typeof opts.agents === 'number' || opts.agents === undefined ? Array.from({ length: opts.agents ?? 1 }, () => ({})) : opts.agents;
    for (const env of specs) await startAgent(env);
    return { redis, registry, dispatcher, agents, clientEnv, createToken, startAgent, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** A Redis the caller started and owns, as {@link Cluster.redis}: only its URL is known here. */
function externalRedis(url: string): RedisHandle {
  const notOurs = (what: string) => () => Promise.reject(new Error(`cannot ${what} a Redis startCluster did not start (redisUrl): do it through its own handle`));
  return { port: 0, url, password: undefined, dir: '', pid: 0, stop: () => Promise.resolve(), kill: notOurs('kill'), restart: notOurs('restart') };
}
