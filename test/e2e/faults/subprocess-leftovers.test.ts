import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailureClass, JobState, LongshoreClient } from '@longshore/client';
import { processGone, startCluster, type Cluster } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Run cgroups need root (as on the hosts these tests run on); under CI they must run.
const root = process.getuid?.() === 0;
const ci = process.env['CI'] === 'true';
if (!root) console.warn(`subprocess-leftovers.test: ${ci ? 'will fail (CI=true)' : 'skipped'}: run cgroups need an agent running as root`);

// The job starts a daemon that leaves its process group (setsid), waits until it has (field 5
// of /proc/<pid>/stat, its pgrp, is no longer the job's), then prints "<its pid> <HOME>" (HOME
// is the run's private directory) and goes on as `rest` says.
const escape = (rest: string) =>
  `setsid sh -c "exec sleep 1000" </dev/null >/dev/null 2>&1 & p=$!; while [ "$(cut -d" " -f5 /proc/$p/stat)" = "$$" ]; do sleep 0.01; done; echo "$p $HOME"; ${rest}`;

describe.skipIf(!root && !ci)('subprocess runs: a cgroup per run, and what an agent killed outright left', () => {
  // Job uids and the firewall are off: with uids, what a job leaves is killed by its uid anyway,
  // and only the run cgroup is under test here.
  const agentId = `leftovers-${process.pid}`;
  const jobDir = mkdtempSync(join(tmpdir(), 'subprocess-leftovers-'));
  const agentEnv = { LONGSHORE_AGENT_ID: agentId, LONGSHORE_JOB_DIR: jobDir, LONGSHORE_JOB_UIDS: 'off', LONGSHORE_JOB_FIREWALL: 'off' };
  const daemons: number[] = [];
  let cluster: Cluster;
  let ls: LongshoreClient;
  beforeAll(async () => {
    if (!root) throw new Error('run cgroups need an agent running as root under CI=true');
    cluster = await startCluster({ agents: [agentEnv] });
    ls = LongshoreClient.connect({ env: cluster.clientEnv });
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
    for (const pid of daemons) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
    rmSync(jobDir, { recursive: true, force: true });
  });

  /** The first line of the job's log: the daemon's pid and the run's private directory. */
  async function printed(jobId: string): Promise<{ pid: number; dir: string }> {
    for await (const l of ls.logs(jobId, { follow: true })) {
      const [pid = '', dir = ''] = l.text.split(' ');
      daemons.push(Number(pid));
      return { pid: Number(pid), dir };
    }
    throw new Error(`job ${jobId} printed nothing`);
  }

  it('advertises that each run gets a cgroup of its own', async () => {
    const { agents } = await ls.registry.listAgents({ pool: '' });
    const mine = agents.find((a) => a.id === agentId);
    expect(mine?.isolation?.detail).toMatch(/each run in a cgroup v(1 freezer|2) cgroup of its own, all of whose processes are killed when it ends/);
  });

  it('kills a daemon that left the job’s process group when the job exits, on cancel and on timeout', async () => {
    const exits = await ls.submit({ command: ['sh', '-c', escape('exit 0')] });
    const exitsDaemon = await printed(exits.id);
    expect((await ls.waitForJob(exits.id)).state).toBe(JobState.SUCCEEDED);
    expect(processGone(exitsDaemon.pid)).toBe(true);

    const cancelled = await ls.submit({ command: ['sh', '-c', escape('sleep 1000')] });
    const cancelledDaemon = await printed(cancelled.id);
    expect(processGone(cancelledDaemon.pid)).toBe(false);
    await ls.dispatcher.cancelJob({ id: cancelled.id });
    expect((await ls.waitForJob(cancelled.id)).state).toBe(JobState.CANCELLED);
    expect(processGone(cancelledDaemon.pid)).toBe(true);

    // Long enough for the job to print on a loaded machine; only the timeout can end it.
    const timedOut = await ls.submit({ command: ['sh', '-c', escape('sleep 1000')], timeoutMs: 15_000n });
    const timedOutDaemon = await printed(timedOut.id);
    const done = await ls.waitForJob(timedOut.id);
    expect(done.failureClass).toBe(FailureClass.TIMEOUT);
    expect(processGone(timedOutDaemon.pid)).toBe(true);
    // Every run's private directory is gone with it.
    for (const { dir } of [exitsDaemon, cancelledDaemon, timedOutDaemon]) {
      expect(dir.startsWith(join(jobDir, agentId) + '/')).toBe(true);
      expect(existsSync(dir)).toBe(false);
    }
  });

  it('removes the directories and kills the daemons of runs killed with their agent when it starts again', { timeout: 300_000 }, async () => {
    const jobs = await Promise.all([1, 2, 3].map(() => ls.submit({ weightMilli: 100, command: ['sh', '-c', escape('sleep 1000')] })));
    const runs = await Promise.all(jobs.map((j) => printed(j.id)));
    // A directory of another agent sharing the job directory must be left alone.
    const othersDir = join(jobDir, 'another-agent', 'job-x-1');
    mkdirSync(othersDir, { recursive: true });
    const agent = cluster.agents[0]!;
    agent.signal('SIGKILL');
    await agent.waitForExit(30_000);
    for (const run of runs) {
      expect(existsSync(run.dir)).toBe(true); // left behind by the killed agent...
      expect(processGone(run.pid)).toBe(false); // ...with the daemons (they left their groups)
    }
    // The restarted agent cleans up before it says it is starting to claim.
    await cluster.startAgent(agentEnv);
    for (const run of runs) {
      expect(existsSync(run.dir)).toBe(false);
      expect(processGone(run.pid)).toBe(true);
    }
    expect(existsSync(othersDir)).toBe(true);
    for (const j of jobs) await ls.dispatcher.cancelJob({ id: j.id });
    for (const j of jobs) expect((await ls.waitForJob(j.id)).state).toBe(JobState.CANCELLED);
  });
});
