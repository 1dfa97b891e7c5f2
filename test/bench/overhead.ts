/**
 * Control-plane overhead: jobs that do nothing, through raw BullMQ and through Longshore
 * (gRPC SubmitJobs → dispatcher → queue → agent → record), so what is measured is the
 * machinery, not the work. Bulk runs submit everything at once (throughput; their latency
 * is mostly time spent queued); paced runs submit one job at a time (latency unloaded).
 */
import { Executor, JobState, type JobSpecInit } from '@longshore/client';
import { runBaseline } from './bullmq-baseline.js';
import { lastFinishMs, startLatencies, startPool, submitAll, waitForAll, type BenchCluster } from './longshore-jobs.js';
import { Redis } from 'ioredis';
import { cpuDuring, processesCpuMs } from './proc-cpu.js';
import { percentile } from './stats.js';

export interface OverheadOptions {
  /** No-op jobs submitted at once, for raw BullMQ and Longshore's no-op executor. */
  jobs: number;
  /** Jobs for the bulk run with a real `true` subprocess. */
  subprocessJobs: number;
  /** No-op jobs submitted one at a time, {@link PACE_MS} apart. */
  pacedJobs: number;
  /** Bound on each run. */
  timeoutMs: number;
}

/** One run's figures: throughput and enqueue → start latency. */
export interface OverheadFigures {
  system: string;
  jobs: number;
  completed: number;
  /** First submit (or add) → last completion. */
  elapsedMs: number;
  jobsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Redis commands per completed job during the run (all clients: INFO commandstats). */
  redisCommandsPerJob: number;
  /** CPU the redis-server process used per completed job, µs (all clients; /proc/<pid>/stat). */
  redisCpuUsPerJob: number;
  /** Growth of Redis's used_memory per completed job: what each retained finished job costs. */
  redisBytesPerJob: number;
  /** CPU the consuming process used per completed job (µs): the BullMQ Worker or the agent. */
  consumerCpuUsPerJob: number;
  /**
   * CPU the dispatcher and the registry used per completed job (µs), from the first submit until
   * the pool was first seen idle (so not the listing that collects the records); none for BullMQ.
   */
  controlPlaneCpuUsPerJob: number;
}

/** The system's own CPU per completed job (µs): Redis, the consumer and (Longshore) the control plane; not the bench's client. */
export function systemCpuUsPerJob(f: OverheadFigures): number {
  return f.redisCpuUsPerJob + f.consumerCpuUsPerJob + (Number.isFinite(f.controlPlaneCpuUsPerJob) ? f.controlPlaneCpuUsPerJob : 0);
}

export interface OverheadResult {
  raw: OverheadFigures;
  noop: OverheadFigures;
  subprocess: OverheadFigures;
  pacedRaw: OverheadFigures;
  pacedNoop: OverheadFigures;
}

/** Raw BullMQ's Worker concurrency, and Longshore's equivalent: capacity 1.0 / weight 0.125. */
const CONCURRENCY = 8;
const WEIGHT_MILLI = 125;
/** Gap between paced submissions: far below either system's throughput, so nothing queues. */
const PACE_MS = 10;
export const POOL = 'overhead';

/** Raw BullMQ first (1 Worker process), then Longshore (its own pool, 1 agent of capacity 1.0). */
export async function runOverhead(bc: BenchCluster, opts: OverheadOptions): Promise<OverheadResult> {
  const raw = await counted(bc, () => runRaw(bc.cluster.redis.url, 'raw bullmq', opts.jobs, undefined, opts.timeoutMs));
  const pacedRaw = await runRaw(bc.cluster.redis.url, 'raw bullmq paced', opts.pacedJobs, PACE_MS, opts.timeoutMs);
  const agent = await startPool(bc, POOL, 1, '1');
  const onAgent = async (fn: () => Promise<OverheadFigures>): Promise<OverheadFigures> => {
    const { value, cpuMs } = await cpuDuring(agent.pids, fn);
    return { ...value, consumerCpuUsPerJob: value.completed > 0 ? (cpuMs * 1000) / value.completed : NaN };
  };
  try {
    const noop = await counted(bc, () => onAgent(() => runLongshore(bc, 'longshore noop', opts.jobs, Executor.NOOP, undefined, opts.timeoutMs)));
    const subprocess = await counted(bc, () => onAgent(() => runLongshore(bc, 'longshore true', opts.subprocessJobs, Executor.SUBPROCESS, undefined, opts.timeoutMs)));
    const pacedNoop = await runLongshore(bc, 'longshore noop paced', opts.pacedJobs, Executor.NOOP, PACE_MS, opts.timeoutMs);
    return { raw, noop, subprocess, pacedRaw, pacedNoop };
  } finally {
    await agent.stop();
  }
}

/** Total commands Redis has run (INFO commandstats) and its used_memory. */
async function redisFigures(url: string): Promise<{ commands: number; bytes: number }> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const stats = await r.info('commandstats');
    const memory = await r.info('memory');
    return {
      commands: [...stats.matchAll(/calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0),
      bytes: Number(/^used_memory:(\d+)/m.exec(memory)?.[1] ?? NaN),
    };
  } finally {
    r.disconnect();
  }
}

/** Runs `fn` and adds the Redis commands, CPU and bytes per completed job it caused. */
export async function counted(bc: BenchCluster, fn: () => Promise<OverheadFigures>): Promise<OverheadFigures> {
  const before = await redisFigures(bc.cluster.redis.url);
  const { value: f, cpuMs } = await cpuDuring([bc.cluster.redis.pid], fn);
  const after = await redisFigures(bc.cluster.redis.url);
  const per = (n: number) => (f.completed > 0 ? n / f.completed : NaN);
  return { ...f, redisCommandsPerJob: per(after.commands - before.commands), redisCpuUsPerJob: per(cpuMs * 1000), redisBytesPerJob: per(after.bytes - before.bytes) };
}

async function runRaw(redisUrl: string, system: string, n: number, paceMs: number | undefined, timeoutMs: number): Promise<OverheadFigures> {
  const jobs = Array.from({ length: n }, () => ({}));
  const out = await runBaseline(jobs, { redisUrl, workers: 1, concurrency: CONCURRENCY, timeoutMs, paceMs });
  const lastMs = out.runs.reduce((m, r) => Math.max(m, r.completedMs), -Infinity);
  const f = figures(system, n, out.runs.length, lastMs - out.firstAddMs, out.runs.map((r) => r.startedMs - r.addedMs));
  return { ...f, consumerCpuUsPerJob: f.completed > 0 ? (out.workerCpuMs * 1000) / f.completed : NaN };
}

export async function runLongshore(
  bc: BenchCluster,
  system: string,
  n: number,
  executor: Executor,
  paceMs: number | undefined,
  timeoutMs: number,
): Promise<OverheadFigures> {
  const spec: JobSpecInit = { command: ['true'], executor, weightMilli: WEIGHT_MILLI };
  const label = system.replaceAll(' ', '-');
  const controlPlane = [bc.cluster.dispatcher.pid, bc.cluster.registry.pid];
  const cpuMs = () => processesCpuMs(controlPlane);
  const before = cpuMs();
  let atIdle: number | undefined;
  const run = await submitAll(bc.ls, Array.from({ length: n }, () => spec), { pool: POOL, label, paceMs });
  const jobs = await waitForAll(bc.ls, run, timeoutMs, () => (atIdle ??= cpuMs()));
  const completed = jobs.filter((j) => j.state === JobState.SUCCEEDED).length;
  const f = figures(system, n, completed, lastFinishMs(jobs) - run.firstSubmitMs, startLatencies(jobs));
  return { ...f, controlPlaneCpuUsPerJob: completed > 0 ? (((atIdle ?? cpuMs()) - before) * 1000) / completed : NaN };
}

function figures(system: string, jobs: number, completed: number, elapsedMs: number, latencies: number[]): OverheadFigures {
  return {
    system,
    jobs,
    completed,
    elapsedMs,
    jobsPerSec: elapsedMs > 0 ? (completed * 1000) / elapsedMs : NaN,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    redisCommandsPerJob: NaN,
    redisCpuUsPerJob: NaN,
    redisBytesPerJob: NaN,
    consumerCpuUsPerJob: NaN,
    controlPlaneCpuUsPerJob: NaN,
  };
}
