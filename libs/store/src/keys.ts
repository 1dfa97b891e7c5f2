/**
 * Every Redis key Longshore writes (besides BullMQ's own), in one place. All share a prefix
 * (default `ls`) so one Redis can host several clusters side by side.
 */
export class Keys {
  constructor(readonly prefix = 'ls') {}
  job(id: string): string {
    return `${this.prefix}:job:${id}`;
  }
  log(id: string): string {
    return `${this.prefix}:log:${id}`;
  }
  /** Pub/sub channel announcing a job's state changes ("state") and new log lines ("log"). */
  jobEvents(id: string): string {
    return `${this.prefix}:ev:${id}`;
  }
  /** Every job id, score 0, so ZRANGEBYLEX walks them in creation order (ids sort by time). */
  get jobs(): string {
    return `${this.prefix}:jobs`;
  }
  /** Finished job ids scored by finish time, for retention by age and count. */
  get finished(): string {
    return `${this.prefix}:jobs:finished`;
  }
  get pools(): string {
    return `${this.prefix}:pools`;
  }
  get defaultPool(): string {
    return `${this.prefix}:default-pool`;
  }
  get agents(): string {
    return `${this.prefix}:agents`;
  }
  /** Pub/sub channel carrying cancel requests to the agents. */
  get cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }
  /** Hash of token id → JSON record (its secret's hash, never the secret). */
  get tokens(): string {
    return `${this.prefix}:tokens`;
  }
  idempotency(key: string): string {
    return `${this.prefix}:idem:${key}`;
  }
  /** Token bucket of one token's submits (`LONGSHORE_SUBMIT_RATE`); expires once full again. */
  submitRate(tokenId: string): string {
    return `${this.prefix}:rate:submit:${tokenId}`;
  }
}
