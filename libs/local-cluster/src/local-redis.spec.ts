import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisServerRequired, Resources } from '@longshore/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureRedis } from './local-redis.js';
import { freeLoopbackPort, probeRedis } from './redis-probe.js';

const res = new Resources();
afterAll(() => res.stopAll());

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'longshore-local-redis-'));
  res.add({ stop: () => rm(dir, { recursive: true, force: true }) });
  return dir;
}

describe.skipIf(!redisServerRequired())('ensureRedis with LONGSHORE_REDIS_URL set', () => {
  it('starts Redis on the URL\'s port with the URL\'s ACL user, and nobody else gets in', async () => {
    const [home, port] = [await tempDir(), await freeLoopbackPort()];
    const url = `redis://longshore:p%40ss%20word@127.0.0.1:${port}`;
    const redis = res.add(await ensureRedis({ url, home, dataDir: join(home, 'redis') }));
    expect(redis).toMatchObject({ started: true, url, displayUrl: `redis://127.0.0.1:${port}`, password: true });
    expect(await probeRedis('127.0.0.1', port, { username: 'longshore', password: 'p@ss word' })).toBe('ready');
    expect(await probeRedis('127.0.0.1', port)).toBe('refused'); // NOAUTH: the default user is off
    expect(await probeRedis('127.0.0.1', port, { username: '', password: 'p@ss word' })).toBe('refused');
    expect(((await stat(join(home, 'redis', 'redis.conf'))).mode & 0o777).toString(8)).toBe('600');
    expect(await readFile(join(home, 'redis', 'redis.conf'), 'utf8')).toContain('user default off');
    // A URL named by the user is theirs: no URL file is written.
    await expect(stat(join(home, 'redis-url'))).rejects.toThrow(/ENOENT/);
    await redis.stop();
    expect(await probeRedis('127.0.0.1', port)).toBe('down');
  });

  it('uses a Redis that already answers there, starting nothing', async () => {
    const [home, port] = [await tempDir(), await freeLoopbackPort()];
    const first = res.add(await ensureRedis({ url: `redis://:pw@127.0.0.1:${port}`, home, dataDir: join(home, 'redis') }));
    const second = await ensureRedis({ url: `redis://:pw@127.0.0.1:${port}`, home, dataDir: join(home, 'other') });
    expect(second.started).toBe(false);
    await first.stop();
  });
});

describe('ensureRedis with a Redis Cluster or Sentinel URL', () => {
  it('starts nothing and hands the URL on (the services connect and report problems), showing no password', async () => {
    for (const url of ['redis-cluster://:pw@127.0.0.1:1,127.0.0.1:2', 'redis-sentinel://:pw@127.0.0.1:1/mymaster']) {
      const redis = await ensureRedis({ url, home: '/nonexistent', dataDir: '/nonexistent/redis' });
      expect(redis.started).toBe(false);
      expect(redis.url).toBe(url);
      expect(redis.password).toBe(true);
      expect(redis.displayUrl).not.toContain('pw');
    }
  });
});

describe.skipIf(!redisServerRequired())("up's own Redis", () => {
  it('never takes a port the registry or dispatcher is about to bind, even a free one it had recorded', async () => {
    const home = await tempDir();
    const first = await ensureRedis({ home, dataDir: join(home, 'redis') });
    const recorded = Number(new URL(first.url).port);
    await first.stop();
    // The recorded port is free again, but the dispatcher is about to take it.
    const again = await ensureRedis({ home, dataDir: join(home, 'redis'), avoidPorts: [recorded] });
    res.add({ stop: () => again.stop() });
    const port = Number(new URL(again.url).port);
    expect(port).not.toBe(recorded);
    expect(await probeRedis('127.0.0.1', port, { username: decodeURIComponent(new URL(again.url).username), password: decodeURIComponent(new URL(again.url).password) })).toBe('ready');
  });

  it('finds free ports other than those to avoid', async () => {
    const taken = await freeLoopbackPort();
    for (let i = 0; i < 20; i++) expect(await freeLoopbackPort([taken])).not.toBe(taken);
  });
});
