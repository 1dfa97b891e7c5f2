import { join } from 'node:path';
import { ConfigError, type AgentConfig } from '@longshore/config';
import type { AgentExecutorName } from '@longshore/domain';
import { createDockerExecutor, createEcsExecutor, createNoopExecutor, createSubprocessExecutor, type EcsImageLookup, type Executor } from '@longshore/executors';
import type { Logger } from '@longshore/telemetry';
import type { ExecutorSet } from './executors.js';
import type { JobIsolation } from './isolation.js';

/** What building an agent's executors reads of its configuration. */
export type ExecutorConfig = Pick<AgentConfig, 'agentId' | 'executors' | 'executorsIfHealthy' | 'jobDir' | 'memoryLimiter' | 'pool' | 'dockerImageCacheBytes' | 'dockerAllow' | 'ecs' | 'killGraceMs'>;

/** Where this agent notes its jobs' process groups, to find them again after being killed outright. */
export function leftoversDir(config: Pick<AgentConfig, 'agentId' | 'jobDir'>): string {
  return join(config.jobDir, '.running', config.agentId);
}

/**
 * Where this agent's subprocess runs get their private directories (`<jobDir>/<agent id>/<job>-<attempt>`):
 * a directory of this agent id's alone, so that a restarted agent can remove what runs killed
 * with its earlier life left there, and nothing of other agents sharing the job directory.
 */
export function privateDirsRoot(config: Pick<AgentConfig, 'agentId' | 'jobDir'>): string {
  return join(config.jobDir, config.agentId);
}

type Factory = (config: ExecutorConfig, logger: Logger, isolation: Pick<JobIsolation, 'users' | 'cgroups'>) => Executor;

/** The executors this version of the agent can build. */
const FACTORIES: Partial<Record<AgentExecutorName, Factory>> = {
  subprocess: (config, logger, isolation) =>
    createSubprocessExecutor({
      memoryLimiter: config.memoryLimiter,
      logger,
      stateDir: leftoversDir(config),
      privateDirsRoot: privateDirsRoot(config),
      ...(isolation.users ? { users: isolation.users } : {}),
      ...(isolation.cgroups ? { cgroups: isolation.cgroups } : {}),
    }),
  // The engine is the one DOCKER_HOST names (else /var/run/docker.sock), as for the docker CLI.
  // The pool label is LONGSHORE_POOL as given: empty when the agent serves the default pool.
  // Built images (build steps) are kept under LONGSHORE_DOCKER_IMAGE_CACHE. Jobs get what
  // LONGSHORE_DOCKER_ALLOW allows; pulls use the credentials of DOCKER_CONFIG's config.json.
  docker: (config, logger) => {
    const dockerConfigDir = process.env['DOCKER_CONFIG'];
    return createDockerExecutor({
      agentId: config.agentId,
      pool: config.pool,
      logger,
      imageCacheBytes: config.dockerImageCacheBytes,
      allow: config.dockerAllow,
      ...(dockerConfigDir ? { dockerConfigDir } : {}),
    });
  },
  // AWS_REGION and LONGSHORE_ECS_*; credentials from the SDK's default chain, endpoints from
  // AWS_ENDPOINT_URL_ECS / AWS_ENDPOINT_URL_CLOUDWATCH_LOGS (read by the SDK itself).
  // LONGSHORE_KILL_GRACE becomes the stopTimeout of the task definitions it registers.
  ecs: (config, logger) => {
    const ecs = config.ecs;
    if (!ecs) throw new ConfigError('LONGSHORE_EXECUTORS lists "ecs" but its settings were not read (AWS_REGION, LONGSHORE_ECS_*)');
    const { imageLookupPrefix, registerTaskDefinition, checkCluster: _check, pollIntervalMs, ...launch } = ecs;
    return createEcsExecutor({
      ...launch,
      agentId: config.agentId,
      pool: config.pool,
      logger,
      pollIntervalMs,
      killGraceMs: config.killGraceMs,
      // The registration template is a JSON object checked at start; ECS checks its fields when it registers.
      ...(imageLookupPrefix ? { imageLookup: { familyPrefix: imageLookupPrefix, ...(registerTaskDefinition ? { register: registerTaskDefinition as EcsImageLookup['register'] } : {}) } } : {}),
    });
  },
  noop: () => createNoopExecutor(),
};

/**
 * Checks that this agent can build every executor `LONGSHORE_EXECUTORS` lists, before it
 * connects to anything. @throws ConfigError naming the variable, what it lists and what it can run.
 */
export function checkExecutorsBuildable(config: Pick<AgentConfig, 'executors'>): void {
  const missing = config.executors.filter((name) => !FACTORIES[name]);
  if (missing.length === 0) return;
  const names = missing.map((n) => `"${n}"`).join(', ');
  throw new ConfigError(`LONGSHORE_EXECUTORS="${config.executors.join(',')}": ${names} cannot run on this version of the agent yet (it can run: ${Object.keys(FACTORIES).join(', ')})`);
}

/**
 * Builds the executors `LONGSHORE_EXECUTORS` lists, and only those (so `noop`, which reports
 * success without running anything, exists only where it is listed), and probes each. One that
 * is unhealthy now is kept, loudly logged: it may recover (an engine restarting), and the agent
 * claims jobs only for executors healthy at the time (see {@link ExecutorHealth}). When the
 * variable is unset, the executors of `executorsIfHealthy` (docker) are added if they answer now.
 *
 * @throws ConfigError naming `LONGSHORE_EXECUTORS` when it lists an executor this agent cannot build.
 */
export async function createEnabledExecutors(config: ExecutorConfig, logger: Logger, isolation: Pick<JobIsolation, 'users' | 'cgroups'>): Promise<ExecutorSet> {
  checkExecutorsBuildable(config);
  const listed = `LONGSHORE_EXECUTORS="${config.executors.join(',')}"`;
  const set: ExecutorSet = {};
  const probe = (executor: Executor) => executor.probe(AbortSignal.timeout(START_PROBE_TIMEOUT_MS));
  for (const name of config.executors) {
    const executor = FACTORIES[name]!(config, logger, isolation);
    const health = await probe(executor);
    if (!health.healthy && name === 'ecs' && config.ecs?.checkCluster) {
      throw new ConfigError(`LONGSHORE_ECS_CLUSTER="${config.ecs.cluster}": ${health.reason} (the start-up check; LONGSHORE_ECS_CHECK_CLUSTER=false starts without it)`);
    }
    if (!health.healthy) {
      logger.error(
        { executor: name, reason: health.reason },
        `${listed}: "${name}" cannot run jobs on this host now (${health.reason}; ${whereFrom(name)}); it is kept and probed on every heartbeat, and claims no jobs until it is healthy`,
      );
    }
    set[name] = executor;
  }
  for (const name of config.executorsIfHealthy) {
    if (set[name] || !FACTORIES[name]) continue;
    const executor = FACTORIES[name](config, logger, isolation);
    const health = await probe(executor);
    if (health.healthy) {
      set[name] = executor;
      logger.info({ executor: name }, `"${name}" enabled: LONGSHORE_EXECUTORS is unset and ${whereFrom(name)} answers`);
    } else {
      logger.info({ executor: name, reason: health.reason }, `"${name}" not enabled: LONGSHORE_EXECUTORS is unset and ${whereFrom(name)} does not answer (${health.reason}); list it in LONGSHORE_EXECUTORS to keep it and wait for it`);
    }
  }
  return set;
}

/** How long a probe at start may take. */
const START_PROBE_TIMEOUT_MS = 5000;

/** Where executor `name` runs its jobs, for the messages about its state. */
function whereFrom(name: AgentExecutorName): string {
  if (name === 'ecs') return `ECS (AWS_REGION=${process.env['AWS_REGION'] ?? ''}${process.env['AWS_ENDPOINT_URL_ECS'] ? `, AWS_ENDPOINT_URL_ECS=${process.env['AWS_ENDPOINT_URL_ECS']}` : ''})`;
  if (name !== 'docker') return `on ${process.platform}`;
  const host = process.env['DOCKER_HOST'];
  return `the Docker engine at ${host ? `DOCKER_HOST=${host}` : '/var/run/docker.sock (DOCKER_HOST is not set)'}`;
}
