import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgentConfig } from '@longshore/config';
import { silentLogger, type Logger } from '@longshore/telemetry';
import { describeDocker } from '@longshore/testing/vitest';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { checkExecutorsBuildable, createEnabledExecutors } from './enabled-executors.js';
import { chooseExecutor } from './executors.js';

describe('the executors an agent has', () => {
  const jobDir = mkdtempSync(join(tmpdir(), 'enabled-executors-'));
  afterAll(() => rmSync(jobDir, { recursive: true, force: true }));
  const config = (executors: string, defaultExecutor = 'subprocess') =>
    loadAgentConfig({ LONGSHORE_AGENT_ID: 'a1', LONGSHORE_JOB_DIR: jobDir, LONGSHORE_EXECUTORS: executors, LONGSHORE_DEFAULT_EXECUTOR: defaultExecutor, LONGSHORE_HOME: '/nonexistent/longshore-home' });

  it('are those LONGSHORE_EXECUTORS lists: by default subprocess, alone when no Docker engine answers; noop only when listed', async () => {
    vi.stubEnv('DOCKER_HOST', 'unix:///nonexistent/docker.sock');
    try {
      const plain = await createEnabledExecutors(loadAgentConfig({ LONGSHORE_AGENT_ID: 'a1', LONGSHORE_JOB_DIR: jobDir, LONGSHORE_HOME: '/nonexistent/longshore-home' }), silentLogger(), {});
      expect(Object.keys(plain)).toEqual(['subprocess']);
    } finally {
      vi.unstubAllEnvs();
    }
    const bench = await createEnabledExecutors(config('subprocess,noop'), silentLogger(), {});
    expect(Object.keys(bench)).toEqual(['subprocess', 'noop']);
    expect(bench.noop?.name).toBe('noop');
    expect(Object.keys(await createEnabledExecutors(config('noop', 'noop'), silentLogger(), {}))).toEqual(['noop']);
  });

  it('build ecs from its settings; with the start-up check on, an agent whose cluster ECS cannot describe does not start, naming the cluster', async () => {
    const ecsEnv = { AWS_REGION: 'eu-west-1', LONGSHORE_ECS_CLUSTER: 'jobs', LONGSHORE_ECS_CONTAINER: 'job', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
    // Nothing listens there: DescribeClusters fails at once, on loopback.
    vi.stubEnv('AWS_ENDPOINT_URL_ECS', 'http://127.0.0.1:9');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    vi.stubEnv('AWS_MAX_ATTEMPTS', '1');
    try {
      const load = (more: Record<string, string>) =>
        loadAgentConfig({ LONGSHORE_AGENT_ID: 'a1', LONGSHORE_JOB_DIR: jobDir, LONGSHORE_EXECUTORS: 'subprocess,ecs', LONGSHORE_HOME: '/nonexistent/longshore-home', ...ecsEnv, ...more });
      checkExecutorsBuildable(load({}));
      await expect(createEnabledExecutors(load({}), silentLogger(), {})).rejects.toThrow(/^LONGSHORE_ECS_CLUSTER="jobs": DescribeClusters jobs: .*LONGSHORE_ECS_CHECK_CLUSTER=false/);
      const kept = await createEnabledExecutors(load({ LONGSHORE_ECS_CHECK_CLUSTER: 'false' }), silentLogger(), {});
      expect(Object.keys(kept)).toEqual(['subprocess', 'ecs']);
      expect(kept.ecs?.reattachable).toBe(true);
      // The auto chain ecs, docker, subprocess: ecs is unhealthy now, docker absent; the attempt records why.
      const health = await kept.ecs!.probe(new AbortController().signal);
      expect(health.healthy).toBe(false);
      const reason = health.healthy ? '' : health.reason;
      const spec = { pool: '', executor: 'auto' as const, allowedExecutors: ['ecs', 'docker', 'subprocess'] as const, command: ['true'], env: {}, weightMilli: 0, timeoutMs: 0, maxAttempts: 0, priority: 0, labels: {} };
      const choice = chooseExecutor({ ...spec, allowedExecutors: [...spec.allowedExecutors] }, kept, 'subprocess', 'a1', { ecs: reason });
      expect(choice).toMatchObject({ name: 'subprocess', reason: `auto: ecs unreachable on this agent (${reason}); docker not available on this agent; chose subprocess` });
      expect(reason).toMatch(/^DescribeClusters jobs: /);
      // A job that allows only ecs does not run elsewhere.
      expect(chooseExecutor({ ...spec, allowedExecutors: ['ecs'] }, kept, 'subprocess', 'a1', { ecs: reason })).toMatchObject({ error: expect.stringContaining('ecs unreachable on this agent') });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('keep docker listed explicitly when no engine answers where DOCKER_HOST says (it may recover), saying so loudly', async () => {
    vi.stubEnv('DOCKER_HOST', 'unix:///nonexistent/docker.sock');
    const logged: string[] = [];
    const logger = { ...silentLogger(), error: (_obj: unknown, msg: string) => void logged.push(msg) } as unknown as Logger;
    try {
      const set = await createEnabledExecutors(config('subprocess,docker'), logger, {});
      expect(Object.keys(set)).toEqual(['subprocess', 'docker']);
      expect(await set.docker!.probe(new AbortController().signal)).toEqual({ healthy: false, reason: 'connect ENOENT /nonexistent/docker.sock' });
      expect(logged).toEqual([
        'LONGSHORE_EXECUTORS="subprocess,docker": "docker" cannot run jobs on this host now (connect ENOENT /nonexistent/docker.sock; the Docker engine at DOCKER_HOST=unix:///nonexistent/docker.sock); it is kept and probed on every heartbeat, and claims no jobs until it is healthy',
      ]);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describeDocker('the docker executor of an agent', ({ host }) => {
  const jobDir = mkdtempSync(join(tmpdir(), 'enabled-executors-'));
  afterAll(() => rmSync(jobDir, { recursive: true, force: true }));

  it('is there when listed, on the engine DOCKER_HOST names, and its runs can be re-attached', async () => {
    vi.stubEnv('DOCKER_HOST', host);
    try {
      const config = loadAgentConfig({ LONGSHORE_AGENT_ID: 'a1', LONGSHORE_JOB_DIR: jobDir, LONGSHORE_EXECUTORS: 'subprocess,docker', LONGSHORE_HOME: '/nonexistent/longshore-home' });
      const set = await createEnabledExecutors(config, silentLogger(), {});
      expect(Object.keys(set)).toEqual(['subprocess', 'docker']);
      expect(set.docker?.reattachable).toBe(true);
      expect(set.subprocess?.reattachable).toBe(false);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('is there by default, when LONGSHORE_EXECUTORS is unset and the engine answers', async () => {
    vi.stubEnv('DOCKER_HOST', host);
    try {
      const set = await createEnabledExecutors(loadAgentConfig({ LONGSHORE_AGENT_ID: 'a1', LONGSHORE_JOB_DIR: jobDir, LONGSHORE_HOME: '/nonexistent/longshore-home' }), silentLogger(), {});
      expect(Object.keys(set)).toEqual(['subprocess', 'docker']);
      expect(await set.docker!.probe(new AbortController().signal)).toEqual({ healthy: true });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
