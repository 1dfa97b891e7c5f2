import { ResourceExhaustedError } from '@longshore/domain';
import { masterNodes, type Redis } from '@longshore/store';
import type { JobLifecycle } from './lifecycle.js';

/** Bytes Redis has allocated (`INFO memory`, used_memory), summed over a Cluster's masters. */
export async function redisUsedBytes(redis: Redis): Promise<number> {
  const masters = masterNodes(redis);
  if (masters.length === 0) throw new Error('the Redis Cluster has no master node connected: cannot read INFO memory');
  const infos = await Promise.all(masters.map((node) => node.info('memory')));
  return infos.reduce((sum, info) => {
    const m = /^used_memory:(\d+)/m.exec(info);
    if (!m) throw new Error('Redis did not report used_memory in INFO memory');
    return sum + Number(m[1]);
  }, 0);
}

/** What one enforcement found and did. */
export interface BudgetState {
  usedBytes: number;
  budgetBytes: number;
  /** Finished jobs deleted to get under the budget. */
  trimmed: number;
  /** Over the budget with no finished job left to delete: only live data is left. */
  exhausted: boolean;
}

/**
 * LONGSHORE_REDIS_BUDGET: keeps Redis under a byte budget by deleting finished jobs (with their
 * logs), oldest first across pools, and says when live data alone is over it (then submits are
 * refused). Run by the registry now and then and by the dispatcher before it accepts work while
 * over; both may run it at once (deleting an already deleted job is a no-op).
 */
export class RedisBudget {
  private checked: { at: number; state: BudgetState } | undefined;
  private running: Promise<BudgetState> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly lifecycle: JobLifecycle,
    private readonly pools: () => Promise<string[]>,
    readonly budgetBytes: number,
    private readonly batch = 200,
    private readonly maxRounds = 50,
  ) {}

  /** What the last check saw (trim or admit), for pool status; undefined before the first. */
  last(): BudgetState | undefined {
    return this.checked?.state;
  }

  /** Trims finished jobs, oldest first, until Redis is under the budget or none are left. */
  enforce(): Promise<BudgetState> {
    this.running ??= this.trim().finally(() => (this.running = undefined));
    return this.running;
  }

  private async trim(): Promise<BudgetState> {
    let used = await redisUsedBytes(this.redis);
    let trimmed = 0;
    let exhausted = false;
    for (let round = 0; used > this.budgetBytes && round < this.maxRounds; round++) {
      const pools = await this.pools();
      const oldest = await Promise.all(pools.map(async (p) => ({ p, at: await this.lifecycle.oldestFinished(p) })));
      const victim = oldest.filter((o) => o.at !== undefined).sort((a, b) => a.at! - b.at!)[0];
      if (!victim) {
        exhausted = true;
        break;
      }
      trimmed += await this.lifecycle.trimOldest(victim.p, this.batch);
      used = await redisUsedBytes(this.redis);
    }
    const state = { usedBytes: used, budgetBytes: this.budgetBytes, trimmed, exhausted };
    this.checked = { at: Date.now(), state };
    return state;
  }

  /**
   * Refuses new work (RESOURCE_EXHAUSTED naming the variable) when live data alone is over the
   * budget. Checks Redis at most once per `maxAgeMs`.
   */
  async admit(maxAgeMs = 1000): Promise<void> {
    let state = this.checked && Date.now() - this.checked.at < maxAgeMs ? this.checked.state : undefined;
    if (!state) {
      const used = await redisUsedBytes(this.redis);
      state = used > this.budgetBytes ? await this.enforce() : { usedBytes: used, budgetBytes: this.budgetBytes, trimmed: 0, exhausted: false };
      this.checked = { at: Date.now(), state };
    }
    if (state.exhausted && state.usedBytes > this.budgetBytes) {
      throw new ResourceExhaustedError(
        `Redis holds ${mib(state.usedBytes)} MiB, over LONGSHORE_REDIS_BUDGET (${mib(state.budgetBytes)} MiB), and no finished job is left to delete: ` +
          'let running jobs finish, cancel queued ones, or raise LONGSHORE_REDIS_BUDGET (and Redis maxmemory with it)',
      );
    }
  }
}

const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
