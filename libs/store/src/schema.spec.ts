import { startRedis, type RedisHandle } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSchema, createRedis, SCHEMA_VERSION, type Redis } from './index.js';

describe('the key schema version', () => {
  let server: RedisHandle;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedis();
    redis = createRedis(server.url, 'worker');
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('stamps an empty Redis, and accepts data of its own version', async () => {
    await checkSchema(redis, 'fresh');
    expect(await redis.get('fresh:{_}:schema')).toBe(String(SCHEMA_VERSION));
    await checkSchema(redis, 'fresh');
  });

  it('refuses data of the first schema (keys without pool tags), saying how to move on', async () => {
    await redis.zadd('old:jobs', 0, '0mx4oclbp127174a192535a01');
    await expect(checkSchema(redis, 'old')).rejects.toThrow(/schema version 1 .* uses version 2: there is no in-place migration.*\$LONGSHORE_HOME\/redis/);
    expect(await redis.get('old:{_}:schema')).toBeNull();
  });

  it('refuses data of a newer version', async () => {
    await redis.set('newer:{_}:schema', '3');
    await expect(checkSchema(redis, 'newer')).rejects.toThrow(/schema version 3/);
  });
});
