import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadAgentConfig } from '@longshore/config';
import { silentLogger } from '@longshore/telemetry';
import { afterAll, describe, expect, it } from 'vitest';
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
    const docker = config('subprocess,docker');
    expect(() => checkExecutorsBuildable(docker)).toThrow(ConfigError);
    expect(() => checkExecutorsBuildable(docker)).toThrow('LONGSHORE_EXECUTORS="subprocess,docker": "docker" cannot run on this version of the agent yet (it can run: subprocess, noop)');
    await expect(createEnabledExecutors(docker, silentLogger(), {})).rejects.toThrow(ConfigError);
  });
});
