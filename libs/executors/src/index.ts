/** Executors: how an agent runs one attempt of a job (subprocess now; docker and ecs later). */
export type { OutputStream, RunRequest, RunOutcome, Executor } from './executor.js';
export { createSubprocessExecutor } from './subprocess-executor.js';
export type { SubprocessExecutorOptions } from './subprocess-executor.js';
export { probeMemoryLimiter } from './memory-limiter-choice.js';
export type { MemoryLimiterKind, MemoryLimiterChoice } from './memory-limit.js';
export { createNoopExecutor } from './noop-executor.js';
export { buildJobEnv, DEFAULT_INHERIT_NAMES, FALLBACK_PATH } from './job-env.js';
export type { BuildJobEnvOptions } from './job-env.js';
export { leftoverRegistry, sweepLeftovers } from './leftovers.js';
export type { LeftoverRegistry } from './leftovers.js';
