import { randomBytes } from 'node:crypto';
import { clusterName, ecsArn, taskId, type ArnScope } from './arns.js';
import { clusterNotFound, invalidParameter } from './errors.js';
import type { Faults } from './faults.js';
import { requestStop, runTaskLifecycle, type LifecycleDeps } from './task-lifecycle.js';
import { containerRunSpec, parseRunTask } from './run-task-input.js';
import { taskShape, type Task } from './task.js';
import { TaskDefinitions } from './task-definitions.js';
import { optEnum, optInt, optString, optStrings, page, reqString, type Input } from './validate.js';

/** Settings of the ECS half of the endpoint. */
export interface EcsServiceOptions {
  scope: ArnScope;
  /** Clusters that exist besides `default`. */
  clusters: readonly string[];
  /** Grace of `docker stop` for containers whose definition has no `stopTimeout` (ECS's default is 30 s). */
  stopTimeoutSeconds: number;
  /** STOPPED tasks kept for DescribeTasks; the oldest are forgotten past it. */
  maxStoppedTasks: number;
}

type Handler = (input: Input) => Input | Promise<Input>;

/**
 * The ECS actions: task definitions, clusters, and tasks run by {@link runTaskLifecycle}.
 * One instance per endpoint; every task it started is followed in `running` until it stops.
 */
export class EcsService {
  readonly definitions: TaskDefinitions;
  private readonly clusters = new Map<string, { arn: string }>();
  private readonly tasks = new Map<string, Task>();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly opts: EcsServiceOptions,
    private readonly faults: Faults,
    private readonly deps: LifecycleDeps,
  ) {
    this.definitions = new TaskDefinitions(opts.scope);
    for (const name of ['default', ...opts.clusters]) this.clusters.set(name, { arn: ecsArn(opts.scope, `cluster/${name}`) });
  }

  /** The handler of `action`, or undefined when the endpoint does not serve it. */
  handler(action: string): Handler | undefined {
    const handlers: Record<string, Handler> = {
      RegisterTaskDefinition: (i) => this.registerTaskDefinition(i),
      DescribeTaskDefinition: (i) => this.describeTaskDefinition(i),
      DeregisterTaskDefinition: (i) => ({ taskDefinition: this.definitions.deregister(reqString(i, 'taskDefinition'), new Date(this.deps.now())).raw }),
      ListTaskDefinitions: (i) => this.definitions.list(i),
      ListTagsForResource: (i) => this.listTags(i),
      RunTask: (i) => this.runTask(i),
      DescribeTasks: (i) => this.describeTasks(i),
      StopTask: (i) => this.stopTask(i),
      ListTasks: (i) => this.listTasks(i),
      DescribeClusters: (i) => this.describeClusters(i),
    };
    return Object.hasOwn(handlers, action) ? handlers[action] : undefined;
  }

  /** Resolves once every task started so far has stopped. */
  async settled(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }

  /** Sends StopTask to every task still running (at shutdown). */
  stopAll(reason: string): void {
    for (const t of this.tasks.values()) requestStop(t, reason, this.deps.now());
  }

  private registerTaskDefinition(input: Input): Input {
    const def = this.definitions.register(input, new Date(this.deps.now()));
    return { taskDefinition: def.raw, tags: tagList(def.tags) };
  }

  private describeTaskDefinition(input: Input): Input {
    const def = this.definitions.get(reqString(input, 'taskDefinition'));
    const withTags = (optStrings(input, 'include') ?? []).includes('TAGS');
    return { taskDefinition: def.raw, ...(withTags ? { tags: tagList(def.tags) } : {}) };
  }

  private listTags(input: Input): Input {
    const arn = reqString(input, 'resourceArn');
    if (/:task-definition\//.test(arn)) {
      const def = this.definitions.find(arn);
      if (def) return { tags: tagList(def.tags) };
    } else if (/:task\//.test(arn)) {
      const task = this.tasks.get(taskId(arn));
      if (task) return { tags: tagList(task.tags) };
    }
    throw invalidParameter(`The specified resourceArn is not a task or task definition this endpoint knows: "${arn}"`);
  }

  private cluster(input: Input): { name: string; arn: string } {
    const name = clusterName(optString(input, 'cluster') || 'default');
    const c = this.clusters.get(name);
    if (!c) throw clusterNotFound(name);
    return { name, arn: c.arn };
  }

  private runTask(input: Input): Input {
    const cluster = this.cluster(input);
    const ref = reqString(input, 'taskDefinition');
    const def = this.definitions.find(ref);
    if (!def) throw invalidParameter(`TaskDefinition not found: "${ref}" (register it first; give family, family:revision or its ARN)`);
    const run = parseRunTask(input, def);
    const failure = this.faults.takeRunTaskFailure();
    if (failure) return { tasks: [], failures: [{ arn: ecsArn(this.opts.scope, 'container-instance/local'), reason: failure, detail: 'injected by the local endpoint' }] };
    const tasks = Array.from({ length: run.count }, () => this.startTask(cluster, def, run));
    return { tasks: tasks.map((t) => taskShape(t, true)), failures: [] };
  }

  private startTask(cluster: { name: string; arn: string }, def: Task['def'], run: ReturnType<typeof parseRunTask>): Task {
    const id = randomBytes(16).toString('hex');
    const arn = ecsArn(this.opts.scope, `task/${cluster.name}/${id}`);
    const task: Task = {
      id,
      arn,
      clusterArn: cluster.arn,
      cluster: cluster.name,
      def,
      ...(run.startedBy !== undefined ? { startedBy: run.startedBy } : {}),
      group: run.group ?? `family:${def.family}`,
      tags: run.tags,
      overrides: run.overrides,
      echo: run.echo,
      ...(run.cpu ?? def.cpu ? { cpu: String(run.cpu ?? def.cpu) } : {}),
      ...(run.memory ?? def.memory ? { memory: String(run.memory ?? def.memory) } : {}),
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      createdAt: this.deps.now(),
      version: 1,
      containers: def.containers.map((c) => ({
        arn: ecsArn(this.opts.scope, `container/${cluster.name}/${id}/${randomBytes(16).toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-')}`),
        name: c.name,
        essential: c.essential,
        stopTimeout: c.stopTimeout ?? this.opts.stopTimeoutSeconds,
        ...(c.awslogs ? { log: { group: c.awslogs.group, stream: `${c.awslogs.streamPrefix}/${c.name}/${id}` } } : {}),
        spec: containerRunSpec(id, def, c, run),
        lastStatus: 'PENDING',
        ...(c.cpu !== undefined ? { cpu: c.cpu } : {}),
        ...(c.memory !== undefined ? { memory: c.memory } : {}),
        ...(c.memoryReservation !== undefined ? { memoryReservation: c.memoryReservation } : {}),
      })),
    };
    this.tasks.set(id, task);
    const slowStartMs = this.faults.takeSlowStart();
    const failToStart = this.faults.takeStartFailure();
    const life = runTaskLifecycle(task, { slowStartMs, ...(failToStart !== undefined ? { failToStart } : {}) }, this.deps).finally(() => {
      this.running.delete(life);
      this.forgetOldTasks();
    });
    this.running.add(life);
    return task;
  }

  private describeTasks(input: Input): Input {
    const cluster = this.cluster(input);
    const refs = optStrings(input, 'tasks') ?? [];
    if (refs.length === 0) throw invalidParameter('tasks must hold at least one task id or ARN');
    if (refs.length > 100) throw invalidParameter(`tasks may hold at most 100 tasks per DescribeTasks call, got ${refs.length}`);
    const withTags = (optStrings(input, 'include') ?? []).includes('TAGS');
    const tasks: Input[] = [];
    const failures: Input[] = [];
    for (const ref of refs) {
      const t = this.tasks.get(taskId(ref));
      if (t && t.cluster === cluster.name) tasks.push(taskShape(t, withTags));
      else failures.push({ arn: ref.startsWith('arn:') ? ref : ecsArn(this.opts.scope, `task/${cluster.name}/${ref}`), reason: 'MISSING' });
    }
    return { tasks, failures };
  }

  private stopTask(input: Input): Input {
    const cluster = this.cluster(input);
    const ref = reqString(input, 'task');
    const reason = optString(input, 'reason', 255);
    const t = this.tasks.get(taskId(ref));
    if (!t || t.cluster !== cluster.name) throw invalidParameter(`The referenced task was not found: "${ref}" in cluster "${cluster.name}"`);
    requestStop(t, reason, this.deps.now());
    return { task: taskShape(t, false) };
  }

  private listTasks(input: Input): Input {
    const cluster = this.cluster(input);
    const startedBy = optString(input, 'startedBy');
    const family = optString(input, 'family');
    const desired = optEnum(input, 'desiredStatus', ['RUNNING', 'PENDING', 'STOPPED'] as const) ?? 'RUNNING';
    const maxResults = optInt(input, 'maxResults', 1, 100) ?? 100;
    const arns = [...this.tasks.values()]
      .filter((t) => t.cluster === cluster.name && t.desiredStatus === desired && (startedBy === undefined || t.startedBy === startedBy) && (family === undefined || t.def.family === family))
      .map((t) => t.arn);
    const got = page(arns, optString(input, 'nextToken'), maxResults);
    return { taskArns: got.items, ...(got.nextToken ? { nextToken: got.nextToken } : {}) };
  }

  private describeClusters(input: Input): Input {
    const refs = optStrings(input, 'clusters') ?? ['default'];
    if (refs.length > 100) throw invalidParameter(`clusters may hold at most 100 clusters, got ${refs.length}`);
    const clusters: Input[] = [];
    const failures: Input[] = [];
    for (const ref of refs) {
      const name = clusterName(ref);
      const c = this.clusters.get(name);
      if (!c) {
        failures.push({ arn: ref.startsWith('arn:') ? ref : ecsArn(this.opts.scope, `cluster/${name}`), reason: 'MISSING' });
        continue;
      }
      const mine = [...this.tasks.values()].filter((t) => t.cluster === name);
      clusters.push({
        clusterArn: c.arn,
        clusterName: name,
        status: 'ACTIVE',
        registeredContainerInstancesCount: 0,
        runningTasksCount: mine.filter((t) => t.lastStatus === 'RUNNING').length,
        pendingTasksCount: mine.filter((t) => t.lastStatus === 'PROVISIONING' || t.lastStatus === 'PENDING').length,
        activeServicesCount: 0,
        statistics: [],
        tags: [],
        settings: [],
        capacityProviders: [],
        defaultCapacityProviderStrategy: [],
      });
    }
    return { clusters, failures };
  }

  /** Keeps at most `maxStoppedTasks` STOPPED tasks, forgetting the oldest (Map order is creation order). */
  private forgetOldTasks(): void {
    let stopped = [...this.tasks.values()].filter((t) => t.lastStatus === 'STOPPED').length;
    for (const [id, t] of this.tasks) {
      if (stopped <= this.opts.maxStoppedTasks) break;
      if (t.lastStatus === 'STOPPED') {
        this.tasks.delete(id);
        stopped--;
      }
    }
  }
}

function tagList(tags: Record<string, string>): { key: string; value: string }[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}
