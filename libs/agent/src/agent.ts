import { hostname } from 'node:os';
import { SpanStatusCode, type Context } from '@opentelemetry/api';
import type { AgentConfig } from '@longshore/config';
import type { AgentExecutorName, AgentIsolationInfo } from '@longshore/domain';
import type { ClaimOutcome, ClaimRequest, HeldJob, HeldRun, JobSource, RunRecord } from '@longshore/queue';
import type { RunRef } from '@longshore/executors';
import { wakeable } from '@longshore/store';
import { longshoreMeter, type Logger } from '@longshore/telemetry';
import { createAgentMetrics, type AgentMetrics } from './agent-metrics.js';
import { agentStateEnum, executorEnum } from '@longshore/rpc';
import type { AgentEvents } from './agent-events.js';
import type { ExecutorSet } from './executors.js';
import { ExecutorHealth, PROBE_TIMEOUT_MS } from './executor-health.js';
import { Heartbeat } from './heartbeat.js';
import { CapacityLedger } from './ledger.js';
import { JobRun, type AdoptedRun, type RunEnd } from './job-run.js';
import { startFinishSpan } from './tracing.js';
import { ownedRunKey, stopOwnedRuns, stopStaleRuns } from './owned-runs.js';
import { toAttemptOutcome } from './outcome.js';
import type { RegistryClient } from './registry-client.js';
import type { SecretResolver } from '@longshore/secrets';

/** A run's end waiting to be recorded, with the job as held (its attempt, should its claim have to be taken back). */
type HeldEnd = RunRecord & { job: HeldJob };

/** Version advertised to the registry. */
export const AGENT_VERSION = '0.1.0';

/** `starting` → `active` (claiming) → `draining` (finishing what runs) → `stopped`. */
export type AgentLifecycle = 'starting' | 'active' | 'draining' | 'stopped';

/** A running agent. */
export interface AgentHandle {
  readonly id: string;
  readonly pool: string;
  readonly state: AgentLifecycle;
  /** Stops claiming, lets running jobs finish within the shutdown grace, hands back the rest, deregisters. */
  close(): Promise<void>;
  /** Resolves once the agent has stopped, whether closed or drained through the registry. */
  readonly stopped: Promise<void>;
}

/** The settings the agent itself acts on (the rest of {@link AgentConfig} is for the wiring). */
export type AgentSettings = Pick<
  AgentConfig,
  'agentId' | 'capacityMilli' | 'lanes' | 'defaultExecutor' | 'defaultTimeoutMs' | 'killGraceMs' | 'startTimeoutMs' | 'logMaxBytes' | 'jobDir' | 'shutdownGraceMs' | 'claimPollMs' | 'leaseMs'
>;

/** What a job source tells its agent about claims it holds. */
export interface SourceHooks {
  /** The claim on job `id` could not be renewed (or lapsed): someone else may run it now; stop the run. */
  onLockLost(id: string): void;
  onError(err: unknown): void;
}

/**
 * Everything an agent works with, built by the caller: {@link startAgent} wires the real ones
 * (Redis, gRPC); tests pass fakes. The agent closes the source, events and registry client it
 * was given, in order, when it stops; `onStopped` releases whatever else the caller opened.
 */
export interface AgentParts {
  settings: AgentSettings;
  pool: string;
  logger: Logger;
  /** Opens the job source once the agent is registered; the hooks stop runs whose claim is lost. */
  openSource(hooks: SourceHooks): JobSource;
  registry: RegistryClient;
  events: AgentEvents;
  executors: ExecutorSet;
  /** Resolves `${NAME}` references in jobs' env (LONGSHORE_SECRET_*); absent = no providers. */
  secrets?: SecretResolver;
  /** How jobs are isolated on this host, as advertised. */
  isolation: AgentIsolationInfo;
  /** What its docker executor allows beyond the secure defaults (LONGSHORE_DOCKER_ALLOW, canonical), as advertised; absent = nothing. */
  dockerAllow?: string;
  /** How long to keep trying to register at start. */
  registerTimeoutMs: number;
  /**
   * The longest the executors' probes may hold up the start and each heartbeat; default half
   * the heartbeat interval, at most {@link PROBE_TIMEOUT_MS} (2 s).
   */
  probeTimeoutMs?: number;
  /** How often running jobs are checked for cancel requests (a safety net under `events`); default 2 s. */
  cancelCheckMs?: number;
  /**
   * How often the runs other agents of the pool left on this agent's executors (containers on the
   * same engine) are checked, and stopped once their jobs no longer want them; default 30 s.
   */
  staleRunCheckMs?: number;
  onStopped?(): Promise<void>;
}

/**
 * Starts an agent from its parts: registers (required at start), listens for wake-ups, opens
 * the job source and claims what its capacity and lanes admit. Rejects if it cannot register.
 */
export async function createAgent(parts: AgentParts): Promise<AgentHandle> {
  const agent = new Agent(parts);
  await agent.start();
  return agent;
}

class Agent implements AgentHandle {
  state: AgentLifecycle = 'starting';
  readonly pool: string;
  private readonly config: AgentSettings;
  private readonly logger: Logger;
  private readonly ledger: CapacityLedger;
  private readonly executors: ExecutorSet;
  private readonly secrets: SecretResolver | undefined;
  private readonly runs = new Map<string, JobRun>();
  /** Woken when a run ends (room freed) or the dispatcher announces new work in the pool. */
  private readonly wake = wakeable();
  private readonly heartbeat: Heartbeat;
  /** Which executors claim jobs now (see {@link ExecutorHealth}). */
  private readonly health: ExecutorHealth;
  /** Counters, histograms and gauges of this agent (no-ops without a meter provider). */
  private readonly metrics: AgentMetrics;
  private source!: JobSource;
  private loop?: Promise<void>;
  /** Writes to the queue (claims, and ends with the next claim) take turns, so two never admit against the same free capacity. */
  private turn: Promise<unknown> = Promise.resolve();
  /** The job this agent holds the pool's reservation for, while it drains for it. */
  private reservedFor: string | undefined;
  /** When the earliest retry in the pool is due, as the last claim saw it. */
  private dueInMs: number | undefined;
  /** Runs that ended and wait to be recorded: recorded together, in one write with the next claim. */
  private ends: HeldEnd[] = [];
  /** Ends recorded again under a claim taken back (see {@link retake}): once each. */
  private readonly retaken = new WeakSet<RunRecord>();
  /** A write of {@link ends} is due on the next turn of the event loop (see {@link writeEndsSoon}). */
  private endsWriteQueued = false;
  /** The `attempt` span context of each ended run waiting in {@link ends}: its `finish` span goes under it. */
  private readonly endContexts = new Map<RunRecord, Context>();
  private closing?: Promise<void>;
  private cancelCheck?: NodeJS.Timeout;
  private staleRunCheck?: NodeJS.Timeout;
  private checkingStaleRuns = false;
  readonly stopped: Promise<void>;
  private resolveStopped!: () => void;

  constructor(private readonly parts: AgentParts) {
    this.config = parts.settings;
    this.pool = parts.pool;
    this.logger = parts.logger;
    this.ledger = new CapacityLedger(this.config.capacityMilli, this.config.lanes);
    this.executors = parts.executors;
    this.secrets = parts.secrets;
    // A change of health changes what a claim asks for: claim again at once.
    this.health = new ExecutorHealth(parts.executors, this.logger, () => this.wake.wake());
    this.heartbeat = new Heartbeat(
      parts.registry,
      () => this.snapshot(),
      this.logger,
      () => {
        if (this.state !== 'active') return;
        this.logger.info('the registry asked this agent to drain');
        void this.close();
      },
      (timeoutMs) => this.health.refresh(parts.probeTimeoutMs ?? timeoutMs),
    );
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.metrics = createAgentMetrics(longshoreMeter(), { pool: this.pool, agent: this.config.agentId }, () => ({
      capacityMilli: this.config.capacityMilli,
      weightInUseMilli: this.ledger.usedMilli,
    }));
  }

  get id(): string {
    return this.config.agentId;
  }

  async start(): Promise<void> {
    const { parts } = this;
    await this.health.refresh(parts.probeTimeoutMs ?? PROBE_TIMEOUT_MS);
    const { heartbeatIntervalMs } = await this.heartbeat.register(parts.registerTimeoutMs);
    await parts.events.listen({ cancel: (id) => this.runs.get(id)?.cancel('cancelled by request'), added: () => this.wake.wake() });
    this.source = parts.openSource({
      // Taken back if the job is still this agent's (see JobRun.claimLost), else the run is stopped.
      onLockLost: (id) => void this.runs.get(id)?.claimLost('its claim on the job expired (was this agent paused or cut off?)'),
      onError: (err) => this.logger.warn({ err: (err as Error).message }, 'queue error'),
    });
    // Runs an earlier life of this agent id left behind: those still alive that outlive their
    // agent (containers) are adopted; every other leftover is stopped (its job runs elsewhere).
    const adopted = await this.adoptRuns();
    await stopOwnedRuns(this.executors, this.id, this.logger, adopted).catch((err: unknown) =>
      this.logger.warn({ err: (err as Error).message }, 'could not stop the runs an earlier life of this agent left behind'),
    );
    this.heartbeat.start(heartbeatIntervalMs);
    // Safety net under pub/sub, which drops messages across reconnects.
    this.cancelCheck = setInterval(() => void this.checkCancels(), parts.cancelCheckMs ?? 2000).unref();
    this.staleRunCheck = setInterval(() => void this.checkStaleRuns(), parts.staleRunCheckMs ?? 30_000).unref();
    this.state = 'active';
    this.logger.info(
      { capacityMilli: this.config.capacityMilli, lanes: this.config.lanes, executors: this.health.report(), registry: parts.registry.address, isolation: parts.isolation },
      'Starting longshore worker agent',
    );
    this.loop = this.claimLoop();
  }

  private snapshot() {
    return {
      id: this.id,
      pool: this.pool,
      host: hostname(),
      version: AGENT_VERSION,
      capacityMilli: this.config.capacityMilli,
      weightInUseMilli: this.ledger.usedMilli,
      runningJobIds: this.ledger.jobIds,
      laneUsage: this.ledger.laneUsage(),
      laneLimits: this.config.lanes,
      // What it can run now; every configured executor's state is in executorHealth.
      executors: this.health.healthy().map(executorEnum.toProto),
      executorHealth: this.health.report().map((h) => ({ executor: executorEnum.toProto(h.executor), healthy: h.healthy, reason: h.reason })),
      state: agentStateEnum.toProto(this.state === 'active' || this.state === 'starting' ? 'active' : 'draining'),
      isolation: this.parts.isolation,
      dockerAllow: this.parts.dockerAllow ?? '',
    };
  }

  /** Runs `fn` in turn with every other claim and finish of this agent. */
  private inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.turn.then(fn);
    this.turn = p.catch(() => undefined);
    return p;
  }

  /** Most jobs one claim takes. */
  private static readonly CLAIM_MAX = 64;

  private request(): ClaimRequest {
    return { freeMilli: this.ledger.freeMilli, capacityMilli: this.ledger.capacityMilli, laneRoom: this.ledger.laneRoom(), max: Agent.CLAIM_MAX, executors: this.health.healthy() };
  }

  /**
   * The claim loop: asks the queue for the first jobs that fit what is free (a claim never hands
   * out one that does not), starts them, and asks again; when nothing fits it sleeps until a run
   * ends, new work is announced, a retry is due, or the poll interval passes. Its claims and the
   * records of runs that ended go through one write at a time (see {@link write}).
   */
  private async claimLoop(): Promise<void> {
    while (this.state === 'active') {
      if (this.ledger.freeMilli <= 0) {
        await this.wake.wait(this.config.claimPollMs);
        continue;
      }
      let got: boolean;
      try {
        got = await this.write('claim');
      } catch (err) {
        if (this.state !== 'active') break;
        this.logger.warn({ err: (err as Error).message }, 'claim failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (!got) await this.wake.wait(this.dueInMs !== undefined ? Math.min(this.config.claimPollMs, this.dueInMs + 5) : this.config.claimPollMs);
    }
  }

  /**
   * One write to the queue, in turn with every other: records every run that ended since the
   * last write and, when `why` is `claim` (the claim loop) or a run ended while this agent may
   * claim, claims the next jobs in the same write. A claim never leaves out an end: the room a
   * run freed is claimed only in the write that records its end, so the queue never sees this
   * agent hold more than its capacity (were it killed between two writes, its held jobs must
   * still fit it). Runs ending while a write is in flight wait for the next one: a busy agent
   * makes one round trip per batch, not per job. True when it made progress (ended or started
   * a job). An end that cannot be recorded is abandoned (its claim lapses, the sweep re-queues
   * it as a lost attempt); the error is rethrown.
   */
  private write(why: 'claim' | 'ended'): Promise<boolean> {
    return this.inTurn(async () => {
      const ends = this.ends.splice(0);
      const claims = this.state === 'active' && this.ledger.freeMilli > 0 && (why === 'claim' || !this.reservedFor);
      const next = claims ? this.request() : undefined;
      if (ends.length === 0) return next ? this.take(await this.source.claim(next)) : false;
      let res: Awaited<ReturnType<JobSource['finish']>>;
      const contexts = ends.map((e) => this.endContexts.get(e));
      for (const e of ends) this.endContexts.delete(e);
      const spans = ends.map((e, i) => startFinishSpan(contexts[i], e.job));
      try {
        res = await this.source.finish(ends, next);
        res.results.forEach((r, i) => spans[i]?.setAttribute('longshore.recorded', r !== 'fenced'));
      } catch (err) {
        for (const s of spans) s?.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        for (const e of ends) this.source.abandon(e.job.id);
        this.logger.error({ err: (err as Error).message, jobs: ends.map((e) => e.job.id) }, 'could not record how jobs ended; their claims are left to expire');
        throw err;
      } finally {
        for (const s of spans) s?.end();
      }
      res.results.forEach((r, i) => {
        if (r === 'fenced' && !this.retaken.has(ends[i]!)) {
          void this.retake(ends[i]!, contexts[i]);
        } else if (r === 'fenced') {
          this.metrics.lostClaim();
          this.logger.warn({ job: ends[i]!.job.id }, "the job was no longer this agent's when its run ended; its result was discarded");
        } else {
          this.metrics.finished(ends[i]!.outcome);
        }
      });
      if (res.next) await this.take(res.next);
      return true;
    });
  }

  /**
   * Acts on what a claim gave; true when it made progress (started or ended a job: claim again
   * at once). Jobs it had to hand back do not count, so a source that hands out what does not fit
   * cannot spin the loop.
   */
  private async take(out: ClaimOutcome): Promise<boolean> {
    const { tail } = out;
    // One claim may both fulfil this agent's reservation and take the next one: log both.
    const reserved = tail.kind === 'reserved' ? tail.jobId : undefined;
    // `claimAt`: the claim that took or ended it (the log line comes a round trip later).
    if (this.reservedFor && this.reservedFor !== reserved) {
      const fulfilled = out.jobs.some((j) => j.job.id === this.reservedFor);
      this.logger.info({ reservedJob: this.reservedFor, fulfilled, claimAt: out.at }, 'reservation ended');
      this.reservedFor = undefined;
    }
    if (reserved && this.reservedFor !== reserved) {
      this.reservedFor = reserved;
      this.logger.info({ reservedJob: reserved, freeMilli: this.ledger.freeMilli, claimAt: out.at }, 'reservation taken: admitting nothing else until the reserved job fits');
    }
    this.dueInMs = tail.kind === 'none' ? tail.dueInMs : undefined;
    let progress = false;
    for (const c of out.jobs) {
      if (c.kind === 'unreadable') {
        this.logger.error({ job: c.job.id, reason: c.reason }, 'cannot run this job');
        const attempt = { agentId: this.id, executor: this.config.defaultExecutor, startedAt: Date.now() };
        await this.source.finish([{ job: c.job, outcome: toAttemptOutcome({ kind: 'start_failed', message: `cannot run it: ${c.reason}` }, attempt, Date.now()), retry: { budget: 0, maxAttempts: 0, delayMs: 0 } }]);
        progress = true;
      } else if (this.state !== 'active') {
        const now = Date.now();
        const attempt = { agentId: this.id, executor: this.config.defaultExecutor, startedAt: now, finishedAt: now, handedBack: true, message: 'handed back: the agent is shutting down' };
        await this.source.handBack(c.job, attempt).catch(() => undefined);
      } else {
        progress = this.admit(c.job) || progress;
      }
    }
    return progress;
  }

  /**
   * Takes over the runs of this agent id's unfinished attempts that outlive their agent and are
   * still there (re-attached by the job run): new fences, no attempt charged. Returns them as
   * {@link ownedRunKey}s. Subprocess runs cannot be followed again: their claims lapse.
   */
  private async adoptRuns(): Promise<Set<string>> {
    const adopted = new Set<string>();
    let held: HeldRun[];
    try {
      held = await this.source.heldBy();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not list the jobs an earlier life of this agent held; none adopted');
      return adopted;
    }
    for (const h of held) {
      if (!h.reattachable || !h.run) continue;
      const ref = JSON.parse(h.run) as RunRef;
      const executor = ref.kind as AgentExecutorName;
      if (!this.executors[executor]) continue;
      const got = await this.source.adopt(h.id).catch(() => undefined);
      if (got?.claimed.kind !== 'job') continue;
      const job = got.claimed.job;
      const why = this.ledger.refusal(job.spec.weightMilli, job.spec.lane);
      if (why) {
        // It no longer fits this agent (its capacity changed): its claim lapses, its run is stopped.
        this.source.abandon(job.id);
        this.logger.warn({ job: job.id, why }, 'could not adopt a run an earlier life of this agent left: it does not fit');
        continue;
      }
      this.startRun(job, { executor, ref, startedAt: got.startedAt, logged: got.logged });
      adopted.add(ownedRunKey(h.id, h.attempt));
      this.logger.info({ job: job.id, attempt: h.attempt, run: ref }, 'adopted a run an earlier life of this agent left running');
    }
    return adopted;
  }

  /** Starts a claimed job (it fits: the claim checked against the same ledger). */
  private admit(job: HeldJob): boolean {
    const { weightMilli, lane } = job.spec;
    const why = this.ledger.refusal(weightMilli, lane);
    if (why) {
      // Only if the record and the index disagree: hand it back rather than break capacity.
      this.logger.error({ job: job.id, why }, 'claimed a job that does not fit; handing it back');
      const now = Date.now();
      void this.source.handBack(job, { agentId: this.id, executor: this.config.defaultExecutor, startedAt: now, finishedAt: now, handedBack: true, message: `handed back: ${why}` }).catch(() => undefined);
      return false;
    }
    this.startRun(job);
    return true;
  }

  /** Admits a held job to the ledger and runs it (or follows its adopted run). */
  private startRun(job: HeldJob, adopted?: AdoptedRun): void {
    this.ledger.admit(job.id, job.spec.weightMilli, job.spec.lane);
    const run = new JobRun(
      {
        agentId: this.id,
        source: this.source,
        executors: this.executors,
        unhealthy: () => this.health.unhealthy(),
        defaultExecutor: this.config.defaultExecutor,
        defaultTimeoutMs: this.config.defaultTimeoutMs,
        killGraceMs: this.config.killGraceMs,
        startTimeoutMs: this.config.startTimeoutMs,
        logMaxBytes: this.config.logMaxBytes,
        jobDir: this.config.jobDir,
        ...(this.secrets ? { secrets: this.secrets } : {}),
        logger: this.logger,
        onStart: (executor, startedAt) => this.metrics.started(job, executor, startedAt),
        reclaim: (held) => this.reclaim(held),
      },
      job,
      adopted,
    );
    this.runs.set(run.id, run);
    this.heartbeat.beatSoon();
    run.run().then(
      (end) => this.settle(run, end),
      (err: unknown) => {
        this.logger.error({ err, job: run.id, attempt: run.job.attempt }, 'job run failed unexpectedly; its claim is left to expire');
        this.settle(run, { kind: 'fenced', reason: 'the run failed unexpectedly' });
      },
    );
  }

  /**
   * Takes back this agent's lapsed claim on an attempt it still runs (it was paused or cut off
   * past its lease): the adoption a restarted agent makes, on that attempt only (a new fence, no
   * attempt charged, the weight still on this agent's ledger). Undefined when the queue put the
   * job back or ended it meanwhile: then the run is stopped and the sweep settles the job.
   */
  private async reclaim(held: HeldJob): Promise<HeldJob | undefined> {
    if (this.state === 'stopped') return undefined;
    // Bounded: cut off from Redis, it must still stop the run before its claim can pass to another
    // agent. A sixth of the lease is the least a claim has left when the source fences it (not
    // renewed for half the lease, checked every third). A late answer's claim is not renewed.
    const adopting = this.source.adopt(held.id, held.attempt);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(1, Math.floor(this.config.leaseMs / 6)))));
    const got = await Promise.race([adopting, late]).finally(() => clearTimeout(timer));
    if (got === 'late') {
      void adopting.then((g) => g && this.source.abandon(held.id), () => undefined);
      this.logger.warn({ job: held.id }, 'taking back the lapsed claim on the job took too long; its run is stopped');
      return undefined;
    }
    if (!got) return undefined;
    if (got.claimed.kind !== 'job') {
      this.source.abandon(held.id);
      return undefined;
    }
    return got.claimed.job;
  }

  /**
   * An end fenced off because the claim lapsed between the run's end and its record (the agent
   * was paused): if the attempt is still this agent's it takes the claim back and records the
   * end under it, in the next write; else the result is discarded (whoever holds the job now
   * records it). Once per end.
   */
  private async retake(end: HeldEnd, attemptContext: Context | undefined): Promise<void> {
    const job = await this.reclaim(end.job).catch(() => undefined);
    if (!job) {
      this.metrics.lostClaim();
      this.logger.warn({ job: end.job.id }, "the job was no longer this agent's when its run ended; its result was discarded");
      return;
    }
    const again: HeldEnd = { ...end, job };
    // Its finish span, written again, stays a child of the attempt's.
    if (attemptContext) this.endContexts.set(again, attemptContext);
    this.retaken.add(again);
    this.ends.push(again);
    this.logger.warn({ job: job.id, attempt: job.attempt }, "this agent's claim on the job lapsed before its end was recorded; it took the claim back to record it");
    this.write('ended').catch(() => undefined); // logged by write
  }

  /** A run ended: its room is free here at once, and claimed only with its end recorded (see {@link write}). */
  private settle(run: JobRun, end: RunEnd): void {
    this.runs.delete(run.id);
    this.ledger.release(run.id);
    if (end.kind === 'fenced') {
      this.metrics.lostClaim();
      this.source.abandon(run.id);
      this.logger.warn({ job: run.id, attempt: run.job.attempt, reason: end.reason }, 'this agent lost its claim on the job; its run was stopped and its result discarded');
    } else if (end.kind === 'hand-back') {
      void this.inTurn(async () => {
        if (await this.source.handBack(run.job, end.attempt)) this.logger.info({ job: run.id, attempt: run.job.attempt }, 'job handed back to the queue (the attempt does not count)');
      }).catch((err: unknown) => this.logger.error({ err: (err as Error).message, job: run.id, attempt: run.job.attempt }, 'could not hand the job back; its claim is left to expire'));
    } else {
      const record: HeldEnd = { job: run.job, outcome: end.outcome, retry: end.retry };
      this.ends.push(record);
      if (run.attemptContext) this.endContexts.set(record, run.attemptContext);
      this.writeEndsSoon();
    }
    this.wake.wake();
    this.heartbeat.beatSoon();
  }

  /**
   * Records the runs that ended in one write, once the work that ended them has settled: ends
   * reached in the same turn of the event loop (a claim's jobs that end at once) go together in
   * one round trip instead of the first alone and the rest in the next.
   */
  private writeEndsSoon(): void {
    if (this.endsWriteQueued) return;
    this.endsWriteQueued = true;
    setImmediate(() => {
      this.endsWriteQueued = false;
      this.write('ended').catch(() => undefined); // logged by write; the claim loop claims again
    });
  }

  private async checkCancels(): Promise<void> {
    for (const id of this.runs.keys()) {
      try {
        if (await this.source.isCancelRequested(id)) this.runs.get(id)?.cancel('cancelled by request');
      } catch {
        return; // Redis unreachable: try again next tick
      }
    }
  }

  private async checkStaleRuns(): Promise<void> {
    if (this.checkingStaleRuns || this.state !== 'active') return;
    this.checkingStaleRuns = true;
    try {
      await stopStaleRuns(this.executors, this.source, this.pool, this.id, this.logger);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not check for job runs other agents left behind; trying again later');
    } finally {
      this.checkingStaleRuns = false;
    }
  }

  private drain(reason: string): void {
    if (this.state !== 'active') return;
    this.state = 'draining';
    this.logger.info({ reason, running: this.runs.size }, 'draining: no new jobs will be claimed');
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.drain('shutting down');
      this.wake.wake();
      await this.loop;
      const deadline = Date.now() + this.config.shutdownGraceMs;
      while (this.runs.size > 0 && Date.now() < deadline) await this.wake.wait(Math.min(500, deadline - Date.now()));
      for (const run of this.runs.values()) run.release('the agent is shutting down');
      while (this.runs.size > 0) await this.wake.wait(500);
      // Ends whose write is still due on the next turn of the event loop are written now.
      if (this.ends.length > 0) await this.write('ended').catch(() => undefined);
      await this.turn;
      // Only now: the source renews the locks of running jobs until they are done.
      await this.source.close();
      clearInterval(this.cancelCheck);
      clearInterval(this.staleRunCheck);
      await this.heartbeat.stop();
      await this.heartbeat.deregister(this.id);
      this.state = 'stopped';
      await this.parts.events.close();
      this.parts.registry.close();
      await this.parts.onStopped?.();
      this.metrics.close();
      this.logger.info('agent stopped');
      this.resolveStopped();
    })();
    return this.closing;
  }
}
