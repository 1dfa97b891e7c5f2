import { describe, expect, it } from 'vitest';
import { ConfigError, loadAgentConfig, loadDispatcherConfig, loadRegistryConfig } from './index.js';

describe('service configuration', () => {
  it('applies documented defaults as plain numbers', () => {
    // A home without a URL file, whatever `longshore up` left in the real ~/.longshore.
    const a = loadAgentConfig({ LONGSHORE_AGENT_ID: 'a1', LONGSHORE_HOME: '/nonexistent/longshore-home' });
    expect(a).toMatchObject({ redisUrl: 'redis://127.0.0.1:6379', capacityMilli: 1000, lanes: {}, leaseMs: 4000, stalledCheckMs: 2000, logMaxBytes: 1024 * 1024, pool: '' });
    expect(loadDispatcherConfig({}).listen).toBe('127.0.0.1:7400');
    expect(loadRegistryConfig({})).toMatchObject({ listen: '127.0.0.1:7401', heartbeatIntervalMs: 2000, agentTtlMs: 6000 });
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('parses capacity, lanes and durations from the environment', () => {
    const a = loadAgentConfig({ LONGSHORE_CAPACITY: '2.5', LONGSHORE_LANES: 'ingestion=4,monitor=10', LONGSHORE_LEASE: '10s', LONGSHORE_POOL: 'ingest-eu' });
    expect(a).toMatchObject({ capacityMilli: 2500, lanes: { ingestion: 4, monitor: 10 }, leaseMs: 10_000, pool: 'ingest-eu' });
  });

  it('names every bad variable and what it expects', () => {
    let err: unknown;
    try {
      loadAgentConfig({ LONGSHORE_CAPACITY: 'lots', LONGSHORE_LANES: 'ingestion', LONGSHORE_REDIS_URL: 'localhost:6379' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('LONGSHORE_CAPACITY="lots"');
    expect(msg).toContain('LONGSHORE_LANES="ingestion"');
    expect(msg).toContain('LONGSHORE_REDIS_URL');
    expect(msg).toContain('redis://');
  });

  it('reads LONGSHORE_METRICS_ADDR for every service: none by default, else HOST:PORT', () => {
    expect(loadRegistryConfig({}).metricsAddr).toBeUndefined();
    expect(loadDispatcherConfig({ LONGSHORE_METRICS_ADDR: '' }).metricsAddr).toBeUndefined();
    expect(loadAgentConfig({ LONGSHORE_METRICS_ADDR: '0.0.0.0:9464' }).metricsAddr).toBe('0.0.0.0:9464');
    expect(loadRegistryConfig({ LONGSHORE_METRICS_ADDR: '[::1]:9464' }).metricsAddr).toBe('[::1]:9464');
    expect(() => loadRegistryConfig({ LONGSHORE_METRICS_ADDR: '9464' })).toThrow('LONGSHORE_METRICS_ADDR="9464": must be HOST:PORT');
    expect(() => loadDispatcherConfig({ LONGSHORE_METRICS_ADDR: '0.0.0.0:70000' })).toThrow('LONGSHORE_METRICS_ADDR="0.0.0.0:70000": the port must be at most 65535');
  });

  it('keeps the agent TTL at least two heartbeats long', () => {
    expect(loadRegistryConfig({ LONGSHORE_HEARTBEAT_INTERVAL: '5s', LONGSHORE_AGENT_TTL: '1s' }).agentTtlMs).toBe(10_000);
  });

  it('caps built docker images at LONGSHORE_DOCKER_IMAGE_CACHE: 10Gi by default, a size, or off', () => {
    const agent = (env: NodeJS.ProcessEnv) => loadAgentConfig({ LONGSHORE_AGENT_ID: 'a1', ...env });
    expect(agent({}).dockerImageCacheBytes).toBe(10 * 1024 ** 3);
    expect(agent({ LONGSHORE_DOCKER_IMAGE_CACHE: '512Mi' }).dockerImageCacheBytes).toBe(512 * 1024 ** 2);
    expect(agent({ LONGSHORE_DOCKER_IMAGE_CACHE: '0' }).dockerImageCacheBytes).toBe(0);
    expect(agent({ LONGSHORE_DOCKER_IMAGE_CACHE: 'off' }).dockerImageCacheBytes).toBeNull();
    expect(() => agent({ LONGSHORE_DOCKER_IMAGE_CACHE: 'lots' })).toThrow('LONGSHORE_DOCKER_IMAGE_CACHE="lots"');
  });

  it('reads LONGSHORE_DOCKER_ALLOW (nothing by default), and a bad entry stops the agent naming it', () => {
    expect(loadAgentConfig({ LONGSHORE_AGENT_ID: 'a1' }).dockerAllow.text).toBe('');
    expect(loadAgentConfig({ LONGSHORE_AGENT_ID: 'a1', LONGSHORE_DOCKER_ALLOW: 'network=bridge,cap=CAP_SYS_PTRACE,mount=/data/' }).dockerAllow).toMatchObject({
      networks: ['bridge'],
      capabilities: ['SYS_PTRACE'],
      mountPrefixes: ['/data'],
      text: 'network=bridge,cap=SYS_PTRACE,mount=/data',
    });
    expect(() => loadAgentConfig({ LONGSHORE_AGENT_ID: 'a1', LONGSHORE_DOCKER_ALLOW: 'network=bridge,mount=data' })).toThrow(
      /LONGSHORE_DOCKER_ALLOW="network=bridge,mount=data": entry "mount=data": the host path must be an absolute path/,
    );
  });

  it('gives the dispatcher the agent TTL the registry uses', () => {
    expect(loadDispatcherConfig({}).agentTtlMs).toBe(6000);
    expect(loadDispatcherConfig({ LONGSHORE_HEARTBEAT_INTERVAL: '5s', LONGSHORE_AGENT_TTL: '1s' }).agentTtlMs).toBe(10_000);
  });

  describe('LONGSHORE_EXECUTORS', () => {
    const agent = (env: NodeJS.ProcessEnv) => loadAgentConfig({ LONGSHORE_AGENT_ID: 'a1', ...env });
    const problem = (env: NodeJS.ProcessEnv): string => {
      try {
        agent(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('no ConfigError');
    };

    it('is subprocess by default, plus docker if it answers at start; exactly what it lists when set: noop only when listed', () => {
      expect(agent({})).toMatchObject({ executors: ['subprocess'], executorsIfHealthy: ['docker'], defaultExecutor: 'subprocess' });
      expect(agent({ LONGSHORE_EXECUTORS: '' })).toMatchObject({ executors: ['subprocess'], executorsIfHealthy: ['docker'] });
      expect(agent({ LONGSHORE_EXECUTORS: ' subprocess , noop ' })).toMatchObject({ executors: ['subprocess', 'noop'], executorsIfHealthy: [] });
      expect(agent({ LONGSHORE_EXECUTORS: 'subprocess' }).executorsIfHealthy).toEqual([]);
    });

    it('names the variable and the allowed executors when a name is unknown, doubled or missing', () => {
      expect(problem({ LONGSHORE_EXECUTORS: 'subprocess,dockr' })).toContain('LONGSHORE_EXECUTORS="subprocess,dockr": "dockr" is not an executor (allowed: subprocess, docker, ecs, noop)');
      expect(problem({ LONGSHORE_EXECUTORS: 'noop,noop' })).toContain('LONGSHORE_EXECUTORS="noop,noop": names an executor twice');
      expect(problem({ LONGSHORE_EXECUTORS: ' , ' })).toContain('LONGSHORE_EXECUTORS=" , ": must list at least one executor');
    });

    it('refuses a default executor the agent does not have', () => {
      expect(problem({ LONGSHORE_DEFAULT_EXECUTOR: 'noop' })).toContain(
        'LONGSHORE_DEFAULT_EXECUTOR="noop": not one of this agent\'s executors (LONGSHORE_EXECUTORS="subprocess")',
      );
      expect(agent({ LONGSHORE_EXECUTORS: 'noop', LONGSHORE_DEFAULT_EXECUTOR: 'noop' })).toMatchObject({ executors: ['noop'], defaultExecutor: 'noop' });
    });
  });
});
