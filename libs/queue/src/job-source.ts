import { randomUUID } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { decodeQueueData, type DecodeResult } from './codec.js';
import { queueName } from './queues.js';

/** A job an agent popped from its pool's queue and holds under a lock. */
export interface ClaimedJob {
  readonly id: string;
  readonly decoded: DecodeResult;
  /** Lock token; also the fencing token of the job's record. */
  readonly token: string;
  /** The run is over, whatever its outcome: drop the transport job. */
  complete(): Promise<void>;
  /** Hand the job back to the head of its queue without costing an attempt. */
  release(): Promise<void>;
}

/**
 * The claiming seam: where an agent gets its next job. The agent decides what it can admit;
 * a source only hands out jobs and keeps the locks of the ones handed out alive.
 */
export interface JobSource {
  /** Waits (up to a few seconds) for the next job; undefined when none came or the source is closing. */
  next(): Promise<ClaimedJob | undefined>;
  close(): Promise<void>;
}

export interface BullJobSourceOptions {
  connection: Redis;
  pool: string;
  prefix?: string;
  /** Token prefix, to tell whose lock a job holds. */
  agentId: string;
  /** How long a claim lasts without renewal. */
  lockMs: number;
  /** How often the pool is checked for jobs whose lock expired (their agent died). */
  stalledIntervalMs: number;
  /** Called when a held job's lock could not be renewed: someone else may run it now. */
  onLockLost?(id: string): void;
  onError?(err: unknown): void;
}

/**
 * A {@link JobSource} over BullMQ in manual mode: an atomic pop of the queue head, locks renewed
 * every third of `lockMs` (manual mode has no renewal of its own), and the stalled-job checker
 * started so a dead agent's jobs return to the queue within about `lockMs + stalledIntervalMs`.
 */
export function createBullJobSource(opts: BullJobSourceOptions): JobSource {
  const worker = new Worker(queueName(opts.pool), null, {
    connection: opts.connection,
    prefix: opts.prefix ?? 'ls',
    lockDuration: opts.lockMs,
    stalledInterval: opts.stalledIntervalMs,
    // Stalls are counted by Longshore's own attempt records; BullMQ must not fail the job.
    maxStalledCount: 1_000_000,
    drainDelay: 2,
    autorun: false,
  });
  worker.on('error', (err) => opts.onError?.(err));
  const held = new Map<string, string>();
  const renew = setInterval(() => {
    if (held.size === 0) return;
    const ids = [...held.keys()];
    worker.extendJobLocks(ids, ids.map((id) => held.get(id)!), opts.lockMs).then(
      (failed) => {
        for (const id of failed) {
          held.delete(id);
          opts.onLockLost?.(id);
        }
      },
      (err: unknown) => opts.onError?.(err),
    );
  }, Math.max(100, Math.floor(opts.lockMs / 3)));
  renew.unref();
  void worker.startStalledCheckTimer().catch((err: unknown) => opts.onError?.(err));

  let closing: Promise<void> | undefined;
  const wrap = (job: Job, token: string): ClaimedJob => {
    held.set(job.id!, token);
    return {
      id: job.id!,
      token,
      decoded: decodeQueueData(job.data),
      async complete() {
        held.delete(job.id!);
        await job.moveToCompleted(null, token, false);
      },
      async release() {
        held.delete(job.id!);
        await job.moveToWait(token);
      },
    };
  };

  return {
    async next() {
      if (closing) return undefined;
      const token = `${opts.agentId}:${randomUUID()}`;
      const job = (await worker.getNextJob(token, { block: true })) as Job | undefined;
      return job ? wrap(job, token) : undefined;
    },
    close() {
      closing ??= (async () => {
        clearInterval(renew);
        await worker.close(true);
      })();
      return closing;
    },
  };
}
