/**
 * Submit throughput: SubmitJobs over gRPC (the dispatcher validating, resolving and storing each
 * batch in one script; the basic view, as a bulk client asks) against BullMQ's `addBulk` of as
 * many empty jobs, batches of 100 and 1,000, alternating, nothing consuming either queue.
 */
import { randomUUID } from 'node:crypto';
import { Executor, JobView } from '@longshore/client';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { BenchCluster } from './longshore-jobs.js';
import { median } from './stats.js';

export interface SubmitOptions {
  jobs: number;
  rounds: number;
  batches: number[];
}

export interface SubmitFigures {
  batch: number;
  /** Per round, jobs per second. */
  rawJobsPerSec: number[];
  longshoreJobsPerSec: number[];
}

export type SubmitResult = SubmitFigures[];

export async function runSubmit(bc: BenchCluster, opts: SubmitOptions): Promise<SubmitResult> {
  const pool = `submit-${randomUUID().slice(0, 8)}`;
  await bc.ls.registry.createPool({ id: pool, maxWeightMilli: 1000 });
  const connection = new Redis(bc.cluster.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(`submit-${randomUUID().slice(0, 8)}`, { connection, prefix: 'bench' });
  const rate = (ms: number) => (opts.jobs * 1000) / ms;
  try {
    const out: SubmitResult = [];
    for (const batch of opts.batches) {
      const f: SubmitFigures = { batch, rawJobsPerSec: [], longshoreJobsPerSec: [] };
      for (let round = 0; round < opts.rounds; round++) {
        let t = performance.now();
        for (let i = 0; i < opts.jobs; i += batch) await queue.addBulk(Array.from({ length: Math.min(batch, opts.jobs - i) }, () => ({ name: 'job', data: {} })));
        f.rawJobsPerSec.push(rate(performance.now() - t));
        t = performance.now();
        for (let i = 0; i < opts.jobs; i += batch) {
          const specs = Array.from({ length: Math.min(batch, opts.jobs - i) }, () => ({ pool, command: ['true'], executor: Executor.NOOP, weightMilli: 125 }));
          await bc.ls.dispatcher.submitJobs({ specs, view: JobView.BASIC });
        }
        f.longshoreJobsPerSec.push(rate(performance.now() - t));
      }
      out.push(f);
    }
    return out;
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await connection.quit().catch(() => undefined);
    await bc.ls.registry.deletePool({ id: pool, force: true }).catch(() => undefined);
  }
}

export const submitRatio = (f: SubmitFigures): number => median(f.longshoreJobsPerSec) / median(f.rawJobsPerSec);
