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

/** Errors from the Redis client that mean "cannot reach Redis now" rather than a bug. */
function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  // ioredis names some of these only in the error's name (MaxRetriesPerRequestError).
  if (/MaxRetriesPerRequest|ConnectionClosed/.test(err.name)) return true;
  return (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ETIMEDOUT' ||
    code === 'EPIPE' ||
    /Connection is closed|Stream isn't writeable|enableOfflineQueue|MaxRetriesPerRequest|ECONNREFUSED/.test(err.message)
  );
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
      'the server lost its connection to Redis: the request may or may not have taken effect; retry shortly (a submit with the same idempotency key is safe to retry)',
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
