import { silentLogger } from '@longshore/telemetry';
import { FakeExecutor } from '@longshore/testing';
import type { HeldJob } from '@longshore/queue';
import { DEFAULT_RETRY_BUDGETS } from '@longshore/domain';
import { describe, expect, it } from 'vitest';
import { JobRun } from './job-run.js';
import { FakeJobSource, type FakeJobInit } from './testing/index.js';

/** Claims one job from a fake source and wraps it in a run over a fake executor. */
async function held(init: FakeJobInit = {}) {
  const source = new FakeJobSource();
  source.add(init);
  const claimed = (await source.claim({ freeMilli: 1000, capacityMilli: 1000, laneRoom: {}, max: 1 })).jobs[0]!;
  if (claimed.kind !== 'job') throw new Error('unreadable');
  const executor = new FakeExecutor();
  const ctx = { agentId: 'a1', source, executors: { subprocess: executor }, defaultExecutor: 'subprocess' as const, defaultTimeoutMs: 0, logMaxBytes: 1 << 20, jobDir: '/nonexistent', logger: silentLogger() };
  const run = new JobRun(ctx, claimed.job as HeldJob);
  const ended = run.run();
  const fake = await executor.started();
  return { source, run, fake, ended, executor };
}

const retry = { budgets: { ...DEFAULT_RETRY_BUDGETS, exit: 2 }, backoffMs: 1000, maxBackoffMs: 60_000 };

describe('a job run ends as', () => {
  it('finish/succeeded when the job exits 0', async () => {
    const { fake, ended } = await held();
    fake.succeed();
    const end = await ended;
    expect(end).toMatchObject({ kind: 'finish', outcome: { state: 'succeeded', exitCode: 0 }, retry: { budget: 0 } });
  });

  it('finish/failed with its exit code and the retry its class allows', async () => {
    const { fake, ended } = await held({ retry, maxAttempts: 3 });
    fake.fail(3);
    const end = await ended;
    expect(end).toMatchObject({ kind: 'finish', outcome: { state: 'failed', exitCode: 3, failureClass: 'exit', attempt: { exitCode: 3, agentId: 'a1' } }, retry: { budget: 2, maxAttempts: 3 } });
    // First retry: equal jitter of the first backoff, between half and all of it.
    if (end.kind !== 'finish') throw new Error(end.kind);
    expect(end.retry.delayMs).toBeGreaterThanOrEqual(500);
    expect(end.retry.delayMs).toBeLessThanOrEqual(1000);
  });

  it.each([
    ['timeout', (f: Awaited<ReturnType<typeof held>>['fake']) => f.timeout(), DEFAULT_RETRY_BUDGETS.timeout],
    ['oom', (f: Awaited<ReturnType<typeof held>>['fake']) => f.oom(), DEFAULT_RETRY_BUDGETS.oom],
    ['start_failed', (f: Awaited<ReturnType<typeof held>>['fake']) => f.startFailed('image missing'), DEFAULT_RETRY_BUDGETS.start_failed],
    ['lost', (f: Awaited<ReturnType<typeof held>>['fake']) => f.throw(new Error('cgroup vanished')), DEFAULT_RETRY_BUDGETS.lost],
  ] as const)('finish/failed as %s, with that class budget', async (cls, end, budget) => {
    const { fake, ended } = await held({ retry: { budgets: DEFAULT_RETRY_BUDGETS, backoffMs: 10, maxBackoffMs: 10 } });
    end(fake);
    expect(await ended).toMatchObject({ kind: 'finish', outcome: { state: 'failed', failureClass: cls }, retry: { budget } });
  });

  it('finish/cancelled, never retried, when cancelled', async () => {
    const { fake, run, ended } = await held({ retry: { budgets: { ...DEFAULT_RETRY_BUDGETS, exit: 5 }, backoffMs: 10, maxBackoffMs: 10 } });
    run.cancel('cancelled by request');
    expect(fake.stopRequested).toBe(true);
    expect(await ended).toMatchObject({ kind: 'finish', outcome: { state: 'cancelled', failureClass: 'cancelled' }, retry: { budget: 0 } });
  });

  it('hand-back, the attempt marked as not counting, when released', async () => {
    const { run, ended } = await held();
    run.release('the agent is shutting down');
    expect(await ended).toMatchObject({ kind: 'hand-back', attempt: { handedBack: true, message: 'handed back: the agent is shutting down' } });
  });

  it('fenced when abandoned, even if released afterwards', async () => {
    const { run, ended } = await held();
    run.abandon('its claim expired');
    run.release('the agent is shutting down');
    expect(await ended).toEqual({ kind: 'fenced', reason: 'its claim expired' });
  });

  it('fenced when its log write is refused (the job is no longer its agent’s)', async () => {
    const { source, fake, run, ended } = await held();
    source.steal(run.id);
    fake.line('stdout', 'hello');
    // The line is flushed after 50 ms; the refused write stops the run.
    expect(await ended).toMatchObject({ kind: 'fenced' });
    expect(fake.stopRequested).toBe(true);
  });

  it('finish/failed start_failed, without running anything, when its executor is not here', async () => {
    const source = new FakeJobSource();
    source.add({ executor: 'docker' });
    const claimed = (await source.claim({ freeMilli: 1000, capacityMilli: 1000, laneRoom: {}, max: 1 })).jobs[0]!;
    const executor = new FakeExecutor();
    const ctx = { agentId: 'a1', source, executors: { subprocess: executor }, defaultExecutor: 'subprocess' as const, defaultTimeoutMs: 0, logMaxBytes: 1 << 20, jobDir: '/nonexistent', logger: silentLogger() };
    const end = await new JobRun(ctx, (claimed as { job: HeldJob }).job).run();
    expect(end).toMatchObject({ kind: 'finish', outcome: { state: 'failed', failureClass: 'start_failed', message: expect.stringContaining('"docker" is not available') } });
    expect(executor.runs).toEqual([]);
  });
});
