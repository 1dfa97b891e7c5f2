/**
 * Fault: kill -9 of an agent mid-job. With the default lease (4 s) and stalled check (2 s) the
 * job must run again on the surviving agent within 8 s of the kill, end SUCCEEDED, and keep
 * both attempts in its record: the first closed as `lost` on the dead agent, the second on the
 * survivor.
 */
import { FailureClass, JobState, type LongshoreClient } from '@longshore/client';
import { startCluster, type Cluster } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, tsMs } from '../support.js';
import { describeAttempts, jobLog, stateName, waitForRecord } from './fault-support.js';

const AGENTS = ['kill-a', 'kill-b'];

describe('fault: an agent is SIGKILLed mid-job', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  beforeAll(async () => {
    cluster = await startCluster({ agents: AGENTS.map((id) => ({ LONGSHORE_AGENT_ID: id })) });
    ls = connect(cluster);
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
  });

  it('runs the job again on the other agent once the lease lapses, and records the lost attempt', async () => {
    const job = await ls.submit({ command: ['sh', '-c', 'echo "attempt $LONGSHORE_ATTEMPT started"; sleep 3; echo "attempt $LONGSHORE_ATTEMPT done"'] });
    // Whichever agent claimed it is the one to kill.
    const running = await waitForRecord(ls, job.id, (j) => j.state === JobState.RUNNING && j.attempts.length === 1, 'the job to run on one agent', 60_000);
    const victim = running.attempts[0]!.agentId;
    const survivor = AGENTS.find((id) => id !== victim)!;
    cluster.agents[AGENTS.indexOf(victim)]!.signal('SIGKILL');
    const killedAt = Date.now();
    console.log(`agent-kill: injected SIGKILL of ${victim} while job ${job.id} ran on it (survivor ${survivor})`);

    const rerun = await waitForRecord(ls, job.id, (j) => j.attempts.length >= 2 && j.attempts[1]!.startedAt !== undefined, 'the job to run again', 60_000);
    const failoverMs = tsMs(rerun.attempts[1]!.startedAt) - killedAt;
    const final = await waitForRecord(ls, job.id, (j) => j.finishedAt !== undefined, 'the job to finish', 60_000);
    const lines = (await jobLog(ls, job.id)).map((l) => l.text);
    console.log(
      `agent-kill: counted failover ${failoverMs} ms (kill → second attempt started); final ${stateName(final)}; ` +
        `attempts: ${describeAttempts(final)}; log: ${JSON.stringify(lines)}`,
    );

    // The failover figure is a benchmark's (test/bench/failover.ts); here: it began after the kill.
    expect(failoverMs).toBeGreaterThan(0);
    expect(final.state).toBe(JobState.SUCCEEDED);
    expect(final.attempts).toHaveLength(2);
    expect(final.attempts[0]).toMatchObject({ agentId: victim, failureClass: FailureClass.LOST });
    expect(final.attempts[1]).toMatchObject({ agentId: survivor, exitCode: 0, failureClass: FailureClass.UNSPECIFIED });
    expect(final.agentId).toBe(survivor);
    expect(lines).toContain('attempt 2 done');
  });
});
