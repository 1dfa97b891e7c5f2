import { parseRedisEndpoint, type RedisEndpoint } from '@longshore/config';
import { Cluster, Redis as SingleRedis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** Redacts the password of a Redis URL (any form) for logs. */
export { redactRedisUrl } from '@longshore/config';

/**
 * A connection to Longshore's Redis: one server or Sentinel-managed master (an ioredis `Redis`),
 * or a Redis Cluster (an ioredis `Cluster`). Both take the same commands, `defineCommand`,
 * pipelines (one slot at a time on a Cluster: every key of a pool shares its hash tag) and pub/sub.
 */
export type Redis = SingleRedis | Cluster;

export type RedisRole = 'request' | 'worker' | 'subscriber';

const retryStrategy = (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2000);

/**
 * Opens an ioredis connection to what `url` names (`redis://`, `rediss://`, `redis-cluster://`,
 * `redis-sentinel://`; see `parseRedisEndpoint`). `role` picks the failure behaviour:
 * - `request`: commands fail at once while disconnected (so a submit answers UNAVAILABLE, never
 *   hangs or lies), and reconnects in the background;
 * - `worker`: commands wait for the connection (BullMQ requires `maxRetriesPerRequest: null`);
 * - `subscriber`: for pub/sub, which re-subscribes after reconnecting.
 * Reconnect backoff is ioredis' own retry strategy, capped at 2 s (also between rounds of
 * asking the Sentinels, and between attempts to learn a Cluster's slots).
 */
export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  return connect(parseRedisEndpoint(url), url, role, extra);
}

function connect(ep: RedisEndpoint, url: string, role: RedisRole, extra: RedisOptions): Redis {
  const common: RedisOptions = { connectTimeout: 5000, retryStrategy, lazyConnect: false };
  const byRole: Record<RedisRole, RedisOptions> = {
    request: { enableOfflineQueue: false, maxRetriesPerRequest: 1 },
    worker: { maxRetriesPerRequest: null, enableOfflineQueue: true },
    subscriber: { maxRetriesPerRequest: null, autoResubscribe: true },
  };
  const options: RedisOptions = { ...common, ...byRole[role], ...extra };
  if (ep.kind === 'single') return new SingleRedis(url, options);
  const auth = { ...(ep.username ? { username: ep.username } : {}), ...(ep.password ? { password: ep.password } : {}) };
  if (ep.kind === 'sentinel') {
    // ioredis asks the Sentinels for the master, and asks again after a disconnect (a dead master
    // drops the connection). A master demoted under a live connection answers writes with
    // READONLY: reconnect then (the failed command still fails: no blind resend). ioredis'
    // failoverDetector is left off: its disconnect on +switch-master, racing a reconnect already
    // under way, left connections closed for good under load here. The credentials are the data
    // nodes' (Sentinels are asked without).
    const reconnectOnError = (err: Error) => (/READONLY/.test(err.message) ? 1 : false);
    return new SingleRedis({ reconnectOnError, ...options, ...auth, sentinels: ep.sentinels, name: ep.masterName, sentinelRetryStrategy: retryStrategy });
  }
  const { enableOfflineQueue, lazyConnect, ...nodeOptions } = options;
  const clusterOptions: ClusterOptions = {
    redisOptions: { ...nodeOptions, ...auth },
    clusterRetryStrategy: retryStrategy,
    enableOfflineQueue: enableOfflineQueue ?? true,
    lazyConnect: lazyConnect ?? false,
    // Writes and the reads that follow them go to masters: a replica may lag behind.
    scaleReads: 'master',
    // Keep retrying through a failover (a replica takes a few seconds to be promoted).
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    slotsRefreshTimeout: 2000,
  };
  return new Cluster(ep.nodes, clusterOptions);
}

/** Whether a connection is to a Redis Cluster (then multi-key calls must stay within one slot). */
export function isCluster(redis: Redis): redis is Cluster {
  return redis instanceof Cluster;
}

/**
 * Waits until the connection is ready, or throws after `timeoutMs` naming the URL (pass it
 * redacted), the last error, and the fix: an unreachable server or Cluster node, Sentinels that
 * cannot be reached or know no master of that name.
 */
export async function waitForRedis(redis: Redis, url: string, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  let lastError: string | undefined;
  let sentinelError: string | undefined;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(unreachableMessage(url, timeoutMs, lastError, sentinelError)));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onError = (err: Error) => {
      lastError = errorText(err);
    };
    const onSentinelError = (err: Error) => {
      sentinelError = errorText(err);
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      redis.off('sentinelError', onSentinelError);
    };
    redis.on('ready', onReady);
    redis.on('error', onError);
    redis.on('sentinelError', onSentinelError);
  });
}

function errorText(err: Error): string {
  const last = (err as Error & { lastNodeError?: Error }).lastNodeError;
  return last ? `${err.message}: ${last.message}` : err.message;
}

function unreachableMessage(url: string, timeoutMs: number, lastError: string | undefined, sentinelError: string | undefined): string {
  let kind: RedisEndpoint['kind'] = 'single';
  try {
    kind = parseRedisEndpoint(url).kind;
  } catch {
    // a URL that does not parse was refused before a connection was made
  }
  const last = lastError ? ` (last error: ${lastError})` : '';
  if (kind === 'cluster') {
    return (
      `cannot reach the Redis Cluster at ${url} within ${timeoutMs} ms${last}: ` +
      'check that the nodes LONGSHORE_REDIS_URL lists are up, reachable and cluster nodes (redis-cli -h HOST -p PORT cluster info shows cluster_state:ok), or fix LONGSHORE_REDIS_URL'
    );
  }
  if (kind === 'sentinel') {
    const name = /\/([^/?#]+)\/?$/.exec(url)?.[1] ?? '';
    if (sentinelError && /successfully, but got an invalid reply|No such master with that name/.test(sentinelError)) {
      return (
        `the Sentinels at ${url} know no master named "${name}" (waited ${timeoutMs} ms): ` +
        'fix the master name at the end of LONGSHORE_REDIS_URL (redis-cli -h HOST -p PORT sentinel masters lists the names they know)'
      );
    }
    const why = sentinelError ? ` (last error: ${sentinelError})` : last;
    return `cannot reach a Redis master through the Sentinels at ${url} within ${timeoutMs} ms${why}: check that the Sentinels LONGSHORE_REDIS_URL lists are running and monitor "${name}", or fix LONGSHORE_REDIS_URL`;
  }
  return `cannot reach Redis at ${url} within ${timeoutMs} ms${last}: is redis-server running? (set LONGSHORE_REDIS_URL)`;
}

/** The masters of a connection: the Cluster's master nodes, else the connection itself. */
export function masterNodes(redis: Redis): SingleRedis[] {
  return isCluster(redis) ? redis.nodes('master') : [redis];
}

/**
 * The Redis servers a ready connection reaches now, by the address it connected to: every node
 * of a Cluster (masters and replicas), else the one server (through Sentinel: the master it
 * chose). For the agent's job firewall, which must refuse jobs all of them.
 */
export function connectedNodes(redis: Redis): { host: string; port: number }[] {
  const servers = isCluster(redis) ? redis.nodes('all') : [redis];
  const out: { host: string; port: number }[] = [];
  for (const s of servers) {
    const host = s.stream?.remoteAddress ?? s.options.host;
    const port = s.stream?.remotePort ?? s.options.port;
    if (host && port) out.push({ host: host.replace(/^::ffff:/, ''), port });
  }
  return out;
}
