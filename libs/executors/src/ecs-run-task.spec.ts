import { describe, expect, it } from 'vitest';
import { mergeRunTaskKwargs, planRunTask, runsOnFargate, startedByFor } from './ecs-run-task.js';
import type { RunRequest } from './executor.js';

const req: RunRequest = { jobId: 'some-long-pool-name.0mhx3k2ab8f3c0e9d1a2b3c4d', attempt: 12345, command: ['true'], env: {}, onLine: () => undefined };

describe('RunTask input', () => {
  it('startedBy is at most 36 characters, from the job id (not the agent id), and tells attempts apart', () => {
    expect(startedByFor(req.jobId, 1)).toBe('ls-0mhx3k2ab8f3c0e9d1a2b3c4d-1');
    expect(startedByFor(req.jobId, 12345).length).toBeLessThanOrEqual(36);
    expect(startedByFor('p.x'.repeat(30), 1).length).toBeLessThanOrEqual(36);
    expect(startedByFor(req.jobId, 12345)).toMatch(/^[A-Za-z0-9_-]+-12345$/);
    expect(startedByFor(req.jobId, 1)).not.toBe(startedByFor(req.jobId, 2));
  });

  it('a capacity provider strategy of Fargate providers sizes as Fargate, and replaces the launch type', () => {
    const settings = { cluster: 'c', container: 'job', capacityProviders: [{ capacityProvider: 'FARGATE_SPOT', weight: 3 }, { capacityProvider: 'FARGATE', weight: 1, base: 1 }], subnets: ['subnet-1'] };
    expect(runsOnFargate(settings)).toBe(true);
    expect(runsOnFargate({ capacityProviders: [{ capacityProvider: 'my-ec2-asg' }] })).toBe(false);
    const plan = planRunTask({ ...req, memoryBytes: 3 * 1024 ** 3 }, 'arn:td', 'job', settings, 'agent-1', '');
    expect(plan.input.capacityProviderStrategy).toEqual(settings.capacityProviders);
    expect(plan.input.launchType).toBeUndefined();
    expect(plan.input.overrides).toMatchObject({ cpu: '512', memory: '3072' });
    expect(plan.detail).toBe('Fargate 0.5 vCPU / 3 GiB (cpu 512, memory 3072 MiB)');
  });

  it('merge: objects merge, arrays replace, containerOverrides by name at any depth', () => {
    expect(mergeRunTaskKwargs({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 })).toEqual({ a: { b: 1, c: [3] }, d: 1, e: 2 });
    expect(
      mergeRunTaskKwargs({ overrides: { containerOverrides: [{ name: 'x', cpu: 1 }, { name: 'y', cpu: 2 }] } }, { overrides: { containerOverrides: [{ name: 'y', memory: 5 }, { name: 'z' }] } }),
    ).toEqual({ overrides: { containerOverrides: [{ name: 'x', cpu: 1 }, { name: 'y', cpu: 2, memory: 5 }, { name: 'z' }] } });
  });
});
