/** `longshore up`: the whole cluster in one foreground process, for trying Longshore locally. */
export { startLocalCluster, LOCAL_METRICS_ADDR } from './local-cluster.js';
export type { LocalCluster, LocalClusterOptions } from './local-cluster.js';
export { ensureRedis } from './local-redis.js';
export type { LocalRedis, EnsureRedisOptions } from './local-redis.js';
