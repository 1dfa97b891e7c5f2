import { FailureClass, JobState, LongshoreClient } from '@longshore/client';
import { startCluster, type Cluster } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('fault: a job hangs while its agent is alive', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  beforeAll(async () => {
    // The hang lasts five leases: renewals must keep the claim alive. The lease is not shorter
    // because an agent starved of CPU (the suite must pass beside stress-ng) missed renewing a
    // 1 s one and rightly lost the job: that tests the machine, not the renewals.
    cluster = await startCluster({ agents: 2, env: { LONGSHORE_LEASE: '8s', LONGSHORE_STALLED_CHECK: '2s' } });
    ls = LongshoreClient.connect({ env: cluster.clientEnv });
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
  });

  it('is ended by its timeout, not mistaken for lost and run twice', async () => {
    const job = await ls.submit({ command: ['sleep', '600'], timeoutMs: 40_000n, retry: { timeout: 0 } });
    console.log(`hung-job: injected a job that hangs (sleep 600) with a 40 s timeout, on agents with an 8 s lease`);
    const done = await ls.waitForJob(job.id);
    console.log(`hung-job: counted ${done.attempts.length} attempt(s); final ${JobState[done.state]} / ${FailureClass[done.failureClass]}`);
    expect(done.state).toBe(JobState.FAILED);
    expect(done.failureClass).toBe(FailureClass.TIMEOUT);
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]!.failureClass).toBe(FailureClass.TIMEOUT);
  });
});
