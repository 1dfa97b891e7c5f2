import { rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { createLogger } from '@longshore/telemetry';
import { redisServerRequired, Resources, startRedis, type RedisHandle } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, OPEN_REDIS_WARNING, probeRedisAccess, waitForRedis, warnIfRedisOpen, type Redis } from './index.js';

const res = new Resources();
afterAll(() => res.stopAll());

async function serverForTest(password: boolean): Promise<RedisHandle> {
  const server = await startRedis({ password });
  res.add({ stop: () => rm(server.dir, { recursive: true, force: true }) });
  return res.add(server);
}

async function connected(url: string): Promise<Redis> {
  const redis = createRedis(url, 'request');
  redis.on('error', () => undefined); // a wrong password is the point of one test
  res.add({ stop: async () => redis.disconnect() });
  await waitForRedis(redis, url);
  return redis;
}

/** A logger whose JSON lines land in an array. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('test', { level: 'debug', destination }), lines };
}

describe.skipIf(!redisServerRequired())('whether a Redis needs a password', () => {
  let open: RedisHandle;
  let guarded: RedisHandle;
  beforeAll(async () => {
    [open, guarded] = await Promise.all([serverForTest(false), serverForTest(true)]);
  }, 30_000);

  it('a connection made without a password is itself the proof that anyone may connect', async () => {
    expect(await probeRedisAccess(await connected(open.url), 'ls')).toBe('open');
  });

  it('a password in the URL proves nothing: a Redis that ignores it is still open', async () => {
    // Redis 6+ answers AUTH with an error when it has no password; ioredis carries on regardless.
    const url = `redis://:not-needed@127.0.0.1:${open.port}`;
    expect(await probeRedisAccess(await connected(url), 'ls')).toBe('open');
  });

  it('a Redis that refuses a client without the password is protected', async () => {
    expect(await probeRedisAccess(await connected(guarded.url), 'ls')).toBe('protected');
  });

  it('warns once, at warn level, for an open Redis, and stays quiet (debug) for a protected one', async () => {
    const a = capturingLogger();
    expect(await warnIfRedisOpen(await connected(open.url), a.logger, 'ls')).toBe('open');
    a.logger.flush();
    await new Promise((r) => setImmediate(r));
    const warnings = a.lines.filter((l) => l['level'] === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.['msg']).toContain(OPEN_REDIS_WARNING);
    expect(warnings[0]?.['redis']).toBe(`127.0.0.1:${open.port}`);

    const b = capturingLogger();
    expect(await warnIfRedisOpen(await connected(guarded.url), b.logger, 'ls')).toBe('protected');
    b.logger.flush();
    await new Promise((r) => setImmediate(r));
    expect(b.lines.filter((l) => l['level'] === 'warn')).toEqual([]);
    expect(b.lines.some((l) => l['redisAuth'] === 'protected')).toBe(true);
    expect(JSON.stringify(b.lines)).not.toContain(guarded.password);
  });
});
