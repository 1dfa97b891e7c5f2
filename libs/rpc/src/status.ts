import { status as GrpcStatus, type ServiceError, Metadata } from '@grpc/grpc-js';
import { Code, LongshoreError, RateLimitedError, UnavailableError } from '@longshore/domain';
import type { Logger } from '@longshore/telemetry';

/** Trailer carrying how long a rate-limited caller should wait, in milliseconds. */
export const RETRY_AFTER_MS = 'retry-after-ms';

/** What a handler failure becomes on the wire. */
export interface WireStatus {
  code: GrpcStatus;
  details: string;
  metadata: Metadata;
}

/**
 * Replies Redis gives while it is failing over, loading or resharding: the same request succeeds
 * once that is over, so the caller should retry rather than report a server bug.
 */
const TRANSIENT_REPLY = /^(READONLY|LOADING|MASTERDOWN|UNBLOCKED|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|BUSY|NOMASTERLINK)\b/;

/**
 * ioredis's own messages when it has no usable server (Sentinel, Cluster, timeouts), or lost it
 * with the command sent and unanswered (an AbortError: a pipeline cut by a failover).
 */
const NO_SERVER =
  /Connection is closed|Command aborted due to connection close|Stream isn't writeable|enableOfflineQueue|MaxRetriesPerRequest|ECONNREFUSED|All sentinels are unreachable|None of the sentinels|Failed to refresh slots cache|Too many Cluster redirections|Command timed out/;

/** Errors from the Redis client that mean "cannot reach a usable Redis now" rather than a bug. */
function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  // ioredis names some of these only in the error's name (MaxRetriesPerRequestError).
  if (/MaxRetriesPerRequest|ConnectionClosed|ClusterAllFailed/.test(err.name)) return true;
  if (err.name === 'ReplyError' && TRANSIENT_REPLY.test(err.message)) return true;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE' || NO_SERVER.test(err.message);
}

/**
 * The one place any thrown value becomes a gRPC status. Longshore errors keep their code and
 * message; lost Redis connections become UNAVAILABLE; anything else is INTERNAL with a generic
 * message (the cause is logged, never sent).
 */
export function toWireStatus(err: unknown, logger: Logger, method: string): WireStatus {
  let e: unknown = err;
  if (!(e instanceof LongshoreError) && isConnectionError(e)) {
    e = new UnavailableError(
      'the server could not reach a writable Redis (connection lost, or a failover under way): the request may or may not have taken effect; retry shortly (a submit with the same idempotency key is safe to retry)',
      { cause: err },
    );
  }
  if (e instanceof LongshoreError) {
    if (e.code === Code.Unavailable || e.code === Code.Internal) logger.warn({ err, method }, 'request failed');
    const metadata = new Metadata();
    if (e instanceof RateLimitedError) metadata.set(RETRY_AFTER_MS, String(e.retryAfterMs));
    return { code: e.code as number as GrpcStatus, details: e.message, metadata };
  }
  logger.error({ err, method }, 'unexpected error in handler');
  return { code: GrpcStatus.INTERNAL, details: 'internal error (see the server log)', metadata: new Metadata() };
}

/** The client side: a gRPC error as a {@link LongshoreError} with the same code and message. */
export function fromServiceError(err: unknown, target: string): LongshoreError {
  if (err instanceof LongshoreError) return err;
  const se = err as Partial<ServiceError>;
  if (typeof se.code === 'number') {
    const message =
      se.code === GrpcStatus.UNAVAILABLE
        ? `cannot reach ${target}: ${(se.details || 'unavailable').replace(/\.?\s*Resolution note:.*$/s, '')}`
        : se.details || se.message || 'request failed';
    const retryAfter = Number(se.metadata?.get(RETRY_AFTER_MS)[0] ?? NaN);
    if (se.code === GrpcStatus.RESOURCE_EXHAUSTED && Number.isFinite(retryAfter)) return new RateLimitedError(message, retryAfter);
    return new LongshoreError(se.code as number as Code, message, { cause: err });
  }
  return new LongshoreError(Code.Unknown, err instanceof Error ? err.message : String(err), { cause: err });
}
