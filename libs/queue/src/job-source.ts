import { randomUUID } from 'node:crypto';
import { Job, Worker } from 'bullmq';
import { raw2NextJobData } from 'bullmq/dist/esm/classes/redis-queue-backend.js';
import type { Redis } from 'ioredis';
import { Packr } from 'msgpackr';
import { decodeQueueData, type DecodeResult } from './codec.js';
import { buildFitClaimScript, FIT_CLAIM_KEYS } from './fit-claim-script.js';
import { queueName } from './queues.js';
import { addedChannel, reservationKey } from './reservation.js';

/** A job an agent claimed from its pool's queue and holds under a lock. */
export interface ClaimedJob {
  readonly id: string;
  readonly decoded: DecodeResult;
  /** Lock token; also the fencing token of the job's record. */
  readonly token: string;
  /** The run is over, whatever its outcome: drop the transport job. */
  complete(): Promise<void>;
  /** Hand the job back to the front of its priority in the queue, without costing an attempt. */
  release(): Promise<void>;
  /** Put the job back to be claimed again after `delayMs` (a retry's backoff). */
  retryLater(delayMs: number): Promise<void>;
  /**
   * Stop renewing the job's lock without touching Redis (its run broke unexpectedly): the
   * stalled check puts it back in the queue once the lease runs out, as a lost attempt.
   */
  abandon(): void;
}

/** What the agent can admit right now. */
export interface ClaimRequest {
  freeMilli: number;
  capacityMilli: number;
  /** Lanes at their cap on this agent: their jobs must not be claimed. */
  fullLanes: string[];
}

/** A job that fits; or this agent holds the pool's reservation for `jobId` and must drain; or nothing fits. */
export type ClaimOutcome = { kind: 'job'; job: ClaimedJob } | { kind: 'reserved'; jobId: string } | { kind: 'none' };

/**
 * The claiming seam: where an agent gets its next job. A source only hands out jobs that fit
 * the request, and keeps the locks of the ones handed out alive.
 */
export interface JobSource {
  claim(req: ClaimRequest): Promise<ClaimOutcome>;
  close(): Promise<void>;
}

export interface BullJobSourceOptions {
  connection: Redis;
  pool: string;
  prefix?: string;
  agentId: string;
  /** How long a claim lasts without renewal. */
  lockMs: number;
  /** How often the pool is checked for jobs whose lock expired (their agent died). */
  stalledIntervalMs: number;
  /** A heavy job that waited this long gets the pool's reservation (no starvation). */
  reserveAfterMs: number;
  /** How many queued jobs a claim looks through for one that fits. */
  scanLimit: number;
  /** Called when a held job's lock could not be renewed: someone else may run it now. */
  onLockLost?(id: string): void;
  onError?(err: unknown): void;
}

// The same encoding BullMQ uses for moveToActive's options (its redis-queue-backend.js).
const packer = new Packr({ useRecords: false, encodeUndefinedAsNil: true });

/**
 * A {@link JobSource} over BullMQ in manual mode with a fit-aware claim (see
 * fit-claim-script.ts): the agent takes the first queued job, in priority and arrival order,
 * that fits its free capacity and lanes. Locks are renewed every third of `lockMs` (manual mode
 * has no renewal of its own) and the stalled-job checker runs, so a dead agent's jobs return to
 * the queue within about `lockMs + stalledIntervalMs`.
 */
export function createBullJobSource(opts: BullJobSourceOptions): JobSource {
  const prefix = opts.prefix ?? 'ls';
  const worker = new Worker(queueName(opts.pool), null, {
    connection: opts.connection,
    prefix,
    lockDuration: opts.lockMs,
    stalledInterval: opts.stalledIntervalMs,
    // Stalls are counted by Longshore's own attempt records; BullMQ must not fail the job.
    maxStalledCount: 1_000_000,
    autorun: false,
  });
  worker.on('error', (err) => opts.onError?.(err));
  // Sent by SHA after the first call (ioredis reloads it if Redis restarted and forgot it).
  opts.connection.defineCommand('lsFitClaim', { numberOfKeys: FIT_CLAIM_KEYS, lua: buildFitClaimScript() });
  const fitClaim = (opts.connection as unknown as Record<string, (...a: (string | number | Buffer)[]) => Promise<unknown>>)['lsFitClaim']!.bind(opts.connection);
  const resKey = reservationKey(prefix, opts.pool);
  const held = new Map<string, string>();
  /** When each held job's lock was last known good (claimed or renewed). */
  const renewedAt = new Map<string, number>();
  const lose = (id: string) => {
    held.delete(id);
    renewedAt.delete(id);
    opts.onLockLost?.(id);
  };
  const renew = setInterval(() => {
    if (held.size === 0) return;
    const now = Date.now();
    // Self-fencing: a lock this agent has not managed to renew for half its lease (two renewals
    // in a row failed or hung: it was paused, or cut off from Redis) will soon be someone else's:
    // stop the run while the lock still protects it. Half, so the next tick is not too late.
    for (const [id, at] of renewedAt) if (now - at > opts.lockMs / 2) lose(id);
    const ids = [...held.keys()];
    if (ids.length === 0) return;
    worker.extendJobLocks(ids, ids.map((id) => held.get(id)!), opts.lockMs).then(
      (failed) => {
        for (const id of ids) if (held.has(id) && !failed.includes(id)) renewedAt.set(id, Math.max(renewedAt.get(id) ?? 0, now));
        for (const id of failed) if (held.has(id)) lose(id);
      },
      (err: unknown) => opts.onError?.(err),
    );
  }, Math.max(100, Math.floor(opts.lockMs / 3)));
  renew.unref();
  // Our own stalled-check loop rather than BullMQ's startStalledCheckTimer: that one sleeps exactly
  // stalledInterval between checks while each check guards itself with a key that lives exactly
  // as long, so a timer that fires a few ms early skips a whole cycle (seen: 3 of 16), stretching
  // recovery from a dead agent by one interval. A small margin makes every check count.
  let checking = false;
  // Private in BullMQ's typings; this lib is pinned to bullmq 6.7.0 (see fit-claim-script.ts).
  const stalledCheck = worker as unknown as { moveStalledJobsToWait(): Promise<void> };
  const stalledTimer = setInterval(() => {
    if (checking) return;
    checking = true;
    stalledCheck
      .moveStalledJobsToWait()
      .catch((err: unknown) => opts.onError?.(err))
      .finally(() => (checking = false));
  }, opts.stalledIntervalMs + 50);
  stalledTimer.unref();

  const wrap = (job: Job, token: string): ClaimedJob => {
    held.set(job.id!, token);
    renewedAt.set(job.id!, Date.now());
    return {
      id: job.id!,
      token,
      decoded: decodeQueueData(job.data),
      async complete() {
        held.delete(job.id!);
        renewedAt.delete(job.id!);
        await job.moveToCompleted(null, token, false);
      },
      abandon() {
        held.delete(job.id!);
        renewedAt.delete(job.id!);
      },
      async retryLater(delayMs) {
        held.delete(job.id!);
        renewedAt.delete(job.id!);
        // BullMQ promotes it back into the queue, at its priority, once the delay is over.
        await job.moveToDelayed(Date.now() + delayMs, token);
      },
      async release() {
        held.delete(job.id!);
        renewedAt.delete(job.id!);
        await job.moveToWait(token);
        // BullMQ adds no wake-up marker when a prioritized job goes back: tell the agents.
        await opts.connection.publish(addedChannel(prefix, opts.pool), 'released');
      },
    };
  };

  let closing: Promise<void> | undefined;
  return {
    async claim(req) {
      if (closing) return { kind: 'none' };
      const k = worker.keys;
      const token = `${opts.agentId}:${randomUUID()}`;
      const keys = [k.wait, k.active, k.prioritized, k.events, k.stalled, k.limiter, k.delayed, k.paused, k.meta, k.pc, k.marker, resKey];
      if (keys.length !== FIT_CLAIM_KEYS) throw new Error('fit-claim key list does not match the script');
      const args = [
        k[''],
        Date.now(),
        packer.pack({ token, lockDuration: opts.lockMs, name: opts.agentId }),
        opts.agentId,
        req.freeMilli,
        req.capacityMilli,
        req.fullLanes.join(','),
        opts.reserveAfterMs,
        opts.scanLimit,
        Math.max(opts.lockMs, 2000),
      ];
      const raw = (await fitClaim(...(keys as string[]), ...(args as (string | number | Buffer)[]))) as unknown[];
      if (raw[4] === 'reserved') return { kind: 'reserved', jobId: String(raw[5]) };
      const [jobData, id] = raw2NextJobData(raw) as [Parameters<typeof Job.fromJSON>[1] | undefined, string];
      if (!jobData) return { kind: 'none' };
      const job = Job.fromJSON(worker, jobData, id);
      job.token = token;
      return { kind: 'job', job: wrap(job, token) };
    },
    close() {
      closing ??= (async () => {
        clearInterval(renew);
        clearInterval(stalledTimer);
        await worker.close(true);
      })();
      return closing;
    },
  };
}
