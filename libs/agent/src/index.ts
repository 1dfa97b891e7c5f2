/** The worker agent: registers, heartbeats, claims weighted jobs its capacity admits, runs them. */
export { startAgent } from './start-agent.js';
export type { AgentOverrides } from './start-agent.js';
export { createAgent, AGENT_VERSION } from './agent.js';
export type { AgentHandle, AgentLifecycle, AgentParts, AgentSettings, SourceHooks } from './agent.js';
export { grpcRegistryClient } from './registry-client.js';
export type { AgentReport, HeartbeatReply, RegistryClient } from './registry-client.js';
export { redisAgentEvents } from './agent-events.js';
export type { AgentEventHandlers, AgentEvents } from './agent-events.js';
export type { RunEnd } from './job-run.js';
export { CapacityLedger } from './ledger.js';
export { chooseExecutor } from './executors.js';
export type { ExecutorSet, ExecutorChoice } from './executors.js';
