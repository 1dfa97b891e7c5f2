import { describe, expect, it } from 'vitest';
import { loadEcsConfig } from './ecs.js';
import { ConfigError } from './parse-env.js';
import { loadAgentConfig } from './services.js';

const base = { AWS_REGION: 'eu-west-1', LONGSHORE_ECS_CLUSTER: 'jobs', LONGSHORE_ECS_CONTAINER: 'job' };

function problem(env: NodeJS.ProcessEnv): string {
  try {
    loadEcsConfig(env, ['ecs']);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return 'accepted';
}

describe('ECS settings', () => {
  it('are not read unless ecs is one of the executors', () => {
    expect(loadEcsConfig({}, ['subprocess', 'docker'])).toBeUndefined();
    expect(loadAgentConfig({ LONGSHORE_EXECUTORS: 'subprocess' }).ecs).toBeUndefined();
  });

  it('fail fast at start naming the variable when ecs is listed', () => {
    expect(() => loadAgentConfig({ LONGSHORE_EXECUTORS: 'ecs', LONGSHORE_DEFAULT_EXECUTOR: 'ecs' })).toThrow(/AWS_REGION=""[\s\S]*LONGSHORE_ECS_CLUSTER=""[\s\S]*LONGSHORE_ECS_CONTAINER=""/);
    expect(problem({ ...base, LONGSHORE_ECS_SUBNETS: Array.from({ length: 17 }, (_, i) => `subnet-${i}`).join(',') })).toMatch(/LONGSHORE_ECS_SUBNETS=.*lists 17; ECS allows at most 16/);
    expect(problem({ ...base, LONGSHORE_ECS_SECURITY_GROUPS: 'sg-1,sg-2,sg-3,sg-4,sg-5,sg-6' })).toMatch(/LONGSHORE_ECS_SECURITY_GROUPS=.*at most 5/);
    expect(problem({ ...base, LONGSHORE_ECS_LAUNCH_TYPE: 'fargate' })).toMatch(/LONGSHORE_ECS_LAUNCH_TYPE="fargate"/);
    expect(problem({ ...base, LONGSHORE_ECS_RUN_TASK_KWARGS: '{oops' })).toMatch(/LONGSHORE_ECS_RUN_TASK_KWARGS=.*not valid JSON/);
    expect(problem({ ...base, LONGSHORE_ECS_RUN_TASK_KWARGS: '[]' })).toMatch(/LONGSHORE_ECS_RUN_TASK_KWARGS=.*must be a JSON object/);
    expect(problem({ ...base, LONGSHORE_ECS_MAX_RUN_TASK_ATTEMPTS: '0' })).toMatch(/LONGSHORE_ECS_MAX_RUN_TASK_ATTEMPTS="0"/);
    expect(problem({ ...base, LONGSHORE_ECS_CAPACITY_PROVIDERS: 'FARGATE:x' })).toMatch(/LONGSHORE_ECS_CAPACITY_PROVIDERS=.*NAME\[:WEIGHT\[:BASE\]\]/);
    expect(problem({ ...base, LONGSHORE_ECS_LAUNCH_TYPE: 'EC2', LONGSHORE_ECS_CAPACITY_PROVIDERS: 'FARGATE' })).toMatch(/both set/);
    expect(problem({ ...base, LONGSHORE_ECS_LAUNCH_TYPE: 'FARGATE' })).toMatch(/LONGSHORE_ECS_SUBNETS is empty: Fargate tasks/);
  });

  it('reads a full Fargate setup', () => {
    const c = loadEcsConfig(
      {
        ...base,
        LONGSHORE_ECS_TASK_DEFINITION: 'etl:7',
        LONGSHORE_ECS_CAPACITY_PROVIDERS: 'FARGATE_SPOT:3,FARGATE:1:2',
        LONGSHORE_ECS_PLATFORM_VERSION: '1.4.0',
        LONGSHORE_ECS_SUBNETS: 'subnet-0a, subnet-0b',
        LONGSHORE_ECS_SECURITY_GROUPS: 'sg-01',
        LONGSHORE_ECS_ASSIGN_PUBLIC_IP: 'true',
        LONGSHORE_ECS_RUN_TASK_KWARGS: '{"propagateTags":"TASK_DEFINITION"}',
        LONGSHORE_ECS_OVERRIDABLE_KEYS: 'overrides,placementConstraints',
        LONGSHORE_ECS_MAX_RUN_TASK_ATTEMPTS: '5',
        LONGSHORE_ECS_IMAGE_LOOKUP_PREFIX: 'longshore-',
        LONGSHORE_ECS_REGISTER_TASK_DEFINITION: '{"cpu":"256","memory":"512"}',
        LONGSHORE_ECS_CHECK_CLUSTER: 'false',
        LONGSHORE_ECS_POLL_INTERVAL: '5s',
      },
      ['ecs'],
    );
    expect(c).toEqual({
      region: 'eu-west-1',
      cluster: 'jobs',
      taskDefinition: 'etl:7',
      container: 'job',
      capacityProviders: [{ capacityProvider: 'FARGATE_SPOT', weight: 3 }, { capacityProvider: 'FARGATE', weight: 1, base: 2 }],
      platformVersion: '1.4.0',
      subnets: ['subnet-0a', 'subnet-0b'],
      securityGroups: ['sg-01'],
      assignPublicIp: true,
      runTaskKwargs: { propagateTags: 'TASK_DEFINITION' },
      overridableKeys: ['overrides', 'placementConstraints'],
      maxRunTaskAttempts: 5,
      imageLookupPrefix: 'longshore-',
      registerTaskDefinition: { cpu: '256', memory: '512' },
      checkCluster: false,
      pollIntervalMs: 5000,
    });
  });
});
