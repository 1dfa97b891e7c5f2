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
