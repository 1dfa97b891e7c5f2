import type { DockerJobOptions, EcsJobOptions, JobSpec } from '@longshore/domain';
import { describe, expect, it } from 'vitest';
import { decodeSpec } from './codec.js';

describe('decodeSpec', () => {
  it('keeps every field of a stored spec (the agent runs what was submitted, ECS and docker options included)', () => {
    // Required<…>: a field added to JobSpec must be added here, and so to the decoder, which drops what it does not name.
    const docker: Required<DockerJobOptions> = {
      pull: 'always',
      buildSteps: ['apk add curl'],
      buildArgs: { V: '1' },
      user: '1000:1000',
      network: 'bridge',
      labels: { team: 'data' },
      readOnlyRoot: true,
      capAdd: ['SYS_PTRACE'],
      mounts: [{ source: '/data', target: '/in', readOnly: true }],
      devices: ['/dev/fuse'],
      privileged: false,
      hostPid: false,
      hostIpc: false,
    };
    const ecs: Required<EcsJobOptions> = { taskDefinition: 'etl:3', container: 'job', runTaskOverrides: '{"group":"g"}' };
    const spec: Required<JobSpec> = {
      pool: 'p',
      executor: 'ecs',
      allowedExecutors: ['ecs', 'docker'],
      command: ['sh', '-c', 'echo hi'],
      env: { A: '1' },
      workingDir: '/work',
      weightMilli: 500,
      lane: 'etl',
      memoryBytes: 1024,
      cpusMilli: 500,
      timeoutMs: 1000,
      maxAttempts: 2,
      priority: 1,
      labels: { k: 'v' },
      idempotencyKey: 'key',
      image: 'busybox:1',
      retry: { budgets: { exit: 1, timeout: 0, oom: 0, start_failed: 2, lost: 3 }, backoffMs: 1000, maxBackoffMs: 60_000 },
      docker,
      ecs,
    };
    expect(decodeSpec(JSON.stringify(spec))).toEqual({ ok: true, spec });
  });

  it('refuses a record that is not a spec, saying why', () => {
    expect(decodeSpec('{')).toEqual({ ok: false, reason: 'its stored spec is not JSON' });
    expect(decodeSpec('{"pool":"p"}')).toMatchObject({ ok: false, reason: expect.stringMatching(/^its stored spec is malformed: /) });
  });
});
