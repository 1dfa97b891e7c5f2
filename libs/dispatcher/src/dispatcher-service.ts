import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { checkPool, mayUsePool } from '@longshore/auth';
import { FailedPreconditionError, isFinalState, NotFoundError, validateJobId, InvalidArgumentError, LIMITS, type JobRecord, type Principal } from '@longshore/domain';
import { JobState, JobView, type DispatcherService } from '@longshore/proto';
import type { JobLifecycle, RedisBudget } from '@longshore/queue';
import { jobToProto, logStreamEnum, type ServiceImpl } from '@longshore/rpc';
import { isLogCursor, poolOfJob, readLogPage, wakeable, type EventHub, type JobStore, type PoolStore, type Redis, type StoredPool } from '@longshore/store';
import type { Logger } from '@longshore/telemetry';
import { DockerAllowCheck, type PoolAgents } from './docker-allow-check.js';
import { approxJobBytes, matchesQuery, parseJobQuery } from './list-filter.js';
import { prepareBatch, prepareJob, type PreparedJob } from './submission.js';
import { inEnqueueSpan } from './tracing.js';
import type { SubmitRateLimiter } from './submit-rate-limit.js';

export interface DispatcherDeps {
  redis: Redis;
  jobs: JobStore;
  pools: PoolStore;
  lifecycle: JobLifecycle;
  /** LONGSHORE_REDIS_BUDGET: new work is refused while live data alone is over it. */
  budget?: RedisBudget;
  events: EventHub;
  /** How long an idempotency key maps to its job. */
  idempotencyWindowMs: number;
  logger: Logger;
  /** Per-token submit limit (`LONGSHORE_SUBMIT_RATE`); absent = none. */
  submitRate?: SubmitRateLimiter;
  /** The agents of a pool as the registry stored them: docker options no live docker agent allows are refused. Absent = not checked. */
  agents?: PoolAgents;
}

/** The record as just written (no need to read it back). */
function asQueued(p: PreparedJob): JobRecord {
  return { ...p.record, state: 'queued', attempts: [], updatedAt: p.record.createdAt, logTruncated: false };
}

/** A just-queued job as JOB_VIEW_BASIC shows it: what a bulk client needs, cheap to build and send. */
function basicQueued(p: PreparedJob) {
  return { id: p.record.id, state: JobState.QUEUED, weightMilli: p.record.weightMilli, createdAt: timestampFromMs(p.record.createdAt) };
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

  /**
   * Stores and queues jobs: each pool's part in one atomic step. Should a later pool's part fail,
   * the parts already stored are cancelled again, so a refused batch runs nothing.
   */
  const persist = async (prepared: PreparedJob[]): Promise<void> => {
    const byPool = new Map<string, PreparedJob[]>();
    for (const p of prepared) {
      const jobs = byPool.get(p.record.spec.pool);
      if (jobs) jobs.push(p);
      else byPool.set(p.record.spec.pool, [p]);
    }
    const stored: PreparedJob[] = [];
    for (const [pool, jobs] of byPool) {
      try {
        await inEnqueueSpan(pool, jobs, () => d.lifecycle.submit(pool, jobs));
      } catch (err) {
        for (const p of stored) await d.lifecycle.cancel(p.record.id, 'cancelled: the rest of its batch could not be stored').catch(() => undefined);
        throw err;
      }
      stored.push(...jobs);
    }
  };

  /** One per request: a batch reads each pool's agents once. */
  const dockerCheck = () => (d.agents ? new DockerAllowCheck(d.agents) : undefined);

  /** Where a job's state changes and log lines are announced. */
  const jobEvents = (id: string) => d.jobs.keys.pool(poolOfJob(id)).jobEvents(id);

  return {
    async submitJob(req, ctx) {
      const prepared = await prepareJob(req.spec, d.pools, new Map<string, StoredPool>(), undefined, dockerCheck());
      checkPool(ctx.principal, prepared.record.spec.pool, 'the job');
      await d.submitRate?.take(ctx.principal, 1);
      await d.budget?.admit();
      const key = prepared.record.spec.idempotencyKey;
      // Keys are scoped by token, so one tenant cannot find another's job by guessing its key.
      const pool = prepared.record.spec.pool;
      const res = await inEnqueueSpan(pool, [prepared], () => d.lifecycle.submit(pool, [prepared], key ? { tokenId: ctx.principal.tokenId, key, windowMs: d.idempotencyWindowMs } : undefined));
      if (res.kind === 'duplicate') {
        const rec = await d.jobs.get(res.id);
        if (rec) return { job: jobToProto(rec), deduplicated: true };
        throw new NotFoundError(`idempotency key "${key}" belongs to job ${res.id}, which no longer exists`);
      }
      d.logger.debug({ job: prepared.record.id, pool: prepared.record.spec.pool, weightMilli: prepared.record.weightMilli }, 'job submitted');
      return { job: jobToProto(asQueued(prepared)), deduplicated: false };
    },

    async submitJobs(req, ctx) {
      if (req.specs.length === 0) throw new InvalidArgumentError('specs', 'is empty: give at least one job spec');
      if (req.specs.length > LIMITS.batchSize) throw new InvalidArgumentError('specs', `has ${req.specs.length} specs; at most ${LIMITS.batchSize} per call`);
      const prepared = await prepareBatch(req.specs, d.pools, dockerCheck(), (p, i) => {
        checkPool(ctx.principal, p.record.spec.pool, `specs[${i}]: the job`);
        if (p.record.spec.idempotencyKey) throw new InvalidArgumentError(`specs[${i}].idempotency_key`, 'is not supported in batches; submit such jobs one by one');
      });
      await d.submitRate?.take(ctx.principal, prepared.length);
      await d.budget?.admit();
      await persist(prepared);
      d.logger.debug({ count: prepared.length }, 'jobs submitted');
      return { jobs: req.view === JobView.BASIC ? prepared.map(basicQueued) : prepared.map((p) => jobToProto(asQueued(p))) };
    },

    async getJob(req, ctx) {
      return { job: jobToProto(await mustGet(req.id, ctx.principal)) };
    },

    async listJobs(req, ctx) {
      const q = parseJobQuery(req);
      if (q.pool) checkPool(ctx.principal, q.pool, 'the listing');
      const pools = q.pool ? [q.pool] : (await d.pools.list()).map((p) => p.id).filter((id) => mayUsePool(ctx.principal, id));
      const out: JobRecord[] = [];
      let cursor = q.after;
      let more = true;
      let full = false;
      let bytes = 0;
      // Bounded scan: at most 10 batches per call, and a page ends early once it nears
      // LIMITS.responseBytes (so it fits any client's receive limit); the token lets the client go on.
      for (let i = 0; i < 10 && more && !full; i++) {
        const batch = await d.jobs.scan(pools, cursor, 200);
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
      const stop = await d.events.listen(jobEvents(req.id), (m) => m === 'state' && wake.wake());
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
      const stop = req.follow ? await d.events.listen(jobEvents(req.id), () => wake.wake()) : () => undefined;
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
      await mustGet(req.id, ctx.principal);
      await d.budget?.admit();
      const res = await d.lifecycle.reopen(req.id);
      if (res === 'missing') throw new NotFoundError(`job ${req.id} does not exist`);
      if (res !== 'ok') throw new FailedPreconditionError(`job ${req.id} is ${res}: only a finished job can be run again (cancel it first, or wait for it)`);
      d.logger.info({ job: req.id }, 'job reopened for another attempt');
      return { job: jobToProto(await mustGet(req.id, ctx.principal)) };
    },

    async cancelJob(req, ctx) {
      await mustGet(req.id, ctx.principal);
      const res = await d.lifecycle.cancel(req.id, 'cancelled by request before it started');
      if (res.kind === 'cancelled' || res.kind === 'flagged') d.logger.info({ job: req.id, result: res.kind }, 'cancel requested');
      return { job: jobToProto(await mustGet(req.id, ctx.principal)) };
    },
  };
}
