import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors/index.js';
import { secretsManagerValueFrom } from './ecs.js';
import { validateJobSpec } from './job-spec.js';
import type { JobSpec } from './model.js';

const ok: JobSpec = { pool: '', allowedExecutors: [], command: ['echo', 'hi'], env: {}, weightMilli: 0, timeoutMs: 0, maxAttempts: 0, priority: 0, labels: {} };

function refusal(patch: Partial<JobSpec>): string {
  try {
    validateJobSpec({ ...ok, ...patch });
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err.message;
    throw err;
  }
  return 'accepted';
}

describe('ECS job options at submit', () => {
  const big = { BIG: 'x'.repeat(8200) };

  it('refuses an ECS job whose environment cannot fit the 8 KiB task overrides, naming env', () => {
    expect(refusal({ executor: 'ecs', image: 'alpine', env: big })).toMatch(/^env: .*8192-byte task overrides/);
    expect(refusal({ executor: 'auto', allowedExecutors: ['ecs', 'docker'], image: 'alpine', env: big })).toMatch(/^env: /);
  });

  it('lets the same environment through for jobs that never run on ECS', () => {
    expect(refusal({ executor: 'docker', image: 'alpine', env: big })).toBe('accepted');
    expect(refusal({ executor: 'ecs', image: 'alpine', env: { SMALL: 'x'.repeat(7000) } })).toBe('accepted');
  });

  it('an ECS job needs an image or a task definition', () => {
    expect(refusal({ executor: 'ecs' })).toMatch(/^image: .*--ecs-task-definition/);
    expect(refusal({ executor: 'ecs', ecs: { taskDefinition: 'etl:3' } })).toBe('accepted');
  });

  it('refuses overrides that are not a JSON object, and a bad container name', () => {
    expect(refusal({ executor: 'ecs', image: 'a', ecs: { runTaskOverrides: '{' } })).toMatch(/^ecs.run_task_overrides: is not valid JSON/);
    expect(refusal({ executor: 'ecs', image: 'a', ecs: { runTaskOverrides: '[1]' } })).toMatch(/^ecs.run_task_overrides: must be a JSON object/);
    expect(refusal({ executor: 'ecs', image: 'a', ecs: { container: 'a b' } })).toMatch(/^ecs.container: /);
    expect(refusal({ executor: 'ecs', image: 'a', ecs: { taskDefinition: 'a b' } })).toMatch(/^ecs.task_definition: /);
  });
});

describe('secret references of ECS jobs', () => {
  it('refuses at submit a reference inside a longer value of a job that may run on ECS, naming the variable and why', () => {
    expect(refusal({ executor: 'ecs', image: 'a', env: { URL: 'postgres://app:${DB_PASSWORD}@db/app' } })).toMatch(
      /^env\.URL: references secret \$\{DB_PASSWORD\} inside a longer value: an ECS job gets a secret through its task definition's secrets/,
    );
    expect(refusal({ executor: 'auto', allowedExecutors: ['docker', 'ecs'], image: 'a', env: { X: '${A}${B}' } })).toMatch(/^env\.X: references secret \$\{A\}/);
    expect(refusal({ executor: 'ecs', image: 'a', env: { X: 'a$${B}' } })).toBe('accepted');
  });

  it('accepts whole references (and JSON fields) for ECS, and any reference for other executors', () => {
    expect(refusal({ executor: 'ecs', image: 'a', env: { PW: '${DB_PASSWORD}', USER: '${DB#user}' } })).toBe('accepted');
    expect(refusal({ executor: 'docker', image: 'a', env: { URL: 'x${A}y' } })).toBe('accepted');
  });

  it('pins a Secrets Manager ARN to its version, with the JSON key when one is picked', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/DB-AbCdEf';
    expect(secretsManagerValueFrom(arn, { name: 'DB', key: 'password' }, 'v-1')).toBe(`${arn}:password::v-1`);
    expect(secretsManagerValueFrom(arn, { name: 'DB' }, 'v-1')).toBe(`${arn}:::v-1`);
  });
});
