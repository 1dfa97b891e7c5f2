/**
 * Fault: an agent running a container is frozen (SIGSTOP) past its lease while another agent of
 * the pool sweeps, then resumed (SIGCONT). Its claim lapses and the job is `orphaned` (its run is
 * recorded: the sweep waits LONGSHORE_ADOPT_WINDOW for the agent to come back). The agent never
 * went away: on waking it takes its claim back on the same attempt instead of stopping the run,
 * so the job is not failed (or retried) for a restart that never comes. Seen first under load
 * (ECS bench, load ~17): late renewals made jobs of a live agent fail by the adopt window.
 */
import { Executor, JobState, LongshoreClient } from '@longshore/client';
import { startCluster, waitFor, type Cluster } from '@longshore/testing';
import { describeDocker } from '@longshore/testing/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeAttempts, jobLog, stateName, waitForRecord } from './fault-support.js';

describeDocker('fault: an agent running a container is frozen past its lease, its job orphaned, then resumed', ({ host, image, docker }) => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  /** Short claims; an adopt window far longer than the test waits for anything. */
  const env = { LONGSHORE_LEASE: '2s', LONGSHORE_STALLED_CHECK: '1s', LONGSHORE_ADOPT_WINDOW: '60s' };
  const keeperEnv = { LONGSHORE_AGENT_ID: 'lapse-keeper', LONGSHORE_EXECUTORS: 'subprocess,docker', DOCKER_HOST: host };
  // It cannot run the docker job; it sweeps the pool while the keeper is frozen.
  const sweeperEnv = { LONGSHORE_AGENT_ID: 'lapse-sweeper', LONGSHORE_EXECUTORS: 'subprocess' };
  beforeAll(async () => {
    cluster = await startCluster({ agents: [keeperEnv, sweeperEnv], env });
    ls = LongshoreClient.connect({ env: cluster.clientEnv });
  });
  afterAll(async () => {
    // Never leave a stopped process behind: stop() would wait out its SIGTERM.
    for (const a of cluster?.agents ?? []) a.signal('SIGCONT');
    ls?.close();
    await cluster?.stop();
  });

  it('takes the claim back on waking: the same attempt, the same container, succeeded with its whole log', async () => {
    // It waits for a file the test writes into its container, so it cannot end during the freeze.
    const job = await ls.submit({ executor: Executor.DOCKER, image, command: ['sh', '-c', 'echo before; until [ -e /go ]; do sleep 0.2; done; echo after'] });
    await waitFor(async () => (await jobLog(ls, job.id)).some((l) => l.text === 'before'), { timeoutMs: 60_000, what: 'the job to print "before"' });
    const [container] = await docker.listContainers({ filters: { label: [`longshore.job=${job.id}`] } });
    expect(container, 'the job runs in a container labelled with its id').toBeDefined();

    const keeper = cluster.agents[0]!;
    keeper.signal('SIGSTOP');
    // The sweeper saw its claim lapse and kept the job for its agent to come back: the state the bug left it in.
    await waitForRecord(ls, job.id, (j) => j.state === JobState.ORPHANED, 'the job to be orphaned while its agent is frozen', 30_000);
    keeper.signal('SIGCONT');
    await keeper.waitForLog((l) => String(l.msg).includes('it took the claim back') && l['job'] === job.id, 30_000);
    await waitForRecord(ls, job.id, (j) => j.state === JobState.RUNNING, 'the job to run again under the taken-back claim', 30_000);
    expect((await docker.getContainer(container!.Id).inspect()).State.Running, 'its run was never stopped').toBe(true);

    const exec = await docker.getContainer(container!.Id).exec({ Cmd: ['sh', '-c', ': > /go'] });
    await exec.start({});
    const done = await ls.waitForJob(job.id);
    console.log(`docker-lapse: final ${stateName(done)}; attempts: ${describeAttempts(done)}`);
    expect(done).toMatchObject({ state: JobState.SUCCEEDED, exitCode: 0, agentId: 'lapse-keeper' });
    expect(done.attempts, 'the same attempt, taken back: nothing ran twice, nothing charged').toHaveLength(1);
    const lines = (await jobLog(ls, job.id)).map((l) => l.text).filter((t) => !t.startsWith('[longshore]'));
    expect(lines).toEqual(['before', 'after']);
  });
});
