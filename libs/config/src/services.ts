import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_EXECUTORS, type AgentExecutorName, type DockerAllow } from '@longshore/domain';
import { z } from 'zod';
import { loadEcsConfig, type EcsConfig } from './ecs.js';
import { DEFAULT_EXECUTORS, DEFAULT_EXECUTORS_IF_HEALTHY, executorListField } from './executors.js';
import { ConfigError, env, parseEnv } from './parse-env.js';
import { DEFAULT_JOB_UIDS, jobFirewallSchema, jobUidsSchema, type JobFirewallSetting, type JobUidsSetting } from './job-isolation.js';
import { submitRateField, type SubmitRate } from './rate.js';
import { chooseRedisUrl } from './redis-url.js';
import { loadSecretsConfig, type SecretsConfig } from './secrets.js';
import { loadClientSecurity, loadServerSecurity, type ClientSecurity, type ServerSecurity } from './security.js';

/** Defaults, as a user would write them; the README's environment table mirrors these. */
export const DEFAULTS = {
  LONGSHORE_REDIS_URL: 'redis://127.0.0.1:6379',
  LONGSHORE_REDIS_PREFIX: 'ls',
  LONGSHORE_DISPATCHER: '127.0.0.1:7400',
  LONGSHORE_REGISTRY: '127.0.0.1:7401',
  LONGSHORE_HEARTBEAT_INTERVAL: '2s',
  LONGSHORE_AGENT_TTL: '6s',
  LONGSHORE_AGENT_FORGET_AFTER: '1h',
  LONGSHORE_JOB_RETENTION: '7d',
  LONGSHORE_JOB_RETENTION_COUNT: '10000',
  LONGSHORE_REDIS_BUDGET: '1Gi',
  LONGSHORE_LOG_MAX_BYTES: '1Mi',
  LONGSHORE_CAPACITY: '1',
  LONGSHORE_LANES: '',
  LONGSHORE_EXECUTORS: DEFAULT_EXECUTORS,
  LONGSHORE_DEFAULT_EXECUTOR: 'subprocess',
  LONGSHORE_JOB_TIMEOUT: '24h',
  LONGSHORE_KILL_GRACE: '10s',
  LONGSHORE_START_TIMEOUT: '30m',
  LONGSHORE_LEASE: '4s',
  LONGSHORE_STALLED_CHECK: '2s',
  LONGSHORE_ADOPT_WINDOW: '60s',
  LONGSHORE_SHUTDOWN_GRACE: '30s',
  LONGSHORE_RESERVE_AFTER: '10s',
  LONGSHORE_CLAIM_POLL: '500ms',
  LONGSHORE_MEMORY_LIMITER: 'auto',
  LONGSHORE_JOB_UIDS: DEFAULT_JOB_UIDS,
  LONGSHORE_JOB_FIREWALL: 'auto',
  LONGSHORE_DOCKER_IMAGE_CACHE: '10Gi',
  LONGSHORE_DOCKER_ALLOW: '',
  LONGSHORE_SUBMIT_RATE: '200/s',
  LONGSHORE_REDIS_WAIT_REPLICAS: '0',
  LONGSHORE_REDIS_WAIT_TIMEOUT: '1s',
} as const;

const common = {
  LONGSHORE_REDIS_URL: env.redisUrl(),
  LONGSHORE_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, _ or -'),
  LONGSHORE_REDIS_WAIT_REPLICAS: env.int(0, 100),
  LONGSHORE_REDIS_WAIT_TIMEOUT: env.duration().pipe(z.number().min(1, 'must be at least 1ms')),
  LONGSHORE_METRICS_ADDR: metricsAddrField(),
};

/** LONGSHORE_METRICS_ADDR: HOST:PORT (port 0-65535), or unset/empty for no metrics endpoint. */
export function metricsAddrField() {
  return env
    .address()
    .refine((a) => Number(a.slice(a.lastIndexOf(':') + 1)) <= 65535, 'the port must be at most 65535')
    .optional();
}
/**
 * `source` with LONGSHORE_REDIS_URL chosen by precedence: the variable > `$LONGSHORE_HOME/redis-url`
 * (written by `longshore up`) > the default.
 */
function withRedisUrl(source: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...source, LONGSHORE_REDIS_URL: chooseRedisUrl(source, DEFAULTS.LONGSHORE_REDIS_URL).url };
}

const retention = {
  LONGSHORE_JOB_RETENTION: env.duration(),
  LONGSHORE_JOB_RETENTION_COUNT: env.int(1, 10_000_000),
};
const budget = { LONGSHORE_REDIS_BUDGET: env.bytes().pipe(z.number().min(1024 * 1024, 'must be at least 1Mi')) };

/** What every service shares. */
export interface CommonConfig extends ReplicationConfig {
  redisUrl: string;
  redisPrefix: string;
  /** LONGSHORE_METRICS_ADDR: where the service serves Prometheus text; undefined = nowhere. */
  metricsAddr?: string | undefined;
}

/**
 * LONGSHORE_REDIS_WAIT_REPLICAS / _TIMEOUT: a submit or state change is acknowledged only once
 * this many replicas have it (Redis `WAIT`), so a failover cannot lose it. 0 = do not wait.
 */
export interface ReplicationConfig {
  redisWaitReplicas: number;
  redisWaitTimeoutMs: number;
}
/** Retention of finished jobs, used by whoever ends a job (agents, and the dispatcher on cancel). */
export interface RetentionConfig {
  retentionMs: number;
  maxFinished: number;
}

/** LONGSHORE_REDIS_BUDGET: finished jobs are deleted, oldest first, to keep Redis under it. */
export interface BudgetConfig {
  redisBudgetBytes: number;
}

export interface RegistryConfig extends CommonConfig, RetentionConfig, BudgetConfig {
  listen: string;
  security: ServerSecurity;
  heartbeatIntervalMs: number;
  agentTtlMs: number;
  agentForgetAfterMs: number;
}

export interface DispatcherConfig extends CommonConfig, RetentionConfig, BudgetConfig {
  listen: string;
  security: ServerSecurity;
  /** Jobs a token may submit (`LONGSHORE_SUBMIT_RATE`); null = no limit. Agents are exempt. */
  submitRate: SubmitRate | null;
  /** An agent silent this long is not live (as the registry counts it): its docker allow-list no longer counts at submit. */
  agentTtlMs: number;
}

export interface AgentConfig extends CommonConfig, RetentionConfig {
  /** Empty = the default pool. */
  pool: string;
  agentId: string;
  registry: string;
  /** The agent's token (an `agent` token of its pool) and TLS settings for the registry. */
  client: ClientSecurity;
  capacityMilli: number;
  lanes: Record<string, number>;
  /**
   * The executors this agent has whatever their state (`LONGSHORE_EXECUTORS`, else `subprocess`),
   * each once; `defaultExecutor` is one of them. One unhealthy at start is kept: it may recover.
   */
  executors: readonly AgentExecutorName[];
  /**
   * Executors the agent adds only when they are healthy at start: `docker` when
   * `LONGSHORE_EXECUTORS` is unset (so an agent on a host with an engine runs docker jobs unasked),
   * none when it is set.
   */
  executorsIfHealthy: readonly AgentExecutorName[];
  defaultExecutor: AgentExecutorName;
  defaultTimeoutMs: number;
  killGraceMs: number;
  /** LONGSHORE_START_TIMEOUT: how long a start (pull, build, create, placement) may take before it fails as start_failed; 0 = no limit. */
  startTimeoutMs: number;
  leaseMs: number;
  stalledCheckMs: number;
  /** LONGSHORE_ADOPT_WINDOW: how long a lapsed run that outlives its agent stays orphaned, for the agent to adopt. */
  adoptWindowMs: number;
  logMaxBytes: number;
  jobDir: string;
  shutdownGraceMs: number;
  /** A job too heavy to start anywhere that waited this long gets a reservation (no starvation). */
  reserveAfterMs: number;
  /** How often an agent with room looks again when nothing told it about new work. */
  claimPollMs: number;
  /** How job memory limits are enforced: a cgroup (v1) where writable, else an RSS watchdog. */
  memoryLimiter: 'auto' | 'cgroup-v1' | 'rss-watchdog' | 'none';
  /** The dispatcher's address: jobs are firewalled off from it. */
  dispatcher: string;
  /** Uids jobs run as, one per running job (`off`: as the agent itself). */
  jobUids: JobUidsSetting;
  /** Whether `LONGSHORE_JOB_UIDS` was set: an explicit range the agent cannot use stops it. */
  jobUidsExplicit: boolean;
  /** Owner-match firewall rules keeping jobs off Redis, the API and the metadata address. */
  jobFirewall: JobFirewallSetting;
  /** LONGSHORE_DOCKER_IMAGE_CACHE: the cap on images built from build steps; null (`off`) = none. */
  dockerImageCacheBytes: number | null;
  /** What the docker executor lets jobs have beyond the secure defaults (`LONGSHORE_DOCKER_ALLOW`). */
  dockerAllow: DockerAllow;
  /** Where `${NAME}` references in jobs' env are resolved from (`LONGSHORE_SECRET_*`). */
  secrets: SecretsConfig;
  /** The ecs executor's settings (`AWS_REGION`, `LONGSHORE_ECS_*`): present only when `ecs` is in `executors`. */
  ecs?: EcsConfig;
}

export function loadRegistryConfig(source: NodeJS.ProcessEnv = process.env): RegistryConfig {
  const e = parseEnv(
    { ...common, ...retention, ...budget, LONGSHORE_REGISTRY: env.address(), LONGSHORE_HEARTBEAT_INTERVAL: env.duration(), LONGSHORE_AGENT_TTL: env.duration(), LONGSHORE_AGENT_FORGET_AFTER: env.duration() },
    DEFAULTS,
    withRedisUrl(source),
  );
  return Object.freeze({
    redisUrl: e.LONGSHORE_REDIS_URL,
    redisPrefix: e.LONGSHORE_REDIS_PREFIX,
    redisWaitReplicas: e.LONGSHORE_REDIS_WAIT_REPLICAS,
    redisWaitTimeoutMs: e.LONGSHORE_REDIS_WAIT_TIMEOUT,
    metricsAddr: e.LONGSHORE_METRICS_ADDR,
    listen: e.LONGSHORE_REGISTRY,
    security: loadServerSecurity(source),
    retentionMs: e.LONGSHORE_JOB_RETENTION,
    maxFinished: e.LONGSHORE_JOB_RETENTION_COUNT,
    redisBudgetBytes: e.LONGSHORE_REDIS_BUDGET,
    heartbeatIntervalMs: e.LONGSHORE_HEARTBEAT_INTERVAL,
    agentTtlMs: Math.max(e.LONGSHORE_AGENT_TTL, e.LONGSHORE_HEARTBEAT_INTERVAL * 2),
    agentForgetAfterMs: e.LONGSHORE_AGENT_FORGET_AFTER,
  });
}

export function loadDispatcherConfig(source: NodeJS.ProcessEnv = process.env): DispatcherConfig {
  const e = parseEnv(
    { ...common, ...retention, ...budget, LONGSHORE_DISPATCHER: env.address(), LONGSHORE_SUBMIT_RATE: submitRateField(), LONGSHORE_HEARTBEAT_INTERVAL: env.duration(), LONGSHORE_AGENT_TTL: env.duration() },
    DEFAULTS,
    withRedisUrl(source),
  );
  return Object.freeze({
    redisUrl: e.LONGSHORE_REDIS_URL,
    redisPrefix: e.LONGSHORE_REDIS_PREFIX,
    redisWaitReplicas: e.LONGSHORE_REDIS_WAIT_REPLICAS,
    redisWaitTimeoutMs: e.LONGSHORE_REDIS_WAIT_TIMEOUT,
    metricsAddr: e.LONGSHORE_METRICS_ADDR,
    listen: e.LONGSHORE_DISPATCHER,
    submitRate: e.LONGSHORE_SUBMIT_RATE,
    security: loadServerSecurity(source),
    retentionMs: e.LONGSHORE_JOB_RETENTION,
    maxFinished: e.LONGSHORE_JOB_RETENTION_COUNT,
    redisBudgetBytes: e.LONGSHORE_REDIS_BUDGET,
    // As the registry computes it, so both agree on which agents are live.
    agentTtlMs: Math.max(e.LONGSHORE_AGENT_TTL, e.LONGSHORE_HEARTBEAT_INTERVAL * 2),
  });
}

export function loadAgentConfig(source: NodeJS.ProcessEnv = process.env): AgentConfig {
  const e = parseEnv(
    {
      ...common,
      ...retention,
      LONGSHORE_POOL: z.union([z.literal(''), env.dnsLabel()]),
      LONGSHORE_AGENT_ID: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be 1-128 letters, digits, ., _ or -'),
      LONGSHORE_REGISTRY: env.address(),
      LONGSHORE_CAPACITY: env.milli(),
      LONGSHORE_LANES: z.union([z.literal('').transform(() => ({}) as Record<string, number>), env.lanes()]),
      LONGSHORE_EXECUTORS: executorListField(),
      LONGSHORE_DEFAULT_EXECUTOR: z.enum(AGENT_EXECUTORS),
      LONGSHORE_JOB_TIMEOUT: env.duration(),
      LONGSHORE_KILL_GRACE: env.duration(),
      LONGSHORE_START_TIMEOUT: env.duration(),
      LONGSHORE_LEASE: env.duration().pipe(z.number().min(500, 'must be at least 500ms')),
      LONGSHORE_STALLED_CHECK: env.duration().pipe(z.number().min(200, 'must be at least 200ms')),
      LONGSHORE_ADOPT_WINDOW: env.duration(),
      LONGSHORE_LOG_MAX_BYTES: env.bytes().pipe(z.number().min(1024, 'must be at least 1Ki').max(64 * 1024 * 1024, 'must be at most 64Mi')),
      LONGSHORE_JOB_DIR: z.string().startsWith('/', 'must be an absolute path'),
      LONGSHORE_SHUTDOWN_GRACE: env.duration(),
      LONGSHORE_RESERVE_AFTER: env.duration(),
      LONGSHORE_CLAIM_POLL: env.duration().pipe(z.number().min(20, 'must be at least 20ms')),
      LONGSHORE_MEMORY_LIMITER: z.enum(['auto', 'cgroup-v1', 'rss-watchdog', 'none']),
      LONGSHORE_DISPATCHER: env.address(),
      LONGSHORE_JOB_UIDS: jobUidsSchema,
      LONGSHORE_JOB_FIREWALL: jobFirewallSchema,
      LONGSHORE_DOCKER_IMAGE_CACHE: z.union([z.literal('off').transform(() => null), env.bytes()]),
      LONGSHORE_DOCKER_ALLOW: env.dockerAllow(),
    },
    { ...DEFAULTS, LONGSHORE_POOL: '', LONGSHORE_AGENT_ID: hostname().replace(/[^A-Za-z0-9._-]/g, '-'), LONGSHORE_JOB_DIR: join(tmpdir(), 'longshore-jobs') },
    withRedisUrl(source),
  );
  if (!e.LONGSHORE_EXECUTORS.includes(e.LONGSHORE_DEFAULT_EXECUTOR)) {
    throw new ConfigError(
      `invalid configuration:\n  LONGSHORE_DEFAULT_EXECUTOR="${e.LONGSHORE_DEFAULT_EXECUTOR}": not one of this agent's executors (LONGSHORE_EXECUTORS="${e.LONGSHORE_EXECUTORS.join(',')}"): list it there, or pick one of those`,
    );
  }
  const ecs = loadEcsConfig(source, e.LONGSHORE_EXECUTORS);
  return Object.freeze({
    redisUrl: e.LONGSHORE_REDIS_URL,
    redisPrefix: e.LONGSHORE_REDIS_PREFIX,
    redisWaitReplicas: e.LONGSHORE_REDIS_WAIT_REPLICAS,
    redisWaitTimeoutMs: e.LONGSHORE_REDIS_WAIT_TIMEOUT,
    metricsAddr: e.LONGSHORE_METRICS_ADDR,
    retentionMs: e.LONGSHORE_JOB_RETENTION,
    maxFinished: e.LONGSHORE_JOB_RETENTION_COUNT,
    pool: e.LONGSHORE_POOL,
    agentId: e.LONGSHORE_AGENT_ID,
    registry: e.LONGSHORE_REGISTRY,
    client: loadClientSecurity(source),
    capacityMilli: e.LONGSHORE_CAPACITY,
    lanes: e.LONGSHORE_LANES,
    executors: Object.freeze([...e.LONGSHORE_EXECUTORS]),
    executorsIfHealthy: Object.freeze(source['LONGSHORE_EXECUTORS'] ? [] : DEFAULT_EXECUTORS_IF_HEALTHY),
    defaultExecutor: e.LONGSHORE_DEFAULT_EXECUTOR,
    defaultTimeoutMs: e.LONGSHORE_JOB_TIMEOUT,
    killGraceMs: e.LONGSHORE_KILL_GRACE,
    startTimeoutMs: e.LONGSHORE_START_TIMEOUT,
    leaseMs: e.LONGSHORE_LEASE,
    stalledCheckMs: e.LONGSHORE_STALLED_CHECK,
    adoptWindowMs: e.LONGSHORE_ADOPT_WINDOW,
    logMaxBytes: e.LONGSHORE_LOG_MAX_BYTES,
    jobDir: e.LONGSHORE_JOB_DIR,
    shutdownGraceMs: e.LONGSHORE_SHUTDOWN_GRACE,
    reserveAfterMs: e.LONGSHORE_RESERVE_AFTER,
    claimPollMs: e.LONGSHORE_CLAIM_POLL,
    memoryLimiter: e.LONGSHORE_MEMORY_LIMITER,
    dispatcher: e.LONGSHORE_DISPATCHER,
    jobUids: e.LONGSHORE_JOB_UIDS,
    jobUidsExplicit: Boolean(source['LONGSHORE_JOB_UIDS']),
    jobFirewall: e.LONGSHORE_JOB_FIREWALL,
    dockerImageCacheBytes: e.LONGSHORE_DOCKER_IMAGE_CACHE,
    dockerAllow: e.LONGSHORE_DOCKER_ALLOW,
    secrets: loadSecretsConfig(source),
    ...(ecs ? { ecs } : {}),
  });
}
