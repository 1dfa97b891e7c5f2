import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { checkPool, mayUsePool } from '@longshore/auth';
import { FailedPreconditionError, isFinalState, NotFoundError, validateJobId, InvalidArgumentError, LIMITS, type JobRecord, type Principal } from '@longshore/domain';
import type { DispatcherService } from '@longshore/proto';
import { QUEUE_DATA_VERSION, type JobQueues } from '@longshore/queue';
import { jobToProto, logStreamEnum, type ServiceImpl } from '@longshore/rpc';
import { isLogCursor, readLogPage, wakeable, type EventHub, type JobStore, type PoolStore, type Redis, type StoredPool } from '@longshore/store';
import { injectTraceContext, type Logger } from '@longshore/telemetry';
import { approxJobBytes, matchesQuery, parseJobQuery } from './list-filter.js';
import { prepareJob, type PreparedJob } from './submission.js';
import type { SubmitRateLimiter } from './submit-rate-limit.js';

export interface DispatcherDeps {
  redis: Redis;
  jobs: JobStore;
  pools: PoolStore;
  queues: JobQueues;
  events: EventHub;
  /** How long an idempotency key maps to its job. */
  idempotencyWindowMs: number;
  logger: Logger;
  /** Per-token submit limit (`LONGSHORE_SUBMIT_RATE`); absent = none. */
  submitRate?: SubmitRateLimiter;
}

/** The record as just written (no need to read it back). */
function asQueued(p: PreparedJob): JobRecord {
  return { ...p.record, state: 'queued', attempts: [], updatedAt: p.record.createdAt, logTruncated: false };
}

/** Poll interval of watch/follow loops, as a safety net under pub/sub (which can drop messages). */
const POLL_MS = 1000;

/** The DispatcherService handlers. Stateless: everything lives in Redis. */
export function dispatcherService(d: DispatcherDeps): ServiceImpl<(typeof DispatcherService)['method']> {
  /** The job, if it exists and the caller's token may use its pool. */
  const mustGet = async (id: string, principal: Principal): Promise<JobRecord> => {
    validateJobId(id);
    const rec = await d.jobs.get(id);
    if (!rec) throw new NotFoundError(`job ${id} does not exist (finished jobs are kept for a limited time; see LONGSHORE_JOB_RETENTION)`);
    checkPool(principal, rec.spec.pool, `job ${id}`);
    return rec;
  };

  /** Stores then enqueues; if enqueueing fails the records are removed again, so a refused submit leaves nothing. */
  const persist = async (prepared: PreparedJob[]): Promise<void> => {
    await d.jobs.create(prepared.map((p) => p.record));
    try {
      await d.queues.add(prepared.map((p) => p.data));
    } catch (err) {
      await d.jobs.discard(prepared.map((p) => p.record.id)).catch(() => undefined);
      throw err;
    }
  };

  // Keys are scoped by token, so one tenant cannot find another's job by guessing its key.
  const idempotencyKey = (principal: Principal, key: string): string => d.jobs.keys.idempotency(`${principal.tokenId}:${key}`);
  const idempotent = async (principal: Principal, key: string, id: string): Promise<string | undefined> => {
    const k = idempotencyKey(principal, key);
    const ok = await d.redis.set(k, id, 'PX', d.idempotencyWindowMs, 'NX');
    return ok ? undefined : ((await d.redis.get(k)) ?? undefined);
  };

  return {
    async submitJob(req, ctx) {
      const prepared = await prepareJob(req.spec, d.pools, new Map<string, StoredPool>());
      checkPool(ctx.principal, prepared.data.pool, 'the job');
      await d.submitRate?.take(ctx.principal, 1);
      const key = prepared.record.spec.idempotencyKey;
      if (key) {
        const existing = await idempotent(ctx.principal, key, prepared.record.id);
        if (existing) {
          // The first submit may still be writing its record: give it a moment.
          for (let i = 0; i < 20; i++) {
            const rec = await d.jobs.get(existing);
            if (rec) return { job: jobToProto(rec), deduplicated: true };
            await new Promise((r) => setTimeout(r, 100));
          }
          throw new NotFoundError(`idempotency key "${key}" belongs to job ${existing}, which no longer exists`);
        }
      }
      try {
        await persist([prepared]);
      } catch (err) {
        if (key) await d.redis.del(idempotencyKey(ctx.principal, key)).catch(() => undefined);
        throw err;
      }
      d.logger.info({ job: prepared.record.id, pool: prepared.data.pool, weightMilli: prepared.data.weightMilli }, 'job submitted');
      return { job: jobToProto(asQueued(prepared)), deduplicated: false };
    },

    async submitJobs(req, ctx) {
      if (req.specs.length === 0) throw new InvalidArgumentError('specs', 'is empty: give at least one job spec');
      if (req.specs.length > LIMITS.batchSize) throw new InvalidArgumentError('specs', `has ${req.specs.length} specs; at most ${LIMITS.batchSize} per call`);
      const cache = new Map<string, StoredPool>();
      const prepared: PreparedJob[] = [];
      for (const [i, spec] of req.specs.entries()) {
        const p = await prepareJob(spec, d.pools, cache, i);
        checkPool(ctx.principal, p.data.pool, `specs[${i}]: the job`);
        if (p.record.spec.idempotencyKey) throw new InvalidArgumentError(`specs[${i}].idempotency_key`, 'is not supported in batches; submit such jobs one by one');
        prepared.push(p);
      }
      await d.submitRate?.take(ctx.principal, prepared.length);
      await persist(prepared);
      d.logger.info({ count: prepared.length }, 'jobs submitted');
      return { jobs: prepared.map((p) => jobToProto(asQueued(p))) };
    },

    async getJob(req, ctx) {
      return { job: jobToProto(await mustGet(req.id, ctx.principal)) };
    },

    async listJobs(req, ctx) {
      const q = parseJobQuery(req);
      if (q.pool) checkPool(ctx.principal, q.pool, 'the listing');
      const out: JobRecord[] = [];
      let cursor = q.after;
      let more = true;
      let full = false;
      let bytes = 0;
      // Bounded scan: at most 10 batches per call, and a page ends early once it nears
      // LIMITS.responseBytes (so it fits any client's receive limit); the token lets the client go on.
      for (let i = 0; i < 10 && more && !full; i++) {
        const batch = await d.jobs.scan(cursor, 200);
        for (const r of batch.records) {
          if (out.length >= q.pageSize) {
            full = true;
            break;
          }
          if (matchesQuery(r, q) && mayUsePool(ctx.principal, r.spec.pool)) {
            const size = approxJobBytes(r);
            if (out.length > 0 && bytes + size > LIMITS.responseBytes) {
              full = true;
              break;
            }
            bytes += size;
            out.push(r);
          }
          cursor = r.id;
        }
        if (out.length >= q.pageSize) full = true;
        if (!full && batch.last) cursor = batch.last;
        more = !batch.done || full;
      }
      return { jobs: out.map(jobToProto), nextPageToken: more && cursor ? cursor : '' };
    },

    async *watchJob(req, ctx) {
      validateJobId(req.id);
      const wake = wakeable();
      const stop = await d.events.listen(d.jobs.keys.jobEvents(req.id), (m) => m === 'state' && wake.wake());
      try {
        let last = '';
        while (!ctx.signal.aborted) {
          const rec = await mustGet(req.id, ctx.principal);
          const sig = `${rec.state}:${rec.updatedAt}:${rec.attempts.length}`;
          if (sig !== last) {
            last = sig;
            yield { job: jobToProto(rec) };
          }
          if (isFinalState(rec.state)) return;
          await wake.wait(POLL_MS, ctx.signal);
        }
      } finally {
        stop();
      }
    },

    async *streamJobLogs(req, ctx) {
      await mustGet(req.id, ctx.principal);
      if (req.after && !isLogCursor(req.after)) throw new InvalidArgumentError('after', 'is not a log cursor this server gave out');
      const wake = wakeable();
      const stop = req.follow ? await d.events.listen(d.jobs.keys.jobEvents(req.id), () => wake.wake()) : () => undefined;
      try {
        let cursor = req.after;
        while (!ctx.signal.aborted) {
          const page = await readLogPage(d.redis, d.jobs.keys, req.id, cursor);
          cursor = page.cursor;
          if (page.lines.length) {
            yield {
              lines: page.lines.map((l) => ({ stream: logStreamEnum.toProto(l.stream), text: l.text, time: timestampFromMs(l.time), cursor: l.cursor })),
            };
          }
          if (page.ended) return;
          if (page.lines.length >= 500) continue;
          if (!req.follow) return;
          // The record may have expired (retention) while we followed: then there is nothing more.
          if (!(await d.jobs.get(req.id))) return;
          await wake.wait(POLL_MS, ctx.signal);
        }
      } finally {
        stop();
      }
    },

    async retryJob(req, ctx) {
      const rec = await mustGet(req.id, ctx.principal);
      const res = await d.jobs.reopen(req.id);
      if (res === 'missing') throw new NotFoundError(`job ${req.id} does not exist`);
      if (res !== 'ok') throw new FailedPreconditionError(`job ${req.id} is ${res}: only a finished job can be run again (cancel it first, or wait for it)`);
      await d.queues.add([
        {
          v: QUEUE_DATA_VERSION,
          id: rec.id,
          pool: rec.spec.pool,
          weightMilli: rec.weightMilli,
          ...(rec.spec.lane ? { lane: rec.spec.lane } : {}),
          priority: rec.spec.priority,
          spec: rec.spec,
          trace: injectTraceContext(),
          submittedAt: Date.now(),
        },
      ]);
      d.logger.info({ job: req.id }, 'job reopened for another attempt');
      return { job: jobToProto(await mustGet(req.id, ctx.principal)) };
    },

    async cancelJob(req, ctx) {
      const rec = await mustGet(req.id, ctx.principal);
      const res = await d.jobs.requestCancel(req.id);
      if (res.kind === 'flagged') {
        if (res.state === 'queued' || res.state === 'retrying') {
          // Removal fails if an agent popped it meanwhile; its claim then sees the flag and cancels.
          await d.queues.remove(rec.spec.pool, req.id);
          await d.jobs.cancelUnclaimed(req.id, 'cancelled by request before it started');
        } else {
          await d.redis.publish(d.jobs.keys.cancelChannel, req.id);
        }
        d.logger.info({ job: req.id, state: res.state }, 'cancel requested');
      }
      return { job: jobToProto(await mustGet(req.id, ctx.principal)) };
    },
  };
}
