import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AgentState, Code, exitCodeOf, FailureClass, JobState, type LongshoreError } from '@longshore/client';
import { repoRoot, waitFor } from '@longshore/testing';
import { describe, expect, it } from 'vitest';
import { logLines, tsMs, useCluster } from './support.js';

describe('retries per failure class, jobs retry, and drain', () => {
  const t = useCluster({ agents: 1 });

  it('does not retry a non-zero exit unless asked', async () => {
    const done = await t.ls.waitForJob((await t.ls.submit({ command: ['sh', '-c', 'exit 3'] })).id);
    expect(done.attempts).toHaveLength(1);
    expect(exitCodeOf(done)).toBe(3);
  });

  it('retries exits within their budget, with backoff, keeping every attempt', async () => {
    const job = await t.ls.submit({ command: ['sh', '-c', 'echo "attempt $LONGSHORE_ATTEMPT"; exit 3'], retry: { exit: 2, backoffMs: 300n } });
    const done = await t.ls.waitForJob(job.id);
    expect(done.state).toBe(JobState.FAILED);
    expect(done.attempts.map((a) => [a.number, a.exitCode, a.failureClass])).toEqual([
      [1, 3, FailureClass.EXIT],
      [2, 3, FailureClass.EXIT],
      [3, 3, FailureClass.EXIT],
    ]);
    // Backoff: at least half the base (jitter), doubling.
    const gap = (i: number) => tsMs(done.attempts[i]!.startedAt) - tsMs(done.attempts[i - 1]!.finishedAt);
    expect(gap(1)).toBeGreaterThanOrEqual(150);
    expect(gap(2)).toBeGreaterThanOrEqual(300);
    expect(await logLines(t.ls, job.id)).toEqual(['attempt 1', 'attempt 2', 'attempt 3']);
  });

  it('stops retrying at success, and at max_attempts whatever the budget', async () => {
    const flaky = await t.ls.waitForJob((await t.ls.submit({ command: ['sh', '-c', '[ "$LONGSHORE_ATTEMPT" = 2 ]'], retry: { exit: 5, backoffMs: 100n } })).id);
    expect(flaky.state).toBe(JobState.SUCCEEDED);
    expect(flaky.attempts.map((a) => a.exitCode)).toEqual([1, 0]);
    const capped = await t.ls.waitForJob((await t.ls.submit({ command: ['false'], maxAttempts: 2, retry: { exit: 5, backoffMs: 100n } })).id);
    expect(capped.attempts).toHaveLength(2);
  });

  it('retries a job that could not start twice by default', async () => {
    const done = await t.ls.waitForJob((await t.ls.submit({ command: ['no-such-program-xyz'], retry: { backoffMs: 100n } })).id);
    expect(done.attempts.map((a) => a.failureClass)).toEqual([FailureClass.START_FAILED, FailureClass.START_FAILED, FailureClass.START_FAILED]);
    expect(exitCodeOf(done)).toBe(125);
  });

  it('runs a finished job again on request, its log going on', async () => {
    const job = await t.ls.submit({ command: ['sh', '-c', 'echo "run $LONGSHORE_ATTEMPT"; [ "$LONGSHORE_ATTEMPT" = 2 ]'] });
    expect((await t.ls.waitForJob(job.id)).state).toBe(JobState.FAILED);
    const cli = spawnSync(process.execPath, [join(repoRoot, 'services/cli/bin/longshore.js'), 'jobs', 'retry', job.id], { env: { ...process.env, ...t.cluster.clientEnv }, encoding: 'utf8' });
    expect(cli.status).toBe(0);
    const done = await t.ls.waitForJob(job.id);
    expect(done.state).toBe(JobState.SUCCEEDED);
    expect(done.attempts).toHaveLength(2);
    expect(await logLines(t.ls, job.id)).toEqual(['run 1', '[longshore] run again by request', 'run 2']);
    const running = await t.ls.submit({ command: ['sleep', '5'] });
    await waitFor(async () => (await t.ls.getJob(running.id)).state === JobState.RUNNING, { what: 'the job to run' });
    const err = (await t.ls.dispatcher.retryJob({ id: running.id }).catch((e: unknown) => e)) as LongshoreError;
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.message).toContain('is running');
    await t.ls.dispatcher.cancelJob({ id: running.id });
  });

  it('drains an agent: finishes what fits the grace, hands back the rest without costing an attempt, then leaves', async () => {
    await t.ls.registry.createPool({ id: 'drainers' });
    const leaving = await t.cluster.startAgent({ LONGSHORE_POOL: 'drainers', LONGSHORE_AGENT_ID: 'leaving', LONGSHORE_SHUTDOWN_GRACE: '2s' });
    const short = await t.ls.submit({ pool: 'drainers', command: ['sleep', '1'] });
    const long = await t.ls.submit({ pool: 'drainers', command: ['sleep', '30'], maxAttempts: 1 });
    await waitFor(async () => (await t.ls.getJob(long.id)).state === JobState.RUNNING && (await t.ls.getJob(short.id)).state === JobState.RUNNING, { what: 'both jobs to run' });
    const cli = spawnSync(process.execPath, [join(repoRoot, 'services/cli/bin/longshore.js'), 'agents', 'drain', 'leaving'], { env: { ...process.env, ...t.cluster.clientEnv }, encoding: 'utf8' });
    expect(cli.status).toBe(0);
    await waitFor(async () => (await t.ls.registry.listAgents({ pool: 'drainers' })).agents[0]?.state === AgentState.DRAINING, { what: 'the agent to report draining' });
    expect(await leaving.waitForExit(20_000)).toEqual({ code: 0, signal: null });
    expect((await t.ls.getJob(short.id)).state).toBe(JobState.SUCCEEDED);
    const handed = await t.ls.getJob(long.id);
    expect(handed.state).toBe(JobState.QUEUED);
    expect(handed.attempts[0]).toMatchObject({ agentId: 'leaving', handedBack: true });
    expect((await t.ls.registry.listAgents({ pool: 'drainers' })).agents).toEqual([]);
    // max_attempts 1, yet it runs again: the handed-back attempt did not count.
    await t.cluster.startAgent({ LONGSHORE_POOL: 'drainers', LONGSHORE_AGENT_ID: 'arriving' });
    await waitFor(async () => (await t.ls.getJob(long.id)).attempts[1]?.agentId === 'arriving', { what: 'the job to run on the new agent' });
    await t.ls.dispatcher.cancelJob({ id: long.id });
  });
});
