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

/** Where the console finds the cluster: named in its messages when a service cannot be reached. */
export interface ServiceAddresses {
  dispatcher: string;
  registry: string;
}

/**
 * An UNAVAILABLE from the SDK says "cannot reach HOST:PORT: …": for the console's user, who set
 * neither address, the message names the service too, and the setting that points at it.
 * Anything else is returned as it is.
 */
export function explainUnreachable(err: unknown, cluster: ServiceAddresses): unknown {
  if (!(err instanceof LongshoreError) || err.code !== Code.Unavailable) return err;
  const services: [string, string, string][] = [
    ['dispatcher', cluster.dispatcher, '--dispatcher/LONGSHORE_DISPATCHER'],
    ['registry', cluster.registry, '--registry/LONGSHORE_REGISTRY'],
  ];
  for (const [name, address, setting] of services) {
    const prefix = `cannot reach ${address}: `;
    if (!err.message.startsWith(prefix)) continue;
    // grpc-js says "Last error: null" when it has no error to name: that says nothing.
    const why = err.message.slice(prefix.length).replace(/\.?\s*Last error: null\.?$/, '.');
    return new LongshoreError(Code.Unavailable, `the console cannot reach the ${name} at ${address} (is the cluster running? the console server's ${setting} points there): ${why}`, { cause: err });
  }
  return err;
}
