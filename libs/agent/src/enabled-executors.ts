import { join } from 'node:path';
import { ConfigError, type AgentConfig } from '@longshore/config';
import type { AgentExecutorName } from '@longshore/domain';
import { createDockerExecutor, createNoopExecutor, createSubprocessExecutor, type Executor } from '@longshore/executors';
import type { Logger } from '@longshore/telemetry';
import type { ExecutorSet } from './executors.js';
import type { JobIsolation } from './isolation.js';

/** What building an agent's executors reads of its configuration. */
export type ExecutorConfig = Pick<AgentConfig, 'agentId' | 'executors' | 'jobDir' | 'memoryLimiter' | 'pool'>;

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

/** The executors this version of the agent can build (ecs comes later). */
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
  docker: (config, logger) => createDockerExecutor({ agentId: config.agentId, pool: config.pool, logger }),
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
 * success without running anything, exists only where it is listed), and checks that each can
 * run jobs on this host now.
 *
 * @throws ConfigError naming `LONGSHORE_EXECUTORS` when it lists an executor this agent cannot
 *   build, or one that cannot run here: an agent must not advertise what it cannot do.
 */
export async function createEnabledExecutors(config: ExecutorConfig, logger: Logger, isolation: Pick<JobIsolation, 'users' | 'cgroups'>): Promise<ExecutorSet> {
  checkExecutorsBuildable(config);
  const listed = `LONGSHORE_EXECUTORS="${config.executors.join(',')}"`;
  const set: ExecutorSet = {};
  for (const name of config.executors) {
    const executor = FACTORIES[name]!(config, logger, isolation);
    if (!(await executor.probe())) throw new ConfigError(`${listed}: "${name}" cannot run jobs on this host (${whyNot(name)}); remove it from the list`);
    set[name] = executor;
  }
  return set;
}

/** What a failed probe of `name` means, for the message that names the fix. */
function whyNot(name: AgentExecutorName): string {
  if (name !== 'docker') return process.platform;
  const host = process.env['DOCKER_HOST'];
  return `no Docker engine answers at ${host ? `DOCKER_HOST=${host}` : '/var/run/docker.sock (DOCKER_HOST is not set)'}`;
}
