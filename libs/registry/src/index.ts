/** The pool registry: pools, the default pool, agents and their heartbeats, pool health. */
export { startRegistry } from './registry-server.js';
export type { RegistryHandle } from './registry-server.js';
export { registryService } from './registry-service.js';
export type { RegistryDeps } from './registry-service.js';
export { computePoolStatus } from './pool-status.js';
export { demandInStandardAgents, poolFigures, readPoolFigures, registerPoolMetrics } from './pool-metrics.js';
export type { PoolFigures, PoolMetricsDeps } from './pool-metrics.js';
