import { ResourceExhaustedError } from './resource-exhausted-error.js';

/**
 * Thrown when a caller is over a rate limit (e.g. `LONGSHORE_SUBMIT_RATE`): nothing was done,
 * and the same request succeeds after `retryAfterMs`. The gRPC edge sends that delay as the
 * `retry-after-ms` trailer.
 */
export class RateLimitedError extends ResourceExhaustedError {
  override name = 'RateLimitedError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}
