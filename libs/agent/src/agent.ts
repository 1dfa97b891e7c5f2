import { hostname } from 'node:os';
import { join } from 'node:path';
import type { AgentConfig } from '@longshore/config';
import type { ExecutorName } from '@longshore/domain';
import { createNoopExecutor, createSubprocessExecutor, sweepLeftovers } from '@longshore/executors';
import { PoolRegistryService } from '@longshore/proto';
import { addedChannel, createBullJobSource, type ClaimedJob, type JobSource } from '@longshore/queue';
import { agentStateEnum, channelCredentials, checkPlaintext, createRpcClient, executorEnum } from '@longshore/rpc';
import { createRedis, EventHub, JobStore, PoolStore, redactRedisUrl, waitForRedis, warnIfRedisOpen, wakeable } from '@longshore/store';
import type { Logger } from '@longshore/telemetry';
import type { ExecutorSet } from './executors.js';
import { Heartbeat } from './heartbeat.js';
import { CapacityLedger } from './ledger.js';
import { JobRun } from './job-run.js';
import { setupJobIsolation, type JobIsolation } from './isolation.js';

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

export interface AgentOverrides {
  executors?: ExecutorSet;
  /** How long to keep trying to register at start. */
  registerTimeoutMs?: number;
}

/** The executors an agent has unless told otherwise. */
/** Where this agent notes its jobs' process groups, to sweep after being killed outright. */
function leftoversDir(config: AgentConfig): string {
  return join(config.jobDir, '.running', config.agentId);
}

function defaultExecutors(config: AgentConfig, logger: Logger, isolation: JobIsolation): ExecutorSet {
  return {
    subprocess: createSubprocessExecutor({
      killGraceMs: config.killGraceMs,
      memoryLimiter: config.memoryLimiter,
      logger,
      stateDir: leftoversDir(config),
      ...(isolation.users ? { users: isolation.users } : {}),
    }),
    noop: createNoopExecutor(),
  };
}

/**
 * Starts a worker agent: reaches Redis, resolves its pool, registers with the registry (both
 * required at start), then claims jobs its capacity and lanes admit and runs them. The claim
 * loop owns the capacity ledger; runs report back to it when they end.
 */
export async function startAgent(config: AgentConfig, logger: Logger, overrides: AgentOverrides = {}): Promise<AgentHandle> {
  // Not auto-pipelined: measured slower here (ioredis' per-tick pipelines cost more than they save).
  const redis = createRedis(config.redisUrl, 'worker');
  const sub = createRedis(config.redisUrl, 'subscriber');
  for (const c of [redis, sub]) c.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  checkPlaintext(config.registry, config.client.tls !== undefined, config.client.insecurePlaintext, 'connect', logger);
  if (!config.client.token) logger.warn('no token (LONGSHORE_TOKEN): the registry will refuse this agent unless it runs with LONGSHORE_AUTH=off; create one with longshore tokens create --role agent --pool POOL');
  const registry = createRpcClient(PoolRegistryService, config.registry, { ...(config.client.token ? { token: config.client.token } : {}), credentials: channelCredentials(config.client.tls) });
  const cleanup = () => {
    registry.close();
    redis.disconnect();
    sub.disconnect();
  };
  let isolation: JobIsolation | undefined;
  try {
    await waitForRedis(redis, redactRedisUrl(config.redisUrl));
    await warnIfRedisOpen(redis, logger, config.redisPrefix);
    const pool = (await new PoolStore(redis, config.redisPrefix).resolve(config.pool)).id;
    const agentLogger = logger.child({ agent: config.agentId, pool });
    isolation = await setupJobIsolation(config, agentLogger);
    const agent = new Agent(config, pool, agentLogger, redis, sub, registry, isolation, overrides);
    await agent.start(overrides.registerTimeoutMs ?? 60_000);
    return agent;
  } catch (err) {
    cleanup();
    await isolation?.close();
    throw err;
  }
}

class Agent implements AgentHandle {
  state: AgentLifecycle = 'starting';
  private readonly ledger: CapacityLedger;
  private readonly jobs: JobStore;
  private readonly executors: ExecutorSet;
  private readonly runs = new Map<string, JobRun>();
  /** Woken when a run ends (room freed) or the dispatcher announces new work in the pool. */
  private readonly wake = wakeable();
  private readonly heartbeat: Heartbeat;
  private readonly events: EventHub;
  private source!: JobSource;
  private loop?: Promise<void>;
  private closing?: Promise<void>;
  private cancelCheck?: NodeJS.Timeout;
  readonly stopped: Promise<void>;
  private resolveStopped!: () => void;

  constructor(
    private readonly config: AgentConfig,
    readonly pool: string,
    private readonly logger: Logger,
    private readonly redis: ReturnType<typeof createRedis>,
    sub: ReturnType<typeof createRedis>,
    private readonly registry: ReturnType<typeof createRpcClient<(typeof PoolRegistryService)['method']>>,
    private readonly isolation: JobIsolation,
    overrides: AgentOverrides,
  ) {
    this.ledger = new CapacityLedger(config.capacityMilli, config.lanes);
    this.jobs = new JobStore(redis, config, config.redisPrefix);
    this.executors = overrides.executors ?? defaultExecutors(config, this.logger, isolation);
    this.events = new EventHub(sub);
    this.heartbeat = new Heartbeat(registry, () => this.snapshot(), this.logger, () => {
      if (this.state !== 'active') return;
      this.logger.info('the registry asked this agent to drain');
      void this.close();
    });
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
  }

  get id(): string {
    return this.config.agentId;
  }

  async start(registerTimeoutMs: number): Promise<void> {
    // Jobs a previous run of this agent left behind (it was killed outright) run elsewhere now.
    await sweepLeftovers(leftoversDir(this.config), this.logger);
    const { heartbeatIntervalMs } = await this.heartbeat.register(registerTimeoutMs);
    await this.events.listen(this.jobs.keys.cancelChannel, (id) => this.runs.get(id)?.cancel('cancelled by request'));
    await this.events.listen(addedChannel(this.config.redisPrefix, this.pool), () => this.wake.wake());
    this.source = createBullJobSource({
      connection: this.redis,
      pool: this.pool,
      prefix: this.config.redisPrefix,
      agentId: this.id,
      lockMs: this.config.leaseMs,
      stalledIntervalMs: this.config.stalledCheckMs,
      reserveAfterMs: this.config.reserveAfterMs,
      scanLimit: this.config.claimScan,
      onLockLost: (id) => this.runs.get(id)?.abandon('its claim on the job expired (was this agent paused or cut off?)'),
      onError: (err) => this.logger.warn({ err: (err as Error).message }, 'queue error'),
    });
    this.heartbeat.start(heartbeatIntervalMs);
    // Safety net under pub/sub, which drops messages across reconnects.
    this.cancelCheck = setInterval(() => void this.checkCancels(), 2000).unref();
    this.state = 'active';
    this.logger.info(
      { capacityMilli: this.config.capacityMilli, lanes: this.config.lanes, executors: Object.keys(this.executors), registry: this.config.registry, isolation: this.isolation.info },
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
      executors: (Object.keys(this.executors) as ExecutorName[]).map(executorEnum.toProto),
      state: agentStateEnum.toProto(this.state === 'active' || this.state === 'starting' ? 'active' : 'draining'),
      isolation: this.isolation.info,
    };
  }

  /**
   * The actor: the only place jobs are admitted into the ledger. It asks the queue for the first
   * job that fits what is free (the claim never hands out one that does not), starts it, and
   * asks again; when nothing fits it sleeps until a run ends, new work is announced, or the poll
   * interval passes. While it holds the pool's reservation it admits only the reserved job.
   */
  private async claimLoop(): Promise<void> {
    let reservedFor: string | undefined;
    while (this.state === 'active') {
      if (this.ledger.freeMilli <= 0) {
        await this.wake.wait(this.config.claimPollMs);
        continue;
      }
      let out;
      try {
        out = await this.source.claim({ freeMilli: this.ledger.freeMilli, capacityMilli: this.ledger.capacityMilli, fullLanes: this.ledger.fullLanes() });
      } catch (err) {
        if (this.state !== 'active') break;
        this.logger.warn({ err: (err as Error).message }, 'claim failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (out.kind === 'reserved' && reservedFor !== out.jobId) {
        reservedFor = out.jobId;
        this.logger.info({ reservedJob: out.jobId, freeMilli: this.ledger.freeMilli }, 'reservation taken: admitting nothing else until the reserved job fits');
      } else if (out.kind !== 'reserved' && reservedFor) {
        const fulfilled = out.kind === 'job' && out.job.id === reservedFor;
        this.logger.info({ reservedJob: reservedFor, fulfilled }, 'reservation ended');
        reservedFor = undefined;
      }
      if (out.kind === 'job') {
        if (this.state !== 'active') {
          await out.job.release().catch(() => undefined);
          break;
        }
        await this.admit(out.job);
        continue;
      }
      await this.wake.wait(this.config.claimPollMs);
    }
  }

  /** Starts a claimed job (it fits: the claim checked against the same ledger). */
  private async admit(claimed: ClaimedJob): Promise<void> {
    const d = claimed.decoded;
    if (!d.ok) {
      this.logger.error({ job: claimed.id, reason: d.reason }, 'cannot run this job');
      await (d.newer ? claimed.release() : claimed.complete()).catch(() => undefined);
      if (d.newer) await new Promise((r) => setTimeout(r, 1000));
      return;
    }
    const why = this.ledger.refusal(d.data.weightMilli, d.data.lane);
    if (why) {
      // Only if the job's name and data disagree: hand it back rather than break capacity.
      this.logger.error({ job: claimed.id, why }, 'claimed a job that does not fit; handing it back');
      await claimed.release().catch(() => undefined);
      await this.wake.wait(this.config.claimPollMs);
      return;
    }
    this.ledger.admit(d.data.id, d.data.weightMilli, d.data.lane);
    const run = new JobRun(
      {
        agentId: this.id,
        jobs: this.jobs,
        executors: this.executors,
        defaultExecutor: this.config.defaultExecutor,
        defaultTimeoutMs: this.config.defaultTimeoutMs,
        logMaxBytes: this.config.logMaxBytes,
        jobDir: this.config.jobDir,
        logger: this.logger,
      },
      claimed,
      d.data,
    );
    this.runs.set(run.id, run);
    this.heartbeat.beatSoon();
    run
      .run()
      .catch((err: unknown) => {
        // Let the lease run out: the job goes back to the queue as a lost attempt.
        claimed.abandon();
        this.logger.error({ err, job: run.id }, 'job run failed unexpectedly; its claim is left to expire');
      })
      .finally(() => {
        this.runs.delete(run.id);
        this.ledger.release(run.id);
        this.wake.wake();
        this.heartbeat.beatSoon();
      });
  }

  private async checkCancels(): Promise<void> {
    for (const id of this.runs.keys()) {
      try {
        if (await this.jobs.isCancelRequested(id)) this.runs.get(id)?.cancel('cancelled by request');
      } catch {
        return; // Redis unreachable: try again next tick
      }
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
      // Only now: the source renews the locks of running jobs until they are done.
      await this.source.close();
      clearInterval(this.cancelCheck);
      await this.heartbeat.stop();
      await this.heartbeat.deregister(this.id);
      this.state = 'stopped';
      await this.events.close();
      this.registry.close();
      this.redis.disconnect();
      await this.isolation.close();
      this.logger.info('agent stopped');
      this.resolveStopped();
    })();
    return this.closing;
  }
}
