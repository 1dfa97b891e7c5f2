/**
 * The key schema: every Redis key and channel Longshore uses, in one place (the README's
 * "Data in Redis" table lists the same). All keys share a prefix (default `ls`) so one Redis can
 * host several clusters side by side.
 *
 * Keys of one pool carry the hash tag `{pool}`: BullMQ's queue (named `{pool}`, so its keys are
 * `ls:{pool}:wait`, `ls:{pool}:<job id>`, …), the job records, logs, indexes, idempotency keys,
 * the reservation and the pool's channels. So a pool lives on one Redis Cluster slot, every
 * lifecycle script touches one slot, and a Redis ACL user can be limited to one pool's keys
 * (`~ls:{pool}:*`, `&ls:{pool}:*`). The cluster-wide catalogue is under `ls:{_}:`.
 */

/** Version of this schema; a service refuses data written under another (see `checkSchema`). */
export const SCHEMA_VERSION = 2;

/**
 * Cluster-wide keys: pools, agents, tokens, rate limits, the schema version. They share the hash
 * tag `{_}` (one slot, so a script or MULTI may touch several of them on a Redis Cluster); `_`
 * cannot be in a pool name, so no pool's ACL pattern reaches them.
 */
export class Keys {
  constructor(readonly prefix = 'ls') {}
  /** `<prefix>:{_}:` — the catalogue's keys start with it. */
  get catalogue(): string {
    return `${this.prefix}:{_}:`;
  }
  /** String: the schema version the data was written with. */
  get schema(): string {
    return `${this.catalogue}schema`;
  }
  /** Hash: pool id → JSON pool record. */
  get pools(): string {
    return `${this.catalogue}pools`;
  }
  /** String: the default pool's id. */
  get defaultPool(): string {
    return `${this.catalogue}default-pool`;
  }
  /** Hash: agent id → JSON agent record (heartbeats). */
  get agents(): string {
    return `${this.catalogue}agents`;
  }
  /** Hash of token id → JSON record (its secret's hash, never the secret). */
  get tokens(): string {
    return `${this.catalogue}tokens`;
  }
  /** Token bucket of one token's submits (`LONGSHORE_SUBMIT_RATE`); expires once full again. */
  submitRate(tokenId: string): string {
    return `${this.catalogue}rate:submit:${tokenId}`;
  }
  /** The keys of one pool. */
  pool(pool: string): PoolKeys {
    return new PoolKeys(this.prefix, pool);
  }
}

/**
 * Keys of one pool, all under `<prefix>:{<pool>}:`. Names here must not clash with BullMQ's own
 * suffixes (wait, active, prioritized, delayed, paused, meta, id, events, marker, pc, stalled,
 * stalled-check, limiter, completed, failed, repeat, de, metrics) nor with job ids, which contain
 * a '.' and never a ':'.
 */
export class PoolKeys {
  /** `<prefix>:{<pool>}:` — BullMQ's key prefix for the pool's queue, and ours. */
  readonly base: string;
  constructor(
    readonly prefix: string,
    readonly pool: string,
  ) {
    this.base = `${prefix}:{${pool}}:`;
  }
  /** BullMQ queue name of the pool (its keys then sit under {@link base}). */
  get queueName(): string {
    return `{${this.pool}}`;
  }
  /** Hash: the job record (fields: see RECORD_FIELDS in record-codec.ts). */
  record(id: string): string {
    return `${this.base}rec:${id}`;
  }
  /** Stream: the job's output lines (absent while it printed nothing). */
  log(id: string): string {
    return `${this.base}log:${id}`;
  }
  /** Channel: a job's state changes ("state") and new log lines ("log"). */
  jobEvents(id: string): string {
    return `${this.base}ev:${id}`;
  }
  /** Sorted set, score 0: every job id of the pool, walked newest first by ZREVRANGEBYLEX. */
  get index(): string {
    return `${this.base}index`;
  }
  /** Sorted set: finished job ids by finish time, for retention by age, count and bytes. */
  get finished(): string {
    return `${this.base}finished`;
  }
  /** String: the job id an idempotency key of one token maps to; expires with the window. */
  idempotency(tokenId: string, key: string): string {
    return `${this.base}idem:${tokenId}:${key}`;
  }
  /** String `jobId|agentId|weight|since`: the pool's one reservation (no starvation). */
  get reservation(): string {
    return `${this.base}reservation`;
  }
  /** Set: the weight classes (`<weight>` or `<weight>:<lane>`) with claimable jobs. */
  get classes(): string {
    return `${this.base}classes`;
  }
  /** Sorted set: claimable jobs of one weight class, scored by queue order. */
  weightClass(cls: string): string {
    return `${this.base}class:${cls}`;
  }
  /** Channel: jobs were added to (or put back into) the queue. */
  get added(): string {
    return `${this.base}added`;
  }
  /** Channel: ids of running jobs to cancel. */
  get cancel(): string {
    return `${this.base}cancel`;
  }
}

/** The pool a job id names (`<pool>.<25 characters>`). */
export function poolOfJob(id: string): string {
  const dot = id.lastIndexOf('.');
  return dot > 0 ? id.slice(0, dot) : '';
}
