/**
 * What Longshore keeps in Redis besides BullMQ's queues, and the key schema of all of it: job
 * records (read here; changed only by the lifecycle in libs/queue), logs, pools, agents, and
 * the pub/sub fan-out.
 */
export { Keys, PoolKeys, SCHEMA_VERSION, poolOfJob } from './keys.js';
export { checkSchema } from './schema.js';
export { poolAgentAcl, formatAclCommand } from './acl.js';
export { newJobFields, RECORD_FIELDS } from './record-codec.js';
export type { NewJobShape } from './record-codec.js';
export { createRedis, waitForRedis, redactRedisUrl, isCluster, masterNodes, connectedNodes } from './redis.js';
export type { Redis, RedisRole } from './redis.js';
export { probeRedisAccess, warnIfRedisOpen, OPEN_REDIS_WARNING } from './redis-access.js';
export type { RedisAccess } from './redis-access.js';
export { JobStore } from './job-store.js';
export type { StoredAttempt } from './record-codec.js';
export { readLogPage, isLogCursor } from './log-reader.js';
export type { StoredLogLine, LogPage } from './log-reader.js';
export { EventHub, wakeable } from './event-hub.js';
export { PoolStore } from './pool-store.js';
export type { StoredPool } from './pool-store.js';
export { AgentStore } from './agent-store.js';
