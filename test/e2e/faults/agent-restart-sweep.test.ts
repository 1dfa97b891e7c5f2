import { JobState, LongshoreClient } from '@longshore/client';
import { processGone, startCluster, waitFor, type Cluster } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const alive = (pid: number) => !processGone(pid);

describe('fault: an agent killed outright, then started again with the same id', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  beforeAll(async () => {
    cluster = await startCluster({ agents: [{ LONGSHORE_AGENT_ID: 'phoenix' }, { LONGSHORE_AGENT_ID: 'other' }] });
    ls = LongshoreClient.connect({ env: cluster.clientEnv });
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
  });

  it('kills the job processes its previous run left behind', async () => {
    // Two 0.75 jobs cannot share an agent: one lands on each.
    const jobs = await Promise.all([1, 2].map(() => ls.submit({ weightMilli: 750, command: ['sh', '-c', 'sleep 120 & echo $!; wait'] })));
    const pids = new Map<string, number>();
    for (const j of jobs) {
      for await (const l of ls.logs(j.id, { follow: true })) {
        pids.set(j.id, Number(l.text));
        break;
      }
    }
    const onPhoenix = await waitFor(async () => {
      for (const j of jobs) if ((await ls.getJob(j.id)).attempts[0]?.agentId === 'phoenix') return j.id;
      return undefined;
    }, { what: 'a job on phoenix' });
    const orphan = pids.get(onPhoenix)!;
    const phoenix = cluster.agents[0]!;
    phoenix.signal('SIGKILL');
    await phoenix.waitForExit(10_000);
    console.log(`agent-restart-sweep: injected SIGKILL of phoenix; its job's process ${orphan} alive afterwards: ${alive(orphan)}`);
    expect(alive(orphan)).toBe(true); // job processes outlive their agent...
    await cluster.startAgent({ LONGSHORE_AGENT_ID: 'phoenix' });
    await waitFor(() => !alive(orphan), { timeoutMs: 10_000, what: `process ${orphan} to be killed by the restarted agent` });
    console.log(`agent-restart-sweep: counted the orphan ${orphan} gone after phoenix restarted`);
    // ...the other agent's job is untouched.
    const otherJob = jobs.find((j) => j.id !== onPhoenix)!;
    expect(alive(pids.get(otherJob.id)!)).toBe(true);
    for (const j of jobs) await ls.dispatcher.cancelJob({ id: j.id });
    for (const j of jobs) expect((await ls.waitForJob(j.id)).state).toBe(JobState.CANCELLED);
  });
});
