import { Code, LongshoreError } from '@longshore/client';
import type { ApiError } from '../api-types.js';

// One table from the API's codes (gRPC status codes) to HTTP statuses, used for every error.
const HTTP_STATUS: Record<Code, number> = {
  [Code.Cancelled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 412,
  [Code.Aborted]: 409,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.Unauthenticated]: 401,
};

/** An error as the console's HTTP status and JSON body, carrying the API's own message. */
export interface HttpError {
  status: number;
  body: ApiError;
}

/**
 * Maps any thrown value once: a {@link LongshoreError} (the API's, or the console's own edge
 * validation) keeps its message; anything else is an internal error whose cause is logged by the
 * caller and never sent.
 */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof LongshoreError) {
    return { status: HTTP_STATUS[err.code] ?? 500, body: { error: { code: Code[err.code] ?? 'Unknown', message: err.message } } };
  }
  return { status: 500, body: { error: { code: 'Internal', message: 'internal error (see the console server log)' } } };
}
