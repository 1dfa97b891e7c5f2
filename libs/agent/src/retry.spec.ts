import { DEFAULT_RETRY_BUDGETS } from '@longshore/domain';
import { describe, expect, it, vi } from 'vitest';
import { settle, startTestAgent, useTestAgents, type TestAgent } from './spec-helpers.js';

/** Retries as the agent sees them: what it passes to finish for a failed attempt, and when it runs the next. */
describe('retries', () => {
  let t: TestAgent | undefined;
  useTestAgents();

  const policy = (exit: number) => ({ budgets: { ...DEFAULT_RETRY_BUDGETS, exit }, backoffMs: 1000, maxBackoffMs: 60_000 });

  it('passes the class budget and a growing backoff; runs the retry when due, not at the next poll', async () => {
    t = await startTestAgent({ settings: { claimPollMs: 600_000 } });
    const id = t.source.add({ weightMilli: 500, retry: policy(2) });
    t.events.announce();
    (await t.executor.started(id)).fail(1);
    await settle();
    const [first] = t.source.finished;
    expect(first).toMatchObject({ id, attempt: 1, result: 'retry', outcome: { failureClass: 'exit', exitCode: 1 }, retry: { budget: 2, maxAttempts: 0 } });
    expect(first!.retry.delayMs).toBeGreaterThanOrEqual(500);
    expect(first!.retry.delayMs).toBeLessThanOrEqual(1000);
    expect(t.source.state(id)).toBe('retrying');

    await vi.advanceTimersByTimeAsync(first!.retry.delayMs + 10);
    const second = await t.executor.started(id);
    expect(second.attempt).toBe(2);
    second.fail(1);
    await settle();
    expect(t.source.finished[1]).toMatchObject({ attempt: 2, result: 'retry' });
    expect(t.source.finished[1]!.retry.delayMs).toBeGreaterThanOrEqual(1000);
    expect(t.source.finished[1]!.retry.delayMs).toBeLessThanOrEqual(2000);

    await vi.advanceTimersByTimeAsync(t.source.finished[1]!.retry.delayMs + 10);
    (await t.executor.started(id)).fail(1);
    await settle();
    expect(t.source.finished.map((f) => f.result)).toEqual(['retry', 'retry', 'ended']);
    expect(t.source.state(id)).toBe('failed');
  });

  it('stops at maxAttempts however much budget is left', async () => {
    t = await startTestAgent();
    const id = t.source.add({ weightMilli: 500, retry: policy(5), maxAttempts: 2 });
    t.events.announce();
    for (let i = 0; i < 2; i++) {
      (await t.executor.started(id)).fail(3);
      await settle();
      await vi.advanceTimersByTimeAsync(2000);
    }
    expect(t.source.finished).toMatchObject([
      { attempt: 1, result: 'retry', retry: { budget: 5, maxAttempts: 2 } },
      { attempt: 2, result: 'ended', retry: { budget: 5, maxAttempts: 2 } },
    ]);
  });

  it('gives each failure class its own budget: exit not retried unless asked, lost and start_failed by default', async () => {
    t = await startTestAgent();
    const exit = t.source.add({ weightMilli: 300, retry: policy(0) });
    const lost = t.source.add({ weightMilli: 300, retry: policy(0) });
    const start = t.source.add({ weightMilli: 300, retry: policy(0) });
    t.events.announce();
    (await t.executor.started(exit)).fail(1);
    (await t.executor.started(lost)).throw(new Error('could not keep enforcing the memory limit'));
    (await t.executor.started(start)).startFailed('image missing');
    await settle();
    const byId = Object.fromEntries(t.source.finished.map((f) => [f.id, f]));
    expect(byId[exit]).toMatchObject({ result: 'ended', outcome: { failureClass: 'exit' }, retry: { budget: 0 } });
    expect(byId[lost]).toMatchObject({ result: 'retry', outcome: { failureClass: 'lost' }, retry: { budget: DEFAULT_RETRY_BUDGETS.lost } });
    expect(byId[start]).toMatchObject({ result: 'retry', outcome: { failureClass: 'start_failed' }, retry: { budget: DEFAULT_RETRY_BUDGETS.start_failed } });
  });

  it('never retries a cancelled run', async () => {
    t = await startTestAgent();
    const id = t.source.add({ weightMilli: 500, retry: policy(5) });
    t.events.announce();
    const run = await t.executor.started(id);
    t.source.requestCancel(id);
    t.events.cancel(id);
    await settle();
    expect(run.stopRequested).toBe(true);
    expect(t.source.finished).toMatchObject([{ result: 'ended', outcome: { state: 'cancelled' }, retry: { budget: 0 } }]);
  });

  it('a job handed back at shutdown runs again as a new attempt on the next agent', async () => {
    t = await startTestAgent({ settings: { shutdownGraceMs: 0 } });
    const id = t.source.add({ weightMilli: 500, retry: policy(1), maxAttempts: 1 });
    t.events.announce();
    await t.executor.started(id);
    const closing = t.agent.close();
    await vi.runAllTimersAsync();
    await closing;
    expect(t.source.handBacks).toMatchObject([{ id, accepted: true }]);
    const again = await startTestAgent({ source: t.source });
    t = again;
    again.events.announce();
    const run = await again.executor.started(id);
    expect(run.attempt).toBe(2); // BullMQ counts the handed-back start; the finish script does not
    run.succeed();
    await settle();
    expect(again.source.finished).toMatchObject([{ id, attempt: 2, result: 'ended', outcome: { state: 'succeeded' } }]);
  });
});
