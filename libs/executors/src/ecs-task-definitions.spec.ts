import { describe, expect, it } from 'vitest';
import { FakeEcs } from './ecs-fake.js';
import { EcsTaskDefinitions, FAMILY_CACHE_MS, TaskDefinitionUnavailableError } from './ecs-task-definitions.js';
import { StartFailedError } from './start-errors.js';

const IMAGE = 'public.ecr.aws/docker/library/alpine:3.20';

function setup() {
  const ecs = new FakeEcs('jobs');
  ecs.addTaskDefinition('longshore-job', 'job', IMAGE);
  let now = 1_000_000;
  const defs = new EcsTaskDefinitions(ecs, undefined, undefined, () => now);
  return { ecs, defs, advance: (ms: number) => (now += ms) };
}

describe('ECS task definitions by bare family', () => {
  it('jobs starting together share one DescribeTaskDefinition, and a revision registered since is used once the cache time passes', async () => {
    const { ecs, defs, advance } = setup();
    const first = await Promise.all(Array.from({ length: 20 }, () => defs.describe('longshore-job')));
    expect(new Set(first.map((d) => d.taskDefinitionArn)).size).toBe(1);
    expect(first[0]!.revision).toBe(1);
    expect(ecs.calls['DescribeTaskDefinition']).toBe(1);

    ecs.addTaskDefinition('longshore-job', 'job', `${IMAGE}-2`, 2);
    advance(FAMILY_CACHE_MS - 1);
    expect((await defs.describe('longshore-job')).revision).toBe(1);
    advance(1);
    expect((await defs.describe('longshore-job')).revision).toBe(2);
    expect(ecs.calls['DescribeTaskDefinition']).toBe(2);
  });

  it('a failed call is not kept: the next start asks again; throttling is worth another try, an unknown family is not', async () => {
    const { ecs, defs } = setup();
    ecs.throttleTaskDefinitionDescribes = 1;
    await expect(defs.describe('longshore-job')).rejects.toBeInstanceOf(TaskDefinitionUnavailableError);
    expect((await defs.describe('longshore-job')).revision).toBe(1);
    expect(ecs.calls['DescribeTaskDefinition']).toBe(2);
    await expect(defs.describe('other-family')).rejects.toBeInstanceOf(StartFailedError);
  });

  it('a reference naming one revision is described once, whatever the time', async () => {
    const { ecs, defs, advance } = setup();
    await defs.describe('longshore-job:1');
    advance(10 * FAMILY_CACHE_MS);
    await defs.describe('longshore-job:1');
    expect(ecs.calls['DescribeTaskDefinition']).toBe(1);
  });
});
