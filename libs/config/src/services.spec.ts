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

  it('keeps the agent TTL at least two heartbeats long', () => {
    expect(loadRegistryConfig({ LONGSHORE_HEARTBEAT_INTERVAL: '5s', LONGSHORE_AGENT_TTL: '1s' }).agentTtlMs).toBe(10_000);
  });
});
