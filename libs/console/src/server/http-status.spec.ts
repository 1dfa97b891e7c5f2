import { Code, LongshoreError } from '@longshore/client';
import { describe, expect, it } from 'vitest';
import { explainUnreachable, toHttpError } from './http-status.js';

const CLUSTER = { dispatcher: '10.0.0.5:7400', registry: '10.0.0.5:7401' };

describe('an unreachable service, named', () => {
  it('names the service, its address and the setting that points there, keeping the cause', () => {
    const err = new LongshoreError(Code.Unavailable, 'cannot reach 10.0.0.5:7401: No connection established. Last error: Error: connect ECONNREFUSED 10.0.0.5:7401');
    const named = explainUnreachable(err, CLUSTER) as LongshoreError;
    expect(named.code).toBe(Code.Unavailable);
    expect(named.message).toBe("the console cannot reach the registry at 10.0.0.5:7401 (is the cluster running? the console server's --registry/LONGSHORE_REGISTRY points there): No connection established. Last error: Error: connect ECONNREFUSED 10.0.0.5:7401");
    expect(toHttpError(named).status).toBe(503);
  });

  it('drops grpc-js\'s "Last error: null", which names nothing', () => {
    const err = new LongshoreError(Code.Unavailable, 'cannot reach 10.0.0.5:7400: No connection established. Last error: null');
    expect((explainUnreachable(err, CLUSTER) as Error).message).toBe("the console cannot reach the dispatcher at 10.0.0.5:7400 (is the cluster running? the console server's --dispatcher/LONGSHORE_DISPATCHER points there): No connection established.");
  });

  it('leaves other errors as they are: a server that answered UNAVAILABLE, or any other code', () => {
    const redis = new LongshoreError(Code.Unavailable, 'the server lost its connection to Redis: retry shortly');
    expect(explainUnreachable(redis, CLUSTER)).toBe(redis);
    const bad = new LongshoreError(Code.InvalidArgument, 'cannot reach 10.0.0.5:7401: no');
    expect(explainUnreachable(bad, CLUSTER)).toBe(bad);
  });
});
