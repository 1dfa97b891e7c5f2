import { Code, Executor, JobState, LongshoreClient, LongshoreError } from '@longshore/client';
import { startCluster, waitFor, type Cluster } from '@longshore/testing';
import { describeDocker } from '@longshore/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, tsMs } from './support.js';

const MI = 1024 * 1024;

// A pool that says what a standard agent is: a job's weight becomes its limits, enforced.
describe('weights as limits under a pool\'s standard agent', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  beforeAll(async () => {
    cluster = await startCluster({
      agents: [{ LONGSHORE_POOL: 'std' }],
      beforeAgents: async (env) => {
        const c = LongshoreClient.connect({ env });
        await c.registry.createPool({ id: 'std', standard: { cpusMilli: 1000, memoryBytes: BigInt(256 * MI) } });
        c.close();
      },
    });
    ls = connect(cluster);
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
  });

  it("gives a job without limits its weight's share, and runs it under that CPU quota", async () => {
    // The job reads the CFS quota of its own cpu cgroup (cgroup v1, mounted at /sys/fs/cgroup/cpu here).
    const job = await ls.submit({
      pool: 'std',
      weightMilli: 500,
      command: ['sh', '-c', 'p=$(sed -n "s/^[0-9]*:cpu:\\(.*\\)$/\\1/p" /proc/self/cgroup); cat "/sys/fs/cgroup/cpu$p/cpu.cfs_period_us" "/sys/fs/cgroup/cpu$p/cpu.cfs_quota_us"'],
    });
    const done = await ls.waitForJob(job.id);
    expect(done.spec).toMatchObject({ cpusMilli: 500, memoryBytes: BigInt(128 * MI) });
    const lines: string[] = [];
    for await (const l of ls.logs(job.id)) lines.push(l.text);
    expect(lines, done.attempts.map((a) => a.message).join("; ")).toEqual(['100000', '50000']);
  });

  it("keeps a job's own limits within its share, and refuses more, with the numbers", async () => {
    const within = await ls.submit({ pool: 'std', weightMilli: 500, memoryBytes: BigInt(64 * MI), command: ['true'] });
    expect((await ls.getJob(within.id)).spec).toMatchObject({ cpusMilli: 500, memoryBytes: BigInt(64 * MI) });
    const err = await ls.submit({ pool: 'std', weightMilli: 500, memoryBytes: BigInt(200 * MI), command: ['true'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LongshoreError);
    expect((err as LongshoreError).code).toBe(Code.InvalidArgument);
    expect((err as LongshoreError).message).toContain(`200Mi is more than weight 0.5's share of pool "std"'s standard agent (128Mi of 256Mi)`);
  });
});

describeDocker("weights as limits of docker jobs under a pool's standard agent", ({ host, image, docker }) => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  beforeAll(async () => {
    cluster = await startCluster({
      agents: [{ LONGSHORE_POOL: 'std-docker', LONGSHORE_EXECUTORS: 'subprocess,docker', DOCKER_HOST: host }],
      beforeAgents: async (env) => {
        const c = LongshoreClient.connect({ env });
        await c.registry.createPool({ id: 'std-docker', standard: { cpusMilli: 2000, memoryBytes: BigInt(512 * MI) } });
        c.close();
      },
    });
    ls = connect(cluster);
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
  });

  it("runs a container with its weight's share of CPUs and memory, as docker inspect shows", async () => {
    const job = await ls.submit({ pool: 'std-docker', weightMilli: 250, executor: Executor.DOCKER, image, command: ['sleep', '1000'] });
    const [container] = await waitFor(
      async () => {
        const found = await docker.listContainers({ filters: { label: [`longshore.job=${job.id}`] } });
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 60_000, what: 'the job to run in a container' },
    );
    const { HostConfig } = await docker.getContainer(container!.Id).inspect();
    expect({ NanoCpus: HostConfig.NanoCpus, Memory: HostConfig.Memory }).toEqual({ NanoCpus: 500_000_000, Memory: 128 * MI });
    await ls.dispatcher.cancelJob({ id: job.id });
    expect((await ls.waitForJob(job.id)).state).toBe(JobState.CANCELLED);
  });

  it('never runs more weight in containers than the agent has, and packs what fits', async () => {
    // Four containers of weight 0.5 on one agent of capacity 1.0: two at a time.
    const jobs = await Promise.all(Array.from({ length: 4 }, () => ls.submit({ pool: 'std-docker', weightMilli: 500, executor: Executor.DOCKER, image, command: ['sleep', '2'] })));
    const done = await Promise.all(jobs.map((j) => ls.waitForJob(j.id)));
    expect(done.map((j) => j.state)).toEqual(done.map(() => JobState.SUCCEEDED));
    const runs = done.map((j) => ({ start: tsMs(j.attempts[0]!.startedAt), end: tsMs(j.attempts[0]!.finishedAt), weight: j.weightMilli }));
    const peak = Math.max(...runs.map((r) => runs.filter((o) => o.start <= r.start && r.start < o.end).reduce((n, o) => n + o.weight, 0)));
    expect(peak).toBe(1000);
  });
});
