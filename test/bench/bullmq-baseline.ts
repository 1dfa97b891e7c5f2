/**
 * Runs jobs through plain BullMQ, the baseline Longshore is compared with: worker processes
 * (bullmq-worker.ts) with count-based concurrency, a Queue fed with addBulk, and each job's
 * timings read back from its return value.
 */
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot, sleep, startProcess, waitFor, type ProcessHandle } from '@longshore/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { BaselineResult } from './bullmq-worker.js';
import { processesCpuMs } from './proc-cpu.js';

/** What one baseline job carries: a command to run (none = a no-op) and its nominal weight. */
export interface BaselineJobData {
  command?: string[];
  weightMilli?: number;
}

export interface BaselineOptions {
  /** A private Redis (never the machine's 6379). */
  redisUrl: string;
  workers: number;
  concurrency: number;
  /** How long to wait for every job to complete before reporting what did. */
  timeoutMs: number;
  /** Add one job at a time, pausing this long after each; default: addBulk in batches of 1000. */
  paceMs?: number;
}

/** One completed job, times in ms since the epoch (this machine's clock). */
export interface BaselineRun {
  worker: string;
  weightMilli: number;
  addedMs: number;
  startedMs: number;
  endedMs: number;
  /** When BullMQ recorded it completed. */
  completedMs: number;
}

export interface BaselineOutcome {
  expected: number;
  /** Just before the first addBulk. */
  firstAddMs: number;
  runs: BaselineRun[];
  /** CPU the worker processes used from the first add until every job completed (ms). */
  workerCpuMs: number;
}

const WORKER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'bullmq-worker.ts');
const ADD_BATCH = 1000;
const PREFIX = 'bench';

/** Starts the workers, adds every job, waits (bounded) until they completed, reads them back. */
export async function runBaseline(jobs: readonly BaselineJobData[], opts: BaselineOptions): Promise<BaselineOutcome> {
  const queueName = `baseline-${randomUUID().slice(0, 8)}`;
  const connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<BaselineJobData, BaselineResult>(queueName, { connection, prefix: PREFIX });
  const workers: ProcessHandle[] = [];
  try {
    for (let i = 1; i <= opts.workers; i++) workers.push(startWorker(opts, queueName, `bullmq-${i}`));
    await Promise.all(workers.map((w) => w.waitForLog((l) => l['msg'] === 'ready', 30_000)));
    const workerCpu = () => processesCpuMs(workers.map((w) => w.pid));
    const cpuBefore = workerCpu();
    const firstAddMs = Date.now();
    if (opts.paceMs === undefined) {
      for (let i = 0; i < jobs.length; i += ADD_BATCH) {
        await queue.addBulk(jobs.slice(i, i + ADD_BATCH).map((data) => ({ name: 'job', data })));
      }
    } else {
      for (const data of jobs) {
        await queue.add('job', data);
        await sleep(opts.paceMs);
      }
    }
    await waitFor(
      async () => {
        const c = await queue.getJobCounts('completed', 'failed');
        return (c['completed'] ?? 0) + (c['failed'] ?? 0) >= jobs.length;
      },
      { timeoutMs: opts.timeoutMs, intervalMs: 100, what: `${jobs.length} BullMQ jobs to complete` },
    ).catch(() => undefined); // an incomplete run is reported, not thrown
    const workerCpuMs = workerCpu() - cpuBefore;
    const completed = await queue.getJobs(['completed'], 0, -1);
    const runs = completed.map((j) => ({
      worker: j.returnvalue.worker,
      weightMilli: j.data.weightMilli ?? 0,
      addedMs: j.timestamp,
      startedMs: j.returnvalue.startedAt,
      endedMs: j.returnvalue.finishedAt,
      completedMs: j.finishedOn ?? NaN,
    }));
    return { expected: jobs.length, firstAddMs, runs, workerCpuMs };
  } finally {
    await Promise.all(workers.map((w) => w.stop(10_000).catch(() => undefined)));
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await connection.quit().catch(() => undefined);
  }
}

function startWorker(opts: BaselineOptions, queue: string, id: string): ProcessHandle {
  const { NODE_OPTIONS: _loaders, ...env } = process.env; // tsx's own loader must not leak in twice
  return startProcess({
    name: id,
    command: process.execPath,
    args: ['--import', 'tsx', WORKER_SCRIPT],
    cwd: repoRoot,
    env: {
      ...env,
      BENCH_REDIS_URL: opts.redisUrl,
      BENCH_QUEUE: queue,
      BENCH_PREFIX: PREFIX,
      BENCH_CONCURRENCY: String(opts.concurrency),
      BENCH_WORKER_ID: id,
    },
  });
}
