import { Redis as SingleRedis, type RedisOptions } from 'ioredis';
import type { Logger } from '@longshore/telemetry';
import { isCluster, type Redis } from './redis.js';

/**
 * Whether a Redis lets a client without credentials use its data: `open` (it does),
 * `protected` (it answered NOAUTH / NOPERM), `unknown` (the probe could not tell, e.g. it could
 * not connect).
 */
export type RedisAccess = 'open' | 'protected' | 'unknown';

/** What the start-up warning says; exported for tests and docs. */
export const OPEN_REDIS_WARNING =
  'Redis accepts commands without a password: any process that can reach it, including a job, can read and rewrite every job. ' +
  'Fix: give that Redis a password (requirepass) or an ACL user with a strong password, and put it in LONGSHORE_REDIS_URL as redis://user:password@host:port ' +
  '(see "Securing Redis" in the README)';

/**
 * Probes the server `redis` is connected to with a second, credential-less connection that
 * reads a key under `keyPrefix`, as a hostile job would. A connection configured without a
 * password is open by definition once it works (it is itself the proof), so no probe is made.
 */
export async function probeRedisAccess(redis: Redis, keyPrefix: string, timeoutMs = 2_000): Promise<RedisAccess> {
  const o = nodeOptions(redis);
  if (!o.password) return redis.status === 'ready' ? 'open' : 'unknown';
  if (o.sentinels && o.sentinels.length > 0) return 'unknown'; // which node a probe would reach is Sentinel's choice
  const probe = new SingleRedis({
    ...(o.path ? { path: o.path } : { host: o.host, port: o.port }),
    ...(o.tls ? { tls: o.tls } : {}),
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  });
  probe.on('error', () => undefined); // the outcome is read from the promises below
  try {
    await probe.connect();
    await probe.exists(`${keyPrefix}:auth-probe`);
    return 'open';
  } catch (err) {
    const message = (err as Error).message;
    if (/NOAUTH|NOPERM|WRONGPASS|Authentication required/i.test(message)) return 'protected';
    // A Cluster node that redirects the probe to another node did run it for a client without a password.
    return /^(MOVED|ASK) /.test(message) ? 'open' : 'unknown';
  } finally {
    probe.disconnect();
  }
}

/**
 * Logs {@link OPEN_REDIS_WARNING} once, at warn level, when the Redis a service just connected
 * to lets anyone in (see {@link probeRedisAccess}). Every service calls it at start, after
 * its connection is ready. Never throws: a failed probe is logged at debug level.
 */
export async function warnIfRedisOpen(redis: Redis, logger: Logger, keyPrefix: string): Promise<RedisAccess> {
  const access = await probeRedisAccess(redis, keyPrefix).catch(() => 'unknown' as const);
  const o = nodeOptions(redis);
  const where = o.path ?? `${o.host ?? '127.0.0.1'}:${o.port ?? 6379}`;
  if (access === 'open') logger.warn({ redis: where, redisAuth: 'none' }, `${OPEN_REDIS_WARNING} (Redis at ${where})`);
  else logger.debug({ redis: where, redisAuth: access }, 'checked whether Redis needs a password');
  return access;
}

/** The options of one data node: a Cluster's first master (its node options), else the connection's own. */
function nodeOptions(redis: Redis): RedisOptions {
  if (!isCluster(redis)) return redis.options;
  const node = redis.nodes('master')[0];
  return node ? node.options : { ...redis.options.redisOptions, host: '(cluster)', port: 0 };
}
