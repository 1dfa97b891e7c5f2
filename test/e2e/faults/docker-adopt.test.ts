import { Executor, FailureClass, JobState, LongshoreClient } from '@longshore/client';
import { startCluster, waitFor, type Cluster } from '@longshore/testing';
import { describeDocker } from '@longshore/testing/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';

// A container outlives its agent: an agent killed outright and started again with the same id
// adopts the job's container instead of letting the job run twice.
describeDocker('fault: an agent running a container is killed outright, then started again with the same id', ({ host, image, docker }) => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  const agentEnv = { LONGSHORE_AGENT_ID: 'keeper', LONGSHORE_EXECUTORS: 'subprocess,docker', DOCKER_HOST: host, LONGSHORE_ADOPT_WINDOW: '60s' };
  beforeAll(async () => {
    cluster = await startCluster({ agents: [agentEnv] });
    ls = LongshoreClient.connect({ env: cluster.clientEnv });
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
  });

  it('adopts the running container: the job finishes once, in one attempt, with its exit code and its whole log (printed before, during and after the restart)', async () => {
    // The job waits for a file the test writes into its container, so it cannot end before the agent is back.
    const job = await ls.submit({
      executor: Executor.DOCKER,
      image,
      // It prints more once the test says its agent is gone, then waits for the word to end.
      command: ['sh', '-c', 'echo before; until [ -e /away ]; do sleep 0.2; done; echo away; echo away-err >&2; until [ -e /go ]; do sleep 0.2; done; echo after; exit 3'],
    });
    const printed = async (text: string) => {
      for await (const l of ls.logs(job.id)) if (l.text === text) return true;
      return false;
    };
    await waitFor(() => printed('before'), { timeoutMs: 60_000, what: `the job to print "before" (it is ${JSON.stringify(ls.getJob(job.id).then((j) => j))})` }).catch(async (err: unknown) => {
      throw new Error(`${(err as Error).message}; the job: ${JSON.stringify(await ls.getJob(job.id), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    });
    const [container] = await docker.listContainers({ filters: { label: [`longshore.job=${job.id}`] } });
    expect(container, 'the job runs in a container labelled with its id').toBeDefined();

    const agent = cluster.agents[0]!;
    agent.signal('SIGKILL');
    await agent.waitForExit(10_000);
    expect((await docker.getContainer(container!.Id).inspect()).State.Running, 'the container outlives its agent').toBe(true);
    const touch = async (file: string) => {
      const exec = await docker.getContainer(container!.Id).exec({ Cmd: ['sh', '-c', `: > ${file}`] });
      await exec.start({});
    };
    // Printed while no agent follows it: the adopting agent replays it from the engine's log.
    await touch('/away');

    const again = await cluster.startAgent(agentEnv);
    await again.waitForLog((l) => l.msg === 'adopted a run an earlier life of this agent left running' && l['job'] === job.id, 30_000);
    expect((await ls.getJob(job.id)).state).toBe(JobState.RUNNING);
    await touch('/go'); // (busybox's ash has `[` built in; the image has no touch)

    const done = await ls.waitForJob(job.id);
    expect(done).toMatchObject({ state: JobState.FAILED, exitCode: 3, failureClass: FailureClass.EXIT });
    expect(done.attempts, 'the same attempt, adopted: nothing ran twice').toHaveLength(1);
    const lines: string[] = [];
    for await (const l of ls.logs(job.id)) lines.push(l.text);
    // Its whole log, each line once: what it printed before the kill, while its agent was away, and after.
    expect(lines.filter((t) => !t.startsWith('[longshore]')).sort()).toEqual(['after', 'away', 'away-err', 'before']);
    await waitFor(async () => (await docker.listContainers({ all: true, filters: { label: [`longshore.job=${job.id}`] } })).length === 0, {
      timeoutMs: 30_000,
      what: 'the container to be removed',
    });
  });
});
