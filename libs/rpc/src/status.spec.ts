import { status as GrpcStatus } from '@grpc/grpc-js';
import { Code, RateLimitedError } from '@longshore/domain';
import { silentLogger } from '@longshore/telemetry';
import { describe, expect, it } from 'vitest';
import { fromServiceError, RETRY_AFTER_MS, toWireStatus } from './status.js';

describe('rate-limit errors on the wire', () => {
  it('carry their retry-after as a trailer, and come back as RateLimitedError on the client', () => {
    const wire = toWireStatus(new RateLimitedError('slow down; retry in 1.5s', 1500), silentLogger(), 'SubmitJob');
    expect(wire.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(wire.metadata.get(RETRY_AFTER_MS)).toEqual(['1500']);
    const back = fromServiceError({ ...wire, message: wire.details }, 'dispatcher');
    expect(back).toBeInstanceOf(RateLimitedError);
    expect(back.code).toBe(Code.ResourceExhausted);
    expect((back as RateLimitedError).retryAfterMs).toBe(1500);
  });
});

/** A reply error as ioredis raises it (its class is named ReplyError). */
function replyError(message: string): Error {
  const e = new Error(message);
  e.name = 'ReplyError';
  return e;
}

describe('Redis failing over or unreachable', () => {
  it.each([
    ["READONLY You can't write against a read only replica. script: 119b0beb, on @user_script:1."],
    ['LOADING Redis is loading the dataset in memory'],
    ['MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no'],
    ['UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)'],
    ['NOREPLICAS Not enough good replicas to write.'],
    ['CLUSTERDOWN The cluster is down'],
    ['TRYAGAIN Multiple keys request during rehashing of slot'],
  ])('a reply of %s becomes UNAVAILABLE: the caller retries, it is not a server bug', (message) => {
    const wire = toWireStatus(replyError(message), silentLogger(), 'SubmitJobs');
    expect(wire.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(wire.details).toMatch(/retry/);
  });

  it.each([['All sentinels are unreachable. Retrying from scratch after 10ms.'], ['Failed to refresh slots cache.'], ['Connection is closed.'], ['Command aborted due to connection close']])(
    "ioredis's %s becomes UNAVAILABLE",
    (message) => {
      expect(toWireStatus(new Error(message), silentLogger(), 'SubmitJobs').code).toBe(GrpcStatus.UNAVAILABLE);
    },
  );

  it('other Redis replies stay INTERNAL with a generic message (a bug, not a failover)', () => {
    const wire = toWireStatus(replyError('ERR Error running script: attempt to index a nil value'), silentLogger(), 'SubmitJobs');
    expect(wire.code).toBe(GrpcStatus.INTERNAL);
    expect(wire.details).toBe('internal error (see the server log)');
  });
});
