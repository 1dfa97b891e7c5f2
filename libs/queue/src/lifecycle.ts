import { executorsOf, type JobRecord, type JobSpec, type JobStateName } from '@longshore/domain';
import { newJobFields, Keys, poolOfJob, type PoolKeys, type Redis, type StoredAttempt } from '@longshore/store';
import type { TraceCarrier } from '@longshore/telemetry';
import { Packr } from 'msgpackr';
import { readBacklog, type QueueBacklog } from './backlog.js';
import { parseReservation, type Reservation } from './reservation.js';
import { requireReplicas, runScript, type ReplicationSettings } from './replicated.js';

/** How long and how many finished jobs (and their logs) are kept. */
/** What a lifecycle is built with: how finished jobs are kept, and whether writes wait for replicas. */
export type LifecycleSettings = Retention & Partial<ReplicationSettings>;

export interface Retention {
  /** Finished records and logs expire after this long. */
  retentionMs: number;
  /** At most this many finished jobs are kept per pool; the oldest go first. */
  maxFinished: number;
}

/** A job to store: its record as the dispatcher built it, and the trace context of its submit. */
export interface NewJob {
  record: Pick<JobRecord, 'id' | 'spec' | 'weightMilli' | 'createdAt' | 'traceId'>;
  trace: TraceCarrier;
}

/** What the claim needs to know about the agent. */
export interface ClaimRequest {
  freeMilli: number;
  capacityMilli: number;
  /** Free slots of each lane this agent caps (0 = at its cap: the lane's jobs must not be claimed). */
  laneRoom: Record<string, number>;
  /** At most this many jobs in one claim. */
  max: number;
  /** Executors this agent can run jobs with now: a job only these cannot run is not claimed. */
  executors: readonly string[];
}

/** The agent-side settings of every claim. */
export interface ClaimSettings {
  agentId: string;
  /** How long a claim lasts without renewal. */
  lockMs: number;
  /** A heavy job that waited this long gets the pool's reservation (no starvation). */
  reserveAfterMs: number;
}

/** A job an agent took: the record's claim is made, the attempt opened, its writes fenced by `token`. */
export interface Claim {
  id: string;
  pool: string;
  /** Fencing token: every later write of this attempt carries it. */
  token: string;
  attempt: number;
  /** The stored spec as JSON (the agent validates it). */
  specJson: string;
  trace: TraceCarrier;
}

/** How many lines of an attempt's output are stored, per stream. */
export interface LoggedLines {
  stdout: number;
  stderr: number;
}

/**
 * Why a claim stopped: this agent holds the pool's reservation for `jobId` and must drain; or
 * nothing (more) fits now (`dueInMs`: when the earliest retry is due, if one is waiting).
 */
export type ClaimTail = { kind: 'reserved'; jobId: string } | { kind: 'none'; dueInMs?: number };

/** What one claim took: jobs to run (in queue order), and why it stopped. */
export interface ClaimResult {
  jobs: Claim[];
  tail: ClaimTail;
}

/** One attempt to end: which, how, and the retry its failure class allows. */
export interface AttemptEnd {
  claim: Pick<Claim, 'id' | 'pool' | 'token'>;
  outcome: AttemptOutcome;
  retry: RetryChoice;
}

/** What an agent reports when an attempt ends. */
export interface AttemptOutcome {
  state: Extract<JobStateName, 'succeeded' | 'failed' | 'cancelled'>;
  exitCode?: number;
  failureClass?: StoredAttempt['failureClass'];
  message: string;
  attempt: StoredAttempt;
}

/** How the finish decides between a retry and the end. */
export interface RetryChoice {
  /** Retries left to spend for this outcome's failure class (used ones are counted in Redis). */
  budget: number;
  /** Total attempts allowed, 0 = no cap beyond the budgets. */
  maxAttempts: number;
  /** Backoff before the retry runs. */
  delayMs: number;
}

/** How a finish went: `retry` (queued again after its backoff), `ended`, or `fenced` (not ours any more). */
export type FinishResult = 'retry' | 'ended' | 'fenced';

/** What CancelJob did. */
export type CancelResult =
  | { kind: 'missing' }
  | { kind: 'final'; state: JobStateName }
  | { kind: 'cancelled'; from: JobStateName }
  | { kind: 'flagged'; state: JobStateName };

/** An unfinished attempt of one agent, as {@link JobLifecycle.heldBy} lists it for that agent when it starts again. */
export interface HeldRun {
  id: string;
  pool: string;
  state: Extract<JobStateName, 'claimed' | 'running' | 'orphaned'>;
  attempt: number;
  /** The run's reference as its executor recorded it (JSON), if it got that far. */
  run?: string;
  /** Whether the run outlives its agent, so a new agent process can follow it again. */
  reattachable: boolean;
}

/** A pool's queue figures. */
export interface QueueCounts {
  queued: number;
  running: number;
}

// The same encoding BullMQ uses for script arguments (its redis-queue-backend.js).
const packer = new Packr({ useRecords: false, encodeUndefinedAsNil: true });

/**
 * BullMQ priority for a Longshore priority. Longshore: higher first, 0 normal, -1000..1000.
 * BullMQ: lower first, FIFO within one value; every job gets one so all share one ordering.
 */
export function bullPriority(priority: number): number {
  return 1001 - priority;
}

/** BullMQ's name of a job's transport entry (`w250` or `w250:ingestion`), for people reading BullMQ's keys. */
export function jobName(weightMilli: number, lane?: string): string {
  return lane ? `w${weightMilli}:${lane}` : `w${weightMilli}`;
}

/** 2^42: queue order is `bullPriority * 2^42 + submit ms` (exact in a double up to priority 2047). */
const ORDER_TIME = 2 ** 42;

/** Queue order of a job: priority first (higher first), then arrival. */
export function queueOrder(priority: number, atMs: number): number {
  return bullPriority(priority) * ORDER_TIME + atMs;
}

/**
 * The weight class a job is indexed under: `<weight>[:<lane>][@<executor>,…]`, the executors
 * being those that can run it (see `executorsOf`; none = any agent), so a claim can skip whole
 * classes it cannot run.
 */
export function weightClass(weightMilli: number, lane?: string, executors?: readonly string[]): string {
  const base = lane ? `${weightMilli}:${lane}` : String(weightMilli);
  return executors && executors.length > 0 ? `${base}@${[...executors].sort().join(',')}` : base;
}

/** The weight class of a stored spec. */
function classOf(spec: JobSpec, weightMilli = spec.weightMilli): string {
  return weightClass(weightMilli, spec.lane, executorsOf(spec));
}

/** BullMQ's keys of a pool's queue (its queue is named `{pool}`, so they share the pool's tag). */
export function bullKeys(k: PoolKeys) {
  const b = k.base;
  return {
    wait: `${b}wait`,
    active: `${b}active`,
    prioritized: `${b}prioritized`,
    events: `${b}events`,
    stalled: `${b}stalled`,
    limiter: `${b}limiter`,
    delayed: `${b}delayed`,
    paused: `${b}paused`,
    meta: `${b}meta`,
    pc: `${b}pc`,
    marker: `${b}marker`,
    completed: `${b}completed`,
    metrics: `${b}metrics:completed`,
    id: `${b}id`,
    repeat: `${b}repeat`,
    stalledCheck: `${b}stalled-check`,
  };
}

/** moveToActive's 11 keys, which the claim and finish scripts start with. */
function activeKeys(k: PoolKeys): string[] {
  const q = bullKeys(k);
  return [q.wait, q.active, q.prioritized, q.events, q.stalled, q.limiter, q.delayed, q.paused, q.meta, q.pc, q.marker];
}

function addKeys(k: PoolKeys): string[] {
  const q = bullKeys(k);
  return [q.marker, q.meta, q.id, q.prioritized, q.delayed, q.completed, q.active, q.events, q.pc];
}

type RawClaim = unknown[];

/**
 * A batch as lsSubmit reads it (see submit.lua), one msgpack argument: `[shapes, jobs]`. A shape
 * is what jobs of a batch mostly share, sent once: `[BullMQ job name, BullMQ priority, weight
 * class, queue order, the record's other fields (flat pairs)]`; `jobs` is flat, three values a
 * job: its id, its spec (JSON) and its shape's number (from 1).
 */
function packBatch(jobs: NewJob[]): Buffer {
  const shapes: unknown[] = [];
  const shapeOf = new Map<string, number>();
  const flat: (string | number)[] = [];
  let lastTrace: TraceCarrier | undefined;
  let traceJson: string | undefined;
  for (const { record, trace } of jobs) {
    const spec = record.spec;
    // The jobs of one submit share their trace context object: encode it once.
    if (trace !== lastTrace) {
      lastTrace = trace;
      traceJson = Object.keys(trace).length > 0 ? JSON.stringify(trace) : undefined;
    }
    const cls = classOf(spec, record.weightMilli);
    const lostBudget = spec.retry?.budgets.lost ?? 0;
    // The class determines the job name (weight and lane); the rest is what the record's shared fields hold.
    const key = `${cls}\n${spec.priority}\n${record.createdAt}\n${lostBudget}\n${spec.maxAttempts}\n${record.traceId ?? ''}\n${traceJson ?? ''}`;
    let n = shapeOf.get(key);
    if (n === undefined) {
      const order = String(queueOrder(spec.priority, record.createdAt));
      const fields = newJobFields({ cls, order, lostBudget, maxAttempts: spec.maxAttempts, createdAt: record.createdAt, trace: traceJson, traceId: record.traceId });
      n = shapes.push([jobName(record.weightMilli, spec.lane), bullPriority(spec.priority), cls, order, fields]);
      shapeOf.set(key, n);
    }
    flat.push(record.id, JSON.stringify(spec), n);
  }
  return packer.pack([shapes, flat]);
}

/**
 * Every transition of a job, each one atomic script over its record and BullMQ's queue (see
 * lua/): submit, claim, finish (with the next claim), hand back, cancel, reopen, the stalled
 * sweep, fenced log appends and lock renewal. Services and agents change jobs only through here.
 */
export class JobLifecycle {
  readonly keys: Keys;
  constructor(
    private readonly redis: Redis,
    settings: LifecycleSettings,
    prefix?: string,
  ) {
    this.keys = new Keys(prefix);
    this.R = { retentionMs: settings.retentionMs, maxFinished: settings.maxFinished };
    requireReplicas(redis, settings); // LONGSHORE_REDIS_WAIT_REPLICAS: state changes wait for replicas
  }

  /** How finished jobs are kept, as every script that ends a job is told. */
  private readonly R: Retention;

  /**
   * Stores one pool's new jobs and queues them, in one step. With `idempotency`, a key already
   * taken returns the job it maps to instead and stores nothing.
   */
  async submit(pool: string, jobs: NewJob[], idempotency?: { tokenId: string; key: string; windowMs: number }, now = Date.now()): Promise<{ kind: 'ok' } | { kind: 'duplicate'; id: string }> {
    const k = this.keys.pool(pool);
    const header = {
      base: k.base,
      idem: idempotency ? { key: k.idempotency(idempotency.tokenId, idempotency.key), id: jobs[0]!.record.id, ttlMs: idempotency.windowMs } : null,
    };
    const res = (await runScript(this.redis, 'lsSubmit', [...addKeys(k), k.index, k.classes], [JSON.stringify(header), String(now), packBatch(jobs)])) as string[];
    return res[0] === 'duplicate' ? { kind: 'duplicate', id: String(res[1]) } : { kind: 'ok' };
  }

  /** The first queued job of the pool that fits, claimed for the agent under a new token. */
  /** Claims the first queued jobs of the pool that fit, each under `tokenBase:<n>`. */
  async claim(pool: string, s: ClaimSettings, req: ClaimRequest, tokenBase: string, now = Date.now()): Promise<ClaimResult> {
    const k = this.keys.pool(pool);
    const raw = (await runScript(this.redis, 'lsClaim', [...activeKeys(k), k.classes, k.reservation], [JSON.stringify(this.claimParams(k, s, req, tokenBase, now))])) as RawClaim;
    return toClaimResult(pool, tokenBase, raw);
  }

  private claimParams(k: PoolKeys, s: ClaimSettings, req: ClaimRequest, tokenBase: string, now: number) {
    const max = Math.max(1, Math.min(req.max, 64));
    return {
      base: k.base,
      agent: s.agentId,
      tokenBase,
      max,
      now,
      free: req.freeMilli,
      capacity: req.capacityMilli,
      laneRoom: req.laneRoom,
      executors: req.executors,
      reserveAfter: s.reserveAfterMs,
      resTtl: Math.max(s.lockMs, 2000),
      lockMs: s.lockMs,
      R: this.R,
    };
  }

  /**
   * Ends attempts of one pool (each fenced by its token): a job is `retrying` if its outcome's
   * class has retries left, else it ends. With `next`, claims the agent's next jobs in the same step.
   */
  async finish(
    pool: string,
    ends: AttemptEnd[],
    next?: { settings: ClaimSettings; req: ClaimRequest; tokenBase: string },
    now = Date.now(),
  ): Promise<{ results: FinishResult[]; next?: ClaimResult }> {
    const k = this.keys.pool(pool);
    const q = bullKeys(k);
    const payload = {
      base: k.base,
      now,
      R: this.R,
      ends: ends.map(({ claim, outcome: o, retry }) => ({
        id: claim.id,
        token: claim.token,
        state: o.state,
        exitCode: o.exitCode ?? null,
        failureClass: o.failureClass ?? null,
        message: o.message,
        attempt: JSON.stringify(o.attempt),
        budget: retry.budget,
        maxAttempts: retry.maxAttempts,
        delayMs: retry.delayMs,
      })),
      next: next ? this.claimParams(k, next.settings, next.req, next.tokenBase, now) : null,
    };
    const raw = (await runScript(this.redis, 'lsFinish', [...activeKeys(k), q.completed, q.metrics, k.classes, k.reservation], [JSON.stringify(payload)])) as [FinishResult[], RawClaim?];
    const results = raw[0] ?? [];
    return next && raw[1] ? { results, next: toClaimResult(pool, next.tokenBase, raw[1]) } : { results };
  }

  /** Gives a job back to the queue without it costing an attempt (the agent is going away); false when fenced off. */
  async handBack(claim: Pick<Claim, 'id' | 'pool' | 'token'>, attempt: StoredAttempt, now = Date.now()): Promise<boolean> {
    const k = this.keys.pool(claim.pool);
    const q = bullKeys(k);
    const keys = [q.active, q.wait, q.stalled, q.paused, q.meta, q.limiter, q.prioritized, q.marker, q.events];
    return (await runScript(this.redis, 'lsHandBack', keys, [JSON.stringify({ base: k.base, id: claim.id, token: claim.token, now, attempt: JSON.stringify(attempt) })])) === 1;
  }

  /** Appends output lines; returns -1 when fenced off (the agent no longer holds the job). */
  async appendLogs(claim: Pick<Claim, 'id' | 'pool' | 'token'>, capBytes: number, lines: { stream: string; text: string }[]): Promise<number> {
    const k = this.keys.pool(claim.pool);
    const args: string[] = [k.jobEvents(claim.id), claim.token, String(capBytes)];
    for (const l of lines) args.push(l.stream, l.text);
    return Number(await runScript(this.redis, 'lsAppendLogs', [k.record(claim.id), k.log(claim.id)], args));
  }

  /** Cancels a job: at once if no agent holds it, else flags it and tells its agent. */
  async cancel(id: string, message: string, now = Date.now()): Promise<CancelResult> {
    const k = this.keys.pool(poolOfJob(id));
    const res = String(await runScript(this.redis, 'lsCancel', [bullKeys(k).repeat, k.classes], [JSON.stringify({ base: k.base, id, now, message, R: this.R })]));
    if (res === 'missing') return { kind: 'missing' };
    const [kind, state] = res.split(':') as [string, JobStateName];
    if (kind === 'final') return { kind: 'final', state };
    if (kind === 'cancelled') return { kind: 'cancelled', from: state };
    return { kind: 'flagged', state };
  }

  /** Runs a finished job once more (RetryJob): 'ok', 'missing', or the unfinished state it is in. */
  async reopen(id: string, now = Date.now()): Promise<string> {
    const pool = poolOfJob(id);
    const k = this.keys.pool(pool);
    const raw = await this.redis.hget(k.record(id), 'spec');
    if (!raw) return 'missing';
    const spec = JSON.parse(raw) as JobSpec;
    const weight = spec.weightMilli;
    const payload = {
      base: k.base,
      id,
      now,
      order: queueOrder(spec.priority, now),
      cls: classOf(spec, weight),
      lostBudget: spec.retry?.budgets.lost ?? 0,
      maxAttempts: spec.maxAttempts,
      name: jobName(weight, spec.lane),
      bullPriority: bullPriority(spec.priority),
    };
    return String(await runScript(this.redis, 'lsReopen', [...addKeys(k), k.classes], [JSON.stringify(payload)]));
  }

  /**
   * Puts jobs whose claim lapsed back in the queue (or fails them when out of lost budget);
   * returns how many. With `adoptWindowMs`, a job whose run outlives its agent (see
   * {@link recordRun}) is first `orphaned` for that long, so its agent can come back and adopt it.
   */
  async sweep(pool: string, intervalMs: number, now = Date.now(), adoptWindowMs = 0): Promise<number> {
    const k = this.keys.pool(pool);
    const q = bullKeys(k);
    const keys = [q.stalled, q.wait, q.active, q.stalledCheck, q.meta, q.paused, q.marker, q.events, q.repeat];
    return Number(await runScript(this.redis, 'lsSweep', keys, [JSON.stringify({ base: k.base, now, intervalMs, adoptWindowMs, R: this.R })]));
  }

  /**
   * Records the run an attempt started (its executor's reference, JSON), fenced by the claim's
   * token; `reattachable` when a new agent process can follow the run again (a container, an
   * ECS task; not a subprocess). False when fenced off.
   */
  async recordRun(claim: Pick<Claim, 'id' | 'pool' | 'token'>, run: string, reattachable: boolean): Promise<boolean> {
    const k = this.keys.pool(claim.pool);
    return (await runScript(this.redis, 'lsRecordRun', [k.record(claim.id)], [claim.token, run, reattachable ? '1' : '0'])) === 1;
  }

  /** The unfinished attempts of a pool that belong to `agentId` (claimed, running or orphaned), with their runs. */
  async heldBy(pool: string, agentId: string): Promise<HeldRun[]> {
    const k = this.keys.pool(pool);
    const raw = (await runScript(this.redis, 'lsHeldBy', [bullKeys(k).active], [k.base, agentId])) as string[][];
    return raw.map(([id, state, attempt, run, reattach]) => ({
      id: String(id),
      pool,
      state: String(state) as HeldRun['state'],
      attempt: Number(attempt),
      ...(run ? { run: String(run) } : {}),
      reattachable: String(reattach) === '1',
    }));
  }

  /**
   * Which of these runs (found on an executor, e.g. containers labelled with their job, attempt
   * and agent) no longer run for their job: its record is gone, or shows another attempt, another
   * agent, or a state where no run is wanted (queued again, retrying, finished). An `orphaned`
   * attempt's run is still wanted: its agent may come back for it. One round trip.
   */
  async staleRuns(pool: string, runs: readonly { jobId: string; attempt: number; agentId: string }[]): Promise<boolean[]> {
    if (runs.length === 0) return [];
    const k = this.keys.pool(pool);
    const pipe = this.redis.pipeline();
    for (const r of runs) pipe.hmget(k.record(r.jobId), 'attempts', 'agent', 'state');
    const res = (await pipe.exec()) ?? [];
    return runs.map((r, i) => {
      const [err, fields] = res[i] ?? [null, null];
      if (err) throw err;
      const [attempts, agent, state] = (fields ?? []) as (string | null)[];
      const wanted = Number(attempts) === r.attempt && agent === r.agentId && (state === 'claimed' || state === 'running' || state === 'orphaned');
      return !wanted;
    });
  }

  /**
   * Takes over an unfinished attempt this agent id left behind (it started again): a new token
   * `token`, the claim renewed for `lockMs`, no attempt charged. Undefined when the job is not
   * this agent's to adopt any more. With `onlyAttempt`, only that attempt is taken over (a live
   * agent taking back the claim it lost on the run it still follows).
   */
  async adopt(pool: string, id: string, agentId: string, token: string, lockMs: number, now = Date.now(), onlyAttempt?: number): Promise<(Claim & { startedAt: number; logged: LoggedLines }) | undefined> {
    const k = this.keys.pool(pool);
    const q = bullKeys(k);
    const raw = (await runScript(this.redis, 'lsAdopt', [q.active, q.stalled], [JSON.stringify({ base: k.base, id, agent: agentId, token, lockMs, now, ...(onlyAttempt !== undefined ? { attempt: onlyAttempt } : {}) })])) as unknown[];
    if (raw.length === 0) return undefined;
    const [attempt, specJson, trace, opened, lines] = raw as [string, string, string, string, string];
    const startedAt = Number((JSON.parse(String(opened)) as { startedAt?: number }).startedAt ?? now);
    const [a, out, err] = String(lines).split(':').map(Number);
    const logged = a === Number(attempt) ? { stdout: out ?? 0, stderr: err ?? 0 } : { stdout: 0, stderr: 0 };
    return { id, pool, token, attempt: Number(attempt), specJson: String(specJson), trace: trace ? (JSON.parse(String(trace)) as TraceCarrier) : {}, startedAt, logged };
  }

  /** Renews claims; returns the ids whose lock could not be renewed (someone else may hold them now). */
  async extendLocks(pool: string, ids: string[], tokens: string[], lockMs: number): Promise<string[]> {
    const k = this.keys.pool(pool);
    return (await runScript(this.redis, 'lsExtendLocks', [bullKeys(k).stalled], [k.base, packer.pack(tokens), packer.pack(ids), lockMs])) as string[];
  }

  /** Deletes a pool's `count` oldest finished jobs with their logs; returns how many went. */
  async trimOldest(pool: string, count: number): Promise<number> {
    const k = this.keys.pool(pool);
    return Number(await runScript(this.redis, 'lsTrim', [k.finished, k.index], [k.base, count]));
  }

  /** When the pool's oldest finished job finished (epoch ms), if it keeps any. */
  async oldestFinished(pool: string): Promise<number | undefined> {
    const r = await this.redis.zrange(this.keys.pool(pool).finished, 0, 0, 'WITHSCORES');
    return r[1] !== undefined ? Number(r[1]) : undefined;
  }

  /** Whether a cancel was requested for a job (agents check this while they run it). */
  async isCancelRequested(id: string): Promise<boolean> {
    return (await this.redis.hget(this.keys.pool(poolOfJob(id)).record(id), 'cancel')) === '1';
  }

  /** The pool's reservation, if a heavy job holds one. */
  async reservation(pool: string): Promise<Reservation | undefined> {
    return parseReservation(await this.redis.get(this.keys.pool(pool).reservation));
  }

  async counts(pool: string): Promise<QueueCounts> {
    const q = bullKeys(this.keys.pool(pool));
    const [wait, prioritized, delayed, active] = (await this.redis.pipeline().llen(q.wait).zcard(q.prioritized).zcard(q.delayed).llen(q.active).exec()) ?? [];
    const n = (r: [Error | null, unknown] | undefined) => Number(r?.[1] ?? 0);
    return { queued: n(wait) + n(prioritized) + n(delayed), running: n(active) };
  }

  /** The pool's claimable jobs, their summed weight and when the longest-waiting one was queued (see readBacklog). */
  backlog(pool: string): Promise<QueueBacklog> {
    return readBacklog(this.redis, this.keys.pool(pool));
  }

  /**
   * Queued jobs that only some executors can run, by those executors (from the weight-class
   * index: `…@docker,subprocess`); jobs any agent can run are not listed.
   */
  async queuedByExecutors(pool: string): Promise<{ executors: string[]; queued: number }[]> {
    const k = this.keys.pool(pool);
    const classes = (await this.redis.smembers(k.classes)).filter((c) => c.includes('@'));
    if (classes.length === 0) return [];
    const counts = await Promise.all(classes.map((c) => this.redis.zcard(k.weightClass(c))));
    const by = new Map<string, number>();
    classes.forEach((c, i) => {
      const execs = c.slice(c.indexOf('@') + 1);
      by.set(execs, (by.get(execs) ?? 0) + counts[i]!);
    });
    return [...by].filter(([, n]) => n > 0).map(([execs, queued]) => ({ executors: execs.split(','), queued }));
  }

  /** Ids of the jobs waiting in a pool's queue (for DeletePool --force). */
  async queuedIds(pool: string): Promise<string[]> {
    const q = bullKeys(this.keys.pool(pool));
    const [wait, prioritized, delayed] = await Promise.all([this.redis.lrange(q.wait, 0, -1), this.redis.zrange(q.prioritized, 0, -1), this.redis.zrange(q.delayed, 0, -1)]);
    return [...wait.filter((id) => !id.startsWith('0:')), ...prioritized, ...delayed];
  }
}

/** The n-th job a claim took holds the token `<tokenBase>:<n>` (see claim-many.lua). */
function toClaimResult(pool: string, tokenBase: string, raw: RawClaim): ClaimResult {
  const n = Number(raw[0]);
  const jobs: Claim[] = [];
  for (let i = 0; i < n; i++) {
    const [id, attempt, specJson, trace] = raw.slice(1 + i * 4, 5 + i * 4) as [string, number, string, string];
    jobs.push({ id: String(id), pool, token: `${tokenBase}:${i}`, attempt: Number(attempt), specJson: String(specJson), trace: trace ? (JSON.parse(String(trace)) as TraceCarrier) : {} });
  }
  const kind = String(raw[1 + n * 4]);
  const value = raw[2 + n * 4];
  const tail: ClaimTail = kind === 'reserved' ? { kind: 'reserved', jobId: String(value) } : Number(value) >= 0 ? { kind: 'none', dueInMs: Number(value) } : { kind: 'none' };
  return { jobs, tail };
}
