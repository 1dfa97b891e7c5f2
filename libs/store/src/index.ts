/**
 * Everything Longshore keeps in Redis besides BullMQ's queues: job records with fenced
 * transitions, capped per-job logs, retention, pools, agents, and the pub/sub fan-out.
 */
export { Keys } from './keys.js';
export { createRedis, waitForRedis, redactRedisUrl } from './redis.js';
export type { Redis } from './redis.js';
export { probeRedisAccess, warnIfRedisOpen, OPEN_REDIS_WARNING } from './redis-access.js';
export type { RedisAccess } from './redis-access.js';
export { JobStore } from './job-store.js';
export type { Retention, AttemptOutcome, ClaimResult, CancelRequest, RetryChoice, LostBudget } from './job-store.js';
export type { StoredAttempt } from './record-codec.js';
export { readLogPage, isLogCursor } from './log-reader.js';
export type { StoredLogLine, LogPage } from './log-reader.js';
export { EventHub, wakeable } from './event-hub.js';
export { PoolStore } from './pool-store.js';
export type { StoredPool } from './pool-store.js';
export { AgentStore } from './agent-store.js';
