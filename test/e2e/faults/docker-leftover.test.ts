import { Executor, FailureClass, JobState, LongshoreClient } from '@longshore/client';
import { startCluster, waitFor, type Cluster } from '@longshore/testing';
import { describeDocker } from '@longshore/testing/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';

// A container outlives its agent; when that agent never comes back, the job runs again elsewhere
// once the adopt window is over, and another agent of the pool on the same engine removes the
// container it left (the job no longer wants it).
describeDocker('fault: an agent running a container dies for good', ({ host, image, docker }) => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  const common = { LONGSHORE_EXECUTORS: 'subprocess,docker', DOCKER_HOST: host };
  beforeAll(async () => {
    cluster = await startCluster({
      agents: [{ ...common, LONGSHORE_AGENT_ID: 'gone' }],
      env: { LONGSHORE_LEASE: '3s', LONGSHORE_STALLED_CHECK: '1s', LONGSHORE_ADOPT_WINDOW: '2s' },
    });
    ls = LongshoreClient.connect({ env: cluster.clientEnv });
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
  });

  it('runs the job again on another agent after the adopt window, and that agent removes the container left behind', async () => {
    const job = await ls.submit({
      executor: Executor.DOCKER,
      image,
      command: ['sh', '-c', 'echo "attempt $LONGSHORE_ATTEMPT"; if [ "$LONGSHORE_ATTEMPT" = 1 ]; then sleep 1000; fi'],
    });
    await waitFor(async () => (await docker.listContainers({ filters: { label: [`longshore.job=${job.id}`, 'longshore.attempt=1'] } })).length === 1, {
      timeoutMs: 60_000,
      what: 'the first attempt to run in a container',
    });
    const gone = cluster.agents[0]!;
    gone.signal('SIGKILL');
    await gone.waitForExit(10_000);

    const survivor = await cluster.startAgent({ ...common, LONGSHORE_AGENT_ID: 'survivor' });
    const done = await ls.waitForJob(job.id);
    expect(done.state).toBe(JobState.SUCCEEDED);
    expect(done.attempts.map((a) => [a.agentId, a.failureClass])).toEqual([
      ['gone', FailureClass.LOST],
      ['survivor', FailureClass.UNSPECIFIED],
    ]);
    await survivor.waitForLog((l) => l.msg === 'removed a job run another agent left behind: its job no longer runs it' && l['job'] === job.id, 60_000);
    await waitFor(async () => (await docker.listContainers({ all: true, filters: { label: [`longshore.job=${job.id}`] } })).length === 0, {
      timeoutMs: 30_000,
      what: "the dead agent's container to be removed",
    });
  });
});
