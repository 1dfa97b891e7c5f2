import { Writable } from 'node:stream';
import { createLogger } from '@longshore/telemetry';
import { describe, expect, it, vi } from 'vitest';
import { createEcsExecutor, type EcsExecutorOptions } from './ecs-executor.js';
import { FakeEcs } from './ecs-fake.js';
import { ecsStopTimeoutFor } from './ecs-run.js';
import type { OutputStream, RunHandle, RunRequest } from './executor.js';
import { StartCancelledError, StartFailedError } from './start-errors.js';

const IMAGE = 'public.ecr.aws/docker/library/alpine:3.20';

function setup(opts: Partial<EcsExecutorOptions> = {}) {
  const ecs = new FakeEcs('jobs');
  ecs.addTaskDefinition('longshore-job', 'job', IMAGE);
  const executor = createEcsExecutor({
    api: ecs,
    cluster: 'jobs',
    container: 'job',
    taskDefinition: 'longshore-job',
    agentId: 'agent-1',
    pool: 'batch',
    pollIntervalMs: 5,
    maxPollBackoffMs: 40,
    retryBackoffMs: 1,
    maxRetryBackoffMs: 4,
    // No budget to speak of, but for the spec of the budget.
    logReadsPerSecond: 100_000,
    ...opts,
  });
  return { ecs, executor };
}

function request(lines: { stream: OutputStream; text: string }[] = [], more: Partial<RunRequest> = {}): RunRequest {
  return {
    jobId: 'batch.0mhx3k2ab8f3c0e9d1a2b3c4d',
    attempt: 1,
    command: ['sh', '-c', 'echo hi'],
    env: { GREETING: 'hello' },
    onLine: (stream, text) => lines.push({ stream, text }),
    ...more,
  };
}

const never = new AbortController().signal;

describe('ecs executor: start, output and outcome', () => {
  it('runs the job as a task with its argv, env and tags, streams its CloudWatch log while it runs, and reports the exit code', async () => {
    const { ecs, executor } = setup();
    const lines: { stream: OutputStream; text: string }[] = [];
    const handle = await executor.start(request(lines), never);
    const arn = (handle.ref as { taskArn: string }).taskArn;
    expect(handle.ref).toEqual({ kind: 'ecs', taskArn: ecs.started()[0]!.taskArn });
    const input = ecs.runInputs[0]!;
    expect(input.cluster).toBe('jobs');
    expect(input.count).toBe(1);
    expect(input.startedBy!.length).toBeLessThanOrEqual(36);
    expect(input.startedBy).toBe('ls-0mhx3k2ab8f3c0e9d1a2b3c4d-1');
    expect(input.overrides?.containerOverrides).toEqual([{ name: 'job', command: ['sh', '-c', 'echo hi'], environment: [{ name: 'GREETING', value: 'hello' }] }]);
    expect(input.tags).toEqual(
      expect.arrayContaining([
        { key: 'longshore.job', value: 'batch.0mhx3k2ab8f3c0e9d1a2b3c4d' },
        { key: 'longshore.attempt', value: '1' },
        { key: 'longshore.agent', value: 'agent-1' },
        { key: 'longshore.pool', value: 'batch' },
      ]),
    );
    ecs.print(arn, 'one');
    ecs.print(arn, 'two');
    ecs.print(arn, 'three');
    // Delivered while the task still runs.
    await vi.waitUntil(() => lines.length === 3, { timeout: 10_000, interval: 5 });
    ecs.print(arn, 'last words');
    ecs.exit(arn, 3);
    expect(await handle.wait()).toEqual({ kind: 'exited', exitCode: 3 });
    expect(lines.map((l) => l.text)).toEqual(['one', 'two', 'three', 'last words']);
  });

  it('reports OutOfMemoryError as oom', async () => {
    const { ecs, executor } = setup();
    const handle = await executor.start(request(), never);
    ecs.exit(ecs.started()[0]!.taskArn!, 137, { reason: 'OutOfMemoryError: Container killed due to memory usage' });
    expect(await handle.wait()).toMatchObject({ kind: 'oom', message: expect.stringContaining('OutOfMemoryError') });
  });

  it('stop → StopTask with a reason, and resolves once the task is STOPPED', async () => {
    const { ecs, executor } = setup();
    const handle = await executor.start(request(), never);
    await handle.stop(1000);
    expect(ecs.stopped).toEqual([{ task: ecs.started()[0]!.taskArn, reason: expect.stringContaining('Longshore') }]);
    expect(await handle.wait()).toMatchObject({ kind: 'stopped' });
  });

  it('stop waits for STOPPED when ECS takes its time', async () => {
    const { ecs, executor } = setup();
    ecs.stopEndsTask = false;
    const handle = await executor.start(request(), never);
    let stopped = false;
    const stopping = handle.stop(0).then(() => (stopped = true));
    await vi.waitUntil(() => ecs.stopped.length === 1, { timeout: 10_000, interval: 5 });
    await vi.waitUntil(() => (ecs.calls['DescribeTasks'] ?? 0) > 3, { timeout: 10_000, interval: 5 });
    expect(stopped).toBe(false);
    ecs.exit(ecs.started()[0]!.taskArn!, 143, { stopCode: 'UserInitiated' });
    await stopping;
    expect(await handle.wait()).toEqual({ kind: 'stopped', detail: 'StopTask; the container exited with 143' });
  });
});

describe('ecs executor: a start cancelled or unanswered leaves no task running', () => {
  it('a job cancelled while RunTask is in flight: the task it started is stopped at once, naming the cancel, and the start ends cancelled', async () => {
    const { ecs, executor } = setup();
    let answer!: () => void;
    ecs.trouble.push({ held: new Promise<void>((r) => (answer = r)) });
    const cancel = new AbortController();
    const starting = executor.start(request(), cancel.signal).then(
      () => undefined,
      (e: unknown) => e,
    );
    await vi.waitUntil(() => ecs.started().length === 1, { timeout: 10_000, interval: 5 });
    cancel.abort('cancelled by request');
    // RunTask is not abandoned: its answer is what names the task to stop.
    expect(ecs.stopped).toEqual([]);
    answer();
    expect(await starting).toBeInstanceOf(StartCancelledError);
    const arn = ecs.started()[0]!.taskArn!;
    expect(ecs.stopped).toEqual([{ task: arn, reason: expect.stringContaining('cancelled by request') }]);
    expect(ecs.stopped[0]!.reason!.length).toBeLessThanOrEqual(255);
    expect(ecs.tasks.get(arn)!.lastStatus).toBe('STOPPED');
  });

  it('a RunTask that does not answer in time is a failed try, and the task it may have started is found by startedBy and stopped', async () => {
    const { ecs, executor } = setup({ runTaskTimeoutMs: 50, maxRunTaskAttempts: 2 });
    ecs.trouble.push({ held: new Promise<void>(() => undefined) });
    const handle = await executor.start(request(), never);
    const [unanswered, second] = ecs.started();
    expect(handle.ref).toEqual({ kind: 'ecs', taskArn: second!.taskArn });
    expect(ecs.stopped).toEqual([{ task: unanswered!.taskArn, reason: expect.stringContaining('did not answer within 50 ms') }]);
    ecs.exit(second!.taskArn!, 0);
    expect(await handle.wait()).toEqual({ kind: 'exited', exitCode: 0 });
  });
});

describe('ecs executor: stop grace', () => {
  it('the kill grace as a container stopTimeout: whole seconds rounded up, 2 to 120 (ECS caps it at 120 s)', () => {
    expect([0, 1, 1500, 2000, 10_000, 10_001, 120_000, 600_000].map(ecsStopTimeoutFor)).toEqual([2, 2, 2, 2, 10, 11, 120, 120]);
  });

  it('registers task definitions whose job container stops within LONGSHORE_KILL_GRACE', async () => {
    const { ecs, executor } = setup({ taskDefinition: undefined, killGraceMs: 15_000, imageLookup: { familyPrefix: 'ls-', register: { containerDefinitions: [{ name: 'job', essential: true, stopTimeout: 90 }, { name: 'side', stopTimeout: 5 }] } } });
    await executor.start(request([], { ecs: { image: 'ruby:3' } }), never);
    expect(ecs.taskDefinitions.at(-1)!.containerDefinitions).toEqual([
      expect.objectContaining({ name: 'job', image: 'ruby:3', stopTimeout: 15 }),
      expect.objectContaining({ name: 'side', stopTimeout: 5 }),
    ]);
  });

  it("names once a user's task definition whose stopTimeout is not the kill grace (ECS stops its tasks with its own)", async () => {
    const lines: string[] = [];
    const logger = createLogger('spec', { level: 'warn', destination: new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }) });
    const { executor } = setup({ killGraceMs: 10_000, logger });
    await executor.start(request(), never);
    await executor.start(request(), never);
    await vi.waitUntil(() => lines.length > 0, { timeout: 10_000, interval: 5 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', container: 'job', killGraceSeconds: 10, msg: expect.stringContaining("no stopTimeout (ECS's default: 30 s") });
  });
});

describe('ecs executor: start failures are retried, then start_failed, never success', () => {
  const kinds = [
    ['RunTask failure RESOURCE:MEMORY', { failure: 'RESOURCE:MEMORY' }, 'RESOURCE:MEMORY'],
    ['RunTask failure AGENT', { failure: 'AGENT' }, 'AGENT'],
    ['ThrottlingException', { error: 'ThrottlingException' }, 'ThrottlingException'],
    ['a task that stopped without running', { failToStart: 'CannotPullContainerError: pull access denied' }, 'TaskFailedToStart'],
  ] as const;
  for (const [name, trouble, said] of kinds) {
    it(`${name}: tried LONGSHORE_ECS_MAX_RUN_TASK_ATTEMPTS times, then start_failed naming it`, async () => {
      const { ecs, executor } = setup({ maxRunTaskAttempts: 3 });
      ecs.trouble.push(trouble, trouble, trouble);
      const err = await executor.start(request(), never).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StartFailedError);
      expect((err as Error).message).toContain('in 3 tries');
      expect((err as Error).message).toContain(said);
      expect(ecs.calls['RunTask']).toBe(3);
    });

    it(`${name} once, then a task that runs: the job runs`, async () => {
      const { ecs, executor } = setup({ maxRunTaskAttempts: 3 });
      ecs.trouble.push(trouble);
      const handle = await executor.start(request(), never);
      ecs.exit((handle.ref as { taskArn: string }).taskArn, 0);
      expect(await handle.wait()).toEqual({ kind: 'exited', exitCode: 0 });
      expect(ecs.calls['RunTask']).toBe(2);
    });
  }

  it('a throttled DescribeTaskDefinition is a failed try like a throttled RunTask: the job runs on the next', async () => {
    const { ecs, executor } = setup({ maxRunTaskAttempts: 3 });
    ecs.throttleTaskDefinitionDescribes = 1;
    const handle = await executor.start(request(), never);
    ecs.exit((handle.ref as { taskArn: string }).taskArn, 0);
    expect(await handle.wait()).toEqual({ kind: 'exited', exitCode: 0 });
    expect(ecs.calls['DescribeTaskDefinition']).toBe(2);
    expect(ecs.calls['RunTask']).toBe(1);
  });

  it('DescribeTaskDefinition throttled on every try: start_failed naming it, and no task was started', async () => {
    const { ecs, executor } = setup({ maxRunTaskAttempts: 3 });
    ecs.throttleTaskDefinitionDescribes = 3;
    await expect(executor.start(request(), never)).rejects.toThrow(/in 3 tries .*task definition "longshore-job" could not be read: ThrottlingException/);
    expect(ecs.calls['RunTask']).toBeUndefined();
  });

  it('an unknown task definition fails at once, without tries', async () => {
    const { ecs, executor } = setup({ maxRunTaskAttempts: 3, taskDefinition: 'no-such-family' });
    await expect(executor.start(request(), never)).rejects.toThrow(/task definition "no-such-family" could not be read: ClientException/);
    expect(ecs.calls['DescribeTaskDefinition']).toBe(1);
  });

  it('a refusal that retrying cannot mend (a bad parameter) fails at once', async () => {
    const { ecs, executor } = setup({ maxRunTaskAttempts: 3 });
    ecs.trouble.push({ error: 'InvalidParameterException' });
    await expect(executor.start(request(), never)).rejects.toThrow(/ECS refused to run .*InvalidParameterException/);
    expect(ecs.calls['RunTask']).toBe(1);
  });
});

describe('ecs executor: one poller', () => {
  it('polls 200 running tasks with 2 DescribeTasks calls per poll (batches of 100)', async () => {
    const { ecs, executor } = setup();
    const handles: RunHandle[] = [];
    // Starting them one after another: each start waits for its task's RUNNING.
    const starts = Array.from({ length: 200 }, (_, i) => executor.start(request([], { jobId: `batch.0mhx3k2ab${String(i).padStart(16, '0')}` }), new AbortController().signal));
    handles.push(...(await Promise.all(starts)));
    ecs.describeBatches.length = 0;
    await vi.waitUntil(() => ecs.describeBatches.length >= 6, { timeout: 10_000, interval: 5 });
    // Every poll is one call per 100 tasks: full batches, never one call per task.
    expect(ecs.describeBatches.slice(0, 6)).toEqual([100, 100, 100, 100, 100, 100]);
    for (const h of handles) ecs.exit((h.ref as { taskArn: string }).taskArn, 0);
    for (const h of handles) expect(await h.wait()).toEqual({ kind: 'exited', exitCode: 0 });
  });

  it('reads the logs of many running tasks within its GetLogEvents budget, and loses no line', async () => {
    const { ecs, executor } = setup({ logReadsPerSecond: 10 });
    const got = new Map<number, string[]>();
    const handles = await Promise.all(
      Array.from({ length: 20 }, (_, i) => executor.start(request([], { jobId: `batch.0mhx3k2ab${String(i).padStart(16, '0')}`, onLine: (_s, t) => got.set(i, [...(got.get(i) ?? []), t]) }), new AbortController().signal)),
    );
    const arns = handles.map((h) => (h.ref as { taskArn: string }).taskArn);
    arns.forEach((arn, i) => ecs.print(arn, `line of ${i}`));
    // Polls every 5 ms, 20 tasks: without a budget that would be thousands of reads a second.
    await vi.waitUntil(() => got.size === 20, { timeout: 30_000, interval: 20 });
    for (const arn of arns) ecs.exit(arn, 0);
    for (const h of handles) await h.wait();
    for (const [i, lines] of got) expect(lines).toEqual([`line of ${i}`]);
    const t = ecs.logReadTimes;
    // At most 10 calls in each budget second: never more than 20 in any 1000 ms.
    for (let i = 0; i < t.length; i++) expect(t.filter((x) => x > t[i]! - 1000 && x <= t[i]!).length).toBeLessThanOrEqual(20);
  });

  it('survives throttled DescribeTasks: the run is followed to its end', async () => {
    const { ecs, executor } = setup();
    const handle = await executor.start(request(), never);
    ecs.throttleDescribes = 4;
    ecs.exit((handle.ref as { taskArn: string }).taskArn, 0);
    expect(await handle.wait()).toEqual({ kind: 'exited', exitCode: 0 });
    expect(ecs.throttleDescribes).toBe(0);
  });
});

describe('ecs executor: re-adoption', () => {
  it('listOwned finds this agent\'s tasks by tag; attach follows one, skipping lines already stored', async () => {
    const { ecs, executor } = setup();
    const first = await executor.start(request(), never);
    await executor.start(request([], { jobId: 'batch.0mhx3k2ab0000000000000002' }), never);
    const other = setup();
    other.ecs.addTaskDefinition('x', 'job', IMAGE);
    const arn = (first.ref as { taskArn: string }).taskArn;
    ecs.tasks.get(ecs.started()[1]!.taskArn!)!.tags = [{ key: 'longshore.agent', value: 'agent-2' }, { key: 'longshore.job', value: 'batch.x' }, { key: 'longshore.attempt', value: '1' }];
    expect(await executor.listOwned('agent-1')).toEqual([{ jobId: 'batch.0mhx3k2ab8f3c0e9d1a2b3c4d', attempt: 1, ref: { kind: 'ecs', taskArn: arn }, agentId: 'agent-1' }]);
    expect((await executor.listPool!('batch')).map((r) => r.ref)).toEqual([{ kind: 'ecs', taskArn: arn }]);
    // Asked again at once (the agent asks every stalled check): no listing of the whole cluster.
    const listed = ecs.calls['ListTasks'];
    expect(await executor.listPool!('batch')).toEqual([]);
    expect(ecs.calls['ListTasks']).toBe(listed);

    ecs.print(arn, 'stored before');
    ecs.print(arn, 'printed while away');
    // A new life of the agent: a new executor, the same cluster.
    const again = createEcsExecutor({ api: ecs, cluster: 'jobs', container: 'job', agentId: 'agent-1', pool: 'batch', pollIntervalMs: 5 });
    const lines: string[] = [];
    const found = await again.attach({ kind: 'ecs', taskArn: arn }, (_s, text) => lines.push(text), { stdout: 1, stderr: 0 });
    expect(found.kind).toBe('attached');
    ecs.exit(arn, 0);
    expect(await (found as { handle: RunHandle }).handle.wait()).toEqual({ kind: 'exited', exitCode: 0 });
    expect(lines).toEqual(['printed while away']);
    expect(ecs.calls['RunTask']).toBe(2);
  });

  it('attach to a task that is STOPPED or unknown: gone', async () => {
    const { ecs, executor } = setup();
    const handle = await executor.start(request(), never);
    const arn = (handle.ref as { taskArn: string }).taskArn;
    ecs.exit(arn, 0);
    await handle.wait();
    expect(await executor.attach({ kind: 'ecs', taskArn: arn }, () => undefined)).toEqual({ kind: 'gone' });
    expect(await executor.attach({ kind: 'ecs', taskArn: `${arn}ff` }, () => undefined)).toEqual({ kind: 'gone' });
  });
});

describe('ecs executor: sizes, overrides and task definitions', () => {
  it('Fargate: the request rounds up to the next valid pair, set on the task and given as the handle\'s detail', async () => {
    const { ecs, executor } = setup({ launchType: 'FARGATE', subnets: ['subnet-1'], securityGroups: ['sg-1'] });
    const handle = await executor.start(request([], { cpusMilli: 600, memoryBytes: 1536 * 1024 * 1024 }), never);
    const input = ecs.runInputs[0]!;
    expect(input.launchType).toBe('FARGATE');
    expect(input.overrides).toMatchObject({ cpu: '1024', memory: '2048' });
    expect(input.networkConfiguration).toEqual({ awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' } });
    expect(handle.detail).toBe('Fargate 1 vCPU / 2 GiB (cpu 1024, memory 2048 MiB)');
  });

  it('EC2: memory and CPU are the container\'s own limits', async () => {
    const { ecs, executor } = setup({ launchType: 'EC2' });
    await executor.start(request([], { cpusMilli: 500, memoryBytes: 256 * 1024 * 1024 }), never);
    expect(ecs.runInputs[0]!.overrides!.containerOverrides![0]).toMatchObject({ name: 'job', cpu: 512, memory: 256 });
  });

  it('overrides past 8 KiB are refused as start_failed, never cut', async () => {
    const { ecs, executor } = setup();
    const err = await executor.start(request([], { env: { BIG: 'x'.repeat(9000) } }), never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartFailedError);
    expect((err as Error).message).toMatch(/past ECS's limit of 8192/);
    expect(ecs.calls['RunTask']).toBeUndefined();
  });

  it('the job\'s RunTask arguments deep-merge over the agent\'s: objects merge, arrays replace, container overrides by name', async () => {
    const { ecs, executor } = setup({
      runTaskKwargs: { overrides: { ephemeralStorage: { sizeInGiB: 30 }, containerOverrides: [{ name: 'sidecar', memory: 64 }] }, placementConstraints: [{ type: 'distinctInstance' }], propagateTags: 'TASK_DEFINITION' },
      overridableKeys: ['overrides', 'placementConstraints'],
    });
    const ecsOpts = { runTaskOverrides: JSON.stringify({ overrides: { taskRoleArn: 'arn:aws:iam::1:role/job', containerOverrides: [{ name: 'job', memoryReservation: 128 }] }, placementConstraints: [] }) };
    await executor.start(request([], { ecs: ecsOpts }), never);
    const input = ecs.runInputs[0]!;
    expect(input.propagateTags).toBe('TASK_DEFINITION');
    expect(input.placementConstraints).toEqual([]);
    expect(input.overrides).toEqual({
      ephemeralStorage: { sizeInGiB: 30 },
      taskRoleArn: 'arn:aws:iam::1:role/job',
      containerOverrides: [
        { name: 'sidecar', memory: 64 },
        { name: 'job', memoryReservation: 128, command: ['sh', '-c', 'echo hi'], environment: [{ name: 'GREETING', value: 'hello' }] },
      ],
    });
  });

  it('refuses a job\'s RunTask key the agent does not allow, naming it', async () => {
    const { ecs, executor } = setup({ overridableKeys: ['overrides'] });
    await expect(executor.start(request([], { ecs: { runTaskOverrides: '{"networkConfiguration":{}}' } }), never)).rejects.toThrow(/"networkConfiguration", which this agent does not let jobs override \(LONGSHORE_ECS_OVERRIDABLE_KEYS; it allows: overrides\)/);
    await expect(executor.start(request([], { ecs: { runTaskOverrides: '{"cluster":"other"}' } }), never)).rejects.toThrow(/"cluster", which only the executor sets/);
    expect(ecs.calls['RunTask']).toBeUndefined();
  });

  it('image lookup: finds the task definition for an image once and caches it (one ListTaskDefinitions for many jobs)', async () => {
    const { ecs, executor } = setup({ taskDefinition: undefined, imageLookup: { familyPrefix: 'ls-' } });
    ecs.addTaskDefinition('ls-python', 'job', 'python:3.12');
    ecs.addTaskDefinition('other-python', 'job', 'python:3.13');
    for (let i = 0; i < 3; i++) await executor.start(request([], { ecs: { image: 'python:3.12' } }), never);
    expect(ecs.calls['ListTaskDefinitions']).toBe(1);
    expect(ecs.runInputs.map((r) => r.taskDefinition)).toEqual(Array(3).fill(ecs.taskDefinitions[1]!.taskDefinitionArn));
    // Not in a family of the prefix: not found, and nothing registered unless configured.
    await expect(executor.start(request([], { ecs: { image: 'python:3.13' } }), never)).rejects.toThrow(/no ACTIVE ECS task definition .* "python:3.13"/);
  });

  it('image lookup registers a task definition when configured, once', async () => {
    const { ecs, executor } = setup({
      taskDefinition: undefined,
      imageLookup: { familyPrefix: 'ls-', register: { requiresCompatibilities: ['FARGATE'], cpu: '256', memory: '512', containerDefinitions: [{ name: 'job', essential: true, logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/longshore/jobs', 'awslogs-stream-prefix': 'ls' } } }] } },
    });
    const lines: string[] = [];
    const h = await executor.start(request([], { ecs: { image: 'ruby:3' }, onLine: (_s, t) => lines.push(t) }), never);
    await executor.start(request([], { ecs: { image: 'ruby:3' } }), never);
    expect(ecs.calls['RegisterTaskDefinition']).toBe(1);
    const registered = ecs.taskDefinitions.at(-1)!;
    expect(registered.family).toMatch(/^ls--?[0-9a-f]{12}$/);
    expect(registered.containerDefinitions![0]).toMatchObject({ name: 'job', image: 'ruby:3' });
    const arn = (h.ref as { taskArn: string }).taskArn;
    ecs.print(arn, 'from ruby');
    ecs.exit(arn, 0);
    await h.wait();
    expect(lines).toEqual(['from ruby']);
  });

  it('refuses a job whose image is not the fixed task definition\'s', async () => {
    const { executor } = setup();
    await expect(executor.start(request([], { ecs: { image: 'node:22' } }), never)).rejects.toThrow(/the job's image "node:22" is not the image of container "job"/);
  });

  it('probe: DescribeClusters of the configured cluster', async () => {
    expect(await setup().executor.probe(never)).toEqual({ healthy: true });
    const missing = await setup({ cluster: 'nope' }).executor.probe(never);
    expect(missing).toMatchObject({ healthy: false, reason: expect.stringContaining('no cluster nope') });
  });
});
