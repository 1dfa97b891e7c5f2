/**
 * Configuration of each service from its environment, in stages: raw variables → validated
 * (fail fast, naming the variable) → a frozen object of plain numbers. Every variable and its
 * default is listed in the README's environment table.
 */
export { ConfigError, parseEnv, env } from './parse-env.js';
export { DEFAULTS, loadRegistryConfig, loadDispatcherConfig, loadAgentConfig } from './services.js';
export type { CommonConfig, RetentionConfig, RegistryConfig, DispatcherConfig, AgentConfig } from './services.js';
