/**
 * Fault: an agent is drained while it runs jobs, by SIGTERM and by the registry's DrainAgent
 * RPC (`longshore agents drain`), with LONGSHORE_SHUTDOWN_GRACE=3s. It stops claiming (a job
 * submitted meanwhile runs elsewhere); jobs shorter than the grace finish on it; a longer one is
 * killed, handed back (an attempt marked handed back) and runs on another agent; then the agent
 * exits 0 and is no longer listed.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentState, JobState, type Job, type LongshoreClient } from '@longshore/client';
import { startCluster, waitFor, type Cluster, type ProcessHandle } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, tsMs } from '../support.js';
import { describeAttempts, stateName, waitForRecord } from './fault-support.js';

const GRACE_MS = 3_000;

describe('fault: an agent is drained while it runs jobs', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'longshore-drain-'));
    // Jobs run as uids of their own (LONGSHORE_JOB_UIDS) and share their marker files here.
    await chmod(dir, 0o777);
    cluster = await startCluster({ agents: 0, env: { LONGSHORE_SHUTDOWN_GRACE: `${GRACE_MS}ms` } });
    ls = connect(cluster);
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * In its own pool: agent `<pool>-a` takes two short jobs (1 s, 2 s) and a long one (its first
   * run sleeps 20 s, a marker file makes any later run quick); `<pool>-b` starts once they run;
   * then `drain` is applied to `-a`.
   */
  async function drainScenario(pool: string, how: string, drain: (agent: ProcessHandle, id: string) => Promise<void>): Promise<void> {
    const [a, b] = [`${pool}-a`, `${pool}-b`];
    const tag = `drain (${how})`;
    await ls.registry.createPool({ id: pool });
    const agentA = await cluster.startAgent({ LONGSHORE_POOL: pool, LONGSHORE_AGENT_ID: a });
    const marker = join(dir, `${pool}-long-ran`);
    // The short jobs start their 1 s and 2 s once the drain begins (a file appears), so both
    // really run during the drain whatever the start of the second agent took; bounded to 30 s.
    const go = join(dir, `${pool}-go`);
    const short = (s: number) => `i=0; while [ ! -e '${go}' ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; sleep ${s}; echo short ${s} done`;
    const short1 = await ls.submit({ pool, command: ['sh', '-c', short(1)] });
    const short2 = await ls.submit({ pool, command: ['sh', '-c', short(2)] });
    const long = await ls.submit({ pool, command: ['sh', '-c', `if [ -e '${marker}' ]; then echo again; else touch '${marker}'; sleep 20; fi`] });
    for (const j of [short1, short2, long]) {
      await waitForRecord(ls, j.id, (r) => r.state === JobState.RUNNING && r.attempts[0]?.agentId === a, `job ${j.id} to run on ${a}`, 15_000);
    }
    await cluster.startAgent({ LONGSHORE_POOL: pool, LONGSHORE_AGENT_ID: b });

    await writeFile(go, '');
    await drain(agentA, a);
    const drainedAt = Date.now();
    console.log(`${tag}: injected ${how} of ${a} (grace ${GRACE_MS} ms) while it ran 2 short jobs and 1 long one`);
    // The agent reports `draining` in its heartbeats (DrainAgent itself reaches it with the next
    // heartbeat's answer); from then on it must claim nothing: a job submitted now runs elsewhere.
    const sawDraining = await waitFor(
      async () => (await ls.registry.listAgents({ pool })).agents.find((x) => x.id === a)?.state === AgentState.DRAINING,
      { timeoutMs: GRACE_MS, intervalMs: 50, what: `${a} to be listed as draining` },
    ).then(() => true, () => false);
    const listedDrainingAfterMs = Date.now() - drainedAt;
    const late = await ls.submit({ pool, command: ['sh', '-c', 'echo late'] });

    const exit = await agentA.waitForExit(GRACE_MS + 15_000).catch((e: unknown) => e as Error);
    const exitedAfterMs = Date.now() - drainedAt;
    const finals: Job[] = [];
    for (const j of [short1, short2, long, late]) finals.push(await waitForRecord(ls, j.id, (r) => r.finishedAt !== undefined, `job ${j.id} to finish`, 30_000));
    const [s1, s2, l, lt] = finals as [Job, Job, Job, Job];
    const listed = await waitFor(
      async () => {
        const ids = (await ls.registry.listAgents({ pool })).agents.map((x) => x.id);
        return ids.includes(a) ? undefined : ids;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: `${a} to be gone from the listing` },
    ).catch(() => (ls.registry.listAgents({ pool }).then((r) => r.agents.map((x) => `${x.id} ${AgentState[x.state]}`))));
    console.log(
      `${tag}: counted (times from the drain): ${a} ${exit instanceof Error ? `did not exit: ${exit.message.split('\n')[0]}` : `exited with ${exit.code ?? exit.signal}`} ${exitedAfterMs} ms after; ` +
        `listed as draining ${sawDraining ? `${listedDrainingAfterMs} ms after` : 'never'}; agents listed afterwards ${JSON.stringify(listed)}; ` +
        `short 1 ${stateName(s1)} [${describeAttempts(s1, drainedAt)}]; short 2 ${stateName(s2)} [${describeAttempts(s2, drainedAt)}]; ` +
        `long ${stateName(l)} [${describeAttempts(l, drainedAt)}] handed back ${JSON.stringify(l.attempts.map((x) => x.handedBack))}; late ${stateName(lt)} [${describeAttempts(lt, drainedAt)}]`,
    );

    expect(exit).toMatchObject({ code: 0 });
    for (const s of [s1, s2]) {
      expect(s.state).toBe(JobState.SUCCEEDED);
      expect(s.attempts.map((x) => x.agentId)).toEqual([a]);
      expect(tsMs(s.finishedAt), 'a short job finished during the drain').toBeGreaterThan(drainedAt);
    }
    expect(l.state).toBe(JobState.SUCCEEDED);
    expect(l.attempts[0]).toMatchObject({ agentId: a, handedBack: true });
    expect(l.attempts.at(-1)).toMatchObject({ agentId: b, exitCode: 0 });
    expect(lt.state).toBe(JobState.SUCCEEDED);
    expect(lt.attempts.map((x) => x.agentId)).toEqual([b]);
    expect(sawDraining).toBe(true);
    expect(listed).not.toContain(a);
  }

  it('on SIGTERM: finishes short jobs, hands the long one back, exits 0 and leaves the listing', () =>
    drainScenario('drain-term', 'SIGTERM', async (agent) => agent.signal('SIGTERM')));

  it('on DrainAgent (agents drain): the same', () =>
    drainScenario('drain-rpc', 'DrainAgent', async (_agent, id) => {
      await ls.registry.drainAgent({ id });
    }));
});
