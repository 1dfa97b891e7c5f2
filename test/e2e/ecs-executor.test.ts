import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DescribeTaskDefinitionCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, RegisterTaskDefinitionCommand, type Task } from '@aws-sdk/client-ecs';
import { startAwsLocalEndpoint, TASK_LABEL, type AwsLocalEndpoint, type FaultSpec } from '@longshore/aws-local';
import { Executor, FailureClass, JobState, LongshoreClient } from '@longshore/client';
import { repoRoot, startCluster, waitFor, type Cluster } from '@longshore/testing';
import { describeDocker } from '@longshore/testing/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';

const BIN = join(repoRoot, 'services/cli/bin/longshore.js');
const run = randomBytes(3).toString('hex');
const REGION = 'us-east-1';
const CLUSTER = `ecs-exec-${run}`;
const FAMILY = `longshore-e2e-${run}`;
const LOOKUP_PREFIX = `lookup-${run}`;
const credentials = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
/** A pool whose one agent has capacity 1, image lookup (registering), base RunTask arguments and a 10 s kill grace. */
const ONE = 'ecs-one';
/** A pool whose agent's ECS cluster does not exist (ecs unhealthy), with docker and subprocess beside it. */
const DOWN = 'ecs-down';
const BASE_KWARGS = {
  overrides: { taskRoleArn: 'arn:aws:iam::000000000000:role/base', containerOverrides: [{ name: 'main', memoryReservation: 16 }] },
  tags: [{ key: 'team', value: 'data' }],
  group: 'base',
};

// ECS jobs end to end: the CLI submits, an agent with the ecs executor runs each as an ECS task on
// the local ECS endpoint (which runs it as a container on the run's private Docker engine), and
// the job's output comes back from the endpoint's CloudWatch Logs.
describeDocker('ECS jobs through a cluster and the local ECS endpoint', ({ docker, image, host }) => {
  let endpoint: AwsLocalEndpoint;
  let ecs: ECSClient;
  let cluster: Cluster;
  let ls: LongshoreClient;
  let agentEnv: NodeJS.ProcessEnv;
  // Asynchronous: the endpoint runs in this process and must keep answering while the CLI waits.
  const cli = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...cluster.clientEnv }, encoding: 'utf8', timeout: 170_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  const ecsJob = (more: string[]) => ['submit', '--executor', 'ecs', '--image', image, '--wait', ...more];
  const inject = (spec: FaultSpec) => endpoint.faults.inject(spec);

  beforeAll(async () => {
    endpoint = await startAwsLocalEndpoint({ docker, clusters: [CLUSTER], stopTimeoutSeconds: 2 });
    ecs = new ECSClient({ endpoint: endpoint.url, region: REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: FAMILY,
        containerDefinitions: [
          { name: 'main', image, essential: true, logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': `/longshore/${run}`, 'awslogs-stream-prefix': 'job', 'awslogs-region': REGION } } },
        ],
      }),
    );
    // A second task definition a job names itself (--ecs-task-definition).
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: `${FAMILY}-own`,
        containerDefinitions: [
          {
            name: 'main',
            image,
            essential: true,
            environment: [{ name: 'FROM_DEF', value: 'its own task definition' }],
            logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': `/longshore/${run}`, 'awslogs-stream-prefix': 'job', 'awslogs-region': REGION } },
          },
        ],
      }),
    );
    agentEnv = {
          LONGSHORE_AGENT_ID: 'ecs-keeper',
          LONGSHORE_ADOPT_WINDOW: '60s',
          LONGSHORE_EXECUTORS: 'subprocess,ecs',
          LONGSHORE_CAPACITY: '50',
          AWS_REGION: REGION,
          AWS_ENDPOINT_URL_ECS: endpoint.url,
          AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: endpoint.url,
          // The endpoint's faults are what the executor must survive, not the SDK's own retries.
          AWS_MAX_ATTEMPTS: '1',
          ...credentials,
          LONGSHORE_ECS_CLUSTER: CLUSTER,
          LONGSHORE_ECS_CONTAINER: 'main',
          LONGSHORE_ECS_TASK_DEFINITION: FAMILY,
          LONGSHORE_ECS_LAUNCH_TYPE: 'EC2',
          LONGSHORE_ECS_POLL_INTERVAL: '200ms',
          LONGSHORE_ECS_MAX_RUN_TASK_ATTEMPTS: '3',
    };
    const { LONGSHORE_ECS_TASK_DEFINITION: _fixed, ...lookupEnv } = agentEnv;
    cluster = await startCluster({
      agents: [
        agentEnv,
        {
          ...lookupEnv,
          LONGSHORE_AGENT_ID: 'ecs-one',
          LONGSHORE_POOL: ONE,
          LONGSHORE_EXECUTORS: 'ecs',
          LONGSHORE_DEFAULT_EXECUTOR: 'ecs',
          LONGSHORE_CAPACITY: '1',
          LONGSHORE_KILL_GRACE: '10s',
          LONGSHORE_ECS_IMAGE_LOOKUP_PREFIX: LOOKUP_PREFIX,
          LONGSHORE_ECS_REGISTER_TASK_DEFINITION: JSON.stringify({
            containerDefinitions: [{ name: 'main', essential: true, logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': `/longshore/${run}`, 'awslogs-stream-prefix': 'job', 'awslogs-region': REGION } } }],
          }),
          LONGSHORE_ECS_RUN_TASK_KWARGS: JSON.stringify(BASE_KWARGS),
          LONGSHORE_ECS_OVERRIDABLE_KEYS: 'overrides,group',
        },
        {
          ...agentEnv,
          LONGSHORE_AGENT_ID: 'ecs-down',
          LONGSHORE_POOL: DOWN,
          LONGSHORE_EXECUTORS: 'ecs,docker,subprocess',
          DOCKER_HOST: host,
          LONGSHORE_ECS_CLUSTER: `missing-${run}`,
          LONGSHORE_ECS_CHECK_CLUSTER: 'false',
        },
      ],
      beforeAgents: async (env) => {
        const c = LongshoreClient.connect({ env });
        await c.registry.createPool({ id: ONE });
        await c.registry.createPool({ id: DOWN });
        c.close();
      },
    });
    ls = LongshoreClient.connect({ env: cluster.clientEnv });
  });
  afterAll(async () => {
    ls?.close();
    ecs?.destroy();
    await cluster?.stop();
    await endpoint?.close();
  });

  /** Every task of the cluster the endpoint still knows (running and stopped), with its tags. */
  const allTasks = async (): Promise<Task[]> => {
    const arns: string[] = [];
    for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
      let nextToken: string | undefined;
      for (let page = 0; page < 1000; page++) {
        const out = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, desiredStatus, ...(nextToken ? { nextToken } : {}) }));
        arns.push(...(out.taskArns ?? []));
        nextToken = out.nextToken;
        if (!nextToken) break;
      }
    }
    const tasks: Task[] = [];
    for (let i = 0; i < arns.length; i += 100) tasks.push(...((await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns.slice(i, i + 100), include: ['TAGS'] }))).tasks ?? []));
    return tasks;
  };
  const tagOf = (t: Task, key: string) => t.tags?.find((x) => x.key === key)?.value;
  const tasksOfJobs = async (ids: Iterable<string>): Promise<Task[]> => {
    const wanted = new Set(ids);
    return (await allTasks()).filter((t) => wanted.has(tagOf(t, 'longshore.job') ?? ''));
  };
  /** Runs `sh -c script` in the container of task `arn`. */
  const execIn = async (arn: string, script: string) => {
    const [container] = await docker.listContainers({ filters: { label: [`${TASK_LABEL}=${arn}`] } });
    if (!container) throw new Error(`no running container of task ${arn}`);
    const exec = await docker.getContainer(container.Id).exec({ Cmd: ['sh', '-c', script] });
    await exec.start({});
  };
  const logOf = async (id: string) => {
    const lines: string[] = [];
    for await (const l of ls.logs(id)) lines.push(l.text);
    return lines.filter((t) => !t.startsWith('[longshore]'));
  };

  it("prints the task's output and exits with its container's exit code", async () => {
    const r = await cli(ecsJob(['--', 'sh', '-c', 'echo hi; echo there; exit 4']));
    expect(r.stdout).toBe('hi\nthere\n');
    expect(r.code).toBe(4);
    const env = await cli(ecsJob(['--env', 'GREETING=hello ecs', '--', 'sh', '-c', 'echo "$GREETING from $LONGSHORE_JOB_ID"']));
    expect(env.code).toBe(0);
    expect(env.stdout).toMatch(/^hello ecs from \S+\n$/);
  });

  it('each start-failure kind is retried inside the attempt: one failure, and the job still runs', async () => {
    for (const fault of [{ runTaskFailures: { count: 1, reason: 'RESOURCE:MEMORY' } }, { failToStart: { count: 1 } }, { throttle: { action: 'RunTask', count: 1 } }] as FaultSpec[]) {
      inject(fault);
      const r = await cli(ecsJob(['--max-attempts', '1', '--', 'sh', '-c', 'echo ran']));
      expect(r, JSON.stringify(fault)).toMatchObject({ code: 0, stdout: 'ran\n' });
    }
  });

  it('start failures past LONGSHORE_ECS_MAX_RUN_TASK_ATTEMPTS end start_failed, naming them, never success', async () => {
    inject({ runTaskFailures: { count: 3, reason: 'AGENT' } });
    const r = await cli(ecsJob(['--max-attempts', '1', '--', 'sh', '-c', 'echo must not run']));
    expect(r.code).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/ECS could not start .* in 3 tries/);
    expect(r.stderr).toContain('AGENT');
  });

  it('survives throttled DescribeTasks polls', async () => {
    inject({ throttle: { action: 'DescribeTasks', count: 3 } });
    const r = await cli(ecsJob(['--', 'sh', '-c', 'sleep 1; echo after the throttling']));
    expect(r).toMatchObject({ code: 0, stdout: 'after the throttling\n' });
  });

  it('a timeout stops the task with StopTask and the job ends timeout', async () => {
    const before = endpoint.stats()['StopTask'] ?? 0;
    const r = await cli(ecsJob(['--timeout', '2s', '--', 'sleep', '300']));
    expect(r.code).toBe(124);
    expect(endpoint.stats()['StopTask'] ?? 0).toBeGreaterThan(before);
  });

  it('a container over its memory is oom', async () => {
    const r = await cli(ecsJob(['--memory', '32Mi', '--', 'sh', '-c', 'x=$(yes | head -c 100000000); echo survived ${#x}']));
    expect(r.code).toBe(137);
    expect(r.stdout).not.toContain('survived');
    expect(r.stderr).toMatch(/oom|memory/i);
  });

  it('refuses at submit an ECS job whose environment cannot fit the 8 KiB overrides', async () => {
    const r = await cli(['submit', '--executor', 'ecs', '--image', image, '--env', `BIG=${'x'.repeat(9000)}`, '--', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/8192-byte task overrides/);
  });

  it('runs a job in the task definition it names (--ecs-task-definition), not the agent\'s', async () => {
    const r = await cli(ecsJob(['--ecs-task-definition', `${FAMILY}-own`, '--', 'sh', '-c', 'echo "$FROM_DEF"']));
    expect(r).toMatchObject({ code: 0, stdout: 'its own task definition\n' });
  });

  it('image lookup lists task definitions once per image and registers one once: later jobs of the image cost no listing', async () => {
    const before = endpoint.stats();
    const delta = (action: string) => (endpoint.stats()[action] ?? 0) - (before[action] ?? 0);
    const jobs = await Promise.all([1, 2, 3].map((n) => ls.submit({ pool: ONE, weightMilli: 500, executor: Executor.ECS, image, command: ['sh', '-c', `echo lookup ${n}`] })));
    const done = await Promise.all(jobs.map((j) => ls.waitForJob(j.id)));
    expect(done.map((j) => j.state)).toEqual([JobState.SUCCEEDED, JobState.SUCCEEDED, JobState.SUCCEEDED]);
    expect(delta('ListTaskDefinitions'), 'one listing for the three jobs').toBe(1);
    expect(delta('RegisterTaskDefinition')).toBe(1);
    expect(delta('RunTask')).toBe(3);
    const defs = new Set((await tasksOfJobs(jobs.map((j) => j.id))).map((t) => t.taskDefinitionArn));
    expect([...defs]).toEqual([expect.stringMatching(new RegExp(`:task-definition/${LOOKUP_PREFIX}-[0-9a-f]{12}:1$`))]);
    const again = await cli(['submit', '--pool', ONE, '--executor', 'ecs', '--image', image, '--wait', '--', 'echo', 'again']);
    expect(again).toMatchObject({ code: 0, stdout: 'again\n' });
    expect(delta('ListTaskDefinitions'), 'a later job: no listing').toBe(1);
    expect(delta('RegisterTaskDefinition')).toBe(1);
  });

  it("a job's RunTask arguments deep-merge over the agent's (objects merge, arrays replace, container overrides by name); a key the agent does not allow is refused, named", async () => {
    const job = await ls.submit({
      pool: ONE,
      executor: Executor.ECS,
      image,
      env: { FROM_JOB: 'yes' },
      command: ['sh', '-c', 'echo "$FROM_JOB"'],
      ecs: { runTaskOverrides: JSON.stringify({ overrides: { ephemeralStorage: { sizeInGiB: 30 }, containerOverrides: [{ name: 'main', cpu: 64 }] }, group: 'job-group' }) },
    });
    expect(await ls.waitForJob(job.id)).toMatchObject({ state: JobState.SUCCEEDED });
    expect(await logOf(job.id)).toEqual(['yes']);
    const [task] = await tasksOfJobs([job.id]);
    expect(task!.group, 'a top-level key the job may set replaces the base').toBe('job-group');
    expect(task!.overrides, 'objects merge').toMatchObject({ taskRoleArn: BASE_KWARGS.overrides.taskRoleArn, ephemeralStorage: { sizeInGiB: 30 } });
    expect(task!.overrides!.containerOverrides, 'container overrides merge by name; the job command and environment win').toEqual([
      expect.objectContaining({ name: 'main', memoryReservation: 16, cpu: 64, command: ['sh', '-c', 'echo "$FROM_JOB"'], environment: expect.arrayContaining([{ name: 'FROM_JOB', value: 'yes' }]) }),
    ]);
    expect(task!.tags).toEqual(expect.arrayContaining([{ key: 'team', value: 'data' }, { key: 'longshore.job', value: job.id }, { key: 'longshore.agent', value: 'ecs-one' }]));

    const runTasks = endpoint.stats()['RunTask'] ?? 0;
    const refused = (json: string) => cli(['submit', '--pool', ONE, '--executor', 'ecs', '--image', image, '--max-attempts', '1', '--ecs-overrides', json, '--wait', '--', 'echo', 'must not run']);
    const tags = await refused('{"tags":[{"key":"x","value":"y"}]}');
    expect(tags).toMatchObject({ code: 125, stdout: '' });
    expect(tags.stderr).toContain('"tags", which this agent does not let jobs override (LONGSHORE_ECS_OVERRIDABLE_KEYS; it allows: overrides, group)');
    const own = await refused('{"cluster":"elsewhere"}');
    expect(own).toMatchObject({ code: 125, stdout: '' });
    expect(own.stderr).toContain('"cluster", which only the executor sets');
    expect(endpoint.stats()['RunTask'], 'nothing was run for the refused jobs').toBe(runTasks);
  });

  it('weights hold with ECS jobs: an agent of capacity 1 never has more than two 0.5-weight tasks at once', async () => {
    const command = ['sh', '-c', 'echo up; until [ -e /go ]; do sleep 0.1; done; echo done'];
    const jobs = await Promise.all([1, 2, 3, 4].map(() => ls.submit({ pool: ONE, weightMilli: 500, executor: Executor.ECS, image, command })));
    const ids = jobs.map((j) => j.id);
    // Two tasks run and hold their weight until the test lets them finish; the other two wait for room.
    const live = await waitFor(
      async () => {
        const running = (await tasksOfJobs(ids)).filter((t) => t.lastStatus === 'RUNNING');
        return running.length >= 2 ? running : undefined;
      },
      { timeoutMs: 120_000, what: 'two tasks to run' },
    );
    expect(live).toHaveLength(2);
    expect((await tasksOfJobs(ids)).filter((t) => t.lastStatus !== 'STOPPED'), 'no third task, not even provisioning').toHaveLength(2);
    const states = await Promise.all(ids.map(async (id) => (await ls.getJob(id)).state));
    expect(states.filter((s) => s === JobState.QUEUED)).toHaveLength(2);
    // Let each task finish once it runs, until all four have.
    const released = new Set<string>();
    await waitFor(
      async () => {
        for (const t of await tasksOfJobs(ids)) {
          if (t.lastStatus !== 'RUNNING' || released.has(t.taskArn!)) continue;
          await execIn(t.taskArn!, ': > /go');
          released.add(t.taskArn!);
        }
        const done = await Promise.all(ids.map((id) => ls.getJob(id)));
        return done.every((j) => j.state === JobState.SUCCEEDED);
      },
      { timeoutMs: 180_000, intervalMs: 200, what: 'the four jobs to finish' },
    );
    // What the endpoint saw: each task from RunTask (createdAt) to STOPPED; at most two at any time.
    const tasks = await tasksOfJobs(ids);
    expect(tasks).toHaveLength(4);
    const edges = tasks.flatMap((t) => [[t.createdAt!.getTime(), 1] as const, [t.stoppedAt!.getTime(), -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let now = 0;
    let most = 0;
    for (const [, d] of edges) most = Math.max(most, (now += d));
    expect(most).toBe(2);
  });

  it('auto chain ecs, docker, subprocess: the first allowed executor healthy on the agent, with why others were skipped; never one the job does not allow', async () => {
    const auto = (allowedExecutors: Executor[], pool?: string) => ls.submit({ ...(pool ? { pool } : {}), executor: Executor.AUTO, allowedExecutors, image, command: ['sh', '-c', 'echo ran'] });
    const runTasks = endpoint.stats()['RunTask'] ?? 0;
    const onEcs = await ls.waitForJob((await auto([Executor.ECS, Executor.DOCKER, Executor.SUBPROCESS])).id);
    expect(onEcs).toMatchObject({ state: JobState.SUCCEEDED });
    expect(onEcs.attempts[0]).toMatchObject({ executor: Executor.ECS, executorReason: 'auto: first allowed, ecs' });
    expect(endpoint.stats()['RunTask']).toBe(runTasks + 1);
    const notAllowed = await ls.waitForJob((await auto([Executor.DOCKER, Executor.SUBPROCESS])).id);
    expect(notAllowed).toMatchObject({ state: JobState.SUCCEEDED });
    expect(notAllowed.attempts[0]).toMatchObject({ executor: Executor.SUBPROCESS, executorReason: 'auto: docker not available on this agent; chose subprocess' });
    expect(endpoint.stats()['RunTask'], 'a job that does not allow ecs never runs on it').toBe(runTasks + 1);

    // ecs-down's cluster does not exist: its ecs executor is unhealthy, and says why.
    const down = await waitFor(
      async () => {
        const agent = (await ls.registry.listAgents({ pool: DOWN })).agents.find((a) => a.id === 'ecs-down');
        return agent?.executorHealth.find((h) => h.executor === Executor.ECS && !h.healthy);
      },
      { timeoutMs: 60_000, what: 'ecs-down to advertise ecs unhealthy' },
    );
    expect(down.reason).toBe(`ECS has no cluster missing-${run} (MISSING; LONGSHORE_ECS_CLUSTER, AWS_REGION)`);
    const ecsOnly = await ls.submit({ pool: DOWN, executor: Executor.ECS, image, command: ['echo', 'must not run elsewhere'] });
    const onDocker = await ls.waitForJob((await auto([Executor.ECS, Executor.DOCKER, Executor.SUBPROCESS], DOWN)).id);
    expect(onDocker).toMatchObject({ state: JobState.SUCCEEDED });
    expect(onDocker.attempts[0]).toMatchObject({ executor: Executor.DOCKER, executorReason: `auto: ecs unreachable on this agent (${down.reason}); chose docker` });
    expect(await logOf(onDocker.id)).toEqual(['ran']);
    // Submitted first, and still waiting: a job that allows only ecs does not run elsewhere.
    expect((await ls.getJob(ecsOnly.id)).state).toBe(JobState.QUEUED);
    await ls.dispatcher.cancelJob({ id: ecsOnly.id });
    expect(endpoint.stats()['RunTask']).toBe(runTasks + 1);
  });

  it('a job cancelled while RunTask is in flight, or while its task provisions: the task is stopped at once, naming the cancel, and none is left running', async () => {
    const command = ['sleep', '300'];
    // RunTask takes effect at once and is answered 20 s later: the cancel comes while the agent waits for the answer.
    const runTasks = endpoint.stats()['RunTask'] ?? 0;
    inject({ delay: { action: 'RunTask', count: 1, ms: 20_000 } });
    const inFlight = await ls.submit({ executor: Executor.ECS, image, command });
    await waitFor(() => (endpoint.stats()['RunTask'] ?? 0) > runTasks, { timeoutMs: 60_000, what: 'its RunTask call' });
    await ls.dispatcher.cancelJob({ id: inFlight.id });
    // Its task stays PROVISIONING: the cancel comes once RunTask has answered, before the task runs.
    inject({ slowStart: { count: 1, ms: 600_000 } });
    const provisioning = await ls.submit({ executor: Executor.ECS, image, command });
    const [early] = await waitFor(async () => {
      const found = await tasksOfJobs([provisioning.id]);
      return found.length ? found : undefined;
    }, { timeoutMs: 60_000, what: 'its task' });
    expect(early!.lastStatus).toBe('PROVISIONING');
    await ls.dispatcher.cancelJob({ id: provisioning.id });

    for (const job of [inFlight, provisioning]) {
      expect(await ls.waitForJob(job.id)).toMatchObject({ state: JobState.CANCELLED, failureClass: FailureClass.CANCELLED });
      const tasks = await tasksOfJobs([job.id]);
      expect(tasks, 'one task, STOPPED by the cancel').toEqual([
        expect.objectContaining({ lastStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: expect.stringContaining(`job ${job.id} (attempt 1) was stopped before it ran (cancelled by request)`) }),
      ]);
      expect(await docker.listContainers({ filters: { label: [`${TASK_LABEL}=${tasks[0]!.taskArn}`] } })).toEqual([]);
    }
  });

  it("cancel gives the job SIGTERM, then SIGKILL after the stop grace: LONGSHORE_KILL_GRACE in the task definitions the agent registers, else the task definition's own stopTimeout", async () => {
    const cancelled = async (pool?: string) => {
      const job = await ls.submit({ ...(pool ? { pool } : {}), executor: Executor.ECS, image, command: ['sh', '-c', "trap 'echo got TERM; sleep 3; echo clean exit; exit 42' TERM; echo ready; sleep 300 & wait"] });
      await waitFor(async () => (await logOf(job.id)).includes('ready'), { timeoutMs: 60_000, intervalMs: 200, what: 'the job to be ready' });
      await ls.dispatcher.cancelJob({ id: job.id });
      const done = await ls.waitForJob(job.id);
      const [task] = await tasksOfJobs([job.id]);
      return { done, task: task!, log: await logOf(job.id) };
    };
    // 10 s between SIGTERM and SIGKILL: the job's 3 s of clean-up finish.
    const one = await cancelled(ONE);
    expect(one.done.state).toBe(JobState.CANCELLED);
    expect(one.task).toMatchObject({ stopCode: 'UserInitiated', stoppedReason: expect.stringContaining('stopped by Longshore') });
    expect(one.task.containers![0]!.exitCode).toBe(42);
    expect(one.log).toEqual(['ready', 'got TERM', 'clean exit']);
    const family = `${LOOKUP_PREFIX}-${createHash('sha256').update(image).digest('hex').slice(0, 12)}`;
    const registered = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family }))).taskDefinition!;
    expect(one.task.taskDefinitionArn).toBe(registered.taskDefinitionArn);
    expect(registered.containerDefinitions![0], "ecs-one's LONGSHORE_KILL_GRACE of 10 s").toMatchObject({ name: 'main', image, stopTimeout: 10 });
    // The default pool's agent runs a task definition of the user's without stopTimeout: ECS's
    // default applies (the endpoint's here, 2 s), not LONGSHORE_KILL_GRACE, and the agent said so.
    const keeper = await cancelled();
    expect(keeper.done.state).toBe(JobState.CANCELLED);
    expect(keeper.task.containers![0]!.exitCode, 'killed mid clean-up').toBe(137);
    expect(keeper.log).toEqual(['ready', 'got TERM']);
    const warned = cluster.agents[0]!.logs.filter((l) => String(l['msg']).includes(`task-definition/${FAMILY}:1: container main has no stopTimeout`));
    expect(warned, 'named once (for this task definition)').toHaveLength(1);
    expect(warned[0]!['msg']).toContain("not LONGSHORE_KILL_GRACE's 2 s");
  });

  it('an agent killed outright and started again with the same id adopts its running task: the job finishes once, in one attempt, with its whole log', async () => {
    const runTasks = endpoint.stats()['RunTask'] ?? 0;
    const job = await ls.submit({
      executor: Executor.ECS,
      image,
      command: ['sh', '-c', 'echo before; until [ -e /away ]; do sleep 0.2; done; echo away; until [ -e /go ]; do sleep 0.2; done; echo after; exit 3'],
    });
    const printed = async (text: string) => {
      for await (const l of ls.logs(job.id)) if (l.text === text) return true;
      return false;
    };
    await waitFor(() => printed('before'), { timeoutMs: 60_000, what: 'the job to print "before"' });
    const [task] = await tasksOfJobs([job.id]);
    expect(task, 'the job runs as a task of the endpoint').toBeDefined();
    const touch = (file: string) => execIn(task!.taskArn!, `: > ${file}`);

    const agent = cluster.agents[0]!;
    agent.signal('SIGKILL');
    await agent.waitForExit(10_000);
    // Printed while no agent follows it: the adopting agent reads it back from CloudWatch Logs.
    await touch('/away');
    const again = await cluster.startAgent(agentEnv);
    await again.waitForLog((l) => l.msg === 'adopted a run an earlier life of this agent left running' && l['job'] === job.id, 60_000);
    await touch('/go');

    const done = await ls.waitForJob(job.id);
    expect(done).toMatchObject({ state: JobState.FAILED, exitCode: 3, failureClass: FailureClass.EXIT });
    expect(done.attempts, 'the same attempt, adopted: nothing ran twice').toHaveLength(1);
    expect(endpoint.stats()['RunTask'], 'one task started').toBe(runTasks + 1);
    const lines: string[] = [];
    for await (const l of ls.logs(job.id)) lines.push(l.text);
    expect(lines.filter((t) => !t.startsWith('[longshore]'))).toEqual(['before', 'away', 'after']);
  });
});
