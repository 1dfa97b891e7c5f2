import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CloudWatchLogsClient, FilterLogEventsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ContainerDefinition,
  type RunTaskCommandInput,
  type Task,
} from '@aws-sdk/client-ecs';
import { ENDPOINT_LABEL, OOM_REASON, TASK_LABEL, startAwsLocalEndpoint, type AwsLocalEndpoint, type FaultSpec } from '@longshore/aws-local';
import { repoRoot, startProcess, waitFor } from '@longshore/testing';
import { describeDocker } from '@longshore/testing/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';

// The local ECS + CloudWatch Logs endpoint against the run's private Docker engine, driven by
// AWS's own clients: the JS SDK v3 and the `aws` CLI (botocore). What both accept is what the
// ECS executor, written against real AWS, will meet.

const run = randomBytes(3).toString('hex');
const REGION = 'us-east-1';
const CLUSTER = `e2e-${run}`;
const LOG_GROUP = `/longshore/e2e-${run}`;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let families = 0;
const nextFamily = () => `e2e-${run}-${++families}`;

describeDocker('the local ECS endpoint', ({ docker, image, host }) => {
  let endpoint: AwsLocalEndpoint;
  let ecs: ECSClient;
  let logs: CloudWatchLogsClient;

  beforeAll(async () => {
    endpoint = await startAwsLocalEndpoint({ docker, clusters: [CLUSTER], stopTimeoutSeconds: 2 });
    // One attempt: a test that injects throttling sees it, not the SDK's retries.
    ecs = new ECSClient({ endpoint: endpoint.url, region: REGION, credentials, maxAttempts: 1 });
    logs = new CloudWatchLogsClient({ endpoint: endpoint.url, region: REGION, credentials, maxAttempts: 1 });
  });

  afterAll(async () => {
    ecs?.destroy();
    logs?.destroy();
    await endpoint?.close();
    // close() removes whatever still ran: nothing of the endpoint is left on the engine.
    expect(await docker.listContainers({ all: true, filters: { label: [ENDPOINT_LABEL] } })).toEqual([]);
  });

  /** Registers a one-container definition of the test image logging to LOG_GROUP; returns its ARN. */
  const register = async (container: Partial<ContainerDefinition> = {}, extra: { memory?: string; cpu?: string } = {}): Promise<string> => {
    const family = nextFamily();
    const out = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        ...extra,
        containerDefinitions: [
          {
            name: 'main',
            image,
            essential: true,
            logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': LOG_GROUP, 'awslogs-stream-prefix': 'job', 'awslogs-region': REGION } },
            ...container,
          },
        ],
      }),
    );
    return out.taskDefinition!.taskDefinitionArn!;
  };

  const runTask = async (input: Omit<RunTaskCommandInput, 'cluster'>): Promise<Task> => {
    const out = await ecs.send(new RunTaskCommand({ cluster: CLUSTER, ...input }));
    expect(out.failures).toEqual([]);
    return out.tasks![0]!;
  };

  const describe = async (arn: string): Promise<Task> => {
    const out = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn], include: ['TAGS'] }));
    return out.tasks![0]!;
  };

  const stopped = (arn: string): Promise<Task> =>
    waitFor(async () => {
      const t = await describe(arn);
      return t.lastStatus === 'STOPPED' ? t : undefined;
    }, { timeoutMs: 120_000, intervalMs: 100, what: `task ${arn} STOPPED` });

  const streamOf = (t: Task) => `job/main/${t.taskArn!.split('/').at(-1)}`;

  const messages = async (t: Task): Promise<string[]> => {
    const out = await logs.send(new GetLogEventsCommand({ logGroupName: LOG_GROUP, logStreamName: streamOf(t), startFromHead: true }));
    return out.events!.map((e) => e.message!);
  };

  const inject = async (spec: FaultSpec) => {
    const res = await fetch(`${endpoint.url}/_longshore/faults`, { method: 'POST', body: JSON.stringify(spec) });
    expect(res.status).toBe(200);
  };

  const calls = async (): Promise<Record<string, number>> => ((await (await fetch(`${endpoint.url}/_longshore/stats`)).json()) as { calls: Record<string, number> }).calls;

  it('runs a task as a container to its exit code, with overrides, tags and its output in CloudWatch Logs', async () => {
    const def = await register({ command: ['sh', '-c', 'echo default'], environment: [{ name: 'FROM_DEF', value: 'def' }, { name: 'GREETING', value: 'old' }] });
    const started = await runTask({
      taskDefinition: def,
      startedBy: 'job-0123456789abcdef-1',
      tags: [{ key: 'longshore.job', value: 'j-1' }],
      launchType: 'EC2',
      overrides: { containerOverrides: [{ name: 'main', command: ['sh', '-c', 'echo "$GREETING $FROM_DEF"; echo oops >&2; exit 3'], environment: [{ name: 'GREETING', value: 'hello world' }] }] },
    });
    expect(started.taskArn).toMatch(new RegExp(`^arn:aws:ecs:${REGION}:\\d{12}:task/${CLUSTER}/[0-9a-f]{32}$`));
    expect(started.lastStatus).toBe('PROVISIONING');
    expect(started.desiredStatus).toBe('RUNNING');
    const t = await stopped(started.taskArn!);
    expect(t).toMatchObject({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited', startedBy: 'job-0123456789abcdef-1', launchType: 'EC2', taskDefinitionArn: def });
    expect(t.containers).toEqual([expect.objectContaining({ name: 'main', lastStatus: 'STOPPED', exitCode: 3 })]);
    expect(t.containers![0]!.reason).toBeUndefined();
    expect(t.tags).toEqual([{ key: 'longshore.job', value: 'j-1' }]);
    // Timestamps arrive as epoch seconds; the SDK makes them Dates, in order.
    expect(t.createdAt!.getTime()).toBeLessThanOrEqual(t.startedAt!.getTime());
    expect(t.startedAt!.getTime()).toBeLessThanOrEqual(t.stoppedAt!.getTime());
    // stdout and stderr reach the stream as they come: their relative order is not kept (nor is it by awslogs).
    expect((await messages(t)).sort()).toEqual(['hello world def', 'oops']);
    const tags = await ecs.send(new ListTagsForResourceCommand({ resourceArn: t.taskArn! }));
    expect(tags.tags).toEqual([{ key: 'longshore.job', value: 'j-1' }]);
  });

  it('reads the output live while the task runs, and StopTask stops it with the reason given', async () => {
    const def = await register({ command: ['sh', '-c', 'echo started; sleep 600'], stopTimeout: 2 });
    const started = await runTask({ taskDefinition: def });
    const first = await waitFor(async () => {
      const out = await logs.send(new GetLogEventsCommand({ logGroupName: LOG_GROUP, logStreamName: streamOf(started), startFromHead: true }));
      return out.events!.length ? out : undefined;
    }, { timeoutMs: 60_000, what: 'the first log event' });
    expect(first.events!.map((e) => e.message)).toEqual(['started']);
    expect(first.events![0]!.timestamp).toBeGreaterThan(0);
    expect(first.events![0]!.ingestionTime).toBeGreaterThan(0);
    // Nothing new: the same forward token comes back.
    const again = await logs.send(new GetLogEventsCommand({ logGroupName: LOG_GROUP, logStreamName: streamOf(started), nextToken: first.nextForwardToken }));
    expect(again.events).toEqual([]);
    expect(again.nextForwardToken).toBe(first.nextForwardToken);
    // Output can come before the task is seen RUNNING (as in ECS, the container starts first).
    await waitFor(async () => (await describe(started.taskArn!)).lastStatus === 'RUNNING', { timeoutMs: 60_000, what: 'RUNNING' });
    expect((await ecs.send(new ListTasksCommand({ cluster: CLUSTER, family: def.split('/')[1]!.split(':')[0] }))).taskArns).toEqual([started.taskArn]);

    const stop = await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: started.taskArn!, reason: 'cancelled by longshore' }));
    expect(stop.task!.desiredStatus).toBe('STOPPED');
    const t = await stopped(started.taskArn!);
    expect(t).toMatchObject({ stopCode: 'UserInitiated', stoppedReason: 'cancelled by longshore' });
    expect(t.containers![0]!.exitCode).toBe(137); // sh as PID 1 ignores SIGTERM: killed after stopTimeout
    expect((await ecs.send(new ListTasksCommand({ cluster: CLUSTER, desiredStatus: 'STOPPED' }))).taskArns).toContain(started.taskArn);
  });

  it("StopTask is docker stop with the container definition's stopTimeout: SIGTERM, then SIGKILL only after it (the endpoint's default, 2 s here, otherwise)", async () => {
    const command = ['sh', '-c', "trap 'echo got TERM; sleep 3; echo clean exit; exit 42' TERM; echo ready; sleep 600 & wait"];
    const stopWhenReady = async (def: string): Promise<Task> => {
      const started = await runTask({ taskDefinition: def });
      await waitFor(async () => (await messages(started).catch((): string[] => [])).includes('ready') && (await describe(started.taskArn!)).lastStatus === 'RUNNING', { timeoutMs: 60_000, intervalMs: 100, what: 'ready' });
      await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: started.taskArn!, reason: 'stop grace' }));
      return stopped(started.taskArn!);
    };
    // 20 s of grace: the 3 s clean-up finishes and the container exits on its own.
    const graceful = await stopWhenReady(await register({ command, stopTimeout: 20 }));
    expect(graceful.containers![0]!.exitCode).toBe(42);
    expect(await messages(graceful)).toEqual(['ready', 'got TERM', 'clean exit']);
    // No stopTimeout: the endpoint's default (2 s): killed mid clean-up.
    const cut = await stopWhenReady(await register({ command }));
    expect(cut.containers![0]!.exitCode).toBe(137);
    expect(await messages(cut)).toEqual(['ready', 'got TERM']);
  });

  it('reports a container killed for its memory as OutOfMemoryError, exit 137', async () => {
    const def = await register({ command: ['sh', '-c', 'x=$(yes | head -c 100000000); echo survived ${#x}'], memory: 32 });
    const t = await stopped((await runTask({ taskDefinition: def })).taskArn!);
    expect(t.stopCode).toBe('EssentialContainerExited');
    expect(t.containers![0]).toMatchObject({ exitCode: 137, reason: OOM_REASON });
  });

  it('fails a task whose image cannot be pulled to start: TaskFailedToStart, CannotPullContainerError, no exit code', async () => {
    const def = await register({ image: '127.0.0.1:9/longshore-missing:1', command: ['true'] });
    const t = await stopped((await runTask({ taskDefinition: def })).taskArn!);
    expect(t.stopCode).toBe('TaskFailedToStart');
    expect(t.stoppedReason).toMatch(/^CannotPullContainerError: /);
    expect(t.containers![0]!.exitCode).toBeUndefined();
  });

  it('injects RunTask failures, throttling, start failures and slow starts, and counts calls per action', async () => {
    const def = await register({ command: ['true'] });
    await inject({ runTaskFailures: { count: 1, reason: 'RESOURCE:MEMORY' } });
    await inject({ runTaskFailures: { count: 1, reason: 'AGENT' } });
    for (const reason of ['RESOURCE:MEMORY', 'AGENT']) {
      const out = await ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: def }));
      expect(out.tasks).toEqual([]);
      expect(out.failures).toEqual([expect.objectContaining({ reason })]);
    }

    const before = await calls();
    await inject({ throttle: { action: 'DescribeTasks', count: 2 } });
    const arn = (await runTask({ taskDefinition: def })).taskArn!;
    for (let i = 0; i < 2; i++) await expect(describe(arn)).rejects.toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    await stopped(arn);
    const after = await calls();
    expect(after['DescribeTasks']! - (before['DescribeTasks'] ?? 0)).toBeGreaterThanOrEqual(3);
    expect(after['RunTask']! - before['RunTask']!).toBe(1);

    await inject({ failToStart: { count: 1 } });
    const failed = await stopped((await runTask({ taskDefinition: def })).taskArn!);
    expect(failed.stopCode).toBe('TaskFailedToStart');
    expect(failed.containers![0]!.exitCode).toBeUndefined();

    await inject({ slowStart: { count: 1, ms: 600_000 } });
    const slow = await runTask({ taskDefinition: def });
    expect((await describe(slow.taskArn!)).lastStatus).toBe('PROVISIONING');
    await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: slow.taskArn!, reason: 'timeout' }));
    expect(await stopped(slow.taskArn!)).toMatchObject({ stopCode: 'UserInitiated', stoppedReason: 'timeout' });
  });

  it('answers errors with the shapes and statuses of the API reference', async () => {
    const def = await register({ command: ['true'] });
    await expect(ecs.send(new RunTaskCommand({ cluster: 'nope', taskDefinition: def }))).rejects.toMatchObject({ name: 'ClusterNotFoundException', $metadata: { httpStatusCode: 400 } });
    await expect(ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: def, startedBy: 'x'.repeat(37) }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
    const env = [{ name: 'BIG', value: 'x'.repeat(9000) }];
    await expect(ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: def, overrides: { containerOverrides: [{ name: 'main', environment: env }] } }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining('8192') as string,
    });
    await expect(ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'never-registered' }))).rejects.toMatchObject({ name: 'ClientException' });
    await expect(logs.send(new GetLogEventsCommand({ logGroupName: 'no-such-group', logStreamName: 's' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    const missing = `arn:aws:ecs:${REGION}:000000000000:task/${CLUSTER}/${'0'.repeat(32)}`;
    expect((await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [missing] }))).failures).toEqual([{ arn: missing, reason: 'MISSING' }]);
    const clusters = await ecs.send(new DescribeClustersCommand({ clusters: [CLUSTER, 'nope'] }));
    expect(clusters.clusters!.map((c) => [c.clusterName, c.status])).toEqual([[CLUSTER, 'ACTIVE']]);
    expect(clusters.failures).toEqual([expect.objectContaining({ reason: 'MISSING' })]);
  });

  it('resolves task definitions by family, family:revision and ARN, and lists them in pages', async () => {
    const family = nextFamily();
    const reg = (cmd: string) => ecs.send(new RegisterTaskDefinitionCommand({ family, containerDefinitions: [{ name: 'main', image, command: [cmd] }] }));
    const [r1, r2, r3] = [await reg('one'), await reg('two'), await reg('three')];
    expect([r1, r2, r3].map((r) => r.taskDefinition!.revision)).toEqual([1, 2, 3]);
    expect((await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family }))).taskDefinition!.revision).toBe(3);
    expect((await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: `${family}:2` }))).taskDefinition!.containerDefinitions![0]!.command).toEqual(['two']);
    expect((await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: r1.taskDefinition!.taskDefinitionArn! }))).taskDefinition!.revision).toBe(1);
    const page1 = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, maxResults: 2, sort: 'DESC' }));
    expect(page1.taskDefinitionArns).toEqual([r3, r2].map((r) => r.taskDefinition!.taskDefinitionArn));
    const page2 = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, maxResults: 2, sort: 'DESC', nextToken: page1.nextToken! }));
    expect(page2).toMatchObject({ taskDefinitionArns: [r1.taskDefinition!.taskDefinitionArn] });
    expect(page2.nextToken).toBeUndefined();
  });

  it('filters log events across a group by stream and start time', async () => {
    const def = await register({ command: ['sh', '-c', 'echo alpha; echo beta'] });
    const t = await stopped((await runTask({ taskDefinition: def })).taskArn!);
    const out = await logs.send(new FilterLogEventsCommand({ logGroupName: LOG_GROUP, logStreamNames: [streamOf(t)], startTime: t.createdAt!.getTime() - 1000 }));
    expect(out.events!.map((e) => [e.logStreamName, e.message])).toEqual([
      [streamOf(t), 'alpha'],
      [streamOf(t), 'beta'],
    ]);
  });

  it('is accepted by the aws CLI: register-task-definition, run-task, describe-tasks, list-tasks, stop-task, describe-clusters, logs get-log-events', async () => {
    const aws = async (...args: string[]): Promise<Record<string, unknown>> => {
      const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: REGION, AWS_PAGER: '', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
      const { stdout } = await promisify(execFile)('aws', [...args, '--endpoint-url', endpoint.url, '--output', 'json'], { env, timeout: 120_000 });
      return stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {};
    };
    const family = nextFamily();
    const containers = [
      {
        name: 'main',
        image,
        command: ['sh', '-c', 'echo from the cli; sleep 600'],
        stopTimeout: 2,
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': LOG_GROUP, 'awslogs-stream-prefix': 'cli' } },
      },
    ];
    const reg = (await aws('ecs', 'register-task-definition', '--family', family, '--container-definitions', JSON.stringify(containers))) as { taskDefinition: { revision: number } };
    expect(reg.taskDefinition.revision).toBe(1);
    const ran = (await aws('ecs', 'run-task', '--cluster', CLUSTER, '--task-definition', family, '--started-by', 'cli-test', '--count', '1')) as { tasks: { taskArn: string }[]; failures: unknown[] };
    expect(ran.failures).toEqual([]);
    const arn = ran.tasks[0]!.taskArn;
    const id = arn.split('/').at(-1)!;
    await waitFor(async () => {
      const d = (await aws('ecs', 'describe-tasks', '--cluster', CLUSTER, '--tasks', arn)) as { tasks: { lastStatus: string }[] };
      return d.tasks[0]!.lastStatus === 'RUNNING';
    }, { timeoutMs: 120_000, intervalMs: 500, what: 'RUNNING through the aws CLI' });
    const events = await waitFor(async () => {
      const got = (await aws('logs', 'get-log-events', '--log-group-name', LOG_GROUP, '--log-stream-name', `cli/main/${id}`, '--start-from-head')) as { events: { message: string }[] };
      return got.events.length ? got.events : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500, what: 'the output through aws logs get-log-events' });
    expect(events.map((e) => e.message)).toEqual(['from the cli']);
    expect(((await aws('ecs', 'list-tasks', '--cluster', CLUSTER, '--started-by', 'cli-test')) as { taskArns: string[] }).taskArns).toEqual([arn]);
    const stop = (await aws('ecs', 'stop-task', '--cluster', CLUSTER, '--task', arn, '--reason', 'stopped from the cli')) as { task: { desiredStatus: string } };
    expect(stop.task.desiredStatus).toBe('STOPPED');
    const end = await waitFor(async () => {
      const d = (await aws('ecs', 'describe-tasks', '--cluster', CLUSTER, '--tasks', arn)) as { tasks: { lastStatus: string; stopCode: string; stoppedReason: string; stoppedAt: number }[] };
      return d.tasks[0]!.lastStatus === 'STOPPED' ? d.tasks[0]! : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500, what: 'STOPPED through the aws CLI' });
    expect(end).toMatchObject({ stopCode: 'UserInitiated', stoppedReason: 'stopped from the cli' });
    const clusters = (await aws('ecs', 'describe-clusters', '--clusters', CLUSTER, 'missing-cluster')) as { clusters: { clusterName: string }[]; failures: { reason: string }[] };
    expect(clusters.clusters.map((c) => c.clusterName)).toEqual([CLUSTER]);
    expect(clusters.failures.map((f) => f.reason)).toEqual(['MISSING']);
  });

  it('runs as "longshore dev ecs-endpoint" on DOCKER_HOST, printing its URL, and SIGTERM removes its containers', async () => {
    const cli = startProcess({
      name: 'longshore-dev-ecs-endpoint',
      command: process.execPath,
      args: [join(repoRoot, 'services/cli/bin/longshore.js'), 'dev', 'ecs-endpoint', '--listen', '127.0.0.1:0', '--cluster', 'from-cli', '--stop-timeout', '1'],
      env: { ...process.env, DOCKER_HOST: host },
    });
    let mine = (): Promise<unknown[]> => Promise.resolve([]);
    try {
      const url = await waitFor(() => cli.lines.map((l) => /^ {2}export AWS_ENDPOINT_URL_ECS=(\S+) AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=\1 AWS_ENDPOINT_URL_SECRETS_MANAGER=\1$/.exec(l)?.[1]).find(Boolean), {
        timeoutMs: 120_000,
        what: `the endpoint URL in its output:\n${cli.lines.join('\n')}`,
      });
      const client = new ECSClient({ endpoint: url, region: REGION, credentials, maxAttempts: 1 });
      try {
        await client.send(new RegisterTaskDefinitionCommand({ family: 'cli', containerDefinitions: [{ name: 'main', image, command: ['sleep', '600'] }] }));
        const arn = (await client.send(new RunTaskCommand({ cluster: 'from-cli', taskDefinition: 'cli' }))).tasks![0]!.taskArn!;
        await waitFor(async () => (await client.send(new DescribeTasksCommand({ cluster: 'from-cli', tasks: [arn] }))).tasks![0]!.lastStatus === 'RUNNING', { timeoutMs: 120_000, what: 'RUNNING' });
        mine = () => docker.listContainers({ all: true, filters: { label: [`${TASK_LABEL}=${arn}`] } });
      } finally {
        client.destroy();
      }
      expect((await mine()).length).toBe(1);
      cli.signal('SIGTERM');
      expect(await cli.waitForExit(60_000)).toEqual({ code: 0, signal: null });
      expect(cli.lines.at(-1)).toBe('stopped');
      expect(await mine()).toEqual([]);
    } finally {
      await cli.stop();
    }
  });
});
