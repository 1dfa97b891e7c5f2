import {
  AlreadyExistsError,
  DEFAULT_POOL_ID,
  DEFAULT_WEIGHT_MILLI,
  FailedPreconditionError,
  NotFoundError,
  STANDARD_CAPACITY_MILLI,
  type PoolRecord,
} from '@longshore/domain';
import type { Redis } from './redis.js';
import { Keys } from './keys.js';

/** KEYS: pools, default. ARGV: id, json. Makes `id` the default only if it exists. */
const SET_DEFAULT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[1])
return 1
`;
/** KEYS: pools, default. ARGV: id. Refuses the default pool. */
const DELETE = `
if redis.call('GET', KEYS[2]) == ARGV[1] then return 'default' end
return redis.call('HDEL', KEYS[1], ARGV[1])
`;
/** KEYS: pools. ARGV: id, json. Replaces the record only if it exists. */
const REPLACE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/** A pool plus whether it is the default. */
export interface StoredPool extends PoolRecord {
  isDefault: boolean;
}

/**
 * Pools in Redis: one hash of id → JSON record, and one key naming the default pool, so
 * "exactly one default" holds by construction and changing it is a single atomic SET.
 */
export class PoolStore {
  readonly keys: Keys;
  constructor(
    private readonly redis: Redis,
    prefix?: string,
  ) {
    this.keys = new Keys(prefix);
  }

  /** Creates the `default` pool and makes it the default when no default exists yet. Idempotent. */
  async ensureDefault(now = Date.now()): Promise<void> {
    const rec: PoolRecord = {
      id: DEFAULT_POOL_ID,
      description: 'The default pool',
      defaultWeightMilli: DEFAULT_WEIGHT_MILLI,
      maxWeightMilli: STANDARD_CAPACITY_MILLI,
      createdAt: now,
    };
    if (await this.redis.exists(this.keys.defaultPool)) return;
    await this.redis.hsetnx(this.keys.pools, rec.id, JSON.stringify(rec));
    await this.redis.set(this.keys.defaultPool, rec.id, 'NX');
  }

  async create(rec: PoolRecord, makeDefault: boolean): Promise<StoredPool> {
    const added = await this.redis.hsetnx(this.keys.pools, rec.id, JSON.stringify(rec));
    if (!added) throw new AlreadyExistsError(`pool "${rec.id}" already exists (use "longshore pools update ${rec.id}" to change it)`);
    if (makeDefault) await this.setDefault(rec.id);
    return this.get(rec.id);
  }

  /** Replaces a pool's record; throws NotFound if it is gone. */
  async replace(rec: PoolRecord): Promise<StoredPool> {
    const ok = await this.redis.eval(REPLACE, 1, this.keys.pools, rec.id, JSON.stringify(rec));
    if (ok !== 1) throw await this.notFound(rec.id);
    return this.get(rec.id);
  }

  /** The pool, or NotFound naming the pools that do exist. */
  async get(id: string): Promise<StoredPool> {
    // One write to Redis for both reads (the keys share the catalogue's slot): a submit reads its pool on every call.
    const res = (await this.redis.pipeline().hget(this.keys.pools, id).get(this.keys.defaultPool).exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    const raw = res[0]?.[1] as string | null | undefined;
    const def = res[1]?.[1] as string | null | undefined;
    if (!raw) throw await this.notFound(id);
    return { ...(JSON.parse(raw) as PoolRecord), isDefault: def === id };
  }

  /** The default pool (NotFound if none has been set: the registry has never run). */
  async getDefault(): Promise<StoredPool> {
    const id = await this.redis.get(this.keys.defaultPool);
    if (!id) throw new FailedPreconditionError('there is no default pool yet: start the pool registry once, or name a pool with --pool');
    return this.get(id);
  }

  /** `id` if given, else the default pool. */
  async resolve(id: string): Promise<StoredPool> {
    return id ? this.get(id) : this.getDefault();
  }

  async list(): Promise<StoredPool[]> {
    const [all, def] = await Promise.all([this.redis.hgetall(this.keys.pools), this.redis.get(this.keys.defaultPool)]);
    return Object.values(all)
      .map((raw) => JSON.parse(raw) as PoolRecord)
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((p) => ({ ...p, isDefault: p.id === def }));
  }

  /** Makes `id` the default pool; the previous default stops being one in the same step. */
  async setDefault(id: string): Promise<StoredPool> {
    const ok = await this.redis.eval(SET_DEFAULT, 2, this.keys.pools, this.keys.defaultPool, id);
    if (ok !== 1) throw await this.notFound(id);
    return this.get(id);
  }

  /** Deletes a pool record. The caller checks agents and jobs first. */
  async delete(id: string): Promise<void> {
    const res = await this.redis.eval(DELETE, 2, this.keys.pools, this.keys.defaultPool, id);
    if (res === 'default') {
      throw new FailedPreconditionError(`pool "${id}" is the default pool and cannot be deleted: make another pool the default first (longshore pools set-default OTHER)`);
    }
    if (res !== 1) throw await this.notFound(id);
  }

  private async notFound(id: string): Promise<NotFoundError> {
    const ids = (await this.redis.hkeys(this.keys.pools)).sort();
    return new NotFoundError(`pool "${id}" does not exist (pools: ${ids.join(', ') || 'none'})`);
  }
}
