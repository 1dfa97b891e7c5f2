import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, Executor, FailureClass, JobState, type LongshoreClient, type LongshoreError } from '@longshore/client';
import { parseDockerAllow } from '@longshore/domain';
import { createDockerExecutor, StartFailedError, type Executor as JobExecutor, type RunHandle, type RunOutcome, type RunRequest } from '@longshore/executors';
import { startCluster, type Cluster } from '@longshore/testing';
import { describeDocker } from '@longshore/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, logLines } from './support.js';

// A job's docker run options on the real engine: the secure defaults, the options a job may set,
// and those only the agent's LONGSHORE_DOCKER_ALLOW can allow (refused at start, and at submit).

const run = randomBytes(4).toString('hex');
const agentId = `agent-docker-options-${run}`;
let jobs = 0;
const nextJobId = () => `job-${run}-${++jobs}`;

// Capability bits (linux/capability.h).
const CAP_NET_RAW = 1n << 13n;
const CAP_SYS_PTRACE = 1n << 19n;

type Ended = RunOutcome | { kind: 'start_failed'; message: string };

describeDocker('docker run options', ({ docker, image, host }) => {
  const plain = createDockerExecutor({ docker, agentId, pool: 'default' });
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), `docker-options-${run}-`));
    await chmod(dataDir, 0o755);
    await writeFile(join(dataDir, 'hello.txt'), 'hello from the host\n', { mode: 0o644 });
  });
  const containersOf = (label: string) => docker.listContainers({ all: true, filters: { label: [label] } });
  afterAll(async () => {
    for (const c of await containersOf(`longshore.agent=${agentId}`)) await docker.getContainer(c.Id).remove({ force: true });
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** Runs a job to its end; a refused start is `start_failed`. */
  const runToEnd = async (executor: JobExecutor, request: Omit<RunRequest, 'onLine'>): Promise<{ ended: Ended; stdout: string[] }> => {
    const stdout: string[] = [];
    try {
      const handle = await executor.start({ ...request, onLine: (stream, text) => stream === 'stdout' && stdout.push(text) }, new AbortController().signal);
      return { ended: await handle.wait(), stdout };
    } catch (err) {
      if (err instanceof StartFailedError) return { ended: { kind: 'start_failed', message: err.message }, stdout };
      throw err;
    }
  };

  /** Starts a job and resolves once it printed `ready`, with every stdout line it printed by then. */
  const startUntilReady = async (executor: JobExecutor, request: Omit<RunRequest, 'onLine'>): Promise<{ handle: RunHandle; lines: string[] }> => {
    const lines: string[] = [];
    let seen!: () => void;
    const ready = new Promise<void>((resolve) => (seen = resolve));
    const handle = await executor.start(
      {
        ...request,
        onLine: (stream, text) => {
          if (stream !== 'stdout') return;
          lines.push(text);
          if (text === 'ready') seen();
        },
      },
      new AbortController().signal,
    );
    await ready;
    return { handle, lines };
  };

  const inspect = async (handle: RunHandle) => {
    if (handle.ref.kind !== 'docker') throw new Error('not a container');
    return docker.getContainer(handle.ref.containerId).inspect();
  };

  it('a job that sets nothing gets the secure defaults: no network, all capabilities dropped but the default set without NET_RAW, no new privileges, a pids limit', async () => {
    const { handle } = await startUntilReady(plain, { jobId: nextJobId(), attempt: 1, command: ['sh', '-c', 'echo ready; exec sleep 1000'], env: {}, docker: { image } });
    try {
      const { HostConfig, Config } = await inspect(handle);
      expect(HostConfig.NetworkMode).toBe('none');
      expect(HostConfig.CapDrop).toEqual(['ALL']);
      expect(HostConfig.CapAdd).toContain('CHOWN');
      expect(HostConfig.CapAdd).not.toContain('NET_RAW');
      expect(HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
      expect(HostConfig.PidsLimit).toBe(512);
      expect(HostConfig.Privileged).toBe(false);
      expect(HostConfig.ReadonlyRootfs).toBe(false);
      expect(HostConfig.Mounts ?? []).toEqual([]);
      expect(Config.User).toBe('');
    } finally {
      await handle.stop(0);
    }
  });

  it("applies the job's user, CPUs and labels, as the job and the engine see them", async () => {
    const jobId = nextJobId();
    const { handle, lines } = await startUntilReady(plain, {
      jobId,
      attempt: 1,
      command: ['sh', '-c', 'id -u; id -g; echo ready; exec sleep 1000'],
      env: {},
      cpusMilli: 500,
      docker: { image, user: '1234:2345', labels: { 'com.example.team': 'data' } },
    });
    try {
      expect(lines).toEqual(['1234', '2345', 'ready']);
      const { HostConfig, Config } = await inspect(handle);
      expect(Config.User).toBe('1234:2345');
      expect(HostConfig.NanoCpus).toBe(500_000_000);
      expect(Config.Labels).toMatchObject({ 'com.example.team': 'data', 'longshore.job': jobId, 'longshore.agent': agentId });
      expect(HostConfig.CapDrop).toEqual(['ALL']);
      expect(HostConfig.NetworkMode).toBe('none');
    } finally {
      await handle.stop(0);
    }
  });

  it('makes the root filesystem read-only when the job asks, with a tmpfs /tmp as scratch space', async () => {
    const script = '(echo x > /probe) 2>/dev/null && echo root-writable || echo root-read-only; echo y > /tmp/scratch && cat /tmp/scratch; grep " /tmp " /proc/mounts | cut -d" " -f3; echo ready; exec sleep 1000';
    const { handle, lines } = await startUntilReady(plain, { jobId: nextJobId(), attempt: 1, command: ['sh', '-c', script], env: {}, docker: { image, readOnlyRoot: true } });
    try {
      expect(lines).toEqual(['root-read-only', 'y', 'tmpfs', 'ready']);
      expect((await inspect(handle)).HostConfig.ReadonlyRootfs).toBe(true);
    } finally {
      await handle.stop(0);
    }
    const writable = await runToEnd(plain, { jobId: nextJobId(), attempt: 1, command: ['sh', '-c', '(echo x > /probe) 2>/dev/null && echo root-writable || echo root-read-only'], env: {}, docker: { image } });
    expect(writable.stdout).toEqual(['root-writable']);
  });

  it('ends start_failed, naming the option and LONGSHORE_DOCKER_ALLOW, when the agent does not allow it, and creates nothing', async () => {
    const cases: [RunRequest['docker'], string][] = [
      [{ image, capAdd: ['SYS_PTRACE'] }, 'capability SYS_PTRACE (docker.cap_add[0])'],
      [{ image, mounts: [{ source: dataDir, target: '/in', readOnly: true }] }, `a mount of host path ${dataDir} (docker.mounts[0].source)`],
      [{ image, network: 'bridge' }, 'network "bridge" (docker.network)'],
      [{ image, privileged: true }, 'privileged mode (docker.privileged)'],
      [{ image, hostPid: true }, "the host's PID namespace (docker.host_pid)"],
    ];
    for (const [options, named] of cases) {
      const jobId = nextJobId();
      const { ended } = await runToEnd(plain, { jobId, attempt: 1, command: ['true'], env: {}, docker: options! });
      expect(ended).toEqual({ kind: 'start_failed', message: expect.stringContaining(`${named} is not allowed by agent ${agentId}'s LONGSHORE_DOCKER_ALLOW`) as string });
      expect(await containersOf(`longshore.job=${jobId}`)).toEqual([]);
    }
  });

  it('with LONGSHORE_DOCKER_ALLOW allowing them, a job adds SYS_PTRACE and reads a host mount; one outside the allowed path is still refused', async () => {
    const allowing = createDockerExecutor({ docker, agentId, pool: 'default', allow: parseDockerAllow(`cap=SYS_PTRACE,mount=${dataDir}`) });
    const jobId = nextJobId();
    const { handle, lines } = await startUntilReady(allowing, {
      jobId,
      attempt: 1,
      command: ['sh', '-c', 'cat /in/hello.txt; (echo x > /in/new) 2>/dev/null && echo mount-writable || echo mount-read-only; echo ready; exec sleep 1000'],
      env: {},
      docker: { image, capAdd: ['SYS_PTRACE'], mounts: [{ source: dataDir, target: '/in', readOnly: true }] },
    });
    try {
      expect(lines).toEqual(['hello from the host', 'mount-read-only', 'ready']);
      const { HostConfig } = await inspect(handle);
      expect(HostConfig.CapAdd).toContain('SYS_PTRACE');
      expect(HostConfig.CapAdd).not.toContain('NET_RAW');
      expect(HostConfig.Mounts).toEqual([expect.objectContaining({ Type: 'bind', Source: dataDir, Target: '/in', ReadOnly: true })]);
    } finally {
      await handle.stop(0);
    }
    const outside = await runToEnd(allowing, { jobId: nextJobId(), attempt: 1, command: ['true'], env: {}, docker: { image, mounts: [{ source: '/etc', target: '/etc-host', readOnly: true }] } });
    expect(outside.ended).toEqual({ kind: 'start_failed', message: expect.stringContaining('a mount of host path /etc (docker.mounts[0].source) is not allowed') as string });
  });

  describe('through the API, with a pool whose docker agent allows only cap=SYS_PTRACE', () => {
    let cluster: Cluster;
    let ls: LongshoreClient;
    beforeAll(async () => {
      cluster = await startCluster({
        agents: [{ LONGSHORE_AGENT_ID: `ptrace-${run}`, LONGSHORE_EXECUTORS: 'subprocess,docker', DOCKER_HOST: host, LONGSHORE_DOCKER_ALLOW: 'cap=CAP_SYS_PTRACE' }],
      });
      ls = connect(cluster);
    });
    afterAll(async () => {
      ls?.close();
      await cluster?.stop();
    });

    it('advertises the allow-list, refuses at submit what the agent does not allow (INVALID_ARGUMENT naming the field and the entry), and runs what it allows', async () => {
      const { agents } = await ls.registry.listAgents({});
      expect(agents.map((a) => [a.id, a.dockerAllow])).toEqual([[`ptrace-${run}`, 'cap=SYS_PTRACE']]);

      const before = (await ls.dispatcher.listJobs({ pageSize: 500 })).jobs.length;
      const err = (await ls.submit({ executor: Executor.DOCKER, image, command: ['true'], docker: { capAdd: ['SYS_PTRACE', 'NET_ADMIN'] } }).catch((e: unknown) => e)) as LongshoreError;
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.message).toContain(`docker.cap_add[1]: capability NET_ADMIN is not allowed by any live docker agent of pool "default" (their LONGSHORE_DOCKER_ALLOW: ptrace-${run}: "cap=SYS_PTRACE")`);
      expect(err.message).toContain('"cap=NET_ADMIN"');
      const batch = (await ls.dispatcher
        .submitJobs({ specs: [{ command: ['true'] }, { executor: Executor.DOCKER, image, command: ['true'], docker: { privileged: true } }] })
        .catch((e: unknown) => e)) as LongshoreError;
      expect(batch.code).toBe(Code.InvalidArgument);
      expect(batch.message).toMatch(/^specs\[1\]\.docker\.privileged: privileged mode is not allowed/);
      expect((await ls.dispatcher.listJobs({ pageSize: 500 })).jobs.length).toBe(before);

      const job = await ls.submit({ executor: Executor.DOCKER, image, command: ['sh', '-c', 'grep CapEff /proc/self/status'], docker: { capAdd: ['SYS_PTRACE'] } });
      const done = await ls.waitForJob(job.id);
      expect(done).toMatchObject({ state: JobState.SUCCEEDED });
      const [line] = await logLines(ls, job.id);
      const effective = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/.exec(line ?? '')?.[1] ?? 'x'}`);
      expect(effective & CAP_SYS_PTRACE, `SYS_PTRACE in ${line}`).toBe(CAP_SYS_PTRACE);
      expect(effective & CAP_NET_RAW, `no NET_RAW in ${line}`).toBe(0n);
    });

    it('a job reaching an agent that does not allow its option ends start_failed naming it (the pool had no live docker agent at submit)', async () => {
      await ls.registry.createPool({ id: `empty-${run}` });
      const job = await ls.submit({ pool: `empty-${run}`, executor: Executor.DOCKER, image, command: ['true'], docker: { capAdd: ['SYS_PTRACE'] }, retry: { startFailed: 0 } });
      expect(job.state).toBe(JobState.QUEUED); // accepted: agents may join later
      await cluster.startAgent({ LONGSHORE_AGENT_ID: `late-${run}`, LONGSHORE_POOL: `empty-${run}`, LONGSHORE_EXECUTORS: 'docker', LONGSHORE_DEFAULT_EXECUTOR: 'docker', DOCKER_HOST: host });
      const done = await ls.waitForJob(job.id);
      expect(done).toMatchObject({ state: JobState.FAILED, failureClass: FailureClass.START_FAILED });
      expect(done.attempts.at(-1)?.message ?? '').toContain(`capability SYS_PTRACE (docker.cap_add[0]) is not allowed by agent late-${run}'s LONGSHORE_DOCKER_ALLOW`);
    });
  });
});
