import { create } from '@bufbuild/protobuf';
import { AgentSchema, Executor, JobSchema, JobSpecSchema, PullPolicy } from '@longshore/proto';
import { describe, expect, it } from 'vitest';
import { agentFromProto, agentToProto } from './agent.js';
import { jobToProto, specFromProto, specToProto } from './job.js';

describe('proto conversion', () => {
  it('carries every docker option both ways, and leaves them out when none is set', () => {
    const docker = {
      pullPolicy: PullPolicy.NEVER,
      buildSteps: ['apk add curl'],
      buildArgs: { V: '1' },
      user: '1000:1000',
      network: 'bridge',
      labels: { team: 'data' },
      readOnlyRoot: true,
      capAdd: ['SYS_PTRACE'],
      mounts: [{ source: '/data', target: '/in', readOnly: true }],
      devices: ['/dev/fuse'],
      privileged: true,
      hostPid: true,
      hostIpc: true,
    };
    const spec = specFromProto(create(JobSpecSchema, { command: ['true'], image: 'busybox', docker }));
    expect(spec.docker).toEqual({
      pull: 'never',
      buildSteps: ['apk add curl'],
      buildArgs: { V: '1' },
      user: '1000:1000',
      network: 'bridge',
      labels: { team: 'data' },
      readOnlyRoot: true,
      capAdd: ['SYS_PTRACE'],
      mounts: [{ source: '/data', target: '/in', readOnly: true }],
      devices: ['/dev/fuse'],
      privileged: true,
      hostPid: true,
      hostIpc: true,
    });
    const back = create(JobSpecSchema, specToProto(spec));
    expect(back.docker).toMatchObject(docker);
    expect(specFromProto(create(JobSpecSchema, { command: ['true'], docker: {} })).docker).toBeUndefined();
  });

  it('carries the ECS options and an attempt\'s run detail both ways, and leaves unset ECS options out', () => {
    const ecs = { taskDefinition: 'etl:3', container: 'job', runTaskOverrides: '{"overrides":{}}' };
    const spec = specFromProto(create(JobSpecSchema, { command: ['true'], executor: Executor.ECS, ecs }));
    expect(spec.ecs).toEqual(ecs);
    expect(create(JobSpecSchema, specToProto(spec)).ecs).toMatchObject(ecs);
    expect(specFromProto(create(JobSpecSchema, { command: ['true'], ecs: {} })).ecs).toBeUndefined();
    const record = { id: 'p.x', spec, state: 'succeeded' as const, weightMilli: 1000, createdAt: 1, updatedAt: 1, logTruncated: false, attempts: [{ number: 1, agentId: 'a', executor: 'ecs' as const, startedAt: 1, runDetail: 'Fargate 1 vCPU / 2 GiB (cpu 1024, memory 2048 MiB)' }] };
    expect(create(JobSchema, jobToProto(record)).attempts[0]!.runDetail).toBe('Fargate 1 vCPU / 2 GiB (cpu 1024, memory 2048 MiB)');
  });

  it("keeps an agent's executor health and docker allow-list", () => {
    const p = create(AgentSchema, {
      id: 'a',
      executorHealth: [
        { executor: Executor.SUBPROCESS, healthy: true, reason: '' },
        { executor: Executor.DOCKER, healthy: false, reason: 'engine unreachable' },
      ],
      dockerAllow: 'network=bridge',
    });
    const info = agentFromProto(p, 1);
    expect(info.executorHealth).toEqual([
      { executor: 'subprocess', healthy: true, reason: '' },
      { executor: 'docker', healthy: false, reason: 'engine unreachable' },
    ]);
    expect(create(AgentSchema, agentToProto(info))).toMatchObject({ executorHealth: p.executorHealth, dockerAllow: 'network=bridge' });
  });
});
