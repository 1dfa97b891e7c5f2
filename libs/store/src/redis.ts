import { Redis, type RedisOptions } from 'ioredis';

export type { Redis } from 'ioredis';

/**
 * Opens an ioredis connection. `role` picks the failure behaviour:
 * - `request`: commands fail at once while disconnected (so a submit answers UNAVAILABLE, never
 *   hangs or lies), and reconnects in the background;
 * - `worker`: commands wait for the connection (BullMQ requires `maxRetriesPerRequest: null`);
 * - `subscriber`: for pub/sub, which re-subscribes after reconnecting.
 * Reconnect backoff is ioredis' own retry strategy, capped at 2 s.
 */
export function createRedis(url: string, role: 'request' | 'worker' | 'subscriber', extra: RedisOptions = {}): Redis {
  const common: RedisOptions = {
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    lazyConnect: false,
  };
  const byRole: Record<typeof role, RedisOptions> = {
    request: { enableOfflineQueue: false, maxRetriesPerRequest: 1 },
    worker: { maxRetriesPerRequest: null, enableOfflineQueue: true },
    subscriber: { maxRetriesPerRequest: null, autoResubscribe: true },
  };
  return new Redis(url, { ...common, ...byRole[role], ...extra });
}

/** Waits until the connection is ready, or throws after `timeoutMs` naming the URL. */
export async function waitForRedis(redis: Redis, url: string, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`cannot reach Redis at ${url} within ${timeoutMs} ms: is redis-server running? (set LONGSHORE_REDIS_URL)`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}

/** Redacts the password of a redis:// URL for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
