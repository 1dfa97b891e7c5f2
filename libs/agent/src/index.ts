/** The worker agent: registers, heartbeats, claims weighted jobs its capacity admits, runs them. */
export { startAgent, AGENT_VERSION } from './agent.js';
export type { AgentHandle, AgentLifecycle, AgentOverrides } from './agent.js';
export { CapacityLedger } from './ledger.js';
export { chooseExecutor } from './executors.js';
export type { ExecutorSet, ExecutorChoice } from './executors.js';
