// An in-memory ECS cluster and CloudWatch Logs behind EcsApi, for this package's specs only; not exported from index.ts.
import type { RunTaskCommandInput, Task, TaskDefinition } from '@aws-sdk/client-ecs';
import type { EcsApi } from './ecs-api.js';

/** What the next RunTask call does instead of starting a task that runs. */
export type RunTaskTrouble =
  | { failure: string }
  | { error: string }
  /** The task is created and stops without running (no exit code). */
  | { failToStart: string }
  /** The task is created (and runs), and the answer waits for `answer`; a call aborted meanwhile rejects with AbortError. */
  | { held: Promise<void> };

function awsError(name: string, message = name): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

const REGION_ACCOUNT = 'arn:aws:ecs:eu-west-1:123456789012';

/**
 * A cluster whose tasks move only when the spec says: RunTask makes a task PROVISIONING that the
 * next DescribeTasks shows RUNNING; {@link FakeEcs.exit} stops it with an exit code; lines written
 * with {@link FakeEcs.print} are read back through GetLogEvents pages.
 */
export class FakeEcs implements EcsApi {
  readonly calls: Record<string, number> = {};
  /** When each GetLogEvents call came (epoch ms), in order. */
  readonly logReadTimes: number[] = [];
  /** The batch sizes of every DescribeTasks call, in order. */
  readonly describeBatches: number[] = [];
  readonly runInputs: RunTaskCommandInput[] = [];
  readonly stopped: { task: string; reason?: string }[] = [];
  readonly tasks = new Map<string, Task>();
  readonly taskDefinitions: TaskDefinition[] = [];
  /** Behaviours of the next RunTask calls, in order; an empty queue starts tasks that run. */
  readonly trouble: RunTaskTrouble[] = [];
  /** The next this many DescribeTasks calls are throttled. */
  throttleDescribes = 0;
  /** The next this many DescribeTaskDefinition calls are throttled. */
  throttleTaskDefinitionDescribes = 0;
  /** Whether StopTask ends the task (exit 143, stopCode UserInitiated) at once. */
  stopEndsTask = true;
  private readonly logs = new Map<string, string[]>();
  private next = 0;

  constructor(readonly cluster = 'jobs') {}

  private count(name: string): void {
    this.calls[name] = (this.calls[name] ?? 0) + 1;
  }

  /** Adds a task definition (revision 1 of `family`) whose container `container` logs to awslogs. */
  addTaskDefinition(family: string, container: string, image: string, revision = 1): TaskDefinition {
    const def: TaskDefinition = {
      taskDefinitionArn: `${REGION_ACCOUNT}:task-definition/${family}:${revision}`,
      family,
      revision,
      status: 'ACTIVE',
      containerDefinitions: [{ name: container, image, logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/longshore/jobs', 'awslogs-stream-prefix': 'ls' } } }],
    };
    this.taskDefinitions.push(def);
    return def;
  }

  /** Appends a log line of task `arn`'s container (its stream as the awslogs driver names it). */
  print(arn: string, line: string): void {
    const task = this.tasks.get(arn)!;
    const container = task.containers![0]!.name!;
    const key = `/longshore/jobs\nls/${container}/${arn.slice(arn.lastIndexOf('/') + 1)}`;
    this.logs.set(key, [...(this.logs.get(key) ?? []), line]);
  }

  /** Stops task `arn` as its container exiting with `exitCode` (and `reason`, e.g. an OutOfMemoryError) would. */
  exit(arn: string, exitCode: number | undefined, opts: { reason?: string; stopCode?: string } = {}): void {
    const task = this.tasks.get(arn)!;
    task.lastStatus = 'STOPPED';
    task.desiredStatus = 'STOPPED';
    task.stopCode = (opts.stopCode ?? 'EssentialContainerExited') as Task['stopCode'];
    task.stoppedReason = 'Essential container in task exited';
    const c = task.containers![0]!;
    if (exitCode !== undefined) c.exitCode = exitCode;
    if (opts.reason) c.reason = opts.reason;
    c.lastStatus = 'STOPPED';
  }

  /** Tasks RunTask started, oldest first. */
  started(): Task[] {
    return [...this.tasks.values()];
  }

  runTask: EcsApi['runTask'] = async (input, signal) => {
    this.count('RunTask');
    this.runInputs.push(structuredClone(input));
    const trouble = this.trouble.shift();
    if (trouble && 'error' in trouble) throw awsError(trouble.error, `${trouble.error}: Rate exceeded`);
    if (trouble && 'failure' in trouble) return { tasks: [], failures: [{ reason: trouble.failure, detail: 'no container instance met all of its requirements' }] };
    const def = this.taskDefinitions.find((d) => d.taskDefinitionArn === input.taskDefinition);
    if (!def) throw awsError('ClientException', `Unable to describe task definition ${input.taskDefinition}`);
    const arn = `${REGION_ACCOUNT}:task/${this.cluster}/${(++this.next).toString(16).padStart(32, '0')}`;
    const container = def.containerDefinitions![0]!.name!;
    const task: Task = {
      taskArn: arn,
      taskDefinitionArn: def.taskDefinitionArn!,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      ...(input.startedBy ? { startedBy: input.startedBy } : {}),
      tags: input.tags ?? [],
      containers: [{ name: container, lastStatus: 'PENDING' }],
    };
    this.tasks.set(arn, task);
    if (trouble && 'failToStart' in trouble) {
      this.exit(arn, undefined, { stopCode: 'TaskFailedToStart' });
      task.stoppedReason = trouble.failToStart;
    }
    if (trouble && 'held' in trouble) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(awsError('AbortError', 'Request aborted'));
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        void trouble.held.then(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    return { tasks: [structuredClone(task)], failures: [] };
  };

  describeTasks: EcsApi['describeTasks'] = async (input) => {
    this.count('DescribeTasks');
    const arns = input.tasks ?? [];
    if (arns.length > 100) throw awsError('InvalidParameterException', 'Tasks cannot contain more than 100 elements');
    this.describeBatches.push(arns.length);
    if (this.throttleDescribes > 0) {
      this.throttleDescribes--;
      throw awsError('ThrottlingException', 'Rate exceeded');
    }
    const tasks: Task[] = [];
    const failures = [];
    for (const arn of arns) {
      const task = this.tasks.get(arn);
      if (!task) {
        failures.push({ arn, reason: 'MISSING' });
        continue;
      }
      if (task.lastStatus === 'PROVISIONING') {
        task.lastStatus = 'RUNNING';
        task.containers![0]!.lastStatus = 'RUNNING';
      }
      const { tags: _tags, ...rest } = task;
      tasks.push(structuredClone(input.include?.includes('TAGS') ? task : rest));
    }
    return { tasks, failures };
  };

  stopTask: EcsApi['stopTask'] = async (input) => {
    this.count('StopTask');
    this.stopped.push({ task: input.task!, ...(input.reason ? { reason: input.reason } : {}) });
    const task = this.tasks.get(input.task!);
    if (!task) throw awsError('InvalidParameterException', 'The referenced task was not found.');
    if (this.stopEndsTask && task.lastStatus !== 'STOPPED') this.exit(input.task!, 143, { stopCode: 'UserInitiated' });
    return { task: structuredClone(task) };
  };

  listTasks: EcsApi['listTasks'] = async (input) => {
    this.count('ListTasks');
    const running = [...this.tasks.values()].filter((t) => t.desiredStatus === 'RUNNING' && (input.startedBy === undefined || t.startedBy === input.startedBy)).map((t) => t.taskArn!);
    const from = input.nextToken ? Number(input.nextToken) : 0;
    const size = input.maxResults ?? 100;
    const page = running.slice(from, from + size);
    return { taskArns: page, ...(from + size < running.length ? { nextToken: String(from + size) } : {}) };
  };

  describeTaskDefinition: EcsApi['describeTaskDefinition'] = async (input) => {
    this.count('DescribeTaskDefinition');
    if (this.throttleTaskDefinitionDescribes > 0) {
      this.throttleTaskDefinitionDescribes--;
      throw awsError('ThrottlingException', 'Rate exceeded');
    }
    const ref = input.taskDefinition!;
    const matches = this.taskDefinitions.filter((d) => d.taskDefinitionArn === ref || `${d.family}:${d.revision}` === ref || d.family === ref);
    const def = matches.sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0))[0];
    if (!def) throw awsError('ClientException', 'Unable to describe task definition.');
    return { taskDefinition: structuredClone(def) };
  };

  listTaskDefinitions: EcsApi['listTaskDefinitions'] = async (input) => {
    this.count('ListTaskDefinitions');
    const arns = this.taskDefinitions.map((d) => d.taskDefinitionArn!);
    return { taskDefinitionArns: input.sort === 'DESC' ? arns.reverse() : arns };
  };

  registerTaskDefinition: EcsApi['registerTaskDefinition'] = async (input) => {
    this.count('RegisterTaskDefinition');
    const revision = this.taskDefinitions.filter((d) => d.family === input.family).length + 1;
    const def: TaskDefinition = { ...structuredClone(input), taskDefinitionArn: `${REGION_ACCOUNT}:task-definition/${input.family}:${revision}`, revision, status: 'ACTIVE' } as TaskDefinition;
    this.taskDefinitions.push(def);
    return { taskDefinition: structuredClone(def) };
  };

  describeClusters: EcsApi['describeClusters'] = async (input) => {
    this.count('DescribeClusters');
    const name = input.clusters?.[0];
    if (name === this.cluster) return { clusters: [{ clusterName: name, status: 'ACTIVE' }], failures: [] };
    return { clusters: [], failures: [{ arn: `${REGION_ACCOUNT}:cluster/${name}`, reason: 'MISSING' }] };
  };

  getLogEvents: EcsApi['getLogEvents'] = async (input) => {
    this.count('GetLogEvents');
    this.logReadTimes.push(Date.now());
    const lines = this.logs.get(`${input.logGroupName}\n${input.logStreamName}`);
    if (!lines) throw awsError('ResourceNotFoundException', 'The specified log stream does not exist.');
    // Pages of at most 2 events, so that specs see the reader follow nextForwardToken.
    const from = input.nextToken ? Number(input.nextToken.slice(2)) : 0;
    const page = lines.slice(from, from + 2);
    return { events: page.map((message, i) => ({ message, timestamp: from + i })), nextForwardToken: `f/${from + page.length}` };
  };
}
