import { DEFAULT_POOL_ID, executorsOf, type JobSpec } from '@longshore/domain';
import type { AttemptOutcome, ClaimedJob, ClaimOutcome, ClaimRequest, ClaimTail, FinishResult, HeldJob, HeldRun, JobSource, LogLine, RetryChoice, RunRecord } from '@longshore/queue';
import type { StoredAttempt } from '@longshore/store';
import type { SourceHooks } from '../agent.js';

/** A job to queue in a {@link FakeJobSource}: any spec fields, plus an id of its own. */
export type FakeJobInit = Partial<JobSpec> & { id?: string };

/** Where a fake job is. `held` is this agent's claim; `elsewhere` another agent's (see `steal`). */
export type FakeJobState = 'queued' | 'held' | 'retrying' | 'elsewhere' | 'lapsed' | 'succeeded' | 'failed' | 'cancelled';

/** One attempt end the source was given, and what it made of it. */
export interface FinishedAttempt {
  id: string;
  attempt: number;
  outcome: AttemptOutcome;
  retry: RetryChoice;
  result: FinishResult;
}

interface FakeJob {
  id: string;
  spec: JobSpec;
  state: FakeJobState;
  /** Queue order within a priority: lower first (hand-backs go to the front). */
  order: number;
  /** When it last entered the queue (reservations age from here). */
  queuedAt: number;
  dueAt: number;
  attempts: number;
  handedBack: number;
  used: Partial<Record<string, number>>;
  token?: string;
  /** When the current attempt started, and its run as recorded (runs that outlive their agent). */
  startedAt?: number;
  run?: string;
  cancel: boolean;
  /** Set for a job whose stored spec the agent cannot read (a newer schema, say). */
  unreadable?: string;
}

/** A spec with every required field set; `weightMilli` 250 unless given. */
export function fakeSpec(init: Partial<JobSpec> = {}): JobSpec {
  return { pool: DEFAULT_POOL_ID, allowedExecutors: [], command: ['true'], env: {}, weightMilli: 250, timeoutMs: 0, maxAttempts: 0, priority: 0, labels: {}, ...init };
}

export interface FakeJobSourceOptions {
  pool?: string;
  agentId?: string;
  /** A heavy job that waited this long ahead of the first one that fits gets the reservation (default: never). */
  reserveAfterMs?: number;
}

/**
 * An in-memory {@link JobSource} for one agent, honouring its contract: a claim admits, in
 * queue order (priority, then arrival), only jobs that fit the requested free capacity and lane
 * room, at most `max`; each claim opens an attempt under a fencing token, and writes with a stale
 * token are fenced; a failed attempt is retried after its backoff while its class's budget and
 * `maxAttempts` allow (as the finish script decides); a hand-back returns the job to the front
 * without costing an attempt; a heavy job that waited `reserveAfterMs` gets this agent's
 * reservation. Time is `Date.now()`, so fake timers drive it.
 */
export class FakeJobSource implements JobSource {
  readonly pool: string;
  private readonly agentId: string;
  private readonly reserveAfterMs: number;
  private readonly jobs = new Map<string, FakeJob>();
  private readonly logLines = new Map<string, LogLine[]>();
  private hooks: SourceHooks | undefined;
  private seq = 0;
  private front = 0;
  private tokens = 0;
  private reservedFor: string | undefined;
  private failures: { method: keyof JobSource; error: Error }[] = [];
  private holds: { method: keyof JobSource; released: Promise<void> }[] = [];
  /** Every attempt end recorded, in order. */
  readonly finished: FinishedAttempt[] = [];
  /** Every hand-back asked for, and whether it was accepted (false: fenced). */
  readonly handBacks: { id: string; attempt: StoredAttempt; accepted: boolean }[] = [];
  /** Ids whose claim the agent stopped renewing. */
  readonly abandoned: string[] = [];
  /** Every claim (also those made by a finish), with the jobs it gave and its tail. */
  readonly claims: { req: ClaimRequest; ids: string[]; tail: ClaimTail }[] = [];
  /** The most weight this agent held at once (claimed and not yet ended, handed back or abandoned). */
  peakHeldMilli = 0;
  closed = false;

  constructor(opts: FakeJobSourceOptions = {}) {
    this.pool = opts.pool ?? DEFAULT_POOL_ID;
    this.agentId = opts.agentId ?? 'agent-1';
    this.reserveAfterMs = opts.reserveAfterMs ?? Number.POSITIVE_INFINITY;
  }

  /** Use as the agent's `openSource`: keeps its hooks (see `loseLock`) and returns this source. */
  readonly open = (hooks: SourceHooks): JobSource => {
    this.hooks = hooks;
    return this;
  };

  /** Queues a job; returns its id. */
  add(init: FakeJobInit = {}): string {
    const { id = `job-${this.seq + 1}`, ...spec } = init;
    const now = Date.now();
    this.jobs.set(id, { id, spec: fakeSpec({ pool: this.pool, ...spec }), state: 'queued', order: ++this.seq, queuedAt: now, dueAt: now, attempts: 0, handedBack: 0, used: {}, cancel: false });
    return id;
  }

  /** Queues a job whose stored spec the agent cannot read: its claim says why, instead of giving a spec. */
  addUnreadable(reason: string, init: FakeJobInit = {}): string {
    const id = this.add(init);
    this.jobs.get(id)!.unreadable = reason;
    return id;
  }

  state(id: string): FakeJobState | undefined {
    return this.jobs.get(id)?.state;
  }
  /** Attempts opened so far (hand-backs included, as BullMQ counts them). */
  attempts(id: string): number {
    return this.jobs.get(id)?.attempts ?? 0;
  }
  logs(id: string): LogLine[] {
    return this.logLines.get(id) ?? [];
  }
  /** The job this agent holds the reservation for. */
  get reservation(): string | undefined {
    return this.reservedFor;
  }
  /** Weight of the jobs this agent holds now. */
  get heldMilli(): number {
    let sum = 0;
    for (const j of this.jobs.values()) if (j.state === 'held') sum += j.spec.weightMilli;
    return sum;
  }

  /** A user cancels the job: at once if queued, else flagged for its agent (see `isCancelRequested`). */
  requestCancel(id: string): void {
    const j = this.mustGet(id);
    if (j.state === 'queued' || j.state === 'retrying') j.state = 'cancelled';
    else j.cancel = true;
  }
  /** Another agent took the job (this agent's claim lapsed and was swept): its writes are fenced from now on. */
  steal(id: string): void {
    const j = this.mustGet(id);
    j.state = 'elsewhere';
    j.token = `elsewhere:${++this.tokens}`;
  }
  /** The source could not renew the claim on `id` (the agent was paused or cut off): it tells the agent, which must stop the run. */
  loseLock(id: string): void {
    if (!this.hooks) throw new Error('the source was not opened by an agent (pass `source.open` as openSource)');
    this.hooks.onLockLost(id);
  }
  /** The next call of `method` rejects with `error` (Redis unreachable, say). */
  failNext(method: keyof JobSource, error = new Error(`${method} failed`)): void {
    this.failures.push({ method, error });
  }

  /** The next call of `method` waits, as a slow write would, until the returned function is called. */
  holdNext(method: keyof JobSource): () => void {
    let release!: () => void;
    this.holds.push({ method, released: new Promise<void>((r) => (release = r)) });
    return release;
  }

  async claim(req: ClaimRequest): Promise<ClaimOutcome> {
    await this.waitIfHeld('claim');
    this.maybeFail('claim');
    return this.claimNow(req);
  }

  async finish(ends: RunRecord[], next?: ClaimRequest): Promise<{ results: FinishResult[]; next?: ClaimOutcome }> {
    await this.waitIfHeld('finish');
    this.maybeFail('finish');
    const results = ends.map((e) => this.end(e));
    return next ? { results, next: this.claimNow(next) } : { results };
  }

  async handBack(job: HeldJob, attempt: StoredAttempt): Promise<boolean> {
    this.maybeFail('handBack');
    const j = this.jobs.get(job.id);
    const accepted = j !== undefined && j.token === job.token && j.state === 'held';
    this.handBacks.push({ id: job.id, attempt, accepted });
    if (j && accepted) {
      j.handedBack++;
      this.requeue(j, Date.now(), --this.front);
    }
    return accepted;
  }

  async appendLogs(job: HeldJob, _capBytes: number, lines: LogLine[]): Promise<number> {
    this.maybeFail('appendLogs');
    const j = this.jobs.get(job.id);
    if (!j || j.token !== job.token) return -1;
    const all = this.logLines.get(job.id) ?? [];
    all.push(...lines);
    this.logLines.set(job.id, all);
    return all.length;
  }

  async recordRun(job: HeldJob, run: object): Promise<boolean> {
    this.maybeFail('recordRun');
    const j = this.jobs.get(job.id);
    if (!j || j.token !== job.token || j.state !== 'held') return false;
    j.run = JSON.stringify(run);
    return true;
  }

  /** Jobs held under this agent id (by any agent instance of it: a restart is a new agent on the same source). */
  async heldBy(): Promise<HeldRun[]> {
    this.maybeFail('heldBy');
    return [...this.jobs.values()]
      .filter((j) => j.state === 'held')
      .map((j) => ({ id: j.id, pool: j.spec.pool, state: 'running' as const, attempt: j.attempts, reattachable: j.run !== undefined, ...(j.run ? { run: j.run } : {}) }));
  }

  async adopt(id: string, attempt?: number): Promise<{ claimed: ClaimedJob; startedAt: number; logged: { stdout: number; stderr: number } } | undefined> {
    await this.waitIfHeld('adopt');
    this.maybeFail('adopt');
    const j = this.jobs.get(id);
    if (j?.state !== 'held' || (attempt !== undefined && j.attempts !== attempt)) return undefined;
    j.token = `${this.agentId}:${++this.tokens}`;
    const job = { id: j.id, pool: j.spec.pool, token: j.token, attempt: j.attempts, trace: {}, spec: j.spec };
    const lines = this.logs(id);
    const logged = { stdout: lines.filter((l) => l.stream === 'stdout').length, stderr: lines.filter((l) => l.stream === 'stderr').length };
    return { claimed: { kind: 'job', job }, startedAt: j.startedAt ?? Date.now(), logged };
  }

  async staleRuns(runs: readonly { jobId: string; attempt: number; agentId: string }[]): Promise<boolean[]> {
    this.maybeFail('staleRuns');
    // This fake serves one agent: another agent's run is wanted only while the job is 'elsewhere'.
    return runs.map((r) => {
      const j = this.jobs.get(r.jobId);
      if (!j || j.attempts !== r.attempt) return true;
      return r.agentId === this.agentId ? j.state !== 'held' : j.state !== 'elsewhere';
    });
  }

  abandon(id: string): void {
    this.abandoned.push(id);
    const j = this.jobs.get(id);
    if (j?.state === 'held') j.state = 'lapsed';
  }

  async isCancelRequested(id: string): Promise<boolean> {
    this.maybeFail('isCancelRequested');
    return this.jobs.get(id)?.cancel ?? false;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async waitIfHeld(method: keyof JobSource): Promise<void> {
    const i = this.holds.findIndex((h) => h.method === method);
    if (i >= 0) await this.holds.splice(i, 1)[0]!.released;
  }

  private maybeFail(method: keyof JobSource): void {
    const i = this.failures.findIndex((f) => f.method === method);
    if (i >= 0) throw this.failures.splice(i, 1)[0]!.error;
  }

  private mustGet(id: string): FakeJob {
    const j = this.jobs.get(id);
    if (!j) throw new Error(`no job ${id} in the fake source`);
    return j;
  }

  private requeue(j: FakeJob, dueAt: number, order = ++this.seq): void {
    j.state = dueAt > Date.now() ? 'retrying' : 'queued';
    j.token = undefined;
    j.order = order;
    j.queuedAt = dueAt;
    j.dueAt = dueAt;
  }

  /** Ends one attempt as the finish script does: retry while the class's budget and maxAttempts allow. */
  private end(e: RunRecord): FinishResult {
    const j = this.jobs.get(e.job.id);
    const attempt = j?.attempts ?? 0;
    let result: FinishResult = 'fenced';
    if (j && j.token === e.job.token && j.state !== 'elsewhere') {
      result = 'ended';
      const cls = e.outcome.failureClass;
      if (e.outcome.state === 'failed' && cls) {
        const used = j.used[cls] ?? 0;
        const counted = j.attempts - j.handedBack;
        if (used < e.retry.budget && (e.retry.maxAttempts === 0 || counted < e.retry.maxAttempts)) {
          j.used[cls] = used + 1;
          this.requeue(j, Date.now() + e.retry.delayMs);
          result = 'retry';
        }
      }
      if (result === 'ended') {
        j.state = e.outcome.state;
        j.token = undefined;
      }
    }
    this.finished.push({ id: e.job.id, attempt, outcome: e.outcome, retry: e.retry, result });
    return result;
  }

  private claimNow(req: ClaimRequest): ClaimOutcome {
    const now = Date.now();
    const free = { milli: req.freeMilli, lanes: { ...req.laneRoom } };
    const out: ClaimedJob[] = [];
    let tail: ClaimTail = { kind: 'none' };
    while (out.length < req.max && (out.length === 0 || free.milli > 0)) {
      const r = this.pick(req, free, now);
      if (r.kind !== 'job') {
        tail = r;
        break;
      }
      out.push(this.take(r.job));
      free.milli -= r.job.spec.weightMilli;
      const lane = r.job.spec.lane;
      if (lane && free.lanes[lane] !== undefined) free.lanes[lane]--;
    }
    this.peakHeldMilli = Math.max(this.peakHeldMilli, this.heldMilli);
    this.claims.push({ req, ids: out.map((c) => c.job.id), tail });
    return { jobs: out, tail, at: now };
  }

  /** The next job to take, as the claim script picks it (see queue's pick.lua). */
  private pick(req: ClaimRequest, free: { milli: number; lanes: Record<string, number> }, now: number): { kind: 'job'; job: FakeJob } | ClaimTail {
    for (const j of this.jobs.values()) if (j.state === 'retrying' && j.dueAt <= now) j.state = 'queued';
    const laneOpen = (j: FakeJob) => !j.spec.lane || free.lanes[j.spec.lane] === undefined || free.lanes[j.spec.lane]! > 0;
    const fits = (j: FakeJob) => j.spec.weightMilli <= free.milli && laneOpen(j);
    if (this.reservedFor) {
      const r = this.jobs.get(this.reservedFor);
      if (r?.state !== 'queued') this.reservedFor = undefined;
      else if (!fits(r)) return { kind: 'reserved', jobId: r.id };
      else {
        this.reservedFor = undefined;
        return { kind: 'job', job: r };
      }
    }
    // Jobs only executors this agent lacks can run are not for it.
    const runnable = (j: FakeJob) => executorsOf(j.spec)?.some((e) => req.executors.includes(e)) ?? true;
    const queue = [...this.jobs.values()].filter((j) => j.state === 'queued' && runnable(j)).sort((a, b) => b.spec.priority - a.spec.priority || a.order - b.order);
    const fit = queue.find(fits);
    const wait = queue.find((j) => !fits(j) && j.spec.weightMilli <= req.capacityMilli && laneOpen(j));
    if (wait && (!fit || queue.indexOf(wait) < queue.indexOf(fit)) && now - wait.queuedAt >= this.reserveAfterMs) {
      this.reservedFor = wait.id;
      return { kind: 'reserved', jobId: wait.id };
    }
    if (fit) return { kind: 'job', job: fit };
    const due = [...this.jobs.values()].filter((j) => j.state === 'retrying').map((j) => j.dueAt - now);
    return due.length ? { kind: 'none', dueInMs: Math.max(0, Math.min(...due)) } : { kind: 'none' };
  }

  private take(j: FakeJob): ClaimedJob {
    j.attempts++;
    j.state = 'held';
    j.startedAt = Date.now();
    j.run = undefined;
    j.token = `${this.agentId}:${++this.tokens}`;
    const base = { id: j.id, pool: j.spec.pool, token: j.token, attempt: j.attempts, trace: {} };
    return j.unreadable ? { kind: 'unreadable', job: base, reason: j.unreadable } : { kind: 'job', job: { ...base, spec: j.spec } };
  }
}
