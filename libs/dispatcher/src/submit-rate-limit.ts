import { formatDuration, InvalidArgumentError, RateLimitedError, type Principal } from '@longshore/domain';
import type { SubmitRate } from '@longshore/config';
import type { Keys, Redis } from '@longshore/store';

/**
 * One token bucket per caller, in Redis so every dispatcher replica shares it. KEYS: bucket.
 * ARGV: cost, burst, tokens added per millisecond. Returns {1, 0} when the cost was taken, or
 * {0, milliseconds until it could be}. The clock is Redis' own (TIME), so replicas agree; the key
 * expires once the bucket would be full again, so idle callers leave nothing behind.
 */
const TAKE = `
local cost, burst, rate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
if now > at then tokens = math.min(burst, tokens + (now - at) * rate) end
if cost > tokens then return {0, math.ceil((cost - tokens) / rate)} end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - cost), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
return {1, 0}
`;

type TakeFn = (key: string, cost: number, burst: number, rate: string) => Promise<[number, number]>;

/**
 * Limits how many jobs each token submits (`LONGSHORE_SUBMIT_RATE`), counted in jobs (a batch
 * of N costs N), across all dispatcher replicas. Agents are exempt. A refused submit stores nothing.
 */
export class SubmitRateLimiter {
  private readonly perMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly rate: SubmitRate,
  ) {
    this.perMs = rate.jobs / rate.periodMs;
    if (!(redis as unknown as Record<string, unknown>)['lsSubmitRateTake']) redis.defineCommand('lsSubmitRateTake', { numberOfKeys: 1, lua: TAKE });
  }

  /** Takes `jobs` from the caller's bucket, or throws {@link RateLimitedError} saying when to retry. */
  async take(principal: Principal, jobs: number): Promise<void> {
    if (principal.role === 'agent' || jobs <= 0) return;
    const { burst } = this.rate;
    if (jobs > burst) {
      throw new InvalidArgumentError('specs', `has ${jobs} jobs, more than the ${burst} a token may submit at once (LONGSHORE_SUBMIT_RATE): split the batch`);
    }
    const take = (this.redis as unknown as Record<string, TakeFn>)['lsSubmitRateTake']!.bind(this.redis);
    const [ok, waitMs] = await take(this.keys.submitRate(principal.tokenId), jobs, burst, String(this.perMs));
    if (ok === 1) return;
    const retryAfterMs = Math.max(1, Number(waitMs));
    throw new RateLimitedError(
      `submit rate limit reached for token "${principal.name}": at most ${this.describe()} (LONGSHORE_SUBMIT_RATE); ` +
        `nothing was submitted; retry in ${formatDuration(retryAfterMs)}${jobs > 1 ? ` (this batch counts ${jobs} jobs)` : ''}`,
      retryAfterMs,
    );
  }

  private describe(): string {
    const { jobs, periodMs, burst } = this.rate;
    const per = periodMs === 1000 ? 'second' : periodMs === 60_000 ? 'minute' : periodMs === 3_600_000 ? 'hour' : formatDuration(periodMs);
    return `${jobs} jobs per ${per}, ${burst} at once`;
  }
}
