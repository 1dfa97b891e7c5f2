import type { Task, TaskDefinition } from '@aws-sdk/client-ecs';
import { backoffFor } from '@longshore/domain';
import { silentLogger, type Logger } from '@longshore/telemetry';
import { awsMessage, createSdkEcsApi, isServerFault, isThrottling, type EcsApi } from './ecs-api.js';
import { DESCRIBE_TASKS_BATCH, EcsPoller } from './ecs-poller.js';
import { containerRan, ecsStopTimeoutFor, EcsRun, LogReadBudget, type EcsRunSettings } from './ecs-run.js';
import { ECS_TAGS, planRunTask, type EcsLaunchSettings } from './ecs-run-task.js';
import { EcsTaskDefinitions, logStreamOf, TaskDefinitionUnavailableError, type EcsImageLookup } from './ecs-task-definitions.js';
import { EcsSecretTaskDefinitions } from './ecs-task-secrets.js';
import { HEALTHY, type AttachResult, type Executor, type LineSink, type OutputPosition, type OwnedRun, type ProbeResult, type RunHandle, type RunRef, type RunRequest } from './executor.js';
import { StartCancelledError, StartFailedError, throwIfStartCancelled } from './start-errors.js';

/** What {@link createEcsExecutor} needs: the agent's ECS settings (`LONGSHORE_ECS_*`) and who it is. */
export interface EcsExecutorOptions extends EcsLaunchSettings {
  /** The ECS and CloudWatch Logs calls; absent = AWS SDK v3 ({@link createSdkEcsApi}) in `region`. */
  api?: EcsApi;
  region?: string;
  /** Every task is tagged `longshore.agent=<id>` ({@link Executor.listOwned}). */
  agentId: string;
  /** Tagged `longshore.pool` (as given: empty for the default pool). */
  pool: string;
  /** The task definition of jobs that name none (family, `family:revision`, ARN). */
  taskDefinition?: string;
  /** Finding (and registering) a task definition for a job's image; absent = off. */
  imageLookup?: EcsImageLookup;
  /** RunTask tries per attempt for failures that are not the job's (capacity, throttling, a task that stopped without running); default 3. */
  maxRunTaskAttempts?: number;
  /** First wait between those tries (doubling, with jitter); default 1s, at most `maxRetryBackoffMs` (default 30s). */
  retryBackoffMs?: number;
  maxRetryBackoffMs?: number;
  /** How often the one DescribeTasks poll runs; default 2s (backing off to `maxPollBackoffMs`, default 30s, when throttled). */
  pollIntervalMs?: number;
  maxPollBackoffMs?: number;
  /** GetLogEvents calls per second, at most, for all runs; default 10 (CloudWatch allows 25 per account and region). */
  logReadsPerSecond?: number;
  /**
   * The agent's kill grace (`LONGSHORE_KILL_GRACE`): the job container's `stopTimeout` in the task
   * definitions the executor registers ({@link ecsStopTimeoutFor}: whole seconds, 2 to 120). A task
   * definition of the user's whose job container has another is used as it is, and named in a
   * warning once: ECS stops its tasks with its own `stopTimeout`.
   */
  killGraceMs?: number;
  /** How long one RunTask call may take before it counts as a failed try; default 60s. */
  runTaskTimeoutMs?: number;
  logger?: Logger;
}

/** How often, at most, {@link Executor.listPool} lists the cluster's tasks (the other calls answer none). */
export const POOL_LIST_EVERY_MS = 60_000;

/** How long a probe waits for DescribeClusters before calling ECS unreachable. */
export const ECS_PROBE_TIMEOUT_MS = 5000;

/** ECS's `stopTimeout` when a container definition has none (Fargate; EC2's agent default, ECS_CONTAINER_STOP_TIMEOUT). */
const ECS_DEFAULT_STOP_TIMEOUT_S = 30;

/**
 * Creates the executor that runs each attempt as an AWS ECS task: RunTask with the job's argv and
 * environment as its container's overrides, memory and CPU from the request (Fargate: the next
 * valid size up, recorded as the handle's `detail`), `startedBy` and `longshore.*` tags naming the
 * job, attempt, agent and pool. Start failures that are not the job's (RunTask `failures`,
 * throttling of RunTask or of the task definition calls, a task that stopped without running) are tried again up to `maxRunTaskAttempts`
 * times with backoff, then `start_failed`; never success. One poller follows every task with one
 * DescribeTasks per 100 tasks; output comes from CloudWatch Logs (the task definition's awslogs
 * configuration). `stop` is StopTask. The run reference is the task ARN, so an agent restarted
 * with the same id re-adopts its tasks.
 *
 * @throws RangeError when `maxRunTaskAttempts` is not an integer >= 1.
 */
export function createEcsExecutor(opts: EcsExecutorOptions): Executor {
  const maxAttempts = opts.maxRunTaskAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`maxRunTaskAttempts must be an integer >= 1, got ${maxAttempts}`);
  const api = opts.api ?? createSdkEcsApi(opts.region);
  const logger = opts.logger ?? silentLogger();
  const intervalMs = opts.pollIntervalMs ?? 2000;
  const poller = new EcsPoller(api, opts.cluster, { intervalMs, maxBackoffMs: opts.maxPollBackoffMs ?? 30_000 }, logger);
  const runs: EcsRunSettings = { api, poller, cluster: opts.cluster, logger, drainDelayMs: intervalMs, logReads: new LogReadBudget(opts.logReadsPerSecond) };
  const stopTimeout = opts.killGraceMs === undefined ? undefined : ecsStopTimeoutFor(opts.killGraceMs);
  const defs = new EcsTaskDefinitions(api, opts.imageLookup, stopTimeout);
  const secretDefs = new EcsSecretTaskDefinitions(api);
  const retry = { backoffMs: opts.retryBackoffMs ?? 1000, maxBackoffMs: opts.maxRetryBackoffMs ?? 30_000 };
  const runTaskTimeoutMs = opts.runTaskTimeoutMs ?? 60_000;
  // Task definitions whose stopTimeout is not the kill grace, named once each.
  const graceWarned = new Set<string>();
  const checkStopTimeout = (arn: string, container: string, given: number | undefined) => {
    if (stopTimeout === undefined || (given ?? ECS_DEFAULT_STOP_TIMEOUT_S) === stopTimeout || graceWarned.has(arn)) return;
    graceWarned.add(arn);
    logger.warn(
      { taskDefinition: arn, container, stopTimeout: given ?? null, killGraceSeconds: stopTimeout },
      `task definition ${arn}: container ${container} has ${given === undefined ? `no stopTimeout (ECS's default: ${ECS_DEFAULT_STOP_TIMEOUT_S} s, or ECS_CONTAINER_STOP_TIMEOUT on EC2)` : `stopTimeout ${given} s`}, not LONGSHORE_KILL_GRACE's ${stopTimeout} s: a cancelled or timed-out job of it gets that long between SIGTERM and SIGKILL (set stopTimeout in the task definition)`,
    );
  };
  // Tasks of an attempt whose RunTask answer never came: found by their startedBy and stopped.
  const stopUnanswered = async (startedBy: string, reason: string) => {
    try {
      const found = await api.listTasks({ cluster: opts.cluster, startedBy, desiredStatus: 'RUNNING' });
      for (const task of found.taskArns ?? []) await api.stopTask({ cluster: opts.cluster, task, reason });
    } catch (err) {
      logger.warn({ err, startedBy }, `could not look for the task of an unanswered RunTask (startedBy ${startedBy}) to stop it: ${awsMessage(err)}`);
    }
  };
  let lastPoolList = -Infinity;
  const tasksTagged = async (key: string, value: string) => (await listRunningTasks(api, opts.cluster)).flatMap((t) => (tagOf(t, key) === value ? (ownedRunOf(t) ?? []) : []));

  const start = async (req: RunRequest, signal: AbortSignal): Promise<RunHandle> => {
    if (req.command.length === 0 || req.command[0] === '') throw new StartFailedError('command is empty: a job needs at least the program to run (argv[0])');
    const container = req.ecs?.container ?? opts.container;
    // The job's secrets, if any, come in a revision derived from its task definition (container `secrets`), never in the overrides.
    const taskDefinition = async () => {
      const def = await secretDefs.withSecrets(await defs.forJob({ ...(req.ecs?.taskDefinition ? { taskDefinition: req.ecs.taskDefinition } : {}), ...(req.ecs?.image ? { image: req.ecs.image } : {}) }, container, opts.taskDefinition), container, req.ecs?.secrets);
      if (!def.containerDefinitions?.some((c) => c.name === container)) {
        throw new StartFailedError(`task definition ${def.taskDefinitionArn} has no container "${container}" (it has: ${(def.containerDefinitions ?? []).map((c) => c.name).join(', ')}): set LONGSHORE_ECS_CONTAINER or the job's --ecs-container`);
      }
      checkStopTimeout(def.taskDefinitionArn!, container, def.containerDefinitions.find((c) => c.name === container)?.stopTimeout);
      return def;
    };
    const what = `job ${req.jobId} (attempt ${req.attempt})`;
    const cancelled = () => `stopped by Longshore: ${what} was stopped before it ran (${reasonOf(signal)})`;
    const tries: string[] = [];
    let def: TaskDefinition | undefined;
    let plan: ReturnType<typeof planRunTask> | undefined;
    for (let n = 1; n <= maxAttempts; n++) {
      if (n > 1) await sleep(backoffFor(retry, n - 1), signal);
      throwIfStartCancelled(signal);
      if (!def || !plan) {
        // Throttled or failed on ECS's side: a try like a RunTask refused for those reasons.
        try {
          def = await taskDefinition();
        } catch (err) {
          if (!(err instanceof TaskDefinitionUnavailableError)) throw err;
          tries.push(err.message);
          continue;
        }
        plan = planRunTask(req, def.taskDefinitionArn!, container, opts, opts.agentId, opts.pool);
      }
      let task: Task | undefined;
      // RunTask is not abandoned when the job is cancelled: ECS may have started the task
      // already, and only its answer names it. It is waited for (within runTaskTimeoutMs), and
      // a task it started for a job cancelled meanwhile is stopped at once (below).
      const answered = AbortSignal.timeout(runTaskTimeoutMs);
      try {
        const out = await api.runTask(plan.input, answered);
        task = out.tasks?.[0];
        if (!task?.taskArn || out.failures?.length) {
          tries.push(`RunTask failures: ${(out.failures ?? []).map((f) => `${f.reason ?? '?'}${f.detail ? ` (${f.detail})` : ''}`).join(', ') || 'no task'}`);
          continue;
        }
      } catch (err) {
        if (answered.aborted) {
          tries.push(`RunTask did not answer within ${runTaskTimeoutMs} ms`);
          await stopUnanswered(plan.input.startedBy!, `stopped by Longshore: the RunTask that started it for ${what} did not answer within ${runTaskTimeoutMs} ms`);
          throwIfStartCancelled(signal);
          continue;
        }
        throwIfStartCancelled(signal);
        if (!isThrottling(err) && !isServerFault(err)) throw new StartFailedError(`ECS refused to run ${what} with task definition ${def.taskDefinitionArn}: ${awsMessage(err)}`);
        tries.push(awsMessage(err));
        continue;
      }
      const run = new EcsRun(task.taskArn, container, req.onLine, runs, { ...(logStreamOf(def, container, task.taskArn) ? { stream: logStreamOf(def, container, task.taskArn)! } : {}) }, plan.detail);
      let seen: Task;
      try {
        seen = await untilAborted(run.started, signal);
      } catch (err) {
        if (signal.aborted) {
          // Cancelled while RunTask was in flight or the task was provisioning: none is left running.
          await run.stopBecause(cancelled()).catch(() => undefined);
          throw new StartCancelledError(signal.reason);
        }
        tries.push((err as Error).message);
        continue;
      }
      if (seen.lastStatus === 'STOPPED' && !containerRan(seen.containers?.find((c) => c.name === container))) {
        tries.push(`task ${task.taskArn} stopped without running (${seen.stopCode ?? 'no stop code'}: ${seen.stoppedReason ?? 'no reason given'})`);
        continue;
      }
      return run.handle;
    }
    throw new StartFailedError(`ECS could not start ${what} in ${maxAttempts} tries (LONGSHORE_ECS_MAX_RUN_TASK_ATTEMPTS): ${tries.map((t, i) => `${i + 1}) ${t}`).join('; ')}`);
  };

  const attach = async (ref: RunRef, onLine: LineSink, after?: OutputPosition): Promise<AttachResult> => {
    if (ref.kind !== 'ecs') throw new TypeError(`the ecs executor cannot attach to a ${ref.kind} run`);
    const out = await api.describeTasks({ cluster: opts.cluster, tasks: [ref.taskArn], include: ['TAGS'] });
    const task = out.tasks?.find((t) => t.taskArn === ref.taskArn);
    if (!task || task.lastStatus === 'STOPPED' || !task.taskDefinitionArn) return { kind: 'gone' };
    const container = tagOf(task, ECS_TAGS.container) ?? opts.container;
    const stream = logStreamOf(await defs.describe(task.taskDefinitionArn), container, ref.taskArn);
    const log = { ...(stream ? { stream } : {}), ...(after ? { skip: after.stdout + after.stderr } : { fromTime: Date.now() }) };
    return { kind: 'attached', handle: new EcsRun(ref.taskArn, container, onLine, runs, log).handle };
  };

  return {
    name: 'ecs',
    reattachable: true,
    probe: (signal) => describeCluster(api, opts.cluster, signal),
    start,
    attach,
    listOwned: (agentId) => tasksTagged(ECS_TAGS.agent, agentId),
    // Asked every LONGSHORE_STALLED_CHECK; listing a whole cluster that often would eat ECS's API
    // rate, so it lists at most once per POOL_LIST_EVERY_MS and answers nothing in between.
    listPool: async (pool) => {
      if (Date.now() - lastPoolList < POOL_LIST_EVERY_MS) return [];
      lastPoolList = Date.now();
      return tasksTagged(ECS_TAGS.pool, pool);
    },
  };
}

/** The cluster is ACTIVE (DescribeClusters, within {@link ECS_PROBE_TIMEOUT_MS}): healthy; else why not. */
async function describeCluster(api: EcsApi, cluster: string, signal: AbortSignal): Promise<ProbeResult> {
  const timeout = AbortSignal.timeout(ECS_PROBE_TIMEOUT_MS);
  try {
    const out = await api.describeClusters({ clusters: [cluster] }, AbortSignal.any([signal, timeout]));
    const found = out.clusters?.[0];
    if (found?.status === 'ACTIVE') return HEALTHY;
    if (found) return { healthy: false, reason: `ECS cluster ${cluster} is ${found.status ?? 'in no status'}, not ACTIVE` };
    return { healthy: false, reason: `ECS has no cluster ${cluster} (${out.failures?.[0]?.reason ?? 'not found'}; LONGSHORE_ECS_CLUSTER, AWS_REGION)` };
  } catch (err) {
    if (timeout.aborted) return { healthy: false, reason: `ECS did not answer DescribeClusters within ${ECS_PROBE_TIMEOUT_MS} ms` };
    if (signal.aborted) return { healthy: false, reason: 'the probe was abandoned' };
    return { healthy: false, reason: `DescribeClusters ${cluster}: ${awsMessage(err)}` };
  }
}

/** Every task of the cluster whose desired status is RUNNING (provisioning and pending included), with its tags. */
async function listRunningTasks(api: EcsApi, cluster: string): Promise<Task[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await api.listTasks({ cluster, desiredStatus: 'RUNNING', maxResults: 100, ...(nextToken ? { nextToken } : {}) });
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const tasks: Task[] = [];
  for (let i = 0; i < arns.length; i += DESCRIBE_TASKS_BATCH) {
    const out = await api.describeTasks({ cluster, tasks: arns.slice(i, i + DESCRIBE_TASKS_BATCH), include: ['TAGS'] });
    tasks.push(...(out.tasks ?? []));
  }
  return tasks;
}

function tagOf(task: Task, key: string): string | undefined {
  return task.tags?.find((t) => t.key === key)?.value;
}

/** A task Longshore started, from its tags; undefined for any other task of the cluster. */
function ownedRunOf(task: Task): OwnedRun | undefined {
  const jobId = tagOf(task, ECS_TAGS.job);
  const attempt = Number(tagOf(task, ECS_TAGS.attempt));
  if (!jobId || !task.taskArn || !Number.isInteger(attempt) || attempt < 1) return undefined;
  const agentId = tagOf(task, ECS_TAGS.agent);
  return { jobId, attempt, ref: { kind: 'ecs', taskArn: task.taskArn }, ...(agentId ? { agentId } : {}) };
}

/** Why `signal` was aborted, as text (the agent aborts with a reason such as "cancelled by request"). */
function reasonOf(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (typeof r === 'string' && r !== '') return r;
  if (r instanceof Error && r.name !== 'AbortError') return r.message;
  return 'cancelled';
}

/** Waits `ms`, or throws {@link StartCancelledError} as soon as `signal` is aborted. */
async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  await untilAborted(new Promise<void>((r) => setTimeout(r, ms)), signal);
}

/** `p`, or a rejection with {@link StartCancelledError} once `signal` is aborted. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  throwIfStartCancelled(signal);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new StartCancelledError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
