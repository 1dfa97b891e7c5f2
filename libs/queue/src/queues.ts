import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueueJobData } from './codec.js';
import { addedChannel, jobName, parseReservation, reservationKey, type Reservation } from './reservation.js';

/** BullMQ queue name of a pool (BullMQ forbids ':' in names). */
export function queueName(pool: string): string {
  return `pool-${pool}`;
}

/**
 * BullMQ priority for a Longshore priority. Longshore: higher first, 0 normal, -1000..1000.
 * BullMQ: lower first, FIFO within one value; every job gets one so all share one ordering.
 */
export function bullPriority(priority: number): number {
  return 1001 - priority;
}

/** A pool's queue figures. */
export interface QueueCounts {
  queued: number;
  running: number;
}

/**
 * The producer side: one BullMQ Queue per pool, created on first use. BullMQ's job is only the
 * transport (removed when its run ends); the job's record lives in the JobStore.
 */
export class JobQueues {
  private readonly queues = new Map<string, Queue>();
  private closing?: Promise<void>;

  constructor(
    private readonly connection: Redis,
    private readonly prefix = 'ls',
  ) {}

  queue(pool: string): Queue {
    let q = this.queues.get(pool);
    if (!q) {
      q = new Queue(queueName(pool), { connection: this.connection, prefix: this.prefix });
      q.on('error', () => undefined); // connection errors surface on the calls themselves
      this.queues.set(pool, q);
    }
    return q;
  }

  /** Enqueues jobs; those of one pool go in one atomic addBulk. */
  async add(jobs: QueueJobData[]): Promise<void> {
    const byPool = new Map<string, QueueJobData[]>();
    for (const j of jobs) byPool.set(j.pool, [...(byPool.get(j.pool) ?? []), j]);
    for (const [pool, list] of byPool) {
      await this.queue(pool).addBulk(
        list.map((data) => ({
          name: jobName(data.weightMilli, data.lane),
          data,
          opts: { jobId: data.id, priority: bullPriority(data.priority), removeOnComplete: true, removeOnFail: true, attempts: 1 },
        })),
      );
      // Wakes agents waiting for work that fits (BullMQ's own marker wakes only one blocked worker).
      await this.connection.publish(addedChannel(this.prefix, pool), 'added');
    }
  }

  /** The pool's reservation, if a heavy job holds one. */
  async reservation(pool: string): Promise<Reservation | undefined> {
    return parseReservation(await this.connection.get(reservationKey(this.prefix, pool)));
  }

  /** Removes a job no worker holds; false if it is locked by a worker (or already gone). */
  async remove(pool: string, id: string): Promise<boolean> {
    return (await this.queue(pool).remove(id)) === 1;
  }

  async counts(pool: string): Promise<QueueCounts> {
    const c = await this.queue(pool).getJobCounts('wait', 'prioritized', 'delayed', 'active');
    return { queued: (c['wait'] ?? 0) + (c['prioritized'] ?? 0) + (c['delayed'] ?? 0), running: c['active'] ?? 0 };
  }

  /** Ids of the jobs waiting in a pool's queue (for DeletePool --force). */
  async queuedIds(pool: string): Promise<string[]> {
    const jobs = await this.queue(pool).getJobs(['wait', 'prioritized', 'delayed']);
    return jobs.map((j) => j.id).filter((id): id is string => !!id);
  }

  close(): Promise<void> {
    this.closing ??= Promise.all([...this.queues.values()].map((q) => q.close())).then(() => undefined);
    return this.closing;
  }
}
