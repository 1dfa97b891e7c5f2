import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { findRedisServer, redisServerRequired, startRedis, type RedisHandle, type RedisOptions } from './redis-server.js';
import { Resources } from './resources.js';

const res = new Resources();
afterAll(() => res.stopAll());

/** Starts Redis and registers it to be stopped, then its dir removed (the harness keeps dirs). */
async function redisForTest(opts?: RedisOptions): Promise<RedisHandle> {
  const redis = await startRedis(opts);
  res.add({ stop: () => rm(redis.dir, { recursive: true, force: true }) });
  return res.add(redis);
}

/** Outside CI a machine without redis-server skips these; in CI they must run. */
const haveRedis = redisServerRequired();

function client(url: string): Redis {
  // Fail fast instead of reconnecting: these tests want to see a dead server as an error.
  return new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
}

async function withClient<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = client(url);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** A GET without credentials, as any local process could try: the reply, or the error's message. */
async function unauthenticatedGet(port: number): Promise<string> {
  // No ready check: its INFO would fail first and close the connection.
  const r = new Redis({ port, host: '127.0.0.1', enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  try {
    await r.connect();
    return String(await r.get('k'));
  } catch (err) {
    return (err as Error).message;
  } finally {
    r.disconnect();
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('findRedisServer', () => {
  it('throws a message saying what is missing and how to fix it', () => {
    expect(() => findRedisServer('/nonexistent-dir', [])).toThrow(/redis-server not found on PATH.*apt-get install redis-server/);
  });
});

describe.skipIf(!haveRedis)('startRedis', () => {
  it('answers PING on 127.0.0.1:port, stops, and restarts on the same port', async () => {
    const redis = await redisForTest();
    expect(redis.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(redis.url).toBe(`redis://:${redis.password}@127.0.0.1:${redis.port}`);
    expect(redis.dir).toMatch(/longshore-redis-/);
    expect(redis.pid).toBeGreaterThan(0);
    expect(await withClient(redis.url, (r) => r.ping())).toBe('PONG');
    expect(await withClient(redis.url, (r) => r.config('GET', 'maxmemory-policy'))).toEqual([
      'maxmemory-policy',
      'noeviction',
    ]);

    await redis.stop();
    expect(await accepts(redis.port)).toBe(false);
    await redis.stop(); // idempotent

    const firstPid = redis.pid;
    await redis.restart();
    expect(redis.pid).not.toBe(firstPid);
    expect(await withClient(redis.url, (r) => r.ping())).toBe('PONG');
  });

  it('requires its generated password (also after restart), which is not on its command line', async () => {
    const redis = await redisForTest();
    expect(await unauthenticatedGet(redis.port)).toMatch(/^NOAUTH/);
    expect(readFileSync(`/proc/${redis.pid}/cmdline`, 'utf8')).not.toContain(redis.password);
    await redis.restart();
    expect(await unauthenticatedGet(redis.port)).toMatch(/^NOAUTH/);
    expect(await withClient(redis.url, (r) => r.ping())).toBe('PONG');
  });

  it('with password: false, anyone may connect', async () => {
    const redis = await redisForTest({ password: false });
    expect(redis.password).toBeUndefined();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await withClient(redis.url, (r) => r.ping())).toBe('PONG');
  });

  it('with appendonly, a key written before a crash survives restart', async () => {
    const redis = await redisForTest({ appendonly: true, appendfsync: 'always' });
    await withClient(redis.url, (r) => r.set('survivor', 'yes'));
    await redis.kill();
    expect(await accepts(redis.port)).toBe(false);
    await redis.restart();
    expect(await withClient(redis.url, (r) => r.get('survivor'))).toBe('yes');
  });

  it('without appendonly, a crash loses the key (so the test above proves something)', async () => {
    const redis = await redisForTest();
    await withClient(redis.url, (r) => r.set('survivor', 'yes'));
    await redis.kill();
    await redis.restart();
    expect(await withClient(redis.url, (r) => r.get('survivor'))).toBeNull();
  });

  it('gives each server its own port and dir', async () => {
    const [a, b] = await Promise.all([redisForTest(), redisForTest()]);
    expect(a.port).not.toBe(b.port);
    expect(a.dir).not.toBe(b.dir);
  });
});
