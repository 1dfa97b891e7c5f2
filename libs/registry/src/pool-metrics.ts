import type { BatchObservableCallback, Meter, Observable } from '@opentelemetry/api';
import { STANDARD_CAPACITY_MILLI, type AgentView } from '@longshore/domain';
import type { JobLifecycle } from '@longshore/queue';
import type { Logger } from '@longshore/telemetry';

/** One pool's figures, as the registry's gauges report them. */
export interface PoolFigures {
  pool: string;
  /** Jobs waiting (claimable, or a retry in its back-off). */
  queued: number;
  running: number;
  /** Seconds the longest-waiting claimable job has waited; 0 when none waits. */
  oldestQueuedAgeSeconds: number;
  /** Summed weight of the claimable jobs, thousandths of a standard agent. */
  queuedWeightMilli: number;
  /** Weight the pool's live agents run, thousandths. */
  weightInUseMilli: number;
  /** Capacity of the pool's live agents, thousandths. */
  capacityMilli: number;
  /** Standard agents the pool needs for all its work: see {@link demandInStandardAgents}. */
  demandAgents: number;
  agents: { active: number; draining: number; lost: number };
}

/**
 * The figure an autoscaler scales a pool on: the standard agents (capacity
 * STANDARD_CAPACITY_MILLI each) that would run everything queued and running at once,
 * ⌈(queued weight + weight in use) / standard capacity⌉. Computed from Redis, so it exists
 * (and asks for agents) while the pool has none.
 */
export function demandInStandardAgents(queuedWeightMilli: number, weightInUseMilli: number, standardMilli = STANDARD_CAPACITY_MILLI): number {
  return Math.ceil((queuedWeightMilli + weightInUseMilli) / standardMilli);
}

/** A pool's figures from its agents (any state) and its queue's. */
export function poolFigures(
  pool: string,
  agents: readonly AgentView[],
  queue: { queued: number; running: number; queuedWeightMilli: number; oldestQueuedAt: number | undefined },
  now: number,
): PoolFigures {
  const live = agents.filter((a) => a.effectiveState !== 'lost');
  const active = live.filter((a) => a.effectiveState === 'active').length;
  const weightInUseMilli = live.reduce((s, a) => s + a.weightInUseMilli, 0);
  return {
    pool,
    queued: queue.queued,
    running: queue.running,
    oldestQueuedAgeSeconds: queue.oldestQueuedAt === undefined ? 0 : Math.max(0, now - queue.oldestQueuedAt) / 1000,
    queuedWeightMilli: queue.queuedWeightMilli,
    weightInUseMilli,
    capacityMilli: live.reduce((s, a) => s + a.capacityMilli, 0),
    demandAgents: demandInStandardAgents(queue.queuedWeightMilli, weightInUseMilli),
    agents: { active, draining: live.length - active, lost: agents.length - live.length },
  };
}

export interface PoolMetricsDeps {
  listPools(): Promise<string[]>;
  /** Every agent of every pool (one read). */
  listAgents(): Promise<AgentView[]>;
  lifecycle: Pick<JobLifecycle, 'counts' | 'backlog'>;
  logger: Logger;
}

/** Pools read at once while collecting: bounds the Redis commands in flight with many pools. */
const POOLS_AT_ONCE = 16;
/** A snapshot this recent is reused: readers collecting together (Prometheus, OTLP) read Redis once. */
const SNAPSHOT_REUSE_MS = 1000;

/** Every pool's figures, read from Redis. */
export async function readPoolFigures(d: PoolMetricsDeps, now = Date.now()): Promise<PoolFigures[]> {
  const [pools, agents] = await Promise.all([d.listPools(), d.listAgents()]);
  const byPool = new Map<string, AgentView[]>();
  for (const a of agents) byPool.set(a.pool, [...(byPool.get(a.pool) ?? []), a]);
  const out: PoolFigures[] = [];
  for (let i = 0; i < pools.length; i += POOLS_AT_ONCE) {
    const part = await Promise.all(
      pools.slice(i, i + POOLS_AT_ONCE).map(async (pool) => {
        const [counts, backlog] = await Promise.all([d.lifecycle.counts(pool), d.lifecycle.backlog(pool)]);
        return poolFigures(pool, byPool.get(pool) ?? [], { ...counts, queuedWeightMilli: backlog.weightMilli, oldestQueuedAt: backlog.oldestQueuedAt }, now);
      }),
    );
    out.push(...part);
  }
  return out;
}

/**
 * Registers the registry's pool gauges (observable: computed from Redis when a reader collects,
 * once per collection, a snapshot shared by readers collecting within a second). Pool-level
 * figures come from the registry only, so replicas of other services never double-count them.
 * Returns the function that unregisters them.
 */
export function registerPoolMetrics(meter: Meter, d: PoolMetricsDeps): () => void {
  const g = (name: string, description: string, unit: string) => meter.createObservableGauge(name, { description, unit });
  const queued = g('longshore.pool.jobs.queued', 'Jobs waiting in the pool: claimable, or a retry waiting for its back-off', '{job}');
  const running = g('longshore.pool.jobs.running', 'Jobs the pool runs now (claimed or running)', '{job}');
  const oldest = g('longshore.pool.oldest_queued_age_seconds', 'How long the longest-waiting claimable job has waited; 0 when none waits', 's');
  const weightQueued = g('longshore.pool.weight.queued', 'Summed weight of the claimable jobs, in standard agents', '{standard_agent}');
  const weightInUse = g('longshore.pool.weight.in_use', "Weight the pool's live agents run now, in standard agents", '{standard_agent}');
  const capacity = g('longshore.pool.capacity', "Capacity of the pool's live agents, in standard agents", '{standard_agent}');
  const demand = g('longshore.pool.demand.agents', 'Standard agents needed for all queued and running work: ceil((queued weight + weight in use) / 1); scale the pool on this', '{agent}');
  const agents = g('longshore.pool.agents', 'Agents of the pool by state: active, draining, lost (live = active + draining)', '{agent}');
  const all: Observable[] = [queued, running, oldest, weightQueued, weightInUse, capacity, demand, agents];

  let last: { at: number; figures: Promise<PoolFigures[]> } | undefined;
  const snapshot = (): Promise<PoolFigures[]> => {
    const now = Date.now();
    if (!last || now - last.at >= SNAPSHOT_REUSE_MS) last = { at: now, figures: readPoolFigures(d, now) };
    return last.figures;
  };
  const callback: BatchObservableCallback = async (r) => {
    let figures: PoolFigures[];
    try {
      figures = await snapshot();
    } catch (err) {
      d.logger.warn({ err: (err as Error).message }, 'could not read the pools for their metrics; this collection has none');
      last = undefined;
      return;
    }
    for (const f of figures) {
      const pool = { pool: f.pool };
      r.observe(queued, f.queued, pool);
      r.observe(running, f.running, pool);
      r.observe(oldest, f.oldestQueuedAgeSeconds, pool);
      r.observe(weightQueued, f.queuedWeightMilli / STANDARD_CAPACITY_MILLI, pool);
      r.observe(weightInUse, f.weightInUseMilli / STANDARD_CAPACITY_MILLI, pool);
      r.observe(capacity, f.capacityMilli / STANDARD_CAPACITY_MILLI, pool);
      r.observe(demand, f.demandAgents, pool);
      for (const state of ['active', 'draining', 'lost'] as const) r.observe(agents, f.agents[state], { pool: f.pool, state });
    }
  };
  meter.addBatchObservableCallback(callback, all);
  return () => meter.removeBatchObservableCallback(callback, all);
}
