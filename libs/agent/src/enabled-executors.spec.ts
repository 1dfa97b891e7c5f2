import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadAgentConfig } from '@longshore/config';
import { silentLogger } from '@longshore/telemetry';
import { describeDocker } from '@longshore/testing/vitest';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { checkExecutorsBuildable, createEnabledExecutors } from './enabled-executors.js';

describe('the executors an agent has', () => {
  const jobDir = mkdtempSync(join(tmpdir(), 'enabled-executors-'));
  afterAll(() => rmSync(jobDir, { recursive: true, force: true }));
  const config = (executors: string, defaultExecutor = 'subprocess') =>
    loadAgentConfig({ LONGSHORE_AGENT_ID: 'a1', LONGSHORE_JOB_DIR: jobDir, LONGSHORE_EXECUTORS: executors, LONGSHORE_DEFAULT_EXECUTOR: defaultExecutor, LONGSHORE_HOME: '/nonexistent/longshore-home' });

  it('are those LONGSHORE_EXECUTORS lists: subprocess alone by default, noop only when listed', async () => {
    const plain = await createEnabledExecutors(loadAgentConfig({ LONGSHORE_AGENT_ID: 'a1', LONGSHORE_JOB_DIR: jobDir, LONGSHORE_HOME: '/nonexistent/longshore-home' }), silentLogger(), {});
    expect(Object.keys(plain)).toEqual(['subprocess']);
    const bench = await createEnabledExecutors(config('subprocess,noop'), silentLogger(), {});
    expect(Object.keys(bench)).toEqual(['subprocess', 'noop']);
    expect(bench.noop?.name).toBe('noop');
    expect(Object.keys(await createEnabledExecutors(config('noop', 'noop'), silentLogger(), {}))).toEqual(['noop']);
  });

  it('refuse, naming the variable and what this agent can run, an executor it cannot build yet', async () => {
    const ecs = config('subprocess,ecs');
    expect(() => checkExecutorsBuildable(ecs)).toThrow(ConfigError);
    expect(() => checkExecutorsBuildable(ecs)).toThrow('LONGSHORE_EXECUTORS="subprocess,ecs": "ecs" cannot run on this version of the agent yet (it can run: subprocess, docker, noop)');
    await expect(createEnabledExecutors(ecs, silentLogger(), {})).rejects.toThrow(ConfigError);
  });

  it('refuse docker when no engine answers where DOCKER_HOST says, naming it', async () => {
    vi.stubEnv('DOCKER_HOST', 'unix:///nonexistent/docker.sock');
    try {
      await expect(createEnabledExecutors(config('subprocess,docker'), silentLogger(), {})).rejects.toThrow(
        'LONGSHORE_EXECUTORS="subprocess,docker": "docker" cannot run jobs on this host (no Docker engine answers at DOCKER_HOST=unix:///nonexistent/docker.sock); remove it from the list',
      );
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
});
