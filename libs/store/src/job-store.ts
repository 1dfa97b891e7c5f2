import { isFinalState, type JobRecord, type JobStateName } from '@longshore/domain';
import type { Redis } from 'ioredis';
import { Keys } from './keys.js';
import { decodeJob, encodeNewJob, type StoredAttempt } from './record-codec.js';
import { runScript } from './scripts.js';

/** How long and how many finished jobs (and their logs) are kept. */
export interface Retention {
  /** Finished records and logs expire after this long. */
  retentionMs: number;
  /** At most this many finished jobs are kept; the oldest go first. */
  maxFinished: number;
}

/** What an agent reports when an attempt ends. */
export interface AttemptOutcome {
  state: Extract<JobStateName, 'succeeded' | 'failed' | 'cancelled'>;
  exitCode?: number;
  failureClass?: StoredAttempt['failureClass'];
  message: string;
  attempt: StoredAttempt;
}

/** How the agent's finish decides between a retry and the end. */
export interface RetryChoice {
  /** Retries left to spend for this outcome's failure class (its budget; used ones are counted in Redis). */
  budget: number;
  /** Total attempts allowed, 0 = no cap beyond the budgets. */
  maxAttempts: number;
  /** Backoff before the retry runs. */
  delayMs: number;
}

/** A claim's limits on lost attempts. */
export interface LostBudget {
  lostBudget: number;
  maxAttempts: number;
}

/** The result of a claim: run it (`ok`), or there is nothing to run. */
export type ClaimResult = { kind: 'ok'; attempt: number } | { kind: 'gone'; state: string };

/** What CancelJob found. */
export type CancelRequest = { kind: 'missing' } | { kind: 'final'; state: JobStateName } | { kind: 'flagged'; state: JobStateName };

/**
 * Job records in Redis: one hash per job, an index of ids, and a capped log stream per job.
 * Every transition an agent makes is a fenced Lua script (see scripts.ts).
 */
export class JobStore {
  readonly keys: Keys;
  constructor(
    private readonly redis: Redis,
    private readonly retention: Retention,
    prefix?: string,
  ) {
    this.keys = new Keys(prefix);
  }

  /** Writes new records (all in one MULTI). The caller enqueues them afterwards. */
  async create(records: Pick<JobRecord, 'id' | 'spec' | 'weightMilli' | 'createdAt' | 'traceId'>[]): Promise<void> {
    const m = this.redis.multi();
    for (const r of records) {
      m.hset(this.keys.job(r.id), encodeNewJob(r));
      m.zadd(this.keys.jobs, 0, r.id);
    }
    await m.exec();
  }

  /** Removes records whose enqueue failed, so a refused submit leaves nothing behind. */
  async discard(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.redis
      .multi()
      .del(...ids.map((id) => this.keys.job(id)))
      .zrem(this.keys.jobs, ...ids)
      .exec();
  }

  async get(id: string): Promise<JobRecord | undefined> {
    return decodeJob(await this.redis.hgetall(this.keys.job(id)));
  }

  async getMany(ids: string[]): Promise<(JobRecord | undefined)[]> {
    if (ids.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.hgetall(this.keys.job(id));
    const res = (await p.exec()) ?? [];
    return res.map(([err, h]) => (err ? undefined : decodeJob(h as Record<string, string>)));
  }

  /**
   * Walks job ids newest first, starting below `before` (exclusive), `batch` at a time.
   * Ids whose record has expired are dropped from the index on the way.
   */
  async scan(before: string | undefined, batch: number): Promise<{ records: JobRecord[]; last?: string; done: boolean }> {
    const max = before ? `(${before}` : '+';
    const ids = await this.redis.zrevrangebylex(this.keys.jobs, max, '-', 'LIMIT', 0, batch);
    const recs = await this.getMany(ids);
    const gone = ids.filter((_, i) => !recs[i]);
    if (gone.length) await this.redis.zrem(this.keys.jobs, ...gone);
    return { records: recs.filter((r): r is JobRecord => !!r), last: ids.at(-1), done: ids.length < batch };
  }

  /** An agent takes a job it popped from the queue. Fences all its later writes with `token`. */
  async claim(id: string, token: string, agentId: string, attempt: StoredAttempt, budget: LostBudget = { lostBudget: 3, maxAttempts: 0 }, now = Date.now()): Promise<ClaimResult> {
    const res = String(
      await runScript(this.redis, 'lsClaim', [this.keys.job(id), this.keys.log(id)], [
        this.keys.prefix, id, token, agentId, JSON.stringify(attempt), now, this.retention.retentionMs, this.retention.maxFinished,
        budget.lostBudget, budget.maxAttempts,
      ]),
    );
    return res.startsWith('ok:') ? { kind: 'ok', attempt: Number(res.slice(3)) } : { kind: 'gone', state: res };
  }

  /** Returns false when the agent no longer holds the job. */
  async markRunning(id: string, token: string, now = Date.now()): Promise<boolean> {
    return (await runScript(this.redis, 'lsMarkRunning', [this.keys.job(id)], [this.keys.prefix, id, token, now])) === 1;
  }

  /** Appends output lines; returns -1 when fenced off (the agent no longer holds the job). */
  async appendLogs(id: string, token: string, capBytes: number, lines: { stream: string; text: string }[]): Promise<number> {
    const args: (string | number)[] = [this.keys.prefix, id, token, capBytes];
    for (const l of lines) args.push(l.stream, l.text);
    return Number(await runScript(this.redis, 'lsAppendLogs', [this.keys.job(id), this.keys.log(id)], args));
  }

  /**
   * Ends the attempt with the agent's outcome: the job is `retrying` if the outcome's class has
   * retries left (`retry`), else it ends (`ended`); `fenced` when the agent no longer holds it.
   */
  async finish(id: string, token: string, o: AttemptOutcome, retry: RetryChoice = { budget: 0, maxAttempts: 0, delayMs: 0 }, now = Date.now()): Promise<'retry' | 'ended' | 'fenced'> {
    const res = await runScript(this.redis, 'lsFinish', [this.keys.job(id), this.keys.log(id)], [
      this.keys.prefix, id, token, o.state, now, this.retention.retentionMs, this.retention.maxFinished,
      o.exitCode ?? '', o.failureClass ?? '', o.message, JSON.stringify(o.attempt), retry.budget, retry.maxAttempts, retry.delayMs,
    ]);
    return res === 2 ? 'retry' : res === 1 ? 'ended' : 'fenced';
  }

  /** The agent gives the job back without it costing an attempt; false when fenced off. */
  async handBack(id: string, token: string, attempt: StoredAttempt, now = Date.now()): Promise<boolean> {
    return (await runScript(this.redis, 'lsHandBack', [this.keys.job(id)], [this.keys.prefix, id, token, now, JSON.stringify(attempt)])) === 1;
  }

  /** Reopens a finished job for another attempt: 'ok', 'missing', or the (unfinished) state it is in. */
  async reopen(id: string, now = Date.now()): Promise<string> {
    return String(await runScript(this.redis, 'lsReopen', [this.keys.job(id), this.keys.log(id), this.keys.finished], [this.keys.prefix, id, now]));
  }

  /** Flags a job for cancellation and says what state it was in. */
  async requestCancel(id: string, now = Date.now()): Promise<CancelRequest> {
    const res = String(await runScript(this.redis, 'lsRequestCancel', [this.keys.job(id)], [now]));
    if (res === 'missing') return { kind: 'missing' };
    const state = res as JobStateName;
    return isFinalState(state) ? { kind: 'final', state } : { kind: 'flagged', state };
  }

  /** Cancels a job no agent holds; false if an agent holds it now. */
  async cancelUnclaimed(id: string, message: string, now = Date.now()): Promise<boolean> {
    const res = await runScript(this.redis, 'lsCancelUnclaimed', [this.keys.job(id), this.keys.log(id)], [
      this.keys.prefix, id, now, this.retention.retentionMs, this.retention.maxFinished, message,
    ]);
    return res === 1;
  }

  /** Whether a cancel was requested for a job (agents check this while they run it). */
  async isCancelRequested(id: string): Promise<boolean> {
    return (await this.redis.hget(this.keys.job(id), 'cancel')) === '1';
  }
}
