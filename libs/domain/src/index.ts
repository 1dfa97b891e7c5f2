/** Longshore's domain: the model, its limits, validation and the closed vocabulary of errors. */
export * from './errors/index.js';
export { AGENT_EXECUTORS, DOCKER_PULL_POLICIES, EXECUTORS, JOB_STATES, FINAL_STATES, FAILURE_CLASSES, isFinalState } from './model.js';
export type { RetryableClass, RetryPolicy, AgentExecutorName, ExecutorName, JobStateName, FailureClassName, AgentStateName, JobSpec, PoolStandard, DockerJobOptions, EcsJobOptions, DockerMount, DockerPullPolicy, ExecutorHealthInfo, AttemptRecord, SecretUse, JobRecord, PoolRecord, AgentInfo, AgentIsolationInfo, AgentView, PoolHealthName, PoolStatusView, PoolView } from './model.js';
export { LIMITS, CONNECTION_LIMITS, DEFAULT_WEIGHT_MILLI, STANDARD_CAPACITY_MILLI, DEFAULT_POOL_ID, DEFAULT_RETRY_BUDGETS, DEFAULT_BACKOFF_MS, DEFAULT_MAX_BACKOFF_MS } from './limits.js';
export { backoffFor } from './backoff.js';
export { ECS_OVERRIDES_MAX_BYTES, ecsOverridesBytes, ecsSecretEnvProblem, secretsManagerValueFrom } from './ecs.js';
export type { EcsSecret } from './ecs.js';
export { validateDnsLabel, newJobId, validateJobId, jobCreatedAt } from './ids.js';
export { parseMilli, formatMilli, parseDurationMs, formatDuration, formatElapsed, parseBytes, formatBytes, parseLanes } from './units.js';
export { executorsOf, validateJobSpec } from './job-spec.js';
export { formatStandard, parseStandard, resolveLimits, weightShare } from './standard.js';
export {
  DEFAULT_JOB_CAPABILITIES,
  NOTHING_ALLOWED,
  parseDockerAllow,
  dockerRefusal,
  mountSourceRefusal,
  describeDockerRefusal,
  normaliseCapability,
  normalisePath,
  isUnder,
} from './docker-allow.js';
export type { DockerAllow, DockerRefusal } from './docker-allow.js';
export { validatePlainText } from './text.js';
export { TOKEN_ROLES, ANONYMOUS_ADMIN } from './principal.js';
export type { TokenRole, Principal } from './principal.js';
export {
  SECRET_NAME,
  SECRET_PROVIDERS,
  formatSecretRef,
  parseSecretTemplate,
  secretRefsIn,
  renderSecretTemplate,
  secretNamesOf,
  refuseSecretRefs,
  secretAllowed,
  validateSecretPatterns,
} from './secret-ref.js';
export type { SecretRef, SecretTemplatePart, SecretProviderName, SecretsSettings } from './secret-ref.js';
