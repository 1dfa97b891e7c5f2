import { randomUUID } from 'node:crypto';
import type { JobSpec } from '@longshore/domain';
import type { StoredAttempt } from '@longshore/store';
import type { TraceCarrier } from '@longshore/telemetry';
import { decodeSpec } from './codec.js';
import type { AttemptOutcome, Claim, ClaimRequest, ClaimResult, ClaimTail, FinishResult, HeldRun, JobLifecycle, LoggedLines, RetryChoice } from './lifecycle.js';

/** A job an agent holds: claimed, its attempt open, its writes fenced by `token`. */
export interface HeldJob {
  readonly id: string;
  readonly pool: string;
  readonly token: string;
  readonly attempt: number;
  readonly spec: JobSpec;
  readonly trace: TraceCarrier;
}

/** A job a claim took: one to run, or one whose stored spec the agent cannot read (it must be ended as `start_failed`). */
export type ClaimedJob = { kind: 'job'; job: HeldJob } | { kind: 'unreadable'; job: Omit<HeldJob, 'spec'>; reason: string };

/**
 * What a claim gave the agent: the jobs it took, in queue order, and why it stopped (this agent
 * holds the pool's reservation and must drain; or nothing more fits now, with `dueInMs` when
 * the earliest retry is due).
 */
export interface ClaimOutcome {
  jobs: ClaimedJob[];
  tail: ClaimTail;
  /**
   * When the claim was made (epoch ms, the agent's clock): its attempts record this start until
   * their agent records its own, and a reservation it took or ended dates from it.
   */
  at: number;
}

/** One run's end to record. */
export interface RunRecord {
  job: Pick<HeldJob, 'id' | 'pool' | 'token'>;
  outcome: AttemptOutcome;
  retry: RetryChoice;
}

/** Output lines of a run, in order. */
export type LogLine = { stream: 'stdout' | 'stderr' | 'system'; text: string };

/**
 * The agent's seam to the queue and the job records: where it gets jobs and reports on them.
 * A source only hands out jobs that fit the request, and keeps the claims of held jobs alive
 * until they are finished, handed back or abandoned.
 */
export interface JobSource {
  claim(req: ClaimRequest): Promise<ClaimOutcome>;
  /** Ends attempts (one result each, in order); with `next`, claims the agent's next jobs in the same step. */
  finish(ends: RunRecord[], next?: ClaimRequest): Promise<{ results: FinishResult[]; next?: ClaimOutcome }>;
  /** Gives the job back to the queue without it costing an attempt; false when fenced off. */
  handBack(job: HeldJob, attempt: StoredAttempt): Promise<boolean>;
  /**
   * Records the run of a held job that outlives its agent (a container), fenced; false when
   * the job is no longer this agent's.
   */
  recordRun(job: HeldJob, run: object): Promise<boolean>;
  /** This agent id's unfinished attempts in the pool (from an earlier life of the agent). */
  heldBy(): Promise<HeldRun[]>;
  /**
   * Takes over such an attempt (a new fence, no attempt charged), with when it started and how
   * many lines of its output are stored; undefined when it is not this agent's any more. With
   * `attempt`, only that attempt (a live agent taking back a lapsed claim on the run it follows).
   */
  adopt(id: string, attempt?: number): Promise<{ claimed: ClaimedJob; startedAt: number; logged: LoggedLines } | undefined>;
  /**
   * Of runs found on an executor of this pool (any agent's), those no longer wanted by their job
   * (see JobLifecycle.staleRuns): whoever can reach them stops them.
   */
  staleRuns(runs: readonly { jobId: string; attempt: number; agentId: string }[]): Promise<boolean[]>;
  /** Stores output lines; -1 when fenced off (the job is no longer this agent's). */
  appendLogs(job: HeldJob, capBytes: number, lines: LogLine[]): Promise<number>;
  /** Stops renewing a job's claim (its run broke): it goes back to the queue as lost once the claim lapses. */
  abandon(id: string): void;
  isCancelRequested(id: string): Promise<boolean>;
  close(): Promise<void>;
}

export interface RedisJobSourceOptions {
  lifecycle: JobLifecycle;
  pool: string;
  agentId: string;
  /** How long a claim lasts without renewal. */
  lockMs: number;
  /** How often the pool is checked for jobs whose claim lapsed (their agent died). */
  stalledIntervalMs: number;
  /** A heavy job that waited this long gets the pool's reservation (no starvation). */
  reserveAfterMs: number;
  /** How long a lapsed run that outlives its agent stays orphaned, for the agent to adopt (0 = not at all). */
  adoptWindowMs?: number;
  /** Called when a held job's claim could not be renewed: someone else may run it now. */
  onLockLost?(id: string): void;
  onError?(err: unknown): void;
}

/**
 * The {@link JobSource} over Redis: claims, finishes and hand-backs through the lifecycle's
 * scripts; claims renewed every third of `lockMs`; the stalled sweep run every
 * `stalledIntervalMs`, so a dead agent's jobs return to the queue within about
 * `lockMs + stalledIntervalMs`.
 */
export function createJobSource(opts: RedisJobSourceOptions): JobSource {
  const { lifecycle, pool } = opts;
  const settings = { agentId: opts.agentId, lockMs: opts.lockMs, reserveAfterMs: opts.reserveAfterMs };
  const held = new Map<string, string>();
  /** When each held job's claim was last known good (claimed or renewed). */
  const renewedAt = new Map<string, number>();
  const forget = (id: string) => {
    held.delete(id);
    renewedAt.delete(id);
  };
  const lose = (id: string) => {
    forget(id);
    opts.onLockLost?.(id);
  };
  const renew = setInterval(() => {
    if (held.size === 0) return;
    const now = Date.now();
    // Self-fencing: a claim this agent has not managed to renew for half its lease (two renewals
    // in a row failed or hung: it was paused, or cut off from Redis) will soon be someone else's:
    // stop the run while the claim still protects it. Half, so the next tick is not too late.
    for (const [id, at] of renewedAt) if (now - at > opts.lockMs / 2) lose(id);
    const ids = [...held.keys()];
    if (ids.length === 0) return;
    lifecycle.extendLocks(pool, ids, ids.map((id) => held.get(id)!), opts.lockMs).then(
      (failed) => {
        for (const id of ids) if (held.has(id) && !failed.includes(id)) renewedAt.set(id, Math.max(renewedAt.get(id) ?? 0, now));
        for (const id of failed) if (held.has(id)) lose(id);
      },
      (err: unknown) => opts.onError?.(err),
    );
  }, Math.max(100, Math.floor(opts.lockMs / 3)));
  renew.unref();
  // The sweep runs a little after each interval: BullMQ guards each check with a key that lives
  // exactly one interval, so a timer firing a few ms early would skip a whole cycle.
  let sweeping = false;
  const sweepTimer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    lifecycle
      .sweep(pool, opts.stalledIntervalMs, Date.now(), opts.adoptWindowMs ?? 0)
      .catch((err: unknown) => opts.onError?.(err))
      .finally(() => (sweeping = false));
  }, opts.stalledIntervalMs + 50);
  sweepTimer.unref();

  const toClaimed = (c: Claim): ClaimedJob => {
    held.set(c.id, c.token);
    renewedAt.set(c.id, Date.now());
    const base = { id: c.id, pool: c.pool, token: c.token, attempt: c.attempt, trace: c.trace };
    const d = decodeSpec(c.specJson);
    return d.ok ? { kind: 'job', job: { ...base, spec: d.spec } } : { kind: 'unreadable', job: base, reason: d.reason };
  };
  const toOutcome = (r: ClaimResult, at: number): ClaimOutcome => ({ jobs: r.jobs.map(toClaimed), tail: r.tail, at });
  const newToken = () => `${opts.agentId}:${randomUUID()}`;

  let closing: Promise<void> | undefined;
  return {
    async claim(req) {
      const at = Date.now();
      if (closing) return { jobs: [], tail: { kind: 'none' }, at };
      return toOutcome(await lifecycle.claim(pool, settings, req, newToken(), at), at);
    },
    async finish(ends, next) {
      for (const e of ends) forget(e.job.id);
      const at = Date.now();
      const res = await lifecycle.finish(
        pool,
        ends.map((e) => ({ claim: e.job, outcome: e.outcome, retry: e.retry })),
        next && !closing ? { settings, req: next, tokenBase: newToken() } : undefined,
        at,
      );
      return res.next ? { results: res.results, next: toOutcome(res.next, at) } : { results: res.results };
    },
    async handBack(job, attempt) {
      forget(job.id);
      return lifecycle.handBack(job, attempt);
    },
    recordRun(job, run) {
      return lifecycle.recordRun(job, JSON.stringify(run), true);
    },
    heldBy() {
      return lifecycle.heldBy(pool, opts.agentId);
    },
    async adopt(id, attempt) {
      const c = await lifecycle.adopt(pool, id, opts.agentId, newToken(), opts.lockMs, Date.now(), attempt);
      return c ? { claimed: toClaimed(c), startedAt: c.startedAt, logged: c.logged } : undefined;
    },
    staleRuns(runs) {
      return lifecycle.staleRuns(pool, runs);
    },
    appendLogs(job, capBytes, lines) {
      return lifecycle.appendLogs(job, capBytes, lines);
    },
    abandon: forget,
    isCancelRequested(id) {
      return lifecycle.isCancelRequested(id);
    },
    close() {
      closing ??= (async () => {
        clearInterval(renew);
        clearInterval(sweepTimer);
      })();
      return closing;
    },
  };
}
