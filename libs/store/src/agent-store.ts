import type { AgentInfo, AgentView } from '@longshore/domain';
import type { Redis } from './redis.js';
import { Keys } from './keys.js';

/**
 * Agents in Redis: one hash of id → JSON. An agent whose last heartbeat is older than the TTL
 * shows as `lost`; one lost for longer than `forgetAfterMs` is dropped from the list.
 */
export class AgentStore {
  readonly keys: Keys;
  constructor(
    private readonly redis: Redis,
    private readonly opts: { ttlMs: number; forgetAfterMs: number },
    prefix?: string,
  ) {
    this.keys = new Keys(prefix);
  }

  /** Records a registration or heartbeat. Returns whether the agent was already known. */
  async upsert(info: AgentInfo): Promise<boolean> {
    const existing = await this.redis.hget(this.keys.agents, info.id);
    const registeredAt = existing ? (JSON.parse(existing) as AgentInfo).registeredAt : info.registeredAt;
    await this.redis.hset(this.keys.agents, info.id, JSON.stringify({ ...info, registeredAt }));
    return existing !== null;
  }

  async remove(id: string): Promise<void> {
    await this.redis.multi().hdel(this.keys.agents, id).hdel(this.drainKey, id).exec();
  }

  /** Asks an agent to drain; it learns this from its next heartbeat response. */
  async requestDrain(id: string): Promise<boolean> {
    if (!(await this.redis.hexists(this.keys.agents, id))) return false;
    await this.redis.hset(this.drainKey, id, '1');
    return true;
  }

  async isDrainRequested(id: string): Promise<boolean> {
    return (await this.redis.hexists(this.drainKey, id)) === 1;
  }

  /** Every known agent (of one pool, if given), with `lost` computed. */
  async list(pool?: string, now = Date.now()): Promise<AgentView[]> {
    const all = Object.values(await this.redis.hgetall(this.keys.agents)).map((raw) => JSON.parse(raw) as AgentInfo);
    const forget = all.filter((a) => now - a.lastHeartbeat > this.opts.forgetAfterMs).map((a) => a.id);
    if (forget.length) await this.redis.hdel(this.keys.agents, ...forget);
    return all
      .filter((a) => !forget.includes(a.id) && (!pool || a.pool === pool))
      .map((a) => ({ ...a, effectiveState: now - a.lastHeartbeat > this.opts.ttlMs ? 'lost' : a.state }) as AgentView)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  private get drainKey(): string {
    return `${this.keys.agents}:drain`;
  }
}
