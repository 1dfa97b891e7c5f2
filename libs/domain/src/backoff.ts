import type { RetryPolicy } from './model.js';

/**
 * Delay before retry number `retry` (1 = the first retry): exponential from the policy's first
 * backoff, capped, with "equal jitter" (half fixed, half random) so retries of many jobs that
 * failed together do not all come back at once.
 */
export function backoffFor(policy: Pick<RetryPolicy, 'backoffMs' | 'maxBackoffMs'>, retry: number, random = Math.random): number {
  const exp = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.max(0, retry - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}
