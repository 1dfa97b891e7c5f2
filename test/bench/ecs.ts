/**
 * ECS jobs against the local ECS endpoint (`@longshore/aws-local`, in this process, running each
 * task as a container on a private dockerd this benchmark starts and stops by pid):
 *
 * - **Overhead per job**: one trivial task at a time, through Longshore (submit, an agent with the
 *   ecs executor: RunTask → RUNNING → STOPPED, its log read from CloudWatch Logs, the job seen
 *   finished) against the same task run by direct AWS SDK calls (RunTask, DescribeTasks every poll
 *   interval until STOPPED, one GetLogEvents), both polling every {@link POLL_MS} ms.
 * - **API calls per job** with many tasks at once (the agent's default 2 s poll): the endpoint's
 *   call counts over the run, per job, against what one DescribeTasks per task and poll would
 *   have cost (DescribeTasks must be batched).
 */
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, ECSClient, ListTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand, type Task } from '@aws-sdk/client-ecs';
import { startAwsLocalEndpoint } from '@longshore/aws-local';
import { Executor, JobState } from '@longshore/client';
import { buildTestImage, sleep, startDockerd, TEST_IMAGE } from '@longshore/testing';
import Docker from 'dockerode';
import type { BenchCluster } from './longshore-jobs.js';
import { median } from './stats.js';

/** How often both ways poll DescribeTasks in the overhead part (LONGSHORE_ECS_POLL_INTERVAL's least). */
export const POLL_MS = 200;
/** The agent's default poll interval (LONGSHORE_ECS_POLL_INTERVAL), used in the concurrency part. */
export const DEFAULT_POLL_MS = 2000;

const REGION = 'us-east-1';
const CONTAINER = 'main';
const LOG_GROUP = '/longshore/bench';
const COMMAND = ['sh', '-c', 'echo hi'];

export interface EcsBenchOptions {
  /** Trivial tasks run each way, one at a time, alternating (after one warm-up each). */
  runs: number;
  /** Tasks at once in the API-calls part. */
  concurrent: number;
  /** How long each of those tasks runs (`sleep`), seconds. */
  concurrentSeconds: number;
}

export interface EcsBenchResult {
  runs: number;
  pollMs: number;
  /** Direct SDK calls: RunTask until STOPPED seen and the log read, wall ms per run. */
  directMs: number[];
  /** Longshore: SubmitJob (executor ecs) until the job is seen finished, wall ms per run. */
  longshoreMs: number[];
  concurrent: {
    jobs: number;
    seconds: number;
    pollMs: number;
    /** First submit → last job seen finished. */
    wallMs: number;
    /** The endpoint's calls per action during the run (the one agent's: DescribeClusters is its health probe, one per heartbeat). */
    calls: Record<string, number>;
    /** DescribeTasks calls had each task been described alone: Σ over tasks of ⌈its life / poll interval⌉. */
    unbatchedDescribeTasks: number;
    /** Most tasks of the run alive at once, from the endpoint's task times. */
    peakAtOnce: number;
  };
}

export async function runEcsBench(bc: BenchCluster, opts: EcsBenchOptions): Promise<EcsBenchResult> {
  const dockerd = await startDockerd();
  try {
    const docker = new Docker({ socketPath: dockerd.socketPath });
    await buildTestImage(docker, TEST_IMAGE);
    const cluster = `bench-${Date.now().toString(36)}`;
    const endpoint = await startAwsLocalEndpoint({ docker, clusters: [cluster], stopTimeoutSeconds: 2, onError: (what, err) => console.error(`aws-local: ${what}:`, err) });
    const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
    const ecs = new ECSClient({ endpoint: endpoint.url, region: REGION, credentials });
    const logs = new CloudWatchLogsClient({ endpoint: endpoint.url, region: REGION, credentials });
    const stops: (() => Promise<void>)[] = [];
    try {
      const family = `bench-${cluster}`;
      const def = await ecs.send(
        new RegisterTaskDefinitionCommand({
          family,
          containerDefinitions: [{ name: CONTAINER, image: TEST_IMAGE, essential: true, logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': LOG_GROUP, 'awslogs-stream-prefix': 'job', 'awslogs-region': REGION } } }],
        }),
      );
      const arn = def.taskDefinition!.taskDefinitionArn!;
      const agentEnv = (pool: string, capacity: number, pollMs: number): NodeJS.ProcessEnv => ({
        LONGSHORE_POOL: pool,
        LONGSHORE_AGENT_ID: `${pool}-1`,
        LONGSHORE_EXECUTORS: 'ecs',
        LONGSHORE_DEFAULT_EXECUTOR: 'ecs',
        LONGSHORE_CAPACITY: String(capacity),
        AWS_REGION: REGION,
        AWS_ENDPOINT_URL_ECS: endpoint.url,
        AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: endpoint.url,
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
        LONGSHORE_ECS_CLUSTER: cluster,
        LONGSHORE_ECS_CONTAINER: CONTAINER,
        LONGSHORE_ECS_TASK_DEFINITION: family,
        LONGSHORE_ECS_LAUNCH_TYPE: 'EC2',
        LONGSHORE_ECS_POLL_INTERVAL: `${pollMs}ms`,
      });
      const startPool = async (pool: string, capacity: number, pollMs: number) => {
        await bc.ls.registry.createPool({ id: pool, maxWeightMilli: 1000 });
        const agent = await bc.cluster.startAgent(agentEnv(pool, capacity, pollMs));
        const stop = () => agent.stop(10_000);
        stops.push(stop);
        return stop;
      };

      // Overhead per job: one at a time, the same task each way, both polling every POLL_MS.
      const onePool = `ecs-one-${cluster}`;
      const stopOne = await startPool(onePool, 1, POLL_MS);
      const direct = async (): Promise<number> => {
        const t0 = performance.now();
        const out = await ecs.send(new RunTaskCommand({ cluster, taskDefinition: arn, launchType: 'EC2', startedBy: 'bench-direct', overrides: { containerOverrides: [{ name: CONTAINER, command: COMMAND }] } }));
        const taskArn = out.tasks?.[0]?.taskArn;
        if (!taskArn) throw new Error(`RunTask started nothing: ${JSON.stringify(out.failures)}`);
        let task: Task | undefined;
        for (let i = 0; i < 3000 && task?.lastStatus !== 'STOPPED'; i++) {
          await sleep(POLL_MS);
          task = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }))).tasks?.[0];
        }
        if (task?.lastStatus !== 'STOPPED') throw new Error(`task ${taskArn} did not stop`);
        const events = await logs.send(new GetLogEventsCommand({ logGroupName: LOG_GROUP, logStreamName: `job/${CONTAINER}/${taskArn.slice(taskArn.lastIndexOf('/') + 1)}`, startFromHead: true }));
        if (events.events?.[0]?.message !== 'hi') throw new Error(`task ${taskArn} logged ${JSON.stringify(events.events)}`);
        return performance.now() - t0;
      };
      const longshore = async (): Promise<number> => {
        const t0 = performance.now();
        const job = await bc.ls.submit({ pool: onePool, executor: Executor.ECS, image: TEST_IMAGE, command: COMMAND });
        const done = await bc.ls.waitForJob(job.id);
        if (done.state !== JobState.SUCCEEDED) throw new Error(`job ${job.id} ended ${JobState[done.state]}: ${done.attempts.at(-1)?.message ?? ''}`);
        return performance.now() - t0;
      };
      await direct();
      await longshore();
      const result: Omit<EcsBenchResult, 'concurrent'> = { runs: opts.runs, pollMs: POLL_MS, directMs: [], longshoreMs: [] };
      for (let i = 0; i < opts.runs; i++) {
        result.directMs.push(await direct());
        result.longshoreMs.push(await longshore());
      }

      // API calls per job with `concurrent` tasks at once, at the agent's default poll interval,
      // the first agent gone (only this one calls the endpoint).
      await stopOne();
      const manyPool = `ecs-many-${cluster}`;
      await startPool(manyPool, opts.concurrent, DEFAULT_POLL_MS);
      const before = endpoint.stats();
      const t0 = performance.now();
      const jobs = await bc.ls.submitBatch(Array.from({ length: opts.concurrent }, () => ({ pool: manyPool, executor: Executor.ECS, image: TEST_IMAGE, command: ['sh', '-c', `sleep ${opts.concurrentSeconds}; echo done`] })));
      const done = await Promise.all(jobs.map((j) => bc.ls.waitForJob(j.id)));
      const wallMs = performance.now() - t0;
      const failed = done.filter((j) => j.state !== JobState.SUCCEEDED);
      if (failed.length) throw new Error(`${failed.length} of ${jobs.length} concurrent jobs did not succeed, e.g. ${failed[0]!.id}: ${failed[0]!.attempts.at(-1)?.message ?? JobState[failed[0]!.state]}`);
      const after = endpoint.stats();
      const calls = Object.fromEntries(Object.keys(after).flatMap((k) => ((after[k] ?? 0) - (before[k] ?? 0) > 0 ? [[k, (after[k] ?? 0) - (before[k] ?? 0)]] : [])));
      // The tasks' lives as the endpoint saw them (read after the counts: these calls are the benchmark's, not the agent's).
      const ids = new Set(jobs.map((j) => j.id));
      const tasks = (await describeAll(ecs, cluster)).filter((t) => ids.has(t.tags?.find((x) => x.key === 'longshore.job')?.value ?? ''));
      if (tasks.length !== jobs.length) throw new Error(`the endpoint knows ${tasks.length} tasks of the ${jobs.length} jobs`);
      const lives = tasks.map((t) => [t.createdAt!.getTime(), t.stoppedAt!.getTime()] as const);
      const unbatchedDescribeTasks = lives.reduce((n, [a, b]) => n + Math.ceil((b - a) / DEFAULT_POLL_MS), 0);
      return { ...result, concurrent: { jobs: jobs.length, seconds: opts.concurrentSeconds, pollMs: DEFAULT_POLL_MS, wallMs, calls, unbatchedDescribeTasks, peakAtOnce: peakOverlap(lives) } };
    } finally {
      for (const stop of stops) await stop().catch(() => undefined);
      ecs.destroy();
      logs.destroy();
      await endpoint.close();
    }
  } finally {
    await dockerd.stop();
  }
}

/** Every task of `cluster` (running and stopped), with its tags. */
async function describeAll(ecs: ECSClient, cluster: string): Promise<Task[]> {
  const arns: string[] = [];
  for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
    let nextToken: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const out = await ecs.send(new ListTasksCommand({ cluster, desiredStatus, ...(nextToken ? { nextToken } : {}) }));
      arns.push(...(out.taskArns ?? []));
      nextToken = out.nextToken;
      if (!nextToken) break;
    }
  }
  const tasks: Task[] = [];
  for (let i = 0; i < arns.length; i += 100) tasks.push(...((await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100), include: ['TAGS'] }))).tasks ?? []));
  return tasks;
}

/** Most intervals open at once (an end and a start at the same ms do not overlap). */
function peakOverlap(lives: readonly (readonly [number, number])[]): number {
  const edges = lives.flatMap(([a, b]) => [[a, 1] as const, [b, -1] as const]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (now += d));
  return most;
}

/** Longshore's median over direct SDK calls'. */
export function ecsOverheadRatio(r: EcsBenchResult): number {
  return median(r.longshoreMs) / median(r.directMs);
}

/** DescribeTasks calls per job in the concurrent run. */
export function describeTasksPerJob(r: EcsBenchResult): number {
  return (r.concurrent.calls['DescribeTasks'] ?? 0) / r.concurrent.jobs;
}
