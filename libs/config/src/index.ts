/**
 * Configuration of each service from its environment, in stages: raw variables → validated
 * (fail fast, naming the variable) → a frozen object of plain numbers. Every variable and its
 * default is listed in the README's environment table.
 */
export { ConfigError } from './config-error.js';
export { parseEnv, env } from './parse-env.js';
export { DEFAULTS, loadRegistryConfig, loadDispatcherConfig, loadAgentConfig } from './services.js';
export type { CommonConfig, ReplicationConfig, RetentionConfig, BudgetConfig, RegistryConfig, DispatcherConfig, AgentConfig } from './services.js';
export { DEFAULT_JOB_UIDS } from './job-isolation.js';
export type { JobUidsSetting, JobFirewallSetting } from './job-isolation.js';
export { parseSubmitRate } from './rate.js';
export type { SubmitRate } from './rate.js';
export { redisUrlPath, readRedisUrlFile, chooseRedisUrl } from './redis-url.js';
export type { RedisUrlChoice } from './redis-url.js';
export { parseRedisEndpoint, redisUrlProblem, redactRedisUrl } from './redis-endpoint.js';
export type { RedisEndpoint, RedisNode, RedisAuth } from './redis-endpoint.js';
export { longshoreHome, credentialsPath } from './home.js';
export { loadServerSecurity } from './security.js';
export type { ServerSecurity, ServerTls } from './security.js';
export { loadClientSecurity, readCredentialsFile } from './client-security.js';
export type { ClientSecurity, ClientTls } from './client-security.js';
export { loadSecretsConfig, SECRET_DEFAULTS } from './secrets.js';
export type { SecretsConfig } from './secrets.js';
export { loadConsoleConfig, DEFAULT_CONSOLE_ADDR } from './console.js';
export type { ConsoleConfig } from './console.js';
export { ECS_DEFAULTS, loadEcsConfig } from './ecs.js';
export type { EcsConfig, EcsCapacityProviderSetting } from './ecs.js';
