import { FailureClass, JobState, LongshoreClient } from '@longshore/client';
import { startCluster, type Cluster } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('fault: a job hangs while its agent is alive', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  beforeAll(async () => {
    // A short lease, so the hang lasts several leases: renewals must keep the claim alive.
    cluster = await startCluster({ agents: 2, env: { LONGSHORE_LEASE: '1s', LONGSHORE_STALLED_CHECK: '500ms' } });
    ls = LongshoreClient.connect({ env: cluster.clientEnv });
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
  });

  it('is ended by its timeout, not mistaken for lost and run twice', async () => {
    const job = await ls.submit({ command: ['sleep', '60'], timeoutMs: 5000n, retry: { timeout: 0 } });
    console.log(`hung-job: injected a job that hangs (sleep 60) with a 5 s timeout, on agents with a 1 s lease`);
    const done = await ls.waitForJob(job.id);
    console.log(`hung-job: counted ${done.attempts.length} attempt(s); final ${JobState[done.state]} / ${FailureClass[done.failureClass]}`);
    expect(done.state).toBe(JobState.FAILED);
    expect(done.failureClass).toBe(FailureClass.TIMEOUT);
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]!.failureClass).toBe(FailureClass.TIMEOUT);
  });
});
