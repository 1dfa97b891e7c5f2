import { create } from '@bufbuild/protobuf';
import { AgentSchema, Executor, JobSpecSchema, PullPolicy } from '@longshore/proto';
import { describe, expect, it } from 'vitest';
import { agentFromProto, agentToProto } from './agent.js';
import { specFromProto, specToProto } from './job.js';

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
