import type { AgentView, JobSpec } from '@longshore/domain';
import { describe, expect, it } from 'vitest';
import { DockerAllowCheck } from './docker-allow-check.js';

const spec = (docker: JobSpec['docker'], executor: JobSpec['executor'] = 'docker'): JobSpec => ({
  pool: 'p',
  executor,
  allowedExecutors: executor === 'auto' ? ['docker', 'subprocess'] : [],
  image: 'busybox:1',
  command: ['true'],
  env: {},
  weightMilli: 0,
  timeoutMs: 0,
  maxAttempts: 0,
  priority: 0,
  labels: {},
  ...(docker ? { docker } : {}),
});

function agent(id: string, dockerAllow: string, extra: Partial<AgentView> = {}): AgentView {
  return {
    id,
    pool: 'p',
    host: 'h',
    version: '1',
    capacityMilli: 1000,
    weightInUseMilli: 0,
    runningJobIds: [],
    laneUsage: {},
    laneLimits: {},
    executors: ['subprocess', 'docker'],
    labels: {},
    state: 'active',
    effectiveState: 'active',
    lastHeartbeat: 0,
    registeredAt: 0,
    dockerAllow,
    ...extra,
  };
}

const check = (agents: AgentView[], s: JobSpec) => new DockerAllowCheck(() => Promise.resolve(agents)).check(s, 'p');

describe('docker options at submit', () => {
  it('refuses an option no live docker agent of the pool allows, naming the field, the lists and the entry', async () => {
    const refused = check([agent('a-1', ''), agent('a-2', 'network=bridge')], spec({ capAdd: ['SYS_PTRACE'] }));
    await expect(refused).rejects.toMatchObject({ field: 'docker.cap_add[0]' });
    await expect(refused).rejects.toThrow(
      'capability SYS_PTRACE is not allowed by any live docker agent of pool "p" (their LONGSHORE_DOCKER_ALLOW: a-1: nothing; a-2: "network=bridge"): drop the option, or have an agent of the pool allow it with the entry "cap=SYS_PTRACE"',
    );
    await expect(check([agent('a-1', '')], spec({ capAdd: ['SYS_PTRACE'] }, 'auto'))).rejects.toMatchObject({ field: 'docker.cap_add[0]' });
  });

  it('accepts it when one live docker agent allows it, or when the pool has no live docker agent yet', async () => {
    await expect(check([agent('a-1', ''), agent('a-2', 'cap=SYS_PTRACE')], spec({ capAdd: ['SYS_PTRACE'] }))).resolves.toBeUndefined();
    await expect(check([], spec({ privileged: true }))).resolves.toBeUndefined();
    const notLive = [agent('lost', '', { effectiveState: 'lost' }), agent('draining', '', { effectiveState: 'draining', state: 'draining' }), agent('sub', '', { executors: ['subprocess'] })];
    await expect(check(notLive, spec({ privileged: true }))).resolves.toBeUndefined();
    // An allow-list this dispatcher cannot read (a newer agent): that agent decides.
    await expect(check([agent('new', 'gpus=all')], spec({ privileged: true }))).resolves.toBeUndefined();
  });

  it('does not look at agents for options within the secure defaults, or for a job that does not name docker', async () => {
    const boom = new DockerAllowCheck(() => Promise.reject(new Error('agents read')));
    await expect(boom.check(spec({ user: '1000', readOnlyRoot: true, capAdd: ['CHOWN'] }), 'p')).resolves.toBeUndefined();
    await expect(boom.check(spec(undefined), 'p')).resolves.toBeUndefined();
    const { executor: _named, ...noExecutor } = spec({ privileged: true });
    await expect(boom.check(noExecutor, 'p')).resolves.toBeUndefined();
  });
});
