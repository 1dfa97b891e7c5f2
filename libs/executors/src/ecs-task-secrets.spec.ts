import type { EcsSecret } from '@longshore/domain';
import { describe, expect, it } from 'vitest';
import { createEcsExecutor } from './ecs-executor.js';
import { FakeEcs } from './ecs-fake.js';
import type { RunRequest } from './executor.js';
import { StartFailedError } from './start-errors.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/DB-a1b2c3';

function setup(executionRoleArn: string | null = 'arn:aws:iam::123456789012:role/exec') {
  const ecs = new FakeEcs('jobs');
  const base = ecs.addTaskDefinition('longshore-job', 'job', 'alpine:3.20');
  if (executionRoleArn) base.executionRoleArn = executionRoleArn;
  base.containerDefinitions![0]!.environment = [{ name: 'PW', value: 'from the definition' }, { name: 'KEEP', value: 'k' }];
  const executor = createEcsExecutor({ api: ecs, cluster: 'jobs', container: 'job', taskDefinition: 'longshore-job', agentId: 'a', pool: 'p', pollIntervalMs: 5, retryBackoffMs: 1 });
  return { ecs, executor };
}

const request = (secrets: readonly EcsSecret[] | undefined, attempt = 1): RunRequest => ({
  jobId: 'p.0mhx3k2ab8f3c0e9d1a2b3c4d',
  attempt,
  command: ['sh', '-c', 'echo "$PW"'],
  env: { PLAIN: 'x' },
  onLine: () => undefined,
  ...(secrets ? { ecs: { secrets } } : {}),
});

const never = new AbortController().signal;

describe('ecs executor: secrets through the task definition', () => {
  it('runs the task in a derived revision whose container has the secrets (valueFrom), never in the overrides, and reuses it for the same set', async () => {
    const { ecs, executor } = setup();
    const secrets = [{ name: 'PW', valueFrom: `${ARN}:password::v-1` }];
    await executor.start(request(secrets), never);
    expect(ecs.calls['RegisterTaskDefinition']).toBe(1);
    const derived = ecs.taskDefinitions.at(-1)!;
    expect(derived.family).toMatch(/^longshore-job-secrets-[0-9a-f]{12}$/);
    expect(derived.executionRoleArn).toBe('arn:aws:iam::123456789012:role/exec');
    const container = derived.containerDefinitions![0]!;
    expect(container.secrets).toEqual(secrets);
    // The definition's own PW gives way to the secret; the rest of it stays.
    expect(container.environment).toEqual([{ name: 'KEEP', value: 'k' }]);
    expect(container.logConfiguration).toEqual(ecs.taskDefinitions[0]!.containerDefinitions![0]!.logConfiguration);
    const input = ecs.runInputs[0]!;
    expect(input.taskDefinition).toBe(derived.taskDefinitionArn);
    expect(JSON.stringify(input.overrides)).not.toContain('secretsmanager');
    expect(input.overrides?.containerOverrides?.[0]?.environment).toEqual([{ name: 'PLAIN', value: 'x' }]);

    // Another attempt with the same secrets: the same revision, nothing registered.
    await executor.start(request(secrets, 2), never);
    expect(ecs.calls['RegisterTaskDefinition']).toBe(1);
    expect(ecs.runInputs[1]!.taskDefinition).toBe(derived.taskDefinitionArn);
    // Another executor (an agent restarted) finds it by its family too.
    const again = createEcsExecutor({ api: ecs, cluster: 'jobs', container: 'job', taskDefinition: 'longshore-job', agentId: 'a', pool: 'p', pollIntervalMs: 5 });
    await again.start(request(secrets, 3), never);
    expect(ecs.calls['RegisterTaskDefinition']).toBe(1);
    expect(ecs.runInputs[2]!.taskDefinition).toBe(derived.taskDefinitionArn);
  });

  it('registers another revision family after a rotation (a new version pinned)', async () => {
    const { ecs, executor } = setup();
    await executor.start(request([{ name: 'PW', valueFrom: `${ARN}:::v-1` }]), never);
    await executor.start(request([{ name: 'PW', valueFrom: `${ARN}:::v-2` }], 2), never);
    expect(ecs.calls['RegisterTaskDefinition']).toBe(2);
    const [first, second] = ecs.runInputs.map((i) => i.taskDefinition);
    expect(first).not.toBe(second);
    expect(ecs.taskDefinitions.at(-1)!.containerDefinitions![0]!.secrets).toEqual([{ name: 'PW', valueFrom: `${ARN}:::v-2` }]);
  });

  it('runs the job’s own task definition when it has no secrets', async () => {
    const { ecs, executor } = setup();
    await executor.start(request(undefined), never);
    expect(ecs.calls['RegisterTaskDefinition']).toBeUndefined();
    expect(ecs.runInputs[0]!.taskDefinition).toBe(ecs.taskDefinitions[0]!.taskDefinitionArn);
  });

  it('fails the start, naming why, when the task definition has no execution role to fetch secrets with', async () => {
    const { ecs, executor } = setup(null);
    const err = (await executor.start(request([{ name: 'PW', valueFrom: `${ARN}:::v-1` }]), never).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(StartFailedError);
    expect(err.message).toMatch(/has no executionRoleArn: ECS fetches an ECS job's secrets .* secretsmanager:GetSecretValue/);
    expect(ecs.calls['RunTask']).toBeUndefined();
  });
});
