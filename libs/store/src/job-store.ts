import type { JobRecord } from '@longshore/domain';
import type { Redis } from './redis.js';
import { Keys, poolOfJob } from './keys.js';
import { decodeJob } from './record-codec.js';

/** The part of a job id after its pool: ids of all pools sort by it in creation order. */
function idTime(id: string): string {
  return id.slice(id.lastIndexOf('.') + 1);
}

/**
 * Reads job records: one hash per job under its pool's tag (see keys.ts). Every change to a
 * job goes through the lifecycle (libs/queue), never through here.
 */
export class JobStore {
  readonly keys: Keys;
  constructor(
    private readonly redis: Redis,
    prefix?: string,
  ) {
    this.keys = new Keys(prefix);
  }

  async get(id: string): Promise<JobRecord | undefined> {
    return decodeJob(await this.redis.hgetall(this.keys.pool(poolOfJob(id)).record(id)));
  }

  /** Records of `ids`, in order; one pipeline per pool (a Redis Cluster pipelines one slot at a time). */
  async getMany(ids: string[]): Promise<(JobRecord | undefined)[]> {
    const byPool = new Map<string, number[]>();
    ids.forEach((id, i) => byPool.set(poolOfJob(id), [...(byPool.get(poolOfJob(id)) ?? []), i]));
    const out: (JobRecord | undefined)[] = new Array<JobRecord | undefined>(ids.length);
    await Promise.all(
      [...byPool].map(async ([pool, at]) => {
        const p = this.redis.pipeline();
        for (const i of at) p.hgetall(this.keys.pool(pool).record(ids[i]!));
        const res = (await p.exec()) ?? [];
        res.forEach(([err, h], n) => (out[at[n]!] = err ? undefined : decodeJob(h as Record<string, string>)));
      }),
    );
    return out;
  }

  /**
   * Walks the job ids of `pools` newest first, starting below `before` (exclusive), `batch` at a
   * time, merging the pools' indexes by creation time. Ids whose record has expired are dropped
   * from their index on the way.
   */
  async scan(pools: string[], before: string | undefined, batch: number): Promise<{ records: JobRecord[]; last?: string; done: boolean }> {
    const lists = await Promise.all(
      pools.map((pool) => this.redis.zrevrangebylex(this.keys.pool(pool).index, before ? `(${pool}.${idTime(before)}` : '+', '-', 'LIMIT', 0, batch)),
    );
    const all = lists.flat();
    const ids = all.sort((a, b) => (idTime(a) < idTime(b) ? 1 : idTime(a) > idTime(b) ? -1 : 0)).slice(0, batch);
    const recs = await this.getMany(ids);
    const gone = ids.filter((_, i) => !recs[i]);
    for (const id of gone) await this.redis.zrem(this.keys.pool(poolOfJob(id)).index, id);
    return { records: recs.filter((r): r is JobRecord => !!r), last: ids.at(-1), done: all.length < batch };
  }
}
