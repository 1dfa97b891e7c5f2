/**
 * Packing: a seeded mixed-weight workload of `sleep` jobs on 2 agents of capacity 1.0,
 * against plain BullMQ workers that count jobs and ignore weights.
 */
import { Executor, JobState } from '@longshore/client';
import { runBaseline, type BaselineOutcome } from './bullmq-baseline.js';
import { runsOf, startPool, submitAll, waitForAll, type BenchCluster } from './longshore-jobs.js';
import { makespanMs, peakWeightByWorker, utilization, type Interval } from './stats.js';
import { mixedWorkload, sleepCommand, workOf, type WorkItem } from './workload.js';

export interface PackingOptions {
  seed: number;
  jobs: number;
  /** Bound on each system's run. */
  timeoutMs: number;
}

/** One system's figures on the workload. */
export interface PackingFigures {
  system: string;
  jobs: number;
  completed: number;
  makespanMs: number;
  utilization: number;
  /** Largest summed weight running at once, per agent or worker, in thousandths. */
  peakWeightMilli: Record<string, number>;
  /** Longshore only: attempts recorded beyond one per job (retries, lost claims). */
  extraAttempts?: number;
}

export interface PackingResult {
  seed: number;
  jobs: number;
  agents: number;
  capacityMilliEach: number;
  /** Σ weight × duration / Σ capacity: no scheduler can finish sooner (ignoring start costs). */
  lowerBoundMakespanMs: number;
  workload: WorkItem[];
  longshore: PackingFigures;
  /** BullMQ, 2 workers × concurrency 4: the count-based baseline of the issue. */
  baseline: PackingFigures;
  /** BullMQ, 2 workers × concurrency 1: the largest count that cannot exceed capacity 1.0. */
  safeBaseline: PackingFigures;
}

const AGENTS = 2;
const CAPACITY_MILLI = 1000;

/** Runs the workload on Longshore (its own pool of 2 agents), then on the two BullMQ baselines. */
export async function runPacking(bc: BenchCluster, opts: PackingOptions): Promise<PackingResult> {
  const workload = mixedWorkload(opts.seed, opts.jobs);
  const { stop: stopAgents } = await startPool(bc, 'packing', AGENTS, String(CAPACITY_MILLI / 1000));
  let longshore: PackingFigures;
  try {
    longshore = await runLongshore(bc, workload, opts);
  } finally {
    await stopAgents();
  }
  const baselineJobs = workload.map((w) => ({ command: sleepCommand(w), weightMilli: w.weightMilli }));
  const common = { redisUrl: bc.cluster.redis.url, workers: AGENTS, timeoutMs: opts.timeoutMs };
  const baseline = baselineFigures('bullmq c=4', await runBaseline(baselineJobs, { ...common, concurrency: 4 }));
  const safeBaseline = baselineFigures('bullmq c=1', await runBaseline(baselineJobs, { ...common, concurrency: 1 }));
  return {
    seed: opts.seed,
    jobs: opts.jobs,
    agents: AGENTS,
    capacityMilliEach: CAPACITY_MILLI,
    lowerBoundMakespanMs: workOf(workload) / (AGENTS * CAPACITY_MILLI),
    workload,
    longshore,
    baseline,
    safeBaseline,
  };
}

async function runLongshore(bc: BenchCluster, workload: readonly WorkItem[], opts: PackingOptions): Promise<PackingFigures> {
  const specs = workload.map((w) => ({ command: sleepCommand(w), weightMilli: w.weightMilli, executor: Executor.SUBPROCESS }));
  const run = await submitAll(bc.ls, specs, { pool: 'packing', label: `packing-${opts.seed}` });
  const jobs = await waitForAll(bc.ls, run, opts.timeoutMs);
  const succeeded = jobs.filter((j) => j.state === JobState.SUCCEEDED).length;
  const extraAttempts = jobs.reduce((s, j) => s + Math.max(0, j.attempts.length - 1), 0);
  return { ...figures('longshore', workload.length, succeeded, runsOf(jobs)), extraAttempts };
}

function baselineFigures(system: string, outcome: BaselineOutcome): PackingFigures {
  const runs = outcome.runs.map((r) => ({ worker: r.worker, startMs: r.startedMs, endMs: r.endedMs, weightMilli: r.weightMilli }));
  return figures(system, outcome.expected, outcome.runs.length, runs);
}

function figures(system: string, jobs: number, completed: number, runs: Interval[]): PackingFigures {
  return {
    system,
    jobs,
    completed,
    makespanMs: makespanMs(runs),
    utilization: utilization(runs, AGENTS * CAPACITY_MILLI),
    peakWeightMilli: Object.fromEntries(peakWeightByWorker(runs)),
  };
}
