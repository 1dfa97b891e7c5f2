import { describe, expect, it } from 'vitest';
import { ConfigError, loadAgentConfig, loadDispatcherConfig, loadRegistryConfig, parseRedisEndpoint, redactRedisUrl } from './index.js';

function problem(url: string): string {
  try {
    parseRedisEndpoint(url);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`expected ${url} to be refused`);
}

describe('LONGSHORE_REDIS_URL forms', () => {
  it('keeps a redis:// or rediss:// URL as it is, for ioredis to parse', () => {
    expect(parseRedisEndpoint('redis://u:p@127.0.0.1:6379/2')).toEqual({ kind: 'single', url: 'redis://u:p@127.0.0.1:6379/2' });
    expect(parseRedisEndpoint('rediss://redis.internal')).toEqual({ kind: 'single', url: 'rediss://redis.internal' });
  });

  it('reads a Redis Cluster URL: startup nodes and credentials', () => {
    expect(parseRedisEndpoint('redis-cluster://ls:s%40cret@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002,redis-c')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
        { host: 'redis-c', port: 6379 },
      ],
      username: 'ls',
      password: 's@cret',
    });
    expect(parseRedisEndpoint('redis-cluster://:pw@h1:1/')).toEqual({ kind: 'cluster', nodes: [{ host: 'h1', port: 1 }], password: 'pw' });
  });

  it('reads a Sentinel URL: sentinels (default port 26379), master name and credentials', () => {
    expect(parseRedisEndpoint('redis-sentinel://:pw@s1:26380,s2/mymaster')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
      ],
      masterName: 'mymaster',
      password: 'pw',
    });
  });

  it('refuses a malformed host list, naming the variable, the entry and the form to write', () => {
    const m = problem('redis-cluster://h1:7000,,h2:7001');
    expect(m).toMatch(/^LONGSHORE_REDIS_URL /);
    expect(m).toContain('empty entry');
    expect(m).toContain('redis-cluster://[user:password@]host1:port1,host2:port2');
    expect(problem('redis-cluster://')).toContain('names no hosts');
    expect(problem('redis-cluster://h_1:7000')).toContain('"h_1:7000" in its host list, which is not HOST:PORT');
    expect(problem('redis-sentinel://a b:1/m')).toContain('not HOST:PORT');
  });

  it('refuses a bad port', () => {
    expect(problem('redis-cluster://h1:70000')).toContain('port "70000" is not a number from 1 to 65535');
    expect(problem('redis-cluster://h1:0')).toContain('port "0"');
    expect(problem('redis-sentinel://h1:x/m')).toContain('port "x"');
  });

  it('refuses a Sentinel URL without a master name, saying where it goes', () => {
    for (const url of ['redis-sentinel://s1:26379', 'redis-sentinel://s1:26379/']) {
      const m = problem(url);
      expect(m).toContain('names no master');
      expect(m).toContain('redis-sentinel://[user:password@]host1:26379,host2:26379/MASTER_NAME');
    }
    expect(problem('redis-sentinel://s1/a/b')).toContain('not a Sentinel master name');
  });

  it('refuses other schemes, a database on a Cluster and query options', () => {
    expect(problem('http://h:1')).toContain('"http://"');
    expect(problem('localhost:6379')).toContain('must be a redis://');
    expect(problem('redis-cluster://h:1/3')).toContain('Redis Cluster does not have');
    expect(problem('redis-sentinel://h:1/m?role=slave')).toContain('takes no query');
  });

  it('never puts the password in a message', () => {
    expect(problem('redis-cluster://u:hunter2@h1:99999')).not.toContain('hunter2');
    const err = (() => {
      try {
        loadDispatcherConfig({ LONGSHORE_REDIS_URL: 'redis-sentinel://u:hunter2@s1:26379' });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a throw');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('LONGSHORE_REDIS_URL');
    expect(err.message).toContain('names no master');
    expect(err.message).not.toContain('hunter2');
  });

  it('is accepted by every service', () => {
    const url = 'redis-cluster://127.0.0.1:7000,127.0.0.1:7001';
    expect(loadRegistryConfig({ LONGSHORE_REDIS_URL: url }).redisUrl).toBe(url);
    expect(loadDispatcherConfig({ LONGSHORE_REDIS_URL: url }).redisUrl).toBe(url);
    expect(loadAgentConfig({ LONGSHORE_REDIS_URL: 'redis-sentinel://s1/m', LONGSHORE_AGENT_ID: 'a1' }).redisUrl).toBe('redis-sentinel://s1/m');
  });

  it('redacts the password of every form', () => {
    expect(redactRedisUrl('redis-cluster://u:pw@h1:1,h2:2')).toBe('redis-cluster://u:***@h1:1,h2:2');
    expect(redactRedisUrl('redis-sentinel://:pw@s1/m')).toBe('redis-sentinel://:***@s1/m');
    expect(redactRedisUrl('redis://:pw@h:1')).toBe('redis://:***@h:1');
    expect(redactRedisUrl('redis://h:1')).toBe('redis://h:1');
  });
});

describe('LONGSHORE_REDIS_WAIT_REPLICAS', () => {
  it('defaults to 0 (no waiting), with a 1 s WAIT timeout', () => {
    const c = loadDispatcherConfig({});
    expect(c.redisWaitReplicas).toBe(0);
    expect(c.redisWaitTimeoutMs).toBe(1000);
  });

  it('reads a count and a timeout in every service', () => {
    const env = { LONGSHORE_REDIS_WAIT_REPLICAS: '1', LONGSHORE_REDIS_WAIT_TIMEOUT: '250ms', LONGSHORE_AGENT_ID: 'a1' };
    for (const c of [loadRegistryConfig(env), loadDispatcherConfig(env), loadAgentConfig(env)]) {
      expect(c.redisWaitReplicas).toBe(1);
      expect(c.redisWaitTimeoutMs).toBe(250);
    }
  });

  it('refuses a value that is not a whole number', () => {
    expect(() => loadDispatcherConfig({ LONGSHORE_REDIS_WAIT_REPLICAS: 'one' })).toThrow(/LONGSHORE_REDIS_WAIT_REPLICAS="one": must be a whole number/);
    expect(() => loadDispatcherConfig({ LONGSHORE_REDIS_WAIT_REPLICAS: '-1' })).toThrow(/LONGSHORE_REDIS_WAIT_REPLICAS/);
  });
});
