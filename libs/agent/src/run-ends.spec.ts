import { describe, expect, it, vi } from 'vitest';
import { settle, startTestAgent, useTestAgents, type TestAgent } from './spec-helpers.js';

/** How each way a run ends reaches the job source: the outcome recorded, or why nothing was. */
describe('the agent records how each run ended', () => {
  let t: TestAgent | undefined;
  useTestAgents();

  /** An agent running one job of weight 1.0, with a second one queued behind it. */
  async function oneRunning() {
    t = await startTestAgent();
    const id = t.source.add({ weightMilli: 1000 });
    const next = t.source.add({ weightMilli: 1000 });
    t.events.announce();
    const run = await t.executor.started(id);
    return { t, id, next, run };
  }

  it('succeeded', async () => {
    const { t, id, run } = await oneRunning();
    run.line('stdout', 'done').succeed();
    await settle();
    expect(t.source.finished).toMatchObject([{ id, result: 'ended', outcome: { state: 'succeeded', exitCode: 0 } }]);
    expect(t.source.logs(id)).toEqual([{ stream: 'stdout', text: 'done' }]);
  });

  it('failed with its exit code', async () => {
    const { t, id, run } = await oneRunning();
    run.fail(42);
    await settle();
    expect(t.source.finished).toMatchObject([{ id, result: 'ended', outcome: { state: 'failed', failureClass: 'exit', exitCode: 42 } }]);
    expect(t.source.state(id)).toBe('failed');
  });

  it('cancelled when a cancel is announced', async () => {
    const { t, id, run } = await oneRunning();
    t.source.requestCancel(id);
    t.events.cancel(id);
    await settle();
    expect(run.stopRequested).toBe(true);
    expect(t.source.finished).toMatchObject([{ id, outcome: { state: 'cancelled', failureClass: 'cancelled' } }]);
  });

  it('cancelled when the announcement was lost, at the next cancel check', async () => {
    const { t, id, run } = await oneRunning();
    t.source.requestCancel(id);
    await settle();
    expect(run.stopRequested).toBe(false);
    await vi.advanceTimersByTimeAsync(2000);
    expect(t.source.finished).toMatchObject([{ id, outcome: { state: 'cancelled' } }]);
  });

  it('timed out at the job’s own timeout, else the agent’s default: the run stops it with the kill grace', async () => {
    t = await startTestAgent({ settings: { defaultTimeoutMs: 60_000, killGraceMs: 3000 } });
    const own = t.source.add({ weightMilli: 100, timeoutMs: 30_000 });
    const dflt = t.source.add({ weightMilli: 100 });
    t.events.announce();
    const [ownRun, dfltRun] = [await t.executor.started(own), await t.executor.started(dflt)];
    await vi.advanceTimersByTimeAsync(30_000);
    expect(ownRun.stops).toEqual([3000]);
    expect(dfltRun.stopRequested).toBe(false);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(dfltRun.stops).toEqual([3000]);
    await settle();
    expect(t.source.finished).toMatchObject([
      { id: own, outcome: { state: 'failed', failureClass: 'timeout', message: 'timed out after 30s' } },
      { id: dflt, outcome: { state: 'failed', failureClass: 'timeout', message: 'timed out after 1m' } },
    ]);
  });

  it('lost claim: the finish is fenced, its result discarded, and its room freed', async () => {
    const { t, id, next, run } = await oneRunning();
    t.source.steal(id); // its claim lapsed and another agent took the job
    run.succeed();
    await settle();
    expect(t.source.finished).toMatchObject([{ id, result: 'fenced' }]);
    expect(t.source.state(id)).toBe('elsewhere');
    expect(t.executor.runOf(next)?.running).toBe(true);
  });

  it('claim taken back: a claim that lapsed while the job is still this agent’s is adopted again, the run goes on and its end is recorded', async () => {
    const { t, id, next, run } = await oneRunning();
    t.source.loseLock(id); // the agent was paused past its lease; nobody else took the job
    await settle();
    expect(run.stopRequested).toBe(false);
    expect(t.source.abandoned).toEqual([]);
    run.line('stdout', 'after the pause').succeed();
    await settle();
    expect(t.source.finished).toMatchObject([{ id, attempt: 1, result: 'ended', outcome: { state: 'succeeded' } }]);
    expect(t.source.attempts(id)).toBe(1);
    expect(t.source.logs(id)).toEqual([{ stream: 'stdout', text: 'after the pause' }]);
    expect(t.executor.runOf(next)?.running).toBe(true);
  });

  it('claim taken back when a log write is fenced by the lapse (the renewal has not noticed yet)', async () => {
    const { t, id, run } = await oneRunning();
    await t.source.adopt(id); // the claim changed under the run: its token is stale
    run.line('stdout', 'fenced once');
    await settle();
    expect(run.stopRequested).toBe(false);
    run.succeed();
    await settle();
    expect(t.source.logs(id)).toEqual([{ stream: 'stdout', text: 'fenced once' }]);
    expect(t.source.finished).toMatchObject([{ id, result: 'ended', outcome: { state: 'succeeded' } }]);
  });

  it('claim taken back when it lapsed between the run’s end and its record: the end is recorded under the new claim', async () => {
    const { t, id, run } = await oneRunning();
    await t.source.adopt(id); // the claim changed under the run (paused past its lease; nobody else took the job)
    run.succeed();
    await settle();
    expect(t.source.finished).toMatchObject([
      { id, attempt: 1, result: 'fenced' },
      { id, attempt: 1, result: 'ended', outcome: { state: 'succeeded' } },
    ]);
    expect(t.source.state(id)).toBe('succeeded');
    expect(t.source.attempts(id)).toBe(1);
  });

  it('self-fenced when taking the claim back hangs (cut off from Redis): the run is stopped after a sixth of the lease, a late answer’s claim not renewed', async () => {
    const { t, id, run } = await oneRunning(); // lease 4 s
    const answer = t.source.holdNext('adopt');
    t.source.loseLock(id);
    await vi.advanceTimersByTimeAsync(600);
    expect(run.stopRequested).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(run.stopRequested).toBe(true);
    answer();
    await settle();
    expect(t.source.abandoned).toContain(id);
    expect(t.source.finished).toEqual([]);
  });

  it('self-fenced: a claim it cannot renew nor take back stops the run, records nothing, frees its room', async () => {
    const { t, id, next, run } = await oneRunning();
    t.source.steal(id); // the queue put the job back and another agent took it
    t.source.loseLock(id);
    await settle();
    expect(run.stopRequested).toBe(true);
    expect(t.source.finished).toEqual([]);
    expect(t.source.handBacks).toEqual([]);
    expect(t.source.abandoned).toEqual([id]);
    expect(t.executor.runOf(next)?.running).toBe(true);
  });

  it('self-fenced even when the job ignores the stop: its room stays taken until it exits', async () => {
    const { t, id, next, run } = await oneRunning();
    run.ignoreStop();
    t.source.failNext('adopt'); // Redis unreachable: it cannot take the claim back
    t.source.loseLock(id);
    await settle();
    expect(t.executor.runOf(next)).toBeUndefined();
    run.fail(137);
    await settle();
    expect(t.source.finished).toEqual([]);
    expect(t.executor.runOf(next)?.running).toBe(true);
  });

  it('failed as start_failed, never retried, when its stored spec cannot be read', async () => {
    t = await startTestAgent();
    const id = t.source.addUnreadable('spec schema 9 is newer than this agent (1)', { retry: { budgets: { exit: 0, timeout: 0, oom: 0, start_failed: 5, lost: 5 }, backoffMs: 1, maxBackoffMs: 1 } });
    t.events.announce();
    await settle();
    expect(t.executor.runs).toEqual([]);
    expect(t.source.finished).toMatchObject([{ id, result: 'ended', outcome: { state: 'failed', failureClass: 'start_failed', message: expect.stringContaining('spec schema 9') }, retry: { budget: 0 } }]);
  });

  it('handed back when the agent shuts down past its grace: no attempt counted', async () => {
    t = await startTestAgent({ settings: { shutdownGraceMs: 3000 } });
    const id = t.source.add({ weightMilli: 500 });
    t.events.announce();
    const run = await t.executor.started(id);
    const closing = t.agent.close();
    await vi.advanceTimersByTimeAsync(2999);
    expect(run.stopRequested).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    await closing;
    expect(t.source.handBacks).toMatchObject([{ id, accepted: true, attempt: { handedBack: true } }]);
    expect(t.source.finished).toEqual([]);
    expect(t.source.state(id)).toBe('queued');
    t = undefined;
  });
});
