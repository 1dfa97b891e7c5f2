import { checkPool, mayUsePool } from '@longshore/auth';
import { FailedPreconditionError, InvalidArgumentError, LIMITS, NotFoundError, validateDnsLabel, type PoolView } from '@longshore/domain';
import type { PoolRegistryService } from '@longshore/proto';
import type { JobLifecycle, RedisBudget } from '@longshore/queue';
import { agentFromProto, agentToProto, poolToProto, type ServiceImpl } from '@longshore/rpc';
import type { AgentStore, PoolStore, StoredPool } from '@longshore/store';
import type { Logger } from '@longshore/telemetry';
import { applyPoolUpdate, poolFromCreate } from './pool-requests.js';
import { computePoolStatus } from './pool-status.js';

export interface RegistryDeps {
  pools: PoolStore;
  agents: AgentStore;
  lifecycle: JobLifecycle;
  /** Its last check is shown in every pool's status. */
  budget: Pick<RedisBudget, 'last'>;
  heartbeatIntervalMs: number;
  agentTtlMs: number;
  logger: Logger;
}

const AGENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The PoolRegistryService handlers. Stateless: everything lives in Redis. */
export function registryService(d: RegistryDeps): ServiceImpl<(typeof PoolRegistryService)['method']> {
  const withStatus = async (p: StoredPool): Promise<PoolView> => {
    const [agents, counts, reservation, byExecutors] = await Promise.all([
      d.agents.list(p.id),
      d.lifecycle.counts(p.id),
      d.lifecycle.reservation(p.id),
      d.lifecycle.queuedByExecutors(p.id),
    ]);
    return { ...p, status: computePoolStatus(agents, counts, reservation, d.budget.last(), byExecutors) };
  };

  return {
    async createPool(req) {
      const pool = await d.pools.create(poolFromCreate(req, Date.now()), req.makeDefault);
      d.logger.info({ pool: pool.id }, 'pool created');
      return { pool: poolToProto(await withStatus(pool)) };
    },

    async updatePool(req) {
      validateDnsLabel('id', req.id);
      const updated = await d.pools.replace(applyPoolUpdate(await d.pools.get(req.id), req));
      return { pool: poolToProto(await withStatus(updated)) };
    },

    async getPool(req) {
      validateDnsLabel('id', req.id);
      return { pool: poolToProto(await withStatus(await d.pools.get(req.id))) };
    },

    async listPools() {
      const pools = await Promise.all((await d.pools.list()).map(withStatus));
      return { pools: pools.map(poolToProto) };
    },

    async deletePool(req) {
      validateDnsLabel('id', req.id);
      const pool = await d.pools.get(req.id);
      if (pool.isDefault) {
        throw new FailedPreconditionError(`pool "${req.id}" is the default pool and cannot be deleted: make another pool the default first (longshore pools set-default OTHER)`);
      }
      const live = (await d.agents.list(req.id)).filter((a) => a.effectiveState !== 'lost');
      if (live.length > 0) {
        throw new FailedPreconditionError(`pool "${req.id}" has ${live.length} live agent(s) (${live.map((a) => a.id).join(', ')}): stop or drain them first`);
      }
      const queued = await d.lifecycle.queuedIds(req.id);
      if (queued.length > 0 && !req.force) {
        throw new FailedPreconditionError(`pool "${req.id}" has ${queued.length} queued job(s): cancel them, or delete with --force to cancel them`);
      }
      let cancelled = 0;
      for (const id of queued) {
        if ((await d.lifecycle.cancel(id, `cancelled: pool "${req.id}" was deleted`)).kind === 'cancelled') cancelled++;
      }
      await d.pools.delete(req.id);
      d.logger.info({ pool: req.id, cancelled }, 'pool deleted');
      return { cancelledJobs: BigInt(cancelled) };
    },

    async setDefaultPool(req) {
      validateDnsLabel('id', req.id);
      const pool = await d.pools.setDefault(req.id);
      d.logger.info({ pool: pool.id }, 'default pool set');
      return { pool: poolToProto(await withStatus(pool)) };
    },

    async registerAgent(req, ctx) {
      const info = agentFromProto(checkAgent(req.agent), Date.now());
      checkPool(ctx.principal, info.pool, `agent "${info.id}"`);
      await d.pools.get(info.pool);
      await d.agents.upsert(info);
      d.logger.info({ agent: info.id, pool: info.pool, capacityMilli: info.capacityMilli }, 'agent registered');
      return { heartbeatIntervalMs: d.heartbeatIntervalMs, ttlMs: d.agentTtlMs };
    },

    async agentHeartbeat(req, ctx) {
      const info = agentFromProto(checkAgent(req.agent), Date.now());
      checkPool(ctx.principal, info.pool, `agent "${info.id}"`);
      const known = await d.agents.upsert(info);
      return { known, drain: await d.agents.isDrainRequested(info.id) };
    },

    async deregisterAgent(req, ctx) {
      if (!AGENT_ID.test(req.id)) throw new InvalidArgumentError('id', 'is not an agent id');
      const known = (await d.agents.list()).find((a) => a.id === req.id);
      if (known) checkPool(ctx.principal, known.pool, `agent "${req.id}"`);
      await d.agents.remove(req.id);
      d.logger.info({ agent: req.id }, 'agent deregistered');
      return {};
    },

    async drainAgent(req) {
      if (!AGENT_ID.test(req.id)) throw new InvalidArgumentError('id', 'is not an agent id');
      if (!(await d.agents.requestDrain(req.id))) {
        const known = (await d.agents.list()).map((a) => a.id);
        throw new NotFoundError(`agent "${req.id}" is not registered (agents: ${known.join(', ') || 'none'})`);
      }
      d.logger.info({ agent: req.id }, 'drain requested');
      const agent = (await d.agents.list()).find((a) => a.id === req.id);
      return { agent: agent && agentToProto(agent) };
    },

    async listAgents(req, ctx) {
      if (req.pool) validateDnsLabel('pool', req.pool);
      const agents = (await d.agents.list(req.pool || undefined)).filter((a) => mayUsePool(ctx.principal, a.pool));
      return { agents: agents.map(agentToProto) };
    },
  };
}

function checkAgent<T extends { id: string; pool: string; capacityMilli: number; runningJobIds: string[] }>(a: T | undefined): T {
  if (!a) throw new InvalidArgumentError('agent', 'is required');
  if (!AGENT_ID.test(a.id)) throw new InvalidArgumentError('agent.id', 'must be 1-128 letters, digits, ., _ or -');
  validateDnsLabel('agent.pool', a.pool);
  if (a.capacityMilli <= 0 || a.capacityMilli > LIMITS.maxMilli) throw new InvalidArgumentError('agent.capacity_milli', `must be 1..${LIMITS.maxMilli}`);
  if (a.runningJobIds.length > 10_000) throw new InvalidArgumentError('agent.running_job_ids', 'too many');
  return a;
}
